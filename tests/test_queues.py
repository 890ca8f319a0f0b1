"""Unit tests of helpers.queues, the worker code of notebook 03_queue, under each start method."""

from __future__ import annotations

import pickle
import queue
from multiprocessing.connection import wait

import pytest

from tests.conftest import finish_processes
import helpers  # noqa: F401  (applies the start method, installs the guard)
import helpers.queues as hq
from helpers import guard


def run(ctx, target, *args, name: str = "test-child"):
    """Start ``target(*args)`` in a child of ``ctx`` and return the started process."""
    child = ctx.Process(target=target, args=args, name=name)
    child.start()
    return child


def finish(*children) -> list[int | None]:
    """Join children (terminating any that hang) and return their exit codes."""
    return finish_processes(*children, timeout=20)


# --- Producers ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["Queue", "SimpleQueue", "JoinableQueue"])
def test_put_items_sends_every_item_in_order(mp_context, kind) -> None:
    q = getattr(mp_context, kind)()
    child = run(mp_context, hq.put_items, q, ["a", 2, (3,)])
    assert [q.get() for _ in range(3)] == ["a", 2, (3,)]
    assert finish(child) == [0]


def test_put_items_works_with_a_manager_queue(mp_context) -> None:
    with mp_context.Manager() as manager:
        q = manager.Queue()
        child = run(mp_context, hq.put_items, q, [1, 2])
        assert [q.get(timeout=10) for _ in range(2)] == [1, 2]
        assert finish(child) == [0]


def test_put_after_delays_the_item(mp_context) -> None:
    q = mp_context.Queue()
    child = run(mp_context, hq.put_after, q, "late", 0.5)
    # The child sleeps 0.5 s after it starts, so nothing can be there at once.
    with pytest.raises(queue.Empty):
        q.get(timeout=0.1)
    assert q.get(timeout=10) == "late"
    assert finish(child) == [0]


def test_put_payload_blocks_exit_until_read(mp_context) -> None:
    q = mp_context.Queue()
    child = run(mp_context, hq.put_payload, q, 1024 * 1024)
    child.join(timeout=1.5)
    assert child.is_alive()  # its feeder thread waits for a reader: join-before-get deadlock
    data = q.get(timeout=10)
    assert data == b"x" * (1024 * 1024)
    assert finish(child) == [0]


def test_put_payload_small_exits_before_read(mp_context) -> None:
    q = mp_context.Queue()
    child = run(mp_context, hq.put_payload, q, 1000)
    child.join(timeout=20)
    assert child.exitcode == 0
    assert q.get(timeout=10) == b"x" * 1000


def test_put_many_without_flush_exits_and_loses_data(mp_context) -> None:
    q = mp_context.Queue()
    child = run(mp_context, hq.put_many_without_flush, q, 50_000)
    child.join(timeout=20)
    assert child.exitcode == 0  # no deadlock although nobody read
    arrived = hq.drain(q, timeout=0.5)
    assert len(arrived) < 50_000
    assert arrived == list(range(len(arrived)))


def test_greet_puts_the_article_message(mp_context) -> None:
    q = mp_context.Queue()
    child = run(mp_context, hq.greet, q, 7)
    assert q.get(timeout=10) == ["hello7"]
    assert finish(child) == [0]


def test_put_on_module_queue_depends_on_the_start_method(mp_context) -> None:
    hq.module_queue = mp_context.Queue()
    try:
        child = run(mp_context, hq.put_on_module_queue, "hi")
        code = finish(child)[0]
        if mp_context.get_start_method() == "fork":
            assert code == 0
            assert hq.module_queue.get(timeout=10) == "hi"
        else:
            assert code == hq.NO_MODULE_QUEUE
            assert hq.module_queue.empty()
    finally:
        hq.module_queue = None


def test_put_on_module_queue_in_process_uses_the_global() -> None:
    q = queue.Queue()
    hq.module_queue = q
    try:
        hq.put_on_module_queue("x")
    finally:
        hq.module_queue = None
    assert q.get_nowait() == "x"
    with pytest.raises(SystemExit) as exit_info:
        hq.put_on_module_queue("y")
    assert exit_info.value.code == hq.NO_MODULE_QUEUE


