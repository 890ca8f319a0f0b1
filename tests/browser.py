"""Real-browser support for tests/test_browser.py: JupyterLab, headless Chromium, and what a
notebook shows after "Run All Cells".

A learner runs the course in JupyterLab, so the browser tests do what a learner does: open a
notebook in JupyterLab (served on 127.0.0.1 with a token, from throw-away settings with
autosave off), choose Run > Run All Cells in the menu, and look at the page. This module
holds the pieces:

* ``start_lab`` / ``stop_lab``: a ``jupyter lab`` server whose processes (and its kernels)
  carry a marker in their environment, so the tests can prove that none is left behind;
* ``launch_chromium``: Debian's Chromium (``/usr/bin/chromium``) driven by Playwright, which
  downloads no browser;
* ``open_notebook``, ``run_all_cells``, ``observe``, ``close_notebook``: a notebook in a tab;
* ``expectations`` and ``problems``: what the stored ``.ipynb`` promises and what the page
  shows instead; ``check_notebook`` puts them together.

The checks, per cell, against the notebook's stored outputs:

* an error or stderr output appears only where the notebook expects it: a cell tagged
  ``raises-exception`` shows its stored error (``ename: evalue``), and a cell whose stored
  outputs print to stderr (``09_logging`` teaches ``log_to_stderr``) may show those lines
  (compared after the substitutions of ``tests/nbval_sanitize.cfg``), nothing else;
* every cell with a stored widget shows a rendered widget (not its text form, not
  "Error displaying widget"), and no widget anywhere failed to render;
* every cell with a stored plot shows as many images, and every image has loaded;
* every code cell ran, and the kernel is idle at the end.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from playwright.sync_api import Browser, BrowserContext, Locator, Page, Playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from course import CHROMIUM, allow_root
from helpers import leaks
from tests.conftest import ROOT, free_port, kernel_environment

MARKER = "MP_COURSE_BROWSER_RUN"
ARTIFACTS = ROOT / "test-artifacts" / "browser"
SANITIZE_FILE = ROOT / "tests" / "nbval_sanitize.cfg"

SERVER_START_SECONDS = 120
KERNEL_IDLE_SECONDS = 120
RUN_ALL_SECONDS = 300
# After a cell raised unexpectedly, Run All has stopped once nothing changed for this long.
QUIET_SECONDS = 5
RENDER_SECONDS = 30
SCREENSHOT_HEIGHT = 6000  # pixels per picture of a notebook

# Throw-away user settings: nothing is saved behind the test's back, every cell is in the
# page (no windowing), and nothing tries to reach the internet.
LAB_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification": {
        "fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/extensionmanager-extension/plugin": {"enabled": False},
}

# Flags for Chromium in a container run by root, offline: no sandbox (root), /tmp instead of
# the small /dev/shm, no GPU, and no background connections (refused on a closed network).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

STDERR = "application/vnd.jupyter.stderr"
WIDGET = "application/vnd.jupyter.widget-view+json"


# ---------------------------------------------------------------------------------------
# The JupyterLab server


@dataclass
class LabServer:
    """A running ``jupyter lab`` and how to reach it."""

    process: subprocess.Popen
    port: int
    token: str
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def api(self, method: str, path: str) -> Any:
        """Call the server's REST API (``/api/...``) and return the decoded JSON, if any."""
        request = urllib.request.Request(
            f"{self.base_url}{path}", method=method,
            headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None

    def notebook_url(self, path: str, workspace: str) -> str:
        """The page that opens ``path`` (relative to the server's root) in a fresh workspace,
        so that no tab of an earlier test is restored (and no kernel started for it)."""
        return f"{self.base_url}/lab/workspaces/{workspace}/tree/{path}?token={self.token}"


def write_lab_settings(settings_dir: Path) -> None:
    """Write the user-settings overrides of LAB_SETTINGS into ``settings_dir``."""
    for plugin, values in LAB_SETTINGS.items():
        target = settings_dir / f"{plugin}.jupyterlab-settings"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values), encoding="utf-8")


