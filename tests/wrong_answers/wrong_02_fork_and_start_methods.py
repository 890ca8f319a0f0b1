"""Wrong answers to exercises/02_fork_and_start_methods.ipynb."""

from tests.wrong_answers import WrongAnswer

WRONG_ANSWERS = [
    WrongAnswer(
        "every child started with the default method", "setting_seen_under",
        "import ex02_workers\n"
        "importlib.reload(ex02_workers)\n\n"
        "def setting_seen_under(methods):\n"
        "    seen = {}\n"
        "    for method in methods:\n"
        "        results = multiprocessing.Queue()\n"
        "        child = multiprocessing.Process(target=ex02_workers.report_setting, args=(results,))\n"
        "        child.start()\n"
        "        seen[method] = results.get(timeout=10)\n"
        "        child.join()\n"
        "    return seen\n",
        "test_setting_seen_under", "it must start one child with each method"),
    WrongAnswer(
        "worker returns SETTING instead of sending it", "ex02_workers",
        "%%writefile ex02_workers.py\n"
        "SETTING = 'as written in ex02_workers.py'\n\n"
        "def report_setting(results):\n"
        "    return SETTING\n",
        "test_setting_seen_under", "a target's return value is thrown away"),
    WrongAnswer(
        "notebook-defined worker (passes under fork only)", "setting_seen_under",
        "import ex02_workers\n"
        "importlib.reload(ex02_workers)\n\n"
        "def report_setting(results):\n"
        "    results.put(ex02_workers.SETTING)\n\n"
        "def setting_seen_under(methods):\n"
        "    seen = {}\n"
        "    for method in methods:\n"
        "        ctx = multiprocessing.get_context(method)\n"
        "        results = ctx.Queue()\n"
        "        child = ctx.Process(target=report_setting, args=(results,))\n"
        "        child.start()\n"
        "        seen[method] = results.get(timeout=10)\n"
        "        child.join()\n"
        "    return seen\n",
        "test_setting_seen_under", "is defined in this notebook"),
    WrongAnswer(
        "the colleague's program left as it was (module-level queue)", "squares_by_children",
        "from pathlib import Path\n"
        "Path('ex02_fix.py').write_text(\n"
        "    'import multiprocessing\\n'\n"
        "    'results = multiprocessing.Queue()\\n'\n"
        "    'def square(x):\\n'\n"
        "    '    results.put((x, x * x))\\n')\n"
        "import ex02_fix\n"
        "importlib.reload(ex02_fix)\n\n"
        "def squares_by_children(numbers):\n"
        "    procs = [multiprocessing.Process(target=ex02_fix.square, args=(x,), name=f'square-{x}')\n"
        "             for x in numbers]\n"
        "    for p in procs:\n"
        "        p.start()\n"
        "    answers = dict(ex02_fix.results.get(timeout=3) for _ in procs)\n"
        "    for p in procs:\n"
        "        p.join()\n"
        "    return [answers[x] for x in numbers]\n",
        "test_squares_by_children", "a module-level Queue is created again"),
    WrongAnswer(
        "queue passed, but the children never joined", "squares_by_children",
        "import ex02_fix\n"
        "importlib.reload(ex02_fix)\n\n"
        "def squares_by_children(numbers):\n"
        "    channel = multiprocessing.Queue()\n"
        "    for x in numbers:\n"
        "        multiprocessing.Process(target=ex02_fix.square, args=(x, channel),\n"
        "                                name=f'square-{x}').start()\n"
        "    answers = dict(channel.get(timeout=5) for _ in numbers)\n"
        "    return [answers[x] for x in numbers]\n",
        "test_squares_by_children", "were never joined"),
    WrongAnswer(
        "fork pinned instead of passing the queue", "squares_by_children",
        "import ex02_fix\n"
        "importlib.reload(ex02_fix)\n\n"
        "def squares_by_children(numbers):\n"
        "    fork = multiprocessing.get_context('fork')\n"
        "    channel = fork.Queue()\n"
        "    procs = [fork.Process(target=ex02_fix.square, args=(x, channel), name=f'square-{x}')\n"
        "             for x in numbers]\n"
        "    for p in procs:\n"
        "        p.start()\n"
        "    answers = dict(channel.get(timeout=10) for _ in procs)\n"
        "    for p in procs:\n"
        "        p.join()\n"
        "    return [answers[x] for x in numbers]\n",
        "test_squares_by_children", "pinning a start method hides the problem"),
    WrongAnswer(
        "start-up timed with the default method only", "time_start_methods",
        "def time_start_methods(repeats):\n"
        "    costs = {}\n"
        "    for method in METHODS:\n"
        "        began = time.perf_counter()\n"
        "        for i in range(repeats):\n"
        "            p = multiprocessing.Process(target=time.sleep, args=(0,))\n"
        "            p.start()\n"
        "            p.join()\n"
        "        costs[method] = (time.perf_counter() - began) / repeats\n"
        "    return costs\n",
        "test_start_costs", "it must start and join at least 2 with each method"),
    WrongAnswer(
        "choice taken from the notebook's reference figures, not measured", "start_costs",
        "start_costs = {'fork': 0.05, 'spawn': 0.01, 'forkserver': 0.02}\n"
        "FASTEST_START = 'fork'\n"
        "THREAD_SAFE_CHOICE = 'forkserver'\n",
        "test_start_costs", "but your own figures say"),
]

