"""Wrong answers to exercises/08_pool.ipynb."""

from tests.wrong_answers import WrongAnswer

WRONG_ANSWERS = [
    WrongAnswer(
        "prices set in the parent instead of an initializer (passes under fork only)",
        "order_totals",
        "import ex08_workers\n\n"
        "def order_totals(orders, prices):\n"
        "    ex08_workers.PRICES = prices\n"
        "    with multiprocessing.Pool(2) as pool:\n"
        "        return pool.starmap(ex08_workers.order_total, orders)\n",
        "test_order_totals", "the prices did not reach the workers"),
    WrongAnswer(
        "notebook-defined worker (passes under fork only)", "order_totals",
        "import ex08_workers\n\n"
        "def order_total(item, quantity):\n"
        "    return ex08_workers.PRICES[item] * quantity\n\n"
        "def order_totals(orders, prices):\n"
        "    with multiprocessing.Pool(2, initializer=ex08_workers.load_prices, initargs=(prices,)) as pool:\n"
        "        return pool.starmap(order_total, orders)\n",
        "test_order_totals", "is defined in this notebook"),
    WrongAnswer(
        "serial answer", "order_totals",
        "import ex08_workers\n\n"
        "def order_totals(orders, prices):\n"
        "    ex08_workers.load_prices(prices)\n"
        "    return [ex08_workers.order_total(item, quantity) for item, quantity in orders]\n",
        "test_order_totals", "A serial answer gives the right values"),
    WrongAnswer(
        "the broken program kept: AsyncResults thrown away", "roots",
        "from helpers.pools import checked_root\n\n"
        "def roots(numbers):\n"
        "    results = []\n"
        "    pool = multiprocessing.Pool(2)\n"
        "    for x in numbers:\n"
        "        pool.apply_async(checked_root, (x,), callback=results.append)\n"
        "    pool.close()\n"
        "    pool.join()\n"
        "    return results\n",
        "test_roots", "the worker's exception was lost"),
    WrongAnswer(
        "results fetched after the with block terminated the pool", "roots",
        "from helpers.pools import checked_root\n\n"
        "def roots(numbers):\n"
        "    with multiprocessing.Pool(2) as pool:\n"
        "        receipts = [pool.apply_async(checked_root, (x,)) for x in numbers]\n"
        "    return [receipt.get() for receipt in receipts]\n",
        "test_roots", "results asked for after the pool was ended"),
    WrongAnswer(
        "fastest chunksize taken instead of the rule", "timings",
        "CHUNKSIZES = (1, 10, 100, 1000)\n"
        "timings = {1: 0.5, 10: 0.011, 100: 0.0100, 1000: 0.0101}\n"
        "BEST_CHUNKSIZE = min(timings, key=timings.get)\n",
        "test_best_chunksize", "the smallest chunksize within"),
]

# New in issue 10: answers that got full marks from the one-example checks (no parallelism,
# the start method dodged, errors stopped in the parent, figures that are not measurements).
_TIMINGS_HEAD = (
    "import time\n\n"
    "from helpers.workloads import square\n\n"
    "ITEMS = 5_000\n"
    "CHUNKSIZES = (1, 10, 100, 1000)\n"
    "timings = {}\n"
    "BEST_CHUNKSIZE = None\n"
    "with multiprocessing.Pool(2) as pool:\n"
    "    pool.map(square, range(100))\n"
)
_TIMINGS_TAIL = (
    "fastest = min(timings.values())\n"
    "BEST_CHUNKSIZE = min(c for c in CHUNKSIZES if timings[c] <= 1.2 * fastest)\n"
)

