"""How many CPU cores this process may really use.

``os.cpu_count()`` and ``multiprocessing.cpu_count()`` report the machine's logical cores,
not the share a container, a CPU affinity mask or a Binder session grants. The usable
count is what sizes a pool.
"""

from __future__ import annotations

import os


def logical_cores() -> int:
    """The machine's logical cores, as ``os.cpu_count()`` reports them (1 if unknown)."""
    return os.cpu_count() or 1


def usable_cores() -> int:
    """The cores this process may run on: ``os.process_cpu_count()`` (3.13+), else the
    affinity mask (Linux), else the logical count."""
    if hasattr(os, "process_cpu_count"):
        return os.process_cpu_count() or 1
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return logical_cores()
