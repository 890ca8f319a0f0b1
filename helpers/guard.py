"""Fail-fast guard: explain at once why a worker cannot reach a child process.

A spawn or forkserver child starts a fresh interpreter and imports every function it is
sent by module and name. A function typed into a notebook lives in ``__main__``, which the
child cannot import, and a lambda or a nested function has no importable name at all. Left
alone, ``Pool.map`` then hangs (each worker dies with "Can't get attribute", the pool starts
another, the task is lost) and a lambda ends in a bare ``PicklingError``.

``install()`` (run by ``import helpers``) wraps the places where a function is handed to
another process: ``Process.start``, ``Pool`` and its ``apply``/``map``/``imap``/``starmap``
families, ``ProcessPoolExecutor``, and ``BaseManager.start`` (the manager class and the
callables registered on it). Before anything is sent they check the function and
raise ``WorkerNotImportableError`` naming the function, the reason and the fix. They also
refuse a ``multiprocessing.Queue`` (or Lock) passed as a task argument, which pickling
rejects. Set ``MP_COURSE_GUARD=0`` before importing helpers, or call ``uninstall()``, to see
the raw behaviour.
"""

from __future__ import annotations

import concurrent.futures
import functools
import multiprocessing
import multiprocessing.managers
import multiprocessing.pool
import multiprocessing.process
import multiprocessing.queues
import multiprocessing.synchronize
import os
import pickle
import sys
from collections.abc import Callable, Iterable
from typing import Any

ENV_VAR = "MP_COURSE_GUARD"

_FIX = (
    "Fix: put the function in a module that the child can import (in this course, a "
    "module of the `helpers` package, or a .py file beside the notebook written with "
    "%%writefile), import it, and pass the imported function."
)


class WorkerNotImportableError(pickle.PicklingError):
    """A function or object sent to another process cannot be rebuilt there."""