WRONG_ANSWERS += [
    WrongAnswer(
        "a new pool for every order", "order_totals",
        "import ex08_workers\n\n"
        "importlib.reload(ex08_workers)\n\n\n"
        "def order_totals(orders, prices):\n"
        "    totals = []\n"
        "    for item, quantity in orders:\n"
        "        with multiprocessing.Pool(2, initializer=ex08_workers.load_prices,\n"
        "                                  initargs=(prices,)) as pool:\n"
        "            totals.append(pool.apply(ex08_workers.order_total, (item, quantity)))\n"
        "    return totals\n",
        "test_order_totals", "at the same time"),
    WrongAnswer(
        "a fork pool that inherits the prices set in the parent (the start method dodged)",
        "order_totals",
        "import ex08_workers\n\n"
        "importlib.reload(ex08_workers)\n\n\n"
        "def order_totals(orders, prices):\n"
        "    ex08_workers.PRICES = prices  # a fork child copies it\n"
        "    with multiprocessing.get_context('fork').Pool(2) as pool:\n"
        "        return pool.starmap(ex08_workers.order_total, orders)\n",
        "test_order_totals", "start method"),
    WrongAnswer(
        "each result awaited right after its apply_async", "roots",
        "from helpers.pools import checked_root\n\n\n"
        "def roots(numbers):\n"
        "    with multiprocessing.Pool(2) as pool:\n"
        "        return [pool.apply_async(checked_root, (x,)).get() for x in numbers]\n",
        "test_roots", "at the same time"),
    WrongAnswer(
        "negative numbers rejected in the parent: the worker's error path never runs", "roots",
        "from helpers.pools import checked_root\n\n\n"
        "def roots(numbers):\n"
        "    for x in numbers:\n"
        "        if x < 0:\n"
        "            raise ValueError(f'negative input: {x}')\n"
        "    with multiprocessing.Pool(2) as pool:\n"
        "        return pool.map(checked_root, numbers)\n",
        "test_roots", "not the worker's"),
    WrongAnswer(
        "callback kept without error_callback: a ValueError made up in the parent", "roots",
        "from helpers.pools import checked_root\n\n\n"
        "def roots(numbers):\n"
        "    results = [None] * len(numbers)\n"
        "    with multiprocessing.Pool(2) as pool:\n"
        "        receipts = [pool.apply_async(checked_root, (x,),\n"
        "                                     callback=lambda r, i=i: results.__setitem__(i, r))\n"
        "                    for i, x in enumerate(numbers)]\n"
        "        for receipt in receipts:\n"
        "            receipt.wait()\n"
        "    if None in results:\n"
        "        raise ValueError('a number was negative')\n"
        "    return results\n",
        "test_roots", "not the worker's"),
    WrongAnswer(
        "map_async timed without waiting for the results", "timings",
        _TIMINGS_HEAD
        + "    for chunksize in CHUNKSIZES:\n"
        "        started = time.perf_counter()\n"
        "        pool.map_async(square, range(ITEMS), chunksize=chunksize)\n"
        "        timings[chunksize] = time.perf_counter() - started\n"
        "    pool.close()\n"
        "    pool.join()\n"
        + _TIMINGS_TAIL,
        "test_best_chunksize", "the check timed the same thing"),
    WrongAnswer(
        "the clock started once before the loop: running totals", "timings",
        _TIMINGS_HEAD
        + "    started = time.perf_counter()\n"
        "    for chunksize in CHUNKSIZES:\n"
        "        pool.map(square, range(ITEMS), chunksize=chunksize)\n"
        "        timings[chunksize] = time.perf_counter() - started\n"
        + _TIMINGS_TAIL,
        "test_best_chunksize", "not once before the loop"),
    WrongAnswer(
        "the chunksize never passed to map", "timings",
        _TIMINGS_HEAD
        + "    for chunksize in CHUNKSIZES:\n"
        "        started = time.perf_counter()\n"
        "        pool.map(square, range(ITEMS))\n"
        "        timings[chunksize] = time.perf_counter() - started\n"
        + _TIMINGS_TAIL,
        "test_best_chunksize", "but none got 1 or 10 or 100 or 1000"),
]
