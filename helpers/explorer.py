"""The pool explorer: run CPU-bound work in a pool, watch it, and measure the speed-up.

Building blocks, usable without a browser (notebooks 08, 10 and 11 use them):

* ``task_costs`` makes the CPU seconds of each task: ``equal``, ``skewed`` (a few big tasks
  at the end) or ``random``, always adding up to the same total, so runs compare fairly;
* ``spin`` keeps a CPU busy for a number of CPU seconds; ``TIMED_SPIN.numbered`` is the task
  a pool runs: it returns ``(cpu_seconds, TaskRecord)`` (see ``helpers.timeline``);
* ``run_pool`` (``multiprocessing.Pool``) and ``run_executor`` (``ProcessPoolExecutor``) run
  the tasks, call ``on_result(record)`` in the parent as each result arrives, and return a
  ``Run``: the records, the wall time and the settings;
* ``speedup``, ``serial_fraction`` (the Karp-Flatt metric) and ``amdahl`` (Amdahl's law) are
  the arithmetic; ``plot_speedup`` and ``plot_run`` draw it, ``summary`` says it in words;
* ``PoolExplorer`` is the ipywidgets front end: sliders and drop-downs, a Run button, one
  progress bar per worker filled live, then the timeline and speed-up charts.

Why CPU seconds, not wall seconds: a task that waits for a wall-clock deadline finishes on
time however many processes share a core, so 8 workers on 2 cores would show a speed-up of
8. A task that needs a fixed amount of CPU time is slowed down by sharing, as real
computation is; the speed-up can then never exceed the cores there are.

Workers import ``spin`` from this module, so it imports nothing heavy at the top:
ipywidgets and matplotlib are imported only where the parent draws.
"""

from __future__ import annotations

import base64
import io
import math
import multiprocessing
import random
import time
from collections.abc import Callable, Sequence
import concurrent.futures
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

from helpers.cores import cpu_quota, processes_to_start, usable_cores
from helpers.timeline import TaskRecord, Timed, plot_timeline, tasks_per_worker, worker_labels

SHAPES = ("equal", "skewed", "random")
"""The task-cost shapes ``task_costs`` knows."""

TOTAL_SECONDS = 1.2
"""CPU seconds of work in one explorer run: long enough to see, short enough to repeat."""

SKEW_WEIGHT = 8
"""In a ``skewed`` set, each big task costs this many times a small one."""


# --- The work -----------------------------------------------------------------------------


def task_costs(shape: str, count: int, total_seconds: float = TOTAL_SECONDS,
               seed: int = 0) -> list[float]:
    """The CPU seconds of ``count`` tasks that together cost ``total_seconds``.

    ``equal``: every task the same. ``skewed``: the last ``ceil(count / 8)`` tasks cost
    ``SKEW_WEIGHT`` times each of the others (a few big tasks at the end, as when the
    largest files or the hardest inputs come last). ``random``: each task between 0.25 and
    1.75 times the average, drawn from ``random.Random(seed)``, so the same seed gives the
    same costs on every machine and Python version.
    """
    if shape not in SHAPES:
        raise ValueError(f"unknown shape {shape!r}; choose one of {', '.join(SHAPES)}")
    if count < 1:
        raise ValueError(f"count must be at least 1, not {count}")
    if total_seconds <= 0:
        raise ValueError(f"total_seconds must be positive, not {total_seconds}")
    if shape == "equal":
        weights = [1.0] * count
    elif shape == "skewed":
        big = math.ceil(count / 8)
        weights = [1.0] * (count - big) + [float(SKEW_WEIGHT)] * big
    else:
        rng = random.Random(seed)
        weights = [rng.uniform(0.25, 1.75) for _ in range(count)]
    scale = total_seconds / sum(weights)
    return [weight * scale for weight in weights]


