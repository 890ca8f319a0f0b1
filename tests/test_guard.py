"""The fail-fast guard: unimportable workers raise at once with the reason and the fix."""

from __future__ import annotations

import concurrent.futures
import functools
import multiprocessing
import multiprocessing.dummy
import sys
import types
from multiprocessing.managers import BaseManager

import pytest

import helpers  # noqa: F401  (installs the guard)
from helpers import guard
from helpers.workloads import square


@pytest.fixture
def notebook_main(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """Make ``__main__`` look like a notebook kernel's: no __file__, no __spec__."""
    main = types.ModuleType("__main__")
    monkeypatch.setitem(sys.modules, "__main__", main)
    return main


def notebook_function(main: types.ModuleType):
    """A function whose module is the interactive ``__main__``, as if typed into a cell."""
    exec("def cube(x):\n    return x ** 3\n", main.__dict__)
    return main.__dict__["cube"]


def test_guard_is_installed_by_importing_helpers() -> None:
    assert guard.is_installed()


def test_importable_worker_runs(mp_context) -> None:
    with mp_context.Pool(2) as pool:
        assert pool.map(square, range(5)) == [0, 1, 4, 9, 16]


def test_lambda_in_pool_is_explained(mp_context) -> None:
    with mp_context.Pool(1) as pool:
        with pytest.raises(guard.WorkerNotImportableError, match="lambda .* has no name"):
            pool.map(lambda x: x, range(3))


def test_nested_function_in_executor_is_explained(mp_context) -> None:
    def inner(x):
        return x

    with concurrent.futures.ProcessPoolExecutor(1, mp_context=mp_context) as pool:
        with pytest.raises(guard.WorkerNotImportableError, match="defined inside another function"):
            pool.submit(inner, 1)


def test_notebook_function_depends_on_the_method(mp_context, notebook_main) -> None:
    cube = notebook_function(notebook_main)
    problem = guard.problem_with(cube, mp_context.get_start_method())
    if mp_context.get_start_method() == "fork":
        assert problem is None  # a fork child is a copy of the kernel and has the function
    else:
        assert "defined in this notebook" in problem
        with pytest.raises(guard.WorkerNotImportableError, match="Fix: put the function"):
            mp_context.Process(target=cube, args=(2,)).start()


def test_every_pool_entry_point_is_guarded(notebook_main) -> None:
    cube = notebook_function(notebook_main)
    spawn = multiprocessing.get_context("spawn")
    with pytest.raises(guard.WorkerNotImportableError, match="initializer"):
        spawn.Pool(1, initializer=cube, initargs=(1,))
    with spawn.Pool(1) as pool:
        for call in (
            lambda: pool.apply(cube, (2,)),
            lambda: pool.apply_async(cube, (2,)),
            lambda: pool.map(cube, [1]),
            lambda: pool.map_async(cube, [1]),
            lambda: pool.starmap(cube, [(1,)]),
            lambda: pool.starmap_async(cube, [(1,)]),
            lambda: list(pool.imap(cube, [1])),
            lambda: list(pool.imap_unordered(cube, [1])),
            lambda: pool.apply(square, (functools.partial(cube),)),
        ):
            with pytest.raises(guard.WorkerNotImportableError, match="'cube'"):
                call()
        assert pool.apply(square, (3,)) == 9  # the pool still works after a refusal


def test_executor_initializer_is_guarded(notebook_main) -> None:
    cube = notebook_function(notebook_main)
    spawn = multiprocessing.get_context("spawn")
    with pytest.raises(guard.WorkerNotImportableError, match="initializer 'cube'"):
        concurrent.futures.ProcessPoolExecutor(1, mp_context=spawn, initializer=cube)


def test_process_subclass_from_notebook_is_explained(notebook_main) -> None:
    exec(
        "import multiprocessing\n"
        "class Worker(multiprocessing.get_context('spawn').Process):\n"
        "    def run(self):\n        pass\n",
        notebook_main.__dict__,
    )
    with pytest.raises(guard.WorkerNotImportableError, match="Process subclass 'Worker'"):
        notebook_main.Worker().start()


def test_queue_passed_to_pool_is_explained(mp_context) -> None:
    queue = mp_context.Queue()
    with mp_context.Pool(1) as pool:
        with pytest.raises(guard.WorkerNotImportableError, match=r"Manager\(\)\.Queue\(\)"):
            pool.apply(square, (queue,))
        with pytest.raises(guard.WorkerNotImportableError, match="through inheritance"):
            pool.starmap(square, [(queue,)])
    queue.close()
    queue.join_thread()


def test_thread_pool_is_left_alone(notebook_main) -> None:
    cube = notebook_function(notebook_main)
    with multiprocessing.dummy.Pool(2) as pool:
        assert pool.map(cube, [1, 2]) == [1, 8]
        assert pool.map(lambda x: -x, [1]) == [-1]


def test_uninstall_restores_the_standard_library() -> None:
    original_start = guard._originals[(multiprocessing.process.BaseProcess, "start")]
    guard.uninstall()
    try:
        assert multiprocessing.process.BaseProcess.start is original_start
        assert not guard.is_installed()
    finally:
        guard.install()
    assert guard.is_installed()


class ManagerForTests(BaseManager):
    """An importable manager class; only what is registered on it comes from a 'notebook'."""


def test_manager_class_and_registered_callables_from_a_notebook_are_explained(
        mp_context, notebook_main) -> None:
    exec(
        "from multiprocessing.managers import BaseManager\n"
        "class Tally:\n    pass\n"
        "class TallyManager(BaseManager):\n    pass\n"
        "TallyManager.register('Tally', Tally)\n",
        notebook_main.__dict__,
    )
    method = mp_context.get_start_method()
    if method == "fork":
        assert guard.problem_with(notebook_main.TallyManager, method) is None
        return
    with pytest.raises(guard.WorkerNotImportableError, match="manager class 'TallyManager'"):
        notebook_main.TallyManager(ctx=mp_context).start()
    ManagerForTests.register("Tally", notebook_main.Tally)
    with pytest.raises(guard.WorkerNotImportableError, match="registered as 'Tally'"):
        ManagerForTests(ctx=mp_context).start()


def test_executor_map_checks_the_function_inside_its_partial(mp_context, notebook_main) -> None:
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=mp_context) as pool:
        with pytest.raises(guard.WorkerNotImportableError, match="lambda"):
            list(pool.map(lambda x: x, [1]))
        if mp_context.get_start_method() != "fork":
            with pytest.raises(guard.WorkerNotImportableError, match="'cube'"):
                list(pool.map(notebook_function(notebook_main), [1]))
        assert list(pool.map(square, [2, 3])) == [4, 9]
