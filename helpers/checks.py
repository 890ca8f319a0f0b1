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
import contextlib
import functools
import gc
import importlib
import io
import json
import logging
import multiprocessing
import multiprocessing.managers
import multiprocessing.pool
import multiprocessing.process
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
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
            # Not shutdown(wait=True): a task that never ends (exercise 12) would hold it.
            workers = list((getattr(obj, "_processes", None) or {}).values())
            obj.shutdown(wait=False, cancel_futures=True)
            for worker in workers:
                worker.terminate()
            for worker in workers:
                worker.join(timeout=5)
    _stop_other_libraries()
    for child in multiprocessing.active_children():
        child.terminate()
        child.join(timeout=5)
    leaks.kill(leaks.wait_until_gone(leaks.live_children(os.getpid()), 2.0))


def _stop_other_libraries() -> None:
    """Close the Dask clients and clusters, and joblib's reusable loky executor, that a
    learner left open (exercise 13): killing their processes one by one would only make a
    cluster's nannies start new workers. Only libraries already imported are looked at."""
    distributed = sys.modules.get("distributed")
    if distributed is not None:
        for obj in gc.get_objects():
            if isinstance(obj, (distributed.Client, distributed.deploy.Cluster)):
                with contextlib.suppress(Exception):
                    obj.close()
    loky = sys.modules.get("joblib.externals.loky.reusable_executor")
    executor = getattr(loky, "_executor", None)  # None until joblib has started one
    if executor is not None:
        with contextlib.suppress(Exception):
            executor.shutdown(wait=True, kill_workers=True)


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


# --- Properties, not examples (issue 10) -------------------------------------------------------
# A check that runs an answer on one small input passes serial answers, joins by timeout, leaks
# and faked measurements alike. The checks below look at how the work was done: when and where
# each call of a worker ran, what the answer left behind, and whether a figure can be what it
# claims to measure.


@dataclass(frozen=True)
class Call:
    """One call of a recorded function: where it ran and when (``time.time()`` seconds)."""

    pid: int
    thread: int
    process: str
    start: float
    end: float


_STASH = "_mp_course_original_"


class _Recorder:
    """Stands in for a module-level function inside ``calls_recorded``: it is pickled by
    reference to this class, so it reaches children under every start method, looks up the
    real function there and appends one line per call to a file of its process and thread."""

    def __init__(self, function: Callable[..., Any], folder: str, delay: float) -> None:
        self.module = function.__module__
        self.name = function.__name__
        self.folder = folder
        self.delay = delay
        # What the course's guard and a learner's code read from a function.
        self.__name__ = function.__name__
        self.__qualname__ = function.__qualname__
        self.__module__ = function.__module__
        self.__doc__ = function.__doc__

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        module = importlib.import_module(self.module)
        # A fork child inherits the stand-in together with the original kept beside it; a
        # spawn or forkserver child imports the module afresh and finds the original.
        function = vars(module).get(_STASH + self.name) or getattr(module, self.name)
        start = time.time()
        self._write("started", [os.getpid(), start])  # a call killed midway has no end line
        try:
            if self.delay:
                time.sleep(self.delay)
            return function(*args, **kwargs)
        finally:
            self._write("calls", [os.getpid(), threading.get_ident(),
                                  multiprocessing.current_process().name, start, time.time()])

    def _write(self, kind: str, record: list[Any]) -> None:
        """Append one JSON line to this process and thread's file of ``kind``."""
        path = os.path.join(self.folder, f"{os.getpid()}-{threading.get_ident()}.{kind}")
        try:
            with open(path, "a", encoding="utf-8") as log:
                log.write(json.dumps(record) + "\n")
        except FileNotFoundError:
            pass  # the check has ended and removed its folder: a late call goes unrecorded