# New in issue 10: a join before the queue is read (it passes while the data is small), a read
# that hopes the children are done, and start-up figures timed over the warm-up or as running totals.
WRONG_ANSWERS += [
    WrongAnswer(
        "child joined before its queue is read", "setting_seen_under",
        "import ex02_workers\n"
        "importlib.reload(ex02_workers)\n\n"
        "def setting_seen_under(methods):\n"
        "    seen = {}\n"
        "    for method in methods:\n"
        "        ctx = multiprocessing.get_context(method)\n"
        "        inbox = ctx.Queue()\n"
        "        child = ctx.Process(target=ex02_workers.report_setting, args=(inbox,))\n"
        "        child.start()\n"
        "        child.join()  # wait until it has sent SETTING\n"
        "        seen[method] = inbox.get()\n"
        "    return seen\n",
        "test_setting_seen_under", "larger than a pipe holds"),
    WrongAnswer(
        "sleep, then read as many answers as qsize() says", "squares_by_children",
        "import ex02_fix\n"
        "importlib.reload(ex02_fix)\n\n"
        "def squares_by_children(numbers):\n"
        "    channel = multiprocessing.Queue()\n"
        "    procs = [multiprocessing.Process(target=ex02_fix.square, args=(x, channel), name=f'square-{x}')\n"
        "             for x in numbers]\n"
        "    for p in procs:\n"
        "        p.start()\n"
        "    time.sleep(0.5)  # the children need a moment\n"
        "    answers = dict(channel.get() for _ in range(channel.qsize()))\n"
        "    for p in procs:\n"
        "        p.join()\n"
        "    return [answers[x] for x in numbers]\n",
        "test_squares_by_children", "sleep() only hopes"),
    WrongAnswer(
        "clock started once before the loop over methods (running totals)", "time_start_methods",
        "def time_start_methods(repeats):\n"
        "    per_start = {}\n"
        "    began = time.perf_counter()\n"
        "    for method in METHODS:\n"
        "        ctx = multiprocessing.get_context(method)\n"
        "        warm_up = ctx.Process(target=time.sleep, args=(0,))\n"
        "        warm_up.start()\n"
        "        warm_up.join()\n"
        "        for i in range(repeats):\n"
        "            p = ctx.Process(target=time.sleep, args=(0,))\n"
        "            p.start()\n"
        "            p.join()\n"
        "        per_start[method] = (time.perf_counter() - began) / repeats\n"
        "    return per_start\n",
        "test_start_costs", "running totals"),
    WrongAnswer(
        "warm-up child timed with the others", "time_start_methods",
        "def time_start_methods(repeats):\n"
        "    per_start = {}\n"
        "    for method in METHODS:\n"
        "        ctx = multiprocessing.get_context(method)\n"
        "        began = time.perf_counter()\n"
        "        warm_up = ctx.Process(target=time.sleep, args=(0,))\n"
        "        warm_up.start()\n"
        "        warm_up.join()\n"
        "        for i in range(repeats):\n"
        "            p = ctx.Process(target=time.sleep, args=(0,))\n"
        "            p.start()\n"
        "            p.join()\n"
        "        per_start[method] = (time.perf_counter() - began) / repeats\n"
        "    return per_start\n",
        "test_start_costs", "warm-up"),
]
