"""Unit tests of helpers.processes, the worker code of notebook 01_process.

Every function that runs in a child is run in one, under each start method (the
``mp_context`` fixture); the tools the notebook itself calls are tested directly.
"""

from __future__ import annotations

import http.server
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

import helpers  # noqa: F401  (applies the start method, installs the guard)
from helpers import cores, processes
from helpers.workloads import count_primes
from tests.conftest import run_processes

TIMEOUT = 30


def run_child(ctx, target, *args, **kwargs):
    """Start a child of ``ctx`` on ``target`` and return the (not yet joined) process."""
    child = ctx.Process(target=target, args=args, kwargs=kwargs, name="under-test")
    child.start()
    return child


def finish(child) -> int:
    """Join ``child`` (killing it if it hangs) and return its exit code."""
    child.join(TIMEOUT)
    if child.is_alive():
        child.kill()
        child.join()
        pytest.fail(f"{child.name} did not end within {TIMEOUT} s")
    return child.exitcode


@pytest.fixture
def queue(mp_context):
    q = mp_context.Queue()
    yield q
    q.close()
    q.join_thread()


# --- 3. The Process API ------------------------------------------------------------------


def test_power_to_queue_uses_args_kwargs_and_name(mp_context, queue) -> None:
    child = mp_context.Process(
        target=processes.power_to_queue, args=(3, queue), kwargs={"exponent": 4}, name="power"
    )
    child.start()
    assert queue.get(timeout=TIMEOUT) == ("power", 81)
    assert finish(child) == 0
    child = run_child(mp_context, processes.power_to_queue, 5, queue)
    assert queue.get(timeout=TIMEOUT) == ("under-test", 25)  # the default exponent is 2
    assert finish(child) == 0


def test_report_identity_describes_the_child(mp_context, queue, monkeypatch) -> None:
    monkeypatch.setattr(processes, "SETTING", "changed in the parent")
    child = run_child(mp_context, processes.report_identity, queue)
    me = queue.get(timeout=TIMEOUT)
    assert finish(child) == 0
    assert me["name"] == "under-test"
    assert me["pid"] == child.pid != os.getpid()
    assert me["parent_process_pid"] == os.getpid()
    assert me["daemon"] is False
    method = mp_context.get_start_method()
    # Only a fork child is a copy of this process; the others import the module afresh.
    assert me["setting"] == ("changed in the parent" if method == "fork"
                             else "as written in helpers/processes.py")
    # A forkserver child is forked by the server, so the OS names the server as its parent.
    assert (me["getppid"] == os.getpid()) == (method != "forkserver")


def test_report_name_names_the_process_that_runs_it(mp_context, queue) -> None:
    processes.report_name(queue)
    assert queue.get(timeout=TIMEOUT) == "MainProcess"
    child = run_child(mp_context, processes.report_name, queue)
    assert queue.get(timeout=TIMEOUT) == "under-test"
    assert finish(child) == 0


def test_wait_for_returns_whether_the_event_was_set(mp_context) -> None:
    event = mp_context.Event()
    assert processes.wait_for(event, 0.01) is False
    event.set()
    assert processes.wait_for(event, 0.01) is True


def test_wait_for_keeps_a_child_alive_until_the_event_is_set(mp_context) -> None:
    event = mp_context.Event()
    child = run_child(mp_context, processes.wait_for, event, TIMEOUT)
    child.join(0.3)
    assert child.is_alive()
    event.set()
    assert finish(child) == 0


def test_fail_raises_and_ends_a_child_with_exitcode_1(mp_context, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="broken"):
        processes.fail("broken")
    log = tmp_path / "child.stderr"
    child = run_child(mp_context, processes.stderr_to_file, str(log), processes.fail, "broken")
    assert finish(child) == 1
    lines = log.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "Process under-test:"
    assert lines[-1] == "ValueError: broken"


def test_stderr_to_file_runs_the_target_and_leaves_the_file_empty_on_success(
    mp_context, queue, tmp_path: Path
) -> None:
    log = tmp_path / "child.stderr"
    child = run_child(mp_context, processes.stderr_to_file, str(log), processes.report_name, queue)
    assert queue.get(timeout=TIMEOUT) == "under-test"
    assert finish(child) == 0
    assert log.read_text(encoding="utf-8") == ""


def test_exit_with_sets_the_exitcode(mp_context) -> None:
    with pytest.raises(SystemExit):
        processes.exit_with(0)
    assert finish(run_child(mp_context, processes.exit_with, 3)) == 3


def test_describe_exitcode() -> None:
    assert processes.describe_exitcode(None).startswith("None")
    assert processes.describe_exitcode(0) == "0 (success)"
    assert processes.describe_exitcode(3) == "3 (failure)"
    assert processes.describe_exitcode(-signal.SIGTERM) == f"{-signal.SIGTERM} (ended by SIGTERM)"
    assert processes.describe_exitcode(-999) == "-999 (ended by signal 999)"


