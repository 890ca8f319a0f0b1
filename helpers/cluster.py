"""Worker code and cluster tools for notebook 13_beyond_one_machine: joblib and Dask.

Two kinds of code live here.

* **Tasks** that joblib's loky workers and Dask's workers run. They are in an importable
  module for the same reason as every other worker of the course: a worker process (spawned
  by loky, started by a Dask nanny, or running on another machine) imports a function by
  module and name. Tasks never print; they return what they found, and the notebook prints.
* **Tools** the notebook uses in its own process: quiet, offline Dask settings
  (``configure_dask``), the dashboard link that applies under JupyterHub and Binder
  (``dashboard_link_template``), and a scheduler and workers started as separate programs on
  127.0.0.1 (``start_scheduler``, ``start_worker``, ``wait_for_workers``, ``stop_programs``),
  each with a timeout and an error that says what went wrong instead of a hang.

Dask itself is imported only inside the functions that need it, so that ``configure_dask``
can set the environment before ``distributed`` reads it at import time.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
"""Every server of this notebook listens on the loopback address only."""

DEFAULT_LINK = "{scheme}://{host}:{port}/status"
"""Dask's own template for ``client.dashboard_link`` (``distributed.dashboard.link``)."""

PROXY_LINK = "{JUPYTERHUB_SERVICE_PREFIX}proxy/{port}/status"
"""The dashboard through jupyter-server-proxy, as JupyterHub (and so Binder) serves it."""

_ANSI = re.compile(r"\x1b\[[0-9;]*m")  # a terminal colour code, in a program's log

_shared: list[Any] = []  # module state of a worker process (see ``remember``)


# --- Tasks ------------------------------------------------------------------------------------


def add(a: float, b: float) -> float:
    """Return ``a + b``: the smallest task that takes the results of two others."""
    return a + b


def total_length(chunks: list[bytes], index: int) -> tuple[int, int]:
    """Return ``(index, total length of chunks)``: a task whose input is large.

    Used with ``client.scatter``: the data travels to a worker once, and many tasks refer to
    it by its future instead of sending it again with each call.
    """
    return index, sum(len(chunk) for chunk in chunks)


def remember(x: Any) -> tuple[Any, int]:
    """Append ``x`` to this module's list ``_shared`` and return ``(x, its length)``.

    Module state lives in the process that runs the task: a worker's list grows, the
    parent's stays as it was. Nothing is shared between processes unless it is sent.
    """
    _shared.append(x)
    return x, len(_shared)


def shared_in_this_process() -> list[Any]:
    """The ``_shared`` list as this process sees it."""
    return list(_shared)


def nap_then(seconds: float, value: Any) -> Any:
    """Sleep ``seconds``, then return ``value``: a task of known length that uses no CPU."""
    time.sleep(seconds)
    return value


def kill_own_process(seconds: float = 0.0) -> None:
    """Sleep ``seconds``, then SIGKILL the process running this task: a worker that dies.

    A task like this stands for one that crashes its process (a segfault in an extension,
    the kernel's out-of-memory killer): no exception reaches Python, the process is gone.
    On Windows, which has no SIGKILL, ``os._exit`` ends the process just as abruptly.
    """
    time.sleep(seconds)
    if hasattr(signal, "SIGKILL"):
        os.kill(os.getpid(), signal.SIGKILL)
    os._exit(70)


def worker_name(_: Any = None) -> str:
    """The name of the Dask worker running this task (``get_worker().name``); the argument
    is ignored (so that ``client.map`` can run it once per item)."""
    from distributed import get_worker

    return str(get_worker().name)


def library_call(items: Iterable[Any]) -> list[tuple[Any, int]]:
    """Run ``(item, pid)`` for every item through ``joblib.Parallel()`` with no backend and
    no ``n_jobs``: it stands for library code (scikit-learn, say) that calls joblib inside.

    Such code runs with whatever ``joblib.parallel_config`` the caller has set around it;
    the pids returned say whether the calls ran in this process (threads) or in others."""
    from joblib import Parallel, delayed

    return Parallel()(delayed(_item_and_pid)(item) for item in items)


def _item_and_pid(item: Any) -> tuple[Any, int]:
    return item, os.getpid()


