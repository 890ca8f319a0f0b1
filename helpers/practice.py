"""Worker code and measuring tools for notebook 12_in_practice: the problems people report.

Every function that the notebook runs in another process (a task, an ``initializer``, a
``Process`` target) lives here, so that spawn and forkserver children can import it. Workers
never print: they return what they found and the notebook (the parent) prints it. The
parent-side tools (``fork_child_copies``, ``run_with_timeout``, ``run_and_signal``, ...)
are here too, so that the notebook's cells stay short and the unit tests can check them.

The module is also a script, for section 7 (shutting down cleanly on Ctrl-C and SIGTERM)::

    python -m helpers.practice --tasks 40 --seconds 0.2 --workers 2

NumPy, threadpoolctl and psutil are imported inside the functions that need them, so that
a worker which never uses them does not pay for importing them.
"""

from __future__ import annotations

import argparse
import contextlib
import faulthandler
import gc
import logging
import logging.handlers
import multiprocessing
import os
import pickle
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

MiB = 2**20
"""Bytes in a mebibyte."""


def mib(size: float) -> str:
    """``size`` bytes as mebibytes with one decimal, e.g. ``"64.0 MiB"``."""
    return f"{size / MiB:.1f} MiB"


def ready_pid(_: Any = None) -> int:
    """Sleep 20 ms and return this worker's pid: warming a pool up until every worker has
    answered proves that each one ran its initializer (see ``warm_up``)."""
    time.sleep(0.02)
    return os.getpid()


def warm_up(pool: Any, workers: int, timeout: float = 30.0) -> set[int]:
    """Run ``ready_pid`` tasks in ``pool`` (a ``multiprocessing.Pool``) until ``workers``
    different workers have answered, or ``timeout`` seconds have passed; return their pids.

    A pool starts its workers at once, but a spawn worker takes a while to import what its
    initializer needs: timing the first tasks would time that start-up too.
    """
    deadline = time.monotonic() + timeout
    seen: set[int] = set()
    while len(seen) < workers and time.monotonic() < deadline:
        seen |= set(pool.map(ready_pid, range(2 * workers), chunksize=1))
    return seen


# --- 1. Oversubscription: a BLAS thread pool in every worker ---------------------------------

BLAS_ENV_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
"""The environment variables that OpenBLAS, OpenMP and MKL read when they are loaded."""

_limiter: Any = None  # keeps the threadpool_limits object of limit_blas_threads alive


def blas_pools(_: Any = None) -> list[tuple[str, str, int]]:
    """Import NumPy and return ``(user_api, internal_api, num_threads)`` for each native
    thread pool that threadpoolctl finds in this process, e.g. ``("blas", "openblas", 2)``.

    threadpoolctl sees only the libraries already loaded, hence the import first.
    """
    import numpy  # noqa: F401  (loads the BLAS, so that threadpoolctl can find it)
    from threadpoolctl import threadpool_info

    return [(pool["user_api"], pool["internal_api"], pool["num_threads"])
            for pool in threadpool_info()]


def load_numpy(threads: int | None = None) -> None:
    """Pool initializer: import NumPy, and with ``threads`` limit every native thread pool
    (BLAS, OpenMP) of this worker to that many threads with ``threadpoolctl.threadpool_limits``.

    Works under every start method, after NumPy is loaded (under fork it always is, when
    the parent imported it): it changes the running library's setting, where an environment
    variable is read only once, when the library loads.
    """
    global _limiter
    import numpy  # noqa: F401  (the BLAS must be loaded for threadpoolctl to limit it)

    if threads is not None:
        from threadpoolctl import threadpool_limits

        _limiter = threadpool_limits(limits=threads)