def spin(cpu_seconds: float) -> float:
    """Compute (count) until this process has used ``cpu_seconds`` of CPU time; return the
    CPU seconds used.

    The stand-in for real CPU-bound work: it needs the same CPU time whatever else runs, so
    it takes longer in wall time when processes share a core.
    """
    start = time.process_time()
    counter = 0
    while time.process_time() - start < cpu_seconds:
        for _ in range(200):
            counter += 1
    return time.process_time() - start


TIMED_SPIN = Timed(spin)
"""``spin`` wrapped in ``helpers.timeline.Timed``: ``TIMED_SPIN.numbered((task, cost))``
spins and returns ``(cpu_seconds, TaskRecord)``. This is what the pools run."""


def spin_chunk(chunk: Sequence[tuple[int, float]]) -> list[tuple[float, TaskRecord]]:
    """Run ``TIMED_SPIN.numbered`` on each ``(task, cost)`` of a chunk, in order, in this
    worker: what a pool worker does with one chunk of ``imap_unordered(..., chunksize)``."""
    return [TIMED_SPIN.numbered(task) for task in chunk]


def chunks(tasks: Sequence[Any], chunksize: int) -> list[list[Any]]:
    """Cut ``tasks`` into consecutive chunks of ``chunksize`` (the last may be shorter), as
    ``Pool`` does."""
    if chunksize < 1:
        raise ValueError(f"chunksize must be at least 1, not {chunksize}")
    return [list(tasks[i:i + chunksize]) for i in range(0, len(tasks), chunksize)]


def available_cores() -> int:
    """The cores CPU-bound work can really use here: the usable cores (affinity mask),
    capped by a CPU quota such as Binder's (see ``helpers.cores``)."""
    return processes_to_start(usable_cores(), cpu_quota())


def result_timeout(costs: Sequence[float]) -> float:
    """How long to wait for all results before calling the run stuck: generous (10 times
    the work, plus 30 s for starting workers on a busy machine), but finite."""
    return 30.0 + 10.0 * sum(costs)


# --- A measured run -------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One measured run: the tasks' costs, the settings, what each task recorded, and the
    wall time from creating the pool to the last result (start-up included, since the user
    waits for it too)."""

    costs: tuple[float, ...]
    workers: int
    chunksize: int
    start_method: str
    records: tuple[TaskRecord, ...]
    wall_seconds: float
    cores: int
    pool: str = "multiprocessing.Pool"

    @property
    def serial_seconds(self) -> float:
        """What the work costs run serially: the sum of the tasks' CPU seconds."""
        return serial_seconds(self.costs)

    @property
    def processors(self) -> int:
        """The processors the run could use at once: its workers, but no more than the cores."""
        return min(self.workers, self.cores)

    @property
    def speedup(self) -> float:
        """Serial seconds divided by the measured wall seconds."""
        return speedup(self.serial_seconds, self.wall_seconds)

    @property
    def serial_fraction(self) -> float | None:
        """The Karp-Flatt serial fraction of this run, or None with a single processor."""
        if self.processors < 2:
            return None
        return serial_fraction(self.speedup, self.processors)

    @property
    def tasks_per_worker(self) -> dict[str, int]:
        """How many tasks each worker ran, by label ("worker 1" started first)."""
        return tasks_per_worker(self.records)