def start_lab(root: Path, state_dir: Path, marker: str) -> LabServer:
    """Start ``jupyter lab`` serving ``root`` with its settings, workspaces, checkpoints and
    runtime files in ``state_dir``; return once its API answers.

    The server and every kernel it starts carry ``MARKER=marker`` in their environment.
    ``PYTEST_CURRENT_TEST`` is left out: ipykernel stops capturing the output of spawn and
    forkserver children when it sees that variable (COURSE_GUIDE section 4).
    """
    write_lab_settings(state_dir / "settings")
    # After an unexpected error ipykernel aborts only the execute requests that have already
    # arrived (stop_on_error_timeout, 0 s by default). Run All sends every cell at once, but
    # on a loaded machine the later ones can reach the kernel after that, and run: seen once
    # in a clean-clone run (the raising_cell fixture's cell 3 ran). The checks need Run All
    # to stop where a learner's does, so these kernels wait 5 s for late requests to abort.
    profile = state_dir / "ipython" / "profile_default"
    profile.mkdir(parents=True, exist_ok=True)
    (profile / "ipython_kernel_config.py").write_text(
        "c.IPythonKernel.stop_on_error_timeout = 5.0\n")
    env = kernel_environment(**{
        MARKER: marker,
        "IPYTHONDIR": str(state_dir / "ipython"),
        "JUPYTER_CONFIG_DIR": str(state_dir / "config"),
        "JUPYTER_RUNTIME_DIR": str(state_dir / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(state_dir / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(state_dir / "workspaces"),
    })
    port, token = free_port(), os.urandom(16).hex()
    log = state_dir / "jupyter-lab.log"
    with open(log, "wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "jupyter", "lab", *allow_root(), "--no-browser",
             "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
             "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
             f"--ServerApp.root_dir={root}", "--LabApp.news_url=None",
             # JupyterLab makes a checkpoint of each notebook it opens: not in the repository.
             f"--FileCheckpoints.root_dir={state_dir / 'checkpoints'}"],
            cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=log_file,
            stderr=subprocess.STDOUT)
    server = LabServer(process, port, token, log)
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        try:
            server.api("GET", "/api/status")
            return server
        except OSError:
            time.sleep(0.5)
    stop_lab(server)
    raise RuntimeError(f"jupyter lab did not answer within {SERVER_START_SECONDS} s "
                       f"(exit code {process.poll()}); its log:\n{log.read_text()[-3000:]}")


def stop_lab(server: LabServer) -> None:
    """Stop the server with SIGTERM (it shuts its kernels down first); kill it if it hangs."""
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


# ---------------------------------------------------------------------------------------
# The browser


def launch_chromium(playwright: Playwright, state_dir: Path, marker: str) -> Browser:
    """Start headless Debian Chromium through Playwright, with a fresh temporary profile,
    its crash reports and caches in ``state_dir`` (not in the user's home) and
    ``MARKER=marker`` in its environment."""
    env = {**os.environ, MARKER: marker, "XDG_CONFIG_HOME": str(state_dir / "chromium-config"),
           "XDG_CACHE_HOME": str(state_dir / "chromium-cache")}
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                      args=CHROMIUM_ARGS, env=env, timeout=60_000)


def new_context(browser: Browser) -> BrowserContext:
    """A browser window the size of a laptop screen."""
    return browser.new_context(viewport={"width": 1280, "height": 900})


# ---------------------------------------------------------------------------------------
# A notebook in a tab


def kernel_status(page: Page) -> str:
    """The kernel status the status bar shows ("Idle", "Busy", "Starting", ...), or ''."""
    text = page.locator("#jp-main-statusbar").inner_text(timeout=10_000)
    match = re.search(r"\| (\w+)", text)
    return match.group(1) if match else ""


def open_notebook(context: BrowserContext, server: LabServer, path: str) -> Page:
    """Open ``path`` in a new tab of JupyterLab and wait until its kernel is idle."""
    page = context.new_page()
    page.set_default_timeout(30_000)
    workspace = "w" + os.urandom(6).hex()
    page.goto(server.notebook_url(path, workspace), timeout=60_000)
    page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=60_000)
    # Run All does nothing until the kernel is ready: the status bar then says "| Idle".
    page.locator("#jp-main-statusbar").get_by_text("| Idle").wait_for(
        timeout=KERNEL_IDLE_SECONDS * 1000)
    return page