def matmul_task(seed: int, size: int = 200, repeats: int = 20) -> float:
    """Multiply two random ``size`` x ``size`` matrices ``repeats`` times (NumPy, so the
    BLAS); return the trace of the last product, to compare results between runs.

    Medium-sized products are where a BLAS thread pool per worker hurts most: each product
    is too small to share well between threads, and the threads of all workers fight for
    the same cores.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    a, b = rng.random((size, size)), rng.random((size, size))
    product = a
    for _ in range(repeats):
        product = a @ b
    return float(np.trace(product))


@contextlib.contextmanager
def blas_threads_env(threads: int) -> Iterator[None]:
    """Set ``BLAS_ENV_VARS`` to ``threads`` in this process's environment for the block (a
    child started inside it inherits them), then restore them."""
    saved = {name: os.environ.get(name) for name in BLAS_ENV_VARS}
    os.environ.update({name: str(threads) for name in BLAS_ENV_VARS})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


# --- 2. Memory under fork: copy-on-write is not free -----------------------------------------


def unique_memory() -> int:
    """This process's unique set size (USS) in bytes: the memory only it uses, the memory
    that would be freed if it ended (psutil ``memory_full_info().uss``)."""
    import psutil

    return psutil.Process().memory_full_info().uss


def make_records(count: int) -> list[list[float]]:
    """``count`` small records ``[i, i / 2]``: a large structure of many Python objects
    (lists, ints, floats), like rows loaded from a file."""
    return [[i, i / 2] for i in range(count)]


def touch_records(records: Any, action: str, conn: Any) -> None:
    """``Process`` target for a fork child that inherited ``records``: do ``action`` and send
    back how much this child's unique memory grew, in bytes.

    ``"nothing"``: only measure; ``"read"``: sum every record (reading an object writes its
    reference count, so each page it sits on is copied); ``"collect"``: run ``gc.collect()``
    (the collector writes to the header of every container it examines); ``"sum"``:
    ``records.sum()``, for a NumPy array (its data buffer holds no reference counts).
    """
    before = unique_memory()
    if action == "sum":
        records.sum()
    elif action == "read":
        total = 0.0
        for record in records:
            total += record[1]
    elif action == "collect":
        gc.collect()
    elif action != "nothing":
        raise ValueError(f"unknown action {action!r}")
    conn.send(unique_memory() - before)
    conn.close()


def build_records(count: int, conn: Any) -> None:
    """``Process`` target for a spawn child: build its own ``make_records(count)`` and send
    back ``(growth of its unique memory while building, its whole unique memory)``."""
    before = unique_memory()
    records = make_records(count)
    after = unique_memory()
    conn.send((after - before, after))
    conn.close()
    del records


def _child_reply(context: Any, target: Callable[..., None], args: tuple[Any, ...],
                 timeout: float, freeze: bool = False) -> Any:
    """Start ``target(*args, conn)`` in a process of ``context`` and return what it sends
    (within ``timeout`` seconds); the child is joined (killed if it does not end) before
    this returns. ``freeze``: ``gc.freeze()`` just before the start, ``gc.unfreeze()`` just
    after (see ``fork_child_copies``)."""
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=target, args=(*args, sender), name="practice-child")
    if freeze:
        gc.freeze()
    try:
        child.start()
    finally:
        if freeze:
            gc.unfreeze()
    sender.close()
    try:
        if not receiver.poll(timeout):
            raise TimeoutError(f"{target.__name__} sent nothing within {timeout} s")
        return receiver.recv()
    finally:
        receiver.close()
        child.join(timeout)
        if child.is_alive():
            child.kill()
            child.join()


def fork_child_copies(records: Any, action: str, freeze: bool = False,
                      timeout: float = 30.0) -> int:
    """Fork a child that inherits ``records``, let it do ``action`` (see ``touch_records``)
    and return how many bytes of its memory became its own (copied pages).

    With ``freeze=True`` the parent calls ``gc.freeze()`` just before the fork (every
    object it has moves to a permanent generation that the collector never examines) and
    ``gc.unfreeze()`` just after. Needs the fork start method (not on Windows).
    """
    return _child_reply(multiprocessing.get_context("fork"), touch_records, (records, action),
                        timeout, freeze=freeze)


def spawn_child_builds(count: int, timeout: float = 60.0) -> tuple[int, int]:
    """Start a spawn child that builds its own ``make_records(count)``; return ``(growth of
    its unique memory while building, its whole unique memory)`` in bytes."""
    return _child_reply(multiprocessing.get_context("spawn"), build_records, (count,), timeout)


# --- 3. A worker killed from outside -----------------------------------------------------------


def kill_myself(_: Any = None) -> None:
    """Send SIGKILL to this very process, as the kernel's out-of-memory killer or a
    ``kill -9`` would: no exception, no clean-up, no result. (POSIX only.)"""
    os.kill(os.getpid(), signal.SIGKILL)


def limit_memory(headroom: int) -> None:
    """Initializer: cap this worker's address space (``RLIMIT_AS``) at what it uses now
    plus ``headroom`` bytes, so that a larger allocation raises ``MemoryError`` *in the
    worker*. Only the process that calls it is limited (and children it starts later);
    never call it in the notebook's kernel. Linux only (macOS does not enforce it)."""
    import resource

    import psutil

    used = psutil.Process().memory_info().vms
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    soft = used + headroom
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def allocate(size_mib: int) -> int:
    """Allocate ``size_mib`` MiB (and write to every page of it); return the bytes allocated."""
    block = b"\x01" * (size_mib * MiB)
    return len(block)


