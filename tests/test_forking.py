"""helpers.forking: what children of each start method inherit, start costs, scripts, stderr."""

from __future__ import annotations

import importlib
import os
import sys
import textwrap
import threading
import time
from pathlib import Path

import psutil
import pytest

import helpers  # noqa: F401  (applies MP_START_METHOD, installs the guard)
from helpers import forking, leaks


def silent_child(conn, *args) -> None:
    """A describe_child stand-in that never answers (for the watchdog test)."""
    time.sleep(30)


def write_to_fd2(text: str) -> None:
    """A child that writes straight to file descriptor 2, as a dying child's traceback does."""
    os.write(2, text.encode())


def test_state_starts_as_imported() -> None:
    assert forking.STATE == {"value": "as imported"}


def test_only_a_fork_child_sees_the_parents_changes(mp_context, monkeypatch) -> None:
    monkeypatch.setitem(forking.STATE, "value", "changed in the parent")
    monkeypatch.setattr(sys.modules["__main__"], "parent_only_name", 1, raising=False)
    seen = forking.look_inside(mp_context, name="looker", main_name="parent_only_name")
    forked = mp_context.get_start_method() == "fork"
    assert seen["state"] == ("changed in the parent" if forked else "as imported")
    assert seen["main_name"] is forked


def test_ipython_is_inherited_only_through_fork(mp_context, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "IPython", sys)  # pretend the parent is a kernel
    seen = forking.look_inside(mp_context, name="looker")
    assert seen["ipython"] is (mp_context.get_start_method() == "fork")


def test_reports_which_modules_are_imported(mp_context) -> None:
    seen = forking.look_inside(mp_context, name="looker",
                               modules=["helpers.forking", "no_such_module_here"])
    assert seen["modules"] == {"helpers.forking": True, "no_such_module_here": False}


# Forking while a thread runs is the point here; Python 3.12+ warns about exactly that.
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_child_has_one_thread_even_when_the_parent_runs_several(mp_context) -> None:
    stop = threading.Event()
    extra = threading.Thread(target=stop.wait, name="extra")
    extra.start()
    try:
        assert threading.active_count() >= 2
        assert forking.look_inside(mp_context, name="looker")["threads"] == 1
    finally:
        stop.set()
        extra.join()


def test_look_inside_ends_a_silent_child(mp_context, monkeypatch) -> None:
    monkeypatch.setattr(forking, "describe_child", silent_child)
    with pytest.raises(TimeoutError, match="sent nothing"):
        forking.look_inside(mp_context, name="silent", timeout=0.5)
    assert leaks.live_children(os.getpid()) == []


def test_noop_returns_none() -> None:
    assert forking.noop() is None


def test_start_cost_times_a_real_start(mp_context) -> None:
    cost = forking.start_cost(mp_context, repeats=2)
    assert 0 < cost < 60
    cost = forking.start_cost(mp_context, repeats=1, target=importlib.import_module, args=("json",))
    assert cost > 0


def test_start_cost_refuses_a_failing_target_and_no_repeats(mp_context) -> None:
    with pytest.raises(ChildProcessError, match="exit code 3"):
        forking.start_cost(mp_context, repeats=1, target=sys.exit, args=(3,))
    with pytest.raises(ValueError):
        forking.start_cost(mp_context, repeats=0)


def test_run_script_captures_output_arguments_and_exit_code(tmp_path: Path) -> None:
    script = tmp_path / "echo.py"
    script.write_text(textwrap.dedent("""
        import os, sys
        print("args:", *sys.argv[1:])
        print()
        print("unbuffered:", os.environ.get("PYTHONUNBUFFERED"))
        print("to stderr", file=sys.stderr)
        sys.exit(4)
    """))
    run = forking.run_script(script, "a", "b c")
    assert (run.returncode, run.timed_out) == (4, False)
    assert run.lines() == ["args: a b c", "unbuffered: None"]
    assert run.stderr.strip() == "to stderr"


@pytest.mark.skipif(os.name != "posix", reason="process groups are POSIX")
def test_run_script_watchdog_kills_the_script_and_its_children(tmp_path: Path) -> None:
    script = tmp_path / "hang.py"
    script.write_text(textwrap.dedent("""
        import subprocess, sys, time
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        print(child.pid, flush=True)
        time.sleep(60)
    """))
    run = forking.run_script(script, timeout=3)
    assert run.timed_out
    assert run.returncode != 0
    grandchild = int(run.lines()[0])
    deadline = time.monotonic() + 5
    while psutil.pid_exists(grandchild) and time.monotonic() < deadline:
        try:
            if psutil.Process(grandchild).status() == psutil.STATUS_ZOMBIE:
                break
        except psutil.NoSuchProcess:
            break
        time.sleep(0.05)
    alive = psutil.pid_exists(grandchild) and psutil.Process(grandchild).status() != psutil.STATUS_ZOMBIE
    assert not alive


def test_captured_stderr_collects_a_childs_fd2_and_restores_it(mp_context) -> None:
    forkserver = mp_context.get_start_method() == "forkserver"
    if forkserver:
        forking.start_cost(mp_context, repeats=1)  # make sure the server runs already
    before = os.fstat(2)
    with forking.captured_stderr() as captured:
        child = mp_context.Process(target=write_to_fd2, args=("child wrote this\n",), name="writer")
        child.start()
        child.join()
        assert captured.text == ""  # filled in only when the block ends
    after = os.fstat(2)
    assert (before.st_dev, before.st_ino) == (after.st_dev, after.st_ino)
    # A forkserver child inherits the server's fd 2, fixed when the server started.
    assert ("child wrote this" in captured.text) is not forkserver
