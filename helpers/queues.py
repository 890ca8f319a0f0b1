"""Worker code for notebook 03_queue: passing messages between processes with queues.

Every function here runs in a child process (a ``Process`` target, a pool worker or a pool
initializer), so it lives in an importable module that spawn and forkserver children can
import. Workers never print: they send what they found back through a queue or return it,
and the notebook (the parent) prints.

``SENTINEL`` (``None``) is the "no more work" marker the consumers here stop on. ``None`` is
a singleton that survives pickling, so ``item is SENTINEL`` is a correct test; an int or a
string sentinel must be compared with ``==`` (see ``consume_like_the_article``).
"""

from __future__ import annotations

import queue as queue_module
import sys
import time
from collections.abc import Iterable
from typing import Any

SENTINEL = None
"""The value a producer puts once per consumer to tell it to stop."""

NO_MODULE_QUEUE = 3
"""Exit code of ``put_on_module_queue`` when this process's ``module_queue`` is None."""

module_queue: Any = None
"""A module-level queue, set by the parent: the article's global ``q`` (see 03_queue, 4.2)."""

_worker_queue: Any = None
"""The queue a pool worker received from ``remember_queue`` (its initializer)."""


# --- Producers ------------------------------------------------------------------------------


def put_items(q: Any, items: Iterable[Any]) -> None:
    """Put each of ``items`` on ``q`` in order: the smallest producer.

    Works with anything that has ``put``: a ``multiprocessing.Queue``, ``SimpleQueue``,
    ``JoinableQueue``, a ``Manager().Queue()`` proxy (or a ``queue.Queue`` under fork, where
    the items land in the child's own copy and never reach the parent).
    """
    for item in items:
        q.put(item)


def put_after(q: Any, item: Any, delay: float) -> None:
    """Sleep ``delay`` seconds, then put ``item`` on ``q`` (the parent's ``get()`` waits)."""
    time.sleep(delay)
    q.put(item)


def put_payload(q: Any, size: int) -> None:
    """Put one ``bytes`` object of ``size`` bytes on ``q``, then return (and exit).

    A ``multiprocessing.Queue`` writes it to a pipe from a feeder thread, and the process
    waits for that thread at exit. When ``size`` is more than the pipe's buffer (64 KiB on
    Linux), the child cannot exit until someone reads: a parent that joins before it gets
    deadlocks.
    """
    q.put(b"x" * size)


def put_many_without_flush(q: Any, count: int) -> None:
    """Call ``q.cancel_join_thread()``, put ``0 .. count-1`` and exit without waiting.

    The child exits at once even when the pipe is full, and whatever the feeder thread had
    not yet written is lost: ``cancel_join_thread`` trades data for an exit that cannot hang.
    """
    q.cancel_join_thread()
    for number in range(count):
        q.put(number)


def greet(q: Any, name: int) -> None:
    """Article 001's worker in Python 3, with its queue passed in: put ``["hello<name>"]``.

    The article's version used a global ``q`` that it never passed, which only a fork child
    shares with its parent.
    """
    q.put(["hello" + str(name)])


def put_on_module_queue(message: Any) -> None:
    """Put ``message`` on the module-level ``module_queue``, which is not an argument.

    That is the article's global ``q``. A fork child inherits the parent's module, queue
    included. A spawn or forkserver child imports this module afresh, where ``module_queue``
    is None: the function then exits with code ``NO_MODULE_QUEUE`` (3) instead of failing
    with a traceback.
    """
    if module_queue is None:
        sys.exit(NO_MODULE_QUEUE)
    module_queue.put(message)


def produce_numbers(q: Any, count: int, go: Any, batch: int = 1) -> None:
    """Put ``0 .. count-1`` on ``q`` in lists of ``batch`` numbers, then ``SENTINEL``.

    Puts ``"ready"`` first and waits for the event ``go``, so the parent can time the
    transfer alone, without the child's start-up. With ``batch == 1`` each number is its own
    message; with a larger batch each message is a list of up to ``batch`` numbers.
    """
    q.put("ready")
    go.wait()
    if batch == 1:
        for number in range(count):
            q.put(number)
    else:
        for start in range(0, count, batch):
            q.put(list(range(start, min(start + batch, count))))
    q.put(SENTINEL)


# --- Consumers ------------------------------------------------------------------------------


def work(item: int) -> int:
    """The work a consumer does on one item: square it."""
    return item * item


