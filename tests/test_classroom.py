"""A real classroom round with nbgrader, as an instructor runs it.

A throw-away nbgrader course (gradebook database and exchange in a temporary directory) gets
every ``solutions/NN_topic.ipynb`` as an assignment; ``nbgrader generate_assignment`` makes
the student version, and ``nbgrader autograde`` grades three kinds of submission under spawn:
the solution (full marks), the untouched exercise (zero, every graded cell with feedback; these
two are the spawn half of tests/test_exercises.py) and the wrong answers kept in
``tests/wrong_answers/`` (each loses the marks of the cell it breaks, and that cell's feedback
names the mistake). Each task's wrong answers are one round, in a course of their own.
Grading under spawn is what a classroom should do: a worker defined in the notebook would
score full marks under fork and fails everywhere else.
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from helpers import leaks
from tests import wrong_answers
from tests.conftest import ROOT, kernel_environment
from tools import exercises

TOPICS = [path.stem for path in sorted((ROOT / "solutions").glob("*.ipynb"))]
WRONG = wrong_answers.by_topic()
MARKER = "MP_COURSE_CLASSROOM_RUN"


def graded_tasks(topic: str) -> list[str]:
    """The grade ids of a topic's graded test cells, one per task, in notebook order."""
    solution = exercises.read(ROOT / "solutions" / f"{topic}.ipynb")
    return [exercises.grade_id(c) for c in solution.cells if exercises.is_graded(c)]


# One round per task: its wrong answers, graded in one autograde call (the first task's round
# also grades the solution and the untouched exercise). Rounds of one topic can then run on
# different cores, and a round stays short enough for an author's quick loop.
ROUNDS = [pytest.param(topic, task, index == 0, id=f"{topic}-{task}")
          for topic in TOPICS
          for index, task in enumerate(graded_tasks(topic))]


