"""The set-up files agree with each other and the README's links lead somewhere real."""

from __future__ import annotations

import re
import shlex
from urllib.parse import urlsplit

import yaml

import course
from tests.conftest import ROOT


def pip_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            pins[name.strip().lower()] = version.strip()
    return pins


def conda_pins() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge"]
    pins = {}
    for dep in env["dependencies"]:
        if isinstance(dep, str) and dep.split("=")[0] not in ("python", "pip"):
            name, version = dep.split("=", 1)
            pins[name.strip().lower()] = version.strip()
    return pins


def test_requirements_are_all_pinned_exactly() -> None:
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        assert not line or re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9][0-9A-Za-z.]*", line), line


def test_environment_yml_pins_what_requirements_pin() -> None:
    assert conda_pins() == pip_pins()
    assert {"jupyterlab", "ipywidgets", "nbval", "requests", "matplotlib", "psutil", "tqdm",
            "pytest"} <= set(pip_pins())


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
