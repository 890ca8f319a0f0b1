"""The workers, served classes and worker program of notebook 07_manager, under each start method."""

from __future__ import annotations

import multiprocessing
import os
import secrets
import subprocess
import sys
import threading

import pytest

import helpers  # noqa: F401  (applies MP_START_METHOD, installs the guard)
from helpers import managers
from helpers.localserver import LocalServer, page_body
from tests.conftest import ROOT, run_processes as run

managers.CourseManager.register("Tally", managers.Tally)
managers.CourseManager.register("board", callable=managers.shared_board)


@pytest.fixture
def manager(mp_context):
    """A SyncManager whose server is started with the start method under test."""
    with mp_context.Manager() as m:
        yield m


# --- 3. The proxies of Manager() -------------------------------------------------------------


def test_record_visit_reaches_the_servers_list_and_dict(mp_context, manager) -> None:
    log, lengths = manager.list(), manager.dict()
    run([mp_context.Process(target=managers.record_visit, args=(log, lengths, name)) for name in ("ab", "cde")])
    assert sorted(log) == ["ab", "cde"]
    assert lengths.copy() == {"ab": 2, "cde": 3}


def test_sum_into_namespace_writes_total_and_name(mp_context, manager) -> None:
    ns = manager.Namespace()
    ns.limit = 10
    run([mp_context.Process(target=managers.sum_into_namespace, args=(ns,), name="summer")])
    assert (ns.total, ns.done_by) == (45, "summer")


def test_put_square_from_pool_tasks(mp_context, manager) -> None:
    results = manager.Queue()
    with mp_context.Pool(2) as pool:
        pool.starmap(managers.put_square, [(results, x) for x in range(4)])
    assert sorted(results.get(timeout=10) for _ in range(4)) == [(0, 0), (1, 1), (2, 4), (3, 9)]
    assert results.empty()


def test_add_with_lock_counts_every_increment(mp_context, manager) -> None:
    lock, counter = manager.Lock(), manager.Value("i", 0)
    run([mp_context.Process(target=managers.add_with_lock, args=(lock, counter, 50)) for _ in range(3)])
    assert counter.value == 150
    assert lock.acquire(False), "add_with_lock must leave the lock free"
    lock.release()


def test_fill_slot_sets_only_its_index(mp_context, manager) -> None:
    array = manager.Array("i", [-1] * 4)
    run([mp_context.Process(target=managers.fill_slot, args=(array, 3))])
    assert list(array[:]) == [-1, -1, -1, 9]


def test_wait_for_start_returns_true_once_the_event_is_set(mp_context, manager) -> None:
    ready, start = manager.Queue(), manager.Event()
    with mp_context.Pool(1) as pool:
        result = pool.apply_async(managers.wait_for_start, (ready, start, "task-0"))
        assert ready.get(timeout=10) == "task-0"
        assert not result.ready()
        start.set()
        assert result.get(timeout=10) is True


def test_wait_for_start_returns_false_when_nobody_sets_the_event(manager, monkeypatch) -> None:
    monkeypatch.setattr(managers, "WAIT_LIMIT", 0.1)
    ready, start = manager.Queue(), manager.Event()
    assert managers.wait_for_start(ready, start, "alone") is False
    assert ready.get(timeout=1) == "alone"


def test_one_at_a_time_lets_one_task_in_at_once(mp_context, manager) -> None:
    slots, log = manager.Semaphore(1), manager.list()
    run([mp_context.Process(target=managers.one_at_a_time, args=(slots, log, f"t{i}", 0.02)) for i in range(3)])
    entries = log[:]
    assert len(entries) == 6
    assert managers.most_inside(entries) == 1
    assert sorted(name for event, name in entries if event == "enter") == ["t0", "t1", "t2"]


def test_one_at_a_time_gives_up_without_a_slot(manager, monkeypatch) -> None:
    monkeypatch.setattr(managers, "WAIT_LIMIT", 0.1)
    slots, log = manager.Semaphore(0), manager.list()
    with pytest.raises(TimeoutError):
        managers.one_at_a_time(slots, log, "late", 0.0)
    assert log[:] == []


@pytest.mark.parametrize(
    "log, peak",
    [
        ([], 0),
        ([("enter", "a"), ("leave", "a"), ("enter", "b"), ("leave", "b")], 1),
        ([("enter", "a"), ("enter", "b"), ("leave", "a"), ("enter", "c"), ("leave", "b"), ("leave", "c")], 2),
    ],
)
def test_most_inside(log, peak) -> None:
    assert managers.most_inside(log) == peak


