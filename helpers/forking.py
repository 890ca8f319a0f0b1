"""Worker code and tools for notebook 02: ``os.fork`` and the three start methods.

A child started with ``fork`` is a copy of its parent; a ``spawn`` child is a fresh Python
that imports what it needs; a ``forkserver`` child is forked from a small, clean server
process. The functions here let a notebook *see* the difference: a child reports what it
found (``describe_child``), the parent times how long starting children takes
(``start_cost``), runs small scripts in a fresh interpreter under a watchdog
(``run_script``) and captures what children write to file descriptor 2
(``captured_stderr``), where tracebacks of dying children go.
``forkserver_preloads_main`` says where this Python's forkserver imports the main script.
"""

from __future__ import annotations

import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from helpers import leaks

# A module-level value. The notebook changes it in the parent; a fork child sees the
# change (it copies the parent's memory), a spawn or forkserver child sees this original.
STATE: dict[str, str] = {"value": "as imported"}


def describe_child(conn: Connection, main_name: str = "", modules: Sequence[str] = ()) -> None:
    """Run in a child: send the parent a dict of what this child inherited, then close.

    Keys: ``state`` (this module's ``STATE["value"]`` as the child sees it), ``main_name``
    (whether the child's ``__main__`` has a variable called ``main_name``, as a notebook's
    variables are there only in a fork child), ``ipython`` (whether IPython is imported,
    i.e. the child is a copy of a notebook kernel), ``threads`` (Python threads running in
    the child) and ``modules`` (for each name in ``modules``, whether it is imported).
    The child prints nothing: the parent prints what it receives.
    """
    main = sys.modules.get("__main__")
    conn.send(
        {
            "state": STATE["value"],
            "main_name": bool(main_name) and hasattr(main, main_name),
            "ipython": "IPython" in sys.modules,
            "threads": threading.active_count(),
            "modules": {name: name in sys.modules for name in modules},
        }
    )
    conn.close()


def look_inside(
    ctx: Any,
    name: str,
    main_name: str = "",
    modules: Sequence[str] = (),
    timeout: float = 30.0,
) -> dict[str, Any]:
    """Start one child of ``ctx`` running ``describe_child`` and return what it reports.

    Runs in the parent. ``ctx`` is a context from ``multiprocessing.get_context`` (or the
    ``multiprocessing`` module itself, for the active method). The child is joined before
    returning; if it sends nothing within ``timeout`` seconds it is terminated and
    TimeoutError is raised (a watchdog, so a broken child cannot hang the notebook).
    """
    receiver, sender = ctx.Pipe(duplex=False)
    child = ctx.Process(target=describe_child, args=(sender, main_name, tuple(modules)), name=name)
    child.start()
    sender.close()  # the parent keeps only the reading end
    try:
        if not receiver.poll(timeout):
            raise TimeoutError(f"{name} sent nothing within {timeout} s")
        return receiver.recv()
    finally:
        receiver.close()
        child.join(timeout)
        if child.is_alive():
            child.terminate()
            child.join()


def noop() -> None:
    """Do nothing: the smallest Process target, for timing how long a start and join take."""


def start_cost(
    ctx: Any,
    repeats: int = 5,
    target: Callable[..., object] = noop,
    args: tuple[Any, ...] = (),
) -> float:
    """Median seconds to start a child of ``ctx`` running ``target(*args)`` and join it.

    Runs in the parent. ``ctx`` is a context from ``multiprocessing.get_context`` (or the
    ``multiprocessing`` module itself, for the active method). One warm-up start comes
    first and is not timed: under forkserver it also starts the server, and under every
    method it loads what the first start needs, which later starts reuse. A child that
    fails (non-zero exit code) raises ChildProcessError, so a broken target is not timed.
    """
    if repeats < 1:
        raise ValueError("repeats must be at least 1")
    times = []
    for i in range(repeats + 1):
        began = time.perf_counter()
        child = ctx.Process(target=target, args=args, name=f"timed-{i}")
        child.start()
        child.join()
        elapsed = time.perf_counter() - began
        if child.exitcode != 0:
            raise ChildProcessError(f"the timed child ended with exit code {child.exitcode}")
        if i:
            times.append(elapsed)
    return statistics.median(times)


def _median_seconds(action: Callable[[], object], repeats: int) -> float:
    """Median seconds that ``action()`` takes over ``repeats`` calls."""
    if repeats < 1:
        raise ValueError("repeats must be at least 1")
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        action()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def _start_and_join_a_thread() -> None:
    thread = threading.Thread(target=noop)
    thread.start()
    thread.join()


def thread_start_cost(repeats: int = 5) -> float:
    """Median seconds to start a thread running ``noop`` and join it (``start_cost`` for a
    thread: no new interpreter, no new process)."""
    return _median_seconds(_start_and_join_a_thread, repeats)