CODE_CELLS_JS = """
() => [...document.querySelectorAll('.jp-Notebook .jp-CodeCell[data-windowed-list-index]')].map(
  c => [Number(c.dataset.windowedListIndex),
        (c.querySelector('.jp-InputPrompt')?.textContent ?? '').trim(),
        c.querySelector(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
          !== null])
"""


def code_cells(page: Page) -> list[tuple[int, str, bool]]:
    """Each code cell's index, input prompt ("[3]:", "[*]:", "[ ]:") and whether it shows an
    error or stderr output, in order."""
    return [tuple(c) for c in page.evaluate(CODE_CELLS_JS)]


def choose_menu(page: Page, menu: str, item: str) -> None:
    """Click ``menu`` in the menu bar, then its ``item``, as a learner does."""
    page.locator("#jp-MainMenu").get_by_role("menuitem", name=menu, exact=True).click()
    page.locator(".lm-Menu").get_by_role("menuitem", name=item, exact=True).click()


def run_all_cells(page: Page, runs: set[int], may_raise: set[int],
                  timeout: float = RUN_ALL_SECONDS) -> bool:
    """Clear all outputs, then Run > Run All Cells, and wait until the run is over.

    ``runs``: the indices of the cells that get an execution count when they run (code
    cells with code); ``may_raise``: those tagged ``raises-exception``, past which Run All
    goes on. Clearing first (Edit > Clear Outputs of All Cells) removes the stored outputs
    and execution counts, so what the page shows afterwards comes from this run only.

    The run is over when the kernel is idle, no prompt shows ``[*]``, and either every cell
    of ``runs`` has an execution count, or the last one that has shows an error although
    it may not raise (Run All stops there) and nothing changed for QUIET_SECONDS. A pause
    between two cells (JupyterLab sends them one by one) is not the end. Returns False if
    the run was not over after ``timeout`` seconds.
    """
    choose_menu(page, "Edit", "Clear Outputs of All Cells")
    choose_menu(page, "Run", "Run All Cells")
    deadline = time.monotonic() + timeout
    last, quiet_since = None, time.monotonic()
    while time.monotonic() < deadline:
        state = (tuple(code_cells(page)), kernel_status(page))
        if state != last:
            last, quiet_since = state, time.monotonic()
        cells, status = state
        if status == "Idle" and not any("*" in prompt for _, prompt, _ in cells):
            ran = [(index, shows_error) for index, prompt, shows_error in cells
                   if re.fullmatch(r"\[\d+\]:", prompt)]
            if {index for index, _ in ran} >= runs:
                return True
            stopped = ran and ran[-1][1] and ran[-1][0] not in may_raise
            if stopped and time.monotonic() - quiet_since >= QUIET_SECONDS:
                return True
        time.sleep(0.25)
    return False


# Everything the checks need from the page, in one pass over the cells. A widget's output
# (ipywidgets' renderer, a panel without a data-mime-type) holds the widget's view, an
# element of class jupyter-widgets; when the view cannot be built it holds ipywidgets' error
# widget or the text "Error displaying widget" instead, and "Loading widget..." until then.
OBSERVE_JS = """
() => [...document.querySelectorAll('.jp-Notebook .jp-Cell[data-windowed-list-index]')].map(
  cell => ({
    index: Number(cell.dataset.windowedListIndex),
    code: cell.classList.contains('jp-CodeCell'),
    prompt: (cell.querySelector('.jp-InputPrompt')?.textContent ?? '').trim(),
    outputs: [...cell.querySelectorAll('.jp-OutputArea-output')].map(o => ({
      mime: o.dataset.mimeType ?? 'application/vnd.jupyter.widget-view+json',
      text: o.innerText,
      widget: o.querySelector('.jupyter-widgets') !== null
              && o.querySelector('.jupyter-widgets-error-widget') === null
              && !/^(Error displaying widget|Loading widget)/.test(o.textContent.trim()),
      images: [...o.querySelectorAll('.jp-RenderedImage img')].map(
        i => i.complete && i.naturalWidth > 0),
    })),
  }))
"""

