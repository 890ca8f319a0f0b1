"""Worker code and custom managers for notebook 07_manager.

A manager runs a *server process* that owns ordinary Python objects; other processes hold
*proxies*, small picklable handles that forward every method call to the server over a
connection. Everything here runs in another process (a ``Process`` target, a pool worker,
the manager's server or a separate worker program), so it lives in an importable module
that spawn and forkserver children can import. Workers never print: they change the shared
objects or return values, and the notebook (the parent) prints.

Three parts:

* workers that use the proxies of ``multiprocessing.Manager()`` (list, dict, Namespace,
  Queue, Lock, Value, Array, Event, Semaphore, Condition, Barrier), including the classic
  lost nested mutation (``append_to_nested``);
* ``Tally`` and ``TaskBoard``, classes of our own that a ``BaseManager`` serves, and
  ``CourseManager``, the ``BaseManager`` subclass the notebook registers them on;
* ``main``: a worker *program* (``python -m helpers.managers``) that connects to a manager
  listening on a TCP address with an ``authkey``, takes tasks from its ``TaskBoard`` and
  reports results: the central node of a crawler, with separate programs as its workers.

Every wait has a timeout (``WAIT_LIMIT``), so that a demonstration that goes wrong ends
instead of hanging.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Hashable, Sequence
from multiprocessing.managers import BaseManager
from typing import Any

WAIT_LIMIT = 10.0
"""Seconds any wait in these workers may last before it gives up (a demo gone wrong)."""

AUTHKEY_VARIABLE = "COURSE_MANAGER_AUTHKEY"
"""Environment variable that gives the worker program its authkey, hex-encoded.

The key is not passed on the command line, where any user of the machine can read it
(``ps``); a process's environment is readable only by its owner.
"""

REFUSED = 3
"""Exit code of the worker program when the manager refuses its authkey.