def test_wait_for_items_sees_the_items_once_there(mp_context, manager) -> None:
    cond, items = manager.Condition(), manager.list()
    with mp_context.Pool(1) as pool:
        waiter = pool.apply_async(managers.wait_for_items, (cond, items, 2))
        for item in ("x", "y"):
            with cond:
                items.append(item)
                cond.notify_all()
        assert waiter.get(timeout=15) == ["x", "y"]


def test_wait_for_items_gives_up_with_none(manager, monkeypatch) -> None:
    monkeypatch.setattr(managers, "WAIT_LIMIT", 0.1)
    assert managers.wait_for_items(manager.Condition(), manager.list([1]), 2) is None


def test_meet_at_barrier_gives_each_party_its_own_index(mp_context, manager) -> None:
    barrier = manager.Barrier(2)
    with mp_context.Pool(2) as pool:
        assert sorted(pool.map(managers.meet_at_barrier, [barrier, barrier])) == [0, 1]


# --- 7. Nested mutation, and += on a proxy -----------------------------------------------------


def test_append_to_nested_plain_list_is_lost(mp_context, manager) -> None:
    shared = manager.dict({"k": []})
    run([mp_context.Process(target=managers.append_to_nested, args=(shared, "k", 1))])
    assert shared["k"] == []


def test_append_to_nested_proxy_is_kept(mp_context, manager) -> None:
    shared = manager.dict()
    shared["k"] = manager.list()
    run([mp_context.Process(target=managers.append_to_nested, args=(shared, "k", i)) for i in range(3)])
    assert sorted(shared["k"]) == [0, 1, 2]


def test_append_copy_back_keeps_every_item(mp_context, manager) -> None:
    shared, lock = manager.dict({"k": []}), manager.Lock()
    run([mp_context.Process(target=managers.append_copy_back, args=(shared, lock, "k", i)) for i in range(4)])
    assert sorted(shared["k"]) == [0, 1, 2, 3]


def test_increment_in_step_loses_one_update(mp_context, manager) -> None:
    counter, barrier = manager.Value("i", 5), manager.Barrier(2)
    run([mp_context.Process(target=managers.increment_in_step, args=(counter, barrier)) for _ in range(2)])
    assert counter.value == 6  # two increments, one lost


# --- 8. The articles' versions ----------------------------------------------------------------


def test_store_square(mp_context, manager) -> None:
    d = manager.dict()
    run([mp_context.Process(target=managers.store_square, args=(d, i)) for i in (3, 7)])
    assert d.copy() == {3: 9, 7: 49}


def test_fill_like_article_004(mp_context, manager) -> None:
    d, lst = manager.dict(), manager.list(range(4))
    run([mp_context.Process(target=managers.fill_like_article_004, args=(d, lst))])
    assert d.copy() == {1: "1", "2": 2, 0.25: None}
    assert lst[:] == [3, 2, 1, 0]


# --- 5. Tally and CourseManager ---------------------------------------------------------------


def test_tally_counts_per_name() -> None:
    tally = managers.Tally()
    assert tally.add("b") == 1
    assert tally.add("a", 5) == 5
    assert tally.add("b", 2) == 3
    assert tally.by_name() == {"a": 5, "b": 3}
    assert list(tally.by_name()) == ["a", "b"]
    assert tally.total() == 8