def _unwrap(fn: Any) -> Any:
    """Return the plain function behind a functools.partial or a bound method."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    return getattr(fn, "__func__", fn)


def _main_is_interactive() -> bool:
    """True when ``__main__`` is a notebook or REPL, which a spawned child cannot re-import."""
    main = sys.modules.get("__main__")
    return getattr(main, "__file__", None) is None and getattr(main, "__spec__", None) is None


def problem_with(fn: Any, start_method: str) -> str | None:
    """Say why ``fn`` cannot be pickled by reference for a child started with ``start_method``.

    Returns None when the child can import it. A lambda or a nested function fails under
    every method once it is pickled; a function or class defined in a notebook fails under
    spawn and forkserver, whose children do not inherit the notebook's ``__main__``.
    """
    target = _unwrap(fn)
    name = getattr(target, "__qualname__", None)
    module = getattr(target, "__module__", None)
    if name is None or module is None:
        return None
    if name == "<lambda>" or name.endswith(".<lambda>"):
        return (
            f"a lambda (defined in {module}) has no name that another process can import, "
            "so pickle cannot send it"
        )
    if "<locals>" in name:
        return (
            f"{name!r} is defined inside another function, so another process cannot "
            "import it by name"
        )
    if module == "__main__" and start_method != "fork" and _main_is_interactive():
        kind = "class" if isinstance(target, type) else "function"
        return (
            f"the {kind} {name!r} is defined in this notebook (module __main__). A "
            f"{start_method} child starts a fresh Python that cannot import the notebook, so "
            f"it fails with \"Can't get attribute {name!r} on <module '__main__'>\" and a "
            "Pool would hang waiting for it"
        )
    return None


def _explain(fn: Any, role: str, problem: str) -> WorkerNotImportableError:
    return WorkerNotImportableError(
        f"Cannot send the {role} {getattr(_unwrap(fn), '__qualname__', fn)!r} to a child "
        f"process: {problem}.\n{_FIX}"
    )


def check_callable(fn: Any, role: str, start_method: str) -> None:
    """Raise WorkerNotImportableError if ``fn`` cannot reach a child of ``start_method``.

    A ``functools.partial`` is checked with the functions it carries as arguments:
    ``ProcessPoolExecutor.map`` sends ``partial(_process_chunk, fn)``.
    """
    if fn is None:
        return
    problem = problem_with(fn, start_method)
    if problem:
        raise _explain(fn, role, problem)
    if isinstance(fn, functools.partial):
        for value in (*fn.args, *fn.keywords.values()):
            if callable(value) and not isinstance(value, type):
                check_callable(value, role, start_method)


_INHERIT_ONLY = (
    multiprocessing.queues.Queue,
    multiprocessing.queues.SimpleQueue,
    multiprocessing.synchronize.SemLock,
)


def check_task_arguments(values: Iterable[Any], start_method: str) -> None:
    """Raise if a task's arguments hold a Queue, Lock or unimportable function.

    A ``multiprocessing.Queue``, ``SimpleQueue`` or synchronisation primitive can only be
    given to a child when it is created (inheritance), never sent with a task.
    """
    for value in values:
        if isinstance(value, _INHERIT_ONLY):
            kind = type(value).__name__
            raise WorkerNotImportableError(
                f"A multiprocessing.{kind} was passed as a task argument to a pool. It can "
                "only be shared with a process when that process is created, not sent with "
                "a task, so pickling it raises RuntimeError (\"... should only be shared "
                "between processes through inheritance\").\nFix: use a "
                f"multiprocessing.Manager().{kind if kind != 'SimpleQueue' else 'Queue'}() "
                "proxy, which can be sent, or hand the object to every worker once through "
                "the pool's initializer/initargs."
            )
        if callable(value) and not isinstance(value, type):
            check_callable(value, "function argument", start_method)


def _scan_iterable(iterable: Any, star: bool) -> list[Any]:
    """The items of a list or tuple of task arguments (other iterables are left unread)."""
    if not isinstance(iterable, (list, tuple)):
        return []
    items: list[Any] = []
    for item in iterable:
        if star and isinstance(item, (list, tuple)):
            items.extend(item)
        else:
            items.append(item)
    return items


_originals: dict[tuple[type, str], Callable[..., Any]] = {}


def _wrap(cls: type, name: str, make: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    original = cls.__dict__[name]
    wrapper = make(original)
    functools.update_wrapper(wrapper, original)
    wrapper.__helpers_guard__ = True  # type: ignore[attr-defined]
    _originals[(cls, name)] = original
    setattr(cls, name, wrapper)


def _pool_method(pool: multiprocessing.pool.Pool) -> str | None:
    """The start method of a process pool, or None for a thread pool."""
    if isinstance(pool, multiprocessing.pool.ThreadPool):
        return None
    return pool._ctx.get_start_method()


def _process_start(original: Callable[..., Any]) -> Callable[..., Any]:
    def start(self: multiprocessing.process.BaseProcess) -> None:
        method = getattr(self, "_start_method", None) or multiprocessing.get_start_method()
        if method != "fork":
            problem = problem_with(type(self), method)
            if problem:
                raise _explain(type(self), "Process subclass", problem)
            check_callable(getattr(self, "_target", None), "target", method)
            for value in list(getattr(self, "_args", ())) + list(getattr(self, "_kwargs", {}).values()):
                if callable(value) and not isinstance(value, type):
                    check_callable(value, "argument", method)
        return original(self)

    return start


def _pool_init(original: Callable[..., Any]) -> Callable[..., Any]:
    def __init__(self: multiprocessing.pool.Pool, processes=None, initializer=None, *args: Any, **kwargs: Any) -> None:
        if not isinstance(self, multiprocessing.pool.ThreadPool):
            ctx = kwargs.get("context") or (args[2] if len(args) > 2 else None)
            method = (ctx or multiprocessing.get_context()).get_start_method()
            try:
                check_callable(initializer, "initializer", method)
            except WorkerNotImportableError:
                self._state = multiprocessing.pool.TERMINATE  # Pool.__del__ reads it
                raise
        original(self, processes, initializer, *args, **kwargs)

    return __init__


def _pool_apply_async(original: Callable[..., Any]) -> Callable[..., Any]:
    def apply_async(self, func, args=(), kwds={}, *rest: Any, **kw: Any):  # noqa: B006 (mirrors Pool)
        method = _pool_method(self)
        if method:
            check_callable(func, "worker function", method)
            check_task_arguments(list(args) + list(kwds.values()), method)
        return original(self, func, args, kwds, *rest, **kw)

    return apply_async


def _pool_map_async(original: Callable[..., Any]) -> Callable[..., Any]:
    def _map_async(self, func, iterable, mapper, *rest: Any, **kw: Any):
        method = _pool_method(self)
        if method:
            check_callable(func, "worker function", method)
            star = mapper is multiprocessing.pool.starmapstar
            check_task_arguments(_scan_iterable(iterable, star), method)
        return original(self, func, iterable, mapper, *rest, **kw)

    return _map_async


def _pool_imap(original: Callable[..., Any]) -> Callable[..., Any]:
    def imap(self, func, iterable, *rest: Any, **kw: Any):
        method = _pool_method(self)
        if method:
            check_callable(func, "worker function", method)
            check_task_arguments(_scan_iterable(iterable, False), method)
        return original(self, func, iterable, *rest, **kw)

    return imap


def _executor_init(original: Callable[..., Any]) -> Callable[..., Any]:
    def __init__(self, max_workers=None, mp_context=None, initializer=None, *args: Any, **kwargs: Any) -> None:
        method = (mp_context or multiprocessing.get_context()).get_start_method()
        check_callable(initializer, "initializer", method)
        original(self, max_workers, mp_context, initializer, *args, **kwargs)

    return __init__


def _executor_submit(original: Callable[..., Any]) -> Callable[..., Any]:
    def submit(self, fn, /, *args: Any, **kwargs: Any):
        method = self._mp_context.get_start_method()
        check_callable(fn, "worker function", method)
        check_task_arguments(list(args) + list(kwargs.values()), method)
        return original(self, fn, *args, **kwargs)

    return submit


def _manager_start(original: Callable[..., Any]) -> Callable[..., Any]:
    def start(self: multiprocessing.managers.BaseManager, *args: Any, **kwargs: Any) -> None:
        method = self._ctx.get_start_method()
        if method != "fork":
            problem = problem_with(type(self), method)
            if problem:
                raise _explain(type(self), "manager class", problem)
            for typeid, (fn, *_) in self._registry.items():
                check_callable(fn, f"callable registered as {typeid!r}", method)
        initializer = args[0] if args else kwargs.get("initializer")
        if method != "fork":
            check_callable(initializer, "initializer", method)
        return original(self, *args, **kwargs)

    return start


def is_installed() -> bool:
    """True while the guard's checks are in place."""
    return getattr(multiprocessing.process.BaseProcess.start, "__helpers_guard__", False)


def install() -> None:
    """Put the guard's checks in place (idempotent). ``import helpers`` calls this."""
    if is_installed():
        return
    pool = multiprocessing.pool.Pool
    executor = concurrent.futures.ProcessPoolExecutor
    _wrap(multiprocessing.process.BaseProcess, "start", _process_start)
    _wrap(pool, "__init__", _pool_init)
    _wrap(pool, "apply_async", _pool_apply_async)
    _wrap(pool, "_map_async", _pool_map_async)
    _wrap(pool, "imap", _pool_imap)
    _wrap(pool, "imap_unordered", _pool_imap)
    _wrap(executor, "__init__", _executor_init)
    _wrap(executor, "submit", _executor_submit)
    _wrap(multiprocessing.managers.BaseManager, "start", _manager_start)


def uninstall() -> None:
    """Remove the guard's checks and restore the standard library's own behaviour."""
    for (cls, name), original in _originals.items():
        setattr(cls, name, original)
    _originals.clear()


def install_from_environment() -> None:
    """Install the guard unless ``MP_COURSE_GUARD`` is ``0``, ``false`` or ``off``."""
    if os.environ.get(ENV_VAR, "").strip().lower() not in ("0", "false", "off", "no"):
        install()
