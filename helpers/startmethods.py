"""Choosing the start method for a whole run of the course.

The environment variable ``MP_START_METHOD`` (``fork``, ``spawn`` or ``forkserver``) selects
the start method when ``helpers`` is imported, so one setting applies to a whole notebook,
a whole test run or a whole JupyterLab session. Unset (or empty) keeps the platform's default.
"""

from __future__ import annotations

import multiprocessing
import os
import sys

ENV_VAR = "MP_START_METHOD"


class StartMethodError(ValueError):
    """The start method named in ``MP_START_METHOD`` cannot be used on this platform."""


def platform_default(platform: str | None = None, version: tuple[int, int] | None = None) -> str:
    """Return the start method Python uses by default on a platform and version.

    The documented defaults: ``spawn`` on Windows and macOS (since 3.8); on Linux and other
    POSIX systems ``fork`` up to Python 3.13 and ``forkserver`` from Python 3.14 on.
    """
    platform = sys.platform if platform is None else platform
    version = tuple(sys.version_info[:2]) if version is None else version
    if platform in ("win32", "darwin"):
        return "spawn"
    return "forkserver" if version >= (3, 14) else "fork"


def requested_method() -> str | None:
    """Return the start method asked for by ``MP_START_METHOD``, or None when it is unset."""
    value = os.environ.get(ENV_VAR, "").strip().lower()
    return value or None


def apply_from_environment() -> str:
    """Apply the start method named by ``MP_START_METHOD`` and return the active method.

    Raises StartMethodError, with the methods this platform has, for a name it does not have.
    """
    method = requested_method()
    if method is not None:
        available = multiprocessing.get_all_start_methods()
        if method not in available:
            raise StartMethodError(
                f"{ENV_VAR}={method!r} is not a start method this platform has. "
                f"Choose one of {', '.join(available)}, or unset {ENV_VAR} to use the "
                f"platform's default ({platform_default()})."
            )
        if multiprocessing.get_start_method(allow_none=True) != method:
            multiprocessing.set_start_method(method, force=True)
    return multiprocessing.get_start_method()


def methods_to_test() -> list[str]:
    """Return the start methods a test run covers: the one requested, or all the platform has."""
    method = requested_method()
    return [method] if method else sorted(multiprocessing.get_all_start_methods())