def consume(tasks: Any, results: Any, name: str) -> None:
    """Get items from ``tasks`` until ``SENTINEL``; put ``(item, work(item), name)`` on ``results``.

    The sentinel test comes first, so the sentinel itself is never worked on. Each consumer
    stops at the first sentinel it gets, so a producer must put one sentinel per consumer.
    """
    while True:
        item = tasks.get()
        if item is SENTINEL:
            break
        results.put((item, work(item), name))


def consume_joinable(tasks: Any, results: Any, name: str) -> None:
    """Like ``consume`` for a ``JoinableQueue``: call ``task_done()`` once per item got.

    ``tasks.join()`` in the parent returns when every item put has been marked done, so the
    result is put *before* ``task_done()``; the sentinel is marked done too.
    """
    while True:
        item = tasks.get()
        if item is SENTINEL:
            tasks.task_done()
            break
        results.put((item, work(item), name))
        tasks.task_done()


def consume_like_the_article(q: Any, results: Any, sentinel: Any) -> None:
    """The consumer of article 002, kept with its two mistakes (results go to ``results``).

    1. It doubles the item *before* testing for the sentinel, so the sentinel is "processed"
       too. 2. It tests ``item is sentinel``. An unpickled int is a new object, so ``is`` is
       only true for the small ints CPython caches (-5 to 256): with ``sentinel=-1`` the loop
       stops, with ``sentinel=1000`` it never does.
    """
    while True:
        data = q.get()
        results.put(data * 2)
        if data is sentinel:
            break


def consume_until(q: Any, results: Any, sentinel: Any) -> None:
    """The article's consumer, corrected: test ``item == sentinel`` first, then work.

    ``==`` compares values, which is what a sentinel of any type needs; ``is`` is right only
    for singletons such as ``None``. The doubled values go to ``results``.
    """
    while True:
        data = q.get()
        if data == sentinel:
            break
        results.put(data * 2)


# --- Pools ----------------------------------------------------------------------------------


def report_square(x: int, q: Any) -> int:
    """Pool worker: put ``(x, x*x)`` on ``q`` and return ``x*x``.

    ``q`` arrives with the task, so it must be picklable at any time: a
    ``Manager().Queue()`` proxy works; a ``multiprocessing.Queue`` raises RuntimeError.
    """
    q.put((x, x * x))
    return x * x


def remember_queue(q: Any) -> None:
    """Pool initializer: keep ``q`` for this worker's tasks.

    ``initargs`` are handed to a worker when it is created (inherited under fork, pickled
    while spawning otherwise), which is the one moment a ``multiprocessing.Queue`` may
    travel to another process.
    """
    global _worker_queue
    _worker_queue = q


def report_to_remembered_queue(x: int) -> int:
    """Pool worker: put ``(x, x*x)`` on the queue given by ``remember_queue``; return ``x*x``."""
    _worker_queue.put((x, x * x))
    return x * x


# --- Objects for the demonstrations ---------------------------------------------------------


class SlowToPickle:
    """A value whose pickling takes ``seconds``: it makes the feeder thread's delay visible.

    ``Queue.put`` returns at once and counts the item (``qsize()`` is 1), but the feeder
    thread spends ``seconds`` pickling it before it reaches the pipe, so meanwhile
    ``empty()`` is True and ``get_nowait()`` raises ``queue.Empty``. Unpickling is quick.
    """

    def __init__(self, label: str, seconds: float = 0.0) -> None:
        self.label = label
        self.seconds = seconds

    def __reduce__(self) -> tuple[type, tuple[str, float]]:
        time.sleep(self.seconds)
        return (SlowToPickle, (self.label, self.seconds))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SlowToPickle) and other.label == self.label

    def __hash__(self) -> int:
        return hash(self.label)

    def __repr__(self) -> str:
        return f"SlowToPickle({self.label!r})"


# --- Parent-side helpers --------------------------------------------------------------------


def queue_size_hint(q: Any) -> int | None:
    """Return ``q.qsize()``, or None where the platform cannot count (macOS).

    ``qsize()`` reads a semaphore's value, which macOS does not provide: there it raises
    NotImplementedError. Even where it works the number is a hint, stale by the time you
    read it.
    """
    try:
        return q.qsize()
    except NotImplementedError:
        return None


def drain(q: Any, timeout: float = 0.5) -> list[Any]:
    """Get items from ``q`` until none arrives within ``timeout`` seconds; return them.

    Only for queues whose producers have finished: it is the parent's way of collecting
    "everything that is there" without knowing how many items to expect.
    """
    items = []
    while True:
        try:
            items.append(q.get(timeout=timeout))
        except queue_module.Empty:
            return items
