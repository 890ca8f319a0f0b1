"""How many CPU cores this process may really use.

``os.cpu_count()`` and ``multiprocessing.cpu_count()`` report the machine's logical cores,
not the share a container, a CPU affinity mask or a Binder session grants. The usable
count is what sizes a pool.
"""

from __future__ import annotations

import math
import os
from pathlib import Path


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


def cpu_quota(root: str = "/sys/fs/cgroup") -> float | None:
    """The CPUs a cgroup quota (Docker ``--cpus``, a Kubernetes or Binder limit) allows this
    process, or None when there is no quota (or no cgroup file to read, as off Linux).

    Neither ``os.cpu_count()`` nor the affinity mask shows such a quota. Reads cgroup v2's
    ``cpu.max`` ("max 100000" or "150000 100000") or cgroup v1's ``cpu.cfs_quota_us`` and
    ``cpu.cfs_period_us`` (quota -1 means none).
    """
    base = Path(root)
    try:
        quota, period = (base / "cpu.max").read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        quota_us = int((base / "cpu" / "cpu.cfs_quota_us").read_text())
        period_us = int((base / "cpu" / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return None if quota_us <= 0 or period_us <= 0 else quota_us / period_us


def processes_to_start(usable: int, quota: float | None) -> int:
    """How many CPU-bound processes to start: the usable cores, capped by a CPU quota
    (rounded up, at least 1)."""
    if quota is None:
        return max(1, usable)
    return max(1, min(usable, math.ceil(quota)))
