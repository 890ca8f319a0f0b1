"""Unit tests of the small helpers modules: workloads, cores, leaks."""

from __future__ import annotations

import _multiprocessing
import os
import time
import uuid
from multiprocessing import shared_memory

import pytest

from helpers import cores, leaks
from helpers.workloads import count_primes, square


def test_count_primes_known_values() -> None:
    assert [count_primes(n) for n in (2, 3, 10, 100, 1000)] == [0, 1, 4, 25, 168]


def test_workloads_give_the_same_result_in_a_pool(mp_context) -> None:
    with mp_context.Pool(2) as pool:
        assert pool.map(count_primes, [100, 1000]) == [25, 168]
        assert pool.map(square, [1.5, -2]) == [2.25, 4]


def test_usable_cores_is_within_the_machine() -> None:
    assert 1 <= cores.usable_cores() <= cores.logical_cores()


def test_live_children_finds_a_running_child_and_not_a_joined_one(mp_context) -> None:
    child = mp_context.Process(target=time.sleep, args=(30,))
    child.start()
    try:
        assert child.pid in [p.pid for p in leaks.live_children(os.getpid())]
    finally:
        child.terminate()
        child.join()
    assert child.pid not in [p.pid for p in leaks.live_children(os.getpid())]


@pytest.mark.skipif(not leaks.SHM_DIR.is_dir(), reason="no /dev/shm listing on this platform")
def test_shm_entries_sees_a_segment_until_it_is_unlinked() -> None:
    before = leaks.shm_entries()
    segment = shared_memory.SharedMemory(create=True, size=64)
    try:
        assert leaks.shm_entries() - before == {segment.name.lstrip("/")}
    finally:
        segment.close()
        segment.unlink()
    assert leaks.shm_entries() - before == set()


@pytest.mark.skipif(not leaks.SHM_DIR.is_dir(), reason="no /dev/shm listing on this platform")
def test_shm_in_use_by_others_sees_another_process_mapping() -> None:
    segment = shared_memory.SharedMemory(create=True, size=64)
    name = segment.name.lstrip("/")
    try:
        assert name in leaks.shm_in_use_by_others(set())  # this process maps it
        assert name not in leaks.shm_in_use_by_others({os.getpid()})
    finally:
        segment.close()
        segment.unlink()
    assert name not in leaks.shm_in_use_by_others(set())


@pytest.mark.skipif(not leaks.SHM_DIR.is_dir(), reason="no /dev/shm listing on this platform")
def test_shm_age_says_when_an_entry_was_written_and_when_it_is_gone() -> None:
    since = time.time() - 60
    segment = shared_memory.SharedMemory(create=True, size=64)
    name = segment.name.lstrip("/")
    try:
        seconds = float(leaks.shm_age(name, since).split()[1])
        assert 59 <= seconds <= 120
    finally:
        segment.close()
        segment.unlink()
    assert leaks.shm_age(name, since) == "gone"


@pytest.mark.skipif(not leaks.SHM_DIR.is_dir(), reason="no /dev/shm listing on this platform")
def test_remove_orphaned_semaphores_keeps_one_that_a_process_holds() -> None:
    before = leaks.shm_entries()
    name = f"mp-course-held-{uuid.uuid4().hex[:8]}"
    held = _multiprocessing.SemLock(1, 1, 1, f"/{name}", False)  # this process maps it
    try:
        assert leaks.remove_orphaned_semaphores(before) == set()
        assert f"sem.{name}" in leaks.shm_entries()
    finally:
        del held
        _multiprocessing.sem_unlink(f"/{name}")
    assert f"sem.{name}" not in leaks.shm_entries()


def test_is_semaphore_knows_glibc_names_and_not_segments() -> None:
    assert leaks.is_semaphore("sem.mp-xov_sne5")  # multiprocessing's
    assert leaks.is_semaphore("sem.0fNYGm")  # glibc's temporary name of a half-made one
    assert not leaks.is_semaphore("psm_1c9a27e2")  # a SharedMemory segment