_held: list[bytes] = []


def hold_chunk(size_mib: int) -> tuple[int, int]:
    """A leaky task: keep a new ``size_mib`` MiB block in a module-level list for good.

    Returns ``(blocks this worker now holds, its resident memory in bytes)``: a worker that
    runs many such tasks grows until something (the OOM killer, a limit) stops it, unless
    it is replaced after a few tasks (``maxtasksperchild``, ``max_tasks_per_child``).
    """
    import psutil

    _held.append(b"\x01" * (size_mib * MiB))
    return len(_held), psutil.Process().memory_info().rss


# --- 4. Large data to workers ---------------------------------------------------------------

_array: Any = None  # the array an initializer gave this worker


def part_bounds(length: int, part: int, parts: int) -> tuple[int, int]:
    """The ``[start, stop)`` of part ``part`` (0-based) of ``parts`` near-equal parts of
    ``range(length)``."""
    if not 0 <= part < parts:
        raise ValueError(f"part {part} is not in 0..{parts - 1}")
    return length * part // parts, length * (part + 1) // parts


def sum_part(array: Any, part: int, parts: int) -> float:
    """Sum part ``part`` of ``parts`` of ``array``, which came with the task (pickled)."""
    start, stop = part_bounds(len(array), part, parts)
    return float(array[start:stop].sum())


def keep_array(array: Any) -> None:
    """Pool initializer: keep ``array`` in this worker, once, for every task it will run."""
    global _array
    _array = array


def sum_part_of_kept(part: int, parts: int) -> float:
    """Sum part ``part`` of ``parts`` of the array ``keep_array`` gave this worker."""
    return sum_part(_array, part, parts)


def sum_part_shared(name: str, shape: tuple[int, ...], dtype: str, part: int,
                    parts: int) -> float:
    """Sum part ``part`` of ``parts`` of a NumPy array that lives in the shared memory block
    ``name`` (notebook 06): attach, view without copying, sum, drop the view, close."""
    from multiprocessing import shared_memory

    import numpy as np

    block = shared_memory.SharedMemory(name=name)
    try:
        array = np.ndarray(shape, dtype=dtype, buffer=block.buf)
        total = sum_part(array, part, parts)
        del array
    finally:
        block.close()
    return total


def sum_part_of_file(path: str, part: int, parts: int) -> float:
    """Sum part ``part`` of ``parts`` of the array saved in ``path`` (``np.save``), opened
    with ``mmap_mode="r"``: only the pages of that part are read from the file (or found in
    the page cache, which every process shares)."""
    import numpy as np

    array = np.load(path, mmap_mode="r")
    try:
        return sum_part(array, part, parts)
    finally:
        del array


def receive_out_of_band(conn: Any) -> None:
    """``Process`` target: receive an array sent with pickle protocol 5 out of band (the
    small pickle, then its one buffer, each with ``send_bytes``), rebuild it with
    ``pickle.loads(..., buffers=...)`` (no copy of the data), send back its sum."""
    header = conn.recv_bytes()
    buffer = conn.recv_bytes()
    array = pickle.loads(header, buffers=[buffer])
    conn.send(float(array.sum()))
    conn.close()


def receive_in_band(conn: Any) -> None:
    """``Process`` target: receive an array with ``conn.recv()`` (an ordinary pickle, the
    data inside it), send back its sum."""
    array = conn.recv()
    conn.send(float(array.sum()))
    conn.close()


