#!/usr/bin/env python3
"""Set up the course and open it, or set it up and test it. Needs nothing but Python 3.10+.

    python3 course.py lab     # set up, then open JupyterLab on the first notebook
    python3 course.py test    # set up, then run the whole test suite
    python3 course.py setup   # set up only
    python3 course.py record NOTEBOOK...   # re-run notebooks and store their outputs
    python3 course.py links   # rebuild the README's badge and notebook table
    python3 course.py exercises [NN_topic ...]   # regenerate exercises/ from solutions/
    python3 course.py grade NOTEBOOK...   # grade learners' exercises (hidden tests, spawn)
    python3 course.py wrong NN_topic [--method M] [NAME ...]   # are its wrong answers caught?

Set-up creates the virtual environment ``.venv`` beside this file, installs the pinned
dependencies of ``requirements.txt`` and the ``helpers`` package (editable) into it, and
records a fingerprint of those files; a later run with the same fingerprint skips it.
``setup`` and ``test`` also make sure the browser for the real-browser tests is there: on
Linux, Debian's ``chromium`` package, installed with apt-get when this user may (root or
passwordless sudo); Playwright drives it, so no browser is downloaded.
Arguments after the command go to ``jupyter lab`` or to ``pytest``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / "course-setup.sha256"
SETUP_FILES = ("requirements.txt", "requirements-dev.txt", "pyproject.toml", "course.py")
FIRST_NOTEBOOK = "notebooks/00_introduction.ipynb"
# The browser the real-browser tests drive (tests/browser.py): Debian's chromium package.
CHROMIUM = Path("/usr/bin/chromium")


def venv_python() -> Path:
    """The interpreter inside the course's virtual environment."""
    if os.name == "nt":
        return VENV / "Scripts" / "python.exe"
    return VENV / "bin" / "python"


def fingerprint() -> str:
    """A hash of everything set-up depends on: the set-up files and this Python's version."""
    digest = hashlib.sha256(sys.version.encode())
    for name in SETUP_FILES:
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def run(*args: str | Path) -> None:
    """Run a command, echoing it, and stop with its exit code if it fails."""
    print("+", " ".join(str(a) for a in args), flush=True)
    code = subprocess.call([str(a) for a in args], cwd=ROOT)
    if code:
        sys.exit(code)


