"""Shared fixtures: unit tests of helpers run once per start method."""

from __future__ import annotations

import multiprocessing
import os
import socket
from pathlib import Path

import pytest

from helpers import startmethods

ROOT = Path(__file__).resolve().parent.parent


def kernel_environment(**extra: str) -> dict[str, str]:
    """The environment for a Jupyter kernel that a test starts (directly, or through
    JupyterLab or nbgrader): this one without ``PYTEST_CURRENT_TEST``, because ipykernel
    stops capturing the output of spawn and forkserver children when it sees that variable
    (COURSE_GUIDE section 4), and without ``PYTHONUNBUFFERED``, which a default JupyterLab
    does not set either (where a child's unflushed ``print`` lands depends on it: notebook
    01, section 4.6); ``extra`` on top."""
    unset = {"PYTEST_CURRENT_TEST", "PYTHONUNBUFFERED"}
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update(extra)
    return env


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (for a test's server)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(params=startmethods.methods_to_test())
def start_method(request: pytest.FixtureRequest) -> str:
    """Each start method this test run covers (all the platform has, or MP_START_METHOD)."""
    return request.param


@pytest.fixture
def mp_context(start_method: str) -> multiprocessing.context.BaseContext:
    """A multiprocessing context for the start method under test."""
    return multiprocessing.get_context(start_method)


def run_processes(procs, timeout: float = 30) -> None:
    """Start every process, join each, and fail (after killing them) if one is still alive."""
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout)
    alive = [p.name for p in procs if p.is_alive()]
    for p in procs:
        if p.is_alive():
            p.kill()
            p.join()
    assert not alive, f"still running after {timeout} s: {alive}"
    assert [p.exitcode for p in procs] == [0] * len(procs)


def finish_processes(*children, timeout: float = 30) -> list[int | None]:
    """Join children (terminating any still running after ``timeout``); return exit codes."""
    codes = []
    for child in children:
        child.join(timeout=timeout)
        if child.is_alive():
            child.terminate()
            child.join()
        codes.append(child.exitcode)
    return codes
