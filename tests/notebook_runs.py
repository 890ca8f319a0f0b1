"""pytest plugin: run every notebook with strict nbval under each start method, then check leaks.

For each collected ``.ipynb`` it makes one nbval run per start method, named
``path/to/nb.ipynb::<method>``, so every failure names its method, and with
``--other-pythons`` one more per other interpreter, ``path/to/nb.ipynb::spawn-python3.13``
(``python3 course.py test`` passes every other tested Python the machine has, unless
told ``--this-python``), and for the notebooks that measure a speed-up
(``ONE_CORE_NOTEBOOKS``) one more with the kernel pinned to a single CPU,
``path/to/nb.ipynb::fork-one-core``, as on Binder and many classroom containers (where
``taskset`` and more than one usable core exist). Each run

* starts its kernel from this environment without ``PYTEST_CURRENT_TEST`` (ipykernel stops
  capturing children's output when it sees that variable) and with ``MP_START_METHOD`` set;
* compares every stored output, sanitised by the file given to ``--nbval-sanitize-with``
  (and, when its kernel has one usable core, by ``ONE_CORE_SANITIZE`` after it: the lines
  that say what one core means, mapped to their reading on the cores the notebook was
  stored with);
* ends with a ``no leaks`` item: worker processes still alive at the end of the notebook,
  a shared-memory segment not unlinked, or anything left after a graceful kernel shutdown
  (which lets multiprocessing unlink its semaphores) fail it, and are cleaned up.

The leak check reads the whole of ``/dev/shm``; entries that a process outside the run has
mapped (another kernel, another test run) are neither blamed nor removed. An entry that
another program created and closed during the run without unlinking it would still be
blamed: run one notebook suite at a time for certain results.

Notebooks are collected this way unless ``--nbval`` or ``--nbval-lax`` is given (then nbval's
own collector runs them once, under the default method).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import uuid
import zlib
from pathlib import Path

import psutil
import pytest
from nbval.kernel import CURRENT_ENV_KERNEL_NAME, NbvalKernelspecManager, RunningKernel
from nbval.plugin import IPyNbCell, IPyNbFile, transform_streams_for_comparison

from helpers import leaks, startmethods
from helpers.cores import usable_cores
from tests.conftest import kernel_environment
from tools.kernels import CourseKernelManager

RUN_MARKER = "MP_COURSE_RUN_ID"
GRACE_SECONDS = 5.0
SHUTDOWN_WAIT_SECONDS = 20.0
# The notebooks that measure a speed-up: they print what one core means, and run once more
# on one CPU to prove it (issue 13 item 14).
ONE_CORE_NOTEBOOKS = frozenset({"00_introduction", "01_process", "08_pool",
                                "10_concurrent_futures", "11_pool_explorer", "12_in_practice",
                                "13_beyond_one_machine", "14_capstone_images",
                                "15_capstone_crawler", "16_capstone_file_service"})
ONE_CORE_SANITIZE = Path(__file__).with_name("nbval_sanitize_one_core.cfg")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--start-methods",
        default=None,
        help="comma-separated start methods to run notebooks under "
        f"(default: ${startmethods.ENV_VAR} if set, else every method the platform has)",
    )
    parser.addoption(
        "--other-pythons",
        default="",
        help="comma-separated VERSION=INTERPRETER pairs: run every notebook once more with a "
        "kernel of each (an environment with the course installed), under "
        "--other-pythons-method; `python3 course.py test` sets them up",
    )
    parser.addoption(
        "--other-pythons-method",
        default="spawn",
        help="the start method of the runs on --other-pythons (default: spawn, the method "
        "that needs everything a notebook sends to pickle)",
    )


def other_pythons(config: pytest.Config) -> list[tuple[str, str]]:
    """The (version, interpreter) pairs of ``--other-pythons``."""
    pairs = config.getoption("--other-pythons")
    return [tuple(pair.split("=", 1)) for pair in pairs.split(",") if pair]


def start_methods(config: pytest.Config) -> list[str]:
    """The start methods this run covers."""
    chosen = config.getoption("--start-methods")
    return chosen.split(",") if chosen else startmethods.methods_to_test()


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    opt = parent.config.option
    if file_path.suffix == ".ipynb" and not (opt.nbval or opt.nbval_lax):
        return Notebook.from_parent(parent, path=file_path)
    return None


def one_cpu_for(name: str) -> int | None:
    """A CPU to pin a one-core run of notebook ``name`` to (spread over the usable ones), or
    None where this machine cannot pin a kernel (no affinity, no ``taskset``) or has one
    usable core already (then every run is a one-core run)."""
    if not hasattr(os, "sched_getaffinity") or not shutil.which("taskset"):
        return None
    cpus = sorted(os.sched_getaffinity(0))
    return cpus[zlib.crc32(name.encode()) % len(cpus)] if len(cpus) > 1 else None


class Notebook(pytest.File):
    """A notebook file: one strict nbval run of it per start method (and per other Python,
    and on one CPU for ONE_CORE_NOTEBOOKS)."""

    def collect(self):
        methods = start_methods(self.config)
        runs = [(method, None, None, method) for method in methods]
        method = self.config.getoption("--other-pythons-method")
        runs += [(method, python, None, f"{method}-python{version}")
                 for version, python in other_pythons(self.config)]
        cpu = one_cpu_for(self.path.stem)
        if self.path.stem in ONE_CORE_NOTEBOOKS and cpu is not None:
            method = "fork" if "fork" in methods else methods[0]
            runs.append((method, None, cpu, f"{method}-one-core"))
        for method, python, cpu, name in runs:
            run = NotebookRun.from_parent(
                self, path=self.path, name=name, nodeid=f"{self.nodeid}::{name}"
            )
            run.start_method = method
            run.python = python
            run.cpu = cpu
            yield run


class InterpreterKernelSpecs(NbvalKernelspecManager):
    """nbval's kernel of this environment, or the same kernel run by another interpreter."""

    python: str | None = None
    cpu: int | None = None  # run the kernel (and so its children) on this CPU only

    def get_kernel_spec(self, kernel_name: str):
        spec = super().get_kernel_spec(kernel_name)
        if self.python:
            spec.argv = [self.python, *spec.argv[1:]]
        if self.cpu is not None:
            spec.argv = ["taskset", "--cpu-list", str(self.cpu), *spec.argv]
        return spec


