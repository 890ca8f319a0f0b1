"""Worker code for notebook 01_process: starting, watching and stopping processes.

Every function here runs in a child process started by the notebook (or is a tool the
notebook uses to look at its children). Children never print: they send what they found
back through a Queue, a Pipe or a shared Value, and the notebook prints it, so the output
is the same under every start method.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

from helpers.workloads import count_primes

# A module-level setting. A fork child gets a copy of the parent's memory, so it sees a change
# the parent made after importing this module; a spawn or forkserver child imports the module
# afresh and sees the value written here.
SETTING = "as written in helpers/processes.py"


# --- 3. The Process API ---------------------------------------------------------------------


def power_to_queue(base: int, results: Any, exponent: int = 2) -> None:
    """Put ``(process name, base ** exponent)`` on the queue ``results``.

    The smallest useful target: it takes positional and keyword arguments and sends its
    answer back, because whatever a target *returns* is thrown away.
    """
    results.put((multiprocessing.current_process().name, base**exponent))


def report_identity(results: Any) -> None:
    """Put a dict describing this process on ``results``: its name, pid, parent pid (from
    ``os.getppid()`` and from ``parent_process()``), daemon flag and ``SETTING``."""
    parent = multiprocessing.parent_process()
    results.put(
        {
            "name": multiprocessing.current_process().name,
            "pid": os.getpid(),
            "getppid": os.getppid(),
            "parent_process_pid": parent.pid if parent is not None else None,
            "parent_process_name": parent.name if parent is not None else None,
            "daemon": multiprocessing.current_process().daemon,
            "setting": SETTING,
        }
    )


@contextmanager
def environment_without(name: str) -> Iterator[str | None]:
    """Remove the environment variable ``name`` from ``os.environ`` for the block, so that
    the children started in it do not inherit it; put it back afterwards. Yields its value
    (None if it was not set)."""
    value = os.environ.pop(name, None)
    try:
        yield value
    finally:
        if value is not None:
            os.environ[name] = value


def print_and_wait(text: str, flush: bool, printed: Any, go: Any, timeout: float = 30.0) -> None:
    """``print(text)`` in this child, flushed or not, set the event ``printed``, then wait
    for the event ``go`` (at most ``timeout`` seconds) and exit normally.

    The one child in the course that prints, to show where a child's output goes: under
    fork ``sys.stdout`` is a copy of the kernel's stream and sends each write to the notebook
    at once; under spawn and forkserver it is a new, block-buffered file on the kernel's
    standard output, which ipykernel (Linux, macOS) reads and forwards when the child
    flushes, at the latest when it exits.
    """
    print(text, flush=flush)
    printed.set()
    go.wait(timeout)


def report_name(results: Any) -> None:
    """Put the name of the process that runs this function on ``results``."""
    results.put(multiprocessing.current_process().name)


def wait_for(event: Any, timeout: float) -> bool:
    """Block until ``event`` is set or ``timeout`` seconds pass; return whether it was set.

    A stand-in for a child that waits for something: the notebook decides when it ends.
    """
    return bool(event.wait(timeout))


def fail(message: str) -> NoReturn:
    """Raise ``ValueError(message)``: a target that ends with an uncaught exception."""
    raise ValueError(message)


def exit_with(code: int) -> NoReturn:
    """End the process with ``sys.exit(code)``, so that its exitcode is ``code``."""
    sys.exit(code)


def stderr_to_file(path: str, target: Callable[..., Any], *args: Any) -> Any:
    """Send this process's ``sys.stderr`` to the file ``path``, then call ``target(*args)``.

    A child that dies of an exception prints ``Process <name>:`` and the traceback to its
    stderr. Redirected, that text lands in a file the parent can read after ``join()``,
    instead of arriving in the notebook at an unpredictable moment.
    """
    sys.stderr = open(path, "w", buffering=1, encoding="utf-8")  # noqa: SIM115 (lives until exit)
    return target(*args)


def describe_exitcode(code: int | None) -> str:
    """Explain a ``Process.exitcode``: None while running (or never started), 0 for success,
    a positive number for a failure (1 after an uncaught exception, n after ``sys.exit(n)``),
    minus a signal's number when a signal ended the process (POSIX)."""
    if code is None:
        return "None (not ended yet)"
    if code == 0:
        return "0 (success)"
    if code > 0:
        return f"{code} (failure)"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = f"signal {-code}"
    return f"{code} (ended by {name})"


