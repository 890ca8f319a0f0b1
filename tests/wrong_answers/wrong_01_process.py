"""Wrong answers to exercises/01_process.ipynb."""

from tests.wrong_answers import WrongAnswer

WRONG_ANSWERS = [
    WrongAnswer(
        "worker returns the code instead of exiting with it", "ex01_workers",
        "%%writefile ex01_workers.py\n"
        "import time\n\n"
        "def finish_after(seconds, code):\n"
        "    time.sleep(seconds)\n"
        "    return code\n",
        "test_run_jobs", "A target's return value is thrown away"),
    WrongAnswer(
        "each process joined before the next starts", "run_jobs",
        "import ex01_workers\n"
        "importlib.reload(ex01_workers)\n\n"
        "def run_jobs(jobs):\n"
        "    codes = {}\n"
        "    for name, (seconds, code) in jobs.items():\n"
        "        p = multiprocessing.Process(target=ex01_workers.finish_after,\n"
        "                                    args=(seconds, code), name=name)\n"
        "        p.start()\n"
        "        p.join()\n"
        "        codes[name] = p.exitcode\n"
        "    return codes\n",
        "test_run_jobs", "Start every process first, then join them all"),
    WrongAnswer(
        "exitcode read without joining", "run_jobs",
        "import ex01_workers\n"
        "importlib.reload(ex01_workers)\n\n"
        "def run_jobs(jobs):\n"
        "    procs = [multiprocessing.Process(target=ex01_workers.finish_after, args=job, name=name)\n"
        "             for name, job in jobs.items()]\n"
        "    for p in procs:\n"
        "        p.start()\n"
        "    return {p.name: p.exitcode for p in procs}\n",
        "test_run_jobs", "an exitcode is None until its process has ended"),
    WrongAnswer(
        "processes left with their default names", "run_jobs",
        "import ex01_workers\n"
        "importlib.reload(ex01_workers)\n\n"
        "def run_jobs(jobs):\n"
        "    procs = {name: multiprocessing.Process(target=ex01_workers.finish_after, args=job)\n"
        "             for name, job in jobs.items()}\n"
        "    for p in procs.values():\n"
        "        p.start()\n"
        "    for p in procs.values():\n"
        "        p.join()\n"
        "    return {name: p.exitcode for name, p in procs.items()}\n",
        "test_run_jobs", "not after the jobs"),
    WrongAnswer(
        "notebook-defined worker (passes under fork only)", "run_jobs",
        "import sys\nimport time\n\n"
        "def finish_after(seconds, code):\n"
        "    time.sleep(seconds)\n"
        "    sys.exit(code)\n\n"
        "def run_jobs(jobs):\n"
        "    procs = [multiprocessing.Process(target=finish_after, args=job, name=name)\n"
        "             for name, job in jobs.items()]\n"
        "    for p in procs:\n"
        "        p.start()\n"
        "    for p in procs:\n"
        "        p.join()\n"
        "    return {p.name: p.exitcode for p in procs}\n",
        "test_run_jobs", "is defined in this notebook"),
    WrongAnswer(
        "the broken program left as it was (target=f(x))", "powers_by_process",
        "def powers_by_process(bases):\n"
        "    results = multiprocessing.Queue()\n"
        "    for base in bases:\n"
        "        p = multiprocessing.Process(target=processes.power_to_queue(base, results),\n"
        "                                    name=f'power-{base}')\n"
        "        p.start()\n"
        "    return dict(results.get(timeout=10) for _ in bases)\n",
        "test_powers_by_process", "computed in the notebook's own process (MainProcess)"),
    WrongAnswer(
        "p.run() instead of p.start()", "powers_by_process",
        "def powers_by_process(bases):\n"
        "    results = multiprocessing.Queue()\n"
        "    procs = [multiprocessing.Process(target=processes.power_to_queue, args=(b, results),\n"
        "                                     name=f'power-{b}') for b in bases]\n"
        "    for p in procs:\n"
        "        p.run()\n"
        "    return dict(results.get(timeout=10) for _ in bases)\n",
        "test_powers_by_process", "computed in the notebook's own process (MainProcess)"),
    WrongAnswer(
        "target fixed, children never joined", "powers_by_process",
        "def powers_by_process(bases):\n"
        "    results = multiprocessing.Queue()\n"
        "    for base in bases:\n"
        "        p = multiprocessing.Process(target=processes.power_to_queue,\n"
        "                                    args=(base, results), name=f'power-{base}')\n"
        "        p.start()\n"
        "    return dict(results.get(timeout=10) for _ in bases)\n",
        "test_powers_by_process", "were never joined"),
    WrongAnswer(
        "start cost measured with run() (no process started)", "start_cost",
        "def start_cost(repeats):\n"
        "    began = time.perf_counter()\n"
        "    for i in range(repeats):\n"
        "        p = multiprocessing.Process(target=time.sleep, args=(0,))\n"
        "        p.run()\n"
        "    return (time.perf_counter() - began) / repeats\n",
        "test_worth_a_process", "p.run() starts none"),
    WrongAnswer(
        "comparison the wrong way round", "worth_a_process",
        "from helpers.workloads import count_primes\n"
        "LIMITS = (1_000, 10_000, 100_000)\n"
        "START_COST = start_cost(5)\n"
        "task_seconds = {}\n"
        "for n in LIMITS:\n"
        "    t0 = time.perf_counter()\n"
        "    count_primes(n)\n"
        "    task_seconds[n] = time.perf_counter() - t0\n"
        "WORTH_A_PROCESS = [n for n in LIMITS if task_seconds[n] < START_COST]\n",
        "test_worth_a_process", "but your own figures say"),
]

