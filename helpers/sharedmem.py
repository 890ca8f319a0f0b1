"""Worker code for notebook 06_shared_memory: Value, Array, RawArray, SharedMemory, ShareableList.

Every function here runs in a child process (a ``Process`` target, a pool worker or a pool
initializer), so it lives in an importable module that spawn and forkserver children can
import. Workers never print: they change shared memory, return a value or put it on a
queue, and the notebook (the parent) prints.

Two rules of shared memory show up again and again below:

* a shared ctypes object (``Value``, ``Array``, ``RawValue``, ``RawArray``) reaches a child
  only when the child is created (``Process(args=...)`` or a pool's ``initargs``); it cannot
  be sent with a pool task or through a queue;
* a ``SharedMemory`` block is found by its *name*, from any process. Every process that
  attaches closes its own view with ``close()`` (after dropping every array or memoryview
  made from ``.buf``); the one process that owns the block calls ``unlink()``, once.

NumPy is imported inside the functions that use it, so that the other workers' spawn
children start without loading it.
"""

from __future__ import annotations

import ctypes
from multiprocessing import shared_memory
from typing import Any

# Shared ctypes objects come in several classes (``Synchronized``, ``SynchronizedArray``,
# plain ctypes types for ``lock=False`` or ``RawValue``), so the hints say what is used.
SharedNumber = Any
"""A ``Value`` or ``RawValue``: something with ``.value`` (and ``get_lock()`` when synchronised)."""
SharedNumbers = Any
"""An ``Array`` or ``RawArray`` of numbers: indexable, with ``len()``."""


# --- 2. The smallest example -----------------------------------------------------------------


def add_to_value(total: SharedNumber, amount: int) -> None:
    """Add ``amount`` to a shared ``Value``, holding its lock around the read-add-write.

    The parent sees the new value as soon as this returns: parent and child read and write
    the same bytes of shared memory, nothing is copied back.
    """
    with total.get_lock():
        total.value += amount


# --- 3. Value and Array ----------------------------------------------------------------------


def scale(values: SharedNumbers, factor: float) -> None:
    """Multiply every element of a shared ``Array`` by ``factor``, in place.

    Holds the array's lock for the whole loop, so no other process sees it half scaled.
    """
    with values.get_lock():
        for i in range(len(values)):
            values[i] *= factor


def shout(text: Any) -> None:
    """Upper-case a shared ``Array('c', ...)`` (a C char array) in place.

    ``.value`` reads the bytes up to the first NUL byte; writing it back must fit in the
    array's fixed length.
    """
    with text.get_lock():
        text.value = text.value.upper()


class Point(ctypes.Structure):
    """A C struct of two doubles, for ``Array(Point, ...)`` / ``RawArray(Point, ...)``.

    A child process must be able to import the struct's class, so it lives here.
    """

    _fields_ = [("x", ctypes.c_double), ("y", ctypes.c_double)]


def move_points(points: Any, dx: float, dy: float) -> None:
    """Move every ``Point`` of a shared array of structs by (``dx``, ``dy``)."""
    for point in points:
        point.x += dx
        point.y += dy


def square_slice(numbers: SharedNumbers, start: int, stop: int) -> None:
    """Square ``numbers[start:stop]`` in place through a NumPy view of a ``RawArray('d')``.

    ``np.frombuffer`` wraps the shared buffer without copying it. Two processes may do this
    at the same time with no lock when their slices do not overlap: nobody reads what
    another writes.
    """
    import numpy as np

    view = np.frombuffer(numbers, dtype=np.float64)
    view[start:stop] **= 2


# --- 4. SharedMemory -------------------------------------------------------------------------


def write_bytes(name: str, data: bytes, offset: int = 0) -> None:
    """Attach to the shared-memory block ``name``, write ``data`` at ``offset``, detach.

    The child only ``close()``s its view; unlinking the block is its creator's job.
    """
    shm = shared_memory.SharedMemory(name=name)
    try:
        shm.buf[offset:offset + len(data)] = data
    finally:
        shm.close()


def read_bytes(name: str, start: int, stop: int, results: Any = None) -> bytes:
    """Attach to the block ``name`` and return (and put on ``results``, if given) ``buf[start:stop]``.

    ``bytes(...)`` copies the slice out of shared memory before the view is closed.
    """
    shm = shared_memory.SharedMemory(name=name)
    try:
        data = bytes(shm.buf[start:stop])
    finally:
        shm.close()
    if results is not None:
        results.put(data)
    return data


