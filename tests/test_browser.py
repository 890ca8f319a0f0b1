"""Every notebook works in JupyterLab in a real browser, as a learner sees it.

One JupyterLab server (serving the repository, with throw-away settings: autosave off) and
one headless Chromium serve the whole module. Each notebook of ``notebooks/`` is opened in a
tab, run with Run > Run All Cells from the menu, and checked in the page (tests/browser.py
says what is checked); a screenshot of it goes to ``test-artifacts/browser/``. Fixture
notebooks in ``tests/fixtures/browser/`` prove that the same checks fail on a raising cell,
a wrong expected error, a widget that cannot render and a broken plot. An exercise is done as
a learner does it: a right answer typed into its cells passes its checks, a wrong one gets
the feedback.

Nothing may stay behind: no server, kernel or browser process (found by a marker in their
environment), no file in the repository (notebooks are never saved).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import time
import urllib.request
import uuid
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

import course
from helpers import leaks
from tests import browser
from tests.browser import STDERR
from tests.conftest import ROOT
from tests.wrong_answers import by_topic

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
FIXTURES = ROOT / "tests" / "fixtures" / "browser"
EXERCISE = "00_introduction"
SKIPPED_DIRS = {".git", ".venv", "test-artifacts", "__pycache__", ".pytest_cache",
                "mp_course_helpers.egg-info"}


def relative(path: Path) -> str:
    """``path`` as the server (serving the repository root) names it."""
    return path.relative_to(ROOT).as_posix()


def repository_files() -> dict[str, int]:
    """Every file of the repository (outside the virtual environment, git's data, caches and
    test artifacts) with its modification time: a saved notebook or a new file changes it."""
    files = {}
    for folder, subfolders, names in os.walk(ROOT):
        subfolders[:] = [d for d in subfolders if d not in SKIPPED_DIRS]
        for name in names:
            path = Path(folder, name)
            files[relative(path)] = path.stat().st_mtime_ns
    return files


def browser_unavailable() -> str | None:
    """Why the browser tests cannot run here (None: they can). A missing Chromium that the
    set-up could have installed (root or passwordless sudo on Debian) is a failure, not a
    reason: CI must run these tests."""
    if not sys.platform.startswith("linux"):
        return "the browser tests run on Linux (Debian's chromium package)"
    if not browser.CHROMIUM.exists():
        if course.apt_prefix() is not None:
            pytest.fail(f"{browser.CHROMIUM} is missing; `python3 course.py setup` installs it")
        return (f"{browser.CHROMIUM} is missing and this user cannot install it "
                "(`sudo apt-get install chromium`)")
    return None


def no_commands(*args, **kwargs):
    raise AssertionError(f"set-up ran a command: {args}")


def test_setup_checks_for_the_browser_without_running_anything(monkeypatch, tmp_path) -> None:
    """A set-up re-run with Chromium in place costs one file check, nothing more."""
    present = tmp_path / "chromium"
    present.touch()
    monkeypatch.setattr(course, "CHROMIUM", present)
    monkeypatch.setattr(course.sys, "platform", "linux")
    monkeypatch.setattr(course.subprocess, "call", no_commands)
    course.ensure_browser()


def test_setup_says_how_to_install_chromium_where_it_cannot(monkeypatch, tmp_path,
                                                            capsys) -> None:
    monkeypatch.setattr(course, "CHROMIUM", tmp_path / "missing")
    monkeypatch.setattr(course.sys, "platform", "linux")
    monkeypatch.setattr(course, "apt_prefix", lambda: None)
    monkeypatch.setattr(course.subprocess, "call", no_commands)
    course.ensure_browser()
    assert "apt-get install chromium" in capsys.readouterr().out


@pytest.mark.parametrize("first_install_code, commands", [
    (0, ["install"]),
    (100, ["install", "update", "install"]),  # no package lists yet: update, then retry
])
def test_setup_installs_debian_chromium_as_root(monkeypatch, tmp_path, first_install_code,
                                                commands) -> None:
    calls = []

    def call(argv, **kwargs):
        calls.append(argv)
        return first_install_code if len(calls) == 1 else 0

    monkeypatch.setattr(course, "CHROMIUM", tmp_path / "missing")
    monkeypatch.setattr(course.sys, "platform", "linux")
    monkeypatch.setattr(course, "apt_prefix", lambda: [])
    monkeypatch.setattr(course.subprocess, "call", call)
    course.ensure_browser()
    assert [argv[argv.index("apt-get") + 1] for argv in calls] == commands
    assert calls[-1][-4:] == ["install", "-y", "--no-install-recommends", "chromium"]


@dataclass
class Lab:
    """The module's JupyterLab server and browser."""

    server: browser.LabServer
    browser: Browser


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory):
    """JupyterLab serving the repository, and headless Chromium; afterwards, fail if a
    process of theirs survived or a file of the repository changed."""
    reason = browser_unavailable()
    if reason:
        pytest.skip(reason)
    marker = uuid.uuid4().hex
    state = tmp_path_factory.mktemp("lab")
    files_before = repository_files()
    watch = browser.ProcessWatch(marker)
    started = time.monotonic()
    with ExitStack() as stack:
        watch.start()
        stack.callback(watch.stop)
        server = browser.start_lab(ROOT, state, marker)
        stack.callback(browser.stop_lab, server)
        with pytest.MonkeyPatch.context() as patch:  # Playwright's driver gets the marker
            patch.setenv(browser.MARKER, marker)
            playwright = sync_playwright().start()
        stack.callback(playwright.stop)
        chromium = browser.launch_chromium(playwright, state, marker)
        stack.callback(chromium.close)
        yield Lab(server, chromium)
    seconds = time.monotonic() - started
    ours = {p.pid: p for p in [*watch.seen.values(),
                                *leaks.marked_processes(browser.MARKER, marker)]}
    survivors = leaks.wait_until_gone(list(ours.values()), 20)
    leaks.kill(survivors)
    browser.ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (browser.ARTIFACTS / "resources.txt").write_text(
        f"browser tests: {seconds:.0f} s from server start to shutdown; {len(ours)} processes; "
        f"peak memory of server, kernels, driver and Chromium together: "
        f"{watch.peak_bytes / 2**20:.0f} MiB (PSS summed over {watch.peak_processes} "
        "processes)\n")
    assert not survivors, "left running:\n" + "\n".join(map(str, survivors))
    files_after = repository_files()
    changed = sorted(name for name in files_before.keys() | files_after.keys()
                     if files_before.get(name) != files_after.get(name))
    assert not changed, f"the browser tests changed files of the repository: {changed}"