@pytest.mark.skipif(os.name != "posix", reason="signals are POSIX")
def test_a_child_ignoring_sigterm_survives_terminate_but_not_kill(mp_context) -> None:
    ready = mp_context.Event()
    child = run_child(mp_context, processes.ignore_sigterm_then_wait, ready, TIMEOUT)
    assert ready.wait(TIMEOUT)
    child.terminate()
    child.join(0.5)
    assert child.is_alive()
    child.kill()
    assert finish(child) == -signal.SIGKILL


def test_a_daemon_may_not_start_children(mp_context, queue) -> None:
    child = mp_context.Process(target=processes.try_to_start_a_child, args=(queue,), daemon=True)
    child.start()
    assert queue.get(timeout=TIMEOUT) == (
        "AssertionError", "daemonic processes are not allowed to have children"
    )
    assert finish(child) == 0


def test_a_non_daemon_may_start_children(mp_context, queue) -> None:
    child = run_child(mp_context, processes.try_to_start_a_child, queue)
    assert queue.get(timeout=TIMEOUT) is None
    assert finish(child) == 0


def test_a_daemon_grandchild_dies_with_its_parent(mp_context, queue) -> None:
    parent = run_child(mp_context, processes.start_daemon_grandchild, queue, TIMEOUT)
    grandchild_pid, alive = queue.get(timeout=TIMEOUT)
    assert alive
    assert finish(parent) == 0
    # The parent's exit handler terminated and joined it; allow an instant for the OS.
    assert processes.wait_for_state(grandchild_pid, "gone", timeout=5) == "gone"


def test_doubler_sends_its_result_and_keeps_it_in_the_child(mp_context, queue) -> None:
    doubler = processes.Doubler(21, queue, name="doubler-21")
    doubler.start()
    assert queue.get(timeout=TIMEOUT) == ("doubler-21", 21, 42)
    assert finish(doubler) == 0
    assert not hasattr(doubler, "doubled")


def test_doubler_run_in_this_process_sets_the_attribute(queue) -> None:
    doubler = processes.Doubler(4, queue)
    doubler.run()
    assert doubler.doubled == 8
    assert queue.get(timeout=TIMEOUT)[1:] == (4, 8)


def test_forgetting_super_init_breaks_start() -> None:
    with pytest.raises(AttributeError):
        processes.ForgetsSuperInit(1).start()


# --- 4. Getting results back ---------------------------------------------------------------


def test_square_to_pipe(mp_context) -> None:
    receiver, sender = mp_context.Pipe(duplex=False)
    child = run_child(mp_context, processes.square_to_pipe, 1.5, sender)
    sender.close()
    assert receiver.recv() == 2.25
    assert finish(child) == 0
    with pytest.raises(EOFError):  # the child closed its end: nothing more will come
        receiver.recv()
    receiver.close()


def test_square_into_value(mp_context) -> None:
    value = mp_context.Value("d", 0.0)
    assert finish(run_child(mp_context, processes.square_into_value, -3, value)) == 0
    assert value.value == 9.0


def test_call_and_report_returns_results_and_errors(mp_context, queue) -> None:
    child = run_child(mp_context, processes.call_and_report, count_primes, (100,), queue)
    assert queue.get(timeout=TIMEOUT) == ("ok", 25)
    assert finish(child) == 0
    child = run_child(mp_context, processes.call_and_report, processes.fail, ("no",), queue)
    assert queue.get(timeout=TIMEOUT) == ("error", "ValueError", "no")
    assert finish(child) == 0


# --- 5. Zombies ------------------------------------------------------------------------------


def test_process_state_of_this_process_and_of_a_joined_child(mp_context) -> None:
    assert processes.process_state(os.getpid()) == "running"
    child = run_child(mp_context, time.sleep, 0)
    assert finish(child) == 0
    assert processes.wait_for_state(child.pid, "gone", timeout=5) == "gone"


@pytest.mark.skipif(os.name != "posix", reason="zombies are a POSIX notion")
def test_an_unreaped_child_is_a_zombie_until_active_children(mp_context) -> None:
    child = run_child(mp_context, time.sleep, 0)
    multiprocessing.connection.wait([child.sentinel], timeout=TIMEOUT)
    if mp_context.get_start_method() == "forkserver":
        # The fork server is the OS parent and reaps its children itself.
        assert processes.wait_for_state(child.pid, "gone") == "gone"
    else:
        assert processes.wait_for_state(child.pid, "zombie") == "zombie"
        assert processes.process_state(child.pid) == "zombie"  # looking does not reap
    assert child not in multiprocessing.active_children()
    assert processes.process_state(child.pid) == "gone"
    assert child.exitcode == 0


def test_wait_for_state_gives_up_after_the_timeout() -> None:
    assert processes.wait_for_state(os.getpid(), "gone", timeout=0.05) == "running"


# --- 9. How many processes ---------------------------------------------------------------------


