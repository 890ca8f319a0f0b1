"""helpers.futures: the workers of notebook 10, run in real executors under each start method."""

from __future__ import annotations

import os
import socket
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import pytest
import requests

import helpers  # noqa: F401  (installs the guard)
from helpers import futures
from helpers.localserver import LocalServer, page_body


def test_nap_and_worker_pid_in_a_process_pool(mp_context) -> None:
    with ProcessPoolExecutor(max_workers=2, mp_context=mp_context) as executor:
        assert executor.submit(futures.nap, 0.01).result(timeout=60) == 0.01
        pairs = list(executor.map(futures.worker_pid, range(4)))
    assert [x for x, _ in pairs] == [0, 1, 2, 3]
    assert os.getpid() not in {pid for _, pid in pairs}


def test_worker_pid_in_a_thread_pool_is_this_process() -> None:
    with ThreadPoolExecutor(max_workers=2) as executor:
        assert {pid for _, pid in executor.map(futures.worker_pid, range(4))} == {os.getpid()}


def test_fail_after_raises_its_message_in_the_parent(mp_context) -> None:
    with ProcessPoolExecutor(max_workers=1, mp_context=mp_context) as executor:
        error = executor.submit(futures.fail_after, 0.01, "bad input").exception(timeout=60)
    assert isinstance(error, ValueError)
    assert str(error) == "bad input"


def test_parse_price_and_its_remote_traceback(mp_context) -> None:
    assert futures.parse_price("12.50 EUR") == 12.5
    assert futures.parse_price("7") == 7.0
    with pytest.raises(ValueError, match="no amount in 'twelve'"):
        futures.parse_price("twelve EUR")
    with pytest.raises(ValueError, match="no amount in ''"):
        futures.parse_price("")
    with ProcessPoolExecutor(max_workers=1, mp_context=mp_context) as executor:
        assert executor.submit(futures.parse_price, "3.25 USD").result(timeout=60) == 3.25
        error = executor.submit(futures.parse_price, "twelve EUR").exception(timeout=60)
    assert isinstance(error, ValueError)
    remote = str(error.__cause__)  # the worker's traceback, sent back as text
    assert "in parse_price" in remote and "in _amount" in remote


def test_read_setting_sees_the_parents_change_only_under_fork(mp_context, monkeypatch) -> None:
    monkeypatch.setattr(futures, "SETTING", "changed in the parent")
    with ProcessPoolExecutor(max_workers=1, mp_context=mp_context) as executor:
        seen = executor.submit(futures.read_setting).result(timeout=60)
    expected = "changed in the parent" if mp_context.get_start_method() == "fork" else "as imported"
    assert seen == expected


def test_initializer_tags_every_task_and_counts_per_worker(mp_context) -> None:
    with ProcessPoolExecutor(max_workers=1, mp_context=mp_context, initializer=futures.init_worker,
                             initargs=("tag-a",)) as executor:
        results = [executor.submit(futures.tagged_task, i).result(timeout=60) for i in range(4)]
    assert [tag for tag, _, _ in results] == ["tag-a"] * 4
    assert len({pid for _, pid, _ in results}) == 1
    assert [count for _, _, count in results] == [1, 2, 3, 4]


def test_tagged_task_in_a_thread_pool_uses_this_process_globals() -> None:
    with ThreadPoolExecutor(max_workers=1) as executor:  # the threads share this module's globals
        futures.init_worker("in-this-process")
        tag, pid, count = executor.submit(futures.tagged_task, 0).result(timeout=10)
    assert (tag, pid, count) == ("in-this-process", os.getpid(), 1)
    futures.init_worker(None)  # type: ignore[arg-type]


def test_max_tasks_per_child_replaces_the_worker(start_method) -> None:
    if start_method == "fork":
        pytest.skip("max_tasks_per_child refuses the fork start method")
    import multiprocessing

    context = multiprocessing.get_context(start_method)
    with ProcessPoolExecutor(max_workers=1, max_tasks_per_child=2, mp_context=context) as executor:
        # One at a time: a backlog hangs before the fix of CPython gh-115634.
        results = [executor.submit(futures.tagged_task, i).result(timeout=60) for i in range(6)]
    assert sorted(Counter(pid for _, pid, _ in results).values()) == [2, 2, 2]
    assert [count for _, _, count in results] == [1, 2, 1, 2, 1, 2]


def test_exit_abruptly_breaks_the_executor(mp_context) -> None:
    with ProcessPoolExecutor(max_workers=2, mp_context=mp_context) as executor:
        list(executor.map(futures.nap, [0.05, 0.05]))  # both workers watched before one dies
        other = executor.submit(futures.nap, 5.0)
        doomed = executor.submit(futures.exit_abruptly, 3)
        assert isinstance(doomed.exception(timeout=60), BrokenProcessPool)
        assert isinstance(other.exception(timeout=60), BrokenProcessPool)
        with pytest.raises(BrokenProcessPool):
            executor.submit(futures.nap, 0.01)


def test_fetch_returns_the_page_in_a_process_pool(mp_context) -> None:
    with LocalServer(latency=0) as server:
        urls = [server.url(f"/page/{n}") for n in range(4)]
        with ProcessPoolExecutor(max_workers=2, mp_context=mp_context) as executor:
            pages = list(executor.map(futures.fetch, urls))
        served = server.requests_served
    assert pages == [page_body(n) for n in range(4)]
    assert served == 4


def test_fetch_raises_for_an_error_status() -> None:
    with LocalServer(latency=0) as server:
        with pytest.raises(requests.HTTPError) as caught:
            futures.fetch(server.url("/missing"))
    assert caught.value.response.status_code == 404


def test_fetch_times_out_on_a_server_that_never_answers() -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/page/1"
        with pytest.raises(requests.Timeout):
            futures.fetch(url, timeout=0.2)


def test_fetch_ignores_a_proxy_in_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    with LocalServer(latency=0) as server:
        assert futures.fetch(server.url("/page/5")) == page_body(5)
