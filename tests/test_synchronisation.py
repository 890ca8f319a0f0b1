"""The workers of notebook 05_synchronisation, run under each start method."""

from __future__ import annotations

import queue
import time

import pytest

import helpers  # noqa: F401  (applies MP_START_METHOD, installs the guard)
from tests.conftest import run_processes as run
from helpers import synchronisation as sync


# --- 2, 3. Counting ---------------------------------------------------------------------------


def test_add_unlocked_alone_counts_every_update(mp_context) -> None:
    counter, start_line = mp_context.Value("i", 0), mp_context.Barrier(1)
    run([mp_context.Process(target=sync.add_unlocked, args=(counter, 3000, start_line))])
    assert counter.value == 3000


def test_add_unlocked_in_two_processes_never_counts_more(mp_context) -> None:
    counter = mp_context.Value("i", 0)
    start_line = mp_context.Barrier(2, timeout=10)
    run([mp_context.Process(target=sync.add_unlocked, args=(counter, 20_000, start_line)) for _ in range(2)])
    assert 2 <= counter.value <= 40_000  # lost updates only ever lower the count


def test_add_with_get_lock_loses_nothing(mp_context) -> None:
    counter = mp_context.Value("i", 0)
    start_line = mp_context.Barrier(2, timeout=10)
    run([mp_context.Process(target=sync.add_with_get_lock, args=(counter, 20_000, start_line)) for _ in range(2)])
    assert counter.value == 40_000


def test_record_many_keeps_count_and_total_together(mp_context) -> None:
    lock = mp_context.Lock()
    count, total = mp_context.Value("i", 0, lock=False), mp_context.Value("q", 0, lock=False)
    items = list(range(1, 501))
    run([mp_context.Process(target=sync.record_many, args=(lock, count, total, items)) for _ in range(2)])
    assert (count.value, total.value) == (2 * len(items), 2 * sum(items))
    assert lock.acquire(block=False), "record_many must leave the lock free"


def test_record_in_this_process_updates_both_values(mp_context) -> None:
    lock = mp_context.Lock()
    count, total = mp_context.Value("i", 0, lock=False), mp_context.Value("q", 0, lock=False)
    sync.record(lock, count, total, 7)
    sync.record(lock, count, total, 5)
    assert (count.value, total.value) == (2, 12)


def test_leave_locked_leaves_the_lock_held(mp_context) -> None:
    lock = mp_context.Lock()
    run([mp_context.Process(target=sync.leave_locked, args=(lock,))])
    assert not lock.acquire(timeout=0.2)


# --- 4. RLock ---------------------------------------------------------------------------------


def test_record_batch_with_an_rlock(mp_context) -> None:
    rlock = mp_context.RLock()
    count, total = mp_context.Value("i", 0, lock=False), mp_context.Value("q", 0, lock=False)
    items = list(range(1, 201))
    run([mp_context.Process(target=sync.record_batch, args=(rlock, count, total, items)) for _ in range(2)])
    assert (count.value, total.value) == (2 * len(items), 2 * sum(items))
    assert rlock.acquire(block=False), "every acquire must have been matched by a release"
    rlock.release()


def test_record_batch_with_a_lock_deadlocks_on_itself(mp_context) -> None:
    lock = mp_context.Lock()
    count, total = mp_context.Value("i", 0, lock=False), mp_context.Value("q", 0, lock=False)
    batcher = mp_context.Process(target=sync.record_batch, args=(lock, count, total, [1, 2]))
    batcher.start()
    batcher.join(timeout=1.5)
    stuck = batcher.is_alive()
    batcher.kill()
    batcher.join()
    assert stuck
    assert count.value == 0


# --- 5. Event ---------------------------------------------------------------------------------


def test_wait_for_signal_waits_for_the_event(mp_context) -> None:
    ready, results, start = mp_context.Queue(), mp_context.Queue(), mp_context.Event()
    runner = mp_context.Process(target=sync.wait_for_signal, args=("runner-0", ready, start, results))
    runner.start()
    try:
        assert ready.get(timeout=20) == "runner-0"
        with pytest.raises(queue.Empty):
            results.get(timeout=0.3)
        signal_time = time.time()
        start.set()
        name, signalled, began = results.get(timeout=10)
    finally:
        start.set()
        runner.join(10)
    assert (name, signalled) == ("runner-0", True)
    assert began >= signal_time
    assert runner.exitcode == 0


