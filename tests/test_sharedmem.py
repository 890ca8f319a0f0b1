"""The workers of notebook 06_shared_memory, run under each start method."""

from __future__ import annotations

from multiprocessing import RawArray, shared_memory

import numpy as np
import pytest

import helpers  # noqa: F401  (applies MP_START_METHOD, installs the guard)
from tests.conftest import run_processes as run
from helpers import sharedmem


@pytest.fixture
def block():
    """A 64-byte SharedMemory block, closed and unlinked after the test."""
    shm = shared_memory.SharedMemory(create=True, size=64)
    yield shm
    shm.close()
    shm.unlink()


# --- 2, 3. Value and Array -------------------------------------------------------------------


def test_add_to_value_from_two_children(mp_context) -> None:
    total = mp_context.Value("i", 10)
    run([mp_context.Process(target=sharedmem.add_to_value, args=(total, n)) for n in (3, 4)])
    assert total.value == 17


def test_scale_changes_the_array_in_place(mp_context) -> None:
    values = mp_context.Array("d", [1.0, -2.0, 3.5])
    run([mp_context.Process(target=sharedmem.scale, args=(values, 2))])
    assert values[:] == [2.0, -4.0, 7.0]


def test_shout_upper_cases_a_char_array(mp_context) -> None:
    text = mp_context.Array("c", 8)
    text.value = b"ada"
    run([mp_context.Process(target=sharedmem.shout, args=(text,))])
    assert text.value == b"ADA"
    assert text.raw == b"ADA" + bytes(5)


def test_move_points_in_a_child(mp_context) -> None:
    points = mp_context.RawArray(sharedmem.Point, [(0.0, 1.0), (2.0, 3.0)])
    run([mp_context.Process(target=sharedmem.move_points, args=(points, 1.5, -1.0))])
    assert [(p.x, p.y) for p in points] == [(1.5, 0.0), (3.5, 2.0)]


def test_square_slice_halves_in_two_children(mp_context) -> None:
    numbers = mp_context.RawArray("d", range(6))
    run([mp_context.Process(target=sharedmem.square_slice, args=(numbers, 0, 3)),
         mp_context.Process(target=sharedmem.square_slice, args=(numbers, 3, 6))])
    assert numbers[:] == [0.0, 1.0, 4.0, 9.0, 16.0, 25.0]


def test_square_slice_leaves_the_rest_alone() -> None:
    numbers = RawArray("d", [2.0, 3.0, 4.0])
    sharedmem.square_slice(numbers, 1, 2)
    assert numbers[:] == [2.0, 9.0, 4.0]


# --- 4. SharedMemory -------------------------------------------------------------------------


def test_write_bytes_from_a_child(mp_context, block) -> None:
    run([mp_context.Process(target=sharedmem.write_bytes, args=(block.name, b"abc", 5))])
    assert bytes(block.buf[:8]) == bytes(5) + b"abc"


def test_read_bytes_returns_and_sends_a_copy(mp_context, block) -> None:
    block.buf[:6] = b"shared"
    assert sharedmem.read_bytes(block.name, 1, 4) == b"har"
    results = mp_context.Queue()
    reader = mp_context.Process(target=sharedmem.read_bytes, args=(block.name, 0, 6, results))
    reader.start()
    try:
        assert results.get(timeout=30) == b"shared"
    finally:
        reader.join(30)
        results.close()
    assert reader.exitcode == 0


def test_reverse_in_place_with_the_object_as_argument(mp_context, block) -> None:
    block.buf[:5] = b"abcde"
    run([mp_context.Process(target=sharedmem.reverse_in_place, args=(block, 5))])
    assert bytes(block.buf[:6]) == b"edcba\x00"


def test_add_one_to_a_numpy_array_in_a_child(mp_context) -> None:
    source = np.arange(6, dtype=np.int32).reshape(3, 2)
    shm = shared_memory.SharedMemory(create=True, size=source.nbytes)
    try:
        array = np.ndarray(source.shape, dtype=source.dtype, buffer=shm.buf)
        array[:] = source
        run([mp_context.Process(target=sharedmem.add_one, args=(shm.name, array.shape, array.dtype.str))])
        assert array.tolist() == (source + 1).tolist()
        del array
    finally:
        shm.close()
        shm.unlink()


