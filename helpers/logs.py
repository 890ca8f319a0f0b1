"""Worker code and tools for notebook 09_logging: logging from several processes.

Two facts shape everything here:

* ``logging`` keeps its configuration (loggers, levels, handlers) in the memory of one
  process. A ``fork`` child gets a copy of it; a ``spawn`` or ``forkserver`` child starts
  with an unconfigured ``logging``, except that ``multiprocessing`` passes on two things
  about its *own* logger: whether ``log_to_stderr()`` was called and the logger's level.
* A handler's lock serialises the threads of one process, never several processes. Several
  processes that write to one file each through their own handler can lose or mix records.

The safe pattern, from the logging cookbook: every worker sends its records through a
``multiprocessing.Queue`` with a ``logging.handlers.QueueHandler`` (see
``configure_worker_logging``), and one ``QueueListener`` in the parent hands them to the
only ``logging.FileHandler``. ``check_log_file`` checks afterwards that every worker's
records arrived whole.

The functions run in child processes (``Process`` targets, pool initializers and tasks)
are here, in an importable module, so that spawn and forkserver children can import them.
They never print: what they find goes back to the parent through a queue or a file.
"""

from __future__ import annotations

import logging
import logging.handlers
import multiprocessing
import multiprocessing.util
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

DEMO_LOGGER = "course.demo"
"""The application logger of the notebook's demos (a name of our choosing)."""

WORKER_LOGGER = "course.worker"
"""The logger the workers of the file demos write their records to."""

FILE_FORMAT = "%(processName)s %(message)s"
"""The format of every line the file demos write: the process's name, a space, the message."""

_MP_LINE = re.compile(r"^\[(?P<level>[A-Za-z0-9 ]+)/(?P<process>[^\]]+)\] (?P<message>.*)$")
_FILE_LINE = re.compile(r"^(?P<process>\S+) record (?P<number>\d{4}) (?P<body>.*)$")


# --- Parent-side tools --------------------------------------------------------------------