def ignore_sigterm_then_wait(ready: Any, timeout: float) -> None:
    """Ignore SIGTERM, set the event ``ready``, then sleep up to ``timeout`` seconds.

    ``terminate()`` sends SIGTERM on POSIX, which a process may catch or ignore, as this one
    does; ``kill()`` sends SIGKILL, which no process can ignore.
    """
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    ready.set()
    time.sleep(timeout)


def wait_then_tidy_up(ready: Any, said: Any, timeout: float) -> None:
    """Set the event ``ready``, then sleep up to ``timeout`` seconds; say on the queue ``said``
    whether a ``KeyboardInterrupt`` arrived and that the ``finally`` block ran.

    Shows which way of stopping a child lets its clean-up run: ``interrupt()`` (Python 3.14+,
    SIGINT) raises ``KeyboardInterrupt`` in it, so ``finally`` runs; ``terminate()``
    (SIGTERM) and ``kill()`` (SIGKILL) end it where it stands. Python's own SIGINT handler
    is put back first: a parent started in the background ignores SIGINT, and its children
    inherit that. On the interrupt it exits with code 1, as an uncaught ``KeyboardInterrupt``
    would, without printing a traceback (the documented way: catch it, then exit).
    """
    signal.signal(signal.SIGINT, signal.default_int_handler)
    ready.set()
    try:
        time.sleep(timeout)
    except KeyboardInterrupt:
        said.put("KeyboardInterrupt")
        sys.exit(1)
    finally:
        said.put("finally ran")


def try_to_start_a_child(results: Any) -> None:
    """Try to start a child process and put ``(exception type, message)`` or ``None`` on
    ``results``. A daemonic process is not allowed to have children."""
    try:
        child = multiprocessing.Process(target=time.sleep, args=(0,), name="grandchild")
        child.start()
        child.join()
        results.put(None)
    except AssertionError as err:
        results.put((type(err).__name__, str(err)))


def start_daemon_grandchild(results: Any, timeout: float = 60.0) -> None:
    """Start a daemonic child that would sleep ``timeout`` seconds, put its pid and whether it
    is alive on ``results``, and return.

    When this process ends, multiprocessing's exit handler terminates (and joins) its daemonic
    children: the grandchild dies with its parent instead of sleeping on.
    """
    grandchild = multiprocessing.Process(
        target=time.sleep, args=(timeout,), name="daemon-grandchild", daemon=True
    )
    grandchild.start()
    results.put((grandchild.pid, grandchild.is_alive()))


class Doubler(multiprocessing.Process):
    """A Process subclass: the work is in ``run()``, the answer goes back through a queue.

    ``self.doubled`` is set in ``run()``, which executes in the child, so the parent's
    Doubler object never gets it.
    """

    def __init__(self, number: int, results: Any, name: str | None = None) -> None:
        super().__init__(name=name)
        self.number = number
        self.results = results

    def run(self) -> None:
        self.doubled = self.number * 2
        self.results.put((self.name, self.number, self.doubled))


class ForgetsSuperInit(multiprocessing.Process):
    """A broken subclass: its ``__init__`` does not call ``super().__init__()``, so the
    Process machinery was never set up and ``start()`` fails in the parent."""

    def __init__(self, number: int) -> None:  # noqa: D107  (the missing super() call is the point)
        self.number = number

    def run(self) -> None:
        pass


# --- 4. Getting results back ------------------------------------------------------------------


def square_to_pipe(x: float, conn: multiprocessing.connection.Connection) -> None:
    """Send ``x * x`` through the pipe end ``conn``, then close it."""
    conn.send(x * x)
    conn.close()


