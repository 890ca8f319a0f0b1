"""Build the student exercises from the graded solutions, and run either to see what passes.

``python -m tools.exercises [NN_topic ...]`` (or ``python3 course.py exercises``) regenerates
``exercises/NN_topic.ipynb`` (every one, or those named) from ``solutions/NN_topic.ipynb`` with nbgrader's own
preprocessors, the way ``nbgrader generate_assignment`` does it: cells locked, solution
regions replaced by a stub, hidden tests removed, outputs cleared.

``python -m tools.exercises --grade NOTEBOOK ...`` (or ``python3 course.py grade ...``) grades
learners' notebooks handed in without nbgrader (a git-based classroom).

``python -m tools.exercises --wrong NN_topic [--method M] [NAME ...]`` grades the topic's wrong
answers of ``tests/wrong_answers/`` (all, or those whose name contains a NAME) the same way,
one notebook each, and says for each whether the cell it breaks failed with the feedback
expected: the quick loop for an author who strengthens a check.
"""

from __future__ import annotations

import copy
import os
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbformat import NotebookNode
from nbgrader.preprocessors import ClearHiddenTests, ClearOutput, ClearSolutions, LockCells

from tools.kernels import AsyncCourseKernelManager

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"


def read(path: Path) -> NotebookNode:
    """Read a notebook (nbformat 4)."""
    return nbformat.read(path, as_version=4)


def student_version(solution: NotebookNode) -> NotebookNode:
    """The exercise made from a solution notebook by nbgrader's preprocessors."""
    notebook = copy.deepcopy(solution)
    resources: dict = {}
    for preprocessor in (LockCells(), ClearSolutions(), ClearHiddenTests(), ClearOutput()):
        notebook, resources = preprocessor.preprocess(notebook, resources)
    return notebook


def grade_id(cell: NotebookNode) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def is_graded(cell: NotebookNode) -> bool:
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("grade"))


def with_hidden_tests(exercise: NotebookNode, solution: NotebookNode) -> NotebookNode:
    """The exercise with each graded cell's full source (hidden tests included) put back,
    as ``nbgrader autograde`` does before it runs a submission."""
    sources = {grade_id(c): c.source for c in solution.cells if is_graded(c)}
    notebook = copy.deepcopy(exercise)
    for cell in notebook.cells:
        if is_graded(cell):
            cell.source = sources[grade_id(cell)]
    return notebook


