"""``checks.record_calls_from_now`` and ``checks.unrecorded`` (exercises 09 and 10, task 3):
calls recorded from a set-up cell on, across the learner's measurement cell, in threads and in
child processes; the set-up cell run twice records once, never through a stand-in of a
stand-in; a check's own calls can bypass the recording."""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pytest

from helpers import checks, workloads

KEY = ("helpers.workloads", "square")


@pytest.fixture
def ended():
    """End the recording that a test started, whatever happens in it."""
    yield
    recording = checks._RECORDINGS.pop(KEY, None)
    if recording is not None:
        recording.close()
    assert workloads.square is checks.unrecorded(workloads.square)


def test_calls_in_threads_and_processes_are_told_apart(mp_context, ended) -> None:
    log = checks.record_calls_from_now(workloads.square)
    # What a right measurement does: one thread pool, one process pool.
    with ThreadPoolExecutor(max_workers=2) as threads:
        assert list(threads.map(workloads.square, [1, 2, 3])) == [1, 4, 9]
    with ProcessPoolExecutor(max_workers=2, mp_context=mp_context) as processes:
        assert list(processes.map(workloads.square, [4, 5])) == [16, 25]
    calls = log.calls
    here = [c for c in calls if c.pid == os.getpid()]
    there = [c for c in calls if c.pid != os.getpid()]
    assert len(here) == 3 and len(there) == 2
    assert all(c.end >= c.start for c in calls)


def test_a_thread_pool_timed_twice_shows_no_process(ended) -> None:
    log = checks.record_calls_from_now(workloads.square)
    for _ in range(2):  # the wrong answer: the block copied, the executor left unchanged
        with ThreadPoolExecutor(max_workers=2) as executor:
            list(executor.map(workloads.square, [1, 2]))
    assert log.calls and all(c.pid == os.getpid() for c in log.calls)


def test_a_second_start_ends_the_first_and_wraps_once(ended) -> None:
    first = checks.record_calls_from_now(workloads.square)
    stand_in = workloads.square
    assert stand_in is not checks.unrecorded(stand_in)
    # The set-up cell run again: its import now finds the stand-in, and passes that.
    second = checks.record_calls_from_now(stand_in)
    assert workloads.square(3) == 9  # no stand-in calling itself
    assert len(first.calls) == 0 and len(second.calls) == 1
    original = checks.unrecorded(workloads.square)
    assert original(4) == 16 and len(second.calls) == 1  # a check's own call is not counted
    assert checks.unrecorded(original) is original
