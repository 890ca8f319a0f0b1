"""Wrong answers to exercises/13_beyond_one_machine.ipynb."""

from tests.wrong_answers import WrongAnswer

WRONG_ANSWERS = [
    # Task 1: joblib.
    WrongAnswer(
        "n_jobs=1: joblib runs everything in this process", "primes_joblib",
        "def primes_joblib(limits):\n"
        "    return Parallel(n_jobs=1)(delayed(count_primes)(n) for n in limits)\n",
        "test_primes_joblib", "ran in this notebook's own process"),
    WrongAnswer(
        "the threading backend: threads of this process", "primes_joblib",
        "def primes_joblib(limits):\n"
        "    return Parallel(n_jobs=2, backend='threading')(delayed(count_primes)(n) for n in limits)\n",
        "test_primes_joblib", "the threading backend"),
    WrongAnswer(
        "loky's workers left alive after the call", "primes_joblib",
        "def primes_joblib(limits):\n"
        "    return Parallel(n_jobs=2)(delayed(count_primes)(n) for n in limits)\n",
        "test_primes_joblib", "left open"),
    WrongAnswer(
        "results in the order they finished", "primes_joblib",
        "def primes_joblib(limits):\n"
        "    try:\n"
        "        return list(Parallel(n_jobs=2, return_as='generator_unordered')(\n"
        "            delayed(count_primes)(n) for n in limits))\n"
        "    finally:\n"
        "        get_reusable_executor().shutdown(wait=True)\n",
        "test_primes_joblib", "wrong order"),
    WrongAnswer(
        "one joblib task that counts everything", "primes_joblib",
        "def count_each(limits):\n"
        "    return [count_primes(n) for n in limits]\n\n"
        "def primes_joblib(limits):\n"
        "    try:\n"
        "        return Parallel(n_jobs=2)([delayed(count_each)(limits)])[0]\n"
        "    finally:\n"
        "        get_reusable_executor().shutdown(wait=True)\n",
        "test_primes_joblib", "never 2 at the same time"),
    # Task 2: futures that depend on futures.
    WrongAnswer(
        "squares gathered into the notebook, added up here", "sum_of_squares",
        "import ex13_workers\n\n"
        "def sum_of_squares(numbers):\n"
        "    with LocalCluster(**CLUSTER) as cluster, Client(cluster) as client:\n"
        "        return ex13_workers.add_up(client.gather(client.map(square, numbers)))\n",
        "test_sum_of_squares", "add_up ran in this notebook"),
    WrongAnswer(
        "the built-in sum of gathered squares", "sum_of_squares",
        "def sum_of_squares(numbers):\n"
        "    with LocalCluster(**CLUSTER) as cluster, Client(cluster) as client:\n"
        "        return sum(client.gather(client.map(square, numbers)))\n",
        "test_sum_of_squares", "add_up never ran"),
    WrongAnswer(
        "the cluster never closed", "sum_of_squares",
        "import ex13_workers\n\n"
        "def sum_of_squares(numbers):\n"
        "    cluster = LocalCluster(**CLUSTER)\n"
        "    client = Client(cluster)\n"
        "    return client.submit(ex13_workers.add_up, client.map(square, numbers)).result()\n",
        "test_sum_of_squares", "left open"),
    WrongAnswer(
        "each square awaited before the next is submitted", "sum_of_squares",
        "import ex13_workers\n\n"
        "def sum_of_squares(numbers):\n"
        "    with LocalCluster(**CLUSTER) as cluster, Client(cluster) as client:\n"
        "        squares = [client.submit(square, n).result() for n in numbers]\n"
        "        return client.submit(ex13_workers.add_up, squares).result()\n",
        "test_sum_of_squares", "never 2 at the same time"),
    # Task 3: the client's executor.
    WrongAnswer(
        "a ProcessPoolExecutor of the notebook instead of the cluster's", "counts_on_cluster",
        "from concurrent.futures import ProcessPoolExecutor\n\n"
        "def counts_on_cluster(limits):\n"
        "    with ProcessPoolExecutor(max_workers=2) as executor:\n"
        "        return list(executor.map(count_primes, limits))\n",
        "test_counts_on_cluster", "ran outside the Dask cluster"),
    WrongAnswer(
        "executor.map's iterator returned, read after the cluster closed", "counts_on_cluster",
        "def counts_on_cluster(limits):\n"
        "    with LocalCluster(**CLUSTER) as cluster, Client(cluster) as client:\n"
        "        executor = client.get_executor()\n"
        "        return executor.map(count_primes, limits)\n",
        "test_counts_on_cluster", "not a list"),
    WrongAnswer(
        "the counts computed here, the cluster idle", "counts_on_cluster",
        "def counts_on_cluster(limits):\n"
        "    with LocalCluster(**CLUSTER) as cluster, Client(cluster) as client:\n"
        "        return [count_primes(n) for n in limits]\n",
        "test_counts_on_cluster", "ran outside the Dask cluster"),
]