def setup() -> Path:
    """Create or refresh .venv when the set-up files changed; return its Python."""
    if sys.version_info < (3, 10):
        sys.exit(f"The course needs Python 3.10 or newer; this is {sys.version.split()[0]}.")
    wanted = fingerprint()
    python = venv_python()
    if python.exists() and STAMP.exists() and STAMP.read_text() == wanted:
        return python
    started = time.monotonic()
    if not python.exists():
        print(f"Creating the virtual environment {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "-r", "requirements.txt", "-r", "requirements-dev.txt")
    run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--no-deps", "-e", ".")
    STAMP.write_text(wanted)
    print(f"Set-up done in {time.monotonic() - started:.0f} s.", flush=True)
    return python


def is_root() -> bool:
    """True when this process runs as root (POSIX): apt-get needs no sudo, and JupyterLab
    refuses to start without ``--allow-root``."""
    return hasattr(os, "geteuid") and os.geteuid() == 0


def allow_root() -> list[str]:
    """The option ``jupyter lab`` needs to start as root, or nothing."""
    return ["--allow-root"] if is_root() else []


def apt_prefix() -> list[str] | None:
    """How this user runs apt-get as root: [] as root, ["sudo", "-n"] with passwordless
    sudo, None when it cannot (or the system has no apt-get)."""
    if shutil.which("apt-get") is None or not hasattr(os, "geteuid"):
        return None
    if is_root():
        return []
    if shutil.which("sudo") and subprocess.call(
            ["sudo", "-n", "true"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) == 0:
        return ["sudo", "-n"]
    return None


def ensure_browser() -> None:
    """Install Debian's chromium for the real-browser tests on Linux when it is missing.

    Costs one file check when the browser is there. Where it cannot be installed (not
    root, no passwordless sudo, no apt-get), print how to install it; the browser tests
    then skip with that reason.
    """
    if not sys.platform.startswith("linux") or CHROMIUM.exists():
        return
    prefix = apt_prefix()
    if prefix is None:
        print(f"The browser tests need Chromium at {CHROMIUM}; install it with "
              "`sudo apt-get install chromium` (Debian/Ubuntu), or they will be skipped.",
              flush=True)
        return
    install = [*prefix, "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install",
               "-y", "--no-install-recommends", "chromium"]
    print("+", " ".join(install), flush=True)
    if subprocess.call(install) != 0:  # the package lists may be missing or stale
        run(*prefix, "apt-get", "update")
        run(*install)


def exec_in_venv(python: Path, args: list[str]) -> None:
    """Replace this process by the command (so signals reach it), or wait for it on Windows."""
    argv = [str(python), *args]
    print("+", " ".join(argv), flush=True)
    os.chdir(ROOT)
    if os.name == "nt":
        sys.exit(subprocess.call(argv))
    os.execv(argv[0], argv)


def lab(extra: list[str]) -> None:
    """Open JupyterLab on the first notebook."""
    python = setup()
    exec_in_venv(python, ["-m", "jupyter", "lab", *allow_root(),
                          f"--ServerApp.default_url=/lab/tree/{FIRST_NOTEBOOK}",
                          *extra])


def parallel_options(extra: list[str]) -> list[str]:
    """pytest-xdist's options for a run on every core (tests/parallel.py), or nothing: when
    the caller chose (-n, --dist, -p no:xdist), on one core, or where a worker cannot have a
    /dev/shm of its own (tests/isolation.py: Linux as root), which runs serially."""
    if any(arg.startswith(("-n", "--numprocesses", "--dist")) or arg.endswith("no:xdist")
           for arg in extra):
        return []
    from tests import isolation  # standard library only, like this file

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if (cores or 1) < 2:
        return []
    if not isolation.can_isolate():
        print("The suite runs serially: a parallel worker needs a private /dev/shm "
              "(Linux, as root).", flush=True)
        return []
    return ["-n", str(min(cores, 4)), "--dist", "loadscope"]


def test(extra: list[str]) -> None:
    """Run the whole test suite on every core: unit tests, exercises, the classroom round,
    every notebook under every start method, and the browser runs."""
    python = setup()
    ensure_browser()
    exec_in_venv(python, ["-m", "pytest", *parallel_options(extra), *extra])


def exercises(names: list[str]) -> None:
    """Regenerate the student exercises (all, or those named) from the solutions with
    nbgrader's preprocessors."""
    exec_in_venv(setup(), ["-m", "tools.exercises", *names])


def grade(notebooks: list[str]) -> None:
    """Grade learners' exercise notebooks under spawn, hidden tests included."""
    exec_in_venv(setup(), ["-m", "tools.exercises", "--grade", *notebooks])


def wrong(args: list[str]) -> None:
    """Grade a topic's wrong answers (tests/wrong_answers) and say which the checks catch."""
    exec_in_venv(setup(), ["-m", "tools.exercises", "--wrong", *args])


def record(notebooks: list[str]) -> None:
    """Execute notebooks in place under spawn, storing the outputs nbval will compare."""
    python = setup()
    os.environ["MP_START_METHOD"] = "spawn"
    exec_in_venv(python, ["-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
                          "--inplace", "--ExecutePreprocessor.timeout=300", *notebooks])


LINKS_START = "<!-- notebook-links:start (python3 course.py links) -->"
LINKS_END = "<!-- notebook-links:end -->"


def repository_url() -> str:
    """The course's GitHub repository, configured once as Repository in pyproject.toml."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    match = re.search(r'^Repository\s*=\s*"(https://github\.com/[^"]+?)/?"', text, re.M)
    if not match:
        sys.exit('pyproject.toml needs Repository = "https://github.com/OWNER/NAME" '
                 "under [project.urls].")
    return match.group(1)


def notebook_title(path: Path) -> str:
    """The first Markdown heading of a notebook, without its '#' marks."""
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return path.stem


def links_block() -> str:
    """The README's Binder badge and one row of links per notebook, from repository_url()."""
    repo = repository_url()
    binder = repo.replace("https://github.com/", "https://mybinder.org/v2/gh/") + "/HEAD"
    lines = [
        LINKS_START,
        f"[![Binder](https://mybinder.org/badge_logo.svg)]({binder}?urlpath=lab/tree/{FIRST_NOTEBOOK})",
        "",
        "| Notebook | Read | Run on Binder | Exercise on Binder |",
        "|---|---|---|---|",
    ]
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        rel = path.relative_to(ROOT).as_posix()
        exercise = f"exercises/{path.name}"
        practise = (f"[exercise]({binder}?urlpath=lab/tree/{exercise})"
                    if (ROOT / exercise).exists() else "")
        lines.append(f"| {notebook_title(path)} | [{rel}]({repo}/blob/main/{rel}) "
                     f"| [launch]({binder}?urlpath=lab/tree/{rel}) | {practise} |")
    lines.append(LINKS_END)
    return "\n".join(lines)


def links(_: list[str]) -> None:
    """Rewrite the README's generated block of links."""
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    start, end = text.index(LINKS_START), text.index(LINKS_END) + len(LINKS_END)
    readme.write_text(text[:start] + links_block() + text[end:], encoding="utf-8")
    print("README.md links rebuilt from", repository_url())


def main(argv: list[str]) -> None:
    commands = {"lab": lab, "test": test,
                "setup": lambda extra: (setup(), ensure_browser()), "record": record,
                "links": links, "exercises": exercises, "grade": grade,
                "wrong": wrong}
    if not argv or argv[0] not in commands:
        sys.exit(__doc__)
    commands[argv[0]](argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
