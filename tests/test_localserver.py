"""The local web server: 127.0.0.1 only, deterministic pages, a latency, nothing left behind."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from helpers.localserver import LocalServer, page_body


def test_serves_pages_on_loopback_only() -> None:
    with LocalServer(latency=0) as server:
        host, port = server.address
        assert host == "127.0.0.1" and port > 0
        response = requests.get(server.url("/page/3"), timeout=5)
        assert response.status_code == 200
        assert response.content == page_body(3)
        assert b"Page 3" in response.content
        assert requests.get(server.url("/nowhere"), timeout=5).status_code == 404
        assert server.requests_served == 2


def test_pages_differ_and_are_deterministic() -> None:
    assert page_body(1) == page_body(1)
    assert page_body(1) != page_body(2)


def test_latency_is_applied() -> None:
    with LocalServer(latency=0.3) as server:
        start = time.monotonic()
        requests.get(server.url("/page/1"), timeout=5)
        assert time.monotonic() - start >= 0.3  # a lower bound holds on any machine


def test_stop_leaves_no_thread_and_closes_the_port() -> None:
    before = set(threading.enumerate())
    server = LocalServer(latency=0).start()
    url = server.url("/page/1")
    requests.get(url, timeout=5)
    server.stop()
    assert set(threading.enumerate()) - before == set()
    with pytest.raises(requests.ConnectionError):
        requests.get(url, timeout=2)
    with pytest.raises(RuntimeError, match="not running"):
        server.url("/")


def test_many_simultaneous_clients_are_served_together() -> None:
    from concurrent.futures import ThreadPoolExecutor

    with LocalServer(latency=0.5) as server:
        urls = [server.url(f"/page/{n}") for n in range(16)]
        with ThreadPoolExecutor(16) as pool:
            start = time.monotonic()
            bodies = list(pool.map(lambda u: requests.get(u, timeout=10).content, urls))
            elapsed = time.monotonic() - start
    assert bodies == [page_body(n) for n in range(16)]
    assert elapsed < 16 * 0.5  # served concurrently, not one after another


def test_stop_joins_request_threads_even_after_a_client_gave_up() -> None:
    before = set(threading.enumerate())
    with LocalServer(latency=0.5) as server:
        with pytest.raises(requests.Timeout):
            requests.get(server.url("/page/1"), timeout=0.1)
    assert set(threading.enumerate()) - before == set()