def send_array(array: Any, out_of_band: bool, timeout: float = 60.0,
               context: Any = None) -> tuple[float, int]:
    """Send ``array`` to a new child process over a ``Pipe`` and return ``(the sum the
    child computed, bytes of pickle stream sent)``.

    In band, the array is pickled into the stream as ``conn.send(array)`` does (one copy,
    pickled once), and the child unpickles it (another). Out of band, ``pickle.dumps(array, protocol=5,
    buffer_callback=...)`` makes a pickle of a few hundred bytes and hands the data over as
    a ``PickleBuffer``, which ``send_bytes`` writes straight from the array's memory.
    ``context``: a multiprocessing context (default: the current start method's).
    """
    context = context or multiprocessing.get_context()
    receiver, sender = context.Pipe()
    target = receive_out_of_band if out_of_band else receive_in_band
    child = context.Process(target=target, args=(receiver,), name="practice-receiver")
    child.start()
    receiver.close()
    try:
        if out_of_band:
            buffers: list[pickle.PickleBuffer] = []
            header = pickle.dumps(array, protocol=5, buffer_callback=buffers.append)
            sender.send_bytes(header)
            (buffer,) = buffers
            sender.send_bytes(buffer.raw())
            stream = len(header)
        else:
            data = pickle.dumps(array, protocol=pickle.HIGHEST_PROTOCOL)  # what send() does
            sender.send_bytes(data)
            stream = len(data)
        if not sender.poll(timeout):
            raise TimeoutError(f"the child sent no sum within {timeout} s")
        return sender.recv(), stream
    finally:
        sender.close()
        child.join(timeout)
        if child.is_alive():
            child.kill()
            child.join()


# --- 5. Per-task timeouts and stuck tasks ---------------------------------------------------


def hang(seconds: float = 3600.0) -> float:
    """A task that is stuck: it sleeps ``seconds`` (an hour by default), as a call waiting
    on a dead server or a lock that nobody releases would. Returns ``seconds``, if ever."""
    time.sleep(seconds)
    return seconds


def square(x: float) -> float:
    """Return ``x * x``: a task that finishes at once."""
    return x * x


@dataclass
class Outcome:
    """How one task ended: ``"ok"`` with its ``value``, ``"error"`` with the exception's
    text in ``error``, or ``"timeout"`` (the process that ran it was ended)."""

    status: str
    value: Any = None
    error: str = ""
    exitcode: int | None = None

    def __str__(self) -> str:
        if self.status == "ok":
            return f"ok: {self.value!r}"
        if self.status == "error":
            return f"error: {self.error}"
        return f"timeout: the process was ended (exit code {self.exitcode})"


def call_and_send(conn: Any, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    """``Process`` target of ``run_with_timeout``: call ``fn(*args)`` and send back
    ``("ok", value)`` or ``("error", "ExceptionName: message")``."""
    try:
        reply = ("ok", fn(*args))
    except Exception as error:  # any failure of the task is the caller's to see
        reply = ("error", f"{type(error).__name__}: {error}")
    conn.send(reply)
    conn.close()


def run_with_timeout(fn: Callable[..., Any], args: tuple[Any, ...] = (), timeout: float = 5.0,
                     context: Any = None) -> Outcome:
    """Run ``fn(*args)`` in a process of its own and wait at most ``timeout`` seconds.

    A task that is not done by then is ended: ``terminate()`` (SIGTERM), ``join`` for up to
    5 s, then ``kill()`` (SIGKILL) if it is still alive. Whatever happens, the process is
    joined before this returns: nothing is left running. ``fn`` must be importable.
    """
    context = context or multiprocessing.get_context()
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=call_and_send, args=(sender, fn, args),
                            name="practice-task")
    child.start()
    sender.close()
    try:
        if receiver.poll(timeout):
            try:
                status, payload = receiver.recv()
            except EOFError:  # the child died without replying
                status, payload = "error", "the process ended without a result"
        else:
            status, payload = "timeout", None
    finally:
        receiver.close()
    if status == "timeout":
        child.terminate()
        child.join(5)
        if child.is_alive():
            child.kill()
    child.join()
    if status == "ok":
        return Outcome("ok", value=payload, exitcode=child.exitcode)
    if status == "error":
        return Outcome("error", error=payload, exitcode=child.exitcode)
    return Outcome("timeout", exitcode=child.exitcode)


# --- 6. Long jobs a person watches ------------------------------------------------------------

LOGGER = "practice.worker"
"""The name of the logger that ``logged_task`` writes to."""