def count_all(executor: Any, limits: Iterable[int]) -> list[int]:
    """Count the primes below each limit with ``executor``, code written for any
    ``concurrent.futures.Executor`` (notebook 10): ``submit``, then ``as_completed``.

    Returns the counts in the order of ``limits``."""
    from concurrent.futures import as_completed

    from helpers.workloads import count_primes

    futures = {executor.submit(count_primes, limit): i for i, limit in enumerate(limits)}
    counts: dict[int, int] = {}
    for future in as_completed(futures, timeout=120):
        counts[futures[future]] = future.result()
    return [counts[i] for i in sorted(counts)]


# --- Processes of this notebook ---------------------------------------------------------------

_HELPER_MARKERS = ("resource_tracker", "multiprocessing.forkserver")


def children(pid: int | None = None) -> list[Any]:
    """The live child processes (all generations) of ``pid`` (default: this process)."""
    import psutil

    found = []
    for child in psutil.Process(pid).children(recursive=True):
        try:
            if child.status() != psutil.STATUS_ZOMBIE:
                found.append(child)
        except psutil.NoSuchProcess:
            pass
    return found


def _cmdline(proc: Any) -> str:
    try:
        return " ".join(proc.cmdline())
    except Exception:  # noqa: BLE001  (gone, or not ours to read)
        return ""


def loky_workers() -> int:
    """How many of joblib's loky worker processes are children of this process."""
    return sum("popen_loky" in _cmdline(child) for child in children())


def running_programs() -> int:
    """How many children of this process are still running, other than the resource
    trackers (multiprocessing's and loky's) and multiprocessing's forkserver, which live
    as long as this process and end with it."""
    return sum(not any(m in _cmdline(c) for m in _HELPER_MARKERS) for c in children())


def wait_until(condition: Any, timeout: float, interval: float = 0.1) -> bool:
    """Call ``condition()`` until it is true or ``timeout`` seconds have passed; return the
    last answer (a bounded wait instead of a fixed sleep)."""
    deadline = time.monotonic() + timeout
    while not (answer := bool(condition())) and time.monotonic() < deadline:
        time.sleep(interval)
    return answer


# --- Dask settings for a notebook ---------------------------------------------------------------


def configure_dask(folder: Path, allowed_failures: int = 1) -> dict[str, Any]:
    """Settings for a quiet, offline, reproducible Dask in this process and its children.

    * Dask's logs: none from this process (the scheduler and nannies of a ``LocalCluster``
      run here, and their lines carry times and addresses; what happened reaches the
      notebook as results and exceptions), and only errors from every worker process and
      every ``dask`` program started from here, through the environment variable
      ``DASK_LOGGING__DISTRIBUTED`` (they read it when they import ``distributed``);
    * worker scratch space (spilled data, locks) in ``folder`` instead of the system's
      temporary directory;
    * ``distributed.scheduler.allowed-failures``: how many worker deaths a task may be
      part of before the scheduler gives up on it with ``KilledWorker`` (Dask's default: 3);
    * the dashboard link that applies here (``dashboard_link_template``);
    * ``distributed.scheduler.worker-saturation`` 1.0: a task waits at the scheduler until a
      worker thread is free for it (Dask's default, 1.1, may queue a second one on a busy
      worker), so tasks start in the order they were submitted;
    * no GPU probing (``distributed.diagnostics.nvml``).

    Call it before the first cluster starts; returns the settings applied with
    ``dask.config.set``.
    """
    os.environ["DASK_LOGGING__DISTRIBUTED"] = "error"
    os.environ["DASK_DISTRIBUTED__DIAGNOSTICS__NVML"] = "False"
    import dask
    import distributed  # noqa: F401  (sets up its logging, at the level chosen above)

    for name in ["distributed", *logging.root.manager.loggerDict]:
        if name.startswith("distributed"):  # with the levels Dask's config gave some of them
            logging.getLogger(name).setLevel(logging.CRITICAL)
    settings = {
        "temporary-directory": str(folder),
        "distributed.scheduler.allowed-failures": allowed_failures,
        "distributed.scheduler.worker-saturation": 1.0,
        "distributed.dashboard.link": dashboard_link_template(),
        "distributed.diagnostics.nvml": False,
    }
    dask.config.set(settings)
    return settings


def under_jupyterhub(environ: Mapping[str, str] | None = None) -> bool:
    """True when this kernel runs under JupyterHub (Binder is one): the hub sets
    ``JUPYTERHUB_SERVICE_PREFIX`` to the user's server path, e.g. ``/user/jovyan-abc/``."""
    environ = os.environ if environ is None else environ
    return bool(environ.get("JUPYTERHUB_SERVICE_PREFIX"))


