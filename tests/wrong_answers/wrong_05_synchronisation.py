"""Wrong answers to exercises/05_synchronisation.ipynb."""

from tests.wrong_answers import WrongAnswer

_RUN_LIMITED_HEAD = (
    "import ex05_workers\n\n"
    "importlib.reload(ex05_workers)\n\n\n"
    "def run_limited(n_jobs, limit, hold=0.6):\n"
    "    active, peak = multiprocessing.Value('i', 0), multiprocessing.Value('i', 0)\n"
)

WRONG_ANSWERS = [
    WrongAnswer(
        "semaphore created in the worker module, not passed in", "ex05_workers",
        "%%writefile ex05_workers.py\n"
        "import multiprocessing\n"
        "import time\n\n"
        "slots = multiprocessing.Semaphore(2)\n\n\n"
        "def limited_job(_slots, active, peak, hold):\n"
        "    with slots:\n"
        "        with active.get_lock():\n"
        "            active.value += 1\n"
        "            peak.value = max(peak.value, active.value)\n"
        "        time.sleep(hold)\n"
        "        with active.get_lock():\n"
        "            active.value -= 1\n",
        "test_run_limited", "jobs ran at once although the limit was 2"),
    WrongAnswer(
        "a Lock instead of a Semaphore(limit)", "run_limited",
        _RUN_LIMITED_HEAD
        + "    slots = multiprocessing.Lock()\n"
        "    jobs = [multiprocessing.Process(target=ex05_workers.limited_job,\n"
        "                                    args=(slots, active, peak, hold))\n"
        "            for _ in range(n_jobs)]\n"
        "    for p in jobs:\n"
        "        p.start()\n"
        "    for p in jobs:\n"
        "        p.join()\n"
        "    return peak.value\n",
        "test_run_limited", "(a Lock lets only one in)"),
    WrongAnswer(
        "each job started and joined in turn", "run_limited",
        _RUN_LIMITED_HEAD
        + "    slots = multiprocessing.Semaphore(limit)\n"
        "    for _ in range(n_jobs):\n"
        "        p = multiprocessing.Process(target=ex05_workers.limited_job,\n"
        "                                    args=(slots, active, peak, hold))\n"
        "        p.start()\n"
        "        p.join()\n"
        "    return peak.value\n",
        "test_run_limited", "start every process before joining any"),
    WrongAnswer(
        "slot acquired and never released", "ex05_workers",
        "%%writefile ex05_workers.py\n"
        "import time\n\n\n"
        "def limited_job(slots, active, peak, hold):\n"
        "    slots.acquire()\n"
        "    with active.get_lock():\n"
        "        active.value += 1\n"
        "        peak.value = max(peak.value, active.value)\n"
        "    time.sleep(hold)\n"
        "    with active.get_lock():\n"
        "        active.value -= 1\n",
        "test_run_limited", "a slot that is never released"),
    WrongAnswer(
        "notebook-defined worker (passes under fork only)", "run_limited",
        "import time\n\n\n"
        "def job(slots, active, peak, hold):\n"
        "    with slots:\n"
        "        with active.get_lock():\n"
        "            active.value += 1\n"
        "            peak.value = max(peak.value, active.value)\n"
        "        time.sleep(hold)\n"
        "        with active.get_lock():\n"
        "            active.value -= 1\n\n\n"
        "def run_limited(n_jobs, limit, hold=0.6):\n"
        "    slots = multiprocessing.Semaphore(limit)\n"
        "    active, peak = multiprocessing.Value('i', 0), multiprocessing.Value('i', 0)\n"
        "    jobs = [multiprocessing.Process(target=job, args=(slots, active, peak, hold))\n"
        "            for _ in range(n_jobs)]\n"
        "    for p in jobs:\n"
        "        p.start()\n"
        "    for p in jobs:\n"
        "        p.join()\n"
        "    return peak.value\n",
        "test_run_limited", "is defined in this notebook"),
    WrongAnswer(
        "the broken worker unchanged: a private lock in every process", "ex05_fix",
        "%%writefile ex05_fix.py\n"
        "import multiprocessing\n\n\n"
        "def visit(counter, visits, start_line):\n"
        "    start_line.wait()\n"
        "    lock = multiprocessing.Lock()\n"
        "    for _ in range(visits):\n"
        "        with lock:\n"
        "            counter.value += 1\n",
        "test_count_visits", "update(s) were lost"),
    WrongAnswer(
        "the lock removed instead of shared", "ex05_fix",
        "%%writefile ex05_fix.py\n"
        "def visit(counter, visits, start_line):\n"
        "    start_line.wait()\n"
        "    for _ in range(visits):\n"
        "        counter.value += 1\n",
        "test_count_visits", "update(s) were lost"),
    WrongAnswer(
        "last partial batch never added", "ex05_batches",
        "%%writefile ex05_batches.py\n"
        "def add_in_batches(counter, n, batch):\n"
        "    local = 0\n"
        "    for _ in range(n):\n"
        "        local += 1\n"
        "        if local == batch:\n"
        "            with counter.get_lock():\n"
        "                counter.value += local\n"
        "            local = 0\n",
        "test_best_batch", "including the last partial batch"),
    WrongAnswer(
        "choice that ignores the measurement", "timings",
        "import ex05_batches\n\n"
        "BATCHES = (1, 100, 10_000)\n"
        "timings = {batch: 1.0 / batch for batch in BATCHES}\n"
        "totals = {batch: 100_000 for batch in BATCHES}\n"
        "BEST_BATCH = 1\n",
        "test_best_batch", "but your fastest measurement was"),
]

