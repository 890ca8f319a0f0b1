"""Wrong answers to exercises/14_capstone_images.ipynb (the image capstone)."""

from tests.wrong_answers import WrongAnswer

# The worker of task 1, right, for the wrong answers of tasks 2 and 3 that replace it.
_WORKER_HEAD = (
    "%%writefile ex14_images.py\n"
    "import os\n"
    "from pathlib import Path\n\n"
    "from PIL import Image\n\n\n"
    "def thumbnail(source, target_folder, size=64):\n"
    "    target = Path(target_folder) / f'{Path(source).stem}.jpg'\n")

WRONG_ANSWERS = [
    # Task 1: one thumbnail, written safely.
    WrongAnswer(
        "saved as JPEG without converting to RGB", "ex14_images",
        _WORKER_HEAD +
        "    temporary = target.with_name(f'.{target.name}.tmp')\n"
        "    with Image.open(source) as image:\n"
        "        image.thumbnail((size, size))\n"
        "        try:\n"
        "            image.save(temporary, 'JPEG')\n"
        "            os.replace(temporary, target)\n"
        "        except BaseException:\n"
        "            temporary.unlink(missing_ok=True)\n"
        "            raise\n"
        "        return target.name, image.width, image.height\n",
        "test_thumbnail", "convert the image to RGB"),
    WrongAnswer(
        "written straight to the final name", "ex14_images",
        _WORKER_HEAD +
        "    with Image.open(source) as image:\n"
        "        image.thumbnail((size, size))\n"
        "        small = image.convert('RGB')\n"
        "    small.save(target, 'JPEG')\n"
        "    return target.name, small.width, small.height\n",
        "test_thumbnail", "half-written photo.jpg"),
    WrongAnswer(
        "temporary file left behind when the save fails", "ex14_images",
        _WORKER_HEAD +
        "    temporary = target.with_name(f'.{target.name}.tmp')\n"
        "    with Image.open(source) as image:\n"
        "        image.thumbnail((size, size))\n"
        "        small = image.convert('RGB')\n"
        "    small.save(temporary, 'JPEG')\n"
        "    os.replace(temporary, target)\n"
        "    return target.name, small.width, small.height\n",
        "test_thumbnail", "remove the temporary file"),
    WrongAnswer(
        "a bad file swallowed: None returned instead of the error", "ex14_images",
        _WORKER_HEAD +
        "    temporary = target.with_name(f'.{target.name}.tmp')\n"
        "    try:\n"
        "        with Image.open(source) as image:\n"
        "            image.thumbnail((size, size))\n"
        "            small = image.convert('RGB')\n"
        "    except Exception:\n"
        "        return None  # skip bad files\n"
        "    try:\n"
        "        small.save(temporary, 'JPEG')\n"
        "        os.replace(temporary, target)\n"
        "    except BaseException:\n"
        "        temporary.unlink(missing_ok=True)\n"
        "        raise\n"
        "    return target.name, small.width, small.height\n",
        "test_thumbnail", "the error is lost"),
    # Task 2: the whole batch.
    WrongAnswer(
        "serial: the batch made in the notebook's process", "make_thumbnails",
        "def make_thumbnails(sources, target_folder):\n"
        "    done, failed = [], []\n"
        "    for source in sources:\n"
        "        name = os.path.basename(source)\n"
        "        try:\n"
        "            _, width, height = ex14_images.thumbnail(source, target_folder)\n"
        "            done.append((name, width, height))\n"
        "        except Exception as error:\n"
        "            failed.append((name, f'{type(error).__name__}: {error}'))\n"
        "    return done, failed\n",
        "test_make_thumbnails", "A serial answer gives the right values"),
    WrongAnswer(
        "the first bad file ends the run (executor.map)", "make_thumbnails",
        "def make_thumbnails(sources, target_folder):\n"
        "    done, failed = [], []\n"
        "    with ProcessPoolExecutor(max_workers=2) as executor:\n"
        "        try:\n"
        "            for source, (_, w, h) in zip(sources, executor.map(\n"
        "                    ex14_images.thumbnail, sources, [target_folder] * len(sources))):\n"
        "                done.append((os.path.basename(source), w, h))\n"
        "        except Exception as error:\n"
        "            failed.append(('?', f'{type(error).__name__}: {error}'))\n"
        "    return done, failed\n",
        "test_make_thumbnails", "lost"),
    WrongAnswer(
        "bad files dropped in silence", "make_thumbnails",
        "def make_thumbnails(sources, target_folder):\n"
        "    done = []\n"
        "    with ProcessPoolExecutor(max_workers=2) as executor:\n"
        "        futures = {executor.submit(ex14_images.thumbnail, s, target_folder): s for s in sources}\n"
        "        for future in as_completed(futures):\n"
        "            if future.exception() is None:\n"
        "                _, w, h = future.result()\n"
        "                done.append((os.path.basename(futures[future]), w, h))\n"
        "    return done, []\n",
        "test_make_thumbnails", "lost"),
    WrongAnswer(
        "each result counted twice: a callback and the loop", "make_thumbnails",
        "from multiprocessing import Pool\n\n"
        "def make_thumbnails(sources, target_folder):\n"
        "    done, failed = [], []\n"
        "    with Pool(2) as pool:\n"
        "        pending = []\n"
        "        for source in sources:\n"
        "            name = os.path.basename(source)\n"
        "            pending.append((name, pool.apply_async(\n"
        "                ex14_images.thumbnail, (source, target_folder),\n"
        "                callback=lambda r, name=name: done.append((name, r[1], r[2])))))\n"
        "        for name, result in pending:\n"
        "            try:\n"
        "                _, w, h = result.get(timeout=30)\n"
        "                done.append((name, w, h))\n"
        "            except Exception as error:\n"
        "                failed.append((name, f'{type(error).__name__}: {error}'))\n"
        "    return done, failed\n",
        "test_make_thumbnails", "more than once"),
    WrongAnswer(
        "the pool left open", "make_thumbnails",
        "from multiprocessing import Pool\n\n"
        "pools = []\n\n"
        "def make_thumbnails(sources, target_folder):\n"
        "    done, failed = [], []\n"
        "    pool = Pool(2)\n"
        "    pools.append(pool)\n"
        "    results = [(os.path.basename(s), pool.apply_async(ex14_images.thumbnail, (s, target_folder)))\n"
        "               for s in sources]\n"
        "    for name, result in results:\n"
        "        try:\n"
        "            _, w, h = result.get(timeout=30)\n"
        "            done.append((name, w, h))\n"
        "        except Exception as error:\n"
        "            failed.append((name, f'{type(error).__name__}: {error}'))\n"
        "    return done, failed\n",
        "test_make_thumbnails", "left open"),
    # Task 3: stop at a deadline.
    WrongAnswer(
        "no deadline: every thumbnail made", "make_thumbnails_within",
        "def make_thumbnails_within(sources, target_folder, seconds):\n"
        "    done, failed = make_thumbnails(sources, target_folder)\n"
        "    return done, failed, []\n",
        "test_make_thumbnails_within", "it waited for every thumbnail"),
    WrongAnswer(
        "the pool terminated at the deadline, the unfinished listed as not started", "make_thumbnails_within",
        "import time\n"
        "from multiprocessing import Pool\n\n"
        "def make_thumbnails_within(sources, target_folder, seconds):\n"
        "    done, failed, not_started = [], [], []\n"
        "    end = time.monotonic() + seconds\n"
        "    with Pool(2) as pool:\n"
        "        results = [(os.path.basename(s), pool.apply_async(ex14_images.thumbnail, (s, target_folder)))\n"
        "                   for s in sources]\n"
        "        for name, result in results:\n"
        "            try:\n"
        "                _, w, h = result.get(timeout=max(0, end - time.monotonic()))\n"
        "                done.append((name, w, h))\n"
        "            except multiprocessing.TimeoutError:\n"
        "                not_started.append(name)  # stopped at the deadline\n"
        "            except Exception as error:\n"
        "                failed.append((name, f'{type(error).__name__}: {error}'))\n"
        "    return done, failed, not_started\n",
        "test_make_thumbnails_within", "cut off"),
    WrongAnswer(
        "cancelled sources not reported", "make_thumbnails_within",
        "def make_thumbnails_within(sources, target_folder, seconds):\n"
        "    done, failed = [], []\n"
        "    executor = ProcessPoolExecutor(max_workers=2)\n"
        "    futures = [(s, executor.submit(ex14_images.thumbnail, s, target_folder)) for s in sources]\n"
        "    try:\n"
        "        wait([f for _, f in futures], timeout=seconds)\n"
        "    finally:\n"
        "        executor.shutdown(wait=True, cancel_futures=True)\n"
        "    for source, future in futures:\n"
        "        name = os.path.basename(source)\n"
        "        if future.cancelled():\n"
        "            continue\n"
        "        if future.exception() is not None:\n"
        "            failed.append((name, f'{type(future.exception()).__name__}: {future.exception()}'))\n"
        "        else:\n"
        "            done.append((name,) + tuple(future.result()[1:]))\n"
        "    return done, failed, []\n",
        "test_make_thumbnails_within", "lost"),
]
