"""A private ``/dev/shm`` for each parallel test worker (standard library only).

The suite runs on every core with pytest-xdist. Its leak checks compare ``/dev/shm``
before and after a notebook, so two notebooks running side by side would see each other's
shared memory and semaphores: a clean notebook could be blamed for its neighbour's leak, and
a leak check could remove a segment its neighbour is still using. Each worker therefore runs
in a mount namespace of its own with an empty tmpfs on ``/dev/shm``; the kernels, pools and
nested test runs it starts inherit it. Where that cannot be made (not Linux, not root),
``course.py test`` runs the suite serially instead.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

CLONE_NEWNS = 0x00020000
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_REC = 0x4000
MS_PRIVATE = 0x40000
SHM_DIR = b"/dev/shm"


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def private_dev_shm() -> None:
    """Give the calling thread's process tree a mount namespace with an empty ``/dev/shm``.

    Call it from the main thread before starting any child: children and threads started
    afterwards share the new ``/dev/shm``; nothing outside sees it. Raises ``OSError`` where
    the system does not allow it (needs Linux and CAP_SYS_ADMIN)."""
    if not sys.platform.startswith("linux"):
        raise OSError("a private /dev/shm needs Linux mount namespaces")
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    _check(libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    # Mounts made from now on must not propagate back to the rest of the machine.
    _check(libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "mount --make-rprivate /")
    _check(libc.mount(b"tmpfs", SHM_DIR, b"tmpfs", MS_NOSUID | MS_NODEV, b"mode=1777"),
           "mount -t tmpfs tmpfs /dev/shm")


def can_isolate() -> bool:
    """True if a worker can have its own ``/dev/shm`` here (tried in a throw-away child)."""
    if not sys.platform.startswith("linux") or not hasattr(os, "fork"):
        return False
    pid = os.fork()
    if pid == 0:  # the child tries, and reports by its exit code alone
        try:
            private_dev_shm()
            os._exit(0)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0