def job(n: int) -> int:
    """One task of a long job: sleep a little (20 to 60 ms, by ``n``), return ``n * n``;
    every fifth task (``n % 5 == 4``) fails with ``ValueError``, as bad input records do."""
    time.sleep(0.02 * (n % 3 + 1))
    if n % 5 == 4:
        raise ValueError(f"record {n} is malformed")
    return n * n


def job_outcome(n: int) -> tuple[int, str, Any]:
    """Run ``job(n)`` and return ``(n, "ok", value)`` or ``(n, "error", "ValueError: ...")``:
    a task that never raises, so one bad record cannot end the run."""
    try:
        return n, "ok", job(n)
    except Exception as error:  # collected for the final report instead of raised
        return n, "error", f"{type(error).__name__}: {error}"


def init_worker_logging(queue: Any, counter: Any) -> None:
    """Pool initializer: name this worker ``practice-worker-<k>`` (k counts the workers
    started, from the shared ``counter``, a ``multiprocessing.Value``) and send the records
    of the ``LOGGER`` logger to ``queue`` with a ``QueueHandler`` (notebook 09)."""
    with counter.get_lock():
        counter.value += 1
        number = counter.value
    multiprocessing.current_process().name = f"practice-worker-{number}"
    logger = logging.getLogger(LOGGER)
    for handler in list(logger.handlers):  # under fork, inherited from the parent
        logger.removeHandler(handler)
    logger.addHandler(logging.handlers.QueueHandler(queue))
    logger.setLevel(logging.INFO)
    logger.propagate = False


def logged_task(n: int) -> tuple[int, str, Any]:
    """``job_outcome(n)``, logging the outcome (INFO, or WARNING for a failed record) to the
    ``LOGGER`` logger, whose records carry this worker's name (``processName``)."""
    outcome = job_outcome(n)
    logger = logging.getLogger(LOGGER)
    if outcome[1] == "ok":
        logger.info("task %d done", n)
    else:
        logger.warning("task %d failed: %s", n, outcome[2])
    return outcome


def failure_report(outcomes: Sequence[tuple[int, str, Any]]) -> list[str]:
    """The final report of a run whose tasks return ``(n, status, value or error)``: a
    summary line, then one line per failed task, in task order."""
    failed = sorted(o for o in outcomes if o[1] != "ok")
    lines = [f"{len(outcomes)} tasks: {len(outcomes) - len(failed)} ok, {len(failed)} failed"]
    lines += [f"  task {n}: {error}" for n, _, error in failed]
    return lines


# --- 7. Shutting down cleanly on Ctrl-C and SIGTERM (a script) ------------------------------


class ShutdownRequested(Exception):
    """Raised in the script's main thread by its SIGTERM handler."""