def dashboard_link_template(environ: Mapping[str, str] | None = None) -> str:
    """The ``distributed.dashboard.link`` template that a browser can follow here.

    Locally the browser reaches the scheduler's port directly (``DEFAULT_LINK``). Under
    JupyterHub only the Jupyter server is reachable, so the link goes through
    jupyter-server-proxy: ``<prefix>proxy/<port>/status`` (``PROXY_LINK``). Dask fills the
    template from the environment and the dashboard's ``scheme``, ``host`` and ``port``.
    """
    return PROXY_LINK if under_jupyterhub(environ) else DEFAULT_LINK


def fill_link(template: str, port: int, environ: Mapping[str, str] | None = None,
              host: str = HOST, scheme: str = "http") -> str:
    """The link ``template`` names for a dashboard on ``port``, filled as Dask fills it."""
    environ = os.environ if environ is None else environ
    return template.format(**{**environ, "scheme": scheme, "host": host, "port": port})


# --- A scheduler and workers as separate programs -------------------------------------------


class ClusterStartError(RuntimeError):
    """A scheduler or worker program did not become ready; the message says why."""


@dataclass
class Program:
    """A program started by ``start_scheduler`` or ``start_worker``, with its log file."""

    role: str
    command: list[str]
    process: subprocess.Popen
    log: Path
    _log_file: Any = field(repr=False, default=None)

    @property
    def pid(self) -> int:
        return self.process.pid

    def running(self) -> bool:
        """True while the program has not exited."""
        return self.process.poll() is None

    def log_text(self) -> str:
        """Everything the program wrote so far (stdout and stderr)."""
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return _ANSI.sub("", text)

    def log_tail(self, lines: int = 6) -> str:
        """The last ``lines`` lines the program wrote."""
        return "\n".join(self.log_text().strip().splitlines()[-lines:])

    def errors(self, limit: int = 3) -> str:
        """The exception lines of what the program wrote (``OSError: ...``), without the
        tracebacks' frames, each once, at most ``limit``; else its last lines."""
        found: list[str] = []
        for line in self.log_text().splitlines():
            if re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Exit)\b", line) and line not in found:
                found.append(line.strip())
        return "\n".join(found[:limit]) if found else self.log_tail()

    def stop(self, timeout: float = 10.0, grace: float = 0.0) -> int:
        """End the program: wait up to ``grace`` seconds for it to exit by itself (after
        ``Client.shutdown()`` it is closing already), then SIGTERM (a Dask program then
        closes its workers and exits), then SIGKILL after ``timeout`` seconds; return its
        exit code."""
        if grace and self.running():
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(grace)
        if self.running():
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        return self.process.returncode


def command_line(command: Iterable[str]) -> str:
    """``command`` as a learner would type it on a machine: ``dask scheduler ...`` for
    ``python -m distributed.cli.dask_scheduler ...``."""
    words = list(command)
    modules = {"distributed.cli.dask_scheduler": "dask scheduler",
               "distributed.cli.dask_worker": "dask worker"}
    if len(words) > 2 and words[1] == "-m" and words[2] in modules:
        words = [modules[words[2]], *words[3:]]
    return " ".join(words)


def scheduler_command(scheduler_file: Path, port: int = 0, dashboard: bool = False) -> list[str]:
    """The command that starts a scheduler on 127.0.0.1:``port`` (0: any free port) and
    writes its address to ``scheduler_file``. This Python runs it, so the scheduler has the
    same version of Python and of every package as this kernel."""
    command = [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", HOST,
               "--port", str(port), "--scheduler-file", str(scheduler_file)]
    if dashboard:
        command += ["--dashboard-address", f"{HOST}:0"]
    else:
        command += ["--no-dashboard"]
    return command


def worker_command(scheduler_file: Path, name: str, nworkers: int = 1, nthreads: int = 1,
                   death_timeout: float = 10.0, folder: Path | None = None) -> list[str]:
    """The command that starts ``nworkers`` worker processes (each with a nanny) of
    ``nthreads`` threads, which find the scheduler through ``scheduler_file`` and give up
    after ``death_timeout`` seconds without one."""
    command = [sys.executable, "-m", "distributed.cli.dask_worker",
               "--scheduler-file", str(scheduler_file), "--host", HOST,
               "--nworkers", str(nworkers), "--nthreads", str(nthreads), "--name", name,
               "--no-dashboard", "--death-timeout", str(death_timeout)]
    if folder is not None:
        command += ["--local-directory", str(folder)]
    return command


