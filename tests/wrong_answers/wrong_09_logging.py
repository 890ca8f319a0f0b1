"""Wrong answers to exercises/09_logging.ipynb."""

from tests.wrong_answers import WrongAnswer

WRONG_ANSWERS = [
    WrongAnswer(
        "worker logs without configuring logging (records vanish under spawn)", "ex09_workers",
        "%%writefile ex09_workers.py\n"
        "import logging\n\n"
        "def work(queue, steps):\n"
        "    logger = logging.getLogger('ex09')\n"
        "    logger.setLevel(logging.INFO)\n"
        "    for step in range(steps):\n"
        "        logger.info('step %d', step)\n"
        "    logger.debug('details')\n",
        "test_logged_steps", "No record of process"),
    WrongAnswer(
        "worker level left at DEBUG", "ex09_workers",
        "%%writefile ex09_workers.py\n"
        "import logging\n"
        "import logging.handlers\n\n"
        "def work(queue, steps):\n"
        "    root = logging.getLogger()\n"
        "    root.addHandler(logging.handlers.QueueHandler(queue))\n"
        "    root.setLevel(logging.DEBUG)\n"
        "    logger = logging.getLogger('ex09')\n"
        "    for step in range(steps):\n"
        "        logger.info('step %d', step)\n"
        "    logger.debug('details')\n",
        "test_logged_steps", "The DEBUG record 'details'"),
    WrongAnswer(
        "processes not named after names", "logged_steps",
        "import ex09_workers\n\n"
        "def logged_steps(names, steps):\n"
        "    queue = multiprocessing.Queue()\n"
        "    collector = logs.RecordCollector()\n"
        "    listener = QueueListener(queue, collector)\n"
        "    listener.start()\n"
        "    workers = [multiprocessing.Process(target=ex09_workers.work, args=(queue, steps))\n"
        "               for name in names]\n"
        "    for w in workers:\n"
        "        w.start()\n"
        "    for w in workers:\n"
        "        w.join()\n"
        "    listener.stop()\n"
        "    result = {}\n"
        "    for r in collector.records:\n"
        "        result.setdefault(r.processName, []).append(r.getMessage())\n"
        "    return result\n",
        "test_logged_steps", "name each Process after"),
    WrongAnswer(
        "processes never joined", "logged_steps",
        "import ex09_workers\n\n"
        "def logged_steps(names, steps):\n"
        "    queue = multiprocessing.Queue()\n"
        "    collector = logs.RecordCollector()\n"
        "    listener = QueueListener(queue, collector)\n"
        "    listener.start()\n"
        "    for name in names:\n"
        "        multiprocessing.Process(target=ex09_workers.work, args=(queue, steps), name=name).start()\n"
        "    listener.stop()\n"
        "    result = {}\n"
        "    for r in collector.records:\n"
        "        result.setdefault(r.processName, []).append(r.getMessage())\n"
        "    return result\n",
        "test_logged_steps", "were never joined"),
    WrongAnswer(
        "notebook-defined worker (passes under fork only)", "logged_steps",
        "import logging.handlers\n\n"
        "def work(queue, steps):\n"
        "    root = logging.getLogger()\n"
        "    root.addHandler(logging.handlers.QueueHandler(queue))\n"
        "    root.setLevel(logging.INFO)\n"
        "    for step in range(steps):\n"
        "        logging.getLogger('ex09').info('step %d', step)\n\n"
        "def logged_steps(names, steps):\n"
        "    queue = multiprocessing.Queue()\n"
        "    collector = logs.RecordCollector()\n"
        "    listener = QueueListener(queue, collector)\n"
        "    listener.start()\n"
        "    workers = [multiprocessing.Process(target=work, args=(queue, steps), name=name)\n"
        "               for name in names]\n"
        "    try:\n"
        "        for w in workers:\n"
        "            w.start()\n"
        "        for w in workers:\n"
        "            w.join()\n"
        "    finally:\n"
        "        listener.stop()\n"
        "    result = {}\n"
        "    for r in collector.records:\n"
        "        result.setdefault(r.processName, []).append(r.getMessage())\n"
        "    return result\n",
        "test_logged_steps", "is defined in this notebook"),
    WrongAnswer(
        "the colleague's program unchanged: handler only in the parent", "logged_cubes",
        "import ex09_fix\n\n"
        "def logged_cubes(numbers, ctx):\n"
        "    queue = ctx.Queue()\n"
        "    collector = logs.RecordCollector()\n"
        "    listener = QueueListener(queue, collector)\n"
        "    root = logging.getLogger()\n"
        "    to_queue = QueueHandler(queue)\n"
        "    root.addHandler(to_queue)\n"
        "    root.setLevel(logging.INFO)\n"
        "    listener.start()\n"
        "    pool = ctx.Pool(2)\n"
        "    cubes = pool.map(ex09_fix.cube_and_log, numbers)\n"
        "    pool.close()\n"
        "    pool.join()\n"
        "    listener.stop()\n"
        "    root.removeHandler(to_queue)\n"
        "    return cubes, sorted(collector.messages())\n",
        "test_logged_cubes", "collected no message"),
    WrongAnswer(
        "queue sent to the workers as a task argument", "logged_cubes",
        "import ex09_fix\n\n"
        "def logged_cubes(numbers, ctx):\n"
        "    queue = ctx.Queue()\n"
        "    collector = logs.RecordCollector()\n"
        "    listener = QueueListener(queue, collector)\n"
        "    listener.start()\n"
        "    with ctx.Pool(2) as pool:\n"
        "        try:\n"
        "            pool.map(ex09_fix.setup_logging, [queue, queue])  # configure each worker\n"
        "            cubes = pool.map(ex09_fix.cube_and_log, numbers)\n"
        "        finally:\n"
        "            listener.stop()\n"
        "    return cubes, sorted(collector.messages())\n",
        "test_logged_cubes", "was passed as a task argument to a pool"),
    WrongAnswer(
        "fixed, but the parent's root logger is left changed", "logged_cubes",
        "import ex09_fix\n\n"
        "def logged_cubes(numbers, ctx):\n"
        "    queue = ctx.Queue()\n"
        "    collector = logs.RecordCollector()\n"
        "    listener = QueueListener(queue, collector)\n"
        "    root = logging.getLogger()\n"
        "    to_queue = QueueHandler(queue)\n"
        "    root.addHandler(to_queue)\n"
        "    root.setLevel(logging.INFO)\n"
        "    listener.start()\n"
        "    pool = ctx.Pool(2, initializer=ex09_fix.setup_logging, initargs=(queue,))\n"
        "    cubes = pool.map(ex09_fix.cube_and_log, numbers)\n"
        "    pool.close()\n"
        "    pool.join()\n"
        "    listener.stop()\n"
        "    root.removeHandler(to_queue)\n"
        "    return cubes, sorted(collector.messages())\n",
        "test_logged_cubes", "changed the parent's root logger"),
    WrongAnswer(
        "choice that ignores the measurement", "timings",
        "timings = {'file': 2.0e-5, 'queue': 1.0e-5}\n"
        "CHEAPER = 'file'  # a file is simpler, surely\n",
        "test_cheaper", "but your own figures say"),
    # New in issue 10: a listener never stopped, handlers kept beside the inherited ones,
    # joining before draining and joining by timeout, a pool terminated under a slow listener,
    # a handler left on a parent logger, a measurement left open and one timing start-up.
    WrongAnswer(
        "listener never stopped: a sleep lets it catch up", "logged_steps",
        "import time\n"
        "import ex09_workers\n\n"
        "def logged_steps(names, steps):\n"
        "    queue = multiprocessing.Queue()\n"
        "    collector = logs.RecordCollector()\n"
        "    listener = QueueListener(queue, collector)\n"
        "    listener.start()\n"
        "    workers = [multiprocessing.Process(target=ex09_workers.work, args=(queue, steps), name=name)\n"
        "               for name in names]\n"
        "    for w in workers:\n"
        "        w.start()\n"
        "    for w in workers:\n"
        "        w.join()\n"
        "    time.sleep(0.5)  # give the listener time to hand on the last records\n"
        "    result = {}\n"
        "    for r in collector.records:\n"
        "        result.setdefault(r.processName, []).append(r.getMessage())\n"
        "    return result\n",
        "test_logged_steps", "listener.stop() for a QueueListener"),
    WrongAnswer(
        "QueueHandler added beside the inherited handlers (duplicates under fork)", "ex09_workers",
        "%%writefile ex09_workers.py\n"
        "import logging\n"
        "import logging.handlers\n\n"
        "def work(queue, steps):\n"
        "    root = logging.getLogger()\n"
        "    root.addHandler(logging.handlers.QueueHandler(queue))\n"
        "    root.setLevel(logging.INFO)\n"
        "    logger = logging.getLogger('ex09')\n"
        "    for step in range(steps):\n"
        "        logger.info('step %d', step)\n"
        "    logger.debug('details')\n",
        "test_logged_steps", "inherits the parent's handlers"),
    WrongAnswer(
        "processes joined before the queue is drained", "logged_steps",
        "import ex09_workers\n\n"
        "def logged_steps(names, steps):\n"
        "    queue = multiprocessing.Queue()\n"
        "    collector = logs.RecordCollector()\n"
        "    workers = [multiprocessing.Process(target=ex09_workers.work, args=(queue, steps), name=name)\n"
        "               for name in names]\n"
        "    for w in workers:\n"
        "        w.start()\n"
        "    for w in workers:\n"
        "        w.join()  # all records are in the queue now\n"
        "    while not queue.empty():\n"
        "        collector.handle(queue.get())\n"
        "    result = {}\n"
        "    for r in collector.records:\n"
        "        result.setdefault(r.processName, []).append(r.getMessage())\n"
        "    return result\n",
        "test_logged_steps", "records per process"),
    WrongAnswer(
        "join with a timeout, so that nothing can hang", "logged_steps",
        "import ex09_workers\n\n"
        "def logged_steps(names, steps):\n"
        "    queue = multiprocessing.Queue()\n"
        "    collector = logs.RecordCollector()\n"
        "    listener = QueueListener(queue, collector)\n"
        "    listener.start()\n"
        "    workers = [multiprocessing.Process(target=ex09_workers.work, args=(queue, steps), name=name)\n"
        "               for name in names]\n"
        "    for w in workers:\n"
        "        w.start()\n"
        "    for w in workers:\n"
        "        w.join(timeout=1)  # never wait forever for a stuck worker\n"
        "    listener.stop()\n"
        "    result = {}\n"
        "    for r in collector.records:\n"
        "        result.setdefault(r.processName, []).append(r.getMessage())\n"
        "    return result\n",
        "test_logged_steps", "join(timeout=...) only hopes"),
    WrongAnswer(
        "pool ended by its with block (terminate) before the records are through", "logged_cubes",
        "import ex09_fix\n\n"
        "def logged_cubes(numbers, ctx):\n"
        "    queue = ctx.Queue()\n"
        "    collector = logs.RecordCollector()\n"
        "    listener = QueueListener(queue, collector)\n"
        "    listener.start()\n"
        "    with ctx.Pool(2, initializer=ex09_fix.setup_logging, initargs=(queue,)) as pool:\n"
        "        cubes = pool.map(ex09_fix.cube_and_log, numbers)\n"
        "    listener.stop()\n"
        "    return cubes, sorted(collector.messages())\n",
        "test_logged_cubes", "terminate()"),
    WrongAnswer(
        "handler left on the parent's 'ex09.cubes' logger", "logged_cubes",
        "import ex09_fix\n\n"
        "def logged_cubes(numbers, ctx):\n"
        "    queue = ctx.Queue()\n"
        "    collector = logs.RecordCollector()\n"
        "    listener = QueueListener(queue, collector)\n"
        "    cubes_logger = logging.getLogger('ex09.cubes')\n"
        "    cubes_logger.addHandler(QueueHandler(queue))  # the logger that logs, not root\n"
        "    listener.start()\n"
        "    pool = ctx.Pool(2, initializer=ex09_fix.setup_logging, initargs=(queue,))\n"
        "    cubes = pool.map(ex09_fix.cube_and_log, numbers)\n"
        "    pool.close()\n"
        "    pool.join()\n"
        "    listener.stop()\n"
        "    return cubes, sorted(collector.messages())\n",
        "test_logged_cubes", "added to the 'ex09.cubes' logger"),
    WrongAnswer(
        "measurement that never stops its listener nor closes its file handler", "timings",
        "import tempfile\n"
        "from pathlib import Path\n\n"
        "timings = {}\n"
        "COUNT = 2000\n"
        "folder = Path(tempfile.mkdtemp(prefix='ex09-'))\n"
        "results = multiprocessing.Queue()\n"
        "direct = multiprocessing.Process(target=logs.time_logging, args=(results, COUNT),\n"
        "                                 kwargs={'path': str(folder / 'direct.log')})\n"
        "direct.start()\n"
        "timings['file'] = results.get(timeout=30)\n"
        "direct.join()\n"
        "log_queue = multiprocessing.Queue()\n"
        "listener = QueueListener(log_queue, logging.FileHandler(folder / 'queued.log'))\n"
        "listener.start()\n"
        "queued = multiprocessing.Process(target=logs.time_logging, args=(results, COUNT),\n"
        "                                 kwargs={'log_queue': log_queue})\n"
        "queued.start()\n"
        "timings['queue'] = results.get(timeout=30)\n"
        "queued.join()\n"
        "CHEAPER = min(timings, key=timings.get)\n",
        "test_cheaper", "still running"),
    WrongAnswer(
        "seconds per record timed from the parent, process start-up included", "timings",
        "import tempfile\n"
        "import time\n"
        "from pathlib import Path\n\n"
        "timings = {}\n"
        "COUNT = 2000\n"
        "with tempfile.TemporaryDirectory(prefix='ex09-') as folder:\n"
        "    results = multiprocessing.Queue()\n"
        "    log_queue = multiprocessing.Queue()\n"
        "    sink = logging.FileHandler(Path(folder) / 'queued.log')\n"
        "    listener = QueueListener(log_queue, sink)\n"
        "    listener.start()\n"
        "    setups = {'file': {'path': str(Path(folder) / 'direct.log')}, 'queue': {'log_queue': log_queue}}\n"
        "    for key, kwargs in setups.items():\n"
        "        start = time.perf_counter()\n"
        "        worker = multiprocessing.Process(target=logs.time_logging, args=(results, COUNT), kwargs=kwargs)\n"
        "        worker.start()\n"
        "        results.get(timeout=30)\n"
        "        worker.join()\n"
        "        timings[key] = (time.perf_counter() - start) / COUNT  # seconds per record\n"
        "    listener.stop()\n"
        "    sink.close()\n"
        "CHEAPER = min(timings, key=timings.get)\n",
        "test_cheaper", "process start-up"),
]
