"""Worker code for notebook 08_pool: ``multiprocessing.Pool`` and its thread twin.

Every function here runs in a pool worker (a task function or an ``initializer``), so it
lives in an importable module that spawn and forkserver workers can import. Workers never
print: they return what they found, and the notebook (the parent) prints it. Where a worker
must say *which* process ran it, it returns ``os.getpid()`` and the parent compares pids
instead of printing them.

``SETTING`` is a module-level value that the notebook changes in the parent: a fork worker
copies the change, a spawn or forkserver worker imports this module afresh and sees the
original, unless the pool's ``initializer`` (``configure``) sets it in every worker.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterable
from typing import Any

SETTING = "as imported"
"""A module-level value that ``read_setting`` reports (see the module docstring)."""

_worker_tag: str | None = None
_tasks_done = 0


# --- Small task functions -------------------------------------------------------------------


def double(number: int) -> int:
    """Article 002's ``doubler``: return ``number * 2``."""
    return number * 2


def power(base: int, exponent: int) -> int:
    """Return ``base ** exponent``: a two-argument worker for ``starmap``."""
    return base**exponent


def slow_square(x: int, delay: float = 0.05) -> int:
    """Sleep ``delay`` seconds (a stand-in for real work), then return ``x * x``."""
    time.sleep(delay)
    return x * x


def nap(seconds: float) -> float:
    """Sleep ``seconds`` and return them: a task whose duration is known in advance.

    Sleeping costs no CPU, so a timeline of naps shows how a pool *schedules* tasks,
    undisturbed by how busy the machine is.
    """
    time.sleep(seconds)
    return seconds


def sleep_then_return(seconds: float, value: Any = None) -> Any:
    """Sleep ``seconds``, then return ``value``: a task that outlives a ``get(timeout)``."""
    time.sleep(seconds)
    return value


def checked_root(x: float) -> float:
    """Return the square root of ``x``; raise ``ValueError`` for a negative ``x``.

    The message is this module's own, so it reads the same on every Python version.
    """
    if x < 0:
        raise ValueError(f"checked_root({x}): negative input")
    return x**0.5


def worker_pid(x: int) -> tuple[int, int]:
    """Return ``(x, pid of the worker that ran it)``: shows which process ran a task."""
    return x, os.getpid()


def exit_abruptly(code: int) -> None:
    """End this worker process at once with ``os._exit(code)``, as a crash would.

    No exception, no clean-up, no result: the pool loses the task. ``Pool`` replaces the
    worker and waits for the lost result forever; ``ProcessPoolExecutor`` would raise
    ``BrokenProcessPool`` instead.
    """
    os._exit(code)


# --- Initializers and per-worker state ----------------------------------------------------


def init_worker(tag: str) -> None:
    """Pool initializer: runs once in each worker when it starts, before any task.

    Stores ``tag`` in this worker's module globals and resets its task counter; a typical
    use is opening a database connection or loading a model once per worker instead of
    once per task.
    """
    global _worker_tag, _tasks_done
    _worker_tag = tag
    _tasks_done = 0


def tagged_square(x: int) -> tuple[str | None, int, int]:
    """Return ``(tag set by init_worker, tasks this worker has run so far, x * x)``."""
    global _tasks_done
    _tasks_done += 1
    return _worker_tag, _tasks_done, x * x


def configure(setting: str) -> None:
    """Pool initializer: set this module's ``SETTING`` in the worker to ``setting``."""
    global SETTING
    SETTING = setting


def read_setting(_: Any = None) -> str:
    """Return ``SETTING`` as this worker sees it (the argument is ignored)."""
    return SETTING


def ignore_sigint() -> None:
    """Pool initializer: make the worker ignore SIGINT (Ctrl-C, Jupyter's interrupt).

    A Ctrl-C in a terminal, and Jupyter's "Interrupt kernel", signal the whole process
    group: without this, every worker dies with its own ``KeyboardInterrupt`` traceback in
    the middle of a task and the pool starts new ones. Ignoring it in the workers leaves the
    parent alone to handle the interrupt, which then ends the pool with ``terminate()``.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def press_ctrl_c(worker_pids: Iterable[int]) -> None:
    """What Jupyter's Interrupt does, for a demonstration in the kernel: SIGINT to the given
    workers (POSIX) and to this process, which raises ``KeyboardInterrupt`` in its main
    thread. Signal only workers whose initializer has run (they have done a task), so that
    ``ignore_sigint`` is in place."""
    if os.name == "posix":
        for pid in worker_pids:
            os.kill(pid, signal.SIGINT)
    signal.raise_signal(signal.SIGINT)


def sigint_ignored(_: Any = None) -> bool:
    """Return True if this process ignores SIGINT (see ``ignore_sigint``)."""
    return signal.getsignal(signal.SIGINT) == signal.SIG_IGN


# --- The articles' examples, redone -------------------------------------------------------


def long_time_task(name: int, seconds: float) -> tuple[int, int, float]:
    """Articles 003 (``run``) and 004 (``long_time_task``) in Python 3, returning instead of printing.

    Sleeps ``seconds`` (the articles sleep a random 0-4 s) and returns ``(name, pid of
    this worker, seconds measured)``; the parent prints, in a stable order.
    """
    start = time.perf_counter()
    time.sleep(seconds)
    return name, os.getpid(), time.perf_counter() - start


def fetch_page(url: str, timeout: float = 10.0) -> bytes:
    """Download ``url`` and return its body: article 000's ``download_html``, returning it.

    Proxies are bypassed (the course's pages are on 127.0.0.1), and a ``timeout`` keeps a
    dead server from hanging the worker. Works in a process pool and in a thread pool.
    (``urllib.request`` is imported here, not at the top, so that workers that never
    download do not pay for importing it.)
    """
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=timeout) as response:
        return response.read()


# --- Tasks that start processes of their own (notebook 08, section 9.3) --------------------


def is_daemon(_: Any = None) -> bool:
    """Whether the process that runs this task is daemonic: a ``Pool``'s workers are, a
    ``ProcessPoolExecutor``'s are not (since Python 3.9)."""
    import multiprocessing

    return multiprocessing.current_process().daemon


def doubles_in_own_pool(numbers: list[int]) -> list[int]:
    """The nested design: a task that starts a pool of two of its own to double ``numbers``.

    In a ``Pool`` worker the inner pool cannot start (a daemonic process may not have
    children: ``AssertionError``); in a ``ProcessPoolExecutor`` worker it can.
    """
    import multiprocessing

    with multiprocessing.Pool(2) as inner:
        return inner.map(double, numbers)


# --- Tools for the parent -----------------------------------------------------------------


def default_chunksize(items: int, workers: int) -> int:
    """The chunk size ``Pool.map``/``map_async``/``starmap`` choose when given none.

    CPython's formula: ``ceil(items / (4 * workers))``, or 0 for no items. ``imap`` and
    ``imap_unordered`` default to 1 instead.
    """
    chunksize, extra = divmod(items, workers * 4)
    return chunksize + 1 if extra else chunksize
