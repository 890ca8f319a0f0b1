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
