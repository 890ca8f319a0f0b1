"""helpers.explorer: task costs, the speed-up arithmetic, measured runs in real pools under
every start method, the charts, and the widget driven without a browser."""

from __future__ import annotations

import concurrent.futures
import math
import multiprocessing
import os
import re
import time

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

import helpers  # noqa: E402,F401  (installs the guard, as in the notebooks)
from helpers import explorer  # noqa: E402
from helpers.explorer import (  # noqa: E402
    Run, amdahl, amdahl_limit, serial_fraction, speedup, summary, task_costs,
)
from helpers.timeline import TaskRecord  # noqa: E402
from tests.conftest import ROOT  # noqa: E402

# --- task_costs -------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", explorer.SHAPES)
@pytest.mark.parametrize("count", [1, 7, 16, 64])
def test_costs_have_the_count_and_the_total(shape: str, count: int) -> None:
    costs = task_costs(shape, count, total_seconds=1.5)
    assert len(costs) == count
    assert sum(costs) == pytest.approx(1.5)
    assert all(cost > 0 for cost in costs)


def test_equal_costs_are_equal() -> None:
    assert task_costs("equal", 4, total_seconds=2.0) == [0.5, 0.5, 0.5, 0.5]


def test_skewed_costs_end_with_a_few_big_tasks() -> None:
    costs = task_costs("skewed", 16, total_seconds=3.0)
    # 16 tasks: ceil(16 / 8) = 2 big ones of weight 8, 14 of weight 1: 30 units of 0.1 s.
    assert costs[:14] == pytest.approx([0.1] * 14)
    assert costs[14:] == pytest.approx([0.8, 0.8])
    assert task_costs("skewed", 9)[-2:] == [task_costs("skewed", 9)[-1]] * 2  # ceil(9/8) = 2


def test_random_costs_depend_only_on_the_seed() -> None:
    first = task_costs("random", 20, seed=3)
    assert task_costs("random", 20, seed=3) == first
    assert task_costs("random", 20, seed=4) != first
    assert len(set(first)) == 20
    # Weights between 0.25 and 1.75 of the average: no cost is 7 times another or more.
    assert max(first) / min(first) < 7


@pytest.mark.parametrize("args", [("lumpy", 4), ("equal", 0), ("equal", 4, 0.0)])
def test_costs_reject_what_they_cannot_make(args) -> None:
    with pytest.raises(ValueError):
        task_costs(*args)


# --- The arithmetic ---------------------------------------------------------------------------


def test_amdahl_values() -> None:
    assert amdahl(0.0, 8) == 8.0              # all parallel: the ideal
    assert amdahl(1.0, 8) == 1.0              # all serial: no gain
    assert amdahl(0.5, 2) == pytest.approx(4 / 3)    # 1 / (0.5 + 0.25)
    assert amdahl(0.1, 10) == pytest.approx(1 / 0.19)
    assert amdahl(0.3, 1) == 1.0              # one processor
    assert amdahl(0.05, 10**9) == pytest.approx(20.0)  # the limit 1 / s


@pytest.mark.parametrize("args", [(-0.1, 2), (1.1, 2), (0.5, 0)])
def test_amdahl_rejects_impossible_input(args) -> None:
    with pytest.raises(ValueError):
        amdahl(*args)


def test_serial_fraction_values() -> None:
    assert serial_fraction(2.0, 2) == 0.0                 # perfect speed-up
    assert serial_fraction(1.0, 4) == 1.0                 # no speed-up
    assert serial_fraction(4 / 3, 2) == pytest.approx(0.5)  # (0.75 - 0.5) / 0.5
    assert serial_fraction(0.5, 2) == pytest.approx(3.0)  # slower than serial: above 1


@pytest.mark.parametrize("fraction", [0.0, 0.02, 0.25, 0.9, 1.0])
@pytest.mark.parametrize("processors", [2, 3, 16])
def test_serial_fraction_inverts_amdahl(fraction: float, processors: int) -> None:
    assert serial_fraction(amdahl(fraction, processors), processors) == pytest.approx(fraction)