def square_into_value(x: float, value: Any) -> None:
    """Store ``x * x`` in the shared ``multiprocessing.Value`` ``value``."""
    value.value = x * x


def call_and_report(fn: Callable[..., Any], args: tuple[Any, ...], results: Any) -> None:
    """Call ``fn(*args)`` and put ``("ok", result)`` or ``("error", type name, message)`` on
    ``results``: an exception comes back to the parent instead of dying with the child."""
    try:
        results.put(("ok", fn(*args)))
    except Exception as err:  # noqa: BLE001  (every error is reported, that is the point)
        results.put(("error", type(err).__name__, str(err)))


# --- 5. Zombies -------------------------------------------------------------------------------


def process_state(pid: int) -> str:
    """Return ``"running"``, ``"zombie"`` (ended, exit status not collected) or ``"gone"``.

    Reads the process table through psutil, which does not reap: looking does not change
    what is seen. "running" covers every live state (running, sleeping, ...).
    """
    import psutil  # imported here: only the notebook's own process calls this

    try:
        status = psutil.Process(pid).status()
    except psutil.NoSuchProcess:
        return "gone"
    return "zombie" if status == psutil.STATUS_ZOMBIE else "running"


def wait_for_state(pid: int, wanted: str, timeout: float = 5.0) -> str:
    """Poll ``process_state(pid)`` until it is ``wanted`` or ``timeout`` passes; return it."""
    deadline = time.monotonic() + timeout
    state = process_state(pid)
    while state != wanted and time.monotonic() < deadline:
        time.sleep(0.01)
        state = process_state(pid)
    return state


# --- 9. How many processes --------------------------------------------------------------------


def cores_seen(results: Any, pin_to: Iterable[int] | None = None) -> None:
    """Put on ``results`` what this process sees as its core counts.

    With ``pin_to`` (Linux), first restrict this process to those CPUs with
    ``os.sched_setaffinity``, as ``taskset`` or a container's cpuset would. Puts a dict:
    ``cpu_count`` (``os.cpu_count()``), ``affinity`` (``len(os.sched_getaffinity(0))``) and
    ``process_cpu_count`` (``os.process_cpu_count()``, None before Python 3.13).
    """
    if pin_to is not None:
        os.sched_setaffinity(0, set(pin_to))
    process_cpu_count = getattr(os, "process_cpu_count", None)
    results.put(
        {
            "cpu_count": os.cpu_count(),
            "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
            "process_cpu_count": process_cpu_count() if process_cpu_count else None,
        }
    )


def count_primes_batch(limits: list[int], results: Any) -> None:
    """Put ``sum(count_primes(n) for n in limits)`` on ``results``: one process's share of a
    CPU-bound job."""
    results.put(sum(count_primes(n) for n in limits))


# --- 8. The articles' versions ----------------------------------------------------------------


def hello(name: int, results: Any) -> None:
    """Article 001's ``f(name)``, corrected: instead of printing "hello", ``os.getppid()`` and
    ``os.getpid()`` in the child, put ``(name, pid, ppid, parent_process().pid)`` on ``results``."""
    parent = multiprocessing.parent_process()
    results.put((name, os.getpid(), os.getppid(), parent.pid if parent is not None else None))


def doubler(number: int, results: Any) -> None:
    """Article 002's ``doubler``, corrected: put ``(number, number * 2, this process's name)``
    on ``results`` instead of printing them in the child."""
    results.put((number, number * 2, multiprocessing.current_process().name))


def download_html(i: int, url: str, results: Any) -> None:
    """Article 000's ``download_html(i)``, corrected: fetch ``url`` and put
    ``(i, HTTP status, length of the text)`` on ``results`` instead of printing the page.

    Uses the standard library's urllib (``requests.get(url).text`` works the same) with
    proxies switched off, since the course's pages come from a server on this machine.
    """
    import urllib.request  # imported here, so that other children do not pay for it

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=10) as response:
        text = response.read().decode("utf-8")
        results.put((i, response.status, len(text)))
