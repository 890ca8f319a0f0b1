"""Worker code for notebook 04_pipe: two-way connections between processes.

``multiprocessing.Pipe()`` returns two ``Connection`` objects joined by an operating-system
pipe (a socket pair or a named pipe). Every function here that runs in a child takes its
end of a pipe as an argument, sends its results back through it instead of printing, and
closes the end when it is done, so that the reader sees ``EOFError`` once every writer has
finished.
"""

from __future__ import annotations

import operator
import os
import time
from multiprocessing import current_process, parent_process
from multiprocessing.connection import Connection
from typing import Any

# The operations the request/response worker ``serve_requests`` knows.
OPERATIONS = {"add": operator.add, "sub": operator.sub, "mul": operator.mul,
              "div": operator.truediv}


def report_identity(conn: Connection, greeting: str) -> None:
    """Send one dict describing this child (its name, pid, parent pids), then close ``conn``.

    The parent prints the facts it derives from them, so that no output comes from the child.
    ``os.getppid()`` is the process that started this one at the operating-system level;
    ``parent_process().pid`` is the process that created the ``Process`` object.
    """
    parent = parent_process()
    conn.send({
        "greeting": greeting,
        "name": current_process().name,
        "pid": os.getpid(),
        "ppid": os.getppid(),
        "parent_pid": parent.pid if parent is not None else None,
    })
    conn.close()


def send_items(conn: Connection, items: list[Any]) -> None:
    """Send each item of ``items`` in order, then close ``conn`` (the reader then gets EOFError)."""
    for item in items:
        conn.send(item)
    conn.close()


def send_after(conn: Connection, delay: float, value: Any) -> None:
    """Sleep ``delay`` seconds, send ``value``, then close ``conn``: a worker that takes time."""
    time.sleep(delay)
    conn.send(value)
    conn.close()


def send_blob(conn: Connection, size: int) -> None:
    """Send ``size`` bytes in one message with ``send_bytes``, then close ``conn``.

    ``send_bytes`` returns only once the reader has taken what did not fit in the pipe's
    buffer, so a child sending a large message cannot exit before the parent reads it.
    """
    conn.send_bytes(b"x" * size)
    conn.close()


def count_until_eof(conn: Connection, result: Connection, unused_end: Connection | None = None) -> None:
    """Receive from ``conn`` until EOFError, then send the number of messages on ``result``.

    ``conn`` first sends ``"started"`` so that the parent knows the child is running. If
    ``unused_end`` is given (the parent's end of the same pipe), the child closes it first:
    under fork the child inherits a copy of it, and while any copy of the far end is open
    ``recv`` waits for more data instead of raising EOFError.
    """
    if unused_end is not None:
        unused_end.close()
    conn.send("started")
    count = 0
    while True:
        try:
            conn.recv()
        except EOFError:
            break
        count += 1
    conn.close()
    result.send(count)
    result.close()


def serve_requests(conn: Connection) -> None:
    """Answer requests on ``conn`` until it receives ``None``: a request/response worker.

    A request is ``(operation, a, b)`` with an operation of ``OPERATIONS``. The reply is
    ``("ok", result)``, or ``("error", text)`` when the request fails: the worker sends the
    failure back and keeps serving instead of dying.
    """
    while True:
        request = conn.recv()
        if request is None:
            break
        try:
            operation, a, b = request
            if operation not in OPERATIONS:
                raise ValueError(f"unknown operation {operation!r}")
            reply: tuple[str, Any] = ("ok", OPERATIONS[operation](a, b))
        except Exception as exc:  # report every failure to the caller, keep serving
            reply = ("error", type(exc).__name__)
        conn.send(reply)
    conn.close()


def echo(conn: Connection) -> None:
    """Send back every object received on ``conn`` until it receives ``None``."""
    while True:
        message = conn.recv()
        if message is None:
            break
        conn.send(message)
    conn.close()


def echo_queue(requests: Any, replies: Any) -> None:
    """Put every object got from the queue ``requests`` on ``replies`` until ``None`` arrives."""
    while True:
        message = requests.get()
        if message is None:
            break
        replies.put(message)


def send_forever(conn: Connection, go: Any, tag: bytes, size: int) -> None:
    """Wait for the event ``go``, then send ``tag * size`` on ``conn`` again and again.

    Two of these sharing one end of a pipe show how concurrent writers corrupt the stream.
    The loop ends when the pipe breaks (the reader closed its end) or when the parent
    terminates the process.
    """
    message = tag * size
    go.wait(10)
    try:
        while True:
            conn.send_bytes(message)
    except OSError:  # BrokenPipeError once the reader has gone
        pass


def send_repeated(conn: Connection, lock: Any, tag: bytes, size: int, count: int) -> None:
    """Send ``tag * size`` ``count`` times on ``conn``, each send under ``lock``, then close.

    Holding the lock for the whole ``send_bytes`` keeps another writer's bytes from landing
    in the middle of this message, so writers may share one end of a pipe.
    """
    message = tag * size
    for _ in range(count):
        with lock:
            conn.send_bytes(message)
    conn.close()


def read_until_corrupt(conn: Connection, size: int, tags: tuple[bytes, ...], limit: int) -> tuple[int, str]:
    """Read up to ``limit`` messages that should each be one tag repeated ``size`` times.

    Returns ``(intact, verdict)``: the number of intact messages read, and ``"corrupted"``
    (a message mixed two writers' bytes, or its length header was garbage), ``"EOF"`` (every
    writer finished and closed its end) or ``"limit"``. Runs in the parent.
    """
    expected = {tag * size for tag in tags}
    intact = 0
    while intact < limit:
        try:
            message = conn.recv_bytes(maxlength=2 * size)
        except EOFError:
            return intact, "EOF"
        except OSError:  # "bad message length": the 4-byte header came from the middle of a message
            return intact, "corrupted"
        if message not in expected:
            return intact, "corrupted"
        intact += 1
    return intact, "limit"


def read_alongside(conn: Connection, size: int, tag: bytes, limit: int, verdicts: Any) -> None:
    """Read up to ``limit`` messages of ``tag * size`` from ``conn`` while another process
    reads the same end, then put ``(intact, verdict)`` on the queue ``verdicts`` (see
    ``read_until_corrupt``). The other reader can be left waiting for bytes this one took:
    the parent stops both."""
    verdicts.put(read_until_corrupt(conn, size, (tag,), limit))


def hello(conn: Connection, i: int) -> None:
    """The seed article's ``f(conn, name)`` redone: send ``['hello<i>']`` and the pids, close.

    The original slept one second and printed ``os.getppid()`` and ``os.getpid()`` from the
    child; here the child sends them, and the parent prints what it makes of them.
    """
    conn.send((["hello" + str(i)], os.getppid(), os.getpid()))
    conn.close()
