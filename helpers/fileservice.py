"""Worker code and tools for notebook 16_capstone_file_service: a small file service.

Files are uploaded and downloaded over HTTP on 127.0.0.1. They are stored in a folder on
disk, and their index is a table of SQLite, the embedded database that Python ships
(``sqlite3``). Upload and download requests are served by separate worker processes.

* **The index.** ``create_index`` makes the table ``files(name, version, size, sha256,
  path, ...)`` in WAL mode; ``connect`` opens it with a ``timeout`` so that a writer waits
  for the lock instead of failing at once. Every process opens its own connection: a
  connection is never sent to another process.
* **The safe upload.** ``receive_body`` streams a request body to a temporary file in the
  storage folder (exactly Content-Length bytes, in chunks, hashing as it goes) and removes
  it if the client goes away; ``commit_upload`` then, in ONE transaction (``BEGIN
  IMMEDIATE``), picks the next version, inserts the row and ``os.replace``s the file into
  place. ``naive_upload`` is the version without any of that: the row first, then the
  file, written straight to its final name.
* **The workers.** ``serve`` is the target of each worker process: an ``http.server`` on
  127.0.0.1, port 0, that reports its port through a pipe and stops when the parent says
  so (or goes away). ``FileService`` starts them, hands out their URLs round robin, and
  stops them all on leaving its ``with`` block.
* **Writers without and with a transaction.** ``add_versions`` is a writer process that
  adds versions of the same names, racing (read the highest version, pause, insert, in
  autocommit mode), inside a plain ``BEGIN`` or inside ``BEGIN IMMEDIATE`` ... ``COMMIT``.
* **Clients and checks.** ``put_file``, ``get_file``, ``send_partial`` (a client that
  disconnects half-way), ``send_raw`` and ``raw_request``; ``load_plan``,
  ``client_request`` and ``client_load`` for many clients at once; ``verify`` checks that every row's file exists
  with the row's size and sha256, that no temporary file is left and that no two rows
  claim the same version.

Workers never print: they return or answer over HTTP, and the notebook prints.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import socket
import sqlite3
import threading
import time
import uuid
from contextlib import closing
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

HOST = "127.0.0.1"
CHUNK = 64 * 1024
"""How many bytes an upload reads from the socket at a time."""

MAX_SIZE = 16 * 1024 * 1024
"""The largest upload the service accepts (bytes); larger ones get 413."""

PART_PREFIX = ".upload-"
"""How the temporary file of an upload begins (``.upload-<random>.part``)."""

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
"""A valid file name: letters, digits, ``.``, ``_``, ``-``; no ``/``, not starting with a dot."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    id       INTEGER PRIMARY KEY,
    name     TEXT    NOT NULL,
    version  INTEGER NOT NULL,
    size     INTEGER NOT NULL,
    sha256   TEXT    NOT NULL,
    path     TEXT    NOT NULL,
    added    REAL    NOT NULL{unique}
)"""


# --- 1. The index ---------------------------------------------------------------------------


def connect(db_path: str | os.PathLike[str], timeout: float = 10.0) -> sqlite3.Connection:
    """Open the index at ``db_path`` for this process.

    ``isolation_level=None`` leaves sqlite3 in autocommit mode: every statement is its own
    transaction unless the code says ``BEGIN`` itself, so the transactions in this module
    are exactly the ones written out. ``timeout`` is how long a writer waits for another
    writer's lock before ``sqlite3.OperationalError: database is locked``.
    """
    return sqlite3.connect(os.fspath(db_path), timeout=timeout, isolation_level=None)


def create_index(db_path: str | os.PathLike[str], unique: bool = True) -> None:
    """Create the ``files`` table in WAL mode (readers never wait for the writer).

    ``unique=True`` adds ``UNIQUE (name, version)``: the database itself then refuses a
    second row with the same version. The racing demo creates the table without it, to
    show what the race does when nothing stops it.
    """
    with closing(connect(db_path)) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(SCHEMA.format(unique=",\n    UNIQUE (name, version)" if unique else ""))


def valid_name(name: str) -> bool:
    """Whether ``name`` may be stored: ``NAME_PATTERN`` and nothing else (no ``../``)."""
    return NAME_PATTERN.fullmatch(name) is not None and ".." not in name


def stored_name(name: str, version: int) -> str:
    """The name of version ``version`` of ``name`` in the storage folder."""
    return f"{name}.v{version}"


@dataclass(frozen=True)
class Entry:
    """One row of the index."""

    name: str
    version: int
    size: int
    sha256: str
    path: str


def entries(db_path: str | os.PathLike[str]) -> list[Entry]:
    """Every row of the index, sorted by name and version."""
    with closing(connect(db_path)) as conn:
        rows = conn.execute("SELECT name, version, size, sha256, path FROM files "
                            "ORDER BY name, version, id").fetchall()
    return [Entry(*row) for row in rows]


def latest(conn: sqlite3.Connection, name: str, version: int | None = None) -> Entry | None:
    """The row of ``name`` (its highest version, or ``version``), or None."""
    if version is None:
        row = conn.execute("SELECT name, version, size, sha256, path FROM files WHERE name = ? "
                           "ORDER BY version DESC, id DESC LIMIT 1", (name,)).fetchone()
    else:
        row = conn.execute("SELECT name, version, size, sha256, path FROM files "
                           "WHERE name = ? AND version = ?", (name, version)).fetchone()
    return Entry(*row) if row else None


# --- 2. Receiving and committing an upload ------------------------------------------------


class ShortRead(Exception):
    """The client sent fewer bytes than its Content-Length said: it went away."""


def copy_body(stream: Any, length: int, out: Any, digest: Any) -> None:
    """Copy exactly ``length`` bytes of ``stream`` to the file ``out`` in chunks, adding them
    to ``digest`` (a hashlib object); ``ShortRead`` if the stream ends first."""
    left = length
    while left:
        chunk = stream.read(min(CHUNK, left))
        if not chunk:
            raise ShortRead(f"the client sent {length - left} of {length} bytes")
        digest.update(chunk)
        out.write(chunk)
        left -= len(chunk)


def receive_body(stream: Any, length: int, folder: Path) -> tuple[Path, str]:
    """Read exactly ``length`` bytes from ``stream`` into a temporary file in ``folder``,
    hashing them as they arrive; return the file's path and the sha256 (hex).

    The file is in the storage folder itself, so the final ``os.replace`` is a rename on one
    file system. If the stream ends early (the client disconnected) or fails (a socket
    timeout), the temporary file is removed and ``ShortRead`` raised: nothing is left.
    """
    tmp = folder / f"{PART_PREFIX}{uuid.uuid4().hex[:8]}.part"
    digest = hashlib.sha256()
    try:
        with open(tmp, "wb") as out:
            copy_body(stream, length, out, digest)
    except (OSError, ShortRead) as error:
        received = tmp.stat().st_size if tmp.exists() else 0
        tmp.unlink(missing_ok=True)
        if isinstance(error, ShortRead):
            raise
        raise ShortRead(f"the connection failed after {received} of {length} bytes: "
                        f"{type(error).__name__}") from error
    return tmp, digest.hexdigest()


def commit_upload(conn: sqlite3.Connection, folder: Path, name: str, tmp: Path, size: int,
                  sha256: str) -> Entry:
    """Give the complete temporary file ``tmp`` its version, its row and its final name, in
    ONE transaction.

    ``BEGIN IMMEDIATE`` takes SQLite's write lock before reading the highest version, so no
    other writer can pick the same number in between. Inside the transaction: insert the
    row, then ``os.replace`` the file to its final name, then ``COMMIT``. If anything fails
    before the commit (the write lock not free within the connection's ``timeout``
    included), ``ROLLBACK`` removes the row if there is one, the temporary file is deleted,
    and the error is raised; a crash between the rename and the commit leaves a file without
    a row (never a row without its file), and the next upload of that version replaces it.
    """
    try:
        conn.execute("BEGIN IMMEDIATE")
        (top,) = conn.execute("SELECT MAX(version) FROM files WHERE name = ?", (name,)).fetchone()
        version = (top or 0) + 1
        final = stored_name(name, version)
        conn.execute("INSERT INTO files (name, version, size, sha256, path, added) "
                     "VALUES (?, ?, ?, ?, ?, ?)", (name, version, size, sha256, final, time.time()))
        os.replace(tmp, folder / final)
        conn.execute("COMMIT")
    except BaseException:
        try:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
        finally:
            tmp.unlink(missing_ok=True)
        raise
    return Entry(name, version, size, sha256, final)


def naive_upload(conn: sqlite3.Connection, folder: Path, name: str, stream: Any,
                 length: int) -> Entry:
    """THE NAIVE UPLOAD (what not to do): read the highest version, insert the row (autocommit,
    no transaction), then write the body straight to its final name.

    A client that disconnects half-way leaves a committed row whose file is partial; two
    uploads at once can pick the same version. Used by section 3 of the notebook only.
    """
    (top,) = conn.execute("SELECT MAX(version) FROM files WHERE name = ?", (name,)).fetchone()
    version = (top or 0) + 1
    final = stored_name(name, version)
    conn.execute("INSERT INTO files (name, version, size, sha256, path, added) "
                 "VALUES (?, ?, ?, ?, ?, ?)", (name, version, length, "", final, time.time()))
    digest = hashlib.sha256()
    with open(folder / final, "wb") as out:
        copy_body(stream, length, out, digest)
    conn.execute("UPDATE files SET sha256 = ? WHERE name = ? AND version = ?",
                 (digest.hexdigest(), name, version))
    return Entry(name, version, length, digest.hexdigest(), final)


# --- 3. The worker processes ----------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    """What a worker process needs: the storage folder, the index, its ``role`` ("upload",
    "download" or "both"), whether uploads are done the safe way, and how long a writer
    waits for the index's write lock before it answers 503."""

    storage: str
    db_path: str
    role: str
    safe: bool = True
    lock_timeout: float = 10.0


