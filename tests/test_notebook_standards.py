"""Every notebook keeps the course's standards: it imports helpers first, its outputs are
stored and verified, and the API checklist of COURSE_GUIDE section 10 runs in its code."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import course
from tests.conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
# nbval honours a marker only as a comment line of its own: "# NBVAL_IGNORE_OUTPUT".
IGNORED = {"NBVAL_IGNORE_OUTPUT", "NBVAL_SKIP", "PYTEST_VALIDATE_IGNORE_OUTPUT"}
IGNORED_TAGS = {"nbval-ignore-output", "nbval-skip"}
# Interactive labs: notebooks that teach no topic of their own (no API checklist, no
# exercise notebook); they practise the topics' notebooks and are held to every other standard.
LABS = {"11_pool_explorer"}

# COURSE_GUIDE section 10: the notebook that teaches a topic, and what must run in its code.
CHECKLIST = {
    "01_process": ["Process(", ".start()", ".join(", ".is_alive()", ".terminate()", ".kill()",
                   ".close()", ".exitcode", ".pid", ".daemon", ".name", ".sentinel",
                   "current_process()", "parent_process()", "active_children()", "cpu_count()",
                   "os.getpid()", "os.getppid()", "def run(self"],
    "02_fork_and_start_methods": ["os.fork()", "os._exit(", "os.waitpid(", "os.register_at_fork(",
                                  "get_context(", "set_start_method(", "get_start_method(",
                                  "get_all_start_methods(", "set_forkserver_preload(",
                                  'if __name__ == "__main__":'],
    "03_queue": ["Queue(", ".put(", ".get(", ".put_nowait(", ".get_nowait(", ".qsize()",
                 ".empty()", "queue.Empty", "JoinableQueue(", ".task_done()", "SimpleQueue(",
                 ".join_thread()"],
    "04_pipe": ["Pipe(", "duplex=False", ".send(", ".recv()", ".send_bytes(", ".recv_bytes(",
                ".poll(", "EOFError", "connection.wait("],
    "05_synchronisation": ["Lock(", "RLock(", "Semaphore(", "BoundedSemaphore(", "Condition(",
                           "Event(", "Barrier(", ".acquire(", ".release()", ".get_lock()"],
    "06_shared_memory": ["Value(", "Array(", "RawValue(", "RawArray(", "ctypes", "SharedMemory(",
                         ".buf", ".unlink()", "ShareableList(", "SharedMemoryManager("],
    "07_manager": ["Manager()", ".dict(", ".list(", ".Namespace(", ".Queue(", ".Lock(", ".Value(",
                   "BaseManager", ".register(", ".connect()", "authkey", ".shutdown()"],
    "08_pool": ["Pool(", ".apply(", ".apply_async(", ".map(", ".map_async(", ".imap(",
                ".imap_unordered(", ".starmap(", ".starmap_async(", "chunksize", "callback=",
                "error_callback=", ".get(timeout", ".ready()", ".successful()", ".wait(",
                "TimeoutError", "maxtasksperchild", "initializer", "multiprocessing.dummy"],
    "09_logging": ["log_to_stderr(", "get_logger(", ".setLevel(", "QueueHandler(", "QueueListener(",
                   "logging.FileHandler("],
    "10_concurrent_futures": ["ProcessPoolExecutor(", "ThreadPoolExecutor(", ".submit(",
                              "as_completed(", "wait(", "FIRST_COMPLETED", ".result(",
                              ".exception(", ".add_done_callback(", ".cancel()", "cancel_futures",
                              "mp_context", "max_tasks_per_child", "BrokenProcessPool",
                              "requests.get("],
    "12_in_practice": ["gc.freeze()", "RLIMIT_AS", "buffer_callback=", "terminate_workers",
                       "signal.SIGTERM", "signal.SIGINT", "memory_full_info", "BrokenProcessPool",
                       "maxtasksperchild", "as_completed(", "imap_unordered(", "tqdm(",
                       "get(timeout", "join(timeout"],
    "13_beyond_one_machine": ["Parallel(", "delayed(", "return_as=", "parallel_config(",
                              "get_reusable_executor()", "LocalCluster(", "Client(", ".submit(",
                              ".map(", ".gather(", "as_completed(", ".scatter(",
                              "get_executor()", "KilledWorker", "dashboard_link"],
    "14_capstone_images": ["imap_unordered(", "chunksize", "ThreadPoolExecutor(", "os.replace",
                           "tqdm(", "apply_async(", ".get("],
    "15_capstone_crawler": ["ThreadPoolExecutor(", "ProcessPoolExecutor(", "requests.get(",
                            "BoundedSemaphore(", "FIRST_COMPLETED", "signal.SIGINT",
                            ".Manager()", ".Queue()", ".dict()", "initializer="],
    "16_capstone_file_service": ["sqlite3.connect(", "BEGIN IMMEDIATE", "ThreadPoolExecutor(",
                                 "FileService(", "send_partial(", ".starmap_async(", "closing(",
                                 "verify(", "os.replace("],
}


def code_cells(path: Path) -> list[dict]:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [c for c in cells if c["cell_type"] == "code"]


def source(cell: dict) -> str:
    return "".join(cell["source"])


def markers(cell: dict) -> set[str]:
    """The nbval markers in a cell, read the way nbval reads them."""
    comments = (line.strip().lstrip("#").strip() for line in source(cell).splitlines()
                if line.strip().startswith("#"))
    return set(comments) & IGNORED


def is_verified(cell: dict) -> bool:
    tags = {t.lower() for t in cell.get("metadata", {}).get("tags", [])}
    return not markers(cell) and not tags & IGNORED_TAGS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_code_cell_imports_helpers(path: Path) -> None:
    assert re.search(r"^import helpers$", source(code_cells(path)[0]), re.M)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_outputs_are_stored_and_mostly_verified(path: Path) -> None:
    cells = code_cells(path)
    assert all(c["execution_count"] is not None for c in cells), "record the notebook's outputs"
    verified = sum(map(is_verified, cells))
    assert verified / len(cells) >= 0.85, f"{verified} of {len(cells)} code cells verified"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_ignored_cell_says_why(path: Path) -> None:
    for cell in code_cells(path):
        lines = source(cell).splitlines()
        for line in lines:
            if "NBVAL_" in line and line.strip().lstrip("#").strip() not in IGNORED:
                pytest.fail(f"nbval does not read this marker (it must stand alone): {line!r}")
        if not is_verified(cell):
            reasons = [l for l in lines if l.strip().startswith("#") and len(l.strip()) > 20
                       and l.strip().lstrip("#").strip() not in IGNORED]
            assert reasons, f"say why this cell's output is not compared:\n{source(cell)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_cells_that_must_raise_store_their_error(path: Path) -> None:
    for cell in code_cells(path):
        if "raises-exception" in cell.get("metadata", {}).get("tags", []):
            assert [o for o in cell["outputs"] if o["output_type"] == "error"], source(cell)


@pytest.mark.parametrize("topic", sorted(CHECKLIST))
def test_checklist_names_run_in_the_topic_notebook(topic: str) -> None:
    path = ROOT / "notebooks" / f"{topic}.ipynb"
    if not path.exists():
        pytest.skip(f"{path.name} is not written yet")
    code = "\n".join(source(c) for c in code_cells(path))
    # Worker code lives in helpers (a Process subclass's run(self), say): count the helpers
    # modules this notebook uses as part of its code.
    used = [m for m in (ROOT / "helpers").glob("*.py") if re.search(rf"\b{m.stem}\b", code)]
    code += "\n".join(m.read_text(encoding="utf-8") for m in used)
    missing = [name for name in CHECKLIST[topic] if name not in code]
    assert not missing, f"{path.name} never runs: {missing}"


def test_every_lab_is_a_notebook() -> None:
    assert {lab for lab in LABS if not (ROOT / "notebooks" / f"{lab}.ipynb").exists()} == set()


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if p.stem not in LABS],
                         ids=lambda p: p.stem)
def test_notebook_links_to_its_exercise(path: Path) -> None:
    exercise = course.exercise_of(path)  # a capstone may share the capstone exercise
    link = f"](../exercises/{exercise.name})"
    text = "".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"]
                   if c["cell_type"] == "markdown")
    assert link in text, f"{path.name} should end with a link to ../exercises/{exercise.name}"
    assert exercise.exists() and (ROOT / "solutions" / exercise.name).exists()