@pytest.mark.parametrize("args", [(1.5, 1), (0.0, 4), (-1.0, 4)])
def test_serial_fraction_rejects_what_has_none(args) -> None:
    with pytest.raises(ValueError):
        serial_fraction(*args)


def test_speedup_and_limit() -> None:
    assert speedup(3.0, 1.5) == 2.0
    with pytest.raises(ValueError):
        speedup(1.0, 0.0)
    assert amdahl_limit(0.25) == 4.0
    assert amdahl_limit(0.0) == math.inf


def made_run(wall: float, cores: int, workers: int = 2) -> Run:
    """A run of two 0.5 s tasks, one per worker, with the given wall time and core count."""
    records = (TaskRecord(0, "w", 101, 10.0, 10.5), TaskRecord(1, "w", 102, 10.0, 10.5))
    return Run((0.5, 0.5), workers, 1, "spawn", records, wall, cores)


def test_summary_reports_the_arithmetic() -> None:
    run = made_run(wall=0.625, cores=2)  # S = 1 / 0.625 = 1.6; e = (0.625 - 0.5) / 0.5
    text = "\n".join(summary(run))
    assert "tasks done: 2 of 2, by 2 of 2 worker processes" in text
    assert "measured speed-up: 1.60x; ideal: 2x (2 workers, usable cores: 2)" in text
    assert "serial fraction (Karp-Flatt): 0.250" in text
    assert "at most 4.0x" in text
    one_core = summary(made_run(wall=1.0, cores=1))
    assert "measured speed-up: 1.00x; ideal: 1x (2 workers, usable cores: 1)" in one_core
    assert "serial fraction (Karp-Flatt): none on 1 usable core (2 workers take turns on it)" \
        in one_core
    one_worker = summary(made_run(wall=1.0, cores=2, workers=1))
    assert "serial fraction (Karp-Flatt): none with 1 worker" in one_worker
    # The same number of lines on any machine, so that a notebook's output keeps its shape.
    assert len(one_core) == len(one_worker) == len(summary(made_run(wall=0.625, cores=2)))


def test_speedup_lines() -> None:
    runs = [made_run(wall=1.25, cores=2, workers=1), made_run(wall=0.625, cores=2),
            made_run(wall=1.0, cores=1)]
    assert explorer.speedup_lines(runs) == [
        "multiprocessing.Pool, 1 worker: speed-up 0.80x, ideal 1x",
        "multiprocessing.Pool, 2 workers: speed-up 1.60x, ideal 2x, "
        "serial fraction (Karp-Flatt): 0.250",
        "multiprocessing.Pool, 2 workers: speed-up 1.00x, ideal 1x, "
        "serial fraction (Karp-Flatt): none on 1 usable core (2 workers take turns on it)",
    ]


def test_chunks_limit_the_speedup() -> None:
    costs = task_costs("skewed", 16, total_seconds=3.0)  # 14 x 0.1 s, then 2 x 0.8 s
    assert explorer.chunk_speedup_limit(costs, 1) == pytest.approx(3.0 / 0.8)
    assert explorer.chunk_speedup_limit(costs, 8) == pytest.approx(3.0 / 2.2)  # 6 x 0.1 + 1.6
    assert explorer.chunk_speedup_limit(costs, 16) == pytest.approx(1.0)


def sanitize(text: str) -> str:
    """Apply tests/nbval_sanitize.cfg as nbval does: each regex, then its replacement."""
    lines = (ROOT / "tests" / "nbval_sanitize.cfg").read_text().splitlines()
    for index, line in enumerate(lines):
        if line.startswith("regex: "):
            replacement = lines[index + 1].removeprefix("replace: ")
            text = re.sub(line.removeprefix("regex: "), replacement, text)
    return text


def test_summary_reads_the_same_on_every_machine_once_sanitised() -> None:
    # What the notebooks print must compare equal under nbval whatever the timings and cores.
    fast = "\n".join(summary(made_run(wall=0.55, cores=2)))
    slow = "\n".join(summary(made_run(wall=0.9, cores=4)))
    assert fast != slow
    assert sanitize(fast) == sanitize(slow)


