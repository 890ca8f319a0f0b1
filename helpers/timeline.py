"""Per-worker timelines: which worker ran which task, and when.

Wrap a worker function in ``Timed`` and every call returns ``(result, TaskRecord)``; the
record says which process ran the task and its start and end on the wall clock, which all
processes of a machine share. ``plot_timeline`` draws the records as one bar per task, one row
per worker, which makes chunking and load imbalance visible.

    with Pool(2) as pool:
        pairs = pool.map(Timed(count_primes), limits)
    results, records = split(pairs)
    plot_timeline(records)
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TaskRecord:
    """One task's run: its number, the worker process that ran it, and when."""

    task: int
    worker: str
    pid: int
    start: float
    end: float

    @property
    def duration(self) -> float:
        """Seconds the task took in its worker."""
        return self.end - self.start


class Timed:
    """A picklable wrapper that runs ``fn`` and records the run.

    Call it with the task's argument (``pool.map``) or with ``(task_number, argument)`` via
    ``numbered``; ``fn`` must itself be importable (a module-level function of helpers).
    """

    def __init__(self, fn: Callable[[Any], Any]) -> None:
        self.fn = fn

    def __call__(self, argument: Any, task: int | None = None) -> tuple[Any, TaskRecord]:
        start = time.time()
        result = self.fn(argument)
        end = time.time()
        number = -1 if task is None else task
        record = TaskRecord(number, multiprocessing.current_process().name, os.getpid(), start, end)
        return result, record

    def numbered(self, pair: tuple[int, Any]) -> tuple[Any, TaskRecord]:
        """Run ``fn`` on ``pair[1]`` and record it as task ``pair[0]``."""
        task, argument = pair
        return self(argument, task)


def split(pairs: Iterable[tuple[Any, TaskRecord]]) -> tuple[list[Any], list[TaskRecord]]:
    """Separate ``(result, record)`` pairs into the results and the records."""
    results, records = [], []
    for result, record in pairs:
        results.append(result)
        records.append(record)
    return results, records


def worker_labels(records: Sequence[TaskRecord]) -> dict[int, str]:
    """Name workers "worker 1", "worker 2", ... in the order they first started a task.

    Process names carry a counter that grows through a session; these labels do not.
    """
    labels: dict[int, str] = {}
    for record in sorted(records, key=lambda r: r.start):
        labels.setdefault(record.pid, f"worker {len(labels) + 1}")
    return labels


def tasks_per_worker(records: Sequence[TaskRecord]) -> dict[str, int]:
    """How many tasks each worker ran, by worker label."""
    labels = worker_labels(records)
    counts = {label: 0 for label in labels.values()}
    for record in records:
        counts[labels[record.pid]] += 1
    return counts


def busy_fraction(records: Sequence[TaskRecord]) -> float:
    """The share of the workers' time (first start to last end, all workers) spent in tasks."""
    if not records:
        return 0.0
    span = max(r.end for r in records) - min(r.start for r in records)
    workers = len({r.pid for r in records})
    return sum(r.duration for r in records) / (span * workers) if span > 0 else 1.0


def plot_timeline(records: Sequence[TaskRecord], ax: Any = None, title: str = "") -> Any:
    """Draw one row per worker and one bar per task (labelled with its number); return the axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 0.6 + 0.5 * max(1, len({r.pid for r in records}))))
    labels = worker_labels(records)
    rows = {pid: row for row, pid in enumerate(labels)}
    origin = min((r.start for r in records), default=0.0)
    colours = plt.get_cmap("tab20")
    for record in records:
        left, width = record.start - origin, record.duration
        ax.broken_barh([(left, width)], (rows[record.pid] - 0.4, 0.8),
                       facecolors=colours(record.task % 20), edgecolor="white")
        if record.task >= 0 and len(records) <= 60:
            ax.text(left + width / 2, rows[record.pid], str(record.task),
                    ha="center", va="center", fontsize=7)
    ax.set_yticks(range(len(labels)), list(labels.values()))
    ax.invert_yaxis()
    ax.set_xlabel("seconds since the first task started")
    if title:
        ax.set_title(title)
    return ax
