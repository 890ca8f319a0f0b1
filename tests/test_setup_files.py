"""The set-up files agree with each other and the README's links lead somewhere real."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import course
from tests.conftest import ROOT


def requirement_lines() -> list[str]:
    """The requirement lines of requirements.txt, without comments."""
    lines = (line.split("#")[0].strip()
             for line in (ROOT / "requirements.txt").read_text().splitlines())
    return [line for line in lines if line]


def conda_env() -> dict:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge"]
    return env


def conda_python() -> str:
    (python,) = [d for d in conda_env()["dependencies"] if str(d).startswith("python=")]
    return python.split("=", 1)[1]


def binder_pip_lines() -> list[str]:
    (section,) = [d["pip"] for d in conda_env()["dependencies"] if isinstance(d, dict)]
    return section


def test_requirements_are_all_pinned_exactly() -> None:
    for line in requirement_lines():
        assert re.fullmatch(
            r'[A-Za-z0-9_.-]+==[0-9][0-9A-Za-z.]*(; python_version [<>=]+ "[0-9.]+")?', line
        ), line


def test_conda_supplies_only_python_and_pip_and_pip_installs_requirements_txt() -> None:
    assert [d for d in conda_env()["dependencies"] if isinstance(d, str)] == [
        f"python={conda_python()}", "pip"]
    assert binder_pip_lines() == requirement_lines()
    names = {canonicalize_name(Requirement(line).name) for line in requirement_lines()}
    assert {"jupyterlab", "ipywidgets", "nbval", "requests", "matplotlib", "psutil", "tqdm",
            "pytest"} <= names


def test_binder_runs_the_newest_python_the_suite_passes_on() -> None:
    assert conda_python() == course.TESTED_PYTHONS[-1]


def test_binders_pins_are_what_pip_installed_here_with_binders_python(tmp_path) -> None:
    """Resolve environment.yml's pip section, offline, in the course's environment of the
    Python Binder runs: pip must find every pinned version already installed there (so
    every version Binder installs is one the suite ran with)."""
    python = course.venv_python(course.venv_for(conda_python()))
    if not python.exists():
        pytest.skip(f"no environment of Python {conda_python()} here ({python}); "
                    "`python3 course.py test` sets one up where that Python is installed")
    wanted = tmp_path / "binder-requirements.txt"
    wanted.write_text("\n".join(binder_pip_lines()) + "\n")
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "--dry-run", "--no-index", "--quiet",
         "--disable-pip-version-check", "--report", "-", "-r", str(wanted)],
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["install"] == [], [item["metadata"]["name"] for item in report["install"]]
    assert course.major_minor(course.version_of(python)) == conda_python()


def test_course_py_run_inside_a_course_environment_uses_that_one() -> None:
    """The suite runs inside one of the course's environments (``.venv``, or ``.venv-3.13``
    with ``--python 3.13``); a test that runs ``course.py`` with this interpreter (the lab
    command's) must use this environment, not make ``.venv`` over with another Python."""
    running = Path(sys.prefix).resolve()
    if not (running.parent == ROOT and running.name.startswith(".venv")):
        pytest.skip(f"the suite runs outside the course's environments ({running})")
    assert course.venv_for(course.major_minor(sys.version)) == running
    other = "3.99"
    assert course.venv_for(other) == ROOT / f".venv-{other}"


def test_binder_installs_helpers_after_the_environment() -> None:
    post_build = (ROOT / "postBuild").read_text()
    assert "pip install --no-deps -e ." in post_build


def readme_command(verb: str) -> str:
    commands = re.findall(r"^(python3 course\.py \w+)", (ROOT / "README.md").read_text(), re.M)
    matching = [c for c in commands if c.endswith(f" {verb}")]
    assert len(set(matching)) == 1, commands
    return matching[0]


def test_ci_runs_exactly_the_readme_test_command() -> None:
    script = [
        line for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.startswith(("#", "set ", "cd "))
    ]
    assert script == [readme_command("test")]
    assert shlex.split(readme_command("lab"))[1:] == ["course.py", "lab"]


def test_readme_links_are_generated_from_the_configured_repository() -> None:
    readme = (ROOT / "README.md").read_text()
    assert course.links_block() in readme, "run: python3 course.py links"


def test_every_readme_link_into_the_repository_points_at_a_file_that_exists() -> None:
    repo = course.repository_url()
    binder = repo.replace("https://github.com/", "https://mybinder.org/v2/gh/")
    readme = (ROOT / "README.md").read_text()
    paths = []
    for url in re.findall(r"\]\((https://[^)\s]+)\)", readme):
        if url.startswith(f"{repo}/blob/main/"):
            paths.append(url[len(f"{repo}/blob/main/"):])
        elif url.startswith(binder):
            query = urlsplit(url).query
            assert query.startswith("urlpath=lab/tree/"), url
            paths.append(query[len("urlpath=lab/tree/"):])
    notebooks = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert set(notebooks) <= set(paths)  # every notebook is linked
    for path in paths:
        assert (ROOT / path).is_file(), path


def test_an_unsupported_python_is_refused_with_a_sentence() -> None:
    assert course.unsupported((3, 11, 0), "python3") is None
    assert course.unsupported((3, 13, 0), "python3") is None
    said = course.unsupported((3, 10, 13), "/usr/bin/python3.10", "test")
    assert said and "Python 3.11 or newer" in said and "3.10.13" in said
    assert "course.py test" in said


@pytest.mark.parametrize("command", ["lab", "test"])
def test_both_readme_commands_stop_at_once_on_python_3_10(command: str) -> None:
    old = course.find_python("3.10")
    if old is None:
        pytest.skip("no Python 3.10 on this machine")
    started = time.monotonic()
    done = subprocess.run([str(old), str(ROOT / "course.py"), command],
                          capture_output=True, text=True, timeout=30)
    elapsed = time.monotonic() - started
    assert done.returncode != 0 and done.stdout == ""
    assert "needs Python 3.11 or newer" in done.stderr and "pip" not in done.stderr
    assert elapsed < 5.0, f"took {elapsed:.2f} s"  # 0.2 s idle; no set-up ran


def test_the_test_command_reads_its_python_switches() -> None:
    assert course.chosen_python(["-x", "--python", "3.13", "-k", "a"]) == ("3.13", ["-x", "-k", "a"])
    assert course.chosen_python(["--python=/usr/bin/python3"]) == ("/usr/bin/python3", [])
    assert course.chosen_python(["--this-python", "-x"]) == ("this", ["-x"])
    assert course.chosen_python(["-x"]) == (None, ["-x"])