# --- The work, in real pools ------------------------------------------------------------------


def test_spin_uses_cpu_time_and_the_timed_task_records_it() -> None:
    started = time.process_time()
    used = explorer.spin(0.03)
    assert used >= 0.03 and time.process_time() - started >= 0.03
    cpu, record = explorer.TIMED_SPIN.numbered((5, 0.01))
    assert cpu >= 0.01 and record.task == 5 and record.pid == os.getpid()


def test_chunks_are_cut_as_pool_cuts_them() -> None:
    assert explorer.chunks(list(range(7)), 3) == [[0, 1, 2], [3, 4, 5], [6]]
    assert explorer.chunks(list(range(2)), 5) == [[0, 1]]
    with pytest.raises(ValueError):
        explorer.chunks([1], 0)


def test_run_pool_records_every_task_as_it_arrives(start_method: str) -> None:
    arrived: list[TaskRecord] = []
    costs = task_costs("random", 12, total_seconds=0.3)
    run = explorer.run_pool(costs, workers=2, chunksize=1, start_method=start_method,
                            on_result=arrived.append)
    assert arrived == list(run.records)
    assert sorted(record.task for record in run.records) == list(range(12))
    pids = {record.pid for record in run.records}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2
    assert sum(run.tasks_per_worker.values()) == 12
    assert (run.start_method, run.workers, run.chunksize) == (start_method, 2, 1)
    assert run.serial_seconds == pytest.approx(0.3)
    # Each result comes after its task ended; the run ended after every task.
    assert max(record.duration for record in run.records) < run.wall_seconds
    assert multiprocessing.active_children() == []


