"""helpers.pools: the workers and initializers of notebook 08, run in real pools."""

from __future__ import annotations

import math
import multiprocessing
import multiprocessing.dummy
import os
import signal
import time
from collections import Counter

import pytest

import helpers  # noqa: F401  (installs the guard)
from helpers import pools
from helpers.localserver import LocalServer, page_body


def test_small_workers_in_a_pool(mp_context) -> None:
    with mp_context.Pool(2) as pool:
        assert pool.map(pools.double, [5, 10, 20]) == [10, 20, 40]
        assert pool.starmap(pools.power, [(2, 10), (3, 2)]) == [1024, 9]
        assert pool.apply(pools.slow_square, (7, 0.01)) == 49
        assert sorted(pool.imap_unordered(pools.nap, [0.02, 0.01])) == [0.01, 0.02]
        assert pool.apply(pools.sleep_then_return, (0.01, "late")) == "late"


def test_checked_root_raises_in_the_parent(mp_context) -> None:
    with mp_context.Pool(1) as pool:
        assert pool.apply(pools.checked_root, (16,)) == 4.0
        with pytest.raises(ValueError, match=r"checked_root\(-1\): negative input"):
            pool.apply(pools.checked_root, (-1,))
        assert pool.apply(pools.checked_root, (9,)) == 3.0  # the worker survived the error


def test_worker_pid_is_a_worker(mp_context) -> None:
    with mp_context.Pool(2) as pool:
        pairs = pool.map(pools.worker_pid, range(6))
    assert [x for x, _ in pairs] == list(range(6))
    assert os.getpid() not in {pid for _, pid in pairs}


def test_worker_pid_in_a_thread_pool_is_this_process() -> None:
    with multiprocessing.dummy.Pool(3) as pool:
        assert {pid for _, pid in pool.map(pools.worker_pid, range(6))} == {os.getpid()}


def test_initializer_runs_once_per_worker(mp_context) -> None:
    with mp_context.Pool(1, initializer=pools.init_worker, initargs=("tag-a",)) as pool:
        results = pool.map(pools.tagged_square, range(5), chunksize=1)
    assert [tag for tag, _, _ in results] == ["tag-a"] * 5
    assert [count for _, count, _ in results] == [1, 2, 3, 4, 5]
    assert [square for _, _, square in results] == [0, 1, 4, 9, 16]


def test_maxtasksperchild_recycles_the_worker(mp_context) -> None:
    with mp_context.Pool(1, maxtasksperchild=2) as pool:
        pairs = pool.map(pools.worker_pid, range(6), chunksize=1)
    assert list(Counter(pid for _, pid in pairs).values()) == [2, 2, 2]


def test_configure_sets_the_setting_in_every_worker(mp_context) -> None:
    with mp_context.Pool(2, initializer=pools.configure, initargs=("from initargs",)) as pool:
        assert set(pool.map(pools.read_setting, range(4))) == {"from initargs"}
    assert pools.SETTING == "as imported"  # the parent's copy is untouched


def test_read_setting_sees_the_parents_change_only_under_fork(mp_context, monkeypatch) -> None:
    monkeypatch.setattr(pools, "SETTING", "changed in the parent")
    with mp_context.Pool(1) as pool:
        seen = pool.apply(pools.read_setting)
    expected = "changed in the parent" if mp_context.get_start_method() == "fork" else "as imported"
    assert seen == expected


def test_ignore_sigint_makes_workers_survive_sigint(mp_context) -> None:
    if os.name != "posix":
        pytest.skip("SIGINT to another process is POSIX-only")
    with mp_context.Pool(1, initializer=pools.ignore_sigint) as pool:
        assert pool.apply(pools.sigint_ignored) is True
        (worker,) = multiprocessing.active_children()
        os.kill(worker.pid, signal.SIGINT)
        assert pool.apply(pools.double, (4,)) == 8
        assert worker.is_alive()
        # press_ctrl_c: the same for the workers given, and a KeyboardInterrupt here.
        with pytest.raises(KeyboardInterrupt):
            pools.press_ctrl_c([worker.pid])
        assert pool.apply(pools.double, (5,)) == 10
        assert worker.is_alive()
    with mp_context.Pool(1) as pool:
        assert pool.apply(pools.sigint_ignored) is False


def test_exit_abruptly_loses_the_task_and_the_pool_replaces_the_worker(mp_context) -> None:
    with mp_context.Pool(1) as pool:
        (first,) = multiprocessing.active_children()
        lost = pool.apply_async(pools.exit_abruptly, (3,))
        with pytest.raises(multiprocessing.TimeoutError):
            lost.get(timeout=1)
        deadline = time.monotonic() + 5
        while first.exitcode is None and time.monotonic() < deadline:
            time.sleep(0.05)  # the pool's own thread reaps the dead worker
        assert first.exitcode == 3
        assert pool.apply(pools.double, (2,)) == 4  # a replacement worker took over


def test_long_time_task_reports_name_worker_and_duration(mp_context) -> None:
    with mp_context.Pool(2) as pool:
        reports = pool.starmap(pools.long_time_task, [(0, 0.01), (1, 0.05)])
    assert [name for name, _, _ in reports] == [0, 1]
    assert all(pid != os.getpid() for _, pid, _ in reports)
    assert reports[1][2] >= 0.05


def test_fetch_page_in_process_and_thread_pools(mp_context) -> None:
    with LocalServer(latency=0.01) as server:
        urls = [server.url(f"/page/{n}") for n in range(4)]
        with mp_context.Pool(2) as pool:
            by_processes = pool.map(pools.fetch_page, urls)
        with multiprocessing.dummy.Pool(4) as pool:
            by_threads = pool.map(pools.fetch_page, urls)
        assert server.requests_served == 8
    assert by_processes == by_threads == [page_body(n) for n in range(4)]


@pytest.mark.parametrize("items, workers", [(0, 2), (1, 2), (8, 2), (9, 2), (100, 2), (10_000, 2), (7, 3)])
def test_default_chunksize_is_cpythons(items: int, workers: int) -> None:
    assert pools.default_chunksize(items, workers) == (math.ceil(items / (4 * workers)) if items else 0)
    with multiprocessing.dummy.Pool(workers) as pool:  # the same Pool code, without processes
        assert pool.map_async(pools.double, range(items))._chunksize == pools.default_chunksize(items, workers)


def test_a_pool_task_cannot_start_a_pool_but_an_executor_task_can(mp_context) -> None:
    from concurrent.futures import ProcessPoolExecutor

    from helpers.pools import doubles_in_own_pool, is_daemon

    with mp_context.Pool(1) as pool:
        assert pool.apply(is_daemon) is True
        with pytest.raises(AssertionError, match="daemonic processes are not allowed to have children"):
            pool.apply(doubles_in_own_pool, ([1, 2],))
    with ProcessPoolExecutor(1, mp_context=mp_context) as executor:
        assert executor.submit(is_daemon).result() is False
        assert executor.submit(doubles_in_own_pool, [1, 2]).result() == [2, 4]
