"""A Jupyter kernel that shuts down at once after using multiprocessing.

The first ``Process``, ``Pool``, ``Queue`` or ``SharedMemory`` (on POSIX) starts
multiprocessing's *resource tracker*, a child process that unlinks leaked semaphores and
shared memory when its parent exits. It ignores SIGTERM, so that a Ctrl-C to the process
group cannot stop it before it has cleaned up. The forkserver start method adds a second
helper, the forkserver process, which nobody reaps when it is terminated. ipykernel, when
asked to shut down or restart, first terminates its children with SIGTERM and waits for
them to be gone, with growing pauses; the tracker never leaves and the forkserver stays a
zombie, so every shutdown or restart waits until the front end loses patience and kills
the kernel (measured here: 10 s per kernel in the test suite).

``install()`` (run by ``import helpers`` in a kernel) makes the kernel's ``do_shutdown``,
ipykernel's hook for "the front end asked us to shut down", first let both helpers go the way
the kernel's own exit would (``stop_multiprocessing_helpers``): the forkserver stops, the
tracker unlinks whatever is still registered (warning on stderr) and exits, and both are
reaped. The kernel then has no such child left and ends at once.
Nothing changes outside a kernel, or where the platform has no resource tracker.
"""

from __future__ import annotations

import functools
import multiprocessing
import sys
import threading
from typing import Any

_MARK = "_mp_course_stops_multiprocessing_helpers"


def _helper(module: str, attribute: str) -> Any | None:
    """multiprocessing's per-process forkserver or resource tracker, if it runs here."""
    try:
        found = getattr(__import__(f"multiprocessing.{module}", fromlist=["_"]), attribute)
    except (ImportError, AttributeError):  # a platform without one
        return None
    running = getattr(found, "_forkserver_pid", None) or getattr(found, "_pid", None)
    return found if running is not None and hasattr(found, "_stop") else None


def _stop_helpers(helpers: list[Any]) -> None:
    for helper in helpers:
        try:
            helper._stop()
        except (OSError, TypeError, AttributeError):
            pass  # already gone, or stopped by someone else meanwhile


def stop_multiprocessing_helpers() -> None:
    """Reap this process's children that have ended, and let its forkserver and resource
    tracker end as this process's exit would, and reap them, in a background thread.

    The forkserver is asked to stop (its "alive" pipe is closed) and reaped: a forkserver
    that ipykernel terminates instead stays a zombie that nobody reaps, and ipykernel waits
    for it. Then the tracker's pipe is closed; once no other child holds it, the tracker
    unlinks whatever is still registered and exits, and is reaped. A no-op where neither
    runs."""
    # Children that ended unjoined (killed, or terminated and never joined) are zombies that
    # ipykernel would wait for too: reap them, as joining them would.
    multiprocessing.active_children()
    helpers = [h for h in (_helper("forkserver", "_forkserver"),
                           _helper("resource_tracker", "_resource_tracker")) if h]
    if helpers:
        threading.Thread(target=_stop_helpers, args=(helpers,), daemon=True,
                         name="stop-multiprocessing-helpers").start()


def running_kernel() -> Any | None:
    """The ipykernel kernel object this code runs in, or None outside a kernel.

    Only looks: a process that has not imported IPython (a spawn child, a script) is not in
    a kernel, and importing it here would give every child an IPython it should not have."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(shell, "kernel", None)


def install() -> bool:
    """Stop multiprocessing's helper processes when the kernel is asked to shut down;
    True if installed (or already)."""
    kernel = running_kernel()
    if kernel is None or not hasattr(kernel, "do_shutdown"):
        return False
    if getattr(kernel.do_shutdown, _MARK, False):
        return True
    original = kernel.do_shutdown

    @functools.wraps(original)
    def do_shutdown(restart: bool) -> Any:
        stop_multiprocessing_helpers()
        return original(restart)

    setattr(do_shutdown, _MARK, True)
    kernel.do_shutdown = do_shutdown
    return True
