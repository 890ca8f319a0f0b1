"""Wrong answers to exercises/04_pipe.ipynb."""

from tests.wrong_answers import WrongAnswer

WRONG_ANSWERS = [
    WrongAnswer(
        "worker never told to stop", "word_counts",
        "import ex04_workers\n\n"
        "def word_counts(texts):\n"
        "    client, server_end = Pipe()\n"
        "    worker = Process(target=ex04_workers.count_words, args=(server_end,))\n"
        "    worker.start()\n"
        "    answers = []\n"
        "    for text in texts:\n"
        "        client.send(text)\n"
        "        answers.append(client.recv())\n"
        "    worker.join()\n"
        "    return answers\n",
        "test_word_counts", "does the worker receive None"),
    WrongAnswer(
        "one process per text", "word_counts",
        "import ex04_workers\n\n"
        "def word_counts(texts):\n"
        "    answers = []\n"
        "    for text in texts:\n"
        "        client, server_end = Pipe()\n"
        "        worker = Process(target=ex04_workers.count_words, args=(server_end,))\n"
        "        worker.start()\n"
        "        client.send(text)\n"
        "        answers.append(client.recv())\n"
        "        client.send(None)\n"
        "        worker.join()\n"
        "    return answers\n",
        "test_word_counts", "one worker must answer every request"),
    WrongAnswer(
        "worker defined in the notebook (passes under fork only)", "word_counts",
        "def count_words(conn):\n"
        "    while (text := conn.recv()) is not None:\n"
        "        conn.send(len(text.split()))\n"
        "    conn.close()\n\n"
        "def word_counts(texts):\n"
        "    client, server_end = Pipe()\n"
        "    worker = Process(target=count_words, args=(server_end,))\n"
        "    worker.start()\n"
        "    answers = []\n"
        "    for text in texts:\n"
        "        client.send(text)\n"
        "        answers.append(client.recv())\n"
        "    client.send(None)\n"
        "    worker.join()\n"
        "    return answers\n",
        "test_word_counts", "is defined in this notebook"),
    WrongAnswer(
        "the broken program handed in unchanged (send ends left open)", "gather",
        "def gather(batches):\n"
        "    readers, senders = [], []\n"
        "    for items in batches:\n"
        "        receive_end, send_end = Pipe(duplex=False)\n"
        "        sender = Process(target=pipes.send_items, args=(send_end, items))\n"
        "        sender.start()\n"
        "        readers.append(receive_end)\n"
        "        senders.append(sender)\n"
        "    received = []\n"
        "    while readers:\n"
        "        for conn in multiprocessing.connection.wait(readers):\n"
        "            try:\n"
        "                received.append(conn.recv())\n"
        "            except EOFError:\n"
        "                readers.remove(conn)\n"
        "                conn.close()\n"
        "    for sender in senders:\n"
        "        sender.join()\n"
        "    return sorted(received)\n",
        "test_gather", "close the parent's copy of each send end"),
    WrongAnswer(
        "send ends closed, senders never joined", "gather",
        "def gather(batches):\n"
        "    readers = []\n"
        "    for items in batches:\n"
        "        receive_end, send_end = Pipe(duplex=False)\n"
        "        Process(target=pipes.send_items, args=(send_end, items)).start()\n"
        "        send_end.close()\n"
        "        readers.append(receive_end)\n"
        "    received = []\n"
        "    while readers:\n"
        "        for conn in multiprocessing.connection.wait(readers):\n"
        "            try:\n"
        "                received.append(conn.recv())\n"
        "            except EOFError:\n"
        "                readers.remove(conn)\n"
        "                conn.close()\n"
        "    return sorted(received)\n",
        "test_gather", "were never joined"),
    WrongAnswer(
        "choice keyed by a label instead of the size", "timings",
        "KINDS = ['Pipe', 'Queue']\n"
        "SIZES = [100, 1_000_000]\n"
        "REPEATS = {100: 200, 1_000_000: 20}\n"
        "timings = {(kind, size): round_trip(kind, size, REPEATS[size]) for kind in KINDS for size in SIZES}\n"
        "FASTER = {label: min(KINDS, key=lambda kind: timings[(kind, size)])\n"
        "          for label, size in [('small', 100), ('large', 1_000_000)]}\n",
        "test_faster", "FASTER must map every size in SIZES"),
    WrongAnswer(
        "choice that ignores the measurement", "timings",
        "KINDS = ['Pipe', 'Queue']\n"
        "SIZES = [100, 1_000_000]\n"
        "REPEATS = {100: 200, 1_000_000: 20}\n"
        "timings = {('Pipe', 100): 3e-5, ('Queue', 100): 9e-5,\n"
        "           ('Pipe', 1_000_000): 4e-3, ('Queue', 1_000_000): 2e-3}\n"
        "FASTER = {100: 'Pipe', 1_000_000: 'Pipe'}\n",
        "test_faster", "but in your measurement the Queue was faster"),
]