def interpreter_start_cost(repeats: int = 5) -> float | None:
    """Median seconds to create a sub-interpreter and close it (``concurrent.interpreters``,
    Python 3.14+), or None where this Python has no such module."""
    if repeats < 1:
        raise ValueError("repeats must be at least 1")
    try:
        from concurrent import interpreters  # type: ignore[attr-defined]  # Python 3.14+
    except ImportError:
        return None
    return _median_seconds(lambda: interpreters.create().close(), repeats)


def forkserver_preloads_main(version: Sequence[int] | None = None) -> bool:
    """Whether the forkserver of Python ``version`` (default: this one) imports the main
    script once, in its server, so that its children are forked with it already loaded.

    True from 3.13.8 (3.14 included). Up to 3.13.7 the server was meant to preload
    ``__main__`` but never did (it looked for a ``main_path`` key that spawn's preparation
    data calls ``init_main_from_path``: gh-98552, gh-126631, fixed by PR #135295), so every
    forkserver child imports the main script again, as a spawn child does.
    """
    release = tuple(sys.version_info[:3] if version is None else version)
    return release >= (3, 13, 8)


def plain_environment() -> dict[str, str]:
    """This process's environment for a child Python whose output a cell reads: with
    ``PYTHON_COLORS=0``. A Jupyter kernel sets ``FORCE_COLOR=1`` for the programs it starts,
    and Python 3.13 and later then write tracebacks with colour escape codes, which a
    notebook shows in colour but a search for ``FileNotFoundError`` at a line's start misses."""
    return {**os.environ, "PYTHON_COLORS": "0"}


@dataclass
class ScriptRun:
    """What a script run by ``run_script`` did: exit code, output, and whether it was killed."""

    returncode: int
    stdout: str
    stderr: str
    timed_out: bool
    # Semaphores that killed processes of the script left in /dev/shm, removed afterwards.
    removed: set[str] = field(default_factory=set)

    def lines(self) -> list[str]:
        """The non-empty lines the script printed on stdout."""
        return [line for line in self.stdout.splitlines() if line.strip()]


def run_script(path: str | os.PathLike[str], *args: str, timeout: float = 30.0) -> ScriptRun:
    """Run a Python script with ``args`` in a fresh interpreter (this one's) and capture it.

    The script runs in the script's folder, in its own session (POSIX), with
    ``PYTHONUNBUFFERED`` removed from its environment, so that a ``print(..., flush=True)``
    reaches the pipe as one write and lines of several processes do not mix. If it is still
    running after ``timeout`` seconds, the watchdog ends it *and every process it started*:
    SIGTERM first (multiprocessing's resource tracker ignores it, outlives them and unlinks
    their semaphores), SIGKILL 5 s later; ``timed_out`` is then True. Scripts in the course
    carry their own, shorter watchdog; this one is the safety net.

    A process killed in the middle of creating a semaphore (the scripts without a main guard
    end their pools while new workers start) leaves it in ``/dev/shm`` where no resource
    tracker knows it; afterwards such semaphores, new and held by no process, are removed
    and named in ``removed`` (Linux).
    """
    shm_before = leaks.shm_entries()
    run = _run_under_watchdog(Path(path), args, timeout)
    run.removed = leaks.remove_orphaned_semaphores(shm_before)
    return run


def _run_under_watchdog(path: Path, args: Sequence[str], timeout: float) -> ScriptRun:
    """``run_script`` without the clean-up of semaphores."""
    posix = os.name == "posix"
    env = {k: v for k, v in plain_environment().items() if k != "PYTHONUNBUFFERED"}
    proc = subprocess.Popen(
        [sys.executable, str(path), *args],
        cwd=path.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=posix,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
        return ScriptRun(proc.returncode, out, err, timed_out=False)
    except subprocess.TimeoutExpired:
        pass
    if not posix:
        proc.kill()
        out, err = proc.communicate()
        return ScriptRun(proc.returncode, out, err, timed_out=True)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        out, err = proc.communicate(timeout=5)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
    return ScriptRun(proc.returncode, out, err, timed_out=True)


@dataclass
class Captured:
    """Text captured by ``captured_stderr``; ``text`` is filled in when the block ends."""

    text: str = field(default="")


@contextlib.contextmanager
def captured_stderr() -> Iterator[Captured]:
    """Point file descriptor 2 at a temporary file for the block, then restore it.

    A child process writes its traceback to the file descriptor 2 it inherited, not through
    Jupyter, so in a notebook that text arrives late or in another cell. Fork and spawn
    children started inside the block inherit the temporary file instead; after the block,
    ``.text`` holds what they wrote. (A forkserver child inherits the *server's* descriptors,
    fixed when the server started, so it is captured only if the server starts inside the
    block.) Only for short demonstrations that run in this process.
    """
    captured = Captured()
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield captured
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            captured.text = tmp.read().decode("utf-8", errors="replace")
