"""The exercise track: exercises/ is generated from solutions/, every graded cell passes on
the solution and fails on the unsolved exercise under every start method, and typical wrong
answers fail with feedback that names the mistake."""

from __future__ import annotations

import copy
import json

import nbformat
import pytest

from helpers import startmethods
from tests.conftest import ROOT
from tools import exercises

SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
METHODS = startmethods.methods_to_test()

# Wrong answers a learner gives: (topic, answer cell, its wrong source, graded cell that must
# fail, what its feedback must say).
WRONG_ANSWERS = {
    "lambda in a pool": (
        "00_introduction", "parallel_cubes",
        "def parallel_cubes(numbers):\n    with multiprocessing.Pool(2) as pool:\n"
        "        return pool.map(lambda x: x**3, numbers)\n",
        "test_parallel_cubes", "has no name that another process can import"),
    "serial answer": (
        "00_introduction", "parallel_cubes",
        "import ex00_workers\n\ndef parallel_cubes(numbers):\n"
        "    return [ex00_workers.cube(x) for x in numbers]\n",
        "test_parallel_cubes", "A serial answer gives the right values"),
    "pool left open": (
        "00_introduction", "parallel_cubes",
        "import ex00_workers\n\npool = multiprocessing.Pool(2)\n\ndef parallel_cubes(numbers):\n"
        "    return pool.map(ex00_workers.cube, numbers)\n",
        "test_parallel_cubes", "a pool or process was left open"),
    "results out of order": (
        "00_introduction", "parallel_cubes",
        "import ex00_workers\n\ndef parallel_cubes(numbers):\n"
        "    with multiprocessing.Pool(2) as pool:\n"
        "        return sorted(pool.imap_unordered(ex00_workers.cube, numbers), key=str)\n",
        "test_parallel_cubes", "right values in the wrong order"),
    "notebook-defined worker under spawn": (
        "00_introduction", "lengths_with_spawn",
        "def word_length(word):\n    return len(word)\n\n"
        "def lengths_with_spawn(words):\n    ctx = multiprocessing.get_context('spawn')\n"
        "    with ctx.Pool(2) as pool:\n        return pool.map(word_length, words)\n",
        "test_lengths_with_spawn", "is defined in this notebook"),
    "choice that ignores the measurement": (
        "00_introduction", "timings",
        "import time\nfrom helpers.workloads import count_primes\n"
        "timings = {n: float(n) for n in range(1, usable_cores() + 1)}\n"
        "BEST_WORKERS = usable_cores() + 1\n",
        "test_best_workers", "but your fastest measurement was"),
}


def cell_json(notebook) -> list[str]:
    return [json.dumps({k: c[k] for k in ("cell_type", "source", "metadata")}, sort_keys=True)
            for c in notebook.cells]


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.stem)
def test_committed_exercise_is_generated_from_its_solution(solution) -> None:
    committed = exercises.read(ROOT / "exercises" / solution.name)
    generated = exercises.student_version(exercises.read(solution))
    assert cell_json(committed) == cell_json(generated), "run: python3 course.py exercises"


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.stem)
def test_exercise_holds_no_solution_or_hidden_test(solution) -> None:
    text = (ROOT / "exercises" / solution.name).read_text()
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in text
    for cell in exercises.read(solution).cells:
        lines = cell.source.splitlines()
        if "### BEGIN SOLUTION" in lines and cell.cell_type == "code":
            answer = lines[lines.index("### BEGIN SOLUTION") + 1]
            assert answer.strip() and answer.strip() not in text.replace("\\n", "\n"), answer


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.stem)
def test_solution_passes_every_graded_cell(solution, method, tmp_path) -> None:
    results = exercises.graded_results(exercises.run(exercises.read(solution), tmp_path, method))
    assert results and all(error is None for error in results.values()), results


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.stem)
def test_unsolved_exercise_fails_every_graded_cell(solution, method, tmp_path) -> None:
    exercise = exercises.with_hidden_tests(
        exercises.read(ROOT / "exercises" / solution.name), exercises.read(solution))
    results = exercises.graded_results(exercises.run(exercise, tmp_path, method))
    assert results and all(error is not None for error in results.values()), results


@pytest.mark.parametrize("case", sorted(WRONG_ANSWERS))
def test_wrong_answer_fails_with_feedback_that_names_the_mistake(case, tmp_path) -> None:
    topic, answer_id, wrong_source, failing_id, message = WRONG_ANSWERS[case]
    notebook = copy.deepcopy(exercises.read(ROOT / "solutions" / f"{topic}.ipynb"))
    (cell,) = [c for c in notebook.cells if exercises.grade_id(c) == answer_id]
    cell.source = wrong_source
    results = exercises.graded_results(exercises.run(notebook, tmp_path, "spawn"))
    assert results[failing_id] is not None and message in results[failing_id], results
    assert isinstance(nbformat.validate(notebook), type(None))
