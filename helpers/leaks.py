"""Finding what a program left behind: live child processes and shared-memory entries.

Used by the test suite after every notebook, and by exercise checks that must tell a
learner "your pool is still running". Processes are found by a marker in their environment
(children inherit it, whatever their start method) and shared memory by listing
``/dev/shm`` (Linux; other platforms have no listing of POSIX shared memory).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

SHM_DIR = Path("/dev/shm")

# Processes that multiprocessing itself starts and ends with their parent; and joblib's
# (loky's) own resource tracker, which, like multiprocessing's, lives as long as its parent.
_INFRASTRUCTURE = ("multiprocessing.resource_tracker", "multiprocessing.forkserver",
                   "joblib.externals.loky.backend.resource_tracker")


@dataclass(frozen=True)
class LeakedProcess:
    """A process that is still alive when it should have ended."""

    pid: int
    name: str
    cmdline: str

    def __str__(self) -> str:
        return f"pid {self.pid} ({self.name}): {self.cmdline[:120]}"


def _describe(proc: psutil.Process) -> LeakedProcess:
    try:
        cmdline = " ".join(proc.cmdline())
        name = proc.name()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        cmdline, name = "?", "?"
    return LeakedProcess(proc.pid, name, cmdline)


def is_infrastructure(proc: psutil.Process, owner_pid: int) -> bool:
    """True for multiprocessing's own resource tracker or forkserver, or joblib's (loky's)
    resource tracker, started by ``owner_pid``.

    A forkserver's children are forked from it and share its command line, so only the
    process whose parent is the owner counts as the server itself.
    """
    try:
        cmdline = " ".join(proc.cmdline())
        parent = proc.ppid()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False
    return parent == owner_pid and any(marker in cmdline for marker in _INFRASTRUCTURE)


def marked_processes(variable: str, value: str) -> list[psutil.Process]:
    """Return the live (non-zombie) processes whose environment has ``variable=value``."""
    found = []
    for proc in psutil.process_iter(["environ", "status"]):
        env = proc.info.get("environ") or {}
        if env.get(variable) == value and proc.info.get("status") != psutil.STATUS_ZOMBIE:
            found.append(proc)
    return found


def live_children(owner_pid: int) -> list[psutil.Process]:
    """Return the live descendants of ``owner_pid`` other than multiprocessing's helpers."""
    try:
        children = psutil.Process(owner_pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    return [
        child
        for child in children
        if _alive(child) and not is_infrastructure(child, owner_pid)
    ]


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def wait_until_gone(procs: list[psutil.Process], timeout: float) -> list[LeakedProcess]:
    """Wait up to ``timeout`` seconds for ``procs`` to end; describe those still alive."""
    deadline = time.monotonic() + timeout
    remaining = [p for p in procs if _alive(p)]
    while remaining and time.monotonic() < deadline:
        time.sleep(0.1)
        remaining = [p for p in remaining if _alive(p)]
    return [_describe(p) for p in remaining]


def kill(procs: list[LeakedProcess]) -> None:
    """Kill leaked processes so that they cannot disturb what runs next."""
    for leaked in procs:
        try:
            psutil.Process(leaked.pid).kill()
        except psutil.NoSuchProcess:
            pass


def shm_entries() -> set[str]:
    """Return the names in ``/dev/shm`` (an empty set where there is no such listing)."""
    try:
        return set(os.listdir(SHM_DIR))
    except OSError:
        return set()


def shm_in_use_by_others(own_pids: set[int]) -> set[str]:
    """The ``/dev/shm`` entries that a live process outside ``own_pids`` has mapped.

    Such an entry belongs to another program (a JupyterLab kernel, another test run), so a
    leak check must neither blame nor remove it. Reads ``/proc/<pid>/maps`` (Linux) and
    matches by device and inode: a semaphore is mapped under the temporary name it was
    created with, which the maps show as deleted, not under the name it is known by; and a
    process in another mount namespace (a parallel test worker) maps files of another
    ``/dev/shm``, whose inode numbers can repeat ours.
    """
    prefix = f"{SHM_DIR}/"
    mapped: set[tuple[int, int, int]] = set()  # (major, minor, inode)
    for proc_dir in Path("/proc").glob("[0-9]*"):
        if int(proc_dir.name) in own_pids:
            continue
        try:
            maps = (proc_dir / "maps").read_text()
        except OSError:
            continue
        for line in maps.splitlines():
            fields = line.split(maxsplit=5)
            if len(fields) == 6 and fields[5].startswith(prefix):
                major, minor = fields[3].split(":")
                mapped.add((int(major, 16), int(minor, 16), int(fields[4])))
    in_use = set()
    for entry in shm_entries():
        try:
            stat = (SHM_DIR / entry).stat()
        except OSError:
            continue
        if (os.major(stat.st_dev), os.minor(stat.st_dev), stat.st_ino) in mapped:
            in_use.add(entry)
    return in_use


def shm_age(entry: str, since: float) -> str:
    """When the ``/dev/shm`` entry was last written, in seconds after ``since`` (a
    ``time.time()``): tells which part of a run made a leaked entry."""
    try:
        return f"written {(SHM_DIR / entry).stat().st_mtime - since:.1f} s after the start"
    except OSError:
        return "gone"


def is_semaphore(entry: str) -> bool:
    """True for a named POSIX semaphore: glibc keeps one as ``sem.<name>`` (multiprocessing's
    are ``sem.mp-...``; a creation cut short leaves a temporary ``sem.XXXXXX``)."""
    return entry.startswith("sem.")


def remove_orphaned_semaphores(before: set[str]) -> set[str]:
    """Unlink the named semaphores that appeared in ``/dev/shm`` since ``before`` (a
    ``shm_entries()``) and that no live process has open; return their names.

    A process killed while it creates a semaphore (a pool's ``terminate()`` can catch a
    starting worker there) leaves the name behind before any resource tracker has heard of
    it, and nothing else will ever remove it. An open semaphore is mapped by the process
    that holds it, so one that nobody maps can no longer be used.
    """
    orphans = {entry for entry in shm_entries() - before if is_semaphore(entry)}
    orphans -= shm_in_use_by_others(set())
    remove_shm(orphans)
    return orphans


def remove_shm(entries: set[str]) -> None:
    """Unlink leaked ``/dev/shm`` entries so that the next run starts clean."""
    for entry in entries:
        try:
            (SHM_DIR / entry).unlink()
        except FileNotFoundError:
            pass
