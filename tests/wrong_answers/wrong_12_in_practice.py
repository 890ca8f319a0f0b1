"""Wrong answers to exercises/12_in_practice.ipynb."""

from tests.wrong_answers import WrongAnswer

WRONG_ANSWERS = [
    # Task 1: bad files reported, the run goes on.
    WrongAnswer(
        "the first bad file aborts the run (executor.map, no try)", "totals_of",
        "import ex12_files\n\n"
        "def totals_of(paths):\n"
        "    with ProcessPoolExecutor(max_workers=2) as executor:\n"
        "        return dict(zip(paths, executor.map(ex12_files.read_total, paths))), {}\n",
        "test_totals_of", "JSONDecodeError"),
    WrongAnswer(
        "bad files skipped in silence", "totals_of",
        "import ex12_files\n\n"
        "def totals_of(paths):\n"
        "    totals = {}\n"
        "    with ProcessPoolExecutor(max_workers=2) as executor:\n"
        "        futures = {executor.submit(ex12_files.read_total, p): p for p in paths}\n"
        "        for future in as_completed(futures):\n"
        "            if future.exception() is None:\n"
        "                totals[futures[future]] = future.result()\n"
        "    return totals, {}\n",
        "test_totals_of", "skipped in silence"),
    WrongAnswer(
        "one try around the whole loop: the files after a bad one are lost", "totals_of",
        "import ex12_files\n\n"
        "def totals_of(paths):\n"
        "    totals, errors = {}, {}\n"
        "    with ProcessPoolExecutor(max_workers=2) as executor:\n"
        "        futures = [executor.submit(ex12_files.read_total, p) for p in paths]\n"
        "        try:\n"
        "            for path, future in zip(paths, futures):\n"
        "                totals[path] = future.result()\n"
        "        except Exception as error:\n"
        "            errors[path] = f'{type(error).__name__}: {error}'\n"
        "    return totals, errors\n",
        "test_totals_of", "the run stopped at the first bad file"),
    WrongAnswer(
        "the report without the exception's type", "totals_of",
        "import ex12_files\n\n"
        "def totals_of(paths):\n"
        "    totals, errors = {}, {}\n"
        "    with ProcessPoolExecutor(max_workers=2) as executor:\n"
        "        futures = {executor.submit(ex12_files.read_total, p): p for p in paths}\n"
        "        for future in as_completed(futures):\n"
        "            try:\n"
        "                totals[futures[future]] = future.result()\n"
        "            except Exception as error:\n"
        "                errors[futures[future]] = str(error)\n"
        "    return totals, errors\n",
        "test_totals_of", "the name of the exception's type"),
    WrongAnswer(
        "files read in the notebook's process", "totals_of",
        "import ex12_files\n\n"
        "def totals_of(paths):\n"
        "    totals, errors = {}, {}\n"
        "    with ProcessPoolExecutor(max_workers=2) as executor:  # created, never used\n"
        "        for path in paths:\n"
        "            try:\n"
        "                totals[path] = ex12_files.read_total(path)\n"
        "            except Exception as error:\n"
        "                errors[path] = f'{type(error).__name__}: {error}'\n"
        "    return totals, errors\n",
        "test_totals_of", "A serial answer gives the right values"),
    # Task 2: a stuck task must not stall the run.
    WrongAnswer(
        "result(timeout) in a ProcessPoolExecutor: leaving the block waits for the stuck task",
        "naps_by_deadline",
        "from concurrent.futures import TimeoutError as FutureTimeout\n\n"
        "def naps_by_deadline(seconds, deadline):\n"
        "    done, late = {}, []\n"
        "    end = time.monotonic() + deadline\n"
        "    with ProcessPoolExecutor(max_workers=2) as executor:\n"
        "        futures = [executor.submit(nap, s) for s in seconds]\n"
        "        for index, future in enumerate(futures):\n"
        "            try:\n"
        "                done[index] = future.result(timeout=max(0, end - time.monotonic()))\n"
        "            except FutureTimeout:\n"
        "                late.append(index)\n"
        "    return done, late\n",
        "test_naps_by_deadline", "waited for a stuck task"),
    WrongAnswer(
        "shutdown(wait=False): returns in time, the stuck worker keeps running",
        "naps_by_deadline",
        "from concurrent.futures import TimeoutError as FutureTimeout\n\n"
        "def naps_by_deadline(seconds, deadline):\n"
        "    done, late = {}, []\n"
        "    end = time.monotonic() + deadline\n"
        "    executor = ProcessPoolExecutor(max_workers=2)\n"
        "    futures = [executor.submit(nap, s) for s in seconds]\n"
        "    for index, future in enumerate(futures):\n"
        "        try:\n"
        "            done[index] = future.result(timeout=max(0, end - time.monotonic()))\n"
        "        except FutureTimeout:\n"
        "            late.append(index)\n"
        "    executor.shutdown(wait=False, cancel_futures=True)\n"
        "    return done, late\n",
        "test_naps_by_deadline", "a pool or process was left open"),
    WrongAnswer(
        "the whole deadline for every task: timeouts add up", "naps_by_deadline",
        "def naps_by_deadline(seconds, deadline):\n"
        "    done, late = {}, []\n"
        "    with Pool(processes=2) as pool:\n"
        "        results = [pool.apply_async(nap, (s,)) for s in seconds]\n"
        "        for index, result in enumerate(results):\n"
        "            try:\n"
        "                done[index] = result.get(timeout=deadline)\n"
        "            except multiprocessing.TimeoutError:\n"
        "                late.append(index)\n"
        "    return done, late\n",
        "test_naps_by_deadline", "was still running after"),
    WrongAnswer(
        "sleeps until the deadline, then collects", "naps_by_deadline",
        "def naps_by_deadline(seconds, deadline):\n"
        "    with Pool(processes=2) as pool:\n"
        "        results = [pool.apply_async(nap, (s,)) for s in seconds]\n"
        "        time.sleep(deadline)\n"
        "        done = {i: r.get(0) for i, r in enumerate(results) if r.ready()}\n"
        "    return done, [i for i in range(len(seconds)) if i not in done]\n",
        "test_naps_by_deadline", "it waited for the deadline"),
    # Task 3: one BLAS thread per worker.
    WrongAnswer(
        "the limit set in the notebook's process", "traces",
        "import ex12_blas\n"
        "from threadpoolctl import threadpool_limits\n\n"
        "def traces(seeds):\n"
        "    threadpool_limits(limits=1, user_api='blas')  # here, not in the workers\n"
        "    with ProcessPoolExecutor(max_workers=2) as executor:\n"
        "        return list(executor.map(ex12_blas.trace_of_square, seeds))\n",
        "test_traces", "BLAS threads in their worker"),
    WrongAnswer(
        "the initializer's limit in a with block: undone at once", "ex12_blas",
        "%%writefile ex12_blas.py\n"
        "import numpy as np\n"
        "from threadpoolctl import threadpool_info, threadpool_limits\n\n\n"
        "def blas_threads():\n"
        "    return sum(pool['num_threads'] for pool in threadpool_info() if pool['user_api'] == 'blas')\n\n\n"
        "def trace_of_square(seed):\n"
        "    a = np.random.default_rng(seed).random((300, 300))\n"
        "    return float(np.trace(a @ a)), blas_threads()\n\n\n"
        "def one_blas_thread():\n"
        "    with threadpool_limits(limits=1, user_api='blas'):\n"
        "        pass\n",
        "test_traces", "BLAS threads in their worker"),
    WrongAnswer(
        "traces computed in the notebook's process", "traces",
        "import ex12_blas\n\n"
        "def traces(seeds):\n"
        "    ex12_blas.one_blas_thread()\n"
        "    return [ex12_blas.trace_of_square(seed) for seed in seeds]\n",
        "test_traces", "ran in the notebook's own process"),
]
