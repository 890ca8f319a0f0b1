"""helpers.forking: what children of each start method inherit, start costs, scripts, stderr."""

from __future__ import annotations

import importlib
import os
import sys
import textwrap
import threading
import time
import uuid
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


@pytest.mark.parametrize("version, preloads", [
    ((3, 10, 13), False), ((3, 12, 12), False), ((3, 13, 7), False),
    ((3, 13, 8), True), ((3, 14, 0), True), ((3, 15, 0), True),
])
def test_forkserver_preloads_main_from_3_13_8(version, preloads) -> None:
    assert forking.forkserver_preloads_main(version) is preloads


def test_forkserver_preloads_main_defaults_to_this_python() -> None:
    assert forking.forkserver_preloads_main() is forking.forkserver_preloads_main(sys.version_info[:3])


# A guarded script that starts two forkserver children. Its top level prints the pid of the
# process it runs in; the parent prints its children's pids. SIMULATE_FIX (when present)
# hands the server the "main_path" that fixed Pythons give it, as gh-135295 does.
FORKSERVER_PROBE = textwrap.dedent("""
    import multiprocessing, os, time
    from multiprocessing import spawn
    SIMULATE_FIX
    print(f"top level ran as {__name__} in {os.getpid()}", flush=True)
    if __name__ == "__main__":
        ctx = multiprocessing.get_context("forkserver")
        children = [ctx.Process(target=time.sleep, args=(0,)) for _ in range(2)]
        for p in children:
            p.start()
        for p in children:
            p.join()
        print("children:", *[p.pid for p in children], flush=True)
""")
SIMULATED_FIX = textwrap.dedent("""
    if __name__ == "__main__":
        _prepare = spawn.get_preparation_data
        def _with_main_path(name):
            data = _prepare(name)
            data.setdefault("main_path", data.get("init_main_from_path"))
            return data
        spawn.get_preparation_data = _with_main_path
""")


def where_main_reran(tmp_path: Path, simulate_fix: bool) -> str:
    script = tmp_path / "probe.py"
    script.write_text(FORKSERVER_PROBE.replace("SIMULATE_FIX", SIMULATED_FIX if simulate_fix else ""))
    run = forking.run_script(script, timeout=60)
    assert run.returncode == 0, run.stderr
    again = [int(line.split()[-1]) for line in run.lines() if line.startswith("top level ran as __mp_main__")]
    children = [int(pid) for line in run.lines() if line.startswith("children:") for pid in line.split()[1:]]
    if sorted(again) == sorted(children):
        return "in every child"
    if len(again) == 1 and again[0] not in children:
        return "once, in the server"
    return f"unexpected: {run.stdout!r}"


@pytest.mark.skipif("forkserver" not in __import__("multiprocessing").get_all_start_methods(),
                    reason="no forkserver on this platform")
def test_forkserver_reruns_main_where_the_version_rule_says(tmp_path: Path) -> None:
    expected = "once, in the server" if forking.forkserver_preloads_main() else "in every child"
    assert where_main_reran(tmp_path, simulate_fix=False) == expected


@pytest.mark.skipif("forkserver" not in __import__("multiprocessing").get_all_start_methods(),
                    reason="no forkserver on this platform")
def test_a_preloading_forkserver_runs_main_once_in_the_server(tmp_path: Path) -> None:
    assert where_main_reran(tmp_path, simulate_fix=True) == "once, in the server"


@pytest.mark.skipif(not leaks.SHM_DIR.is_dir(), reason="no /dev/shm listing on this platform")
def test_run_script_removes_a_semaphore_that_its_dead_process_left(tmp_path: Path) -> None:
    """A process that dies right after creating a semaphore (as a worker that a pool's
    terminate() catches there) leaves it named in /dev/shm; run_script removes it."""
    name = f"mp-course-orphan-{uuid.uuid4().hex[:8]}"
    script = tmp_path / "orphan.py"
    script.write_text(textwrap.dedent(f"""
        import _multiprocessing, os
        _multiprocessing.SemLock(1, 1, 1, "/{name}", False)   # no tracker hears of it
        os._exit(0)
    """))
    run = forking.run_script(script)
    assert run.returncode == 0, run.stderr
    assert run.removed == {f"sem.{name}"}
    assert f"sem.{name}" not in leaks.shm_entries()


def test_thread_and_interpreter_start_costs() -> None:
    assert 0 < forking.thread_start_cost(repeats=3) < 5
    with pytest.raises(ValueError):
        forking.thread_start_cost(repeats=0)
    interpreter = forking.interpreter_start_cost(repeats=1)
    if sys.version_info >= (3, 14):
        assert interpreter is not None and interpreter > 0
    else:
        assert interpreter is None  # no concurrent.interpreters before 3.14
