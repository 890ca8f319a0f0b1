"""Checks for the exercises: they test behaviour and say what the mistake was.

A check raises ``ExerciseError`` (an AssertionError, so nbgrader counts the cell as failed)
with a message that names the mistake and the fix: a wrong or reordered result, work done
serially where processes were asked for, a pool or process left running.

    result, started = watch(parallel_cubes, range(10))
    expect_equal(result, [x**3 for x in range(10)], "parallel_cubes(range(10))")
    expect_parallel(started)
    expect_no_leftover_processes()
"""

from __future__ import annotations

import concurrent.futures
import gc
import multiprocessing
import multiprocessing.pool
import multiprocessing.process
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from helpers import leaks


class ExerciseError(AssertionError):
    """An exercise check failed; the message says what is wrong and how to fix it."""


@contextmanager
def processes_started() -> Iterator[list[str]]:
    """Record the names of the processes that multiprocessing starts inside the block.

    Works for ``Process``, ``Pool`` and ``ProcessPoolExecutor`` under every start method,
    because all of them call ``BaseProcess.start``.
    """
    started: list[str] = []
    lock = threading.Lock()
    original = multiprocessing.process.BaseProcess.start

    def start(self: multiprocessing.process.BaseProcess) -> None:
        original(self)
        with lock:
            started.append(self.name)

    multiprocessing.process.BaseProcess.start = start
    try:
        yield started
    finally:
        multiprocessing.process.BaseProcess.start = original


def watch(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, list[str]]:
    """Call ``fn`` and return its result with the names of the processes it started."""
    with processes_started() as started:
        result = fn(*args, **kwargs)
    return result, list(started)


def expect_equal(actual: Any, expected: Any, what: str) -> None:
    """Fail unless ``actual == expected``; say when only the order is wrong."""
    if actual == expected:
        return
    if isinstance(actual, (list, tuple)) and isinstance(expected, (list, tuple)):
        if sorted(actual, key=repr) == sorted(expected, key=repr):
            raise ExerciseError(
                f"{what} has the right values in the wrong order: {list(actual)!r}. "
                "imap_unordered and as_completed give results as they finish; use map/imap, "
                "or sort the results, when the order matters."
            )
    raise ExerciseError(f"{what} returned {actual!r}, expected {expected!r}.")


def expect_parallel(started: list[str], at_least: int = 1) -> None:
    """Fail unless the work started at least ``at_least`` processes."""
    if len(started) < at_least:
        raise ExerciseError(
            f"The work ran in {len(started)} new process(es); at least {at_least} expected. "
            "A serial answer gives the right values but no parallelism: hand the work to a "
            "Pool (or Process/ProcessPoolExecutor) instead of computing it in the notebook."
        )


def stop_leftovers() -> None:
    """Stop what a learner left running: open process pools and executors, then processes.

    Pools are terminated through their own objects (killing a pool's workers one by one only
    makes the pool start new ones).
    """
    for obj in gc.get_objects():
        if isinstance(obj, multiprocessing.pool.Pool) and not isinstance(
                obj, multiprocessing.pool.ThreadPool):
            obj.terminate()
        elif isinstance(obj, concurrent.futures.ProcessPoolExecutor):
            obj.shutdown(wait=True, cancel_futures=True)
    for child in multiprocessing.active_children():
        child.terminate()
        child.join(timeout=5)
    leaks.kill(leaks.wait_until_gone(leaks.live_children(os.getpid()), 2.0))


def expect_no_leftover_processes(timeout: float = 3.0) -> None:
    """Fail if child processes of this kernel are still running (a pool left open)."""
    alive = leaks.wait_until_gone(leaks.live_children(os.getpid()), timeout)
    if alive:
        stop_leftovers()
        raise ExerciseError(
            f"{len(alive)} worker process(es) were still running after your code returned: "
            "a pool or process was left open. Use `with Pool(...) as pool:` (or call close() "
            "and join()), and join every Process you start. They have been stopped now."
        )