def dashboard_links(page) -> list[str]:
    """Notebook 13 (issue 15): the Dask dashboard's address renders as a link in an output."""
    links = page.locator(".jp-OutputArea-output a").evaluate_all(
        "anchors => anchors.map(a => a.getAttribute('href'))")
    if any(re.fullmatch(r"http://127\.0\.0\.1:\d+/status|.*/proxy/\d+/status", link or "")
           for link in links):
        return []
    return [f"no link to a Dask dashboard in the outputs (links: {links})"]


# More to check on the page of some notebooks, after Run All.
PAGE_CHECKS = {"13_beyond_one_machine": dashboard_links}


def run_and_check(lab: Lab, notebook: Path, picture: str) -> list[str]:
    """Open ``notebook``, Run All, check the page, keep a screenshot, close it unsaved."""
    path = relative(notebook)
    context = browser.new_context(lab.browser)
    try:
        page = browser.open_notebook(context, lab.server, path)
        try:
            found = browser.check_notebook(page, notebook)
            found += PAGE_CHECKS.get(notebook.stem, lambda _: [])(page)
            browser.screenshots(page, picture)
        finally:
            browser.close_notebook(page, lab.server, path)
    finally:
        context.close()
    return found


@pytest.mark.browser
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[n.stem for n in NOTEBOOKS])
def test_notebook_runs_in_jupyterlab(lab: Lab, notebook: Path) -> None:
    found = run_and_check(lab, notebook, notebook.stem)
    assert not found, f"{notebook.name} in JupyterLab:\n" + "\n".join(found)


