"""helpers.fileservice: the file service of notebook 16, its index and its checks.

Every assertion is a relation that holds on any machine, idle or loaded: what was uploaded
comes back byte for byte, versions add up, a disconnect leaves no row and no temporary
file, bad requests get a 4xx and the service goes on, and stopping it leaves no process;
never a speed. Tests that start worker processes run under each start method
(``mp_context``).
"""

from __future__ import annotations

import io
import os
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path

import psutil
import pytest

import helpers  # noqa: F401  (installs the guard)
from helpers import fileservice as fs
from helpers import leaks
from helpers.fileservice import orphan_service


# --- the index and the safe commit, in this process -------------------------------------------


def test_names_that_could_leave_the_folder_are_refused() -> None:
    for good in ("a.txt", "report-2026_v2.csv", "x"):
        assert fs.valid_name(good)
    for bad in ("../etc", "..", "a/b", ".hidden", "", "a..b", "x" * 65, "a b", "a\\b"):
        assert not fs.valid_name(bad), bad


def test_commit_upload_gives_consecutive_versions_and_moves_the_file(tmp_path: Path) -> None:
    db = tmp_path / "index.sqlite"
    fs.create_index(db)
    with closing(fs.connect(db)) as conn:
        for i in range(3):
            data = fs.content(f"n{i}", 1000 + i)
            tmp, digest = fs.receive_body(io.BytesIO(data), len(data), tmp_path)
            assert tmp.exists() and digest == fs.sha256_of(data)
            entry = fs.commit_upload(conn, tmp_path, "doc", tmp, len(data), digest)
            assert entry.version == i + 1 and not tmp.exists()
            assert (tmp_path / entry.path).read_bytes() == data
    assert [e.version for e in fs.entries(db)] == [1, 2, 3]
    assert fs.verify(tmp_path).ok


