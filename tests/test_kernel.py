"""helpers.kernel: a kernel that used multiprocessing shuts down on its own, and its resource
tracker still unlinks what the notebook leaked."""

from __future__ import annotations

import os
import time
import uuid

import pytest
from jupyter_client.manager import start_new_kernel

from helpers import kernel, leaks
from tests.conftest import kernel_environment

LEAK = """
import helpers, multiprocessing, time
from helpers.workloads import square
from multiprocessing import shared_memory
with multiprocessing.Pool(1) as pool:  # under forkserver, the forkserver stays
    pool.map(square, [1])
segment = shared_memory.SharedMemory(create=True, size=64)  # never unlinked
killed = multiprocessing.Process(target=time.sleep, args=(60,))
killed.start()
killed.kill()  # never joined: a zombie under fork and spawn
print(segment.name)
"""
# ipykernel terminates its children with pauses that add up to 14.4 s before it gives up on
# one that stays; a kernel that needs none of them ends in well under a second.
PATIENCE = 10


def test_outside_a_kernel_nothing_is_installed() -> None:
    assert kernel.running_kernel() is None and kernel.install() is False


@pytest.mark.skipif(os.name != "posix", reason="the resource tracker and /dev/shm are POSIX")
def test_a_kernel_shuts_down_on_its_own_and_its_tracker_cleans_up(start_method) -> None:
    marker = uuid.uuid4().hex
    km, kc = start_new_kernel(kernel_name="python3", env=kernel_environment(
        MP_COURSE_KERNEL_TEST=marker, MP_START_METHOD=start_method))
    try:
        printed = []
        kc.execute_interactive(LEAK, timeout=60,
                               output_hook=lambda msg: printed.append(msg["content"].get("text", "")))
        name = "".join(printed).strip()
        assert name in leaks.shm_entries()
        tracker = [p for p in leaks.marked_processes("MP_COURSE_KERNEL_TEST", marker)
                   if "resource_tracker" in " ".join(p.cmdline())]
        assert tracker, "the kernel started no resource tracker"
    finally:
        kc.stop_channels()
        # Generous: without helpers.kernel, ipykernel would wait for the tracker (which
        # ignores SIGTERM), then SIGKILL it, and the segment would stay in /dev/shm.
        km.shutdown_wait_time = 60
        started = time.monotonic()
        km.shutdown_kernel(now=False)
        waited = time.monotonic() - started
    assert leaks.wait_until_gone(leaks.marked_processes("MP_COURSE_KERNEL_TEST", marker), 10) == []
    assert name not in leaks.shm_entries(), "the tracker was killed before it could unlink"
    assert waited < PATIENCE, "the kernel waited for a child that would not go"


@pytest.mark.skipif(os.name != "posix", reason="Unix sockets: POSIX only (TCP elsewhere)")
def test_course_kernels_listen_on_private_sockets_that_go_with_them() -> None:
    from tools.kernels import CourseKernelManager

    km = CourseKernelManager(kernel_name="python3")
    km.start_kernel(env=kernel_environment())
    kc = km.client()
    try:
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        folder = os.path.dirname(km.ip)
        # No TCP port to lose: five Unix sockets in a folder only this user can enter.
        assert km.transport == "ipc" and km.get_connection_info()["transport"] == "ipc"
        assert len([name for name in os.listdir(folder) if name.startswith("ipc-")]) == 5
        assert os.stat(folder).st_mode & 0o077 == 0
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)
    assert not os.path.exists(folder)