def _start(role: str, command: list[str], log: Path) -> Program:
    log_file = open(log, "w")  # noqa: SIM115  (closed by Program.stop)
    # Plain text in the log: Python 3.13+ colours its tracebacks when told to (FORCE_COLOR).
    env = {**os.environ, "PYTHON_COLORS": "0", "NO_COLOR": "1"}
    env.pop("FORCE_COLOR", None)
    process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, env=env)
    return Program(role, command, process, log, log_file)


_PORT_IN_USE = ("Address already in use", "address already in use",
                "Only one usage of each socket address")  # Linux and macOS; Windows


def _reason(program: Program, port: int | None = None) -> str:
    """A sentence about why ``program`` stopped, from what it wrote."""
    text = program.log_text()
    if any(marker in text for marker in _PORT_IN_USE):
        where = f"{HOST}:{port}" if port else "its port"
        return (f"{where} is already in use by another program: choose another port, or "
                "0 for any free one")
    return "see the errors it wrote below"


def read_scheduler_file(path: Path) -> str | None:
    """The scheduler address in a ``--scheduler-file`` (None while it is not written yet)."""
    try:
        return json.loads(path.read_text())["address"]
    except (OSError, ValueError, KeyError):
        return None


def start_scheduler(folder: Path, port: int = 0, timeout: float = 20.0,
                    dashboard: bool = False) -> tuple[Program, str]:
    """Start ``dask scheduler`` on 127.0.0.1 as a separate program; return it and its address.

    Waits until the program has written its address to ``folder/scheduler.json`` (how it
    tells others its port when started with ``--port 0``). Raises ``ClusterStartError`` at
    once if the program exits first (a port in use, say), and after ``timeout`` seconds if
    it never gets ready; either way the program is stopped and the message quotes its log.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    scheduler_file = folder / "scheduler.json"
    scheduler_file.unlink(missing_ok=True)
    program = _start("scheduler", scheduler_command(scheduler_file, port, dashboard),
                     folder / "scheduler.log")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        address = read_scheduler_file(scheduler_file)
        if address:
            return program, address
        if not program.running():
            code = program.stop()
            raise ClusterStartError(
                f"the scheduler exited with code {code} before it was ready: "
                f"{_reason(program, port)}.\nIt wrote:\n{program.errors()}")
        time.sleep(0.05)
    program.stop()
    raise ClusterStartError(f"the scheduler was not ready after {timeout} s; it wrote:\n"
                            f"{program.log_tail()}")


def start_worker(folder: Path, name: str, nworkers: int = 1, nthreads: int = 1,
                 death_timeout: float = 10.0) -> Program:
    """Start ``dask worker`` as a separate program that joins the scheduler of
    ``folder/scheduler.json``; ``wait_for_workers`` then waits until it has joined."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    command = worker_command(folder / "scheduler.json", name, nworkers, nthreads,
                             death_timeout, folder)
    return _start(f"worker {name}", command, folder / f"worker-{name}.log")


def wait_for_workers(client: Any, count: int, programs: Iterable[Program],
                     timeout: float = 30.0) -> int:
    """Wait until the scheduler of ``client`` has ``count`` workers; return how many it has.

    Raises ``ClusterStartError`` at once when one of ``programs`` exits (its log says why),
    and after ``timeout`` seconds when the workers have not all joined."""
    programs = list(programs)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        joined = len(client.nthreads())
        if joined >= count:
            return joined
        for program in programs:
            if not program.running():
                raise ClusterStartError(
                    f"the {program.role} program exited with code {program.process.returncode} "
                    f"before its workers joined: {_reason(program)}.\n"
                    f"It wrote:\n{program.errors()}")
        time.sleep(0.1)
    raise ClusterStartError(f"{len(client.nthreads())} of {count} workers joined within "
                            f"{timeout} s")


def stop_programs(programs: Iterable[Program], timeout: float = 10.0,
                  grace: float = 0.0) -> dict[str, int]:
    """Stop every program (workers before the scheduler, in the order given), each given
    ``grace`` seconds to exit by itself first (``Program.stop``); return each one's exit
    code by role."""
    return {program.role: program.stop(timeout, grace) for program in programs}


def port_taken_by_me() -> tuple[socket.socket, int]:
    """A socket listening on a free port of 127.0.0.1, and that port: a port in use.

    Close the socket when done (``with sock:``)."""
    sock = socket.socket()
    sock.bind((HOST, 0))
    sock.listen()
    return sock, sock.getsockname()[1]