class CourseKernel(RunningKernel):
    """An nbval kernel started with a chosen environment, on private sockets
    (tools/kernels.py), and shut down gracefully."""

    def __init__(self, cwd: str, startup_timeout: float, env: dict[str, str],
                 python: str | None = None, cpu: int | None = None):
        # nbval's start_new_kernel, with the interpreter chosen (None: this environment's).
        specs = InterpreterKernelSpecs()
        specs.python = python
        specs.cpu = cpu
        self.km = CourseKernelManager(kernel_name=CURRENT_ENV_KERNEL_NAME,
                                      kernel_spec_manager=specs)
        # The kernel's own stderr (its output and its children's reach the notebook through
        # iopub): kept to say why, if the kernel dies before it is ready.
        with tempfile.TemporaryFile("w+") as stderr:
            self.km.start_kernel(stderr=stderr, cwd=cwd, env=env)
            self.kc = self.km.client()
            self.kc.start_channels()
            try:
                self.kc.wait_for_ready(timeout=startup_timeout)
            except RuntimeError as error:
                self.kc.stop_channels()
                self.km.shutdown_kernel()
                stderr.seek(0)
                said = stderr.read()[-3000:].strip() or "(nothing)"
                raise RuntimeError(f"{error}; the kernel's stderr said:\n{said}") from error
        self.pid = self.km.provisioner.process.pid  # taskset execs the kernel: same pid
        if cpu is not None and psutil.Process(self.pid).cpu_affinity() != [cpu]:
            self.stop()
            raise RuntimeError(f"the kernel was to run on CPU {cpu} only")
        self._ensure_iopub_up()

    def stop(self) -> None:
        """Ask the kernel to exit (atexit handlers run, semaphores are unlinked); kill it late."""
        if not hasattr(self, "km"):
            return
        self.kc.stop_channels()
        # The default 5 s (half of it before SIGTERM) can run out on a loaded machine while
        # the kernel waits for multiprocessing's resource tracker; then the process group is
        # SIGKILLed and the tracker cannot unlink semaphores.
        self.km.shutdown_wait_time = SHUTDOWN_WAIT_SECONDS
        self.km.shutdown_kernel(now=False)
        del self.km


