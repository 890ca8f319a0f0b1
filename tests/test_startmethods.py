"""MP_START_METHOD selects the start method for a whole run when helpers is imported."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys

import pytest

from helpers import startmethods
from tests.conftest import ROOT

SHOW_METHOD = "import helpers, multiprocessing; print(multiprocessing.get_start_method())"


def python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter with MP_START_METHOD replaced by ``env``."""
    clean = {k: v for k, v in os.environ.items() if k != startmethods.ENV_VAR}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**clean, **env},
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("method", sorted(multiprocessing.get_all_start_methods()))
def test_variable_selects_the_method(method: str) -> None:
    result = python(SHOW_METHOD, MP_START_METHOD=method)
    assert result.stdout.strip() == method, result.stderr


def test_unset_keeps_the_platform_default() -> None:
    plain = python("import multiprocessing; print(multiprocessing.get_start_method())")
    with_helpers = python(SHOW_METHOD)
    assert with_helpers.stdout.strip() == plain.stdout.strip() == startmethods.platform_default()


def test_unknown_method_is_explained() -> None:
    result = python(SHOW_METHOD, MP_START_METHOD="threads")
    assert result.returncode != 0
    assert "MP_START_METHOD='threads' is not a start method this platform has" in result.stderr


def test_documented_defaults() -> None:
    assert startmethods.platform_default("win32", (3, 14)) == "spawn"
    assert startmethods.platform_default("darwin", (3, 11)) == "spawn"
    assert startmethods.platform_default("linux", (3, 13)) == "fork"
    assert startmethods.platform_default("linux", (3, 14)) == "forkserver"


def test_methods_to_test(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(startmethods.ENV_VAR, "spawn")
    assert startmethods.methods_to_test() == ["spawn"]
    monkeypatch.delenv(startmethods.ENV_VAR)
    assert startmethods.methods_to_test() == sorted(multiprocessing.get_all_start_methods())