class RecordCollector(logging.Handler):
    """A handler that keeps every record it handles in ``records`` (a list in this process).

    The notebook attaches it to a logger, or gives it to a ``QueueListener``, and prints
    what was collected afterwards, so that the printed output does not depend on when
    another process or thread happened to log.
    """

    def __init__(self, level: int = logging.NOTSET) -> None:
        super().__init__(level)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the record (``Handler.handle`` calls this with the handler's lock held)."""
        self.records.append(record)

    def messages(self) -> list[str]:
        """The messages of the collected records, in the order they were handled."""
        return [record.getMessage() for record in self.records]


def describe_logger(name: str) -> str:
    """Describe the logger ``name`` of this process: its own level and its handlers' classes.

    For example ``"level INFO, handlers: QueueHandler"`` or ``"level NOTSET, no handlers"``.
    """
    logger = logging.getLogger(name)
    handlers = [type(handler).__name__ for handler in logger.handlers]
    shown = "handlers: " + ", ".join(handlers) if handlers else "no handlers"
    return f"level {logging.getLevelName(logger.level)}, {shown}"


def describe_logging(names: Iterable[str] = ("multiprocessing", DEMO_LOGGER)) -> dict[str, str]:
    """``describe_logger`` for each of ``names``, as a dict keyed by logger name."""
    return {name: describe_logger(name) for name in names}


def reset_multiprocessing_logging() -> None:
    """Undo ``multiprocessing.log_to_stderr()`` and any level set on multiprocessing's logger.

    ``multiprocessing`` has no public way to do this. In a script it does not matter (the
    process ends), but a Jupyter kernel keeps the handler, and every spawn or forkserver
    child started later would call ``log_to_stderr()`` too and write to its own stderr.
    This removes the logger's handlers, sets its level back to ``NOTSET`` and clears the
    flag that spawn and forkserver children read (``multiprocessing.util._log_to_stderr``,
    a private variable).
    """
    logger = multiprocessing.get_logger()
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    logger.setLevel(logging.NOTSET)
    multiprocessing.util._log_to_stderr = False


def parse_mp_records(text: str) -> dict[str, list[str]]:
    """Group the ``[LEVEL/ProcessName] message`` lines of ``text`` by process name.

    ``text`` is what a program that called ``multiprocessing.log_to_stderr()`` wrote to
    stderr. Lines in another format (a traceback, a print) are skipped. Each process's
    messages keep their order; the dict's keys are sorted.
    """
    grouped: dict[str, list[str]] = {}
    for line in text.splitlines():
        match = _MP_LINE.match(line)
        if match:
            grouped.setdefault(match["process"], []).append(match["message"])
    return dict(sorted(grouped.items()))


# --- Targets that report on logging in a child --------------------------------------------


def send_logging_description(results: Any, names: Iterable[str] = ("multiprocessing", DEMO_LOGGER)) -> None:
    """Put ``describe_logging(names)``, as seen in this child, on the queue ``results``.

    Run it under each start method to see which logging configuration a child has
    without doing anything itself: under fork a copy of the parent's, under spawn and
    forkserver only what ``multiprocessing`` passed on (its logger's level).
    """
    results.put(describe_logging(tuple(names)))


def log_greeting() -> None:
    """Log one INFO record on the ``course.demo`` logger, and configure nothing.

    Whether the record reaches anyone depends only on the logging configuration the child
    started with (see ``send_logging_description``).
    """
    name = multiprocessing.current_process().name
    logging.getLogger(DEMO_LOGGER).info("hello from %s", name)


def log_with_handler(handler: logging.Handler) -> None:
    """Attach ``handler`` (received from the parent) to ``course.demo``, then ``log_greeting()``.

    The mistake of handing a configured handler to a child: under fork the child gets it
    without pickling (and writes through a copy of it); under spawn and forkserver
    ``Process.start()`` must pickle it, and a handler's lock cannot be pickled.
    """
    logger = logging.getLogger(DEMO_LOGGER)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    log_greeting()


# --- The safe pattern: QueueHandler in the workers ----------------------------------------


def configure_worker_logging(queue: Any, level: int = logging.INFO) -> None:
    """Send every record this process logs to ``queue``: the worker half of the safe pattern.

    Replaces the handlers of this process's root logger with one
    ``logging.handlers.QueueHandler(queue)`` and sets the root level. Call it first thing in
    a ``Process`` target, or pass it as a pool's ``initializer`` with ``initargs=(queue,)``.
    Removing the old handlers matters under fork: the child inherited the parent's, and
    would otherwise also write through them (to the parent's file or stream).
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(logging.handlers.QueueHandler(queue))
    root.setLevel(level)


def log_greeting_via(queue: Any) -> None:
    """``configure_worker_logging(queue)``, then ``log_greeting()``: works under every method."""
    configure_worker_logging(queue)
    log_greeting()


def record_message(worker: str, number: int, size: int) -> str:
    """The message of record ``number`` of ``worker``: ``"record 0007 "`` and a ``size``-character body.

    The body repeats ``worker/0007|``, so a line that was cut, or mixed with another
    worker's, no longer equals what ``record_message`` gives for its name and number.
    """
    body = (f"{worker}/{number:04d}|" * (size // 8 + 1))[:size]
    return f"record {number:04d} {body}"


def write_records(queue: Any, count: int, size: int) -> None:
    """Log ``count`` records of ``size`` characters through a ``QueueHandler`` on ``queue``.

    The worker of the safe pattern: ``configure_worker_logging(queue)``, then
    ``record_message(<this process's name>, i, size)`` for i = 0 .. count-1 on
    ``course.worker``. The listener in the parent writes them to the file.
    """
    configure_worker_logging(queue)
    name = multiprocessing.current_process().name
    logger = logging.getLogger(WORKER_LOGGER)
    for number in range(count):
        logger.info(record_message(name, number, size))


def write_records_to_own_file(path: str, count: int, size: int, mode: str = "w") -> None:
    """The mistake: open a ``logging.FileHandler(path, mode)`` in this worker and log to it.

    Every worker that runs this has its own handler, its own file offset and its own lock,
    so nothing coordinates the workers. With ``mode="w"`` (the same as
    ``logging.basicConfig(filename=path, filemode="w")``) each one truncates the file when
    it opens it and then writes from its own offset, over the others' records.
    """
    name = multiprocessing.current_process().name
    handler = logging.FileHandler(path, mode=mode)
    handler.setFormatter(logging.Formatter(FILE_FORMAT))
    logger = logging.getLogger(WORKER_LOGGER)
    for old in list(logger.handlers):  # under fork: handlers inherited from the parent
        logger.removeHandler(old)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        for number in range(count):
            logger.info(record_message(name, number, size))
    finally:
        logger.removeHandler(handler)
        handler.close()


def log_task(task: int) -> int:
    """A pool task: log ``"task 0007 done"`` on ``course.worker`` and return ``task * task``.

    The pool's ``initializer`` (``configure_worker_logging``) decides where the record goes.
    """
    logging.getLogger(WORKER_LOGGER).info("task %04d done", task)
    return task * task


def time_logging(results: Any, count: int, log_queue: Any = None, path: str | None = None) -> None:
    """Log ``count`` records and put the seconds per record, as this process saw them, on ``results``.

    Through a ``QueueHandler`` on ``log_queue`` when it is given (the listener in the
    parent does the writing), else through a ``logging.FileHandler`` on ``path`` in this
    process. Only the logging calls are timed: what a record costs the worker.
    """
    if log_queue is not None:
        handler: logging.Handler = logging.handlers.QueueHandler(log_queue)
    elif path is not None:
        handler = logging.FileHandler(path, mode="w", encoding="utf-8")
        handler.setFormatter(logging.Formatter(FILE_FORMAT))
    else:
        raise ValueError("give log_queue or path")
    logger = logging.getLogger("course.measure")
    for old in list(logger.handlers):  # under fork: handlers inherited from the parent
        logger.removeHandler(old)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        start = time.perf_counter()
        for number in range(count):
            logger.info("record %d of the measurement", number)
        results.put((time.perf_counter() - start) / count)
    finally:
        logger.removeHandler(handler)
        handler.close()


# --- Checking a log file ------------------------------------------------------------------


@dataclass
class LogCheck:
    """What ``check_log_file`` found in a log file written by ``FILE_FORMAT`` workers."""

    whole: dict[str, int] = field(default_factory=dict)
    """Per worker: how many of its records are in the file, whole and correct."""
    in_order: dict[str, bool] = field(default_factory=dict)
    """Per worker: whether its whole records are numbered 0, 1, 2, ... with none missing."""
    broken_lines: int = 0
    """Lines that are not exactly a record of one of the workers (cut, mixed or foreign)."""

    def all_arrived(self, count: int) -> bool:
        """True when every worker has ``count`` whole records, in order, and no line is broken."""
        return (
            self.broken_lines == 0
            and all(n == count for n in self.whole.values())
            and all(self.in_order.values())
        )


def check_log_file(path: str, workers: Iterable[str], count: int, size: int) -> LogCheck:
    """Check that each of ``workers`` wrote its ``count`` records of ``size`` to ``path`` whole.

    A line counts for a worker only when it equals ``"<worker> " + record_message(worker,
    n, size)`` exactly. Anything else (a torn line, two records run together, a line of an
    unknown worker) counts as broken.
    """
    names = list(workers)
    numbers: dict[str, list[int]] = {name: [] for name in names}
    broken = 0
    with open(path, encoding="utf-8", errors="replace", newline="\n") as file:
        lines = file.read().split("\n")
    if lines[-1] == "":  # the file ends with a newline, as whole records do
        lines.pop()
    for line in lines:
        match = _FILE_LINE.match(line)
        if match and match["process"] in numbers:
            name, number = match["process"], int(match["number"])
            if line == f"{name} {record_message(name, number, size)}":
                numbers[name].append(number)
                continue
        broken += 1
    return LogCheck(
        whole={name: len(found) for name, found in numbers.items()},
        in_order={name: found == list(range(len(found))) for name, found in numbers.items()},
        broken_lines=broken,
    )