def test_cores_seen_without_pinning_matches_this_process(mp_context, queue) -> None:
    child = run_child(mp_context, processes.cores_seen, queue)
    seen = queue.get(timeout=TIMEOUT)
    assert finish(child) == 0
    assert seen["cpu_count"] == os.cpu_count()
    if hasattr(os, "sched_getaffinity"):
        assert seen["affinity"] == len(os.sched_getaffinity(0))
    if hasattr(os, "process_cpu_count"):
        assert seen["process_cpu_count"] == os.process_cpu_count()
    else:
        assert seen["process_cpu_count"] is None


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs os.sched_setaffinity")
def test_cores_seen_pinned_to_one_core(mp_context, queue) -> None:
    before = os.sched_getaffinity(0)
    child = run_child(mp_context, processes.cores_seen, queue, [min(before)])
    seen = queue.get(timeout=TIMEOUT)
    assert finish(child) == 0
    assert seen["affinity"] == 1
    assert seen["cpu_count"] == os.cpu_count()
    assert os.sched_getaffinity(0) == before  # only the child was restricted


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"cpu.max": "max 100000\n"}, None),
        ({"cpu.max": "150000 100000\n"}, 1.5),
        ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),
        ({"cpu/cpu.cfs_quota_us": "200000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 2.0),
        ({}, None),
    ],
)
def test_cpu_quota_reads_cgroup_v2_and_v1(tmp_path: Path, files: dict[str, str], expected) -> None:
    for name, text in files.items():
        write(tmp_path / name, text)
    assert cores.cpu_quota(str(tmp_path)) == expected


def test_cpu_quota_of_this_machine_is_none_or_positive() -> None:
    quota = cores.cpu_quota()
    assert quota is None or quota > 0


@pytest.mark.parametrize(
    ("usable", "quota", "expected"),
    [(4, None, 4), (4, 1.5, 2), (4, 8.0, 4), (2, 0.2, 1), (0, None, 1)],
)
def test_processes_to_start(usable: int, quota: float | None, expected: int) -> None:
    assert cores.processes_to_start(usable, quota) == expected


def test_count_primes_batch_sums_its_share(mp_context, queue) -> None:
    child = run_child(mp_context, processes.count_primes_batch, [10, 100, 1000], queue)
    assert queue.get(timeout=TIMEOUT) == 4 + 25 + 168
    assert finish(child) == 0


# --- 8. The articles' versions --------------------------------------------------------------


def test_hello_reports_its_name_and_parents(mp_context, queue) -> None:
    child = run_child(mp_context, processes.hello, 7, queue)
    name, pid, ppid, parent_pid = queue.get(timeout=TIMEOUT)
    assert finish(child) == 0
    assert (name, pid, parent_pid) == (7, child.pid, os.getpid())
    assert isinstance(ppid, int) and ppid > 0


def test_doubler_function_reports_number_result_and_name(mp_context, queue) -> None:
    child = run_child(mp_context, processes.doubler, 25, queue)
    assert queue.get(timeout=TIMEOUT) == (25, 50, "under-test")
    assert finish(child) == 0


class _Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = f"page for {self.path}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def local_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_download_html_fetches_from_a_local_server(mp_context, queue, local_server) -> None:
    child = run_child(mp_context, processes.download_html, 3, local_server + "/s?wd=3", queue)
    assert queue.get(timeout=TIMEOUT) == (3, 200, len("page for /s?wd=3"))
    assert finish(child) == 0


def test_download_html_fails_in_the_child_for_a_missing_server(mp_context, queue, tmp_path) -> None:
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Page) as unused:
        port = unused.server_address[1]  # closed again at once: nothing listens there
    log = tmp_path / "child.stderr"
    child = run_child(mp_context, processes.stderr_to_file, str(log), processes.download_html,
                      0, f"http://127.0.0.1:{port}/", queue)
    assert finish(child) == 1
    assert "URLError" in log.read_text(encoding="utf-8")
    assert queue.empty()


def test_workers_are_importable_by_every_start_method() -> None:
    from helpers import guard

    for fn in (processes.power_to_queue, processes.report_identity, processes.wait_for,
               processes.download_html, processes.Doubler):
        assert guard.problem_with(fn, "spawn") is None
    assert sys.modules["helpers.processes"] is processes


def test_environment_without_hides_a_variable_from_children_and_puts_it_back(
    mp_context, monkeypatch
) -> None:
    monkeypatch.setenv("COURSE_DEMO_VARIABLE", "1")
    results = mp_context.Queue()
    with processes.environment_without("COURSE_DEMO_VARIABLE") as value:
        assert value == "1"
        child = mp_context.Process(target=processes.call_and_report,
                                   args=(os.getenv, ("COURSE_DEMO_VARIABLE",), results))
        run_processes([child])
        seen = results.get(timeout=10)
    assert os.environ["COURSE_DEMO_VARIABLE"] == "1"
    assert seen == ("ok", None)