# Widgets and images render after the cell's output arrives; wait until each has settled.
SETTLED_JS = """
() => [...document.querySelectorAll('.jp-RenderedImage img')].every(i => i.complete)
      && [...document.querySelectorAll('.jp-OutputArea-output')].every(
           o => !o.textContent.trim().startsWith('Loading widget'))
"""


@dataclass
class OutputView:
    """One output as the page shows it."""

    mime: str
    text: str
    widget: bool
    images: list[bool]


@dataclass
class CellView:
    """One cell as the page shows it."""

    index: int
    code: bool
    prompt: str
    outputs: list[OutputView]


def observe(page: Page) -> list[CellView]:
    """Read every cell's prompt and outputs from the page, once widgets and images settled."""
    try:
        page.wait_for_function(SETTLED_JS, timeout=RENDER_SECONDS * 1000)
    except PlaywrightTimeout:  # what did not settle is reported by problems()
        pass
    return [CellView(c["index"], c["code"], c["prompt"],
                     [OutputView(**o) for o in c["outputs"]])
            for c in page.evaluate(OBSERVE_JS)]


def close_notebook(page: Page, server: LabServer, path: str) -> None:
    """Shut the notebook's kernel down (gracefully, through the server) and close its tab
    without saving."""
    for session in server.api("GET", "/api/sessions"):
        if session["path"] == path:
            server.api("DELETE", f"/api/sessions/{session['id']}")
    page.close(run_before_unload=False)


def screenshots(page: Page, name: str, piece_height: int = SCREENSHOT_HEIGHT) -> list[Path]:
    """Pictures of the whole notebook, top to bottom, each ``piece_height`` pixels high:
    test-artifacts/browser/<name>.png, then <name>-2.png, <name>-3.png, ..."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in [ARTIFACTS / f"{name}.png", *ARTIFACTS.glob(f"{name}-[0-9]*.png")]:
        old.unlink(missing_ok=True)
    page.set_viewport_size({"width": 1280, "height": piece_height})
    scroller = page.locator(".jp-NotebookPanel .jp-WindowedPanel-outer").first
    # The notebook's height down to its last cell (below it, JupyterLab leaves room to
    # scroll past the end), and the height of one screenful.
    total, visible = scroller.evaluate("""e => {
        const cells = e.querySelectorAll('.jp-Cell');
        const last = cells[cells.length - 1];
        const bottom = last ? last.getBoundingClientRect().bottom
                              - e.getBoundingClientRect().top + e.scrollTop : 0;
        return [Math.ceil(bottom) + 20, e.clientHeight];
    }""")
    tops = list(range(0, max(total - visible, 0) + 1, max(visible, 1)))
    if tops[-1] + visible < total:
        tops.append(total - visible)
    pictures = []
    for top in tops:
        scroller.evaluate("(e, top) => { e.scrollTop = top; }", top)
        number = len(pictures) + 1
        pictures.append(ARTIFACTS / (f"{name}.png" if number == 1 else f"{name}-{number}.png"))
        page.screenshot(path=pictures[-1], timeout=60_000)
    return pictures


# ---------------------------------------------------------------------------------------
# What the stored notebook promises, and what the page shows instead


@dataclass
class CellExpectation:
    """What one code cell of the stored notebook leads us to expect in the page."""

    index: int
    runs: bool  # a code cell with code in it gets an execution count
    may_raise: bool = False  # tagged raises-exception
    error: str | None = None  # its stored error, "ename: evalue"
    stderr_lines: set[str] = field(default_factory=set)
    widgets: int = 0
    images: int = 0


def sanitize_rules(path: Path = SANITIZE_FILE) -> list[tuple[re.Pattern, str]]:
    """The ``regex:``/``replace:`` pairs of nbval's sanitize file."""
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    rules = []
    for line, following in zip(lines, lines[1:]):
        if line.startswith("regex:") and following.startswith("replace:"):
            rules.append((re.compile(line[len("regex:"):].strip()),
                          following[len("replace:"):].strip()))
    return rules


