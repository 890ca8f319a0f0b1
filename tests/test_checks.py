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


def start_and_join(ctx_or_module, name):
    p = ctx_or_module.Process(target=square, args=(2,), name=name)
    p.start()
    p.join()
    return p.exitcode


def test_watch_start_methods_tells_a_forced_method_from_the_default(mp_context) -> None:
    import multiprocessing

    method = mp_context.get_start_method()
    assert checks.watch_start_methods(start_and_join, mp_context, "forced") == (0, [("forced", method)])
    before = multiprocessing.get_start_method()
    multiprocessing.set_start_method(method, force=True)
    try:
        assert checks.watch_start_methods(start_and_join, multiprocessing, "plain") == (
            0, [("plain", method)])
    finally:
        multiprocessing.set_start_method(before, force=True)


def test_under_each_start_method_sets_each_default_and_restores_it() -> None:
    import multiprocessing

    before = multiprocessing.get_start_method()
    outcomes = checks.under_each_start_method(
        checks.watch_start_methods, start_and_join, multiprocessing, "plain")
    assert sorted(outcomes) == sorted(multiprocessing.get_all_start_methods())
    assert all(result == (0, [("plain", m)]) for m, result in outcomes.items())
    assert multiprocessing.get_start_method() == before
    with pytest.raises(ZeroDivisionError):
        checks.under_each_start_method(divmod, 1, 0)
    assert multiprocessing.get_start_method() == before


def test_shared_memory_never_unlinked_is_named_and_unlinked() -> None:
    from multiprocessing import shared_memory

    with checks.shared_memory_created() as created:
        kept = shared_memory.SharedMemory(create=True, size=16)
        freed = shared_memory.SharedMemory(create=True, size=16)
        attached = shared_memory.SharedMemory(name=kept.name)  # attaching creates nothing
    assert created == [kept.name, freed.name]
    attached.close()
    freed.close()
    freed.unlink()
    kept.close()
    try:
        with pytest.raises(checks.ExerciseError, match=r"1 shared memory block\(s\).*never unlinked"):
            checks.expect_unlinked(created)
        with pytest.raises(FileNotFoundError):
            shared_memory.SharedMemory(name=kept.name)  # unlinked by the failed check
    finally:
        try:
            kept.unlink()
        except FileNotFoundError:
            pass
    checks.expect_unlinked(created)
    after = shared_memory.SharedMemory(create=True, size=16)  # recording has stopped
    after.close()
    after.unlink()
    assert len(created) == 2


def test_watch_overlap_tells_start_all_then_join_from_one_at_a_time(mp_context) -> None:
    import time

    def start_all_then_join(n):
        procs = [mp_context.Process(target=time.sleep, args=(0.5,)) for _ in range(n)]
        for p in procs:
            p.start()
        for p in procs:
            p.join()
        return n

    def one_at_a_time(n):
        for _ in range(n):
            p = mp_context.Process(target=time.sleep, args=(0.01,))
            p.start()
            p.join()
        return n

    assert checks.watch_overlap(start_all_then_join, 3)[::2] == (3, True)
    result, started, overlapped = checks.watch_overlap(one_at_a_time, 3)
    assert (result, len(started), overlapped) == (3, 3, False)
