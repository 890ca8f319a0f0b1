"""helpers.practice: the workers and tools of notebook 12, run under each start method.

Every assertion is a relation that holds on any machine, idle or loaded: results equal,
every task accounted for, processes ended, memory copied or not; never a speed.
"""

from __future__ import annotations

import logging
import logging.handlers
import multiprocessing
import os
import signal
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import numpy as np
import psutil
import pytest

import helpers  # noqa: F401  (installs the guard)
from helpers import practice, startmethods
from helpers.logs import RecordCollector
from helpers.practice import MiB

needs_fork = pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(),
                                reason="this platform has no fork")
needs_linux = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                 reason="RLIMIT_AS is enforced on Linux only")


def no_children_left(timeout: float = 10.0) -> bool:
    """Wait until this process has no live (non-zombie) child other than multiprocessing's
    resource tracker and forkserver; True if it got there within ``timeout``."""
    from helpers import leaks

    deadline = time.monotonic() + timeout
    while leaks.live_children(os.getpid()) and time.monotonic() < deadline:
        multiprocessing.active_children()  # reaps finished children
        time.sleep(0.05)
    return not leaks.live_children(os.getpid())


# --- small pure functions ---------------------------------------------------------------------


def test_mib_and_part_bounds() -> None:
    assert practice.mib(64 * MiB) == "64.0 MiB"
    assert practice.mib(MiB // 2) == "0.5 MiB"
    bounds = [practice.part_bounds(10, part, 4) for part in range(4)]
    assert bounds[0][0] == 0 and bounds[-1][1] == 10
    assert all(stop == start for (_, stop), (start, _) in zip(bounds, bounds[1:]))
    with pytest.raises(ValueError):
        practice.part_bounds(10, 4, 4)


def test_job_outcome_and_failure_report() -> None:
    assert practice.job(3) == 9
    with pytest.raises(ValueError, match="record 4 is malformed"):
        practice.job(4)
    outcomes = [practice.job_outcome(n) for n in range(10)]
    assert [n for n, status, _ in outcomes if status == "error"] == [4, 9]
    report = practice.failure_report(list(reversed(outcomes)))
    assert report[0] == "10 tasks: 8 ok, 2 failed"
    assert report[1:] == ["  task 4: ValueError: record 4 is malformed",
                          "  task 9: ValueError: record 9 is malformed"]


def test_blas_threads_env_sets_and_restores(monkeypatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "7")
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    with practice.blas_threads_env(1):
        assert all(os.environ[name] == "1" for name in practice.BLAS_ENV_VARS)
    assert os.environ["OMP_NUM_THREADS"] == "7"
    assert "OPENBLAS_NUM_THREADS" not in os.environ


# --- 1. Oversubscription -----------------------------------------------------------------


def test_limited_workers_have_one_blas_thread_and_the_same_results(mp_context) -> None:
    expected = [practice.matmul_task(seed, size=60, repeats=2) for seed in range(4)]
    with mp_context.Pool(2, initializer=practice.load_numpy, initargs=(1,)) as pool:
        assert len(practice.warm_up(pool, 2)) == 2
        pools = pool.apply(practice.blas_pools)
        results = pool.starmap(practice.matmul_task, [(seed, 60, 2) for seed in range(4)])
    assert all(threads == 1 for api, _, threads in pools if api == "blas")
    assert np.allclose(results, expected, rtol=1e-9)


def test_environment_variables_reach_a_spawn_worker() -> None:
    with practice.blas_threads_env(1):
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            pools = pool.apply(practice.blas_pools)
    assert pools, "threadpoolctl found no native thread pool after importing numpy"
    assert all(threads == 1 for _, _, threads in pools)


# --- 2. Memory under fork ------------------------------------------------------------------


@needs_fork
def test_reading_copies_and_freeze_prevents_only_the_collectors_copies() -> None:
    records = practice.make_records(100_000)
    nothing = practice.fork_child_copies(records, "nothing")
    read = practice.fork_child_copies(records, "read")
    read_frozen = practice.fork_child_copies(records, "read", freeze=True)
    collect = practice.fork_child_copies(records, "collect")
    collect_frozen = practice.fork_child_copies(records, "collect", freeze=True)
    assert read > 4 * MiB and read_frozen > 4 * MiB  # the records take about 13 MiB
    assert nothing < read / 4
    assert collect > 4 * MiB and collect_frozen < collect / 4
    array = np.ones(2 * MiB)  # 16 MiB in one buffer
    assert practice.fork_child_copies(array, "sum") < array.nbytes / 4
    assert no_children_left()


def test_spawn_child_builds_its_own_copy() -> None:
    grown, whole = practice.spawn_child_builds(100_000)
    assert 4 * MiB < grown <= whole
    assert no_children_left()


def test_touch_records_rejects_an_unknown_action() -> None:
    receiver, sender = multiprocessing.Pipe(duplex=False)
    with pytest.raises(ValueError):
        practice.touch_records([], "write", sender)
    receiver.close()
    sender.close()


# --- 3. A worker killed from outside ---------------------------------------------------------


def test_a_killed_process_has_exitcode_minus_sigkill(mp_context) -> None:
    child = mp_context.Process(target=practice.kill_myself)
    child.start()
    child.join(timeout=60)
    assert child.exitcode == -signal.SIGKILL


def test_a_killed_executor_worker_breaks_the_pool(mp_context) -> None:
    with ProcessPoolExecutor(max_workers=1, mp_context=mp_context) as executor:
        error = executor.submit(practice.kill_myself).exception(timeout=60)
    assert isinstance(error, BrokenProcessPool)
    assert error.__cause__ is None


def test_a_killed_pool_worker_loses_its_task_and_is_replaced(mp_context) -> None:
    with mp_context.Pool(1) as pool:
        lost = pool.apply_async(practice.kill_myself)
        with pytest.raises(multiprocessing.TimeoutError):
            lost.get(timeout=1)
        assert pool.apply(practice.square, (6,)) == 36
    assert no_children_left()


@needs_linux
def test_memory_limit_applies_to_the_worker_only(mp_context) -> None:
    import resource

    before = resource.getrlimit(resource.RLIMIT_AS)
    with ProcessPoolExecutor(max_workers=1, mp_context=mp_context,
                             initializer=practice.limit_memory, initargs=(256 * MiB,)) as executor:
        assert executor.submit(practice.allocate, 16).result(timeout=60) == 16 * MiB
        error = executor.submit(practice.allocate, 1024).exception(timeout=60)
        assert isinstance(error, MemoryError)
        assert executor.submit(practice.allocate, 16).result(timeout=60) == 16 * MiB
    assert resource.getrlimit(resource.RLIMIT_AS) == before
    assert len(bytearray(300 * MiB)) == 300 * MiB  # this process is not limited


def test_maxtasksperchild_gives_fresh_workers(mp_context) -> None:
    with mp_context.Pool(1) as pool:
        kept = [pool.apply(practice.hold_chunk, (1,))[0] for _ in range(4)]
    with mp_context.Pool(1, maxtasksperchild=2) as pool:
        recycled = [pool.apply(practice.hold_chunk, (1,))[0] for _ in range(4)]
    assert kept == [1, 2, 3, 4]
    assert recycled == [1, 2, 1, 2]


# --- 4. Large data to workers -----------------------------------------------------------------


def test_every_way_of_giving_data_gives_the_same_sums(mp_context, tmp_path) -> None:
    from multiprocessing import shared_memory

    array = np.arange(100_000, dtype=np.float64)
    expected = [practice.sum_part(array, part, 4) for part in range(4)]
    assert sum(expected) == float(array.sum())
    with mp_context.Pool(2) as pool:
        assert pool.starmap(practice.sum_part, [(array, p, 4) for p in range(4)]) == expected
    with mp_context.Pool(2, initializer=practice.keep_array, initargs=(array,)) as pool:
        assert pool.starmap(practice.sum_part_of_kept, [(p, 4) for p in range(4)]) == expected
    block = shared_memory.SharedMemory(create=True, size=array.nbytes)
    try:
        np.ndarray(array.shape, dtype=array.dtype, buffer=block.buf)[:] = array
        with mp_context.Pool(2) as pool:
            sums = pool.starmap(practice.sum_part_shared,
                                [(block.name, array.shape, array.dtype.str, p, 4) for p in range(4)])
        assert sums == expected
    finally:
        block.close()
        block.unlink()
    path = str(tmp_path / "array.npy")
    np.save(path, array)
    with mp_context.Pool(2) as pool:
        assert pool.starmap(practice.sum_part_of_file, [(path, p, 4) for p in range(4)]) == expected


def test_send_array_in_band_and_out_of_band(mp_context) -> None:
    array = np.arange(2 * MiB, dtype=np.float64)  # 16 MiB
    in_band, in_stream = practice.send_array(array, out_of_band=False, context=mp_context)
    out_of_band, out_stream = practice.send_array(array, out_of_band=True, context=mp_context)
    assert in_band == out_of_band == float(array.sum())
    assert in_stream > array.nbytes > 1024 > out_stream


# --- 5. Timeouts -------------------------------------------------------------------------------


def test_run_with_timeout_ok_error_and_timeout(mp_context) -> None:
    ok = practice.run_with_timeout(practice.square, (7,), timeout=60, context=mp_context)
    assert (ok.status, ok.value, ok.exitcode) == ("ok", 49, 0)
    error = practice.run_with_timeout(practice.job, (4,), timeout=60, context=mp_context)
    assert error.status == "error" and error.error == "ValueError: record 4 is malformed"
    late = practice.run_with_timeout(practice.hang, (3600,), timeout=0.5, context=mp_context)
    assert late.status == "timeout" and late.exitcode == -signal.SIGTERM
    assert str(late).startswith("timeout")
    assert no_children_left()


def test_run_with_timeout_reports_a_process_that_dies() -> None:
    died = practice.run_with_timeout(practice.kill_myself, (), timeout=60)
    assert died.status == "error" and died.exitcode == -signal.SIGKILL


# --- 6. Long jobs -----------------------------------------------------------------------------


def test_logged_tasks_name_their_workers(mp_context) -> None:
    log_queue = mp_context.Queue()
    collector = RecordCollector()
    listener = logging.handlers.QueueListener(log_queue, collector)
    listener.start()
    try:
        counter = mp_context.Value("i", 0)
        with mp_context.Pool(2, initializer=practice.init_worker_logging,
                             initargs=(log_queue, counter)) as pool:
            outcomes = sorted(pool.imap_unordered(practice.logged_task, range(10)))
            pool.close()  # not terminate(): a killed worker can lose its last queued records
            pool.join()
    finally:
        listener.stop()
        log_queue.close()
        log_queue.join_thread()
    assert outcomes == [practice.job_outcome(n) for n in range(10)]
    assert len(collector.records) == 10
    assert {r.processName for r in collector.records} <= {"practice-worker-1", "practice-worker-2"}
    assert sorted(r.levelname for r in collector.records).count("WARNING") == 2
    assert counter.value == 2


# --- 7. Shutting down a script ----------------------------------------------------------------

SCRIPT = ["--tasks", "40", "--seconds", "0.1", "--workers", "2", "--watchdog", "60"]


@pytest.mark.skipif(os.name != "posix", reason="process groups and SIGTERM are POSIX")
@pytest.mark.parametrize("sig, to_group, status", [(signal.SIGINT, True, 130),
                                                    (signal.SIGTERM, False, 143)])
def test_the_careful_script_stops_cleanly(start_method, monkeypatch, sig, to_group, status) -> None:
    monkeypatch.setenv(startmethods.ENV_VAR, start_method)
    report = practice.run_and_signal(sig, SCRIPT, to_group=to_group, timeout=60)
    assert not report.timed_out
    assert report.returncode == status
    assert report.lines[:2] == ["started: 40 tasks, 2 workers", "workers ready"]
    done, cancelled = (int(word) for word in report.lines[-1].split()[3:6:2])
    assert report.lines[-1].startswith(f"stopped by {signal.Signals(sig).name}:")
    assert done + cancelled == 40
    assert report.stderr == ""
    assert len(report.children_seen) >= 2 and report.children_left == []


@pytest.mark.skipif(os.name != "posix", reason="SIGTERM's default action is POSIX")
def test_the_naive_script_orphans_its_workers_and_they_are_cleaned_up(monkeypatch) -> None:
    monkeypatch.setenv(startmethods.ENV_VAR, "spawn")
    report = practice.run_and_signal(signal.SIGTERM, [*SCRIPT, "--naive"], timeout=60)
    assert report.returncode == -signal.SIGTERM
    assert report.children_left  # the orphans, which run_and_signal then killed
    assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
                   for pid in report.children_left)


def test_the_script_finishes_without_a_signal(monkeypatch) -> None:
    monkeypatch.setenv(startmethods.ENV_VAR, "spawn")
    report = practice.run_and_signal(None, ["--tasks", "4", "--seconds", "0.01"], timeout=60)
    assert report.returncode == 0
    assert report.lines[-1] == "finished: 4 done, 0 cancelled, of 4"
    assert report.children_left == []
