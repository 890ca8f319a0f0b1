"""Worker code for notebook 05_synchronisation: locks, semaphores, events, conditions, barriers.

Every function here runs in a child process (a ``Process`` target or a pool initializer and
worker), so it lives in an importable module that spawn and forkserver children can import.
Workers never print: they leave their results in shared values or send them back through a
queue, and the notebook (the parent) prints.

Every wait has a timeout, so that a demonstration that goes wrong ends instead of hanging;
``WAIT_LIMIT`` is that limit. The one exception is ``take_two_locks``, whose second
``acquire`` blocks for ever on purpose: the notebook ends that deadlock with a watchdog.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

WAIT_LIMIT = 10.0
"""Seconds any wait in these workers may last before it gives up (a demo gone wrong)."""

# Shared ctypes objects (``Value``, ``RawValue``, ``Array``) and the synchronisation
# primitives are created by the parent from a context; their classes differ between
# ``Value(..., lock=True)`` and ``lock=False``, so the hints below say what is used of them.
SharedInt = Any
"""A ``multiprocessing.Value('i')`` or ``RawValue('i')``: something with ``.value``."""
SharedInts = Any
"""A ``multiprocessing.Array('i')`` or ``RawArray('i')``: an indexable sequence of ints."""

# --- 2. The lost update ----------------------------------------------------------------------


def add_unlocked(counter: SharedInt, n: int, start_line: Any) -> None:
    """Add 1 to ``counter.value`` ``n`` times with no lock around the update: a race.

    ``counter.value += 1`` is three steps: read the value, add one, write it back. A
    synchronised ``Value`` takes its lock for the read and again for the write, but not
    around both, so two processes can read the same number and both write number + 1: one
    update is lost. ``start_line`` (a ``Barrier`` for every process counting) makes the
    processes start counting at the same moment, whatever their start-up time.
    """
    start_line.wait()
    for _ in range(n):
        counter.value += 1


def add_with_get_lock(counter: SharedInt, n: int, start_line: Any) -> None:
    """Add 1 to ``counter.value`` ``n`` times, each time holding ``counter.get_lock()``.

    The whole read-add-write happens while this process holds the lock, so no other process
    can read in between: no update is lost.
    """
    start_line.wait()
    for _ in range(n):
        with counter.get_lock():
            counter.value += 1


# --- 3. Lock ---------------------------------------------------------------------------------


def record(lock: Any, count: SharedInt, total: SharedInt, x: int) -> None:
    """Count one item and add it to a total: two updates that must happen together.

    One ``Lock`` guards both values, so another process never sees (or overwrites) a state
    where ``count`` was updated and ``total`` not yet.
    """
    with lock:
        count.value += 1
        total.value += x


def record_many(lock: Any, count: SharedInt, total: SharedInt, items: Sequence[int]) -> None:
    """Call ``record`` for each item: the lock is taken and released once per item."""
    for x in items:
        record(lock, count, total, x)


def record_batch(lock: Any, count: SharedInt, total: SharedInt, items: Sequence[int]) -> None:
    """Hold ``lock`` for the whole batch and call ``record`` (which takes it again) per item.

    Taking a lock this process already holds is *re-entry*. An ``RLock`` allows it (it
    counts how often its owner acquired it); a plain ``Lock`` blocks for ever on the second
    ``acquire``, because it waits for itself to release.
    """
    with lock:
        for x in items:
            record(lock, count, total, x)


def leave_locked(lock: Any) -> None:
    """Acquire ``lock`` and end without releasing it: the classic forgotten ``release()``.

    A multiprocessing lock is not released when the process that holds it ends, so every
    later ``acquire()`` waits for ever. ``with lock:`` releases it even when an exception is
    raised inside the block.
    """
    lock.acquire()


# --- 5. Event --------------------------------------------------------------------------------


def wait_for_signal(name: str, ready: Any, start: Any, results: Any) -> None:
    """Say "ready", wait for the ``start`` Event, then report when the signal arrived.

    Puts ``name`` on ``ready``, blocks in ``start.wait()`` (up to ``WAIT_LIMIT`` seconds),
    then puts ``(name, signalled, time.time())`` on ``results``: ``signalled`` is what
    ``wait`` returned (False only if it timed out) and the wall-clock time lets the parent
    see how closely together the runners began.
    """
    ready.put(name)
    signalled = start.wait(timeout=WAIT_LIMIT)
    results.put((name, signalled, time.time()))


# --- 6. Semaphore ----------------------------------------------------------------------------


def limited_job(
    name: str, slots: Any, active: SharedInt, peak: SharedInt, ready: Any, start: Any, hold: float
) -> None:
    """Do a job (sleep ``hold`` seconds) while holding one of the ``slots`` of a Semaphore.

    Says ``name`` on ``ready`` and waits for the ``start`` Event, so that all jobs compete for
    the slots at once. While inside, it counts itself in ``active`` and records the largest
    number of jobs inside at the same time in ``peak`` (both guarded by ``active``'s lock).
    """
    ready.put(name)
    start.wait(timeout=WAIT_LIMIT)
    with slots:
        with active.get_lock():
            active.value += 1
            peak.value = max(peak.value, active.value)
        time.sleep(hold)
        with active.get_lock():
            active.value -= 1


# --- 7. Condition ----------------------------------------------------------------------------


def produce(cond: Any, box: SharedInt, full: SharedInt, items: Sequence[int]) -> None:
    """Hand ``items`` one at a time to a consumer through a one-item mailbox.

    For each item: wait (on ``cond``) until the box is empty, put the item in, mark it full
    and ``notify()`` the consumer. Gives up if the consumer does not empty the box within
    ``WAIT_LIMIT`` seconds.
    """
    for item in items:
        with cond:
            if not cond.wait_for(lambda: full.value == 0, timeout=WAIT_LIMIT):
                return
            box.value = item
            full.value = 1
            cond.notify()


def consume(cond: Any, box: SharedInt, full: SharedInt, received: SharedInts) -> None:
    """Take ``len(received)`` items from the mailbox, storing them in order in ``received``.

    For each item: wait (on ``cond``) until the box is full, take the item, mark the box
    empty and ``notify()`` the producer. A slot left at -1 means the wait timed out.
    """
    for i in range(len(received)):
        with cond:
            if not cond.wait_for(lambda: full.value == 1, timeout=WAIT_LIMIT):
                return
            received[i] = box.value
            full.value = 0
            cond.notify()


# --- 8. Barrier ------------------------------------------------------------------------------


def phased_rounds(index: int, barrier: Any, slots: SharedInts, totals: SharedInts, rounds: int) -> None:
    """Work in rounds with the other parties of ``barrier``: write, wait, read, wait.

    In round ``r`` this party writes ``(r + 1) * (index + 1)`` into ``slots[index]``, waits
    until every party has written (first ``barrier.wait()``), reads the sum of all slots
    into ``totals[r * parties + index]``, and waits again until every party has read
    (second ``barrier.wait()``) before anyone overwrites a slot in the next round.
    """
    parties = len(slots)
    for r in range(rounds):
        slots[index] = (r + 1) * (index + 1)
        barrier.wait()
        totals[r * parties + index] = sum(slots[:])
        barrier.wait()


def wait_at_barrier(name: str, barrier: Any, timeout: float, results: Any) -> None:
    """Wait at ``barrier`` for at most ``timeout`` seconds; report ``(name, outcome)``.

    ``outcome`` is ``"passed"`` when every party arrived, or the exception's name
    (``"BrokenBarrierError"``) when a party never came: the first waiter to time out breaks
    the barrier, and every other waiter then gets the same error instead of waiting.
    """
    try:
        barrier.wait(timeout=timeout)
        outcome = "passed"
    except threading.BrokenBarrierError as error:
        outcome = type(error).__name__
    results.put((name, outcome))


# --- 9. The article's global lock, passed in ----------------------------------------------


def hold_lock(lock: Any, start_line: Any, inside: SharedInt, peak: SharedInt, hold: float) -> None:
    """The article's ``f`` done right: hold the lock it is *given* for ``hold`` seconds.

    Waits at ``start_line`` (a Barrier) so that every child tries to take the lock at the
    same moment. Inside the locked section it counts itself in ``inside`` and records in
    ``peak`` the most children ever inside at once: 1 when the lock works.
    """
    start_line.wait()
    with lock:
        with inside.get_lock():
            inside.value += 1
            peak.value = max(peak.value, inside.value)
        time.sleep(hold)
        with inside.get_lock():
            inside.value -= 1


# --- 10. Lock ordering -----------------------------------------------------------------------


def take_two_locks(name: str, first: Any, second: Any, holding: Any, start_line: Any, done: Any) -> None:
    """Acquire ``first``, then ``second`` (as a transfer between two accounts would).

    Reports ``name`` on ``holding`` once it holds ``first``. With a ``start_line`` (a
    Barrier) it then waits until the other worker holds its first lock too, which makes a
    lock-ordering deadlock certain when the two workers take the locks in opposite orders:
    each waits for ever for the lock the other holds. Puts ``name`` on ``done`` when it got
    both. Pass ``start_line=None`` to let the workers run freely.
    """
    with first:
        holding.put(name)
        if start_line is not None:
            start_line.wait(timeout=WAIT_LIMIT)
        with second:
            done.put(name)


# --- 10. Locks and pools ---------------------------------------------------------------------

_pool_lock: Any = None
_pool_counter: Any = None


def install_pool_lock(lock: Any, counter: SharedInt) -> None:
    """Pool initializer: keep ``lock`` and ``counter`` in this worker process's globals.

    A Lock cannot be sent with a task (pickling it raises RuntimeError), but a pool hands
    its ``initargs`` to each worker when the worker is created, which is allowed.
    """
    global _pool_lock, _pool_counter
    _pool_lock, _pool_counter = lock, counter


def pool_add(n: int) -> int:
    """Pool worker: add 1 to the installed counter ``n`` times under the installed lock.

    Returns ``n``, the number of updates this task made.
    """
    for _ in range(n):
        with _pool_lock:
            _pool_counter.value += 1
    return n


# --- 11. The article's printer ---------------------------------------------------------------


def append_line(path: str, item: Any, name: str, lock: Any) -> None:
    """Append ``"<item> (from <name>)"`` to the file at ``path`` in several writes, under ``lock``.

    The article's ``printer`` printed under a lock. Here the line is written in three
    pieces, each flushed at once; holding the lock keeps one process's pieces together, so
    every line in the file is whole.
    """
    with lock:
        with open(path, "a", encoding="utf-8") as out:
            for piece in (str(item), f" (from {name})", "\n"):
                out.write(piece)
                out.flush()


# --- 12. Measuring the price of a lock -------------------------------------------------------


def _count_unlocked(counter: SharedInt, n: int) -> None:
    """``counter.value += 1`` ``n`` times with no lock around it: fast and wrong."""
    for _ in range(n):
        counter.value += 1


def _count_lock_each(counter: SharedInt, n: int) -> None:
    """Take ``counter.get_lock()`` around each of ``n`` updates: correct, many lock operations."""
    for _ in range(n):
        with counter.get_lock():
            counter.value += 1


def _count_lock_once(counter: SharedInt, n: int) -> None:
    """Hold ``counter.get_lock()`` around all ``n`` updates: correct, the processes take turns."""
    with counter.get_lock():
        for _ in range(n):
            counter.value += 1


def _count_locally(counter: SharedInt, n: int) -> None:
    """Count to ``n`` in a local variable, then add it once under the lock: correct and cheap."""
    local = 0
    for _ in range(n):
        local += 1
    with counter.get_lock():
        counter.value += local


STRATEGIES = {
    "no lock (wrong)": _count_unlocked,
    "get_lock() per update": _count_lock_each,
    "get_lock() around the loop": _count_lock_once,
    "count locally, add once": _count_locally,
}
"""Ways to add ``n`` to a shared counter, by label: see ``timed_count``."""


def timed_count(strategy: str, counter: SharedInt, n: int, start_line: Any, times: Any) -> None:
    """Add ``n`` to ``counter`` the way ``STRATEGIES[strategy]`` does; report the time taken.

    Waits at ``start_line`` (a Barrier) so that every worker counts at the same time, then
    puts the seconds its own counting took on ``times``.
    """
    start_line.wait()
    began = time.perf_counter()
    STRATEGIES[strategy](counter, n)
    times.put(time.perf_counter() - began)
