"""Timeline records: which worker ran which task, and when."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

from helpers.timeline import (  # noqa: E402
    TaskRecord, Timed, busy_fraction, plot_timeline, split, tasks_per_worker, worker_labels,
)
from helpers.workloads import square  # noqa: E402


def test_timed_map_records_every_task_in_its_worker(mp_context) -> None:
    with mp_context.Pool(2) as pool:
        pairs = pool.map(Timed(square).numbered, list(enumerate(range(8))), chunksize=2)
    results, records = split(pairs)
    assert results == [x * x for x in range(8)]
    assert sorted(r.task for r in records) == list(range(8))
    assert all(r.end >= r.start for r in records)
    assert 1 <= len({r.pid for r in records}) <= 2
    assert sum(tasks_per_worker(records).values()) == 8


def test_labels_follow_first_start_not_process_names() -> None:
    records = [TaskRecord(0, "SpawnPoolWorker-7", 70, 2.0, 3.0),
               TaskRecord(1, "SpawnPoolWorker-9", 90, 1.0, 2.0),
               TaskRecord(2, "SpawnPoolWorker-7", 70, 3.0, 4.0)]
    assert worker_labels(records) == {90: "worker 1", 70: "worker 2"}
    assert tasks_per_worker(records) == {"worker 1": 1, "worker 2": 2}


def test_busy_fraction() -> None:
    full = [TaskRecord(0, "a", 1, 0.0, 2.0), TaskRecord(1, "b", 2, 0.0, 2.0)]
    half = [TaskRecord(0, "a", 1, 0.0, 2.0), TaskRecord(1, "b", 2, 0.0, 1.0),
            TaskRecord(2, "b", 2, 1.5, 1.5)]
    assert busy_fraction(full) == 1.0
    assert busy_fraction(half) == 0.75
    assert busy_fraction([]) == 0.0


def test_plot_has_a_row_per_worker_and_a_bar_per_task() -> None:
    records = [TaskRecord(i, "w", 1 + i % 2, float(i), i + 0.5) for i in range(6)]
    ax = plot_timeline(records, title="t")
    assert len(ax.collections) == 6
    assert [t.get_text() for t in ax.get_yticklabels()] == ["worker 1", "worker 2"]
    assert ax.get_title() == "t"