def test_a_short_body_leaves_no_temporary_file(tmp_path: Path) -> None:
    with pytest.raises(fs.ShortRead):
        fs.receive_body(io.BytesIO(b"x" * 100), 1000, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_commit_rolls_back_the_row_and_removes_the_file(tmp_path: Path) -> None:
    db = tmp_path / "index.sqlite"
    fs.create_index(db)
    missing = tmp_path / f"{fs.PART_PREFIX}gone.part"  # os.replace will fail: no such file
    with closing(fs.connect(db)) as conn, pytest.raises(FileNotFoundError):
        fs.commit_upload(conn, tmp_path, "doc", missing, 10, "0" * 64)
    assert fs.entries(db) == []


def test_a_commit_that_cannot_get_the_lock_removes_its_file_and_raises(tmp_path: Path) -> None:
    db = tmp_path / "index.sqlite"
    fs.create_index(db)
    data = b"complete"
    tmp, digest = fs.receive_body(io.BytesIO(data), len(data), tmp_path)
    with closing(fs.connect(db)) as holder, closing(fs.connect(db, timeout=0.1)) as conn:
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock past the timeout
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            fs.commit_upload(conn, tmp_path, "doc", tmp, len(data), digest)
        assert not conn.in_transaction
        holder.execute("ROLLBACK")
    assert not tmp.exists() and fs.entries(db) == []
    assert fs.verify(tmp_path).ok


def test_verify_counts_a_file_named_like_the_index(tmp_path: Path) -> None:
    db = tmp_path / "index.sqlite"
    fs.create_index(db)
    data = b"not the database"
    with closing(fs.connect(db)) as conn:
        tmp, digest = fs.receive_body(io.BytesIO(data), len(data), tmp_path)
        fs.commit_upload(conn, tmp_path, "index.sqlite", tmp, len(data), digest)
    check = fs.verify(tmp_path)
    assert check.ok and check.rows == check.files == 1


def test_the_race_is_real_when_two_writers_interleave(tmp_path: Path) -> None:
    """The race made certain: two connections both read the highest version before either
    inserts. Without the UNIQUE constraint both rows go in; with it the second is refused."""
    for unique in (False, True):
        db = tmp_path / f"race-{unique}.sqlite"
        fs.create_index(db, unique=unique)
        with closing(fs.connect(db)) as a, closing(fs.connect(db)) as b:
            tops = [c.execute("SELECT MAX(version) FROM files").fetchone()[0] or 0 for c in (a, b)]
            insert = "INSERT INTO files VALUES (NULL, 'n', ?, 0, '', 'p', 0)"
            a.execute(insert, (tops[0] + 1,))
            if unique:
                with pytest.raises(sqlite3.IntegrityError):
                    b.execute(insert, (tops[1] + 1,))
            else:
                b.execute(insert, (tops[1] + 1,))
        summary = fs.version_summary(db)
        assert summary["lost"] == (0 if unique else 1)


def test_verify_finds_a_row_without_its_complete_file(tmp_path: Path) -> None:
    db = tmp_path / "index.sqlite"
    fs.create_index(db)
    with closing(fs.connect(db)) as conn:
        conn.execute("INSERT INTO files VALUES (NULL, 'a', 1, 10, '', 'a.v1', 0)")
        conn.execute("INSERT INTO files VALUES (NULL, 'b', 1, 10, '', 'b.v1', 0)")
    (tmp_path / "a.v1").write_bytes(b"12345")
    (tmp_path / "orphan.v1").write_bytes(b"x")
    (tmp_path / f"{fs.PART_PREFIX}1234.part").write_bytes(b"x")
    check = fs.verify(tmp_path)
    assert not check.ok and check.temporary == [f"{fs.PART_PREFIX}1234.part"]
    text = "\n".join(check.problems)
    assert "a v1: 5 bytes on disk" in text and "b v1: file b.v1 is missing" in text
    assert "orphan.v1: a file that no row lists" in text


# --- writer processes ---------------------------------------------------------------------------


def test_transactional_writers_lose_nothing(tmp_path: Path, mp_context) -> None:
    db = tmp_path / "index.sqlite"
    fs.create_index(db, unique=False)  # nothing but the transaction keeps versions apart
    names, rounds, writers = ["a", "b"], 8, 3
    with mp_context.Pool(writers) as pool:
        results = pool.starmap(fs.add_versions,
                               [(str(db), names, rounds, "BEGIN IMMEDIATE", 0.002)] * writers,
                               chunksize=1)
    assert results == [(len(names) * rounds, [])] * writers
    summary = fs.version_summary(db)
    assert summary["rows"] == summary["distinct"] == writers * len(names) * rounds
    assert summary["lost"] == 0 and summary["versions 1..n without gaps"]


def test_racing_writers_insert_every_row_but_versions_never_exceed_them(
        tmp_path: Path, mp_context) -> None:
    db = tmp_path / "index.sqlite"
    fs.create_index(db, unique=False)
    with mp_context.Pool(2) as pool:
        results = pool.starmap(fs.add_versions, [(str(db), ["a"], 6, None, 0.002)] * 2)
    summary = fs.version_summary(db)
    assert [errors for _, errors in results] == [[], []]
    assert summary["rows"] == sum(n for n, _ in results) == 12  # autocommit inserts all go in...
    assert 6 <= summary["distinct"] <= 12  # ...but some may repeat a version
    assert summary["lost"] == summary["rows"] - summary["distinct"]


def test_a_deferred_begin_never_duplicates_but_may_refuse(tmp_path: Path, mp_context) -> None:
    db = tmp_path / "index.sqlite"
    fs.create_index(db, unique=False)
    with mp_context.Pool(3) as pool:
        results = pool.starmap(fs.add_versions, [(str(db), ["a"], 8, "BEGIN", 0.002)] * 3,
                               chunksize=1)
    summary = fs.version_summary(db)
    assert summary["lost"] == 0 and summary["rows"] == sum(n for n, _ in results)
    errors = {e for _, found in results for e in found}
    assert errors <= {"OperationalError: database is locked"}
    assert (summary["rows"] < 24) == bool(errors)  # every refused attempt is missing


# --- the service ------------------------------------------------------------------------------


@pytest.fixture
def service(tmp_path: Path, mp_context):
    with fs.FileService(tmp_path / "svc", uploaders=2, downloaders=2, context=mp_context) as svc:
        yield svc
    assert not any(w.process.is_alive() for w in svc.stopped)


def test_round_trip_through_separate_workers(service: fs.FileService) -> None:
    assert len(service.urls("upload")) == 2 and len(service.urls("download")) == 2
    assert set(service.urls("upload")).isdisjoint(service.urls("download"))
    first, second = fs.content("one", 200_000), fs.content("two", 3)
    assert service.upload("f.bin", first)[0] == 201
    status, reply = service.upload("f.bin", second)
    assert status == 201 and reply["version"] == 2 and reply["sha256"] == fs.sha256_of(second)
    assert service.download("f.bin") == (200, second)
    assert service.download("f.bin", 1) == (200, first)
    status, body = service.download("missing.bin")
    assert status == 404 and b"missing.bin" in body
    # An upload worker does not serve downloads, and the other way round.
    assert fs.get_file(service.urls("upload")[0], "f.bin")[0] == 405
    assert fs.put_file(service.urls("download")[0], "g.bin", b"x")[0] == 405
    assert fs.verify(service.folder).ok


def test_concurrent_uploads_of_one_name_get_distinct_versions(service: fs.FileService) -> None:
    uploads = 24
    with ThreadPoolExecutor(8) as executor:
        replies = list(executor.map(lambda i: service.upload("same", fs.content(f"s{i}", 5000)),
                                    range(uploads)))
    assert all(status == 201 for status, _ in replies)
    assert sorted(r["version"] for _, r in replies) == list(range(1, uploads + 1))
    check = fs.verify(service.folder)
    assert check.ok and check.rows == uploads


def test_a_load_of_many_clients_is_answered_correctly(service: fs.FileService) -> None:
    names, sizes = [f"n{i}" for i in range(10)], [1000, 70_000]
    for i, name in enumerate(names):
        assert service.upload(name, fs.content(name, sizes[i % 2]))[0] == 201
    plan = fs.load_plan(names, uploads=10)
    assert sorted(plan) == sorted([("get", i) for i in range(20)] + [("put", i) for i in range(10)])
    for slow in (False, True):
        run = fs.client_load(service, names, 10, sizes, threads=8, slow=slow)
        assert run["requests"] == run["correct"] == 30 and run["download"] > 0
    # A client check that can fail: the wrong expected size makes every download wrong.
    assert fs.client_request(service, ("get", 0), names, [999])[0] is False
    check = fs.verify(service.folder)
    assert check.ok and check.rows == 10 + 2 * 10  # load-i uploaded twice: versions 1 and 2


def test_a_client_that_disconnects_leaves_no_row_and_no_file(service: fs.FileService) -> None:
    url = service.urls("upload")[0]
    fs.send_partial(url, "cut.bin", declared=500_000, sent=100_000)
    [status] = [s for s in service.status() if s["requests"] and s["role"] == "upload"
                and s["aborted"]] or [None]  # status is served after the cut request
    assert status is not None and status["uploads"] == 0
    assert service.download("cut.bin")[0] == 404
    check = fs.verify(service.folder)
    assert check.ok and check.rows == 0 and check.temporary == []


def test_an_upload_refused_by_a_locked_index_gets_503_and_leaves_nothing(
        tmp_path: Path, mp_context) -> None:
    with fs.FileService(tmp_path / "svc", uploaders=1, downloaders=1, context=mp_context,
                        lock_timeout=0.2) as svc:
        with closing(fs.connect(svc.db_path)) as holder:
            holder.execute("BEGIN IMMEDIATE")  # another writer keeps the lock
            status, reply = svc.upload("late.txt", b"data")
            holder.execute("ROLLBACK")
        assert status == 503 and "busy" in reply["error"]
        assert fs.verify(svc.folder).temporary == [] and fs.entries(svc.db_path) == []
        assert svc.upload("late.txt", b"data")[0] == 201  # the worker goes on
    assert fs.verify(svc.folder).ok


def test_the_naive_upload_leaves_a_half_written_entry(tmp_path: Path, mp_context) -> None:
    with fs.FileService(tmp_path / "naive", 1, 1, safe=False, context=mp_context) as svc:
        fs.send_partial(svc.urls("upload")[0], "cut.bin", declared=500_000, sent=100_000)
        assert svc.status()[0]["aborted"] == 1
    check = fs.verify(tmp_path / "naive")
    assert not check.ok and check.rows == 1
    assert any("100000 bytes on disk, the row says 500000" in p for p in check.problems)


def test_bad_requests_get_4xx_and_the_service_goes_on(service: fs.FileService) -> None:
    url = service.urls("upload")[0]
    assert fs.send_raw(url, "PUT /files/x HTTP/1.1\r\nHost: h")[0] == 411
    assert fs.send_raw(url, "PUT /files/../x HTTP/1.1\r\nHost: h\r\nContent-Length: 1", b"x")[0] == 400
    assert fs.send_raw(url, "PUT /files/x HTTP/1.1\r\nHost: h\r\nContent-Length: -1", b"x")[0] == 400
    assert fs.send_raw(url, f"PUT /files/x HTTP/1.1\r\nHost: h\r\nContent-Length: "
                            f"{fs.MAX_SIZE + 1}")[0] == 413
    assert fs.send_raw(url, "PUT /other HTTP/1.1\r\nHost: h\r\nContent-Length: 1", b"x")[0] == 404
    assert service.upload("after.txt", b"fine")[0] == 201
    assert service.download("after.txt") == (200, b"fine")
    assert fs.verify(service.folder).ok


def test_stopping_the_service_leaves_no_process(tmp_path: Path, mp_context) -> None:
    with pytest.raises(ZeroDivisionError):
        with fs.FileService(tmp_path / "svc", 1, 1, both=1, context=mp_context) as svc:
            pids = [w.process.pid for w in svc.workers]
            assert len(pids) == 3 and all(_alive(pid) for pid in pids)
            1 / 0  # a failing cell inside the with block
    assert svc.workers == [] and [w.process.exitcode for w in svc.stopped] == [0, 0, 0]
    assert not any(_alive(pid) for pid in pids)
    assert not {p.pid for p in leaks.live_children(os.getpid())} & set(pids)


def test_a_worker_ends_when_its_parent_is_killed(tmp_path: Path, mp_context) -> None:
    """A service whose parent dies (SIGKILL: no __exit__) does not leave its workers behind."""
    from helpers import practice

    outcome = practice.run_with_timeout(orphan_service, (str(tmp_path / "svc"),), timeout=60,
                                        context=mp_context)
    assert outcome.status == "error" and outcome.exitcode == -9
    pids = [int(p) for p in (tmp_path / "pids.txt").read_text().split()]
    deadline = time.monotonic() + 10  # a worker notices within its 0.2 s poll
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.1)
    assert pids and not any(_alive(p) for p in pids)


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
