"""Wrong answers to exercises/10_concurrent_futures.ipynb."""

from tests.wrong_answers import WrongAnswer

WRONG_ANSWERS = [
    WrongAnswer(
        "table loaded in the parent, not in the workers (passes under fork only)", "lookup_all",
        "import ex10_workers\n\n"
        "def lookup_all(table, keys):\n"
        "    ex10_workers.load_table(table)  # the workers will have it... under fork\n"
        "    with ProcessPoolExecutor(max_workers=2) as executor:\n"
        "        futures = [executor.submit(ex10_workers.lookup, key) for key in keys]\n"
        "        return [future.result() for future in futures]\n",
        "test_lookup_all", "the workers did not find the table's keys"),
    WrongAnswer(
        "initializer defined in the notebook", "lookup_all",
        "import ex10_workers\n\n"
        "def load(table):\n"
        "    ex10_workers.TABLE.update(table)\n\n"
        "def lookup_all(table, keys):\n"
        "    with ProcessPoolExecutor(max_workers=2, initializer=load, initargs=(table,)) as executor:\n"
        "        futures = [executor.submit(ex10_workers.lookup, key) for key in keys]\n"
        "        return [future.result() for future in futures]\n",
        "test_lookup_all", "is defined in this notebook"),
    WrongAnswer(
        "executor left open", "lookup_all",
        "import ex10_workers\n\n"
        "executors = []\n\n"
        "def lookup_all(table, keys):\n"
        "    executor = ProcessPoolExecutor(max_workers=2, initializer=ex10_workers.load_table,\n"
        "                                   initargs=(table,))\n"
        "    executors.append(executor)  # kept for later, never shut down\n"
        "    futures = [executor.submit(ex10_workers.lookup, key) for key in keys]\n"
        "    return [future.result() for future in futures]\n",
        "test_lookup_all", "a pool or process was left open"),
    WrongAnswer(
        "the colleague's program unchanged: errors lost in the callback", "parse_all",
        "def parse_all(texts):\n"
        "    prices = []\n"
        "    with ProcessPoolExecutor(max_workers=2) as executor:\n"
        "        for text in texts:\n"
        "            future = executor.submit(parse_price, text)\n"
        "            future.add_done_callback(lambda f: prices.append(f.result()))\n"
        "    return prices\n",
        "test_parse_all", "the worker's exception was lost"),
    WrongAnswer(
        "order fixed, but failed calls skipped", "parse_all",
        "def parse_all(texts):\n"
        "    with ProcessPoolExecutor(max_workers=2) as executor:\n"
        "        futures = [executor.submit(parse_price, text) for text in texts]\n"
        "        return [f.result() for f in futures if f.exception() is None]\n",
        "test_parse_all", "the worker's exception was lost"),
    WrongAnswer(
        "serial answer", "parse_all",
        "def parse_all(texts):\n"
        "    return [parse_price(text) for text in texts]\n",
        "test_parse_all", "A serial answer gives the right values"),
    WrongAnswer(
        "choice from the textbook, not from the figures", "timings",
        "timings = {'io': {'threads': 0.3, 'processes': 0.8},\n"
        "           'cpu': {'threads': 0.4, 'processes': 0.5}}\n"
        "CHOICE = {'io': 'threads', 'cpu': 'processes'}  # what the notebook says\n",
        "test_choice", "but your own figures say"),
    # New in issue 10: results awaited right after each submit, an executor per key, the start
    # method dodged with fork, input checked in the parent, running totals, map timed without
    # waiting, and the wrong executor timed.
    WrongAnswer(
        "each result awaited right after its submit", "lookup_all",
        "import ex10_workers\n\n"
        "def lookup_all(table, keys):\n"
        "    with ProcessPoolExecutor(max_workers=2, initializer=ex10_workers.load_table,\n"
        "                             initargs=(table,)) as executor:\n"
        "        return [executor.submit(ex10_workers.lookup, key).result() for key in keys]\n",
        "test_lookup_all", "never 2 at the same time"),
    WrongAnswer(
        "a new executor for every key", "lookup_all",
        "import ex10_workers\n\n"
        "def lookup_all(table, keys):\n"
        "    values = []\n"
        "    for key in keys:\n"
        "        with ProcessPoolExecutor(max_workers=2, initializer=ex10_workers.load_table,\n"
        "                                 initargs=(table,)) as executor:\n"
        "            values.append(executor.submit(ex10_workers.lookup, key).result())\n"
        "    return values\n",
        "test_lookup_all", "never 2 at the same time"),
    WrongAnswer(
        "table loaded in the parent, workers pinned to fork", "lookup_all",
        "import ex10_workers\n\n"
        "def lookup_all(table, keys):\n"
        "    ex10_workers.load_table(table)  # fork workers inherit it, on every platform?\n"
        "    fork = multiprocessing.get_context('fork')\n"
        "    with ProcessPoolExecutor(max_workers=2, mp_context=fork) as executor:\n"
        "        futures = [executor.submit(ex10_workers.lookup, key) for key in keys]\n"
        "        return [future.result() for future in futures]\n",
        "test_lookup_all", "leave the start method alone"),
    WrongAnswer(
        "each price awaited right after its submit", "parse_all",
        "def parse_all(texts):\n"
        "    with ProcessPoolExecutor(max_workers=2) as executor:\n"
        "        return [executor.submit(parse_price, text).result() for text in texts]\n",
        "test_parse_all", "never 2 at the same time"),
    WrongAnswer(
        "texts checked in the parent first, the worker's error path never runs", "parse_all",
        "def parse_all(texts):\n"
        "    for text in texts:\n"
        "        parse_price(text)  # fail fast, before sending anything to the workers\n"
        "    with ProcessPoolExecutor(max_workers=2) as executor:\n"
        "        return list(executor.map(parse_price, texts))\n",
        "test_parse_all", "was raised in this process"),
    WrongAnswer(
        "clock started once before each loop: running totals", "timings",
        "import time\n\n"
        "timings = {'io': {}, 'cpu': {}}\n"
        "CHOICE = {}\n"
        "KINDS = {'threads': ThreadPoolExecutor, 'processes': ProcessPoolExecutor}\n"
        "with LocalServer(latency=0.05) as server:\n"
        "    urls = [server.url(f'/page/{n}') for n in range(8)]\n"
        "    start = time.perf_counter()\n"
        "    for kind, make in KINDS.items():\n"
        "        with make(max_workers=2) as executor:\n"
        "            list(executor.map(fetch, urls))\n"
        "        timings['io'][kind] = time.perf_counter() - start\n"
        "start = time.perf_counter()\n"
        "for kind, make in KINDS.items():\n"
        "    with make(max_workers=2) as executor:\n"
        "        list(executor.map(count_primes, [60_000] * 4))\n"
        "    timings['cpu'][kind] = time.perf_counter() - start\n"
        "CHOICE = {job: min(figures, key=figures.get) for job, figures in timings.items()}\n",
        "test_choice", "Start the clock again for each figure"),
    WrongAnswer(
        "map timed without waiting for its results", "timings",
        "import time\n\n"
        "timings = {}\n"
        "CHOICE = {}\n"
        "KINDS = {'threads': ThreadPoolExecutor, 'processes': ProcessPoolExecutor}\n\n"
        "def timed(make_executor, fn, items):\n"
        "    started = time.perf_counter()\n"
        "    with make_executor(max_workers=2) as executor:\n"
        "        results = executor.map(fn, items)  # the map is done here, isn't it?\n"
        "        seconds = time.perf_counter() - started\n"
        "    return seconds\n\n"
        "with LocalServer(latency=0.05) as server:\n"
        "    urls = [server.url(f'/page/{n}') for n in range(8)]\n"
        "    timings['io'] = {kind: timed(make, fetch, urls) for kind, make in KINDS.items()}\n"
        "timings['cpu'] = {kind: timed(make, count_primes, [60_000] * 4) for kind, make in KINDS.items()}\n"
        "CHOICE = {job: min(figures, key=figures.get) for job, figures in timings.items()}\n",
        "test_choice", "the check timed the same thing"),
    WrongAnswer(
        "the io job's 'processes' figure timed a thread pool (copied block)", "timings",
        "import time\n\n"
        "timings = {'io': {}, 'cpu': {}}\n"
        "CHOICE = {}\n"
        "with LocalServer(latency=0.05) as server:\n"
        "    urls = [server.url(f'/page/{n}') for n in range(8)]\n"
        "    start = time.perf_counter()\n"
        "    with ThreadPoolExecutor(max_workers=2) as executor:\n"
        "        list(executor.map(fetch, urls))\n"
        "    timings['io']['threads'] = time.perf_counter() - start\n"
        "    start = time.perf_counter()\n"
        "    with ThreadPoolExecutor(max_workers=2) as executor:\n"
        "        list(executor.map(fetch, urls))\n"
        "    timings['io']['processes'] = time.perf_counter() - start\n"
        "for kind, make in {'threads': ThreadPoolExecutor, 'processes': ProcessPoolExecutor}.items():\n"
        "    start = time.perf_counter()\n"
        "    with make(max_workers=2) as executor:\n"
        "        list(executor.map(count_primes, [60_000] * 4))\n"
        "    timings['cpu'][kind] = time.perf_counter() - start\n"
        "CHOICE = {job: min(figures, key=figures.get) for job, figures in timings.items()}\n",
        "test_choice", "no download ran in a worker process"),
    # New in issue 13 (task 4, asyncio): the loop blocked by a waiting call, threads instead
    # of processes, one count at a time, and the counts in the order they finished.
    WrongAnswer(
        "executor.map called inside the coroutine: the event loop is blocked", "count_all",
        "import asyncio\n\n"
        "async def count_all(limits):\n"
        "    with ProcessPoolExecutor(max_workers=2) as executor:\n"
        "        return list(executor.map(count_primes, limits))  # waits without await\n",
        "test_count_all", "the event loop stood still"),
    WrongAnswer(
        "asyncio.to_thread: the counts share the GIL in threads", "count_all",
        "import asyncio\n\n"
        "async def count_all(limits):\n"
        "    return list(await asyncio.gather(*(asyncio.to_thread(count_primes, n) for n in limits)))\n",
        "test_count_all", "every count ran in threads of this process"),
    WrongAnswer(
        "each run_in_executor awaited before the next starts", "count_all",
        "import asyncio\n\n"
        "async def count_all(limits):\n"
        "    loop = asyncio.get_running_loop()\n"
        "    with ProcessPoolExecutor(max_workers=2) as executor:\n"
        "        return [await loop.run_in_executor(executor, count_primes, n) for n in limits]\n",
        "test_count_all", "never two at the same time"),
    WrongAnswer(
        "results in the order they finished (asyncio.as_completed)", "count_all",
        "import asyncio\n\n"
        "async def count_all(limits):\n"
        "    loop = asyncio.get_running_loop()\n"
        "    with ProcessPoolExecutor(max_workers=2) as executor:\n"
        "        futures = [loop.run_in_executor(executor, count_primes, n) for n in limits]\n"
        "        return [await future for future in asyncio.as_completed(futures)]\n",
        "test_count_all", "right values in the wrong order"),
]