class CallLog:
    """The calls that ``calls_recorded`` saw: ``.calls``, read at the moment it is asked for
    (inside the block) or as they were when the block ended."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self._final: list[Call] | None = None
        self._started: int | None = None

    @property
    def calls(self) -> list[Call]:
        if self._final is not None:
            return list(self._final)
        calls = []
        for path in Path(self.folder).glob("*.calls"):
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    calls.append(Call(*json.loads(line)))
                except (ValueError, TypeError):
                    continue  # a line half-written by a process killed meanwhile
        return sorted(calls, key=lambda call: call.start)

    @property
    def started(self) -> int:
        """How many calls began (ended or not): more than ``len(calls)`` means that some
        were cut off, their process killed in the middle of the call."""
        if self._started is not None:
            return self._started
        return sum(len(path.read_text(encoding="utf-8").splitlines())
                   for path in Path(self.folder).glob("*.started"))

    def close(self) -> None:
        self._final = self.calls
        self._started = self.started
        shutil.rmtree(self.folder, ignore_errors=True)


def _namespaces() -> list[dict[str, Any]]:
    """The notebook's global namespaces: ``__main__`` and IPython's user namespace."""
    spaces = [vars(sys.modules["__main__"])]
    try:
        shell = get_ipython()  # type: ignore[name-defined]  # noqa: F821 (IPython builtin)
    except NameError:
        shell = None
    if shell is not None and all(shell.user_ns is not s for s in spaces):
        spaces.append(shell.user_ns)
    return spaces


@contextmanager
def calls_recorded(function: Callable[..., Any], *, delay: float = 0.0) -> Iterator[CallLog]:
    """Record every call of ``function`` made inside the block, in any process and under every
    start method; each call first sleeps ``delay`` seconds (a slow worker, which makes a
    serial answer or a join by timeout show).

    ``function`` is a module-level function: a learner's worker (``ex03_workers.consume``) or
    one of ``helpers``. Inside the block the module's attribute and every notebook global
    bound to it are replaced by a stand-in that pickles by reference. A function that no
    child can import (a lambda, a nested or notebook-defined function) is left alone, so that
    the course's guard explains it as usual; nothing is recorded then.

        with checks.calls_recorded(ex00_workers.cube, delay=0.2) as log:
            result = parallel_cubes(range(4))
        checks.expect_overlap(log.calls, "parallel_cubes(range(4))")
    """
    folder = tempfile.mkdtemp(prefix="mp-course-calls-")
    log = CallLog(folder)
    module = sys.modules.get(getattr(function, "__module__", ""), None)
    name = getattr(function, "__name__", "")
    importable = (module is not None and module.__name__ != "__main__"
                  and getattr(module, name, None) is function)
    patched: list[tuple[dict[str, Any], str]] = []
    if importable:
        recorder = _Recorder(function, folder, delay)
        setattr(module, _STASH + name, function)
        setattr(module, name, recorder)
        for space in _namespaces():
            for key, value in list(space.items()):
                if value is function:
                    space[key] = recorder
                    patched.append((space, key))
    try:
        yield log
    finally:
        if importable:
            setattr(module, name, function)
            delattr(module, _STASH + name)
            for space, key in patched:
                space[key] = function
        log.close()


class SlowReadDict(dict):
    """A dict whose reads linger after taking the value: held in a manager's server, it
    widens the gap between a task's read and its write back, so that two tasks that read,
    change and write back the same entry without taking turns lose one change on any
    machine, loaded or idle (not only when the scheduler happens to interleave them)."""

    linger = 0.01

    def __getitem__(self, key: Any) -> Any:
        value = super().__getitem__(key)
        time.sleep(self.linger)
        return value

    def get(self, key: Any, default: Any = None) -> Any:
        value = super().get(key, default)
        time.sleep(self.linger)
        return value


class SlowReadManager(multiprocessing.managers.SyncManager):
    """A SyncManager whose ``dict()`` is a ``SlowReadDict`` (every other type as usual)."""


SlowReadManager.register("dict", SlowReadDict, multiprocessing.managers.DictProxy)


def max_concurrent(calls: list[Call]) -> int:
    """The most calls that ran at the same moment in different processes."""
    most = 0
    for call in calls:
        pids = {other.pid for other in calls
                if other.start <= call.start < other.end or other is call}
        most = max(most, len(pids))
    return most


def expect_in_children(calls: list[Call], what: str) -> None:
    """Fail unless the recorded function was called, and only in child processes."""
    if not calls:
        raise ExerciseError(
            f"{what} never called the worker function the task names (or called another "
            "copy of it): hand that function itself to the processes, pool or executor.")
    here = [call for call in calls if call.pid == os.getpid()]
    if here:
        raise ExerciseError(
            f"{what}: {len(here)} of {len(calls)} call(s) of the worker ran in the notebook's "
            "own process, not in a child. Creating a pool does not send it the work: pass the "
            "worker function to the pool (map, starmap, submit, ...) instead of calling it "
            "yourself.")


def expect_overlap(calls: list[Call], what: str, at_least: int = 2) -> None:
    """Fail unless ``at_least`` calls ran at the same time in different processes.

    Calls that each start after the previous one has ended are serial however many processes
    were started: a new pool or executor per item, a result awaited right after each submit,
    a process joined before the next one starts.
    """
    expect_in_children(calls, what)
    most = max_concurrent(calls)
    if most < at_least:
        processes = len({call.pid for call in calls})
        raise ExerciseError(
            f"{what}: the {len(calls)} call(s) of the worker ran in {processes} process(es), "
            f"but never {at_least} at the same time (at most {most}): the work was done one "
            "call after another. Typical causes: a new pool or executor for every item, waiting "
            "for each result right after submitting it (apply_async(...).get() or "
            "submit(...).result() in the same loop), or joining each process before starting "
            "the next. Hand out all the work first, then collect the results.")


def expect_start_method(started: list[tuple[str, str]], method: str, what: str) -> None:
    """Fail unless every child in ``started`` (from ``watch_start_methods``) used ``method``."""
    if not started:
        raise ExerciseError(f"{what} started no child process; the task asks for {method} ones.")
    other = sorted({used for _, used in started if used != method})
    if other:
        raise ExerciseError(
            f"{what} started its children with {other}, not {method}: the task is about what "
            f"a {method} child gets, so create them from multiprocessing.get_context({method!r}) "
            "(a pinned fork context makes a program pass on Linux that fails on macOS, Windows "
            "and Python 3.14).")


_INTERNAL_THREADS = ("multiprocessing.", "concurrent.futures.")


def _user_threads(threads: set[threading.Thread]) -> list[threading.Thread]:
    """Threads that a learner's code is responsible for: not multiprocessing's or
    concurrent.futures' own helpers (queue feeders, pool handlers), nor the checks' watchdog."""
    mine = []
    for thread in threads:
        target = getattr(thread, "_target", None)
        module = getattr(target, "__module__", "") or ""
        if thread.name == "exercise-watchdog" or module.startswith(_INTERNAL_THREADS):
            continue
        mine.append(thread)
    return mine


def _loggers() -> dict[str, logging.Logger]:
    loggers = {"root": logging.getLogger()}
    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger):
            loggers[name] = logger
    return loggers


def _open_files() -> set[tuple[str, int]]:
    try:
        return {(f.path, f.fd) for f in psutil.Process().open_files()}
    except (psutil.Error, OSError):
        return set()


def _close_file_objects(fds: set[int]) -> None:
    """Close the Python file objects (and logging handlers) that hold the descriptors ``fds``."""
    for obj in gc.get_objects():
        try:
            if isinstance(obj, logging.StreamHandler) and obj.stream is not None \
                    and obj.stream.fileno() in fds:
                obj.close()
            elif isinstance(obj, io.IOBase) and not obj.closed and obj.fileno() in fds:
                obj.close()
        except (ValueError, OSError, AttributeError):
            continue


@contextmanager
def _created(cls: type, method: str, made: list[Any]) -> Iterator[None]:
    """Record the instances of ``cls`` on which ``method`` ran inside the block."""
    original = getattr(cls, method)

    @functools.wraps(original)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        made.append(self)
        return original(self, *args, **kwargs)

    setattr(cls, method, wrapper)
    try:
        yield
    finally:
        setattr(cls, method, original)


@contextmanager
def nothing_left(what: str, grace: float = 3.0) -> Iterator[None]:
    """Fail when the code run inside the block left anything behind, and clean it up.

    Checked when the block ends: processes started inside that still run after ``grace``
    seconds or were never joined; pools not closed or terminated; process pool executors not
    shut down; managers not shut down; threads started inside still running (a
    ``QueueListener`` never stopped); files opened inside still open (a ``FileHandler`` never
    closed); logging handlers added to any logger and left there, or the root logger's level
    changed; ``SharedMemory`` blocks created inside and never unlinked. If the block raises,
    everything is cleaned up and the exception goes on unchanged.

        with checks.nothing_left("logged_cubes([1, 2], ctx)"):
            result = logged_cubes([1, 2], ctx)
    """
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import managers

    started: list[multiprocessing.process.BaseProcess] = []
    pools: list[multiprocessing.pool.Pool] = []
    executors: list[ProcessPoolExecutor] = []
    servers: list[managers.BaseManager] = []
    threads_before = set(threading.enumerate())
    files_before = _open_files()
    loggers_before = {name: list(logger.handlers) for name, logger in _loggers().items()}
    root_level = logging.getLogger().level
    body_failed = True
    with contextlib.ExitStack() as stack:
        stack.enter_context(_on_start(started.append))
        stack.enter_context(_created(multiprocessing.pool.Pool, "__init__", pools))
        stack.enter_context(_created(ProcessPoolExecutor, "__init__", executors))
        stack.enter_context(_created(managers.BaseManager, "start", servers))
        created = stack.enter_context(shared_memory_created())
        try:
            yield
            body_failed = False
        finally:
            problems = _leftovers(started, pools, executors, servers, threads_before,
                                  files_before, loggers_before, root_level, grace)
            try:
                expect_unlinked(created)
            except ExerciseError as error:
                problems.append(str(error))
    if problems and not body_failed:
        raise ExerciseError(f"{what} left something behind. " + " ".join(problems))


def _leftovers(started: list[multiprocessing.process.BaseProcess],
               pools: list[multiprocessing.pool.Pool], executors: list[Any],
               servers: list[Any], threads_before: set[threading.Thread],
               files_before: set[tuple[str, int]],
               loggers_before: dict[str, list[logging.Handler]], root_level: int,
               grace: float) -> list[str]:
    """Describe and clean up what ``nothing_left`` finds (see there)."""
    problems = []
    open_pools = [p for p in pools if not isinstance(p, multiprocessing.pool.ThreadPool)
                  and p._state == multiprocessing.pool.RUN]
    for pool in open_pools:
        pool.terminate()
    if open_pools:
        problems.append(
            f"{len(open_pools)} Pool(s) were never closed: use `with Pool(...) as pool:` or "
            "call close() and join() (also the pool you only used for timing).")
    open_executors = [e for e in executors if not e._shutdown_thread]
    for executor in open_executors:
        executor.shutdown(wait=True, cancel_futures=True)
    if open_executors:
        problems.append(
            f"{len(open_executors)} ProcessPoolExecutor(s) were never shut down: use "
            "`with ProcessPoolExecutor(...) as executor:` or call shutdown().")
    running = [m for m in servers if getattr(m, "_state", None) is not None
               and m._state.value == multiprocessing.managers.State.STARTED]
    for manager in running:
        manager.shutdown()
    if running:
        problems.append(
            f"{len(running)} manager(s) were never shut down: use `with Manager() as manager:` "
            "or call shutdown() when done.")
    alive = leaks.wait_until_gone(
        [psutil.Process(p.pid) for p in started if p.pid and _pid_alive(p.pid)], grace)
    if alive:
        for process in started:
            if process.is_alive():
                process.terminate()
                process.join(timeout=5)
        leaks.kill(alive)
        problems.append(
            f"{len(alive)} process(es) were still running {grace:g} s after your code returned: "
            "join every process you start (join() without a timeout, after reading what it "
            "sent), and close and join every pool.")
    children = getattr(multiprocessing.process, "_children", set())
    unjoined = sorted(p.name for p in started if p in children and not _pid_alive(p.pid))
    for process in started:
        if process in children:
            process.join(timeout=5)
    if unjoined and not alive:
        problems.append(
            f"{len(unjoined)} process(es) ended but were never joined ({unjoined[:4]}"
            f"{' ...' if len(unjoined) > 4 else ''}): waiting with sleep() or join(timeout=...) "
            "only hopes that they are done. Call join() on every process (and join() a pool after "
            "close()).")
    threads = _user_threads(set(threading.enumerate()) - threads_before)
    deadline = time.monotonic() + min(grace, 2.0)
    while any(t.is_alive() for t in threads) and time.monotonic() < deadline:
        time.sleep(0.05)
    threads = [t for t in threads if t.is_alive()]
    if threads:
        _stop_listeners()
        problems.append(
            f"{len(threads)} thread(s) that your code started were still running "
            f"({[t.name for t in threads][:3]}): stop what you start, e.g. listener.stop() for "
            "a QueueListener (after joining the processes that log to it).")
    for name, logger in _loggers().items():
        added = [h for h in logger.handlers if h not in loggers_before.get(name, [])]
        for handler in added:
            logger.removeHandler(handler)
            handler.close()
        if added:
            problems.append(
                f"{len(added)} logging handler(s) were added to the {name!r} logger here in the "
                f"notebook and left there ({[type(h).__name__ for h in added]}): remove (and "
                "close) the handlers you add, or configure logging only in the workers.")
    if logging.getLogger().level != root_level:
        problems.append(
            f"the root logger's level was changed from {logging.getLevelName(root_level)} to "
            f"{logging.getLevelName(logging.getLogger().level)}: leave the notebook's logging as "
            "you found it.")
        logging.getLogger().setLevel(root_level)
    left_open = {(path, fd) for path, fd in _open_files() - files_before
                 if not path.startswith("/dev/shm/")}
    if left_open:
        _close_file_objects({fd for _, fd in left_open})
        problems.append(
            f"{len(left_open)} file(s) opened by your code were still open "
            f"({sorted(os.path.basename(p) for p, _ in left_open)[:3]}): close them (a "
            "logging.FileHandler needs handler.close(); `with open(...)` closes a file).")
    return problems


def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _stop_listeners() -> None:
    """Stop every running QueueListener (their threads would otherwise run until the kernel ends)."""
    from logging.handlers import QueueListener

    for obj in gc.get_objects():
        if isinstance(obj, QueueListener) and getattr(obj, "_thread", None) is not None:
            try:
                obj.queue.put_nowait(obj._sentinel)
            except Exception:  # noqa: BLE001 (a broken queue: the thread is a daemon anyway)
                continue
            obj._thread.join(timeout=2)
            obj._thread = None


class CellClock:
    """How long each notebook cell ran, and which cells changed the names it watches.

    For each watched name it keeps the seconds of the cells that changed it since it was
    last bound to a new object (so a dict filled over several cells counts all of them).
    """

    def __init__(self, names: tuple[str, ...], namespace: dict[str, Any]) -> None:
        self.names = names
        self.namespace = namespace
        self.seconds: dict[str, float] = {}
        self._start = 0.0
        self._before: dict[str, tuple[int, str]] = {}

    def _fingerprint(self, name: str) -> tuple[int, str]:
        value = self.namespace.get(name)
        try:
            return id(value), repr(value)
        except Exception:  # noqa: BLE001 (a value whose repr fails: compare by identity)
            return id(value), ""

    def pre(self, *_: Any) -> None:
        self._before = {name: self._fingerprint(name) for name in self.names}
        self._start = time.perf_counter()

    def post(self, *_: Any) -> None:
        seconds = time.perf_counter() - self._start
        for name in self.names:
            after = self._fingerprint(name)
            before = self._before.get(name)
            if before is None or after == before:
                continue
            if after[0] != before[0]:
                self.seconds[name] = seconds
            else:
                self.seconds[name] = self.seconds.get(name, 0.0) + seconds


_CLOCK: CellClock | None = None


def watch_cells(*names: str) -> None:
    """From the next cell on, time every cell of this notebook and note which cells change
    ``names`` (call it once, in an exercise's set-up cell; calling it again starts afresh).
    ``cell_seconds(name)`` then says how long the cells that filled ``name`` ran."""
    global _CLOCK
    try:
        shell = get_ipython()  # type: ignore[name-defined]  # noqa: F821 (IPython builtin)
    except NameError:
        return
    if _CLOCK is not None:
        for event, callback in (("pre_run_cell", _CLOCK.pre), ("post_run_cell", _CLOCK.post)):
            try:
                shell.events.unregister(event, callback)
            except ValueError:
                pass
    _CLOCK = CellClock(names, shell.user_ns)
    shell.events.register("pre_run_cell", _CLOCK.pre)
    shell.events.register("post_run_cell", _CLOCK.post)


def cell_seconds(name: str, clock: CellClock | None = None) -> float | None:
    """The wall time of the cell(s) that filled ``name`` (None if no watched cell did)."""
    clock = clock or _CLOCK
    return None if clock is None else clock.seconds.get(name)


def expect_within_cell_time(figures: Any, name: str, what: str,
                            clock: CellClock | None = None) -> None:
    """Fail if separately timed figures add up to more than the cell that measured them ran.

    Each figure times its own stretch of the cell, so together they cannot exceed the cell's
    wall time; running totals (a clock started once, before the loop) do. ``figures`` are
    seconds (pass seconds per item x items for per-item figures).
    """
    clock = clock or _CLOCK
    if clock is None:
        return  # not in a notebook: nothing was timed
    ran = cell_seconds(name, clock)
    if ran is None:
        raise ExerciseError(
            f"{name} was never filled by a cell after the set-up cell: run the cell that "
            "measures, then this one.")
    total = float(sum(figures))
    if total > ran * 1.02 + 0.01:
        raise ExerciseError(
            f"{what} add up to {total:.3g} s, but the cell that measured them ran for only "
            f"{ran:.3g} s: the figures overlap, so some include the time of others. Start the "
            "clock again for each figure (start = time.perf_counter() inside the loop, just "
            "before what you time), not once before the loop.")


def measure(fn: Callable[..., Any], *args: Any, repeats: int = 1, **kwargs: Any) -> float:
    """The fastest wall time of ``repeats`` calls of ``fn``: the check's own measurement."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        fn(*args, **kwargs)
        best = min(best, time.perf_counter() - started)
    return best


# How long one measurement can wait for a core on a loaded machine: a figure of a few
# milliseconds that a busy scheduler preempted once can come out tens of ms long (seen: a
# correct 3 ms count_primes timed 51.5 ms in a loaded classroom round).
SCHEDULING_SLACK = 0.25


def expect_same_magnitude(figure: float, reference: float, what: str,
                          factor: float = 10.0) -> None:
    """Fail if ``figure`` is more than ``factor`` times off ``reference``, an independent
    measurement of the same thing made by the check (a generous bound: load changes a timing
    by a few times, timing the wrong thing by orders of magnitude). Above it, the bound also
    allows ``SCHEDULING_SLACK`` seconds: one wait for a core can lengthen any figure by that
    much, however short the work, while nothing can make a figure shorter than the work."""
    if reference <= 0 or figure <= 0:
        raise ExerciseError(f"{what} is {figure!r}: a duration must be a positive number of seconds.")
    if reference / factor <= figure <= reference * factor + SCHEDULING_SLACK:
        return
    direction = "less" if figure < reference else "more"
    raise ExerciseError(
        f"{what} is {figure:.3g} s, but the check timed the same thing just now in "
        f"{reference:.3g} s: over {factor:g} times {direction}. Does the figure time what the "
        "task asks, from start to the end of the work (map_async(...) returns at once: wait "
        "with .get()), with the right pool or executor, one figure per setting?")


# --- Process lifetimes (issue 10, exercises 01 and 02: figures of a start + join) -----------


@dataclass
class Lifetime:
    """One process started inside ``process_lifetimes``: its name, the start method it really
    used, the ``time.perf_counter()`` instant just before its ``start()`` ran, and the instant
    just after the first ``join()`` that saw it ended returned (None if it was never joined
    inside the block)."""

    name: str
    method: str
    started: float
    joined: float | None = None


@contextmanager
def process_lifetimes() -> Iterator[list[Lifetime]]:
    """Record, in start order, when each process started inside the block was started and
    when it was joined (see ``Lifetime``), from any thread and under every start method.

    A figure that claims to time ``start()`` + ``join()`` of some of these processes must
    cover at least the span from the first one's ``started`` to the last one's ``joined``
    (timing ``start()`` alone gives less), and no more than the code took around them (a total
    instead of a mean, a clock started before a warm-up child or before an earlier loop).

        with checks.process_lifetimes() as lives:
            cost = start_cost(3)
        span = lives[-1].joined - lives[0].started   # cost * 3 >= span
    """
    lives: list[Lifetime] = []
    by_process: dict[multiprocessing.process.BaseProcess, Lifetime] = {}
    lock = threading.Lock()
    original_start = multiprocessing.process.BaseProcess.start
    original_join = multiprocessing.process.BaseProcess.join

    def start(self: multiprocessing.process.BaseProcess) -> None:
        method = getattr(self, "_start_method", None) or multiprocessing.get_start_method()
        life = Lifetime(self.name, method, time.perf_counter())
        with lock:
            lives.append(life)
            by_process[self] = life
        original_start(self)

    def join(self: multiprocessing.process.BaseProcess, timeout: float | None = None) -> None:
        original_join(self, timeout)
        ended = time.perf_counter()
        with lock:
            life = by_process.get(self)
        if life is not None and life.joined is None and self.exitcode is not None:
            life.joined = ended

    multiprocessing.process.BaseProcess.start = start  # type: ignore[method-assign]
    multiprocessing.process.BaseProcess.join = join  # type: ignore[method-assign]
    try:
        yield lives
    finally:
        multiprocessing.process.BaseProcess.start = original_start  # type: ignore[method-assign]
        multiprocessing.process.BaseProcess.join = original_join  # type: ignore[method-assign]


# --- Calls recorded across cells (issue 10, exercises 09 and 10: task 3's measurements) ------


_RECORDINGS: dict[tuple[str, str], contextlib.ExitStack] = {}


def unrecorded(function: Callable[..., Any]) -> Callable[..., Any]:
    """The function that a ``calls_recorded`` stand-in stands for (``function`` itself if it
    is none): for a check's own calls, which must not be counted as the learner's."""
    if isinstance(function, _Recorder):
        return vars(sys.modules[function.module]).get(_STASH + function.name, function)
    return function


def record_calls_from_now(function: Callable[..., Any]) -> CallLog:
    """Start ``calls_recorded(function)`` and keep it on until the kernel ends; return its log.

    For a measurement written by the learner as a notebook cell: call this in the topic's
    set-up cell, let the learner's cell run, and read ``log.calls`` in the test cell (where
    and how long each call ran). Called again for the same function (the set-up cell run a
    second time), it ends the earlier recording first, so that a stand-in never stands for
    another stand-in; ``function`` may be the stand-in itself then.

        fetch_calls = checks.record_calls_from_now(fetch)      # set-up cell
        ...                                                    # the learner's timing cell
        in_threads = [c for c in fetch_calls.calls if c.pid == os.getpid()]   # test cell
    """
    import atexit

    if isinstance(function, _Recorder):
        key = (function.module, function.name)
    else:
        key = (getattr(function, "__module__", ""), getattr(function, "__name__", ""))
    earlier = _RECORDINGS.pop(key, None)
    if earlier is not None:
        earlier.close()  # puts the original back, in the module and the notebook's globals
    module = sys.modules.get(key[0])
    original = unrecorded(getattr(module, key[1], function) if module is not None else function)
    stack = contextlib.ExitStack()
    log = stack.enter_context(calls_recorded(original))
    _RECORDINGS[key] = stack
    atexit.register(stack.close)
    return log


# --- Pool calls recorded across cells (issue 10, exercises 06 and 08: task 3's measurements) --


@dataclass
class PoolCall:
    """One call that gave a multiprocessing pool work: ``method`` is ``"map"`` (``map``,
    ``starmap`` and their ``_async`` forms) or ``"apply"`` (``apply``, ``apply_async``);
    the function's name (a partial's function's); how many items (1 for apply); the
    chunksize passed (None: not passed, so the pool chose its own); which pool (its
    ``id``); when the call began (``time.perf_counter()``); and the size of the largest
    ``bytes`` argument of its first item (0 if none), which tells a warm-up on empty data
    from a call on the real data."""

    method: str
    function: str
    items: int
    chunksize: int | None
    pool: int
    started: float
    largest_bytes: int


def _called_from_checks() -> bool:
    """True when this module's code is on the stack below the caller: a check's own call."""
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_filename == __file__:
            return True
        frame = frame.f_back
    return False


def _name(func: Callable[..., Any]) -> str:
    """A function's name; a ``functools.partial``'s function's name."""
    return getattr(getattr(func, "func", func), "__name__", repr(func))


def _largest_bytes(arguments: Any) -> int:
    parts = arguments if isinstance(arguments, tuple) else (arguments,)
    return max((len(part) for part in parts if isinstance(part, (bytes, bytearray))), default=0)


def _recording_maps(original: Callable[..., Any], calls: list[PoolCall]) -> Callable[..., Any]:
    """``Pool._map_async`` (the course's guard's, when it is installed) that notes each call."""

    @functools.wraps(original)
    def _map_async(self: multiprocessing.pool.Pool, func: Callable[..., Any], iterable: Any,
                   mapper: Callable[..., Any], chunksize: int | None = None,
                   *args: Any, **kwargs: Any) -> Any:
        if not hasattr(iterable, "__len__"):
            iterable = list(iterable)  # as the pool itself does, to cut it into chunks
        if not _called_from_checks():
            first = iterable[0] if len(iterable) else ()
            calls.append(PoolCall("map", _name(func), len(iterable),
                                  chunksize, id(self), time.perf_counter(),
                                  _largest_bytes(first)))
        return original(self, func, iterable, mapper, chunksize, *args, **kwargs)

    _map_async.pool_calls = calls  # type: ignore[attr-defined]
    return _map_async


def _recording_applies(original: Callable[..., Any], calls: list[PoolCall]) -> Callable[..., Any]:
    """``Pool.apply_async`` (the guard's, when it is installed) that notes each call."""

    @functools.wraps(original)
    def apply_async(self: multiprocessing.pool.Pool, func: Callable[..., Any],
                    args: tuple = (), *rest: Any, **kwargs: Any) -> Any:
        if not _called_from_checks():
            calls.append(PoolCall("apply", _name(func), 1, None,
                                  id(self), time.perf_counter(), _largest_bytes(tuple(args))))
        return original(self, func, args, *rest, **kwargs)

    apply_async.pool_calls = calls  # type: ignore[attr-defined]
    return apply_async


def record_pool_calls_from_now() -> list[PoolCall]:
    """From now until the kernel ends, note every call that gives a ``multiprocessing`` pool
    work (see ``PoolCall``), in this list (emptied if it was already recording: the set-up
    cell run again). The checks' own calls are left out.

    For a measurement written by the learner as a notebook cell: call this in the topic's
    set-up cell and read, in the test cell, which chunksizes the learner's maps really got,
    or whether a pool had run a task before the first timed call.

        pool_calls = checks.record_pool_calls_from_now()         # set-up cell
        ...                                                      # the learner's timing cell
        used = {c.chunksize for c in pool_calls if c.function == "square"}   # test cell
    """
    pool = multiprocessing.pool.Pool
    if not hasattr(pool._map_async, "pool_calls"):
        calls: list[PoolCall] = []
        pool._map_async = _recording_maps(pool._map_async, calls)  # type: ignore[method-assign]
        pool.apply_async = _recording_applies(pool.apply_async, calls)  # type: ignore[method-assign]
    calls = pool._map_async.pool_calls  # type: ignore[attr-defined]
    calls.clear()
    return calls