def run_pool(costs: Sequence[float], workers: int, chunksize: int = 1,
             start_method: str | None = None,
             on_result: Callable[[TaskRecord], None] | None = None) -> Run:
    """Run one ``spin`` task per cost in a ``multiprocessing.Pool``; return the ``Run``.

    This is ``imap_unordered(TIMED_SPIN.numbered, tasks, chunksize)``, with the chunks cut
    here (``chunks``, ``spin_chunk``) exactly as ``Pool`` cuts them: with ``chunksize > 1``
    ``Pool``'s own iterator has no ``next(timeout)``, and every wait here has a timeout.
    ``on_result(record)`` is called in this process for each task as its chunk's results
    arrive (that is what fills the explorer's progress bars). The clock runs from creating
    the pool to the last result. The pool is closed and joined before it is left; a run
    without all its results after ``result_timeout(costs)`` seconds raises
    ``multiprocessing.TimeoutError``, and leaving the ``with`` block terminates the pool.
    """
    method = start_method or multiprocessing.get_start_method()
    batches = chunks(list(enumerate(costs)), chunksize)
    deadline = time.monotonic() + result_timeout(costs)
    records: list[TaskRecord] = []
    started = time.perf_counter()
    with multiprocessing.get_context(method).Pool(workers) as pool:
        results = pool.imap_unordered(spin_chunk, batches)
        for _ in batches:
            for _, record in results.next(timeout=max(0.0, deadline - time.monotonic())):
                records.append(record)
                if on_result is not None:
                    on_result(record)
        wall = time.perf_counter() - started
        pool.close()
        pool.join()
    return Run(tuple(costs), workers, chunksize, method, tuple(records), wall, available_cores())


def run_executor(costs: Sequence[float], workers: int, start_method: str | None = None,
                 on_result: Callable[[TaskRecord], None] | None = None) -> Run:
    """Run one ``spin`` task per cost in a ``ProcessPoolExecutor``; return the ``Run``.

    Each task is ``submit``-ted on its own and collected with ``as_completed``, calling
    ``on_result(record)`` as each one finishes. The clock runs from creating the executor to
    the last result; leaving the ``with`` block then waits for the workers to exit. A run
    without all its results after ``result_timeout(costs)`` seconds raises
    ``concurrent.futures.TimeoutError`` once the tasks not yet started are cancelled and the
    running ones (each spins only for its cost) have ended.
    """
    method = start_method or multiprocessing.get_start_method()
    records: list[TaskRecord] = []
    started = time.perf_counter()
    context = multiprocessing.get_context(method)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as executor:
        futures = [executor.submit(TIMED_SPIN.numbered, task) for task in enumerate(costs)]
        try:
            for future in as_completed(futures, timeout=result_timeout(costs)):
                _, record = future.result()
                records.append(record)
                if on_result is not None:
                    on_result(record)
        except concurrent.futures.TimeoutError:  # the built-in TimeoutError from 3.11
            executor.shutdown(wait=True, cancel_futures=True)
            raise
        wall = time.perf_counter() - started
    return Run(tuple(costs), workers, 1, method, tuple(records), wall, available_cores(),
               pool="ProcessPoolExecutor")


# --- The arithmetic ---------------------------------------------------------------------------


def serial_seconds(costs: Sequence[float]) -> float:
    """The time the tasks take one after another in one process: the sum of their costs."""
    return float(sum(costs))


def speedup(serial: float, parallel: float) -> float:
    """How many times faster the parallel run was: ``serial / parallel``."""
    if serial < 0 or parallel <= 0:
        raise ValueError("serial must be >= 0 and parallel > 0 seconds")
    return serial / parallel


def amdahl(serial_fraction: float, processors: float) -> float:
    """Amdahl's law: the speed-up on ``processors`` when ``serial_fraction`` of the work
    cannot run in parallel: ``1 / (s + (1 - s) / n)``. Its limit for many processors is
    ``1 / s``."""
    if not 0.0 <= serial_fraction <= 1.0:
        raise ValueError(f"the serial fraction must be between 0 and 1, not {serial_fraction}")
    if processors < 1:
        raise ValueError(f"processors must be at least 1, not {processors}")
    return 1.0 / (serial_fraction + (1.0 - serial_fraction) / processors)


def serial_fraction(measured_speedup: float, processors: int) -> float:
    """The Karp-Flatt metric: the serial fraction ``e`` for which Amdahl's law predicts the
    measured speed-up ``S`` on ``n`` processors, ``e = (1/S - 1/n) / (1 - 1/n)``.

    It lumps together everything that keeps the work from dividing by ``n``: starting the
    workers, sending tasks and results, and waiting for the slowest worker. It is 0 for a
    perfect speed-up (``S == n``) and 1 for none (``S == 1``); above 1 the parallel run was
    slower than the serial one.
    """
    if processors < 2:
        raise ValueError("the serial fraction needs at least 2 processors")
    if measured_speedup <= 0:
        raise ValueError(f"a speed-up must be positive, not {measured_speedup}")
    return (1.0 / measured_speedup - 1.0 / processors) / (1.0 - 1.0 / processors)


