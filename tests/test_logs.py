"""Unit tests of helpers.logs, the worker code of notebook 09_logging, under each start method."""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.util
from collections.abc import Iterator
from logging.handlers import QueueHandler, QueueListener
from pathlib import Path

import pytest

from tests.conftest import finish_processes
import helpers  # noqa: F401  (applies the start method, installs the guard)
import helpers.logs as hl

# A mistake in these tests (a lock taken twice by a logging handler) can deadlock: fail fast.
pytestmark = pytest.mark.timeout(120)


def finish(*children) -> list[int | None]:
    """Join children (terminating any that hang) and return their exit codes."""
    return finish_processes(*children, timeout=30)


@pytest.fixture
def clean_loggers() -> Iterator[None]:
    """Leave multiprocessing's logger and the course's loggers as they were found."""
    multiprocessing.get_logger()  # create it first: it sets propagate = False on creation
    names = ["multiprocessing", hl.DEMO_LOGGER, hl.WORKER_LOGGER, "course.measure"]
    saved = {}
    for name in names:
        lg = logging.getLogger(name)
        saved[name] = (lg.level, list(lg.handlers), lg.propagate)
    flag = multiprocessing.util._log_to_stderr
    yield
    for name, (level, handlers, propagate) in saved.items():
        lg = logging.getLogger(name)
        lg.setLevel(level)
        lg.handlers[:] = handlers
        lg.propagate = propagate
    multiprocessing.util._log_to_stderr = flag


def collect_from_child(ctx, target, args=(), name: str = "test-child") -> tuple[list[logging.LogRecord], int | None]:
    """Run ``target(*args)`` in a child of ``ctx``; return the records that reached ``queue`` and its exit code.

    ``args`` may contain the placeholder ``QUEUE``, replaced by the queue the parent listens to.
    """
    queue = ctx.Queue()
    collector = hl.RecordCollector()
    listener = QueueListener(queue, collector)
    listener.start()
    try:
        child = ctx.Process(target=target, args=tuple(queue if a is QUEUE else a for a in args), name=name)
        child.start()
        code = finish(child)[0]
    finally:
        listener.stop()
        queue.close()
        queue.join_thread()
    return [r for r in collector.records if r.processName == name], code


QUEUE = object()


# --- Parent-side tools --------------------------------------------------------------------


def test_record_collector_keeps_records_in_order(clean_loggers) -> None:
    logger = logging.getLogger(hl.DEMO_LOGGER)
    collector = hl.RecordCollector()
    logger.addHandler(collector)
    logger.setLevel(logging.INFO)
    logger.debug("dropped")
    logger.info("first %d", 1)
    logger.warning("second")
    assert collector.messages() == ["first 1", "second"]
    assert [r.levelname for r in collector.records] == ["INFO", "WARNING"]


def test_describe_logger_names_level_and_handler_classes(clean_loggers) -> None:
    logger = logging.getLogger(hl.DEMO_LOGGER)
    logger.handlers[:] = []
    logger.setLevel(logging.NOTSET)
    assert hl.describe_logger(hl.DEMO_LOGGER) == "level NOTSET, no handlers"
    logger.setLevel(logging.INFO)
    logger.addHandler(hl.RecordCollector())
    logger.addHandler(logging.NullHandler())
    assert hl.describe_logger(hl.DEMO_LOGGER) == "level INFO, handlers: RecordCollector, NullHandler"
    assert hl.describe_logging([hl.DEMO_LOGGER]) == {hl.DEMO_LOGGER: hl.describe_logger(hl.DEMO_LOGGER)}


def test_reset_multiprocessing_logging_undoes_log_to_stderr(clean_loggers) -> None:
    logger = multiprocessing.log_to_stderr(logging.INFO)
    assert logger.handlers and multiprocessing.util._log_to_stderr
    hl.reset_multiprocessing_logging()
    assert logger.handlers == []
    assert logger.level == logging.NOTSET
    assert multiprocessing.util._log_to_stderr is False


def test_children_started_after_reset_do_not_log_to_stderr(mp_context, clean_loggers) -> None:
    def child_handlers() -> str:
        results = mp_context.Queue()
        child = mp_context.Process(target=hl.send_logging_description, args=(results, ["multiprocessing"]))
        child.start()
        seen = results.get(timeout=30)
        assert finish(child) == [0]
        return seen["multiprocessing"]

    multiprocessing.log_to_stderr()  # no level: the children's INFO records stay quiet
    assert "StreamHandler" in child_handlers()  # every method passes log_to_stderr on
    hl.reset_multiprocessing_logging()
    assert "no handlers" in child_handlers()