def configure(root: Path) -> Path:
    """Make ``root`` an nbgrader course: its config, and where its database and exchange go."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(root)!r}\n"
        "c.CourseDirectory.course_id = 'mp-course'\n"
        f"c.CourseDirectory.db_url = {'sqlite:///' + str(root / 'gradebook.db')!r}\n"
        f"c.Exchange.root = {str(root / 'exchange')!r}\n"
        # Kernels on private sockets, as everywhere in the suite (tools/kernels.py).
        f"import sys; sys.path.insert(0, {str(ROOT)!r})\n"
        "c.Execute.kernel_manager_class = 'tools.kernels.AsyncCourseKernelManager'\n")
    return root


@pytest.fixture(scope="session")
def assignments(tmp_path_factory: pytest.TempPathFactory):
    """A course per topic with the assignment generated from its solution, made once in each
    test process (generate_assignment takes seconds) and copied for every round."""
    made: dict[str, Path] = {}

    def course_with(topic: str, root: Path) -> Path:
        if topic not in made:
            template = configure(tmp_path_factory.mktemp(f"assignment-{topic}") / "course")
            source = template / "source" / topic
            source.mkdir(parents=True)
            shutil.copy(ROOT / "solutions" / f"{topic}.ipynb", source)
            nbgrader(template, "generate_assignment", topic, "--create", "--force",
                     marker=uuid.uuid4().hex)
            made[topic] = template
        shutil.copytree(made[topic], root)
        return configure(root)  # the copy's own paths

    return course_with


def nbgrader(course: Path, *args: str, marker: str) -> None:
    """Run an nbgrader command in the course, grading under spawn, and fail on its errors."""
    env = kernel_environment(**{
        # nbgrader runs `alembic` (its database migrations) from PATH: use this environment's.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "MP_START_METHOD": "spawn",
        MARKER: marker,
    })
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env,
                          capture_output=True, text=True, timeout=900)
    # nbgrader's own errors ("[AutogradeApp | ERROR] ..."), not what a kernel prints on its
    # way out: ipykernel 7.4 sometimes logs "ERROR:tornado.general: ... Socket operation on
    # non-socket" when it publishes its last status after its iopub thread has closed, once
    # the notebook was graded (seen once in 33 rounds x 6 runs).
    assert done.returncode == 0 and "| ERROR]" not in done.stderr, nbgrader_errors(done.stderr)


def nbgrader_errors(log: str) -> str:
    """The parts of nbgrader's log that say what went wrong: each traceback and ERROR line
    with the lines just before it (the whole log of a round is too long to read)."""
    lines = log.splitlines()
    keep: set[int] = set()
    for number, line in enumerate(lines):
        if "| ERROR]" in line or "Traceback" in line or "Error:" in line:
            keep.update(range(max(0, number - 3), min(len(lines), number + 25)))
    return "\n".join(lines[n] for n in sorted(keep))[-12000:] or log[-3000:]


def submission(release: nbformat.NotebookNode, answers: dict[str, str]) -> nbformat.NotebookNode:
    """The released notebook with the given answer cells filled in."""
    notebook = copy.deepcopy(release)
    for cell in notebook.cells:
        if exercises.grade_id(cell) in answers:
            cell.source = answers[exercises.grade_id(cell)]
    return notebook


def submit(course: Path, student: str, topic: str, notebook: nbformat.NotebookNode) -> None:
    folder = course / "submitted" / student / topic
    folder.mkdir(parents=True)
    nbformat.write(notebook, folder / f"{topic}.ipynb")


def feedback(course: Path, student: str, topic: str, grade_id: str) -> str:
    """The error a graded cell showed when it was autograded ('' if it passed)."""
    notebook = exercises.read(course / "autograded" / student / topic / f"{topic}.ipynb")
    return exercises.graded_results(notebook)[grade_id] or ""


def test_every_wrong_answer_belongs_to_a_task() -> None:
    for topic in TOPICS:
        assert WRONG.get(topic, []), f"tests/wrong_answers/wrong_{topic}.py is missing"
        assert len(WRONG[topic]) >= 10, f"{topic}: at least ten wrong answers per topic"
        tasks = graded_tasks(topic)
        strays = [case.name for case in WRONG[topic] if case.fails not in tasks]
        assert not strays, f"{topic}: no graded cell of that name for {strays}"


@pytest.mark.parametrize("topic, task, first", ROUNDS)
def test_classroom_round(topic: str, task: str, first: bool, assignments, tmp_path: Path) -> None:
    cases = [(number, case) for number, case in enumerate(WRONG.get(topic, []), 1)
             if case.fails == task]
    course = assignments(topic, tmp_path / "course")
    marker = uuid.uuid4().hex

    release = exercises.read(course / "release" / topic / f"{topic}.ipynb")
    committed = exercises.read(ROOT / "exercises" / f"{topic}.ipynb")
    assert [c.source for c in release.cells] == [c.source for c in committed.cells], (
        "exercises/ differs from what nbgrader generate_assignment makes: "
        "run python3 course.py exercises")

    solution = exercises.read(ROOT / "solutions" / f"{topic}.ipynb")
    if first:
        submit(course, "solved", topic, submission(release, exercises.solution_answers(solution)))
        submit(course, "untouched", topic, release)
    elif not cases:
        pytest.skip(f"no wrong answer fails {task}")
    # A wrong answer's hand-in stops after its task: the earlier answers solved, the later ones
    # as released. Only its task's cell is judged; the later tasks' checks would only cost time.
    answers = exercises.solution_answers(solution, before=task)
    for number, case in cases:
        assert case.cell in answers, f"{case.name}: no answer cell {case.cell!r} before {task}"
        submit(course, f"wrong-{number}", topic, submission(release, {**answers, case.cell: case.source}))
    nbgrader(course, "autograde", topic, "--create", marker=marker)
    assert not leaks.marked_processes(MARKER, marker), "grading left processes running"

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        def scores(student: str) -> tuple[float, float, dict[str, float]]:
            graded = gradebook.find_submission_notebook(topic, topic, student)
            return graded.score, graded.max_score, {g.name: g.score for g in graded.grades}

        if first:
            score, max_score, cells = scores("solved")
            assert max_score > 0 and score == max_score, (
                f"the solution scored {score}/{max_score}: {cells}")
            score, _, cells = scores("untouched")
            silent = [task for task in graded_tasks(topic)
                      if not feedback(course, "untouched", topic, task)]
            assert score == 0 and not silent, (
                f"the untouched exercise scored {score}: {cells}; no feedback from {silent}")
        problems = []
        for number, case in cases:
            score, max_score, cells = scores(f"wrong-{number}")
            said = feedback(course, f"wrong-{number}", topic, case.fails)
            if not (score < max_score and cells[case.fails] == 0 and case.says in said):
                problems.append(f"{case.name}: scored {score}/{max_score} {cells}; "
                                f"{case.fails} said {said[:300]!r}")
        assert not problems, "\n".join(problems)