Not 2, which is what ``argparse`` exits with on a usage error.
"""

# Proxies have no common public type (``ListProxy``, ``DictProxy``, ``AutoProxy[Queue]``,
# ``AcquirerProxy``, ...), so the hints below name what is used of them.
Proxy = Any


# --- 3. The proxies of Manager() -------------------------------------------------------------


def record_visit(log: Proxy, lengths: Proxy, name: str) -> None:
    """Append ``name`` to a list proxy and store ``len(name)`` under it in a dict proxy.

    Each call on a proxy (``append``, ``__setitem__``) is one request to the manager's
    server, which applies it to the real list or dict it owns.
    """
    log.append(name)
    lengths[name] = len(name)


def sum_into_namespace(ns: Proxy) -> None:
    """Read ``ns.limit``, compute ``sum(range(limit))`` and store it as ``ns.total``.

    Also records which process did it (``ns.done_by``): the parent gives the process a
    name, so the notebook can print it.
    """
    ns.total = sum(range(ns.limit))
    ns.done_by = multiprocessing.current_process().name


def put_square(results: Proxy, x: int) -> None:
    """Put ``(x, x * x)`` on a queue proxy: a pool task that sends its result by queue."""
    results.put((x, x * x))


def add_with_lock(lock: Proxy, counter: Proxy, n: int) -> None:
    """Add 1 to ``counter.value`` ``n`` times, each time holding ``lock``.

    ``counter.value += 1`` on a ``ValueProxy`` is two requests (get, then set); without the
    lock another process can get the same number in between and an update is lost.
    """
    for _ in range(n):
        with lock:
            counter.value += 1


def fill_slot(array: Proxy, index: int) -> None:
    """Store ``index * index`` in ``array[index]`` (an ``ArrayProxy``)."""
    array[index] = index * index


def wait_for_start(ready: Proxy, start: Proxy, name: str) -> bool:
    """Say ``name`` on the ``ready`` queue, then wait for the ``start`` event.

    Returns what ``start.wait`` returned: True when the event was set, False when
    ``WAIT_LIMIT`` seconds passed first.
    """
    ready.put(name)
    return start.wait(timeout=WAIT_LIMIT)


def one_at_a_time(slots: Proxy, log: Proxy, name: str, seconds: float) -> None:
    """Hold a slot of the semaphore ``slots`` for ``seconds``, logging entry and exit.

    ``("enter", name)`` is appended after the slot is taken and ``("leave", name)`` before
    it is given back, so the log shows how many tasks were ever inside at once
    (``most_inside``).
    """
    if not slots.acquire(timeout=WAIT_LIMIT):
        raise TimeoutError(f"{name} got no slot within {WAIT_LIMIT} s")
    try:
        log.append(("enter", name))
        time.sleep(seconds)
        log.append(("leave", name))
    finally:
        slots.release()


def most_inside(log: Sequence[tuple[str, str]]) -> int:
    """The largest number of tasks inside at once, from a log of ("enter"|"leave", name)."""
    inside = peak = 0
    for event, _ in log:
        inside += 1 if event == "enter" else -1
        peak = max(peak, inside)
    return peak


def wait_for_items(cond: Proxy, items: Proxy, count: int) -> list[Any] | None:
    """Wait on the condition ``cond`` until the list proxy ``items`` holds ``count`` items.

    ``wait_for`` re-checks the predicate after every wake-up (a wake-up does not prove the
    state is right). Returns a copy of the items, or None after ``WAIT_LIMIT`` seconds.
    """
    with cond:
        if not cond.wait_for(lambda: len(items) >= count, timeout=WAIT_LIMIT):
            return None
        return list(items)


def meet_at_barrier(barrier: Proxy) -> int:
    """Wait at ``barrier`` and return the index ``wait()`` gives (0 .. parties - 1)."""
    return barrier.wait(timeout=WAIT_LIMIT)


# --- 7. Nested mutation, and += on a proxy ----------------------------------------------------------------------


def append_to_nested(shared: Proxy, key: Hashable, item: Any) -> None:
    """``shared[key].append(item)``: lost when ``shared[key]`` is a plain list.

    ``shared[key]`` asks the server for the value and gets a pickled *copy*; ``append``
    changes that copy, which is then thrown away. No error says so. When ``shared[key]``
    holds a proxy (``manager.list()``), the server returns that proxy and the append
    reaches the real list.
    """
    shared[key].append(item)


def append_copy_back(shared: Proxy, lock: Proxy, key: Hashable, item: Any) -> None:
    """Append to the list ``shared[key]`` by reading it, changing it and writing it back.

    Read-modify-write: correct only while ``lock`` is held, or another process can read
    the same old list in between and one of the two appends is lost.
    """
    with lock:
        items = shared[key]
        items.append(item)
        shared[key] = items


def increment_in_step(counter: Proxy, barrier: Proxy) -> None:
    """``counter.value += 1`` split in its two requests, with both processes in step.

    Reads the value, waits at ``barrier`` until every process has read it, then writes
    value + 1: the lost update that ``+=`` on a proxy allows, made certain.
    """
    seen = counter.value
    barrier.wait(timeout=WAIT_LIMIT)
    counter.value = seen + 1


# --- 8. The articles' versions ----------------------------------------------------------------


def store_square(d: Proxy, name: int) -> None:
    """Article 001's child, corrected: store ``name * name`` under ``name``, print nothing.

    The article's child also slept a second and printed the whole shared dict, whose state
    at that moment depends on which children ran first.
    """
    d[name] = name * name


def fill_like_article_004(d: Proxy, l: Proxy) -> None:  # noqa: E741 (the article's names)
    """Article 004's child: store three items of different key types and reverse the list."""
    d[1] = "1"
    d["2"] = 2
    d[0.25] = None
    l.reverse()


# --- 5. A class of our own served by a BaseManager -------------------------------------------


class Tally:
    """Counts per name: a class that a ``BaseManager`` serves to many processes.

    The server runs every client connection in its own thread, so methods that change
    state take a ``threading.Lock``: a class served by a manager must be thread-safe.
    Only public methods are reachable through a proxy; attributes are not.
    """

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def add(self, name: str, amount: int = 1) -> int:
        """Add ``amount`` to ``name``'s count and return the new count."""
        with self._lock:
            self._counts[name] = self._counts.get(name, 0) + amount
            return self._counts[name]

    def total(self) -> int:
        """The sum of all counts."""
        with self._lock:
            return sum(self._counts.values())

    def by_name(self) -> dict[str, int]:
        """A copy of the counts, sorted by name."""
        with self._lock:
            return dict(sorted(self._counts.items()))


def add_to_tally(tally: Proxy, name: str, times: int) -> None:
    """Call ``tally.add(name)`` ``times`` times through a proxy (one request each)."""
    for _ in range(times):
        tally.add(name)


class CourseManager(BaseManager):
    """The course's ``BaseManager``: the notebook registers its own types on it.

    ``register`` changes the class it is called on, so the notebook registers on this
    subclass rather than on ``BaseManager`` itself. It lives in a module so that a spawn or
    forkserver server process can import it (a manager class typed into a notebook cannot
    start under those methods).
    """


# --- 6. A manager on a TCP address: the central node and its worker programs -----------------