def test_parse_mp_records_groups_by_process_and_skips_other_lines() -> None:
    text = (
        "[INFO/printer-1] child process calling self.run()\n"
        "tango\n"
        "[INFO/MainProcess] process shutting down\n"
        "Traceback (most recent call last):\n"
        "[DEBUG/printer-1] process exiting with exitcode 0\n"
        "[Level 25/Process-2] odd level\n"
    )
    assert hl.parse_mp_records(text) == {
        "MainProcess": ["process shutting down"],
        "Process-2": ["odd level"],
        "printer-1": ["child process calling self.run()", "process exiting with exitcode 0"],
    }
    assert list(hl.parse_mp_records(text)) == ["MainProcess", "Process-2", "printer-1"]
    assert hl.parse_mp_records("no records here\n") == {}


# --- What a child inherits ----------------------------------------------------------------


def test_send_logging_description_shows_what_each_method_inherits(mp_context, clean_loggers) -> None:
    for name in ("multiprocessing", hl.DEMO_LOGGER):
        lg = logging.getLogger(name)
        lg.setLevel(logging.INFO)
        lg.addHandler(hl.RecordCollector())
    multiprocessing.get_logger()  # multiprocessing passes its level on only once it exists
    results = mp_context.Queue()
    child = mp_context.Process(target=hl.send_logging_description, args=(results,))
    child.start()
    seen = results.get(timeout=30)
    assert finish(child) == [0]
    assert seen["multiprocessing"].startswith("level INFO")  # passed on under every method
    if mp_context.get_start_method() == "fork":
        assert seen == hl.describe_logging()
    else:
        assert seen[hl.DEMO_LOGGER] == "level NOTSET, no handlers"
        assert seen["multiprocessing"] == "level INFO, no handlers"


def test_log_greeting_reaches_the_parent_only_through_inherited_handlers(mp_context, clean_loggers) -> None:
    queue = mp_context.Queue()
    demo = logging.getLogger(hl.DEMO_LOGGER)
    demo.setLevel(logging.INFO)
    demo.addHandler(QueueHandler(queue))
    collector = hl.RecordCollector()
    listener = QueueListener(queue, collector)
    listener.start()
    child = mp_context.Process(target=hl.log_greeting, name="greeter")
    child.start()
    assert finish(child) == [0]
    listener.stop()
    queue.close()
    queue.join_thread()
    from_child = [r.getMessage() for r in collector.records if r.processName == "greeter"]
    if mp_context.get_start_method() == "fork":
        assert from_child == ["hello from greeter"]
    else:
        assert from_child == []


def test_log_greeting_via_works_under_every_method(mp_context, clean_loggers) -> None:
    records, code = collect_from_child(mp_context, hl.log_greeting_via, (QUEUE,), name="greeter")
    assert code == 0
    assert [(r.name, r.getMessage()) for r in records] == [(hl.DEMO_LOGGER, "hello from greeter")]


def test_configure_worker_logging_replaces_root_handlers(clean_loggers) -> None:
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    try:
        root.addHandler(logging.NullHandler())
        queue = multiprocessing.Queue()
        hl.configure_worker_logging(queue, logging.DEBUG)
        assert [type(h) for h in root.handlers] == [QueueHandler]
        assert root.level == logging.DEBUG
        logging.getLogger(hl.WORKER_LOGGER).debug("to the queue")
        assert queue.get(timeout=10).getMessage() == "to the queue"
        queue.close()
        queue.join_thread()
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)


def test_log_with_handler_cannot_reach_a_spawned_child(mp_context, tmp_path: Path, clean_loggers) -> None:
    path = tmp_path / "handler.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    try:
        child = mp_context.Process(target=hl.log_with_handler, args=(handler,), name="handed")
        if mp_context.get_start_method() == "fork":
            child.start()  # nothing is pickled: the child writes through its copy
            assert finish(child) == [0]
            assert path.read_text(encoding="utf-8") == "hello from handed\n"
        else:
            with pytest.raises(TypeError):
                child.start()
            assert child.pid is None
    finally:
        handler.close()


# --- Records and log files ----------------------------------------------------------------


def test_record_message_has_a_fixed_length_and_differs_per_worker_and_number() -> None:
    message = hl.record_message("writer-1", 7, 50)
    assert message.startswith("record 0007 ")
    assert len(message) == len("record 0007 ") + 50
    assert len(hl.record_message("writer-1", 7, 1000)) == len("record 0007 ") + 1000
    assert message != hl.record_message("writer-2", 7, 50)
    assert message != hl.record_message("writer-1", 8, 50)


def write_lines(path: Path, lines: list[str]) -> None:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def test_check_log_file_accepts_whole_records_in_order(tmp_path: Path) -> None:
    path = tmp_path / "good.log"
    lines = [f"{w} {hl.record_message(w, n, 30)}" for n in range(3) for w in ("a", "b")]
    write_lines(path, lines)
    check = hl.check_log_file(str(path), ["a", "b"], 3, 30)
    assert check.whole == {"a": 3, "b": 3}
    assert check.in_order == {"a": True, "b": True}
    assert check.broken_lines == 0
    assert check.all_arrived(3)
    assert not check.all_arrived(4)


