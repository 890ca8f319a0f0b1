#!/usr/bin/env python3
"""Set up the course and open it, or set it up and test it. Needs nothing but Python 3.11+.

    python3 course.py lab     # set up, then open JupyterLab on the first notebook
    python3 course.py test    # set up, then run the whole test suite (and every notebook
                              # on each other tested Python this machine has)
    python3 course.py test --this-python   # leave the other Pythons out (the quick loop)
    python3 course.py test --python 3.13   # the whole suite on another Python
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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP_NAME = "course-setup.sha256"
SETUP_FILES = ("requirements.txt", "requirements-dev.txt", "pyproject.toml", "course.py")
FIRST_NOTEBOOK = "notebooks/00_introduction.ipynb"
# The capstone notebooks (NN_capstone_*) share one graded capstone exercise, this one.
CAPSTONE_EXERCISE = "14_capstone_images"
# The Pythons the course supports: the oldest, and those the suite runs on (README, CI).
OLDEST_PYTHON = (3, 11)
TESTED_PYTHONS = ("3.11", "3.12", "3.13")
# The browser the real-browser tests drive (tests/browser.py): Debian's chromium package.
CHROMIUM = Path("/usr/bin/chromium")


def version_of(python: str | Path) -> str | None:
    """The full ``sys.version`` of an interpreter, or None when it does not run (a pyenv
    shim answers only when pyenv selects its version)."""
    try:
        done = subprocess.run([str(python), "-c", "import sys; print(sys.version)"],
                              capture_output=True, text=True, timeout=30)
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def major_minor(version: str) -> str:
    """'3.13' from a ``sys.version`` string."""
    return ".".join(version.split()[0].split(".")[:2])


def find_python(wanted: str) -> Path | None:
    """The interpreter for ``wanted``: a path, or a version such as 3.13 (found as
    ``python3.13`` on PATH, else through ``pyenv prefix``); None when there is none."""
    if os.sep in wanted or (os.altsep and os.altsep in wanted):
        return Path(wanted) if version_of(wanted) else None
    candidates = [shutil.which(f"python{wanted}")]
    if shutil.which("pyenv"):
        prefix = subprocess.run(["pyenv", "prefix", wanted], capture_output=True, text=True)
        if prefix.returncode == 0 and prefix.stdout.strip():
            candidates.append(str(Path(prefix.stdout.strip()) / "bin" / f"python{wanted}"))
    for candidate in filter(None, candidates):
        version = version_of(candidate)
        if version and major_minor(version) == wanted:
            return Path(candidate)
    return None


def venv_for(version: str) -> Path:
    """The virtual environment for a Python version: ``.venv`` for the Python running this
    file, ``.venv-3.13`` and so on for the others; when this file runs inside one of these
    environments (a test of the README's commands), that one for its own version."""
    if version != major_minor(sys.version):
        return ROOT / f".venv-{version}"
    running = Path(sys.prefix).resolve()
    if running.parent == ROOT and running.name.startswith(".venv"):
        return running
    return VENV


def venv_python(env: Path = VENV) -> Path:
    """The interpreter inside a virtual environment of the course."""
    if os.name == "nt":
        return env / "Scripts" / "python.exe"
    return env / "bin" / "python"


def fingerprint(version: str = sys.version) -> str:
    """A hash of everything set-up depends on: the set-up files and the Python's version."""
    digest = hashlib.sha256(version.encode())
    for name in SETUP_FILES:
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def run(*args: str | Path) -> None:
    """Run a command, echoing it, and stop with its exit code if it fails."""
    print("+", " ".join(str(a) for a in args), flush=True)
    code = subprocess.call([str(a) for a in args], cwd=ROOT)
    if code:
        sys.exit(code)


def unsupported(version: tuple[int, ...], executable: str, command: str = "lab") -> str | None:
    """The sentence that stops the course on a Python it does not support, or None."""
    if tuple(version[:2]) >= OLDEST_PYTHON:
        return None
    oldest = ".".join(map(str, OLDEST_PYTHON))
    return (f"This course needs Python {oldest} or newer (its tests run on "
            f"{', '.join(TESTED_PYTHONS)}); {executable} is Python "
            f"{'.'.join(map(str, version[:3]))}. Install a newer Python (python.org/downloads, "
            f"your system's packages, or pyenv) and run this command with it, for example "
            f"`python{TESTED_PYTHONS[-1]} course.py {command}`.")


def setup(base: Path | None = None) -> Path:
    """Create or refresh the virtual environment of ``base`` (default: the Python running
    this file) when the set-up files changed; return its Python."""
    version = version_of(base) if base else sys.version
    if version is None:
        sys.exit(f"{base} does not run.")
    env = venv_for(major_minor(version))
    stamp = env / STAMP_NAME
    wanted = fingerprint(version)
    python = venv_python(env)
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    started = time.monotonic()
    made_with = version_of(python) if python.exists() else None
    if made_with is None or major_minor(made_with) != major_minor(version):
        # None there yet, or one made by another Python (`.venv` follows the Python that
        # runs this file): a new one, as packages built for one Python do not fit another.
        print(f"Creating the virtual environment {env} ...", flush=True)
        if base is None:
            venv.EnvBuilder(with_pip=True, clear=True).create(env)
        else:
            run(base, "-m", "venv", "--clear", env)
    run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "-r", "requirements.txt", "-r", "requirements-dev.txt")
    run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--no-deps", "-e", ".")
    stamp.write_text(wanted)
    print(f"Set-up of {env.name} (Python {major_minor(version)}) done in "
          f"{time.monotonic() - started:.0f} s.", flush=True)
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
    """pytest-xdist's options for a run on every core, two workers per core (tests/parallel.py),
    or nothing: when the caller chose (-n, --dist, -p no:xdist), on one core, or where a
    worker cannot have a /dev/shm of its own (tests/isolation.py: Linux as root), which runs
    serially."""
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
    # Two workers per core: much of the suite waits rather than computes (a watchdog that
    # catches a deadlocked wrong answer, a child that sleeps on purpose, a kernel starting),
    # and a second worker per core fills those waits. Every check holds under that load.
    return ["-n", str(min(2 * cores, 8)), "--dist", "loadscope"]


