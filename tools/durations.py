"""Where a test run's time went, per part, from pytest's ``--durations=0`` report.

    python3 course.py test --durations=0 | tee run.log
    python3 -m tools.durations run.log

Sums the setup, call and teardown times of every test by part: each notebook under each
start method (its cells and its leak check), the exercise grading per topic, the classroom
round per topic, the browser runs, the fixture runs, and the unit tests per file. Under
``-n`` these are busy times of one worker each; the wall time is in pytest's last line.
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from pathlib import Path

LINE = re.compile(r"^(\d+\.\d+)s (setup|call|teardown)\s+(\S.*)$")


def part(nodeid: str) -> str:
    """The part of the suite a test belongs to."""
    if ".ipynb::" in nodeid:
        path, method = nodeid.split("::")[:2]
        kind = "fixture notebook" if "/fixtures/" in path else "notebook"
        return f"{kind} {Path(path).stem} [{method}]"
    file = nodeid.split("::")[0]
    topic = re.search(r"\[(\d\d_[a-z_]+)", nodeid)
    if file.endswith("test_classroom.py") and topic:
        return f"classroom round {topic.group(1)}"
    if file.endswith("test_exercises.py") and topic:
        return f"exercise grading {topic.group(1)}"
    return f"tests {Path(file).name}"


def table(log: str) -> list[tuple[str, float]]:
    """(part, seconds) for every part in the log, longest first."""
    seconds: dict[str, float] = defaultdict(float)
    for line in log.splitlines():
        match = LINE.match(line.strip())
        if match:
            seconds[part(match.group(3))] += float(match.group(1))
    return sorted(seconds.items(), key=lambda item: -item[1])


def kind(part_name: str) -> str:
    """The row of the summary a part goes in."""
    for prefix in ("fixture notebook", "notebook", "classroom round", "exercise grading"):
        if part_name.startswith(prefix):
            return prefix
    special = {"tests test_browser.py": "browser", "tests test_suite_catches.py": "fixture runs"}
    return special.get(part_name, "unit tests")


def main(argv: list[str]) -> None:
    rows = table(Path(argv[0]).read_text(encoding="utf-8", errors="replace"))
    kinds: dict[str, float] = defaultdict(float)
    for name, seconds in rows:
        kinds[kind(name)] += seconds
    for name, seconds in sorted(kinds.items(), key=lambda item: -item[1]):
        print(f"{seconds:8.1f} s  {name}")
    print(f"{sum(kinds.values()):8.1f} s  in all (busy time of the workers)\n")
    for name, seconds in rows:
        print(f"{seconds:8.1f} s  {name}")


if __name__ == "__main__":
    main(sys.argv[1:])