def test_check_log_file_finds_cut_mixed_foreign_and_missing_records(tmp_path: Path) -> None:
    path = tmp_path / "bad.log"
    whole = [f"a {hl.record_message('a', n, 30)}" for n in range(4)]
    lines = [
        whole[0],
        whole[1][:20],                     # cut
        whole[2][:25] + whole[3][25:],     # two records run together
        f"c {hl.record_message('c', 0, 30)}",  # unknown worker
        f"a {hl.record_message('b', 3, 30)}",  # a's name with b's body
    ]
    write_lines(path, lines)
    path.write_text(path.read_text(encoding="utf-8") + "a record 0009 unfinished", encoding="utf-8")
    check = hl.check_log_file(str(path), ["a"], 4, 30)
    assert check.broken_lines == 5  # cut, mixed, foreign, wrong body, unfinished last line
    assert check.whole == {"a": 1}
    assert not check.all_arrived(4)


def test_check_log_file_sees_a_gap(tmp_path: Path) -> None:
    path = tmp_path / "gap.log"
    write_lines(path, [f"a {hl.record_message('a', n, 10)}" for n in (0, 2)])
    check = hl.check_log_file(str(path), ["a"], 2, 10)
    assert check.whole == {"a": 2} and check.in_order == {"a": False}
    assert not check.all_arrived(2)


def test_write_records_through_a_listener_arrive_whole(mp_context, tmp_path: Path, clean_loggers) -> None:
    path = tmp_path / "safe.log"
    queue = mp_context.Queue()
    handler = logging.FileHandler(path, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter(hl.FILE_FORMAT))
    listener = QueueListener(queue, handler)
    listener.start()
    names = ["w-1", "w-2"]
    children = [mp_context.Process(target=hl.write_records, args=(queue, 50, 300), name=n) for n in names]
    for child in children:
        child.start()
    assert finish(*children) == [0, 0]
    listener.stop()
    handler.close()
    queue.close()
    queue.join_thread()
    assert hl.check_log_file(str(path), names, 50, 300).all_arrived(50)


def test_write_records_to_own_file_alone_writes_every_record(mp_context, tmp_path: Path) -> None:
    path = tmp_path / "alone.log"
    child = mp_context.Process(target=hl.write_records_to_own_file, args=(str(path), 30, 40, "w"), name="alone")
    child.start()
    assert finish(child) == [0]
    assert hl.check_log_file(str(path), ["alone"], 30, 40).all_arrived(30)


def test_write_records_to_own_file_in_mode_w_loses_records(mp_context, tmp_path: Path) -> None:
    path = tmp_path / "shared.log"
    names = ["writer-1", "writer-2", "writer-3"]
    children = [
        mp_context.Process(target=hl.write_records_to_own_file, args=(str(path), 100, 60, "w"), name=n)
        for n in names
    ]
    for child in children:
        child.start()
    assert finish(*children) == [0, 0, 0]
    check = hl.check_log_file(str(path), names, 100, 60)
    # Every worker truncates the file and writes from offset 0: the file holds at most one
    # worker's worth of records, whatever the timing.
    assert sum(check.whole.values()) + check.broken_lines <= 100
    assert not check.all_arrived(100)


def test_log_task_records_go_where_the_initializer_says(mp_context, tmp_path: Path) -> None:
    queue = mp_context.Queue()
    collector = hl.RecordCollector()
    listener = QueueListener(queue, collector)
    listener.start()
    with mp_context.Pool(2, initializer=hl.configure_worker_logging, initargs=(queue,)) as pool:
        squares = pool.map(hl.log_task, range(8))
        pool.close()
        pool.join()
    listener.stop()
    queue.close()
    queue.join_thread()
    assert squares == [n * n for n in range(8)]
    assert sorted(collector.messages()) == [f"task {n:04d} done" for n in range(8)]
    assert all(r.name == hl.WORKER_LOGGER for r in collector.records)


@pytest.mark.parametrize("through", ["path", "log_queue"])
def test_time_logging_reports_a_time_and_logs_every_record(mp_context, tmp_path: Path, through: str) -> None:
    results = mp_context.Queue()
    path = tmp_path / "timed.log"
    listener = handler = queue = None
    if through == "path":
        kwargs = {"path": str(path)}
    else:
        queue = mp_context.Queue()
        handler = logging.FileHandler(path, mode="w", encoding="utf-8")
        listener = QueueListener(queue, handler)
        listener.start()
        kwargs = {"log_queue": queue}
    child = mp_context.Process(target=hl.time_logging, args=(results, 200), kwargs=kwargs)
    child.start()
    seconds = results.get(timeout=30)
    assert finish(child) == [0]
    if listener is not None:
        listener.stop()
        handler.close()
        queue.close()
        queue.join_thread()
    assert seconds > 0
    assert len(path.read_text(encoding="utf-8").splitlines()) == 200


def test_time_logging_needs_a_destination() -> None:
    results = multiprocessing.Queue()
    with pytest.raises(ValueError):
        hl.time_logging(results, 1)
    results.close()