def test_tally_is_thread_safe() -> None:
    # A manager's server runs each client in its own thread. Switching threads very often
    # makes an unlocked read-add-write lose updates in almost every run.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        tally = managers.Tally()
        threads = [threading.Thread(target=lambda: [tally.add("x") for _ in range(20_000)]) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert tally.total() == 80_000


def test_course_manager_serves_a_tally_to_processes(mp_context) -> None:
    with managers.CourseManager(ctx=mp_context) as m:
        tally = m.Tally()
        run([mp_context.Process(target=managers.add_to_tally, args=(tally, name, 20)) for name in ("n", "s")])
        assert tally.by_name() == {"n": 20, "s": 20}
        assert set(tally._exposed_) == {"add", "total", "by_name"}
        with pytest.raises(AttributeError):
            tally._counts  # noqa: B018 (a proxy forwards methods, not attributes)


# --- 6. TaskBoard, the remote manager and the worker program --------------------------------


def test_task_board_hands_out_each_task_once() -> None:
    board = managers.TaskBoard()
    for task in ("a", "b"):
        board.add(task)
    assert board.counts() == {"waiting": 2, "taken": 0, "done": 0}
    assert board.take() == "a"
    assert board.counts() == {"waiting": 1, "taken": 1, "done": 0}
    board.report("a", 1)
    assert board.take() == "b"
    assert board.take() is None
    board.report("b", 2)
    assert board.results() == {"a": 1, "b": 2}
    assert board.counts() == {"waiting": 0, "taken": 0, "done": 2}


def test_task_board_refuses_a_report_for_an_untaken_task() -> None:
    board = managers.TaskBoard()
    board.add("a")
    with pytest.raises(KeyError):
        board.report("a", 1)


def test_shared_board_is_one_board_per_process(monkeypatch) -> None:
    monkeypatch.setattr(managers, "_board", None)
    first = managers.shared_board()
    assert isinstance(first, managers.TaskBoard)
    assert managers.shared_board() is first


@pytest.mark.parametrize("text, address", [("127.0.0.1:80", ("127.0.0.1", 80)), ("::1:5000", ("::1", 5000))])
def test_parse_address(text, address) -> None:
    assert managers.parse_address(text) == address


@pytest.mark.parametrize("text", ["127.0.0.1", ":80", "host:port"])
def test_parse_address_rejects(text) -> None:
    with pytest.raises(ValueError):
        managers.parse_address(text)


def test_fetch_size_and_crawl_with_a_local_board() -> None:
    board = managers.TaskBoard()
    with LocalServer(latency=0.0) as web:
        assert managers.fetch_size(web.url("/page/2")) == len(page_body(2))
        for n in range(3):
            board.add(web.url(f"/page/{n}"))
        assert managers.crawl(board, "me") == 3
        results = board.results()
    assert sorted(size for size, _ in results.values()) == sorted(len(page_body(n)) for n in range(3))
    assert {name for _, name in results.values()} == {"me"}


@pytest.fixture
def central(mp_context):
    """A CourseManager serving the board on 127.0.0.1 (a free port), and its authkey."""
    authkey = secrets.token_bytes(16)
    server = managers.CourseManager(address=("127.0.0.1", 0), authkey=authkey, ctx=mp_context)
    server.start()
    try:
        yield server, authkey
    finally:
        server.shutdown()


def test_central_listens_on_localhost_only(central) -> None:
    server, _ = central
    host, port = server.address
    assert host == "127.0.0.1" and port > 0


def test_run_worker_crawls_the_remote_board(central) -> None:
    server, authkey = central
    board = server.board()
    with LocalServer(latency=0.0) as web:
        for n in range(4):
            board.add(web.url(f"/page/{n}"))
        assert managers.run_worker(server.address, authkey, "w") == 4
    assert board.counts() == {"waiting": 0, "taken": 0, "done": 4}


def test_a_wrong_authkey_is_refused(central) -> None:
    server, authkey = central
    with pytest.raises(multiprocessing.AuthenticationError):
        managers.BoardClient(address=server.address, authkey=authkey + b"x").connect()
    with pytest.raises(multiprocessing.AuthenticationError):
        managers.run_worker(server.address, b"wrong", "w")
    managers.BoardClient(address=server.address, authkey=authkey).connect()  # still serving


def test_shutdown_closes_the_address(mp_context) -> None:
    authkey = secrets.token_bytes(16)
    server = managers.CourseManager(address=("127.0.0.1", 0), authkey=authkey, ctx=mp_context)
    server.start()
    address = server.address
    server.shutdown()
    with pytest.raises(ConnectionRefusedError):
        managers.BoardClient(address=address, authkey=authkey).connect()


def worker_program(address, authkey: bytes, name: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, **{managers.AUTHKEY_VARIABLE: authkey.hex()})
    return subprocess.run(
        [sys.executable, "-m", "helpers.managers", "--address", f"{address[0]}:{address[1]}", "--name", name],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=60,
    )


def test_worker_program_does_the_tasks(central) -> None:
    server, authkey = central
    board = server.board()
    with LocalServer(latency=0.0) as web:
        for n in range(3):
            board.add(web.url(f"/page/{n}"))
        done = worker_program(server.address, authkey, "prog")
    assert (done.returncode, done.stdout) == (0, "prog: 3 tasks done\n")
    assert {name for _, name in board.results().values()} == {"prog"}


def test_worker_program_with_a_wrong_key_exits_refused(central) -> None:
    server, authkey = central
    server.board().add("never-fetched")
    done = worker_program(server.address, secrets.token_bytes(16), "intruder")
    assert done.returncode == managers.REFUSED == 3
    assert "AuthenticationError" in done.stderr
    assert server.board().counts() == {"waiting": 1, "taken": 0, "done": 0}


def test_main_needs_the_authkey_variable(monkeypatch) -> None:
    monkeypatch.delenv(managers.AUTHKEY_VARIABLE, raising=False)
    with pytest.raises(SystemExit) as exit_info:
        managers.main(["--address", "127.0.0.1:1", "--name", "w"])
    assert exit_info.value.code == 2  # argparse's usage error, not REFUSED
    assert managers.REFUSED != 2
