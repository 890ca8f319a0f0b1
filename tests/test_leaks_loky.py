"""helpers.leaks knows joblib's (loky's) resource tracker for what it is: a helper that lives
as long as its parent, like multiprocessing's, not a leaked worker."""

from __future__ import annotations

import os

import psutil

from helpers import leaks


def test_lokys_resource_tracker_is_infrastructure_and_its_workers_are_not() -> None:
    from joblib import Parallel, delayed
    from joblib.externals import loky

    try:
        assert Parallel(n_jobs=2)(delayed(abs)(-i) for i in range(4)) == [0, 1, 2, 3]
        children = psutil.Process().children()
        trackers = [c for c in children
                    if "joblib.externals.loky.backend.resource_tracker" in " ".join(c.cmdline())]
        workers = [c for c in children if "popen_loky" in " ".join(c.cmdline())]
        assert trackers and workers
        assert all(leaks.is_infrastructure(t, os.getpid()) for t in trackers)
        live = {p.pid for p in leaks.live_children(os.getpid())}
        assert not live & {t.pid for t in trackers}
        assert {w.pid for w in workers} <= live  # workers still running are a leak
    finally:
        loky.get_reusable_executor().shutdown(wait=True)