def amdahl_limit(fraction: float) -> float:
    """The most any number of processors can give for a serial fraction: ``1 / s``
    (infinite for ``s <= 0``)."""
    return math.inf if fraction <= 0 else 1.0 / fraction


def chunk_speedup_limit(costs: Sequence[float], chunksize: int) -> float:
    """The most any number of workers can speed up ``costs`` cut into chunks of
    ``chunksize``: a chunk runs whole in one worker, so the run lasts at least as long as
    the costliest chunk (total work / costliest chunk)."""
    return serial_seconds(costs) / max(sum(chunk) for chunk in chunks(list(costs), chunksize))


def one_processor_reason(run: Run) -> str:
    """Why a run has no serial fraction: it could use only one processor at a time."""
    if run.workers < 2:
        return "none with 1 worker"
    return f"none on {run.cores} usable core ({run.workers} workers take turns on it)"


def speedup_lines(runs: Sequence[Run]) -> list[str]:
    """One line per run: its pool and workers, the measured speed-up, the ideal (the
    workers, but no more than the cores) and, for 2 or more workers, the serial fraction
    (Karp-Flatt), or why there is none (one usable core)."""
    lines = []
    for run in runs:
        workers = f"{run.workers} worker{'s' if run.workers != 1 else ''}"
        line = f"{run.pool}, {workers}: speed-up {run.speedup:.2f}x, ideal {run.processors}x"
        if run.serial_fraction is not None:
            line += f", serial fraction (Karp-Flatt): {run.serial_fraction:.3f}"
        elif run.workers >= 2:
            line += f", serial fraction (Karp-Flatt): {one_processor_reason(run)}"
        lines.append(line)
    return lines


def summary(run: Run) -> list[str]:
    """The run in a few lines of text: what was done, the speed-up against the ideal and
    the serial fraction with what Amdahl's law then allows."""
    used = len({record.pid for record in run.records})
    lines = [
        f"tasks done: {len(run.records)} of {len(run.costs)}, by {used} of {run.workers} "
        f"worker processes ({run.pool})",
        f"usable cores: {run.cores}",
        f"work in the tasks: {run.serial_seconds:.2f} s of CPU; "
        f"wall time, start-up included: {run.wall_seconds:.2f} s",
        f"measured speed-up: {run.speedup:.2f}x; ideal: {run.processors}x "
        f"({run.workers} workers, usable cores: {run.cores})",
    ]
    fraction = run.serial_fraction
    if fraction is None:
        lines.append(f"serial fraction (Karp-Flatt): {one_processor_reason(run)}")
        lines.append("Amdahl's law with that fraction: no limit to compute: one processor at "
                     "a time can give no speed-up")
    else:
        limit = amdahl_limit(fraction)
        most = "no limit" if math.isinf(limit) else f"at most {limit:.1f}x"
        lines.append(f"serial fraction (Karp-Flatt): {fraction:.3f}")
        lines.append(f"Amdahl's law with that fraction: {most}, however many cores")
    return lines


# --- Charts -----------------------------------------------------------------------------------