def test_chunks_run_whole_in_one_worker(start_method: str) -> None:
    run = explorer.run_pool(task_costs("equal", 8, 0.16), workers=2, chunksize=4,
                            start_method=start_method)
    for chunk in range(2):
        assert len({r.pid for r in run.records if r.task // 4 == chunk}) == 1


def test_more_workers_than_cores_cannot_beat_the_cores(start_method: str) -> None:
    # The tasks need CPU time, not wall time: sharing a core slows them down, so even
    # counted from the first task's start to the last one's end (no start-up), the work
    # divided by that span stays below the cores there are. A task that spins until a
    # wall-clock deadline breaks this (measured: 2.5 to 3.7 with 4 workers on 2 cores).
    cores = explorer.available_cores()
    run = explorer.run_pool(task_costs("equal", 2 * (cores + 2), 0.4), workers=cores + 2,
                            start_method=start_method)
    span = max(r.end for r in run.records) - min(r.start for r in run.records)
    assert run.processors == cores
    assert run.serial_seconds / span < cores
    assert run.speedup < cores
    assert run.serial_fraction is None or run.serial_fraction > 0


def test_run_executor_records_every_task(start_method: str) -> None:
    arrived: list[TaskRecord] = []
    run = explorer.run_executor(task_costs("equal", 6, 0.12), workers=2,
                                start_method=start_method, on_result=arrived.append)
    assert arrived == list(run.records)
    assert sorted(record.task for record in run.records) == list(range(6))
    assert run.pool == "ProcessPoolExecutor" and run.start_method == start_method
    assert os.getpid() not in {record.pid for record in run.records}
    assert multiprocessing.active_children() == []


def test_a_stuck_run_times_out_and_leaves_no_worker(monkeypatch, start_method: str) -> None:
    monkeypatch.setattr(explorer, "result_timeout", lambda costs: 0.05)
    with pytest.raises(multiprocessing.TimeoutError):
        explorer.run_pool([2.0, 2.0], workers=1, start_method=start_method)
    deadline = time.monotonic() + 10
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert multiprocessing.active_children() == []


def test_a_stuck_executor_run_times_out_and_leaves_no_worker(monkeypatch, start_method: str) -> None:
    monkeypatch.setattr(explorer, "result_timeout", lambda costs: 0.05)
    with pytest.raises(concurrent.futures.TimeoutError):
        explorer.run_executor([0.3] * 20, workers=1, start_method=start_method)
    assert multiprocessing.active_children() == []


# --- Charts -----------------------------------------------------------------------------------


def test_speedup_chart_has_ideal_amdahl_and_the_measured_points() -> None:
    runs = [made_run(wall=0.625, cores=2), made_run(wall=1.0, cores=2, workers=1)]
    ax = explorer.plot_speedup(runs)
    ideal, curve, measured = ax.get_lines()
    assert list(ideal.get_xdata()) == [1, 2, 3, 4]
    assert list(ideal.get_ydata()) == [1, 2, 2, 2]      # rises to the 2 cores, then flat
    assert list(curve.get_ydata()) == pytest.approx([1, 1.6, 1.6, 1.6])  # e = 0.25, n <= 2
    assert list(measured.get_xdata()) == [2, 1]
    assert list(measured.get_ydata()) == pytest.approx([1.6, 1.0])
    plt.close(ax.figure)


def test_run_figure_has_the_timeline_and_the_speedup() -> None:
    fig = explorer.plot_run(made_run(wall=0.625, cores=2))
    timeline, chart = fig.axes
    assert [t.get_text() for t in timeline.get_yticklabels()] == ["worker 1", "worker 2"]
    assert chart.get_title() == "speed-up"
    assert explorer.figure_png(fig).startswith(b"\x89PNG")
    plt.close(fig)


# --- The widget -------------------------------------------------------------------------------


def test_widget_controls() -> None:
    widget = explorer.PoolExplorer()
    cores = explorer.available_cores()
    assert (widget.workers.min, widget.workers.max) == (1, max(2, 2 * cores))
    assert list(widget.shape.options) == ["equal", "skewed", "random"]
    assert list(widget.start_method.options) == multiprocessing.get_all_start_methods()
    assert widget.start_method.value == multiprocessing.get_start_method()
    assert len(widget.bars) == widget.workers.value
    widget.workers.value = 3
    assert [bar.description for bar in widget.bars] == ["worker 1", "worker 2", "worker 3"]
    bundle = widget._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"].startswith("PoolExplorer")


def test_widget_run_fills_the_bars_live_and_draws(monkeypatch, start_method: str) -> None:
    widget = explorer.PoolExplorer(total_seconds=0.2)
    filled: list[int] = []
    real_run_pool = explorer.run_pool

    def watched(costs, workers, chunksize, method, on_result):
        def both(record):
            on_result(record)
            filled.append(sum(bar.value for bar in widget.bars))
        return real_run_pool(costs, workers, chunksize, method, on_result=both)

    monkeypatch.setattr(explorer, "run_pool", watched)
    run = widget.run(workers=2, chunksize=1, tasks=8, shape="equal", start_method=start_method)
    assert filled == list(range(1, 9))   # one more task on a bar as each result arrived
    assert [bar.max for bar in widget.bars] == [8, 8]
    assert sum(bar.value for bar in widget.bars) == 8
    assert [bar.value for bar in widget.bars] == list(run.tasks_per_worker.values()) + \
        [0] * (2 - len(run.tasks_per_worker))
    assert run.start_method == start_method and widget.last_run is run
    image, text = widget.output.outputs
    assert image["data"]["image/png"]
    assert plt.get_fignums() == []  # drawn into the widget only
    assert "tasks done: 8 of 8" in text["text"]
    assert widget.status.value.startswith("Done: 8 of 8 tasks")
    assert not widget.button.disabled


def test_run_button_runs_and_reports_failures(monkeypatch) -> None:
    widget = explorer.PoolExplorer(total_seconds=0.05)
    widget.tasks.value = 2
    widget.button.click()
    assert widget.last_run is not None and widget.status.value.startswith("Done: 2 of 2")

    def broken(*args, **kwargs):
        raise RuntimeError("no pool today")

    monkeypatch.setattr(explorer, "run_pool", broken)
    widget.button.click()
    assert widget.status.value == "The run failed: RuntimeError: no pool today"
    assert not widget.button.disabled