# New in issue 10: answers that passed the one-example checks (a race the small test rarely
# hits, the semaphore made pointless, a lock that removes the concurrency with the race, the
# batch size ignored, running totals instead of separate timings).
WRONG_ANSWERS += [
    WrongAnswer(
        "peak updated outside the lock", "ex05_workers",
        "%%writefile ex05_workers.py\n"
        "import time\n\n\n"
        "def limited_job(slots, active, peak, hold):\n"
        "    with slots:\n"
        "        with active.get_lock():\n"
        "            active.value += 1\n"
        "        peak.value = max(peak.value, active.value)\n"
        "        time.sleep(hold)\n"
        "        with active.get_lock():\n"
        "            active.value -= 1\n",
        "test_run_limited", "without holding active.get_lock()"),
    WrongAnswer(
        "jobs started in groups of limit, each group joined", "run_limited",
        _RUN_LIMITED_HEAD
        + "    slots = multiprocessing.Semaphore(limit)\n"
        "    for first in range(0, n_jobs, limit):\n"
        "        group = [multiprocessing.Process(target=ex05_workers.limited_job,\n"
        "                                         args=(slots, active, peak, hold))\n"
        "                 for _ in range(first, min(first + limit, n_jobs))]\n"
        "        for p in group:\n"
        "            p.start()\n"
        "        for p in group:\n"
        "            p.join()\n"
        "    return peak.value\n",
        "test_run_limited", "before you join any"),
    WrongAnswer(
        "lock held around the whole loop", "ex05_fix",
        "%%writefile ex05_fix.py\n"
        "def visit(counter, visits, start_line):\n"
        "    start_line.wait()\n"
        "    with counter.get_lock():\n"
        "        for _ in range(visits):\n"
        "            counter.value += 1\n",
        "test_count_visits", "around the whole loop"),
    WrongAnswer(
        "batch size ignored: the lock taken for every count", "ex05_batches",
        "%%writefile ex05_batches.py\n"
        "def add_in_batches(counter, n, batch):\n"
        "    for _ in range(n):\n"
        "        with counter.get_lock():\n"
        "            counter.value += 1\n",
        "test_best_batch", "took the lock"),
    WrongAnswer(
        "clock started once before the loop (running totals)", "timings",
        "import ex05_batches\n\n"
        "importlib.reload(ex05_batches)\n\n"
        "BATCHES = (1, 100, 10_000)\n"
        "timings = {}\n"
        "totals = {}\n"
        "start = time.perf_counter()\n"
        "for size in BATCHES:\n"
        "    counter = multiprocessing.Value('i', 0)\n"
        "    adders = [multiprocessing.Process(target=ex05_batches.add_in_batches,\n"
        "                                      args=(counter, 50_000, size)) for _ in range(2)]\n"
        "    for p in adders:\n"
        "        p.start()\n"
        "    for p in adders:\n"
        "        p.join()\n"
        "    timings[size] = time.perf_counter() - start\n"
        "    totals[size] = counter.value\n"
        "BEST_BATCH = min(timings, key=timings.get)\n",
        "test_best_batch", "Start the clock again for each figure"),
]
