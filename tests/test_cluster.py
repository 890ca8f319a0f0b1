"""helpers.cluster: the tasks of notebook 13 in real pools, and its Dask tools with real
programs on 127.0.0.1 (a scheduler, workers, a port in use). Relations only, never speed."""

from __future__ import annotations

import copy
import logging
import os
import socket
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

import helpers  # noqa: F401  (installs the guard)
from helpers import cluster
from helpers.workloads import count_primes


@pytest.fixture
def dask_settings(monkeypatch):
    """Let a test call configure_dask: its environment variables, Dask's config and the
    log levels it changes are put back afterwards."""
    import dask
    import distributed  # noqa: F401  (adds its defaults to Dask's config before the copy)

    for name in ("DASK_LOGGING__DISTRIBUTED", "DASK_DISTRIBUTED__DIAGNOSTICS__NVML"):
        monkeypatch.delenv(name, raising=False)
    saved = copy.deepcopy(dask.config.config)
    levels = {name: logging.getLogger(name).level for name in list(logging.root.manager.loggerDict)
              if name.startswith("distributed")}
    yield
    dask.config.config.clear()
    dask.config.config.update(saved)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


# --- Tasks ---------------------------------------------------------------------------------------


def test_small_tasks_return_what_they_say() -> None:
    assert cluster.add(2, 3) == 5
    assert cluster.total_length([b"ab", b"cde"], 7) == (7, 5)
    assert cluster.nap_then(0.01, "done") == "done"


def test_remember_changes_only_the_state_of_the_process_that_runs_it(mp_context) -> None:
    before = cluster.shared_in_this_process()
    with ProcessPoolExecutor(max_workers=1, mp_context=mp_context) as executor:
        results = list(executor.map(cluster.remember, ["a", "b", "c"]))
    # One worker ran all three: its list grew; this process's list did not change.
    assert [x for x, _ in results] == ["a", "b", "c"]
    assert [n for _, n in results] == sorted(n for _, n in results)
    assert results[-1][1] - results[0][1] == 2
    assert cluster.shared_in_this_process() == before


def test_kill_own_process_breaks_a_process_pool(mp_context) -> None:
    with ProcessPoolExecutor(max_workers=1, mp_context=mp_context) as executor:
        future = executor.submit(cluster.kill_own_process)
        assert isinstance(future.exception(timeout=60), BrokenProcessPool)


def test_count_all_runs_on_any_executor_and_keeps_the_order() -> None:
    limits = [3_000, 1_000, 2_000]
    expected = [count_primes(n) for n in limits]
    with ThreadPoolExecutor(max_workers=2) as executor:
        assert cluster.count_all(executor, limits) == expected


def test_library_call_follows_parallel_config() -> None:
    from joblib import parallel_config

    with parallel_config(backend="threading", n_jobs=2):
        ran = cluster.library_call(range(5))
    assert [item for item, _ in ran] == list(range(5))
    assert {pid for _, pid in ran} == {os.getpid()}


def test_loky_workers_are_counted_until_shut_down() -> None:
    from joblib import Parallel, delayed
    from joblib.externals import loky

    try:
        assert Parallel(n_jobs=2)(delayed(cluster.add)(i, 1) for i in range(4)) == [1, 2, 3, 4]
        assert cluster.loky_workers() >= 1
        assert cluster.running_programs() >= cluster.loky_workers()
    finally:
        loky.get_reusable_executor().shutdown(wait=True)
    assert cluster.wait_until(lambda: cluster.loky_workers() == 0, timeout=30)


def test_wait_until_returns_the_last_answer() -> None:
    assert cluster.wait_until(lambda: True, timeout=0)
    started = time.monotonic()
    assert not cluster.wait_until(lambda: False, timeout=0.3, interval=0.05)
    assert time.monotonic() - started >= 0.3


# --- Dashboard link ----------------------------------------------------------------------------


def test_dashboard_link_is_direct_outside_jupyterhub_and_proxied_under_it() -> None:
    assert not cluster.under_jupyterhub({})
    assert cluster.dashboard_link_template({}) == cluster.DEFAULT_LINK
    assert cluster.fill_link(cluster.DEFAULT_LINK, 8787, {}) == "http://127.0.0.1:8787/status"
    hub = {"JUPYTERHUB_SERVICE_PREFIX": "/user/someone/"}
    assert cluster.under_jupyterhub(hub)
    assert cluster.dashboard_link_template(hub) == cluster.PROXY_LINK
    assert cluster.fill_link(cluster.PROXY_LINK, 8787, hub) == "/user/someone/proxy/8787/status"


def test_configure_dask_sets_the_link_and_a_quiet_environment(tmp_path, dask_settings) -> None:
    import dask

    settings = cluster.configure_dask(tmp_path, allowed_failures=2)
    assert os.environ["DASK_LOGGING__DISTRIBUTED"] == "error"
    assert dask.config.get("distributed.scheduler.allowed-failures") == 2
    assert dask.config.get("temporary-directory") == str(tmp_path)
    assert dask.config.get("distributed.dashboard.link") == cluster.dashboard_link_template()
    assert settings["distributed.scheduler.allowed-failures"] == 2
    assert logging.getLogger("distributed").level == logging.CRITICAL


