"""The set-up files agree with each other and the README's links lead somewhere real."""

from __future__ import annotations

import re
import shlex
from urllib.parse import urlsplit

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import course
from tests.conftest import ROOT


def pip_pins(python_version: str) -> dict[str, str]:
    """The pins of requirements.txt that apply to ``python_version`` (markers evaluated)."""
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            requirement = Requirement(line)
            if requirement.marker and not requirement.marker.evaluate(
                    {"python_version": python_version}):
                continue
            (spec,) = requirement.specifier
            pins[canonicalize_name(requirement.name)] = spec.version
    return pins


def conda_env() -> dict:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge"]
    return env


def conda_pins() -> dict[str, str]:
    pins = {}
    for dep in conda_env()["dependencies"]:
        if isinstance(dep, str) and dep.split("=")[0] not in ("python", "pip"):
            name, version = dep.split("=", 1)
            pins[canonicalize_name(name)] = version.strip()
    return pins


def conda_python() -> str:
    (python,) = [d for d in conda_env()["dependencies"] if str(d).startswith("python=")]
    return python.split("=", 1)[1]


def test_requirements_are_all_pinned_exactly() -> None:
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        assert not line or re.fullmatch(
            r'[A-Za-z0-9_.-]+==[0-9][0-9A-Za-z.]*(; python_version [<>=]+ "[0-9.]+")?', line
        ), line


def test_environment_yml_pins_what_requirements_pin() -> None:
    assert conda_pins() == pip_pins(conda_python())
    assert {"jupyterlab", "ipywidgets", "nbval", "requests", "matplotlib", "psutil", "tqdm",
            "pytest"} <= set(conda_pins())


def test_every_supported_python_gets_one_pin_of_each_package() -> None:
    assert set(pip_pins("3.10")) == set(pip_pins("3.13")) == set(conda_pins())


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
