"""pytest plugin: the suite on every core with pytest-xdist, each worker isolated.

``python3 course.py test`` adds ``-n N --dist loadscope`` where ``tests/isolation.py`` can give
every worker a private ``/dev/shm`` (see there why that matters), and runs serially where it
cannot. This plugin

* makes each xdist worker enter its private ``/dev/shm`` before it starts anything, and
  refuses to run a worker that cannot (a parallel run without it would blame leaks on the
  wrong notebook);
* hands out each test as a work unit of its own, except the cells of one notebook run,
  which talk to one kernel and form one unit (``Scheduler``, whatever ``--dist``
  says; ``course.py`` passes ``--dist loadscope``, the closest of xdist's own modes);
* hands out the longest work first, so that the run does not end with one core busy on a
  long item and the other idle. The order is by kind of test, measured from whole runs:
  classroom rounds, then browser runs, exercise grading, notebook runs, everything else.
"""

from __future__ import annotations

import pytest

from tests import isolation

# Longest first, as measured per part with tools/durations.py on whole runs.
ORDER = ("tests/test_classroom.py", "tests/test_browser.py", "tests/test_exercises.py",
         ".ipynb", "tests/test_suite_catches.py")


def is_worker(config: pytest.Config) -> bool:
    """True in a pytest-xdist worker process."""
    return hasattr(config, "workerinput")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    if not is_worker(config):
        if config.pluginmanager.hasplugin("xdist"):
            config.pluginmanager.register(Scheduler(), "course-scheduler")
            # Work is handed out in the order the workers collected it (longest first).
            config.option.loadscopereorder = False
        return
    try:
        isolation.private_dev_shm()
    except OSError as error:
        raise pytest.UsageError(
            f"A parallel test worker needs a /dev/shm of its own ({error}); without it a "
            "notebook's leak check would see its neighbour's shared memory. Run the suite "
            "serially (-n 0), as `python3 course.py test` does where this is not possible."
        ) from error


def rank(nodeid: str) -> int:
    """Where a test's kind comes in ORDER (longest first); everything else last."""
    for position, part in enumerate(ORDER):
        if nodeid.startswith(part) or (part == ".ipynb" and ".ipynb::" in nodeid):
            return position
    return len(ORDER)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if is_worker(config):
        items.sort(key=lambda item: rank(item.nodeid))  # stable: in-kind order is kept


def notebook_run_scope(nodeid: str) -> str:
    """The work unit of a test: itself, or for a notebook's cell, its notebook run (the cells
    of ``nb.ipynb::spawn`` talk to one kernel and must run on one worker, in order)."""
    return nodeid.rsplit("::", 1)[0] if ".ipynb::" in nodeid else nodeid


class Scheduler:
    """Registered when pytest-xdist is installed: hands out work by ``notebook_run_scope``."""

    @staticmethod
    def pytest_xdist_make_scheduler(config: pytest.Config, log):
        from xdist.scheduler import LoadScopeScheduling

        if config.getvalue("dist") == "each":
            return None  # xdist's own: every test on every worker

        class NotebookRunScheduling(LoadScopeScheduling):
            def _split_scope(self, nodeid: str) -> str:
                return notebook_run_scope(nodeid)

        return NotebookRunScheduling(config, log)