def normalise(text: str, rules: list[tuple[re.Pattern, str]]) -> str:
    """Text with machine-specific details replaced and runs of white space made one space."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)  # ANSI colours of stored tracebacks
    for pattern, replacement in rules:
        text = pattern.sub(replacement, text)
    return " ".join(text.split())


def expectations(notebook: Path) -> dict[int, CellExpectation]:
    """For each code cell (by its index among all cells): what the stored notebook expects."""
    rules = sanitize_rules()
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    expected = {}
    for index, cell in enumerate(cells):
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        tags = cell.get("metadata", {}).get("tags", [])
        expect = CellExpectation(index, runs=bool(source.strip()),
                                 may_raise="raises-exception" in tags)
        for output in cell.get("outputs", []):
            kind, data = output["output_type"], output.get("data", {})
            if kind == "error" and "raises-exception" in tags:
                expect.error = normalise(f"{output['ename']}: {output['evalue']}", rules)
            elif kind == "stream" and output["name"] == "stderr":
                text = "".join(output["text"])
                expect.stderr_lines |= {normalise(line, rules) for line in text.splitlines()}
            expect.widgets += WIDGET in data
            expect.images += "image/png" in data
        expect.stderr_lines.discard("")
        expected[index] = expect
    return expected


def first_lines(text: str, count: int = 4) -> str:
    """The first lines of an output, for a failure message."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    more = " ..." if len(lines) > count else ""
    return " | ".join(lines[:count]) + more


def problems(cells: list[CellView], expected: dict[int, CellExpectation]) -> list[str]:
    """Everything the page shows that the stored notebook does not lead us to expect.

    ``cells`` is the page after Run All (``observe``), ``expected`` the stored notebook
    (``expectations``). An empty list means the notebook passed.
    """
    rules = sanitize_rules()
    found = []
    shown = {cell.index: cell for cell in cells}
    if set(expected) - set(shown):
        found.append(f"the page shows {len(cells)} cells; the notebook's code cells "
                     f"{sorted(set(expected) - set(shown))} are missing from it")
    not_run = []
    for index, expect in sorted(expected.items()):
        cell = shown.get(index)
        if cell is None:
            continue
        where = f"cell {index} ({cell.prompt or 'no prompt'})"
        if expect.runs and not re.fullmatch(r"\[\d+\]:", cell.prompt):
            not_run.append(index)

        error_shown = False
        for output in cell.outputs:
            if output.mime != STDERR:
                continue
            text = normalise(output.text, rules)
            if expect.error and expect.error in text:
                error_shown = True
            elif not {normalise(line, rules) for line in output.text.splitlines()} - {""} \
                    <= expect.stderr_lines:
                found.append(f"{where}: unexpected error or stderr output: "
                             f"{first_lines(output.text)}")
        if expect.error and not error_shown:
            found.append(f"{where} is tagged raises-exception but does not show its stored "
                         f"error {expect.error!r}")

        widgets = [o for o in cell.outputs if o.mime == WIDGET]
        rendered = sum(o.widget for o in widgets)
        for output in widgets:
            if not output.widget:
                found.append(f"{where}: a widget did not render: "
                             f"{first_lines(output.text) or '(empty)'}")
        if rendered < expect.widgets:
            found.append(f"{where}: {expect.widgets} widget(s) stored, {rendered} rendered "
                         "as widgets (shown as text or not at all)")

        images = [ok for o in cell.outputs for ok in o.images]
        if not all(images):
            found.append(f"{where}: {images.count(False)} of {len(images)} plot image(s) "
                         "did not load")
        if len(images) < expect.images:
            found.append(f"{where}: {expect.images} plot(s) stored, {len(images)} shown "
                         "as images")
    if not_run:
        found.append(f"code cells that did not run (Run All stops at an unexpected error): "
                     f"{not_run}")
    return found