# New in issue 10: answers that passed the one-example checks (a deadlock that needs more
# messages, a worker stopped instead of told, reading that stops on a timeout, serial senders,
# start-up timed for one kind, totals instead of averages).
_GATHER_HEAD = (
    "def gather(batches):\n"
    "    readers, senders = [], []\n"
    "    for items in batches:\n"
    "        receive_end, send_end = Pipe(duplex=False)\n"
    "        sender = Process(target=pipes.send_items, args=(send_end, items))\n"
    "        sender.start()\n"
)
_ROUND_TRIP_TAIL = (
    "    started = time.perf_counter()\n"
    "    for _ in range(repeats):\n"
    "        send(message)\n"
    "        receive()\n"
    "    seconds = time.perf_counter() - started\n"
    "    send(None)\n"
    "    worker.join()\n"
)
WRONG_ANSWERS += [
    WrongAnswer(
        "every text sent before any answer is received", "word_counts",
        "import ex04_workers\n\n"
        "def word_counts(texts):\n"
        "    client, server_end = Pipe()\n"
        "    worker = Process(target=ex04_workers.count_words, args=(server_end,))\n"
        "    worker.start()\n"
        "    for text in texts:\n"
        "        client.send(text)\n"
        "    answers = [client.recv() for _ in texts]\n"
        "    client.send(None)\n"
        "    worker.join()\n"
        "    return answers\n",
        "test_word_counts", "receive its answer before you send the next"),
    WrongAnswer(
        "no sentinel: join with a timeout, then terminate", "word_counts",
        "import ex04_workers\n\n"
        "def word_counts(texts):\n"
        "    client, server_end = Pipe()\n"
        "    worker = Process(target=ex04_workers.count_words, args=(server_end,))\n"
        "    worker.start()\n"
        "    answers = []\n"
        "    for text in texts:\n"
        "        client.send(text)\n"
        "        answers.append(client.recv())\n"
        "    worker.join(timeout=0.5)  # it does not stop by itself\n"
        "    worker.terminate()\n"
        "    worker.join()\n"
        "    return answers\n",
        "test_word_counts", "never returned by itself"),
    WrongAnswer(
        "senders joined before their pipes are read", "gather",
        _GATHER_HEAD
        + "        send_end.close()\n"
        "        readers.append(receive_end)\n"
        "        senders.append(sender)\n"
        "    for sender in senders:\n"
        "        sender.join()  # wait until everything has been sent\n"
        "    received = []\n"
        "    while readers:\n"
        "        for conn in multiprocessing.connection.wait(readers):\n"
        "            try:\n"
        "                received.append(conn.recv())\n"
        "            except EOFError:\n"
        "                readers.remove(conn)\n"
        "                conn.close()\n"
        "    return sorted(received)\n",
        "test_gather", "read every pipe until EOFError before you join"),
    WrongAnswer(
        "reading stops when wait() times out", "gather",
        _GATHER_HEAD
        + "        readers.append(receive_end)\n"
        "        senders.append(sender)\n"
        "    received = []\n"
        "    while readers:\n"
        "        ready = multiprocessing.connection.wait(readers, timeout=0.5)\n"
        "        if not ready:\n"
        "            break  # nothing came for a while: everything was sent\n"
        "        for conn in ready:\n"
        "            try:\n"
        "                received.append(conn.recv())\n"
        "            except EOFError:\n"
        "                readers.remove(conn)\n"
        "                conn.close()\n"
        "    for sender in senders:\n"
        "        sender.join()\n"
        "    return sorted(received)\n",
        "test_gather", "A pause is not the end"),
    WrongAnswer(
        "senders run one after another", "gather",
        "def gather(batches):\n"
        "    received = []\n"
        "    for items in batches:\n"
        "        receive_end, send_end = Pipe(duplex=False)\n"
        "        sender = Process(target=pipes.send_items, args=(send_end, items))\n"
        "        sender.start()\n"
        "        send_end.close()\n"
        "        while True:\n"
        "            try:\n"
        "                received.append(receive_end.recv())\n"
        "            except EOFError:\n"
        "                break\n"
        "        receive_end.close()\n"
        "        sender.join()\n"
        "    return sorted(received)\n",
        "test_gather", "one call after another"),
    WrongAnswer(
        "warm-up only for the Pipe: the Queue's start-up is timed", "round_trip",
        "def round_trip(kind, size, repeats):\n"
        "    message = bytes(size)\n"
        "    if kind == 'Pipe':\n"
        "        client, server_end = Pipe()\n"
        "        worker = Process(target=pipes.echo, args=(server_end,))\n"
        "        send, receive = client.send, client.recv\n"
        "        worker.start()\n"
        "        send(b'warm-up')\n"
        "        receive()\n"
        "    else:\n"
        "        requests, replies = multiprocessing.Queue(), multiprocessing.Queue()\n"
        "        worker = Process(target=pipes.echo_queue, args=(requests, replies))\n"
        "        send, receive = requests.put, replies.get\n"
        "        worker.start()\n"
        + _ROUND_TRIP_TAIL
        + "    return seconds / repeats\n",
        "test_faster", "start-up was timed"),
    WrongAnswer(
        "total seconds returned, not seconds per round trip", "round_trip",
        "def round_trip(kind, size, repeats):\n"
        "    message = bytes(size)\n"
        "    if kind == 'Pipe':\n"
        "        client, server_end = Pipe()\n"
        "        worker = Process(target=pipes.echo, args=(server_end,))\n"
        "        send, receive = client.send, client.recv\n"
        "    else:\n"
        "        requests, replies = multiprocessing.Queue(), multiprocessing.Queue()\n"
        "        worker = Process(target=pipes.echo_queue, args=(requests, replies))\n"
        "        send, receive = requests.put, replies.get\n"
        "    worker.start()\n"
        "    send(b'warm-up')\n"
        "    receive()\n"
        + _ROUND_TRIP_TAIL
        + "    return seconds\n",
        "test_faster", "seconds per round trip"),
]
