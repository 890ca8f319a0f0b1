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
]
