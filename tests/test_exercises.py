"""The exercise track: exercises/ is generated from solutions/, and every graded cell passes
on the solution and fails on the unsolved exercise (hidden tests put back) under every start
method. Under spawn, the classroom round (tests/test_classroom.py) grades both with nbgrader
itself, so they are not run a second time here; it also grades the wrong answers."""

from __future__ import annotations

import json

import pytest

import course
from helpers import startmethods
from tests.conftest import ROOT
from tests.test_notebook_standards import LABS
from tools import exercises

SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
METHODS = startmethods.methods_to_test()
# Spawn is the classroom round's: it grades the solution (full marks) and the untouched
# exercise (every graded cell 0, with feedback) under spawn, in every run.
GRADED_HERE = [method for method in METHODS if method != "spawn"]



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


@pytest.mark.parametrize("method", GRADED_HERE)
@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.stem)
def test_solution_earns_every_point(solution, method) -> None:
    results = exercises.grade(solution, method)
    assert results and all(got == of > 0 for _, got, of, _ in results), results


@pytest.mark.parametrize("method", GRADED_HERE)
@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.stem)
def test_unsolved_exercise_fails_every_graded_cell(solution, method) -> None:
    results = exercises.grade(ROOT / "exercises" / solution.name, method)
    assert results and all(got == 0 and error for _, got, _, error in results), results


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.stem)
def test_solution_has_three_graded_tasks_with_hidden_tests(solution) -> None:
    cells = exercises.read(solution).cells
    graded = [c for c in cells if exercises.is_graded(c)]
    assert len(graded) >= 3, "each topic has at least three graded tasks"
    for cell in graded:
        meta = cell.metadata.nbgrader
        assert meta.get("points", 0) > 0 and meta.get("locked") and meta.get("schema_version") == 3
        assert "### BEGIN HIDDEN TESTS" in cell.source.splitlines(), exercises.grade_id(cell)
    answers = [c for c in cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert answers and all("### BEGIN SOLUTION" in c.source for c in answers)


def test_course_has_enough_graded_and_hidden_cells() -> None:
    graded = [c for path in SOLUTIONS for c in exercises.read(path).cells if exercises.is_graded(c)]
    hidden = [c for c in graded if "### BEGIN HIDDEN TESTS" in c.source]
    topics = [p for p in (ROOT / "notebooks").glob("*.ipynb") if p.stem not in LABS]
    # One solution per topic notebook; the capstones share one (course.exercise_of).
    assert {p.name for p in SOLUTIONS} == {course.exercise_of(p).name for p in topics}
    assert len(graded) >= 30 and len(hidden) >= 10, (len(graded), len(hidden))


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.stem)
def test_every_task_says_what_its_checks_test(solution) -> None:
    tasks = [c for c in exercises.read(solution).cells
             if c.cell_type == "markdown" and c.source.startswith("## Task")]
    assert len(tasks) >= 3
    for cell in tasks:
        heading = cell.source.splitlines()[0]
        listed = cell.source.partition("**What the checks test:**")[2]
        assert listed.count("\n- ") >= 2, f"{heading}: list the properties its checks test"