# --- 6. Semaphore -----------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [1, 2])
def test_limited_job_respects_the_semaphore(mp_context, limit: int) -> None:
    slots = mp_context.Semaphore(limit)
    active, peak = mp_context.Value("i", 0), mp_context.Value("i", 0)
    ready, start = mp_context.Queue(), mp_context.Event()
    jobs = [
        mp_context.Process(target=sync.limited_job, args=(f"job-{i}", slots, active, peak, ready, start, 0.1))
        for i in range(4)
    ]
    for p in jobs:
        p.start()
    names = sorted(ready.get(timeout=20) for _ in jobs)
    start.set()
    for p in jobs:
        p.join(20)
    assert names == [f"job-{i}" for i in range(4)]
    assert [p.exitcode for p in jobs] == [0] * 4
    assert 1 <= peak.value <= limit
    assert active.value == 0
    assert sum(slots.acquire(block=False) for _ in range(limit + 1)) == limit, "every slot given back"


# --- 7. Condition -----------------------------------------------------------------------------


def test_produce_and_consume_hand_over_every_item_in_order(mp_context) -> None:
    cond = mp_context.Condition()
    box, full = mp_context.Value("i", 0, lock=False), mp_context.Value("i", 0, lock=False)
    sent = [3, 1, 4, 1, 5, 9]
    received = mp_context.Array("i", [-1] * len(sent), lock=False)
    run([
        mp_context.Process(target=sync.produce, args=(cond, box, full, sent)),
        mp_context.Process(target=sync.consume, args=(cond, box, full, received)),
    ])
    assert received[:] == sent
    assert full.value == 0


# --- 8. Barrier -------------------------------------------------------------------------------


def test_phased_rounds_every_worker_sees_every_slot(mp_context) -> None:
    parties, rounds = 3, 4
    barrier = mp_context.Barrier(parties, timeout=20)
    slots = mp_context.Array("i", parties, lock=False)
    totals = mp_context.Array("i", parties * rounds, lock=False)
    run([mp_context.Process(target=sync.phased_rounds, args=(i, barrier, slots, totals, rounds)) for i in range(parties)])
    for r in range(rounds):
        right = sum((r + 1) * (i + 1) for i in range(parties))
        assert totals[r * parties:(r + 1) * parties] == [right] * parties


@pytest.mark.parametrize("parties, outcome", [(2, "passed"), (3, "BrokenBarrierError")])
def test_wait_at_barrier_reports_a_missing_party(mp_context, parties: int, outcome: str) -> None:
    barrier, results = mp_context.Barrier(parties), mp_context.Queue()
    waiters = [
        mp_context.Process(target=sync.wait_at_barrier, args=(f"party-{i}", barrier, 5.0 if parties == 2 else 0.3, results))
        for i in range(2)
    ]
    run(waiters)
    assert sorted(results.get(timeout=10) for _ in waiters) == [("party-0", outcome), ("party-1", outcome)]
    assert barrier.broken == (outcome != "passed")


# --- 9. The lock passed in --------------------------------------------------------------------


def test_hold_lock_lets_one_child_in_at_a_time(mp_context) -> None:
    lock, start_line = mp_context.Lock(), mp_context.Barrier(3, timeout=20)
    inside, peak = mp_context.Value("i", 0), mp_context.Value("i", 0)
    run([mp_context.Process(target=sync.hold_lock, args=(lock, start_line, inside, peak, 0.05)) for _ in range(3)])
    assert peak.value == 1
    assert inside.value == 0


def test_hold_lock_with_separate_locks_lets_all_in(mp_context) -> None:
    start_line = mp_context.Barrier(3, timeout=20)
    inside, peak = mp_context.Value("i", 0), mp_context.Value("i", 0)
    # What the article's global lock amounts to under spawn: each child with its own lock.
    # (Keep the locks referenced: a lock dropped by the parent before a spawn child opens it
    # is unlinked, and the child fails with FileNotFoundError.)
    locks = [mp_context.Lock() for _ in range(3)]
    run([
        mp_context.Process(target=sync.hold_lock, args=(lock, start_line, inside, peak, 0.5))
        for lock in locks
    ])
    assert peak.value > 1