class NotebookRun(IPyNbFile):
    """One notebook under one start method, followed by a leak check."""

    start_method: str = ""
    python: str | None = None  # another interpreter's kernel (--other-pythons), or this one
    cpu: int | None = None  # the one CPU of a one-core run

    @property
    def one_core(self) -> bool:
        """Whether this run's kernel has a single usable core."""
        return self.cpu is not None or usable_cores() == 1

    def get_sanitize_files(self) -> list[str]:
        files = super().get_sanitize_files()
        return files + [str(ONE_CORE_SANITIZE)] if self.one_core else files

    def setup(self) -> None:
        self.run_id = uuid.uuid4().hex
        self.started_at = time.time()
        self.shm_before = leaks.shm_entries()
        env = kernel_environment(**{startmethods.ENV_VAR: self.start_method,
                                    RUN_MARKER: self.run_id})
        self.kernel = CourseKernel(
            cwd=str(self.path.parent),
            startup_timeout=float(self.config.option.nbval_kernel_startup_timeout),
            env=env,
            python=self.python,
            cpu=self.cpu,
        )
        self.setup_sanitize_files()

    def collect(self):
        for item in super().collect():
            if type(item) is IPyNbCell:
                item.__class__ = CourseCell  # nbval makes its cells itself; ours says more
            yield item
        yield LeakCheck.from_parent(self, name="no leaks")

    def teardown(self) -> None:
        if self.kernel is not None:
            self.kernel.stop()


class CourseCell(IPyNbCell):
    """nbval's cell, whose failure also shows an output that the stored cell does not have
    (nbval names only its kind, e.g. ``{'stderr'}``: the text says where it came from)."""

    def compare_outputs(self, test, ref, skip_compare=None):
        if super().compare_outputs(test, ref, skip_compare):
            return True
        stored = {kind for output in transform_streams_for_comparison(ref) for kind in output
                  if kind not in ("output_type", "metadata")}
        for output in transform_streams_for_comparison(test):
            for kind, value in output.items():
                if kind not in stored and kind not in ("output_type", "metadata"):
                    self.comparison_traceback.append(
                        f"the {kind} output that is not stored:\n{str(value)[-3000:]}")
        return False


class LeakError(AssertionError):
    """Something a notebook started was still there after it ended."""


class LeakCheck(pytest.Item):
    """Fails when a notebook leaves processes or shared memory behind; cleans them up."""

    parent: NotebookRun

    def runtest(self) -> None:
        run = self.parent
        problems: list[str] = []
        kernel_pid = run.kernel.pid

        # At the end of the notebook: workers still running, segments never unlinked.
        workers = leaks.wait_until_gone(leaks.live_children(kernel_pid), GRACE_SECONDS)
        if workers:
            problems.append(
                "processes still alive at the end of the notebook (join them, or leave the "
                "pool's `with` block):\n  " + "\n  ".join(map(str, workers))
            )
        leaks.kill(workers)
        own = {kernel_pid} | {p.pid for p in leaks.marked_processes(RUN_MARKER, run.run_id)}
        new_entries = leaks.shm_entries() - run.shm_before - leaks.shm_in_use_by_others(own)
        segments = {e for e in new_entries if not leaks.is_semaphore(e)}
        if segments:
            problems.append(
                "shared memory not unlinked at the end of the notebook (call .unlink() "
                "in the creator): " + ", ".join(sorted(segments))
            )

        # After a graceful shutdown nothing of the kernel's may remain.
        run.kernel.stop()
        survivors = leaks.wait_until_gone(
            leaks.marked_processes(RUN_MARKER, run.run_id), GRACE_SECONDS
        )
        if survivors:
            problems.append(
                "processes alive after the kernel shut down:\n  "
                + "\n  ".join(map(str, survivors))
            )
        leaks.kill(survivors)
        # A resource tracker unlinks what the kernel left when it sees the kernel gone, a
        # moment after the kernel ended: give it GRACE_SECONDS before blaming the notebook.
        deadline = time.monotonic() + GRACE_SECONDS
        while True:
            left = leaks.shm_entries() - run.shm_before - leaks.shm_in_use_by_others(set())
            if not left - segments or time.monotonic() >= deadline:
                break
            time.sleep(0.2)
        if left - segments:
            problems.append(
                "/dev/shm entries left after the kernel shut down: "
                + ", ".join(f"{entry} ({leaks.shm_age(entry, run.started_at)})"
                            for entry in sorted(left - segments))
            )
        leaks.remove_shm(left)

        if problems:
            kernel = f", kernel: {run.python}" if run.python else ""
            raise LeakError(f"[start method: {run.start_method}{kernel}] " + "\n".join(problems))

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, LeakError):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self):
        return self.path, None, f"{self.parent.nodeid}::no leaks"