def ignore_sigint() -> None:
    """Pool initializer: ignore SIGINT in the worker, so that a Ctrl-C in a terminal (which
    signals the whole process group) reaches only the parent, which then decides."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def batch_task(seconds: float) -> int:
    """One task of the script's batch: sleep ``seconds``, return this worker's pid."""
    time.sleep(seconds)
    return os.getpid()


def _raise_shutdown(signum: int, frame: Any) -> None:
    raise ShutdownRequested(signal.Signals(signum).name)


def run_batch_naively(tasks: int, seconds: float, workers: int) -> int:
    """The same batch as ``run_batch`` without any care for signals: the workers get the
    group's Ctrl-C too, and SIGTERM ends the parent at once (the default action), whatever
    its workers are doing. Prints the same ``started`` and ``workers ready`` lines."""
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from helpers import practice

    print(f"started: {tasks} tasks, {workers} workers", flush=True)
    with ProcessPoolExecutor(max_workers=workers) as executor:
        futures = [executor.submit(practice.batch_task, seconds) for _ in range(tasks)]
        pids: set[int] = set()
        for future in as_completed(futures):
            if len(pids) < workers:
                pids.add(future.result())
                if len(pids) == workers:
                    print("workers ready", flush=True)
    print(f"finished: {tasks} done, 0 cancelled, of {tasks}", flush=True)
    return 0


def run_batch(tasks: int, seconds: float, workers: int) -> int:
    """The script's work: ``tasks`` calls of ``batch_task(seconds)`` in a
    ``ProcessPoolExecutor`` of ``workers``; return the exit status.

    Prints (flushed) ``started ...``, ``workers ready`` once every worker has finished a
    task, and at the end one report line. Ctrl-C (SIGINT, ``KeyboardInterrupt``) or SIGTERM
    (turned into ``ShutdownRequested``) cancels the tasks not yet started, waits for those
    running (``shutdown(wait=True, cancel_futures=True)``), reports, and returns 130 or 143
    (128 + the signal's number, the shell's convention); a finished batch returns 0.
    """
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from helpers import practice  # by module name: workers import it, not __main__

    signal.signal(signal.SIGTERM, _raise_shutdown)
    stopped_by = ""
    print(f"started: {tasks} tasks, {workers} workers", flush=True)
    executor = ProcessPoolExecutor(max_workers=workers, initializer=practice.ignore_sigint)
    futures = []
    try:
        futures = [executor.submit(practice.batch_task, seconds) for _ in range(tasks)]
        pids: set[int] = set()
        for future in as_completed(futures):
            if len(pids) < workers:
                pids.add(future.result())
                if len(pids) == workers:  # every worker has run its initializer
                    print("workers ready", flush=True)
    except KeyboardInterrupt:
        stopped_by = "SIGINT"
    except ShutdownRequested as request:
        stopped_by = str(request)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        with contextlib.suppress(KeyboardInterrupt):
            executor.shutdown(wait=True, cancel_futures=True)
    finished = sum(f.done() and not f.cancelled() for f in futures)
    cancelled = sum(f.cancelled() for f in futures)
    how = f"stopped by {stopped_by}" if stopped_by else "finished"
    print(f"{how}: {finished} done, {cancelled} cancelled, of {tasks}", flush=True)
    return {"": 0, "SIGINT": 130, "SIGTERM": 143}[stopped_by]


@dataclass
class ScriptReport:
    """What ``run_and_signal`` saw: the script's stdout lines, stderr, exit code, the pids
    of the processes it had started, those still alive after it exited, and how long it
    took to exit after the signal."""

    lines: list[str]
    stderr: str
    returncode: int | None
    children_seen: list[int] = field(default_factory=list)
    children_left: list[int] = field(default_factory=list)
    timed_out: bool = False
    seconds_to_exit: float | None = None  # from the signal to the script's exit
    semaphores_removed: set[str] = field(default_factory=set)  # left by killed processes


def run_and_signal(sig: int | None, args: Sequence[str] = (), after: str = "workers ready",
                   to_group: bool = False, timeout: float = 30.0,
                   grace: float = 1.0, module: str = "helpers.practice") -> ScriptReport:
    """Run ``python -m <module> *args`` (this module's script by default; notebook 15 runs
    ``helpers.crawler``'s) in a session of its own; once it prints the line ``after`` (the
    first time), send it ``sig`` (to its whole process group if ``to_group``, as Ctrl-C
    in a terminal does; else to the script alone, as ``kill PID`` does; ``None``: no signal),
    then wait for it to exit.

    Every wait is bounded by ``timeout``: a script still running then is killed with its
    whole group (``timed_out`` is True). Before the signal, the script's descendants are
    listed (psutil); after it exits, those still alive ``grace`` seconds later are reported
    in ``children_left``, then ended (``_end_left_behind``), so that nothing outlives the
    call; named semaphores that killed processes left in ``/dev/shm`` are removed (Linux)
    and named in ``semaphores_removed``.
    """
    import psutil

    from helpers import leaks

    shm_before = leaks.shm_entries()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    env["PYTHON_COLORS"] = "0"
    proc = subprocess.Popen([sys.executable, "-m", module, *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=os.name == "posix")
    assert proc.stdout is not None and proc.stderr is not None
    lines: queue.Queue[str | None] = queue.Queue()
    errors: list[str] = []
    readers = [threading.Thread(target=_read_lines, args=(proc.stdout, lines), daemon=True),
               threading.Thread(target=_read_all, args=(proc.stderr, errors), daemon=True)]
    for reader in readers:
        reader.start()
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    children: list[psutil.Process] = []
    timed_out = False
    signalled_at = None
    while True:
        try:
            line = lines.get(timeout=0.05)
        except queue.Empty:
            # Exited: stop here, since processes it left behind may hold its stdout open.
            if proc.poll() is not None or time.monotonic() > deadline:
                break
            continue
        if line is None:  # end of the script's output
            break
        seen.append(line)
        if line == after and signalled_at is None:
            children = psutil.Process(proc.pid).children(recursive=True)
            signalled_at = time.monotonic()
            if sig is not None:
                if to_group:
                    os.killpg(proc.pid, sig)
                else:
                    os.kill(proc.pid, sig)
    try:
        proc.wait(timeout=max(0.1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        timed_out = True
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    exited_at = time.monotonic()
    time.sleep(0.1)  # the last lines of output, still on their way through the reader
    while True:
        try:
            line = lines.get_nowait()
        except queue.Empty:
            break
        if line is not None:
            seen.append(line)
    alive = _wait_gone(children, grace)
    _end_left_behind(alive)
    removed = leaks.remove_orphaned_semaphores(shm_before)
    for reader in readers:  # the pipes close once every process holding them has ended
        reader.join(timeout=5)
    return ScriptReport(lines=[line for line in seen if line.strip()], stderr="".join(errors),
                        returncode=proc.returncode, children_seen=[c.pid for c in children],
                        children_left=[c.pid for c in alive], timed_out=timed_out,
                        seconds_to_exit=None if signalled_at is None else exited_at - signalled_at,
                        semaphores_removed=removed)


def _end_left_behind(procs: Sequence[Any]) -> None:
    """Kill the processes a script left behind, multiprocessing's own helpers last.

    Workers first (SIGKILL); then the script's resource tracker and forkserver get 5 s to
    exit by themselves, as they do once every process that holds their pipes has ended: the
    tracker unlinks the semaphores and shared memory it knows of on its way out. Only those
    still alive then are killed.
    """
    import psutil

    def is_helper(proc: Any) -> bool:
        try:
            command = " ".join(proc.cmdline())
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            return False
        return "multiprocessing.resource_tracker" in command or "forkserver" in command

    helpers_ = [proc for proc in procs if is_helper(proc)]
    for proc in procs:
        if proc not in helpers_:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.kill()
    _wait_gone([proc for proc in procs if proc not in helpers_], 5)
    for proc in _wait_gone(helpers_, 5):
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()
    _wait_gone(helpers_, 5)


def _wait_gone(procs: Sequence[Any], timeout: float) -> list[Any]:
    """Wait up to ``timeout`` seconds for the psutil processes ``procs`` to end; return those
    still alive. A zombie (ended, not yet reaped by whoever is its parent now) counts as
    ended."""
    import psutil

    def running(proc: Any) -> bool:
        try:
            return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False

    deadline = time.monotonic() + timeout
    alive = [proc for proc in procs if running(proc)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = [proc for proc in alive if running(proc)]
    return alive


def _read_lines(stream: Any, lines: queue.Queue[str | None]) -> None:
    """Reader thread of ``run_and_signal``: put each line of ``stream`` (without its newline)
    on ``lines``, then ``None`` at the end; close the stream."""
    with stream:
        for line in stream:
            lines.put(line.rstrip("\n"))
    lines.put(None)


def _read_all(stream: Any, into: list[str]) -> None:
    """Reader thread of ``run_and_signal``: append all of ``stream`` to ``into``; close it."""
    with stream:
        into.append(stream.read())


def main(argv: Sequence[str] | None = None) -> int:
    """The script's entry point: parse ``--tasks``, ``--seconds``, ``--workers`` and run
    ``run_batch`` under a watchdog that ends the script after ``--watchdog`` seconds."""
    parser = argparse.ArgumentParser(prog="python -m helpers.practice",
                                     description="A batch of tasks that shuts down cleanly.")
    parser.add_argument("--tasks", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=0.2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--watchdog", type=float, default=60.0)
    parser.add_argument("--naive", action="store_true",
                        help="run the batch without handling any signal (run_batch_naively)")
    options = parser.parse_args(argv)
    faulthandler.dump_traceback_later(options.watchdog, exit=True)
    run = run_batch_naively if options.naive else run_batch
    try:
        return run(options.tasks, options.seconds, options.workers)
    finally:
        faulthandler.cancel_dump_traceback_later()


if __name__ == "__main__":
    import helpers  # noqa: F401  (applies MP_START_METHOD, as in the notebooks)

    sys.exit(main())