# --- Programs -----------------------------------------------------------------------------------


def test_commands_bind_to_loopback_and_read_as_typed(tmp_path) -> None:
    file = tmp_path / "scheduler.json"
    scheduler = cluster.scheduler_command(file, port=8786)
    assert scheduler[:3] == [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    assert scheduler[scheduler.index("--host") + 1] == "127.0.0.1"
    assert scheduler[scheduler.index("--port") + 1] == "8786"
    assert cluster.command_line(scheduler).startswith("dask scheduler --host 127.0.0.1")
    worker = cluster.worker_command(file, "w", nworkers=3, nthreads=2)
    assert worker[worker.index("--nworkers") + 1] == "3"
    assert worker[worker.index("--nthreads") + 1] == "2"
    assert worker[worker.index("--host") + 1] == "127.0.0.1"
    assert cluster.command_line(worker).startswith("dask worker --scheduler-file ")
    assert cluster.command_line(["ls", "-l"]) == "ls -l"


def test_read_scheduler_file_waits_for_a_complete_file(tmp_path) -> None:
    file = tmp_path / "scheduler.json"
    assert cluster.read_scheduler_file(file) is None
    file.write_text('{"addr')  # being written
    assert cluster.read_scheduler_file(file) is None
    file.write_text('{"address": "tcp://127.0.0.1:1234", "type": "Scheduler"}')
    assert cluster.read_scheduler_file(file) == "tcp://127.0.0.1:1234"


def test_port_taken_by_me_is_in_use() -> None:
    sock, port = cluster.port_taken_by_me()
    with sock, socket.socket() as other:
        with pytest.raises(OSError):
            other.bind((cluster.HOST, port))


def test_a_scheduler_on_a_port_in_use_fails_fast_and_says_why(tmp_path, dask_settings) -> None:
    cluster.configure_dask(tmp_path / "dask")
    sock, port = cluster.port_taken_by_me()
    with sock:
        started = time.monotonic()
        with pytest.raises(cluster.ClusterStartError) as caught:
            cluster.start_scheduler(tmp_path, port=port, timeout=60)
        took = time.monotonic() - started
    message = str(caught.value)
    assert f"127.0.0.1:{port} is already in use" in message
    assert "Address already in use" in message
    assert took < 60  # it saw the program exit; it did not wait for the timeout


class _NoWorkers:
    """A stand-in for a Client whose scheduler has no workers."""

    def nthreads(self) -> dict:
        return {}


def test_wait_for_workers_reports_a_worker_program_that_exits(tmp_path, dask_settings) -> None:
    cluster.configure_dask(tmp_path / "dask")
    # No scheduler will ever write this file: the worker gives up after its death timeout.
    program = cluster.start_worker(tmp_path, "lonely", death_timeout=1)
    try:
        with pytest.raises(cluster.ClusterStartError, match="worker lonely program exited"):
            cluster.wait_for_workers(_NoWorkers(), 1, [program], timeout=60)
    finally:
        program.stop()
    assert not program.running()


def test_wait_for_workers_times_out() -> None:
    with pytest.raises(cluster.ClusterStartError, match="0 of 1 workers joined"):
        cluster.wait_for_workers(_NoWorkers(), 1, [], timeout=0.3)


def test_scheduler_and_workers_as_programs_compute_and_stop(tmp_path, dask_settings) -> None:
    from distributed import Client

    cluster.configure_dask(tmp_path / "dask")
    scheduler, address = cluster.start_scheduler(tmp_path, timeout=60)
    programs = [scheduler]
    try:
        assert address.startswith("tcp://127.0.0.1:")
        workers = cluster.start_worker(tmp_path, "pair", nworkers=2)
        programs.insert(0, workers)
        with Client(scheduler_file=str(Path(tmp_path) / "scheduler.json"), timeout=60) as client:
            assert cluster.wait_for_workers(client, 2, programs, timeout=120) == 2
            assert client.gather(client.map(count_primes, [100, 1_000])) == [25, 168]
            names = set(client.gather(client.map(cluster.worker_name, range(6), pure=False)))
            assert names <= {"pair-0", "pair-1"} and names
            client.shutdown()
        codes = cluster.stop_programs(programs, timeout=30)
    finally:
        for program in programs:
            program.stop(timeout=5)
    assert set(codes) == {"worker pair", "scheduler"}
    assert not any(program.running() for program in programs)
    assert "OSError" not in scheduler.errors()


def test_stop_waits_its_grace_for_a_program_closing_by_itself(tmp_path) -> None:
    import subprocess

    def program(seconds: float) -> cluster.Program:
        command = [sys.executable, "-c", f"import time; time.sleep({seconds})"]
        return cluster.Program("sleeper", command, subprocess.Popen(command), tmp_path / "log")

    # A program that exits by itself within the grace: its own exit code, not SIGTERM's.
    assert cluster.stop_programs([program(0.5)], timeout=10, grace=30) == {"sleeper": 0}
    # Without a grace, one still running is terminated.
    assert program(60).stop(timeout=10) == -15