class TaskBoard:
    """A central node's board: it hands out tasks and collects their results.

    ``add`` puts tasks up; each worker calls ``take`` until it returns None and ``report``
    for every task it finishes. Thread-safe, as a class served by a manager must be.
    """

    def __init__(self) -> None:
        self._todo: list[Any] = []
        self._taken: set[Any] = set()
        self._results: dict[Any, Any] = {}
        self._lock = threading.Lock()

    def add(self, task: Hashable) -> None:
        """Put ``task`` up for a worker to take."""
        with self._lock:
            self._todo.append(task)

    def take(self) -> Any:
        """Hand out the oldest waiting task, or None when there is none left."""
        with self._lock:
            if not self._todo:
                return None
            task = self._todo.pop(0)
            self._taken.add(task)
            return task

    def report(self, task: Hashable, result: Any) -> None:
        """Record the result of a task that was taken."""
        with self._lock:
            if task not in self._taken:
                raise KeyError(f"task {task!r} was never taken")
            self._taken.discard(task)
            self._results[task] = result

    def results(self) -> dict[Any, Any]:
        """A copy of every result reported so far."""
        with self._lock:
            return dict(self._results)

    def counts(self) -> dict[str, int]:
        """How many tasks are waiting, taken but not reported, and done."""
        with self._lock:
            return {"waiting": len(self._todo), "taken": len(self._taken), "done": len(self._results)}


_board: TaskBoard | None = None
_board_lock = threading.Lock()


def shared_board() -> TaskBoard:
    """The one ``TaskBoard`` of this process, created on first use.

    Registered on a manager (``register("board", callable=shared_board)``), it runs in the
    server process, so every client that calls ``board()`` gets a proxy to the same board.
    It is a module-level function, not a lambda, so a spawn server can import it.
    """
    global _board
    with _board_lock:
        if _board is None:
            _board = TaskBoard()
        return _board


class BoardClient(BaseManager):
    """The worker side of the board's manager: it only connects, it never starts a server.

    ``register("board")`` without a callable gives the client a ``board()`` method that
    asks the server for its board.
    """


BoardClient.register("board")


def fetch_size(url: str, timeout: float = WAIT_LIMIT) -> int:
    """Download ``url`` and return the size of its body in bytes."""
    import urllib.request  # here, not at the top: every pool worker imports this module

    with urllib.request.urlopen(url, timeout=timeout) as response:
        return len(response.read())


def crawl(board: Proxy, name: str) -> int:
    """Take URLs from ``board`` until none is left, report ``(size, name)`` for each.

    Returns how many tasks this worker did.
    """
    done = 0
    while (url := board.take()) is not None:
        board.report(url, (fetch_size(url), name))
        done += 1
    return done


def parse_address(text: str) -> tuple[str, int]:
    """``"127.0.0.1:5000"`` -> ``("127.0.0.1", 5000)``."""
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"expected HOST:PORT, got {text!r}")
    return host, int(port)


def run_worker(address: tuple[str, int], authkey: bytes, name: str) -> int:
    """Connect to the board's manager at ``address`` with ``authkey`` and crawl.

    Raises ``multiprocessing.AuthenticationError`` when the server refuses the key.
    Returns how many tasks this worker did.
    """
    client = BoardClient(address=address, authkey=authkey)
    client.connect()
    return crawl(client.board(), name)


def main(argv: Sequence[str] | None = None) -> int:
    """The worker program: ``python -m helpers.managers --address HOST:PORT --name NAME``.

    The authkey comes hex-encoded in the environment variable ``COURSE_MANAGER_AUTHKEY``.
    Exits 0 after the board ran out of tasks, ``REFUSED`` (3) when the manager refused the
    key; prints one line saying which.
    """
    parser = argparse.ArgumentParser(prog="python -m helpers.managers", description=main.__doc__)
    parser.add_argument("--address", required=True, type=parse_address, help="HOST:PORT of the manager")
    parser.add_argument("--name", required=True, help="this worker's name, reported with each result")
    args = parser.parse_args(argv)
    try:
        authkey = bytes.fromhex(os.environ[AUTHKEY_VARIABLE])
    except (KeyError, ValueError):
        parser.error(f"set {AUTHKEY_VARIABLE} to the manager's authkey, hex-encoded")
    try:
        done = run_worker(args.address, authkey, args.name)
    except multiprocessing.AuthenticationError as error:
        print(f"{args.name}: the manager refused the authkey ({type(error).__name__})", file=sys.stderr)
        return REFUSED
    print(f"{args.name}: {done} tasks done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