class _Server(HTTPServer):
    """One worker's server: ONE request at a time (no threads); the process is the unit of
    concurrency. A backlog of 64 so that many clients connecting at once are queued rather
    than refused."""

    request_queue_size = 64

    def __init__(self, config: Config) -> None:
        super().__init__((HOST, 0), _Handler)
        self.config = config
        self.folder = Path(config.storage)
        self.db = connect(config.db_path, timeout=config.lock_timeout)
        self.counts = {"requests": 0, "uploads": 0, "downloads": 0, "aborted": 0, "refused": 0}


class _Handler(BaseHTTPRequestHandler):
    """The requests of one worker: ``PUT /files/<name>``, ``GET /files/<name>``, ``GET /status``."""

    server: _Server
    timeout = 5  # a client that stalls cannot hold this worker for more than 5 s
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: object) -> None:
        """No access log: the notebook's output stays clean."""

    def _reply(self, status: int, payload: dict[str, Any]) -> None:
        """Answer with ``status`` and ``payload`` as JSON (an error's ``{"error": why}``)."""
        body = json.dumps(payload).encode()
        if status >= 400:
            self.server.counts["refused"] += 1
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _name(self) -> str | None:
        """The file name in ``/files/<name>``; replies 400 or 404 and returns None if bad."""
        path = urlsplit(self.path).path
        if not path.startswith("/files/"):
            self._reply(404, {"error": f"no such endpoint {path!r}; use /files/<name>"})
            return None
        name = path[len("/files/"):]
        if not valid_name(name):
            self._reply(400, {"error": f"bad file name {name!r}: use letters, digits, '.', "
                                       f"'_' and '-' only, no '/' and no '..'"})
            return None
        return name

    def _role_allows(self, action: str) -> bool:
        """Whether this worker serves ``action``; if not, answer 405 and return False."""
        if self.server.config.role in (action, "both"):
            return True
        self._reply(405, {"error": f"this worker serves {self.server.config.role}s only"})
        return False

    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        """A download (``/files/<name>``, ``?version=N`` for an older one) or ``/status``."""
        self.server.counts["requests"] += 1
        if urlsplit(self.path).path == "/status":
            self._reply(200, {"role": self.server.config.role, **self.server.counts})
            return
        if not self._role_allows("download"):
            return
        name = self._name()
        if name is None:
            return
        query = urlsplit(self.path).query
        version = int(query[len("version="):]) if query.startswith("version=") and \
            query[len("version="):].isdigit() else None
        entry = latest(self.server.db, name, version)  # autocommit: a consistent snapshot
        if entry is None:
            self._reply(404, {"error": f"no file named {name!r}"
                                       + (f" with version {version}" if version else "")})
            return
        try:
            data = (self.server.folder / entry.path).read_bytes()
        except FileNotFoundError:
            self._reply(500, {"error": f"the index lists {entry.path!r} but it is missing"})
            return
        self.server.counts["downloads"] += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Version", str(entry.version))
        self.send_header("X-Sha256", entry.sha256)
        self.end_headers()
        self.wfile.write(data)

    def do_PUT(self) -> None:  # noqa: N802
        """An upload of ``/files/<name>``; the body is the file, Content-Length is required."""
        self.server.counts["requests"] += 1
        if not self._role_allows("upload"):
            return
        name = self._name()
        if name is None:
            return
        declared = self.headers.get("Content-Length")
        if declared is None:
            self._reply(411, {"error": "Content-Length is required: the service must know "
                                       "how many bytes make a complete file"})
            return
        if not declared.isdigit():
            self._reply(400, {"error": f"bad Content-Length {declared!r}"})
            return
        length = int(declared)
        if length > MAX_SIZE:
            self._reply(413, {"error": f"{length} bytes is more than the limit of {MAX_SIZE}"})
            return
        folder, db = self.server.folder, self.server.db
        try:
            if self.server.config.safe:
                tmp, sha256 = receive_body(self.rfile, length, folder)
                expected = self.headers.get("X-Sha256")
                if expected and expected != sha256:
                    tmp.unlink(missing_ok=True)
                    self._reply(400, {"error": "the body's sha256 differs from X-Sha256"})
                    return
                entry = commit_upload(db, folder, name, tmp, length, sha256)
            else:
                entry = naive_upload(db, folder, name, self.rfile, length)
        except ShortRead:
            self.server.counts["aborted"] += 1
            self.close_connection = True  # nobody is listening for a reply
            return
        except sqlite3.OperationalError as error:  # the index stayed locked past the timeout
            self.server.counts["refused"] += 1
            self._reply(503, {"error": f"the index is busy ({error}): nothing was stored, "
                                       "try again"})
            return
        self.server.counts["uploads"] += 1
        self._reply(201, {"name": entry.name, "version": entry.version, "size": entry.size,
                          "sha256": entry.sha256})


