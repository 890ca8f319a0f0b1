"""Wrong answers to exercises/00_introduction.ipynb."""

from tests.wrong_answers import WrongAnswer

WRONG_ANSWERS = [
    WrongAnswer(
        "lambda in a pool", "parallel_cubes",
        "def parallel_cubes(numbers):\n"
        "    with multiprocessing.Pool(2) as pool:\n"
        "        return pool.map(lambda x: x**3, numbers)\n",
        "test_parallel_cubes", "has no name that another process can import"),
    WrongAnswer(
        "serial answer", "parallel_cubes",
        "import ex00_workers\n\n"
        "def parallel_cubes(numbers):\n"
        "    return [ex00_workers.cube(x) for x in numbers]\n",
        "test_parallel_cubes", "A serial answer gives the right values"),
    WrongAnswer(
        "pool left open", "parallel_cubes",
        "import ex00_workers\n\n"
        "pool = multiprocessing.Pool(2)\n\n"
        "def parallel_cubes(numbers):\n"
        "    return pool.map(ex00_workers.cube, numbers)\n",
        "test_parallel_cubes", "a pool or process was left open"),
    WrongAnswer(
        "results out of order", "parallel_cubes",
        "import ex00_workers\n\n"
        "def parallel_cubes(numbers):\n"
        "    with multiprocessing.Pool(2) as pool:\n"
        "        return sorted(pool.imap_unordered(ex00_workers.cube, numbers), key=str)\n",
        "test_parallel_cubes", "right values in the wrong order"),
    WrongAnswer(
        "notebook-defined worker (passes under fork only)", "lengths_with_spawn",
        "def word_length(word):\n"
        "    return len(word)\n\n"
        "def lengths_with_spawn(words):\n"
        "    ctx = multiprocessing.get_context('spawn')\n"
        "    with ctx.Pool(2) as pool:\n"
        "        return pool.map(word_length, words)\n",
        "test_lengths_with_spawn", "is defined in this notebook"),
    WrongAnswer(
        "choice that ignores the measurement", "timings",
        "import time\n"
        "from helpers.workloads import count_primes\n"
        "timings = {n: float(n) for n in range(1, usable_cores() + 1)}\n"
        "BEST_WORKERS = usable_cores() + 1\n",
        "test_best_workers", "but your fastest measurement was"),
]

# New in issue 10: right values without parallelism, a start method dodged, and figures that
# do not measure what Task 3 asks (running totals, work not waited for, pools left open).
WRONG_ANSWERS += [
    WrongAnswer(
        "a new pool for every number", "parallel_cubes",
        "import ex00_workers\n"
        "importlib.reload(ex00_workers)\n\n"
        "def parallel_cubes(numbers):\n"
        "    cubes = []\n"
        "    for x in numbers:\n"
        "        with multiprocessing.Pool(2) as pool:\n"
        "            cubes.append(pool.apply(ex00_workers.cube, (x,)))\n"
        "    return cubes\n",
        "test_parallel_cubes", "a new pool or executor for every item"),
    WrongAnswer(
        "cubes computed in the notebook inside the with-Pool block", "parallel_cubes",
        "import ex00_workers\n"
        "importlib.reload(ex00_workers)\n\n"
        "def parallel_cubes(numbers):\n"
        "    with multiprocessing.Pool(2) as pool:\n"
        "        return [ex00_workers.cube(x) for x in numbers]\n",
        "test_parallel_cubes", "ran in the notebook's own process"),
    WrongAnswer(
        "fork context instead of spawn, with a notebook worker", "lengths_with_spawn",
        "def word_length(word):\n"
        "    return len(word)\n\n"
        "def lengths_with_spawn(words):\n"
        "    ctx = multiprocessing.get_context('fork')  # works with a function from the notebook\n"
        "    with ctx.Pool(2) as pool:\n"
        "        return pool.map(word_length, words)\n",
        "test_lengths_with_spawn", "not spawn"),
    WrongAnswer(
        "clock started once before the loop (running totals)", "timings",
        "import time\n\n"
        "from helpers.workloads import count_primes\n\n"
        "timings = {}\n"
        "start = time.perf_counter()\n"
        "for n in range(1, usable_cores() + 1):\n"
        "    with multiprocessing.Pool(n) as pool:\n"
        "        pool.map(count_primes, [60_000] * 4)\n"
        "    timings[n] = time.perf_counter() - start\n"
        "BEST_WORKERS = min(timings, key=timings.get)\n"
        "print(timings, BEST_WORKERS)\n",
        "test_best_workers", "Start the clock again for each figure"),
    WrongAnswer(
        "map_async timed without waiting for the work", "timings",
        "import time\n\n"
        "from helpers.workloads import count_primes\n\n"
        "timings = {}\n"
        "for n in range(1, usable_cores() + 1):\n"
        "    start = time.perf_counter()\n"
        "    with multiprocessing.Pool(n) as pool:\n"
        "        pool.map_async(count_primes, [60_000] * 4)\n"
        "    timings[n] = time.perf_counter() - start\n"
        "BEST_WORKERS = min(timings, key=timings.get)\n"
        "print(timings, BEST_WORKERS)\n",
        "test_best_workers", "cannot have finished the work"),
    WrongAnswer(
        "timing pools never closed", "timings",
        "import time\n\n"
        "from helpers.workloads import count_primes\n\n"
        "timings = {}\n"
        "for n in range(1, usable_cores() + 1):\n"
        "    start = time.perf_counter()\n"
        "    workers = multiprocessing.Pool(n)\n"
        "    workers.map(count_primes, [60_000] * 4)\n"
        "    timings[n] = time.perf_counter() - start\n"
        "BEST_WORKERS = min(timings, key=timings.get)\n"
        "print(timings, BEST_WORKERS)\n",
        "test_best_workers", "a pool or process was left open"),
]