def chosen_python(extra: list[str]) -> tuple[str | None, list[str]]:
    """The ``--python VERSION_OR_PATH`` of the test command (``this`` for ``--this-python``,
    None when neither is given), and the other arguments."""
    if "--this-python" in extra:
        return "this", [arg for arg in extra if arg != "--this-python"]
    for i, arg in enumerate(extra):
        if arg == "--python" and i + 1 < len(extra):
            return extra[i + 1], extra[:i] + extra[i + 2:]
        if arg.startswith("--python="):
            return arg.split("=", 1)[1], extra[:i] + extra[i + 1:]
    return None, extra


def setup_with_others() -> tuple[Path, list[str]]:
    """Set up this Python's environment and, at the same time, one for every other tested
    Python this machine has (saying which it lacks); return this one's Python and
    ``--other-pythons VERSION=PATH,...`` for pytest (tests/notebook_runs.py), or nothing."""
    others = {}
    for version in TESTED_PYTHONS:
        if version == major_minor(sys.version):
            continue
        interpreter = find_python(version)
        if interpreter is None:
            print(f"No Python {version} on this machine: the notebooks' run on it is skipped.",
                  flush=True)
        else:
            others[version] = interpreter
    # pip mostly unpacks and compiles: the environments are built side by side, one per core.
    with ThreadPoolExecutor(max_workers=len(others) + 1) as builders:
        mine = builders.submit(setup)
        theirs = {version: builders.submit(setup, interpreter)
                  for version, interpreter in others.items()}
        python = mine.result()  # a failed set-up (SystemExit) is re-raised here
        found = [f"{version}={built.result()}" for version, built in theirs.items()]
    return python, (["--other-pythons", ",".join(found)] if found else [])


def test(extra: list[str]) -> None:
    """Run the whole test suite on every core: unit tests, exercises, the classroom round,
    every notebook under every start method, the browser runs, and every notebook under
    spawn on each other tested Python the machine has. With ``--this-python``, not the other
    Pythons; with ``--python 3.13`` (a version or an interpreter's path), the whole suite on
    that Python only."""
    wanted, extra = chosen_python(extra)
    if wanted is None:
        python, others = setup_with_others()
    elif wanted == "this":
        python, others = setup(), []
    else:
        interpreter = find_python(wanted)
        if interpreter is None:
            sys.exit(f"No Python {wanted} found (tried python{wanted} on PATH and "
                     f"`pyenv prefix {wanted}`); give a version this machine has, or the "
                     "path of an interpreter.")
        refusal = unsupported(tuple(map(int, major_minor(version_of(interpreter)).split("."))),
                              str(interpreter), "test")
        if refusal:
            sys.exit(refusal)
        python, others = setup(interpreter), []
    ensure_browser()
    exec_in_venv(python, ["-m", "pytest", *parallel_options(extra), *others, *extra])


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


def exercise_of(notebook: Path) -> Path:
    """The exercise notebook (in ``exercises/``) that goes with ``notebook``: its own, or for a
    capstone that has none, the shared capstone exercise."""
    own = ROOT / "exercises" / notebook.name
    if not own.exists() and "_capstone_" in notebook.stem:
        return ROOT / "exercises" / f"{CAPSTONE_EXERCISE}.ipynb"
    return own


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
        exercise = exercise_of(path)
        practise = (f"[exercise]({binder}?urlpath=lab/tree/exercises/{exercise.name})"
                    if exercise.exists() else "")
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
    refusal = unsupported(sys.version_info, sys.executable, argv[0] if argv else "lab")
    if refusal:
        sys.exit(refusal)
    commands = {"lab": lab, "test": test,
                "setup": lambda extra: (setup(), ensure_browser()), "record": record,
                "links": links, "exercises": exercises, "grade": grade,
                "wrong": wrong}
    if not argv or argv[0] not in commands:
        sys.exit(__doc__)
    commands[argv[0]](argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