def serve(config: Config, conn: Any) -> None:
    """THE WORKER PROCESS: serve ``config.role`` requests on 127.0.0.1 (a free port) until
    the parent says stop.

    Sends ``("ready", port)`` (or ``("error", message)``) through ``conn``; a thread then
    waits on ``conn`` and shuts the server down when the parent sends anything, when the
    parent's end is closed (under spawn and forkserver; a fork child holds a copy of that
    end) or when the parent process has ended: a worker never outlives its service.
    """
    try:
        server = _Server(config)
    except Exception as error:  # reported to the parent, which raises it
        conn.send(("error", f"{type(error).__name__}: {error}"))
        conn.close()
        return
    conn.send(("ready", server.server_address[1]))

    def wait_for_stop() -> None:
        """Wait for the parent's stop message, its closed pipe or its death; then stop."""
        import multiprocessing

        parent = multiprocessing.parent_process()
        try:
            while not conn.poll(0.2):
                if parent is not None and not parent.is_alive():
                    break  # the parent died without saying stop
            else:
                conn.recv()
        except (EOFError, OSError):
            pass
        server.shutdown()

    watcher = threading.Thread(target=wait_for_stop, name="stop-watcher", daemon=True)
    watcher.start()
    try:
        server.serve_forever(poll_interval=0.05)
    finally:
        server.server_close()
        server.db.close()
        try:
            conn.send(("stopped", dict(server.counts)))
        except (OSError, ValueError):
            pass
        conn.close()