def reverse_in_place(shm: shared_memory.SharedMemory, length: int) -> None:
    """Reverse the first ``length`` bytes of a ``SharedMemory`` passed as an object.

    Under fork the child uses the mapping it inherited; under spawn and forkserver the object
    arrives pickled as its name and size, and unpickling attaches to the block again.
    """
    shm.buf[:length] = bytes(shm.buf[:length])[::-1]


def add_one(name: str, shape: tuple[int, ...], dtype: str) -> None:
    """Add 1 to every element of a NumPy array that lives in the shared block ``name``.

    The documented pattern: attach, wrap ``shm.buf`` in an ``np.ndarray`` (no copy), work
    on it, then drop the array *before* ``close()``. An array made this way does not stop
    ``close()``: kept past it, it points at memory that is no longer mapped, and touching it
    crashes the process.
    """
    import numpy as np

    shm = shared_memory.SharedMemory(name=name)
    array = np.ndarray(shape, dtype=dtype, buffer=shm.buf)
    array += 1
    del array
    shm.close()


# --- 5. ShareableList ------------------------------------------------------------------------


def square_items(name: str) -> None:
    """Attach to the ``ShareableList`` called ``name`` and square each of its numbers in place."""
    items = shared_memory.ShareableList(name=name)
    try:
        for i in range(len(items)):
            items[i] = items[i] ** 2
    finally:
        items.shm.close()


# --- 7. Start methods: globals ---------------------------------------------------------------

PLAIN_TOTAL = 0
"""An ordinary module global: every process has its own copy."""

SHARED_TOTAL: SharedNumber = None
"""A shared ``Value`` once ``make_shared_total()`` ran in *this* process, else None."""


def make_shared_total(context: Any) -> SharedNumber:
    """Create a shared ``Value('i', 0)`` from ``context`` and keep it in ``SHARED_TOTAL``.

    Only processes that inherit this module's memory (fork children created afterwards) see
    it; a spawn or forkserver child imports this module afresh and finds None.
    """
    global SHARED_TOTAL
    SHARED_TOTAL = context.Value("i", 0)
    return SHARED_TOTAL


def add_to_globals(amount: int, report: Any) -> None:
    """Add ``amount`` to ``PLAIN_TOTAL`` and, if this process has one, to ``SHARED_TOTAL``.

    Puts ``(plain_total_here, found_shared)`` on ``report``: the child's own copy of the
    plain global after the addition, and whether a shared Value existed in this process.
    """
    global PLAIN_TOTAL
    PLAIN_TOTAL += amount
    found = SHARED_TOTAL is not None
    if found:
        with SHARED_TOTAL.get_lock():
            SHARED_TOTAL.value += amount
    report.put((PLAIN_TOTAL, found))


# --- 9. The article's example ----------------------------------------------------------------


def article_f(n: SharedNumber, a: SharedNumbers, name: int) -> None:
    """Article 001's worker in Python 3 (without its ``time.sleep(1)``).

    Every child overwrites the same ``n`` with ``name * name``: whoever writes last wins.
    And every child writes the same ``-i`` into every element of ``a``.
    """
    n.value = name * name
    for i in range(len(a)):
        a[i] = -i


def article_f_logged(n: SharedNumber, a: SharedNumbers, name: int, order: SharedNumbers,
                     writes: SharedNumber) -> None:
    """``article_f``, plus a record of the order in which the children wrote ``n``.

    Under ``n``'s lock (an RLock, so ``n.value`` may take it again) the child writes its
    square and appends its ``name`` to ``order`` at position ``writes.value``.
    """
    with n.get_lock():
        n.value = name * name
        order[writes.value] = name
        writes.value += 1
    for i in range(len(a)):
        a[i] = -i


def store_square(results: SharedNumbers, i: int) -> None:
    """The fix: child ``i`` writes ``i * i`` into its own slot, ``results[i]``.

    No two children write the same element, so the outcome does not depend on who runs
    first, and the parent gets every child's result.
    """
    results[i] = i * i


# --- 10. Measure: a large buffer, copied or shared ---------------------------------------------


def count_in_copy(data: bytes, value: int) -> int:
    """Count the bytes equal to ``value`` in ``data``, a copy pickled with the task."""
    import numpy as np

    return int(np.count_nonzero(np.frombuffer(data, dtype=np.uint8) == value))


def count_in_shared(name: str, value: int) -> int:
    """Count the bytes equal to ``value`` in the shared block ``name``, without copying it."""
    import numpy as np

    shm = shared_memory.SharedMemory(name=name)
    try:
        view = np.frombuffer(shm.buf, dtype=np.uint8)
        count = int(np.count_nonzero(view == value))
        del view
    finally:
        shm.close()
    return count
