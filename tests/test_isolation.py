"""A parallel worker's private /dev/shm (tests/isolation.py) hides each side from the other."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from tests import isolation

pytestmark = pytest.mark.skipif(not isolation.can_isolate(),
                                reason="a private /dev/shm needs Linux, as root")


def test_a_private_dev_shm_neither_sees_nor_shows() -> None:
    outside = Path("/dev/shm") / f"outside-{uuid.uuid4().hex}"
    inside = Path("/dev/shm") / f"inside-{uuid.uuid4().hex}"
    outside.touch()
    try:
        pid = os.fork()
        if pid == 0:  # a worker: isolate, then report what it sees by its exit code
            try:
                isolation.private_dev_shm()
                inside.touch()
                os._exit(0 if inside.exists() and not outside.exists() else 1)
            except BaseException:
                os._exit(2)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0, "the worker saw the machine's /dev/shm"
        assert outside.exists() and not inside.exists()
    finally:
        outside.unlink()