def test_attaching_workers_leave_the_block_alone(mp_context, block) -> None:
    """Children that attach and close must not unlink: the block is still there afterwards."""
    run([mp_context.Process(target=sharedmem.write_bytes, args=(block.name, b"x"))])
    run([mp_context.Process(target=sharedmem.read_bytes, args=(block.name, 0, 1))])
    again = shared_memory.SharedMemory(name=block.name)
    assert bytes(again.buf[:1]) == b"x"
    again.close()


# --- 5. ShareableList ------------------------------------------------------------------------


def test_square_items_of_a_shareable_list(mp_context) -> None:
    items = shared_memory.ShareableList([1, -2, 3, 0.5])
    try:
        run([mp_context.Process(target=sharedmem.square_items, args=(items.shm.name,))])
        assert list(items) == [1, 4, 9, 0.25]
    finally:
        items.shm.close()
        items.shm.unlink()


# --- 7. Globals and start methods ------------------------------------------------------------


def test_a_shared_global_reaches_only_fork_children(mp_context, start_method) -> None:
    total = sharedmem.make_shared_total(mp_context)
    report = mp_context.Queue()
    try:
        child = mp_context.Process(target=sharedmem.add_to_globals, args=(7, report))
        child.start()
        plain_in_child, found = report.get(timeout=30)
        child.join(30)
    finally:
        sharedmem.SHARED_TOTAL = None
        report.close()
    assert found == (start_method == "fork")
    assert total.value == (7 if start_method == "fork" else 0)
    assert plain_in_child == sharedmem.PLAIN_TOTAL + 7  # the child's own copy changed
    assert child.exitcode == 0


def test_add_to_globals_in_this_process(mp_context) -> None:
    import queue

    before = sharedmem.PLAIN_TOTAL
    report: queue.Queue = queue.Queue()
    total = sharedmem.make_shared_total(mp_context)
    try:
        sharedmem.add_to_globals(3, report)
        assert report.get_nowait() == (before + 3, True)
        assert total.value == 3
    finally:
        sharedmem.PLAIN_TOTAL = before
        sharedmem.SHARED_TOTAL = None


# --- 9. The article's example ----------------------------------------------------------------


def test_article_f_writes_its_square_and_the_negatives(mp_context) -> None:
    n, a = mp_context.Value("d", 0.0), mp_context.Array("i", range(5))
    run([mp_context.Process(target=sharedmem.article_f, args=(n, a, 7))])
    assert n.value == 49.0
    assert a[:] == [0, -1, -2, -3, -4]


def test_article_f_logged_records_the_last_writer(mp_context) -> None:
    n, a = mp_context.Value("d", 0.0), mp_context.Array("i", 3)
    order, writes = mp_context.RawArray("i", 4), mp_context.RawValue("i", 0)
    run([mp_context.Process(target=sharedmem.article_f_logged, args=(n, a, i, order, writes))
         for i in range(1, 5)])
    assert writes.value == 4
    assert sorted(order[:]) == [1, 2, 3, 4]
    assert n.value == order[3] ** 2


def test_store_square_gives_every_child_its_slot(mp_context) -> None:
    results = mp_context.Array("d", 5)
    run([mp_context.Process(target=sharedmem.store_square, args=(results, i)) for i in range(5)])
    assert results[:] == [0.0, 1.0, 4.0, 9.0, 16.0]


# --- 10. Counting in a copy or in shared memory -------------------------------------------------


def test_count_in_copy_and_in_shared_agree(mp_context) -> None:
    data = bytes([0, 1, 2, 1, 255, 1, 0]) * 1000
    shm = shared_memory.SharedMemory(create=True, size=len(data))
    try:
        shm.buf[:len(data)] = data
        with mp_context.Pool(1) as pool:
            copied = pool.starmap(sharedmem.count_in_copy, [(data, v) for v in (0, 1, 255, 7)])
            shared = pool.starmap(sharedmem.count_in_shared, [(shm.name, v) for v in (0, 1, 255, 7)])
    finally:
        shm.close()
        shm.unlink()
    assert copied == shared == [data.count(bytes([v])) for v in (0, 1, 255, 7)]
