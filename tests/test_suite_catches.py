"""The notebook suite catches what it claims to: each fixture notebook under tests/fixtures
is run by a nested pytest with this project's plugin, and the outcome is checked."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

import pytest

from helpers import leaks, startmethods
from tests import isolation
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures"


def run_fixture(name: str | list[str], *options: str, env: dict[str, str] | None = None):
    """Run fixture notebooks (one name or a list) through the suite; return (exit code,
    output, seconds, marker)."""
    names = [name] if isinstance(name, str) else name
    marker = uuid.uuid4().hex
    # The caller's own pytest options (PYTEST_ADDOPTS=--durations=20, -x...) would change
    # the inner run's output that these tests read: the inner run takes only its own.
    caller = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    full_env = {**caller, "FIXTURE_MARKER": marker, **(env or {})}
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
         *(str(FIXTURES / each) for each in names), *options],
        cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=300,
    )
    return result.returncode, result.stdout + result.stderr, time.monotonic() - started, marker


def assert_nothing_left(marker: str, shm_before: set[str]) -> None:
    assert leaks.marked_processes("FIXTURE_MARKER", marker) == []
    assert leaks.shm_entries() - shm_before == set()


@pytest.mark.parametrize("method", startmethods.methods_to_test())
def test_clean_notebook_passes(method: str) -> None:
    shm_before = leaks.shm_entries()
    code, output, _, marker = run_fixture("clean.ipynb", f"--start-methods={method}")
    assert code == 0, output
    assert f"::{method}::no leaks" not in output  # nothing failed, so no failure is listed
    assert "4 passed" in output  # three code cells and the leak check, nothing skipped
    assert_nothing_left(marker, shm_before)


def test_changed_output_fails_and_names_the_method() -> None:
    code, output, _, _ = run_fixture("changed_output.ipynb", "--start-methods=spawn")
    assert code == 1, output
    assert "Cell outputs differ" in output
    assert "changed_output.ipynb::spawn::Cell 0" in output


def test_an_output_not_stored_fails_and_is_shown() -> None:
    # nbval itself names only the kind ({'stderr'}); the suite shows the text, so that a
    # failure seen once in CI says where the output came from.
    code, output, _, _ = run_fixture("unexpected_stderr.ipynb", "--start-methods=spawn")
    assert code == 1, output
    assert "Unexpected output fields from running code: {'stderr'}" in output
    assert "the stderr output that is not stored:\na child wrote this" in output


@pytest.mark.parametrize("method", startmethods.methods_to_test())
def test_leaked_process_fails(method: str) -> None:
    shm_before = leaks.shm_entries()
    code, output, _, marker = run_fixture("leaked_process.ipynb", f"--start-methods={method}")
    assert code == 1, output
    assert f"leaked_process.ipynb::{method}::no leaks" in output
    assert f"[start method: {method}] processes still alive at the end of the notebook" in output
    assert_nothing_left(marker, shm_before)


def test_leaked_shared_memory_fails() -> None:
    shm_before = leaks.shm_entries()
    code, output, _, marker = run_fixture("leaked_shm.ipynb", "--start-methods=spawn")
    assert code == 1, output
    assert "shared memory not unlinked at the end of the notebook" in output
    assert "psm_" in output  # the segment is named
    assert_nothing_left(marker, shm_before)


def test_hanging_cell_hits_the_timeout() -> None:
    code, output, seconds, marker = run_fixture(
        "hanging_cell.ipynb", "--start-methods=spawn", "--nbval-cell-timeout=5"
    )
    assert code == 1, output
    assert "Timeout of 5 seconds exceeded" in output
    assert seconds < 120  # the cell sleeps for 300 s
    assert leaks.marked_processes("FIXTURE_MARKER", marker) == []


def test_notebook_worker_gets_the_guard_message() -> None:
    code, output, seconds, _ = run_fixture(
        "notebook_worker.ipynb", "--start-methods=spawn", "--nbval-cell-timeout=60"
    )
    assert code == 1, output
    assert "WorkerNotImportableError" in output
    assert "'double' is defined in this notebook" in output
    assert "Fix: put the function in a module" in output
    assert seconds < 60  # it fails at once instead of waiting for the timeout


def test_without_the_guard_the_notebook_worker_hangs() -> None:
    """The control: what the guard prevents. Without it, spawn's Pool.map never returns."""
    code, output, _, _ = run_fixture(
        "notebook_worker.ipynb", "--start-methods=spawn", "--nbval-cell-timeout=10",
        env={"MP_COURSE_GUARD": "0"},
    )
    assert code == 1, output
    assert "Timeout of 10 seconds exceeded" in output
    assert "WorkerNotImportableError" not in output


@pytest.mark.skipif(not isolation.can_isolate(),
                    reason="parallel workers need a private /dev/shm (Linux, as root)")
def test_side_by_side_a_leak_is_blamed_on_its_own_notebook() -> None:
    """Two workers, one notebook each, at the same time (python3 course.py test's -n): the
    leaking notebook fails, the clean one beside it passes, and the leak is cleaned up."""
    shm_before = leaks.shm_entries()
    code, output, _, marker = run_fixture(["clean.ipynb", "leaked_shm.ipynb"],
                                          "--start-methods=spawn", "-n", "2")
    assert code == 1, output
    assert "FAILED tests/fixtures/leaked_shm.ipynb::spawn::no leaks" in output
    assert "shared memory not unlinked at the end of the notebook" in output
    assert "FAILED tests/fixtures/clean.ipynb" not in output
    assert "1 failed, 5 passed" in output  # clean: 3 cells + leak check; leaky: 1 cell
    assert_nothing_left(marker, shm_before)