# New in issue 10: joins and reads by hope that pass with short jobs and fast children, and a
# start cost that is not the mean cost of a start + join.
WRONG_ANSWERS += [
    WrongAnswer(
        "join(timeout=1) instead of join()", "run_jobs",
        "import ex01_workers\n"
        "importlib.reload(ex01_workers)\n\n"
        "def run_jobs(jobs):\n"
        "    procs = [multiprocessing.Process(target=ex01_workers.finish_after, args=job, name=name)\n"
        "             for name, job in jobs.items()]\n"
        "    for p in procs:\n"
        "        p.start()\n"
        "    for p in procs:\n"
        "        p.join(timeout=1)  # no job takes longer than that\n"
        "    return {p.name: p.exitcode for p in procs}\n",
        "test_run_jobs", "join(timeout=...) gives up"),
    WrongAnswer(
        "sleep, then drain the queue while it is not empty", "powers_by_process",
        "def powers_by_process(bases):\n"
        "    results = multiprocessing.Queue()\n"
        "    procs = [multiprocessing.Process(target=processes.power_to_queue, args=(b, results),\n"
        "                                     name=f'power-{b}') for b in bases]\n"
        "    for p in procs:\n"
        "        p.start()\n"
        "    time.sleep(1)  # give the children time to answer\n"
        "    answers = {}\n"
        "    while not results.empty():\n"
        "        name, square = results.get()\n"
        "        answers[name] = square\n"
        "    for p in procs:\n"
        "        p.join()\n"
        "    return answers\n",
        "test_powers_by_process", "sleep() only hopes"),
    WrongAnswer(
        "start_cost returns the total, not the mean", "start_cost",
        "def start_cost(repeats):\n"
        "    began = time.perf_counter()\n"
        "    for i in range(repeats):\n"
        "        p = multiprocessing.Process(target=time.sleep, args=(0,))\n"
        "        p.start()\n"
        "        p.join()\n"
        "    return time.perf_counter() - began\n",
        "test_worth_a_process", "the mean per process"),
    WrongAnswer(
        "start_cost times start() only, not the join", "start_cost",
        "def start_cost(repeats):\n"
        "    total = 0.0\n"
        "    for i in range(repeats):\n"
        "        p = multiprocessing.Process(target=time.sleep, args=(0,))\n"
        "        t0 = time.perf_counter()\n"
        "        p.start()\n"
        "        total += time.perf_counter() - t0\n"
        "        p.join()\n"
        "    return total / repeats\n",
        "test_worth_a_process", "from start() until join() returns"),
]