def expect_lost_updates(expected: int, actual: int) -> None:
    """Fail when a shared counter lost updates, saying how many."""
    if actual != expected:
        raise ExerciseError(
            f"The counter reached {actual}, not {expected}: {expected - actual} update(s) were "
            "lost. `value += 1` is a read and a write; hold the value's lock "
            "(`with counter.get_lock():`) around it."
        )


def finishes_within(seconds: float, fn: Callable[..., Any], *args: Any, hint: str = "",
                    **kwargs: Any) -> Any:
    """Call ``fn`` under a watchdog and return its result; fail if it is still running after
    ``seconds`` (a deadlock), stopping the processes it started so that nothing hangs.

    ``hint`` names the likely cause for this exercise (for example "a process joined before
    its queue was drained").
    """
    outcome: dict[str, Any] = {}

    def call() -> None:
        try:
            outcome["result"] = fn(*args, **kwargs)
        except BaseException as error:  # re-raised in the caller's thread below
            outcome["error"] = error

    worker = threading.Thread(target=call, name="exercise-watchdog", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        stop_leftovers()
        raise ExerciseError(
            f"Your code was still running after {seconds:g} s and was stopped: a deadlock, "
            "some process or thread waiting for something that never comes"
            + (f" ({hint})" if hint else "") + ".")
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("result")


def expect_raises(exception: type[BaseException], fn: Callable[..., Any], *args: Any,
                  what: str = "", **kwargs: Any) -> BaseException:
    """Fail unless ``fn(*args, **kwargs)`` raises ``exception``; return the exception.

    For a worker's error that must reach the caller instead of being lost in a child.
    """
    what = what or f"{getattr(fn, '__name__', 'your function')}(...)"
    try:
        result = fn(*args, **kwargs)
    except exception as error:
        return error
    raise ExerciseError(
        f"{what} returned {result!r} instead of raising {exception.__name__}: the worker's "
        "exception was lost. An error in a child only reaches the parent when you ask for the "
        "result (`AsyncResult.get()`, `Future.result()`) or send it back yourself.")


def expect_no_new_shared_memory(before: set[str]) -> None:
    """Fail if shared memory segments created since ``before`` (a ``leaks.shm_entries()``
    snapshot) are still in ``/dev/shm``; unlink them so that nothing is left behind."""
    left = {name for name in leaks.shm_entries() - before if not leaks.is_semaphore(name)}
    if left:
        leaks.remove_shm(left)
        raise ExerciseError(
            f"{len(left)} shared memory segment(s) were left in /dev/shm: {sorted(left)}. "
            "The process that creates a SharedMemory must call unlink() once everyone is done "
            "(and every process calls close()); they have been removed now.")


def expect_joined(started: list[str]) -> None:
    """Fail if a process named in ``started`` (the names ``watch`` returns) was never joined.

    A child that has ended without being joined is a zombie until something reaps it, and its
    exit code was never collected; ``expect_no_leftover_processes`` cannot see it, because it
    no longer runs. This reads multiprocessing's own record of started, unjoined children of
    this process, then joins them, so that a re-run starts clean. (``is_alive()`` returning
    False, ``active_children()`` and the next ``start()`` also take an ended child off that
    record, so a child found here was not waited for in any way.)
    """
    names = set(started)
    children = getattr(multiprocessing.process, "_children", set())
    unjoined = sorted((p for p in list(children) if p.name in names), key=lambda p: p.name)
    for process in unjoined:
        process.join(timeout=5)
    if unjoined:
        raise ExerciseError(
            f"{len(unjoined)} process(es) you started were never joined: "
            f"{[p.name for p in unjoined]}. A child that is not joined stays a zombie and its "
            "exit code is never collected: call join() on every Process you start, after "
            "reading what it sent. They have been joined now.")
