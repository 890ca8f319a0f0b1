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

import psutil

from helpers import leaks


class ExerciseError(AssertionError):
    """An exercise check failed; the message says what is wrong and how to fix it."""


@contextmanager
def _on_start(record: Callable[[multiprocessing.process.BaseProcess], None]) -> Iterator[None]:
    """Call ``record(process)`` after each ``BaseProcess.start`` inside the block, from any
    thread. ``Process``, ``Pool`` and ``ProcessPoolExecutor`` all start their processes there,
    under every start method."""
    lock = threading.Lock()
    original = multiprocessing.process.BaseProcess.start

    def start(self: multiprocessing.process.BaseProcess) -> None:
        original(self)
        with lock:
            record(self)

    multiprocessing.process.BaseProcess.start = start
    try:
        yield
    finally:
        multiprocessing.process.BaseProcess.start = original


@contextmanager
def processes_started() -> Iterator[list[str]]:
    """Record the names of the processes that multiprocessing starts inside the block."""
    started: list[str] = []
    with _on_start(lambda process: started.append(process.name)):
        yield started


def watch(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, list[str]]:
    """Call ``fn`` and return its result with the names of the processes it started."""
    with processes_started() as started:
        result = fn(*args, **kwargs)
    return result, list(started)


def watch_overlap(fn: Callable[..., Any], *args: Any,
                  **kwargs: Any) -> tuple[Any, list[str], bool]:
    """Like ``watch``, and also say whether any process was started while one that ``fn``
    started earlier was still running: False for a program that starts each process only
    after the previous one has ended (start and join in one loop), however fast the machine.
    """
    started: list[psutil.Process] = []
    names: list[str] = []
    overlapped = False

    def record(process: multiprocessing.process.BaseProcess) -> None:
        nonlocal overlapped
        overlapped = overlapped or any(_running(earlier) for earlier in started)
        names.append(process.name)
        try:
            started.append(psutil.Process(process.pid))
        except psutil.NoSuchProcess:
            pass

    with _on_start(record):
        result = fn(*args, **kwargs)
    return result, names, overlapped


def _running(process: psutil.Process) -> bool:
    """True while ``process`` runs (an ended, unreaped child is a zombie: not running).
    Asked through psutil so that multiprocessing's own record of children is not touched."""
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def expect_equal(actual: Any, expected: Any, what: str) -> None:
    """Fail unless ``actual == expected``; say when only the order is wrong."""
    if actual == expected:
        return
    if isinstance(actual, (list, tuple)) and isinstance(expected, (list, tuple)):
        if sorted(actual, key=repr) == sorted(expected, key=repr):
            raise ExerciseError(
                f"{what} has the right values in the wrong order: {list(actual)!r}. "
                "imap_unordered and as_completed give results as they finish; use map/imap, "
                "or put each result back at its input's position, when the order matters."
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


def watch_start_methods(fn: Callable[..., Any], *args: Any,
                        **kwargs: Any) -> tuple[Any, list[tuple[str, str]]]:
    """Call ``fn`` and return its result with ``(name, start method)`` for each process it
    started, the method being the one the process really used: its context's (a
    ``get_context(m).Process``, a pool's workers) or, for a plain ``multiprocessing.Process``,
    the default at the moment it started.

    Tells apart a program that follows the default start method from one that forces a
    method (``get_context("fork")``), and shows whether ``get_context(m)`` was used for each m.
    """
    started: list[tuple[str, str]] = []

    def record(process: multiprocessing.process.BaseProcess) -> None:
        method = getattr(process, "_start_method", None) or multiprocessing.get_start_method()
        started.append((process.name, method))

    with _on_start(record):
        result = fn(*args, **kwargs)
    return result, list(started)


def under_each_start_method(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
    """Call ``fn`` once with each start method this platform has made the default in turn
    (``set_start_method(method, force=True)``) and return ``{method: result}``; the default
    that was set before is restored, also when ``fn`` raises (its exception propagates).

    A program that works only under fork (it relies on what a fork child inherits: a global
    changed at run time, a module-level Queue, a function defined in the notebook) then fails
    under spawn and forkserver, whatever start method the grader uses.
    """
    before = multiprocessing.get_start_method(allow_none=True)
    outcomes: dict[str, Any] = {}
    try:
        for method in multiprocessing.get_all_start_methods():
            multiprocessing.set_start_method(method, force=True)
            outcomes[method] = fn(*args, **kwargs)
    finally:
        multiprocessing.set_start_method(before, force=True)
    return outcomes


@contextmanager
def shared_memory_created() -> Iterator[list[str]]:
    """Record the names of the ``SharedMemory`` blocks that this process creates inside the
    block (``ShareableList`` creates one too), from any thread.

    Unlike a snapshot of ``/dev/shm`` it sees only this program's blocks, so another program
    (another learner's kernel, another test) that creates blocks meanwhile is never blamed.

        with shared_memory_created() as created:
            result = fn(data)
        expect_unlinked(created)
    """
    from multiprocessing import shared_memory

    created: list[str] = []
    lock = threading.Lock()
    original = shared_memory.SharedMemory.__init__

    def init(self: shared_memory.SharedMemory, name: str | None = None, create: bool = False,
             size: int = 0, *args: Any, **kwargs: Any) -> None:
        original(self, name, create, size, *args, **kwargs)
        if create:
            with lock:
                created.append(self.name)

    shared_memory.SharedMemory.__init__ = init  # type: ignore[method-assign]
    try:
        yield created
    finally:
        shared_memory.SharedMemory.__init__ = original  # type: ignore[method-assign]


def expect_unlinked(names: list[str]) -> None:
    """Fail if any of the ``SharedMemory`` blocks named (as recorded by
    ``shared_memory_created``) can still be attached to: nobody unlinked it. The blocks left
    are unlinked, so that nothing stays in ``/dev/shm`` and the resource tracker has nothing
    to warn about."""
    from multiprocessing import shared_memory

    left = []
    for name in names:
        try:
            block = shared_memory.SharedMemory(name=name)
        except FileNotFoundError:
            continue
        left.append(name)
        block.close()
        block.unlink()
    if left:
        raise ExerciseError(
            f"{len(left)} shared memory block(s) that your code created were never unlinked: "
            f"{left}. The process that creates a SharedMemory must call unlink() once every "
            "process is done with it, in a `finally` so that an error cannot skip it (and "
            "every process calls close()). They have been unlinked now.")
