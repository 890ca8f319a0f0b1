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
