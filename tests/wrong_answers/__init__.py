"""Wrong answers that learners give, one module per topic (``wrong_NN_topic.py``).

Each is a submission of a topic's solution notebook with one answer cell replaced; the
suite grades it (``tests/test_classroom.py``) and checks that the named graded cell fails
with feedback that names the mistake.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class WrongAnswer:
    """A learner's wrong answer to one answer cell, and what the checks must say about it."""

    name: str          # the mistake, in a few words
    cell: str          # grade_id of the answer cell it replaces
    source: str        # what the learner wrote there
    fails: str         # grade_id of the graded test cell that must fail
    says: str          # a phrase the failing cell's feedback must contain


def by_topic() -> dict[str, list[WrongAnswer]]:
    """Every topic's wrong answers, keyed by the notebook's stem (``00_introduction``)."""
    topics = {}
    for path in sorted(Path(__file__).parent.glob("wrong_*.py")):
        module = importlib.import_module(f"{__name__}.{path.stem}")
        topics[path.stem.removeprefix("wrong_")] = module.WRONG_ANSWERS
    return topics