@pytest.mark.parametrize("batch", [1, 7, 100])
def test_produce_numbers_waits_for_go_then_sends_all(mp_context, batch) -> None:
    q = mp_context.Queue()
    go = mp_context.Event()
    child = run(mp_context, hq.produce_numbers, q, 250, go, batch)
    assert q.get(timeout=20) == "ready"
    with pytest.raises(queue.Empty):
        q.get(timeout=0.3)  # nothing more before the go-ahead
    go.set()
    numbers = []
    while (message := q.get(timeout=10)) is not hq.SENTINEL:
        if batch == 1:
            assert isinstance(message, int)
            numbers.append(message)
        else:
            assert isinstance(message, list) and len(message) <= batch
            numbers.extend(message)
    assert numbers == list(range(250))
    assert finish(child) == [0]


# --- Consumers ------------------------------------------------------------------------------


def test_work_squares() -> None:
    assert [hq.work(x) for x in (-3, 0, 4)] == [9, 0, 16]


def test_consume_stops_at_the_sentinel_and_skips_it(mp_context) -> None:
    tasks, results = mp_context.Queue(), mp_context.Queue()
    child = run(mp_context, hq.consume, tasks, results, "c1")
    for item in (2, 3, hq.SENTINEL, 99):
        tasks.put(item)
    got = [results.get(timeout=10) for _ in range(2)]
    assert finish(child) == [0]
    assert got == [(2, 4, "c1"), (3, 9, "c1")]
    assert tasks.get(timeout=10) == 99  # what follows the sentinel is left for others
    with pytest.raises(queue.Empty):
        results.get(timeout=0.3)


def test_two_consumers_need_two_sentinels(mp_context) -> None:
    tasks, results = mp_context.Queue(), mp_context.Queue()
    children = [run(mp_context, hq.consume, tasks, results, f"c{i}", name=f"c{i}") for i in (1, 2)]
    for item in range(10):
        tasks.put(item)
    tasks.put(hq.SENTINEL)
    got = [results.get(timeout=10) for _ in range(10)]
    assert len(wait([child.sentinel for child in children], timeout=20)) == 1  # one ends ...
    for child in children:
        child.join(timeout=1)
    assert sum(child.is_alive() for child in children) == 1  # ... the other waits for work
    tasks.put(hq.SENTINEL)
    assert finish(*children) == [0, 0]
    assert sorted(item for item, _, _ in got) == list(range(10))
    assert {name for _, _, name in got} <= {"c1", "c2"}


def test_consume_joinable_marks_every_item_done(mp_context) -> None:
    tasks, results = mp_context.JoinableQueue(), mp_context.Queue()
    child = run(mp_context, hq.consume_joinable, tasks, results, "w")
    for item in range(5):
        tasks.put(item)
    tasks.join()  # returns only if task_done() was called five times
    assert sorted(results.get(timeout=10) for _ in range(5)) == [(i, i * i, "w") for i in range(5)]
    tasks.put(hq.SENTINEL)
    tasks.join()  # the sentinel is marked done too
    assert finish(child) == [0]
    with pytest.raises(ValueError):
        tasks.task_done()  # nothing is left unfinished


def test_article_consumer_stops_on_a_small_int_sentinel(mp_context) -> None:
    q, results = mp_context.Queue(), mp_context.Queue()
    hq.put_items(q, [5, 10, 13, -1])
    child = run(mp_context, hq.consume_like_the_article, q, results, -1)
    assert [results.get(timeout=10) for _ in range(4)] == [10, 20, 26, -2]  # sentinel doubled
    assert finish(child) == [0]


def test_article_consumer_never_stops_on_a_large_int_sentinel(mp_context) -> None:
    q, results = mp_context.Queue(), mp_context.Queue()
    hq.put_items(q, [5, 1000])
    child = run(mp_context, hq.consume_like_the_article, q, results, 1000)
    assert [results.get(timeout=10) for _ in range(2)] == [10, 2000]
    child.join(timeout=1)
    assert child.is_alive()  # `1000 is 1000` was false for the unpickled int
    child.terminate()
    child.join()


