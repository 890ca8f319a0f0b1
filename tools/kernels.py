"""The kernel manager the course's tools and tests start their Jupyter kernels with.

Over TCP, the client chooses a kernel's five ports by binding each to port 0 and letting it
go; the kernel binds them a moment later. On a busy machine another process can take one in
between, and the kernel dies at start: "Kernel died before replying to kernel_info"
(jupyter_client issue #154; ipykernel retries only ports it picks itself). The test suite
starts hundreds of kernels beside notebooks that open servers and connections, and met that
error once in eight full runs (with the kernel's stderr thrown away, so the cause was not
seen; a lost port is the known one). ZeroMQ's ``ipc`` transport (Unix sockets) in a private
folder has no ports to lose, so on POSIX systems ``CourseKernelManager`` uses it; elsewhere,
TCP as usual.
"""

from __future__ import annotations

import os
import shutil
import tempfile

from jupyter_client.manager import AsyncKernelManager, KernelManager
from traitlets import HasTraits, default

IPC_AVAILABLE = os.name == "posix"


class PrivateSockets(HasTraits):
    """Mixed into a kernel manager: its kernel listens on Unix sockets in a folder of its
    own (removed when the kernel is cleaned up), or on TCP where there are no Unix sockets."""

    @default("transport")
    def _default_transport(self) -> str:
        return "ipc" if IPC_AVAILABLE else "tcp"

    @default("ip")
    def _default_ip(self) -> str:
        if self.transport != "ipc":
            return super()._ip_default()
        # Short on purpose: a Unix socket's path may not exceed about 100 bytes.
        self._socket_folder = tempfile.mkdtemp(prefix="kernel-", dir="/tmp")
        return os.path.join(self._socket_folder, "ipc")

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        # Every shutdown ends here (the blocking manager's methods wrap the async ones).
        await super()._async_cleanup_resources(restart=restart)
        folder = getattr(self, "_socket_folder", None)
        if folder and not restart:
            shutil.rmtree(folder, ignore_errors=True)


class CourseKernelManager(PrivateSockets, KernelManager):
    """The blocking kernel manager, on private sockets (tests/notebook_runs.py's kernels)."""


class AsyncCourseKernelManager(PrivateSockets, AsyncKernelManager):
    """The asynchronous kernel manager, on private sockets (nbclient's and nbgrader's kernels)."""