@dataclass
class _Worker:
    """One worker process as its service sees it: role, process, pipe end, port, counters."""

    role: str
    process: Any
    conn: Any
    port: int
    counts: dict[str, int] = field(default_factory=dict)


class FileService:
    """Upload and download worker processes over one storage folder and one index.

    ``FileService(folder, uploaders=2, downloaders=2)`` starts two upload workers and two
    download workers; ``FileService(folder, both=1)`` starts one process that does both.
    ``safe=False`` makes the upload workers use ``naive_upload``; ``lock_timeout`` is how
    long an upload waits for the index's write lock (then: 503). The folder holds the
    files and ``index.sqlite``. Leaving the ``with`` block stops every worker: a stop
    message, a join with a timeout, then ``terminate`` and ``kill`` if needed.
    """

    def __init__(self, folder: str | os.PathLike[str], uploaders: int = 2, downloaders: int = 2,
                 both: int = 0, safe: bool = True, context: Any = None,
                 start_timeout: float = 30.0, lock_timeout: float = 10.0) -> None:
        import multiprocessing

        self.folder = Path(folder)
        self.db_path = self.folder / "index.sqlite"
        self.roles = ["upload"] * uploaders + ["download"] * downloaders + ["both"] * both
        self.safe = safe
        self.context = context or multiprocessing.get_context()
        self.start_timeout = start_timeout
        self.lock_timeout = lock_timeout
        self.workers: list[_Worker] = []
        self._turn = {"upload": 0, "download": 0}
        self._lock = threading.Lock()

    def start(self) -> FileService:
        """Create the folder and the index, start the workers, wait for each one's port."""
        self.folder.mkdir(parents=True, exist_ok=True)
        create_index(self.db_path)
        try:
            for i, role in enumerate(self.roles):
                parent_end, child_end = self.context.Pipe()
                config = Config(str(self.folder), str(self.db_path), role, self.safe,
                                self.lock_timeout)
                process = self.context.Process(target=serve, args=(config, child_end),
                                               name=f"fileservice-{role}-{i}", daemon=True)
                process.start()
                child_end.close()
                self.workers.append(_Worker(role, process, parent_end, 0))
            for worker in self.workers:
                if not worker.conn.poll(self.start_timeout):
                    raise TimeoutError(f"a {worker.role} worker did not report its port")
                status, value = worker.conn.recv()
                if status != "ready":
                    raise RuntimeError(f"a {worker.role} worker failed to start: {value}")
                worker.port = value
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Ask every worker to stop, join each (``timeout``), terminate or kill stragglers."""
        for worker in self.workers:
            try:
                worker.conn.send("stop")
            except (OSError, ValueError):
                pass
        deadline = time.monotonic() + timeout
        for worker in self.workers:
            try:
                if worker.conn.poll(max(0.0, deadline - time.monotonic())):
                    status, value = worker.conn.recv()
                    if status == "stopped":
                        worker.counts = value
            except (EOFError, OSError, ValueError):
                pass
            worker.process.join(max(0.1, deadline - time.monotonic()))
            if worker.process.is_alive():
                worker.process.terminate()
                worker.process.join(5)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(5)
            worker.conn.close()
        self.stopped = list(self.workers)
        self.workers = []

    def urls(self, role: str) -> list[str]:
        """The base URLs (``http://127.0.0.1:PORT``) of the workers that serve ``role``."""
        return [f"http://{HOST}:{w.port}" for w in self.workers if w.role in (role, "both")]

    def next_url(self, role: str) -> str:
        """The base URL of the next worker for ``role`` ("upload" or "download"), round robin."""
        urls = self.urls(role)
        with self._lock:
            turn = self._turn[role]
            self._turn[role] = turn + 1
        return urls[turn % len(urls)]

    def upload(self, name: str, data: bytes) -> tuple[int, dict[str, Any]]:
        """Upload ``data`` as ``name`` to the next upload worker; (status, JSON reply)."""
        return put_file(self.next_url("upload"), name, data)

    def download(self, name: str, version: int | None = None) -> tuple[int, bytes]:
        """Download ``name`` from the next download worker; (status, body)."""
        return get_file(self.next_url("download"), name, version)

    def status(self) -> list[dict[str, Any]]:
        """Each worker's counters (requests, uploads, downloads, aborted, refused)."""
        return [json.loads(raw_request(url, "GET", "/status")[1]) for url in
                [f"http://{HOST}:{w.port}" for w in self.workers]]

    def __enter__(self) -> FileService:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- 4. Clients -------------------------------------------------------------------------------


def raw_request(base_url: str, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None, timeout: float = 15.0
                ) -> tuple[int, bytes, dict[str, str]]:
    """One HTTP request with ``http.client``; returns (status, body, headers)."""
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read(), dict(response.getheaders())
    finally:
        conn.close()


def put_file(base_url: str, name: str, data: bytes, timeout: float = 15.0,
             pieces: int = 1, pause: float = 0.0) -> tuple[int, dict[str, Any]]:
    """Upload ``data`` as ``name``; returns (status, the service's JSON reply).

    ``pieces`` > 1 sends the body in that many parts with ``pause`` seconds before each
    part after the first: a client on a slow network, which holds the worker that serves it.
    """
    if pieces <= 1:
        status, body, _ = raw_request(base_url, "PUT", f"/files/{name}", data,
                                      {"Content-Length": str(len(data))}, timeout)
        return status, json.loads(body)
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.putrequest("PUT", f"/files/{name}")
        conn.putheader("Content-Length", str(len(data)))
        conn.endheaders()
        step = -(-len(data) // pieces)
        for start in range(0, len(data), step):
            if start:
                time.sleep(pause)
            conn.send(data[start:start + step])
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def get_file(base_url: str, name: str, version: int | None = None, timeout: float = 15.0
             ) -> tuple[int, bytes]:
    """Download ``name`` (its latest version, or ``version``); returns (status, body)."""
    path = f"/files/{name}" + (f"?version={version}" if version else "")
    status, body, _ = raw_request(base_url, "GET", path, timeout=timeout)
    return status, body


def send_partial(base_url: str, name: str, declared: int, sent: int, timeout: float = 10.0
                 ) -> None:
    """A client that goes away mid-upload: announce ``declared`` bytes, send ``sent`` of
    them on a raw socket, and close the connection without waiting for a reply."""
    parts = urlsplit(base_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        sock.sendall(f"PUT /files/{name} HTTP/1.1\r\nHost: {HOST}\r\n"
                     f"Content-Length: {declared}\r\n\r\n".encode())
        sock.sendall(content(name, sent))


def send_raw(base_url: str, head: str, body: bytes = b"", timeout: float = 10.0
             ) -> tuple[int, str]:
    """Send a hand-written request (``head``: request line and headers, no blank line) on
    a raw socket, for requests that ``http.client`` would correct (a PUT without
    Content-Length); return the status and the reply's body as text."""
    parts = urlsplit(base_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        sock.sendall(head.encode() + b"\r\n\r\n" + body)
        sock.shutdown(socket.SHUT_WR)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    head_part, _, body_part = reply.partition(b"\r\n\r\n")
    return int(head_part.split()[1]), body_part.decode()


def content(name: str, size: int) -> bytes:
    """Deterministic bytes for a test file: ``size`` bytes derived from ``name``."""
    seed = hashlib.sha256(name.encode()).digest()
    block = hashlib.sha256(seed + b"block").digest() * 2048  # 64 KiB
    return (block * (size // len(block) + 1))[:size]


def sha256_of(data: bytes) -> str:
    """The hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


# --- 5. Writers without and with a transaction ------------------------------------------------


def add_versions(db_path: str, names: list[str], rounds: int, begin: str | None,
                 pause: float = 0.002) -> tuple[int, list[str]]:
    """A WRITER PROCESS: try to add ``rounds`` versions of each of ``names`` to the index;
    return how many rows it inserted and the distinct errors it met.

    Each version is "read the highest version, pause ``pause`` seconds (the time a real
    writer spends on the file), insert highest + 1". With ``begin=None`` the read and the
    insert are separate autocommit statements: another writer can read the same highest
    version in between, and both insert the same number. With ``begin="BEGIN IMMEDIATE"``
    all three steps run in one transaction that takes the write lock first: the other
    writers wait. With a plain ``"BEGIN"`` the lock is taken only at the insert; a writer
    that has already read when another holds or has taken the lock fails with ``database is
    locked`` at once, whatever the ``timeout``: SQLite never lets a transaction that has read
    wait for the write lock (the wait could deadlock, and once the other commits, the read is
    stale), and that version is not added.
    """
    inserted, errors = 0, set()
    with closing(connect(db_path)) as conn:
        for _ in range(rounds):
            for name in names:
                try:
                    if begin:
                        conn.execute(begin)
                    (top,) = conn.execute("SELECT MAX(version) FROM files WHERE name = ?",
                                          (name,)).fetchone()
                    time.sleep(pause)
                    version = (top or 0) + 1
                    conn.execute("INSERT INTO files (name, version, size, sha256, path, added) "
                                 "VALUES (?, ?, 0, '', ?, ?)",
                                 (name, version, stored_name(name, version), time.time()))
                    if begin:
                        conn.execute("COMMIT")
                    inserted += 1
                except sqlite3.OperationalError as error:
                    errors.add(f"{type(error).__name__}: {error}")
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
    return inserted, sorted(errors)


def version_summary(db_path: str | os.PathLike[str]) -> dict[str, Any]:
    """Count the index's rows and distinct (name, version) pairs: a row whose version another
    row already has is a lost entry (a download of that version finds only one of them)."""
    with closing(connect(db_path)) as conn:
        (rows,) = conn.execute("SELECT COUNT(*) FROM files").fetchone()
        (distinct,) = conn.execute(
            "SELECT COUNT(*) FROM (SELECT DISTINCT name, version FROM files)").fetchone()
        gaps = conn.execute("SELECT name, MAX(version), COUNT(DISTINCT version) FROM files "
                            "GROUP BY name").fetchall()
    return {"rows": rows, "distinct": distinct, "lost": rows - distinct,
            "versions 1..n without gaps": all(top == count for _, top, count in gaps)}


# --- 6. Verification --------------------------------------------------------------------------


@dataclass
class Check:
    """What ``verify`` found: counts and a list of problems (empty when all is well)."""

    rows: int
    files: int
    temporary: list[str]
    problems: list[str]

    @property
    def ok(self) -> bool:
        """True when every row has its complete file, no file lacks a row, nothing is left."""
        return not self.problems and not self.temporary and self.rows == self.files

    def lines(self) -> list[str]:
        """The check as lines to print."""
        return [f"rows in the index: {self.rows}, stored files: {self.files}, "
                f"one file per row: {self.rows == self.files}",
                f"temporary files left: {len(self.temporary)}",
                f"problems: {len(self.problems)}"] + [f"  {p}" for p in self.problems]


def verify(folder: str | os.PathLike[str]) -> Check:
    """Check the service's folder against its index: every row's file exists with the row's
    size and sha256, no two rows share a (name, version), every stored file has a row, and
    no temporary file is left."""
    folder = Path(folder)
    rows = entries(folder / "index.sqlite")
    problems = []
    seen: set[tuple[str, int]] = set()
    for row in rows:
        label = f"{row.name} v{row.version}"
        if (row.name, row.version) in seen:
            problems.append(f"{label}: two rows claim this version")
        seen.add((row.name, row.version))
        path = folder / row.path
        if not path.exists():
            problems.append(f"{label}: file {row.path} is missing")
            continue
        data = path.read_bytes()
        if len(data) != row.size:
            problems.append(f"{label}: {len(data)} bytes on disk, the row says {row.size}")
        elif sha256_of(data) != row.sha256:
            problems.append(f"{label}: sha256 differs from the row's")
    listed = {row.path for row in rows}
    index_files = {f"index.sqlite{suffix}" for suffix in ("", "-wal", "-shm", "-journal")}
    stored = [p.name for p in folder.iterdir()
              if p.is_file() and p.name not in index_files and not p.name.startswith(".")]
    problems += [f"{name}: a file that no row lists" for name in sorted(set(stored) - listed)]
    temporary = sorted(p.name for p in folder.iterdir() if p.name.startswith(PART_PREFIX))
    return Check(len(rows), len(stored), temporary, problems)


# --- 7. Many clients at once ------------------------------------------------------------------


def load_plan(names: list[str], uploads: int) -> list[tuple[str, int]]:
    """The requests of a load, in a fixed shuffled order: two downloads of each of ``names``
    (``("get", i)``) and ``uploads`` uploads of new names (``("put", i)``)."""
    ops = [("get", i) for i in range(2 * len(names))] + [("put", i) for i in range(uploads)]
    if len(ops) % 7:
        ops = [ops[(i * 7) % len(ops)] for i in range(len(ops))]  # 7 and len are coprime
    return ops


def client_request(service: FileService, op: tuple[str, int], names: list[str],
                   sizes: list[int], slow: bool = False) -> tuple[bool, float | None]:
    """ONE CLIENT REQUEST of a load: ``("put", i)`` uploads ``load-<i>`` (in 4 parts 10 ms
    apart if ``slow``: a client on a slow network), ``("get", i)`` downloads
    ``names[i % len(names)]``, which must have been uploaded with ``content(name, size)``.

    Returns whether it was answered correctly (201 and the right sha256; 200 and the right
    bytes) and, for a download, how long it took (seconds; None for an upload).
    """
    kind, i = op
    if kind == "put":
        name = f"load-{i}"
        data = content(name, sizes[i % len(sizes)])
        status, reply = put_file(service.next_url("upload"), name, data,
                                 pieces=4 if slow else 1, pause=0.01)
        return status == 201 and reply.get("sha256") == sha256_of(data), None
    index = i % len(names)
    started = time.perf_counter()
    status, body = service.download(names[index])
    seconds = time.perf_counter() - started
    expected = sha256_of(content(names[index], sizes[index % len(sizes)]))
    return status == 200 and sha256_of(body) == expected, seconds


def client_load(service: FileService, names: list[str], uploads: int, sizes: list[int],
                threads: int = 16, slow: bool = False) -> dict[str, Any]:
    """Run ``load_plan(names, uploads)`` from ``threads`` client threads with
    ``client_request``; return the wall time, the median download time, and how many
    requests were made and answered correctly."""
    import statistics
    from concurrent.futures import ThreadPoolExecutor

    ops = load_plan(names, uploads)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as executor:
        results = list(executor.map(
            lambda op: client_request(service, op, names, sizes, slow), ops))
    return {"seconds": time.perf_counter() - started, "requests": len(ops),
            "correct": sum(ok for ok, _ in results),
            "download": statistics.median(t for _, t in results if t is not None)}


def orphan_service(folder: str) -> None:
    """For a test: start a service with the default start method, write its workers' pids to
    ``<folder>/../pids.txt`` and kill this process with SIGKILL, so no ``__exit__`` runs."""
    import signal

    service = FileService(folder, uploaders=1, downloaders=1).start()
    pids = " ".join(str(w.process.pid) for w in service.workers)
    (Path(folder).parent / "pids.txt").write_text(pids)
    os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))