def test_consume_until_compares_values_first(mp_context) -> None:
    q, results = mp_context.Queue(), mp_context.Queue()
    hq.put_items(q, [5, 10, 1000, 7])
    child = run(mp_context, hq.consume_until, q, results, 1000)
    assert finish(child) == [0]
    assert [results.get(timeout=10) for _ in range(2)] == [10, 20]
    with pytest.raises(queue.Empty):
        results.get(timeout=0.3)


# --- Pools ----------------------------------------------------------------------------------


def test_report_square_with_a_manager_queue_in_a_pool(mp_context) -> None:
    with mp_context.Manager() as manager:
        q = manager.Queue()
        with mp_context.Pool(2) as pool:
            assert pool.starmap(hq.report_square, [(x, q) for x in range(6)]) == [x * x for x in range(6)]
        assert sorted(q.get(timeout=10) for _ in range(6)) == [(x, x * x) for x in range(6)]


def test_multiprocessing_queue_as_a_pool_task_argument_raises(mp_context) -> None:
    q = mp_context.Queue()
    guard.uninstall()
    try:
        with mp_context.Pool(1) as pool:
            with pytest.raises(RuntimeError, match="through inheritance"):
                pool.apply(hq.report_square, (3, q))
    finally:
        guard.install()


def test_queue_through_the_pool_initializer(mp_context) -> None:
    q = mp_context.Queue()
    with mp_context.Pool(2, initializer=hq.remember_queue, initargs=(q,)) as pool:
        assert pool.map(hq.report_to_remembered_queue, range(6)) == [x * x for x in range(6)]
        assert sorted(q.get(timeout=10) for _ in range(6)) == [(x, x * x) for x in range(6)]


def test_remember_queue_sets_the_worker_queue_in_process() -> None:
    q = queue.Queue()
    try:
        hq.remember_queue(q)
        assert hq.report_to_remembered_queue(4) == 16
    finally:
        hq._worker_queue = None
    assert q.get_nowait() == (4, 16)


# --- Objects and parent-side helpers ----------------------------------------------------------


def test_slow_to_pickle_round_trips() -> None:
    data = pickle.dumps(hq.SlowToPickle("p", seconds=0.2))
    copy = pickle.loads(data)
    assert copy == hq.SlowToPickle("p") and copy.seconds == 0.2
    assert repr(copy) == "SlowToPickle('p')"
    assert hash(copy) == hash(hq.SlowToPickle("p"))
    assert copy != hq.SlowToPickle("q")


def test_slow_to_pickle_makes_empty_a_hint(mp_context) -> None:
    q = mp_context.Queue()
    q.put(hq.SlowToPickle("parcel", seconds=0.5))
    assert hq.queue_size_hint(q) in (1, None)  # None on macOS
    assert q.empty()
    with pytest.raises(queue.Empty):
        q.get_nowait()
    assert q.get(timeout=10) == hq.SlowToPickle("parcel")


def test_queue_size_hint_counts_or_returns_none(mp_context) -> None:
    class NoCount:
        def qsize(self) -> int:
            raise NotImplementedError

    assert hq.queue_size_hint(NoCount()) is None
    q = mp_context.Queue()
    hq.put_items(q, [1, 2, 3])
    try:
        q.qsize()
    except NotImplementedError:  # macOS
        assert hq.queue_size_hint(q) is None
    else:
        assert hq.queue_size_hint(q) == 3
    assert [q.get(timeout=10) for _ in range(3)] == [1, 2, 3]


def test_drain_returns_what_is_there_then_stops(mp_context) -> None:
    q = mp_context.Queue()
    child = run(mp_context, hq.put_items, q, list(range(20)))
    assert finish(child) == [0]
    assert hq.drain(q, timeout=0.2) == list(range(20))
    assert hq.drain(q, timeout=0.2) == []
