"""Wrong answers to exercises/03_queue.ipynb."""

from tests.wrong_answers import WrongAnswer

WRONG_ANSWERS = [
    WrongAnswer(
        "one sentinel for all consumers", "squares_with_consumers",
        "import ex03_workers\n\n"
        "def squares_with_consumers(numbers, consumers=2):\n"
        "    tasks, results = multiprocessing.Queue(), multiprocessing.Queue()\n"
        "    workers = [multiprocessing.Process(target=ex03_workers.square_until_sentinel,\n"
        "                                       args=(tasks, results)) for _ in range(consumers)]\n"
        "    for worker in workers:\n"
        "        worker.start()\n"
        "    for x in numbers:\n"
        "        tasks.put(x)\n"
        "    tasks.put(None)\n"
        "    pairs = [results.get() for _ in numbers]\n"
        "    for worker in workers:\n"
        "        worker.join()\n"
        "    return sorted(pairs)\n",
        "test_squares_with_consumers", "one None per consumer"),
    WrongAnswer(
        "consumer defined in the notebook (passes under fork only)", "squares_with_consumers",
        "def square_until_sentinel(tasks, results):\n"
        "    while (x := tasks.get()) is not None:\n"
        "        results.put((x, x * x))\n\n"
        "def squares_with_consumers(numbers, consumers=2):\n"
        "    tasks, results = multiprocessing.Queue(), multiprocessing.Queue()\n"
        "    workers = [multiprocessing.Process(target=square_until_sentinel, args=(tasks, results))\n"
        "               for _ in range(consumers)]\n"
        "    for worker in workers:\n"
        "        worker.start()\n"
        "    for x in numbers:\n"
        "        tasks.put(x)\n"
        "    for _ in workers:\n"
        "        tasks.put(None)\n"
        "    pairs = [results.get() for _ in numbers]\n"
        "    for worker in workers:\n"
        "        worker.join()\n"
        "    return sorted(pairs)\n",
        "test_squares_with_consumers", "is defined in this notebook"),
    WrongAnswer(
        "squares computed in the notebook, no consumer process", "squares_with_consumers",
        "def squares_with_consumers(numbers, consumers=2):\n"
        "    return sorted((x, x * x) for x in numbers)\n",
        "test_squares_with_consumers", "A serial answer gives the right values"),
    WrongAnswer(
        "the broken program handed in unchanged (join before get)", "collect_payloads",
        "from helpers.queues import put_payload\n\n"
        "def collect_payloads(sizes):\n"
        "    q = multiprocessing.Queue()\n"
        "    producers = [multiprocessing.Process(target=put_payload, args=(q, size)) for size in sizes]\n"
        "    for p in producers:\n"
        "        p.start()\n"
        "    for p in producers:\n"
        "        p.join()\n"
        "    return sorted(len(q.get()) for _ in producers)\n",
        "test_collect_payloads", "joined before its queue was drained"),
    WrongAnswer(
        "join removed instead of moved after the gets", "collect_payloads",
        "from helpers.queues import put_payload\n\n"
        "def collect_payloads(sizes):\n"
        "    q = multiprocessing.Queue()\n"
        "    producers = [multiprocessing.Process(target=put_payload, args=(q, size)) for size in sizes]\n"
        "    for p in producers:\n"
        "        p.start()\n"
        "    return sorted(len(q.get()) for _ in producers)\n",
        "test_collect_payloads", "were never joined"),
    WrongAnswer(
        "Queue passed to a Pool", "collect_payloads",
        "from helpers.queues import put_payload\n\n"
        "def collect_payloads(sizes):\n"
        "    q = multiprocessing.Queue()\n"
        "    with multiprocessing.Pool(2) as pool:\n"
        "        pool.starmap(put_payload, [(q, size) for size in sizes])\n"
        "    return sorted(len(q.get()) for _ in sizes)\n",
        "test_collect_payloads", "passed as a task argument to a pool"),
    WrongAnswer(
        "last, shorter batch dropped", "ex03_batches",
        "%%writefile ex03_batches.py\n"
        "def send_in_batches(q, count, batch):\n"
        "    for start in range(0, count - batch + 1, batch):\n"
        "        q.put(list(range(start, start + batch)))\n"
        "    q.put(None)\n",
        "test_best_batch", "transfer(25, 7) returned"),
    WrongAnswer(
        "choice that ignores the measurement", "timings",
        "COUNT = 10_000\n"
        "BATCHES = [1, 10, 100, 1000]\n"
        "timings = {1: 0.4, 10: 0.1, 100: 0.2, 1000: 0.3}\n"
        "BEST_BATCH = 1000\n",
        "test_best_batch", "but your fastest measurement was"),
]