def check_notebook(page: Page, notebook: Path) -> list[str]:
    """Run All Cells in the open ``page`` of ``notebook`` and return every problem the page
    shows, the kernel's state included (empty: the notebook passed)."""
    expected = expectations(notebook)
    finished = run_all_cells(page, {i for i, e in expected.items() if e.runs},
                             {i for i, e in expected.items() if e.may_raise})
    found = [] if finished else [f"Run All had not finished after {RUN_ALL_SECONDS} s"]
    cells = observe(page)
    found += problems(cells, expected)
    status = kernel_status(page)
    if not finished and status == "Idle" and any("*" in c.prompt for c in cells):
        found.append("the kernel is idle while cells wait at [*]: it never read their "
                     "requests (ipykernel 7.0-7.3 lost requests this way, ipykernel#1554)")
    if status != "Idle":
        found.append(f"the kernel is {status or 'gone'!r} at the end, not idle")
    return found


# ---------------------------------------------------------------------------------------
# Typing into a cell as a learner does


def cell_locator(page: Page, index: int) -> Locator:
    """The cell at ``index`` (among all cells) as a Playwright locator."""
    return page.locator(f".jp-Notebook .jp-Cell[data-windowed-list-index='{index}']")


def type_into_cell(page: Page, index: int, text: str) -> None:
    """Replace the code of cell ``index`` by ``text``: click into its editor, select all,
    type. (Inserted as typed text, without the editor's auto-indent on Enter.)"""
    editor = cell_locator(page, index).locator(".cm-content")
    editor.click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.insert_text(text)


def run_cell(page: Page, index: int) -> None:
    """Run cell ``index`` with Shift+Enter, as a learner does."""
    cell_locator(page, index).locator(".cm-content").click()
    page.keyboard.press("Shift+Enter")


def wait_for_output(page: Page, index: int, text: str, mime: str | None = None,
                    timeout: float = 120) -> str:
    """Wait until an output of cell ``index`` (of type ``mime``, if given) contains
    ``text``; return the cell's output text either way."""
    selector = ".jp-OutputArea-output" + (f"[data-mime-type='{mime}']" if mime else "")
    outputs = cell_locator(page, index).locator(selector)
    try:
        outputs.filter(has_text=text).first.wait_for(timeout=timeout * 1000)
    except PlaywrightTimeout:  # the caller asserts on the text returned
        pass
    return "\n".join(outputs.all_inner_texts())


# ---------------------------------------------------------------------------------------
# The processes of a browser test run, and what they cost


class ProcessWatch(threading.Thread):
    """Every second, finds the processes of a run: those with ``MARKER=marker`` in their
    environment (server, kernels and their workers, Playwright's driver, Chromium, its crash
    handler) and their descendants (Chromium's zygote starts its renderers with an empty
    environment). Remembers each one seen, and the peak of their summed memory: PSS (shared
    pages split between the processes that share them, so the sum is what the run costs)."""

    def __init__(self, marker: str):
        super().__init__(daemon=True)
        self.marker = marker
        self.seen: dict[int, psutil.Process] = {}
        self.peak_bytes = 0
        self.peak_processes = 0
        self._done = threading.Event()

    def current(self) -> list[psutil.Process]:
        """The run's processes alive now."""
        found = {}
        for proc in leaks.marked_processes(MARKER, self.marker):
            found[proc.pid] = proc
            try:
                found.update((child.pid, child) for child in proc.children(recursive=True))
            except psutil.NoSuchProcess:
                pass
        return list(found.values())

    def sample(self) -> None:
        """Record the processes alive now and their summed memory."""
        procs = self.current()
        total = 0
        for proc in procs:
            self.seen.setdefault(proc.pid, proc)
            try:
                total += proc.memory_full_info().pss
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                pass
        if total > self.peak_bytes:
            self.peak_bytes, self.peak_processes = total, len(procs)

    def run(self) -> None:
        while not self._done.wait(1.0):
            self.sample()

    def stop(self) -> list[psutil.Process]:
        """Stop watching; return every process of the run seen (alive or not)."""
        self._done.set()
        self.join(timeout=10)
        self.sample()
        return list(self.seen.values())