def run(notebook: NotebookNode, workdir: Path, start_method: str, timeout: int = 60) -> NotebookNode:
    """Execute a notebook in ``workdir`` under ``start_method``, errors allowed, and return it.

    The kernel starts without ``PYTEST_CURRENT_TEST`` (so children's output is captured), on
    private sockets (tools/kernels.py), and is shut down gracefully.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    env["MP_START_METHOD"] = start_method
    notebook = copy.deepcopy(notebook)
    client = NotebookClient(notebook, timeout=timeout, allow_errors=True, kernel_name="python3",
                            kernel_manager_class=AsyncCourseKernelManager,
                            resources={"metadata": {"path": str(workdir)}})
    client.execute(env=env)
    return notebook


def graded_results(notebook: NotebookNode) -> dict[str, str | None]:
    """For each graded cell of an executed notebook: None if it passed, else its error."""
    results = {}
    for cell in notebook.cells:
        if is_graded(cell):
            errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
            results[grade_id(cell)] = f"{errors[0].ename}: {errors[0].evalue}" if errors else None
    return results


def grade(submission: Path, start_method: str = "spawn") -> list[tuple[str, float, float, str | None]]:
    """Grade a learner's exercise notebook the way ``nbgrader autograde`` does, without a
    course database: each graded cell's source (hidden tests included) comes from the
    solution of the same name, the notebook runs under ``start_method`` in a scratch folder,
    and each graded cell earns its points if it raised nothing.

    Returns ``(grade_id, points earned, points possible, error or None)`` per graded cell.
    """
    solution = read(SOLUTIONS / Path(submission).name)
    points = {grade_id(c): float(c.metadata.nbgrader.get("points", 0))
              for c in solution.cells if is_graded(c)}
    with tempfile.TemporaryDirectory(prefix="grade-") as workdir:
        executed = run(with_hidden_tests(read(Path(submission)), solution), Path(workdir),
                       start_method)
    return [(cell, points[cell] if error is None else 0.0, points[cell], error)
            for cell, error in graded_results(executed).items()]


def solution_answers(solution: NotebookNode, before: str | None = None) -> dict[str, str]:
    """The solution's answer cells (grade_id -> source). With ``before`` (a graded cell's
    grade_id), only the answers that come before that cell: a hand-in that stops after that
    task, its later answer cells left as released. A wrong answer to a task is graded that
    way, since only that task's cell is judged and the later tasks' checks would only cost
    time."""
    answers = {}
    for cell in solution.cells:
        if before is not None and grade_id(cell) == before:
            break
        if cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
            answers[grade_id(cell)] = cell.source
    return answers


def submission_with(answers: dict[str, str], topic: str,
                    before: str | None = None) -> NotebookNode:
    """The committed exercise of ``topic`` with its answer cells replaced: the solution's
    answers (only those before the graded cell ``before``, if given), then ``answers``
    (grade_id -> source) on top."""
    filled = solution_answers(read(SOLUTIONS / f"{topic}.ipynb"), before)
    filled.update(answers)
    notebook = read(EXERCISES / f"{topic}.ipynb")
    for cell in notebook.cells:
        if grade_id(cell) in filled:
            cell.source = filled[grade_id(cell)]
    return notebook


def grade_wrong_answers(topic: str, method: str = "spawn",
                        names: list[str] | None = None) -> list[tuple[str, bool, str]]:
    """Grade each wrong answer of ``topic`` (tests/wrong_answers) under ``method``; return
    ``(name, caught, what happened)``: caught when the cell it breaks scored 0 with feedback
    containing the expected phrase."""
    sys.path.insert(0, str(ROOT))
    from tests import wrong_answers  # the suite's own list; imported only for this author tool

    outcomes = []
    for case in wrong_answers.by_topic()[topic]:
        if names and not any(name in case.name for name in names):
            continue
        with tempfile.TemporaryDirectory(prefix="wrong-") as workdir:
            path = Path(workdir) / f"{topic}.ipynb"
            nbformat.write(submission_with({case.cell: case.source}, topic, case.fails), path)
            results = {cell: error for cell, _, _, error in grade(path, method)}
        said = results.get(case.fails) or ""
        caught = bool(said) and case.says in said
        outcomes.append((case.name, caught, said.splitlines()[0][:300] if said else
                         f"{case.fails} passed; failed: {[c for c, e in results.items() if e]}"))
    return outcomes


def regenerate(names: list[str] | None = None) -> list[Path]:
    """Write exercises/ from solutions/ (only the notebooks named, if any); return the files
    written."""
    written = []
    for solution in sorted(SOLUTIONS.glob("*.ipynb")):
        if names and solution.stem not in {Path(name).stem for name in names}:
            continue
        target = EXERCISES / solution.name
        nbformat.write(student_version(read(solution)), target)
        written.append(target)
    return written


def main(args: list[str]) -> int:
    """``[NN_topic ...]`` regenerates exercises; ``--grade NOTEBOOK ...`` grades submissions;
    ``--wrong NN_topic [--method M] [NAME ...]`` grades the topic's wrong answers."""
    if args[:1] == ["--wrong"] and len(args) > 1:
        rest, method = args[2:], "spawn"
        if "--method" in rest:
            at = rest.index("--method")
            method = rest[at + 1]
            rest = rest[:at] + rest[at + 2:]
        outcomes = grade_wrong_answers(Path(args[1]).stem, method, rest)
        for name, caught, said in outcomes:
            print(f"{'caught' if caught else 'MISSED'}  {name}\n        {said}")
        missed = sum(not caught for _, caught, _ in outcomes)
        print(f"{len(outcomes) - missed} caught, {missed} missed (under {method})")
        return 1 if missed else 0
    if args[:1] != ["--grade"]:
        for path in regenerate(args):
            print("wrote", path.relative_to(ROOT))
        return 0
    for submission in args[1:]:
        results = grade(Path(submission))
        earned, possible = sum(r[1] for r in results), sum(r[2] for r in results)
        print(f"{submission}: {earned:g}/{possible:g} points (graded under spawn)")
        for cell, got, of, error in results:
            print(f"  {cell}: {got:g}/{of:g}" + (f"  {error.splitlines()[0][:200]}" if error else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