# New in issue 10: answers that passed the one-example checks (no parallelism, joining or
# draining by hope, the batch size ignored, running totals instead of separate timings).
WRONG_ANSWERS += [
    WrongAnswer(
        "one consumer per number, each joined before the next", "squares_with_consumers",
        "import ex03_workers\n\n"
        "def squares_with_consumers(numbers, consumers=2):\n"
        "    tasks, results = multiprocessing.Queue(), multiprocessing.Queue()\n"
        "    pairs = []\n"
        "    for x in numbers:\n"
        "        worker = multiprocessing.Process(target=ex03_workers.square_until_sentinel,\n"
        "                                         args=(tasks, results))\n"
        "        worker.start()\n"
        "        tasks.put(x)\n"
        "        tasks.put(None)\n"
        "        pairs.append(results.get())\n"
        "        worker.join()\n"
        "    return sorted(pairs)\n",
        "test_squares_with_consumers", "one call after another"),
    WrongAnswer(
        "consumers joined first, results drained with empty()", "squares_with_consumers",
        "import ex03_workers\n\n"
        "def squares_with_consumers(numbers, consumers=2):\n"
        "    tasks, results = multiprocessing.Queue(), multiprocessing.Queue()\n"
        "    workers = [multiprocessing.Process(target=ex03_workers.square_until_sentinel,\n"
        "                                       args=(tasks, results)) for _ in range(consumers)]\n"
        "    for worker in workers:\n"
        "        worker.start()\n"
        "    for x in numbers:\n"
        "        tasks.put(x)\n"
        "    for _ in workers:\n"
        "        tasks.put(None)\n"
        "    for worker in workers:\n"
        "        worker.join()  # everything is done now\n"
        "    pairs = []\n"
        "    while not results.empty():\n"
        "        pairs.append(results.get())\n"
        "    return sorted(pairs)\n",
        "test_squares_with_consumers", "get one result per number before joining"),
    WrongAnswer(
        "a sleep, then results drained with empty()", "squares_with_consumers",
        "import ex03_workers\n\n"
        "def squares_with_consumers(numbers, consumers=2):\n"
        "    tasks, results = multiprocessing.Queue(), multiprocessing.Queue()\n"
        "    workers = [multiprocessing.Process(target=ex03_workers.square_until_sentinel,\n"
        "                                       args=(tasks, results)) for _ in range(consumers)]\n"
        "    for worker in workers:\n"
        "        worker.start()\n"
        "    for x in numbers:\n"
        "        tasks.put(x)\n"
        "    for _ in workers:\n"
        "        tasks.put(None)\n"
        "    time.sleep(0.5)  # give the consumers time to finish\n"
        "    pairs = []\n"
        "    while not results.empty():\n"
        "        pairs.append(results.get())\n"
        "    for worker in workers:\n"
        "        worker.join()\n"
        "    return sorted(pairs)\n",
        "test_squares_with_consumers", "empty() only says"),
    WrongAnswer(
        "producers run one after another", "collect_payloads",
        "from helpers.queues import put_payload\n\n"
        "def collect_payloads(sizes):\n"
        "    lengths = []\n"
        "    for size in sizes:\n"
        "        q = multiprocessing.Queue()\n"
        "        producer = multiprocessing.Process(target=put_payload, args=(q, size))\n"
        "        producer.start()\n"
        "        lengths.append(len(q.get()))\n"
        "        producer.join()\n"
        "    return sorted(lengths)\n",
        "test_collect_payloads", "one call after another"),
    WrongAnswer(
        "a sleep, then the queue drained with empty()", "collect_payloads",
        "from helpers.queues import put_payload\n\n"
        "def collect_payloads(sizes):\n"
        "    q = multiprocessing.Queue()\n"
        "    producers = [multiprocessing.Process(target=put_payload, args=(q, size)) for size in sizes]\n"
        "    for p in producers:\n"
        "        p.start()\n"
        "    time.sleep(0.5)  # let the producers put their data\n"
        "    lengths = []\n"
        "    while not q.empty():\n"
        "        lengths.append(len(q.get()))\n"
        "    for p in producers:\n"
        "        p.join()\n"
        "    return sorted(lengths)\n",
        "test_collect_payloads", "empty() only says"),
    WrongAnswer(
        "batch size ignored: one number per message", "ex03_batches",
        "%%writefile ex03_batches.py\n"
        "def send_in_batches(q, count, batch):\n"
        "    for x in range(count):\n"
        "        q.put([x])\n"
        "    q.put(None)\n",
        "test_best_batch", "but batches of"),
    WrongAnswer(
        "clock started once before the loop (running totals)", "timings",
        "COUNT = 10_000\n"
        "BATCHES = [1, 10, 100, 1000]\n\n"
        "timings = {}\n"
        "started = time.perf_counter()\n"
        "for batch in BATCHES:\n"
        "    transfer(COUNT, batch)\n"
        "    timings[batch] = time.perf_counter() - started\n"
        "BEST_BATCH = min(timings, key=timings.get)\n",
        "test_best_batch", "Start the clock again for each figure"),
]