def plot_speedup(runs: Sequence[Run], ax: Any = None, fraction: float | None = None) -> Any:
    """Draw measured speed-ups against the ideal and Amdahl's law; return the axes.

    The ideal rises with the workers up to the usable cores and stays flat after them; the
    Amdahl curve uses ``fraction``, by default the serial fraction of the first run with the
    most processors (clipped to 0..1). Each run is a point at its number of workers.
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 3.2), layout="constrained")
    cores = max(run.cores for run in runs)
    if fraction is None:
        measured = [run for run in runs if run.serial_fraction is not None]
        if measured:
            fraction = max(measured, key=lambda run: run.processors).serial_fraction
    top = max(2 * cores, max(run.workers for run in runs), 2)
    workers = list(range(1, top + 1))
    ax.plot(workers, [min(n, cores) for n in workers], "--", color="grey",
            label=f"ideal ({cores} usable cores)")
    if fraction is not None:
        clipped = min(1.0, max(0.0, fraction))
        ax.plot(workers, [amdahl(clipped, min(n, cores)) for n in workers], color="tab:orange",
                label=f"Amdahl, serial fraction {clipped:.2f}")
    ax.plot([run.workers for run in runs], [run.speedup for run in runs], "o", color="tab:blue",
            label="measured")
    for run in runs:
        ax.annotate(f"{run.speedup:.2f}x", (run.workers, run.speedup),
                    textcoords="offset points", xytext=(5, -12), fontsize=8)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("workers")
    ax.set_ylabel("speed-up")
    ax.set_xlim(0.5, top + 0.5)
    ax.set_ylim(0, max(cores, max(run.speedup for run in runs)) * 1.6)  # room for the legend
    ax.legend(fontsize=8, loc="upper left")
    return ax


def plot_run(run: Run, title: str = "") -> Any:
    """A pyplot figure of one run: the per-worker timeline beside the speed-up chart.

    Show it with ``plt.show()`` (or close it with ``plt.close(fig)``).
    """
    import matplotlib.pyplot as plt

    rows = max(1, len({record.pid for record in run.records}))
    fig = plt.figure(figsize=(10, max(2.8, 1.0 + 0.45 * rows)), layout="constrained")
    timeline_ax, speedup_ax = fig.subplots(1, 2, width_ratios=[2.2, 1])
    plot_timeline(run.records, ax=timeline_ax, title=title or (
        f"{len(run.costs)} tasks, {run.workers} {run.start_method} workers, "
        f"chunksize {run.chunksize}"))
    plot_speedup([run], ax=speedup_ax)
    speedup_ax.set_title("speed-up")
    return fig


def figure_png(fig: Any) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


# --- The widget -------------------------------------------------------------------------------


class PoolExplorer:
    """An interactive pool: choose the settings, press Run, watch each worker's progress
    bar fill, then read the timeline, the speed-up and the serial fraction.

    Display it as the last expression of a cell. ``run(...)`` does what the Run button does
    and can be called from code, with settings that override the controls.
    """

    def __init__(self, total_seconds: float = TOTAL_SECONDS) -> None:
        import ipywidgets as widgets

        self.total_seconds = total_seconds
        self.cores = available_cores()
        wide = {"description_width": "initial"}
        self.workers = widgets.IntSlider(value=max(2, self.cores), min=1,
                                         max=max(2, 2 * self.cores), description="workers",
                                         style=wide)
        self.chunksize = widgets.IntSlider(value=1, min=1, max=32, description="chunksize",
                                           style=wide)
        self.tasks = widgets.IntSlider(value=16, min=1, max=64, description="tasks", style=wide)
        self.shape = widgets.Dropdown(options=list(SHAPES), value="skewed",
                                      description="task costs", style=wide)
        self.start_method = widgets.Dropdown(options=multiprocessing.get_all_start_methods(),
                                             value=multiprocessing.get_start_method(),
                                             description="start method", style=wide)
        self.button = widgets.Button(description="Run", button_style="primary", icon="play")
        self.status = widgets.Label(value="Press Run.")
        self.bars: list[Any] = []
        self.counts: list[Any] = []
        self.bars_box = widgets.VBox()
        self.output = widgets.Output()
        self.last_run: Run | None = None
        self._make_bars(self.workers.value, self.tasks.value)
        self.workers.observe(self._on_size_change, names="value")
        self.tasks.observe(self._on_size_change, names="value")
        self.button.on_click(self._on_click)
        self.ui = widgets.VBox([
            widgets.HBox([self.workers, self.chunksize, self.tasks]),
            widgets.HBox([self.shape, self.start_method, self.button]),
            self.status,
            self.bars_box,
            self.output,
        ])

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        """Show the widget; its text form (for a reader without widgets) is fixed, so that
        stored outputs compare equal on every machine and start method."""
        bundle = self.ui._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = ("PoolExplorer: workers, chunksize, tasks, task costs, "
                                "start method, Run")
        return bundle

    def _make_bars(self, workers: int, tasks: int) -> None:
        """One empty progress bar per worker, each out of the task count."""
        import ipywidgets as widgets

        self.bars = [widgets.IntProgress(value=0, min=0, max=tasks, description=f"worker {n}")
                     for n in range(1, workers + 1)]
        self.counts = [widgets.Label(value="0 tasks") for _ in range(workers)]
        self.bars_box.children = [widgets.HBox([bar, count])
                                  for bar, count in zip(self.bars, self.counts)]

    def _on_size_change(self, _change: Any) -> None:
        """New worker or task count: fresh, empty bars to match."""
        self._make_bars(self.workers.value, self.tasks.value)

    def _on_click(self, _button: Any) -> None:
        """The Run button: run, and report an error in the status line instead of losing it."""
        try:
            self.run()
        except Exception as error:  # shown to the learner, not swallowed
            self.status.value = f"The run failed: {type(error).__name__}: {error}"

    def run(self, workers: int | None = None, chunksize: int | None = None,
            tasks: int | None = None, shape: str | None = None,
            start_method: str | None = None) -> Run:
        """Run the pool with the controls' settings (any given here are set on the controls
        first), fill the progress bars live, then draw the charts; return the ``Run``."""
        for control, value in ((self.workers, workers), (self.chunksize, chunksize),
                               (self.tasks, tasks), (self.shape, shape),
                               (self.start_method, start_method)):
            if value is not None:
                control.value = value
        count, n_workers = self.tasks.value, self.workers.value
        costs = task_costs(self.shape.value, count, self.total_seconds)
        self._make_bars(n_workers, count)
        self.output.outputs = ()
        self.button.disabled = True
        self.status.value = (f"Running {count} {self.shape.value} tasks on {n_workers} "
                             f"{self.start_method.value} workers ...")
        bar_of: dict[int, int] = {}

        def arrived(record: TaskRecord) -> None:
            # Runs in this process as each result arrives: a bar per worker, in arrival order.
            index = bar_of.setdefault(record.pid, len(bar_of))
            self.bars[index].value += 1
            self.counts[index].value = f"{self.bars[index].value} tasks"

        try:
            run = run_pool(costs, n_workers, self.chunksize.value, self.start_method.value,
                           on_result=arrived)
        finally:
            self.button.disabled = False
        self._show(run)
        self.last_run = run
        return run

    def _show(self, run: Run) -> None:
        """Relabel the bars as the timeline labels workers, then draw the charts."""
        done = run.tasks_per_worker
        for index, label in enumerate(worker_labels(run.records).values()):
            self.bars[index].value = done[label]
            self.counts[index].value = f"{done[label]} tasks"
        for index in range(len(done), len(self.bars)):
            self.bars[index].value = 0
            self.counts[index].value = "0 tasks"
        self.status.value = (f"Done: {len(run.records)} of {len(run.costs)} tasks in "
                             f"{run.wall_seconds:.2f} s, speed-up {run.speedup:.2f}x.")
        import matplotlib.pyplot as plt

        fig = plot_run(run)
        png = base64.b64encode(figure_png(fig)).decode("ascii")
        plt.close(fig)  # shown in the widget only, not again under the cell
        self.output.outputs = (
            {"output_type": "display_data", "metadata": {},
             "data": {"image/png": png, "text/plain": "timeline and speed-up of the run"}},
            {"output_type": "stream", "name": "stdout", "text": "\n".join(summary(run)) + "\n"},
        )