# --- 10. Lock ordering and pools --------------------------------------------------------------


def test_take_two_locks_in_opposite_orders_deadlocks(mp_context) -> None:
    lock_a, lock_b = mp_context.Lock(), mp_context.Lock()
    holding, done = mp_context.Queue(), mp_context.Queue()
    start_line = mp_context.Barrier(2, timeout=20)
    workers = [
        mp_context.Process(target=sync.take_two_locks, args=("AB", lock_a, lock_b, holding, start_line, done)),
        mp_context.Process(target=sync.take_two_locks, args=("BA", lock_b, lock_a, holding, start_line, done)),
    ]
    for p in workers:
        p.start()
    try:
        assert sorted(holding.get(timeout=20) for _ in workers) == ["AB", "BA"]
        for p in workers:
            p.join(timeout=0.5)
        assert all(p.is_alive() for p in workers)
        with pytest.raises(queue.Empty):
            done.get(timeout=0.1)
    finally:
        for p in workers:
            p.kill()
            p.join()


def test_take_two_locks_in_one_order_completes(mp_context) -> None:
    lock_a, lock_b = mp_context.Lock(), mp_context.Lock()
    holding, done = mp_context.Queue(), mp_context.Queue()
    workers = [
        mp_context.Process(target=sync.take_two_locks, args=(name, lock_a, lock_b, holding, None, done))
        for name in ("first", "second")
    ]
    run(workers)
    assert sorted(done.get(timeout=10) for _ in workers) == ["first", "second"]
    assert sorted(holding.get(timeout=10) for _ in workers) == ["first", "second"]


def test_pool_add_uses_the_lock_from_the_initializer(mp_context) -> None:
    lock, counter = mp_context.Lock(), mp_context.Value("i", 0, lock=False)
    with mp_context.Pool(2, initializer=sync.install_pool_lock, initargs=(lock, counter)) as pool:
        made = pool.map(sync.pool_add, [500, 700, 300])
    assert made == [500, 700, 300]
    assert counter.value == 1500


def test_a_lock_as_pool_task_argument_is_refused(mp_context) -> None:
    lock, counter = mp_context.Lock(), mp_context.Value("i", 0, lock=False)
    with mp_context.Pool(1) as pool:
        with pytest.raises(helpers.guard.WorkerNotImportableError, match="task argument"):
            pool.apply(sync.record, (lock, counter, counter, 1))


# --- 11. The printer --------------------------------------------------------------------------


def test_append_line_writes_whole_lines(mp_context, tmp_path) -> None:
    lock, log = mp_context.Lock(), tmp_path / "printer.log"
    items = ["tango", "foxtrot", 10, "x" * 5000]
    run([
        mp_context.Process(target=sync.append_line, args=(str(log), item, f"printer-{i}", lock))
        for i, item in enumerate(items)
    ])
    lines = log.read_text(encoding="utf-8").splitlines()
    assert sorted(lines) == sorted(f"{item} (from printer-{i})" for i, item in enumerate(items))


# --- 12. Strategies ---------------------------------------------------------------------------


@pytest.mark.parametrize("strategy", list(sync.STRATEGIES))
def test_each_strategy_counts_n_in_one_process(mp_context, strategy: str) -> None:
    counter = mp_context.Value("i", 5)
    sync.STRATEGIES[strategy](counter, 1234)
    assert counter.value == 5 + 1234


@pytest.mark.parametrize("strategy", [s for s in sync.STRATEGIES if "wrong" not in s])
def test_timed_count_locked_strategies_are_correct(mp_context, strategy: str) -> None:
    counter, times, start_line = mp_context.Value("i", 0), mp_context.Queue(), mp_context.Barrier(2, timeout=20)
    workers = [
        mp_context.Process(target=sync.timed_count, args=(strategy, counter, 10_000, start_line, times))
        for _ in range(2)
    ]
    for p in workers:
        p.start()
    elapsed = [times.get(timeout=30) for _ in workers]
    for p in workers:
        p.join(30)
    assert [p.exitcode for p in workers] == [0, 0]
    assert counter.value == 20_000
    assert all(isinstance(t, float) and t >= 0 for t in elapsed)
