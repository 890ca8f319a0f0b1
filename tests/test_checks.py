"""The exercise checks: they fail on the mistake they name and pass on a right answer."""

from __future__ import annotations

import pytest

from helpers import checks
from helpers.workloads import square


def squares_in_pool(ctx, numbers):
    with ctx.Pool(2) as pool:
        return pool.map(square, numbers)


def test_watch_counts_the_processes_a_pool_starts(mp_context) -> None:
    result, started = checks.watch(squares_in_pool, mp_context, [1, 2, 3])
    assert result == [1, 4, 9]
    assert len(started) == 2
    checks.expect_parallel(started, at_least=2)
    checks.expect_no_leftover_processes()


def test_serial_work_is_named() -> None:
    result, started = checks.watch(lambda numbers: [square(x) for x in numbers], [1, 2])
    assert result == [1, 4] and started == []
    with pytest.raises(checks.ExerciseError, match="serial answer"):
        checks.expect_parallel(started)


def test_wrong_order_and_wrong_values_are_told_apart() -> None:
    checks.expect_equal([1, 2], [1, 2], "f()")
    with pytest.raises(checks.ExerciseError, match="wrong order"):
        checks.expect_equal([2, 1], [1, 2], "f()")
    with pytest.raises(checks.ExerciseError, match=r"returned \[1, 3\], expected \[1, 2\]"):
        checks.expect_equal([1, 3], [1, 2], "f()")


def test_a_pool_left_open_is_found_and_stopped(mp_context) -> None:
    pool = mp_context.Pool(2)
    assert pool.map(square, [3]) == [9]
    with pytest.raises(checks.ExerciseError, match="left open"):
        checks.expect_no_leftover_processes(timeout=0.5)
    checks.expect_no_leftover_processes(timeout=0.5)  # stopped by the failed check
    pool.join()


def test_lost_updates_are_counted() -> None:
    checks.expect_lost_updates(100, 100)
    with pytest.raises(checks.ExerciseError, match="37 update"):
        checks.expect_lost_updates(100, 63)


def test_a_deadlock_is_stopped_and_named(mp_context) -> None:
    import time
    assert checks.finishes_within(5, sum, [1, 2]) == 3
    started = time.monotonic()
    queue = mp_context.Queue()
    with pytest.raises(checks.ExerciseError, match=r"after 0.5 s .*deadlock.*\(never put\)"):
        checks.finishes_within(0.5, queue.get, hint="never put")
    assert time.monotonic() - started < 5
    with pytest.raises(ZeroDivisionError):
        checks.finishes_within(5, lambda: 1 / 0)


def test_a_lost_exception_is_named() -> None:
    error = checks.expect_raises(ValueError, int, "x")
    assert isinstance(error, ValueError)
    with pytest.raises(checks.ExerciseError, match="returned 7 instead of raising ValueError"):
        checks.expect_raises(ValueError, int, "7", what="int('7')")


def test_shared_memory_left_behind_is_named_and_removed() -> None:
    from multiprocessing import shared_memory

    from helpers import leaks
    before = leaks.shm_entries()
    checks.expect_no_new_shared_memory(before)
    segment = shared_memory.SharedMemory(create=True, size=16)
    segment.close()
    try:
        with pytest.raises(checks.ExerciseError, match="1 shared memory segment"):
            checks.expect_no_new_shared_memory(before)
        assert segment._name.lstrip("/") not in leaks.shm_entries()
    finally:
        try:
            segment.unlink()
        except FileNotFoundError:
            pass
    checks.expect_no_new_shared_memory(before)


def test_a_process_never_joined_is_named_and_joined(mp_context) -> None:
    from multiprocessing.connection import wait

    def start_two(ctx):
        procs = [ctx.Process(target=square, args=(2,), name=f"unjoined-{i}") for i in (1, 2)]
        for p in procs:
            p.start()
        return procs

    procs, started = checks.watch(start_two, mp_context)
    wait([p.sentinel for p in procs], timeout=30)
    with pytest.raises(checks.ExerciseError, match="never joined"):
        checks.expect_joined(started)
    checks.expect_joined(started)  # joined by the failed check
    assert all(p.exitcode == 0 for p in procs)

    joined = mp_context.Process(target=square, args=(3,), name="joined")
    _, started = checks.watch(joined.start)
    joined.join()
    checks.expect_joined(started)