@pytest.mark.browser
def test_dask_dashboard_answers_through_the_lab_server(lab: Lab) -> None:
    """How a Binder learner reaches notebook 13's dashboard: through the Jupyter server's
    /proxy/PORT/ (jupyter-server-proxy), with the server's token. A cluster of this test's
    own (threads, no worker process) serves a dashboard on 127.0.0.1; the lab relays it."""
    import logging

    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                      dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR) as cluster:
        port = cluster.scheduler.http_server.port
        request = urllib.request.Request(
            f"{lab.server.base_url}/proxy/{port}/status",
            headers={"Authorization": f"token {lab.server.token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            status, page = response.status, response.read().decode("utf-8", "replace")
    assert status == 200 and "Dask" in page, (status, page[:300])


@pytest.mark.browser
def test_checks_pass_on_a_clean_notebook(lab: Lab) -> None:
    """A widget, a plot, a stderr line it stores and an expected error: all fine."""
    assert run_and_check(lab, FIXTURES / "clean.ipynb", "fixture-clean") == []


@pytest.mark.browser
@pytest.mark.parametrize("fixture, reported", [
    pytest.param(fixture, reported, id=fixture) for fixture, reported in [
        ("raising_cell", [r"cell 2 \(\[2\]:\): unexpected error or stderr output: .*KeyError",
                          r"code cells that did not run .*: \[3\]"]),
        ("wrong_error", [r"cell 1 .* tagged raises-exception but does not show its stored "
                         r"error 'ValueError: the error the lesson explains'"]),
        ("broken_widget", [r"cell 1 .*: a widget did not render"]),
        ("widget_as_text", [r"cell 1 .*: 1 widget\(s\) stored, 0 rendered as widgets"]),
        ("broken_plot", [r"cell 1 .*: 1 of 1 plot image\(s\) did not load"]),
    ]])
def test_checks_catch_a_broken_notebook(lab: Lab, fixture: str, reported: list[str]) -> None:
    found = run_and_check(lab, FIXTURES / f"{fixture}.ipynb", f"fixture-{fixture}")
    for pattern in reported:
        assert any(re.search(pattern, problem) for problem in found), (pattern, found)


def cells_by_grade_id(notebook: Path) -> dict[str, tuple[int, str]]:
    """nbgrader's grade_id of each cell -> (its index, its source)."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return {c["metadata"]["nbgrader"]["grade_id"]: (i, "".join(c["source"]))
            for i, c in enumerate(cells) if "nbgrader" in c.get("metadata", {})}


def as_typed(solution: str) -> str:
    """A solution cell as a learner would type it: without nbgrader's solution markers."""
    return "\n".join(line for line in solution.splitlines()
                     if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))


@pytest.mark.browser
def test_an_exercise_done_as_a_learner(lab: Lab) -> None:
    """Exercise 00, task 1: unsolved, its check fails; the right answer typed in passes; a
    lambda in the pool gets the guard's explanation."""
    exercise = ROOT / "exercises" / f"{EXERCISE}.ipynb"
    cells = cells_by_grade_id(exercise)
    solution = cells_by_grade_id(ROOT / "solutions" / f"{EXERCISE}.ipynb")
    (lambda_answer,) = [w for w in by_topic()[EXERCISE] if w.name == "lambda in a pool"]
    worker, function, test = (cells[k][0] for k in
                              ("ex00_workers", "parallel_cubes", "test_parallel_cubes"))
    assert (lambda_answer.cell, lambda_answer.fails) == ("parallel_cubes", "test_parallel_cubes")

    # A copy in a throw-away folder (git-ignored, removed at the end): the notebook writes
    # ex00_workers.py beside itself, and a learner's own exercises/ex00_workers.py must
    # not be overwritten or deleted by a test.
    folder = browser.ARTIFACTS / f"exercise-{uuid.uuid4().hex[:8]}"
    folder.mkdir(parents=True)
    copy = folder / exercise.name
    shutil.copyfile(exercise, copy)
    context = browser.new_context(lab.browser)
    try:
        page = browser.open_notebook(context, lab.server, relative(copy))
        try:
            expected = browser.expectations(copy)
            browser.run_all_cells(page, {i for i, e in expected.items() if e.runs}, set())
            unsolved = browser.wait_for_output(page, test, "NotImplementedError", STDERR)
            assert "NotImplementedError" in unsolved

            worker_cell = as_typed(solution["ex00_workers"][1])  # %%writefile ex00_workers.py
            browser.type_into_cell(page, worker, worker_cell)
            browser.type_into_cell(page, function, as_typed(solution["parallel_cubes"][1]))
            for index in (worker, function, test):
                browser.run_cell(page, index)
            solved = browser.wait_for_output(page, test, "Task 1: correct.")
            browser.screenshots(page, f"exercise-{EXERCISE}-solved")
            assert "Task 1: correct." in solved
            written = (folder / "ex00_workers.py").read_text()
            assert written.strip() == worker_cell.split("\n", 1)[1].strip()  # typed as meant

            browser.type_into_cell(page, function, lambda_answer.source)
            for index in (function, test):
                browser.run_cell(page, index)
            feedback = browser.wait_for_output(page, test, lambda_answer.says, STDERR)
            browser.screenshots(page, f"exercise-{EXERCISE}-wrong")
            assert lambda_answer.says in feedback
        finally:
            browser.close_notebook(page, lab.server, relative(copy))
    finally:
        context.close()
        shutil.rmtree(folder)
