"""Worker code for notebook 10_concurrent_futures: executors, futures and a downloader.

Every function here may run in a ``ProcessPoolExecutor`` worker (a task or an
``initializer``), so it lives in an importable module that spawn and forkserver workers can
import. Workers never print: they return what they found, and the notebook (the parent)
prints it. Where a worker must say *which* process ran it, it returns ``os.getpid()`` and
the parent compares pids instead of printing them.

``SETTING`` is a module-level value that the notebook changes in the parent: a fork worker
copies the change, a spawn or forkserver worker imports this module afresh and sees the
original.
"""

from __future__ import annotations

import os
import time
from typing import Any

SETTING = "as imported"
"""A module-level value that ``read_setting`` reports (see the module docstring)."""

NO_PROXY = {"no_proxy": "127.0.0.1,localhost"}
"""``proxies=`` for requests: never send the course's local pages through a proxy that the
environment (``HTTP_PROXY``) may name."""

_worker_tag: str | None = None
_tasks_done = 0


# --- Small tasks ------------------------------------------------------------------------------


def nap(seconds: float) -> float:
    """Sleep ``seconds`` and return them: a task whose duration is known in advance.

    Sleeping costs no CPU, so the order in which naps finish follows their lengths, whatever
    else the machine is doing.
    """
    time.sleep(seconds)
    return seconds


def fail_after(seconds: float, message: str) -> None:
    """Sleep ``seconds``, then raise ``ValueError(message)``: a task that fails at a known time."""
    time.sleep(seconds)
    raise ValueError(message)


def read_setting(_: Any = None) -> str:
    """Return this module's ``SETTING`` as the process running the task sees it."""
    return SETTING


def worker_pid(x: Any) -> tuple[Any, int]:
    """Return ``(x, pid of the process that ran the task)``."""
    return x, os.getpid()


# --- A traceback that crosses the process boundary ------------------------------------------


def parse_price(text: str) -> float:
    """Parse a price such as ``"12.50 EUR"`` and return the amount.

    Calls ``_amount``, which raises ``ValueError`` for text without a number, so that the
    traceback of a failing task shows two frames of this module.
    """
    return _amount(text.split()[0] if text.split() else text)


def _amount(word: str) -> float:
    """The number in ``word``; raise ``ValueError`` (with this module's own message) if none."""
    try:
        return float(word)
    except ValueError:
        raise ValueError(f"no amount in {word!r}") from None


# --- Worker life and death ----------------------------------------------------------------


def exit_abruptly(code: int) -> None:
    """End this worker process at once with ``os._exit(code)``, as a crash would.

    No exception, no clean-up, no result: a ``ProcessPoolExecutor`` notices that a worker
    died, marks itself broken and fails every pending future with ``BrokenProcessPool``.
    """
    os._exit(code)


def init_worker(tag: str) -> None:
    """Executor ``initializer``: runs once in each worker process, before its first task.

    Stores ``tag`` in this worker's module globals and resets its task counter; a typical use
    is opening a database connection or loading a model once per worker, not once per task.
    """
    global _worker_tag, _tasks_done
    _worker_tag = tag
    _tasks_done = 0


def tagged_task(x: int) -> tuple[str | None, int, int]:
    """Return ``(tag set by init_worker, pid of this worker, tasks it has run so far)``.

    ``x`` only names the task; the counter shows how many tasks one worker process ran,
    which ``max_tasks_per_child`` limits.
    """
    global _tasks_done
    _tasks_done += 1
    return _worker_tag, os.getpid(), _tasks_done


# --- Article 000's downloader, redone ---------------------------------------------------------


def fetch(url: str, timeout: float = 5.0) -> bytes:
    """Download ``url`` and return its body: article 000's ``download_html``, corrected.

    The article calls ``requests.get(url)`` with no timeout (a server that never answers
    blocks the worker forever), ignores the HTTP status and prints the page in the worker.
    This version gives ``requests.get`` a ``timeout``, raises ``requests.HTTPError`` for an
    error status (so the parent learns of it) and returns the bytes for the parent to use.
    Works in a thread pool and in a process pool.
    """
    import requests  # here, not at the top: workers that never download skip the import

    response = requests.get(url, timeout=timeout, proxies=dict(NO_PROXY))
    response.raise_for_status()
    return response.content
