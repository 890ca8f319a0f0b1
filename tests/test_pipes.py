"""helpers.pipes: the workers of notebook 04_pipe, run under every start method."""

from __future__ import annotations

import os
import struct
import sys

import pytest

import helpers  # noqa: F401  (installs the guard, as in the notebooks)
from helpers import pipes

SIZE = 100_000


def start(ctx, target, *args, name="worker"):
    process = ctx.Process(target=target, args=args, name=name)
    process.start()
    return process


def drain(conn) -> list:
    """Everything received on ``conn`` until EOFError (waits at most 10 s per message)."""
    items = []
    while True:
        assert conn.poll(10), "no message and no EOF within 10 s"
        try:
            items.append(conn.recv())
        except EOFError:
            return items


def test_report_identity_describes_the_child(mp_context) -> None:
    parent_end, child_end = mp_context.Pipe()
    child = start(mp_context, pipes.report_identity, child_end, "hi", name="child-x")
    child_end.close()
    (info,) = drain(parent_end)
    child.join()
    parent_end.close()
    assert info["greeting"] == "hi"
    assert info["name"] == "child-x"
    assert info["pid"] == child.pid != os.getpid()
    assert info["parent_pid"] == os.getpid()
    if mp_context.get_start_method() == "forkserver":
        assert info["ppid"] != os.getpid()  # forked by the server, not by us
    else:
        assert info["ppid"] == os.getpid()


def test_send_items_sends_in_order_then_closes(mp_context) -> None:
    parent_end, child_end = mp_context.Pipe()
    child = start(mp_context, pipes.send_items, child_end, ["a", 2, [3]])
    child_end.close()
    assert drain(parent_end) == ["a", 2, [3]]
    child.join()
    parent_end.close()
    assert child.exitcode == 0


def test_send_after_sends_the_value_then_closes(mp_context) -> None:
    receive_end, send_end = mp_context.Pipe(duplex=False)
    child = start(mp_context, pipes.send_after, send_end, 0.05, {"v": 1})
    send_end.close()
    assert drain(receive_end) == [{"v": 1}]
    child.join()
    receive_end.close()


def test_send_blob_cannot_finish_until_read(mp_context) -> None:
    parent_end, child_end = mp_context.Pipe()
    child = start(mp_context, pipes.send_blob, child_end, 1 << 20)
    child_end.close()
    child.join(timeout=1)
    assert child.is_alive()  # blocked in send_bytes: the message does not fit in the buffer
    data = parent_end.recv_bytes()
    child.join(timeout=10)
    parent_end.close()
    assert data == b"x" * (1 << 20)
    assert child.exitcode == 0


def run_count_until_eof(ctx, close_inherited: bool) -> int | None:
    """The count the reader reports, or None if it never saw EOFError (then it is stopped)."""
    parent_end, child_end = ctx.Pipe()
    result_receive, result_send = ctx.Pipe(duplex=False)
    extra = (parent_end,) if close_inherited else ()
    child = start(ctx, pipes.count_until_eof, child_end, result_send, *extra)
    child_end.close()
    result_send.close()
    assert parent_end.poll(10) and parent_end.recv() == "started"
    for i in range(4):
        parent_end.send(i)
    parent_end.close()
    count = result_receive.recv() if result_receive.poll(2) else None
    if count is None:
        child.terminate()
    child.join()
    result_receive.close()
    return count


def test_count_until_eof_when_the_child_closes_the_unused_end(mp_context) -> None:
    assert run_count_until_eof(mp_context, close_inherited=True) == 4


def test_count_until_eof_never_ends_under_fork_without_closing(mp_context) -> None:
    count = run_count_until_eof(mp_context, close_inherited=False)
    if mp_context.get_start_method() == "fork":
        assert count is None  # the inherited copy of the parent's end keeps the pipe open
    else:
        assert count == 4


def test_serve_requests_answers_and_reports_errors(mp_context) -> None:
    client, server_end = mp_context.Pipe()
    server = start(mp_context, pipes.serve_requests, server_end)
    server_end.close()
    replies = []
    for request in [("add", 2, 3), ("sub", 2, 3), ("mul", 4, 5), ("div", 1, 4), ("div", 1, 0),
                    ("pow", 2, 3), "not a triple"]:
        client.send(request)
        replies.append(client.recv())
    client.send(None)
    server.join(timeout=10)
    client.close()
    assert replies == [("ok", 5), ("ok", -1), ("ok", 20), ("ok", 0.25),
                       ("error", "ZeroDivisionError"), ("error", "ValueError"),
                       ("error", "ValueError")]
    assert server.exitcode == 0


def test_echo_returns_what_it_gets(mp_context) -> None:
    client, server_end = mp_context.Pipe()
    server = start(mp_context, pipes.echo, server_end)
    server_end.close()
    for message in [b"x" * 100, bytes(1 << 20), {"a": [1, 2]}]:
        client.send(message)
        assert client.recv() == message
    client.send(None)
    server.join(timeout=10)
    client.close()
    assert server.exitcode == 0


def test_echo_queue_returns_what_it_gets(mp_context) -> None:
    requests, replies = mp_context.Queue(), mp_context.Queue()
    server = start(mp_context, pipes.echo_queue, requests, replies)
    for message in [b"x" * 100, bytes(1 << 20), ("t", 1)]:
        requests.put(message)
        assert replies.get(timeout=10) == message
    requests.put(None)
    server.join(timeout=10)
    for q in (requests, replies):
        q.close()
        q.join_thread()
    assert server.exitcode == 0


def test_two_writers_on_one_end_corrupt_the_stream(mp_context) -> None:
    size = 1 << 20
    receive_end, send_end = mp_context.Pipe(duplex=False)
    go = mp_context.Event()
    writers = [start(mp_context, pipes.send_forever, send_end, go, tag, size) for tag in (b"A", b"B")]
    send_end.close()
    go.set()
    intact, verdict = pipes.read_until_corrupt(receive_end, size, (b"A", b"B"), limit=500)
    receive_end.close()
    for writer in writers:
        writer.terminate()
        writer.join()
    assert verdict == "corrupted"
    assert intact < 500


def test_send_forever_stops_when_the_reader_goes(mp_context) -> None:
    receive_end, send_end = mp_context.Pipe(duplex=False)
    go = mp_context.Event()
    go.set()
    writer = start(mp_context, pipes.send_forever, send_end, go, b"Z", SIZE)
    send_end.close()
    assert pipes.read_until_corrupt(receive_end, SIZE, (b"Z",), limit=3) == (3, "limit")
    receive_end.close()
    writer.join(timeout=5)
    if mp_context.get_start_method() == "fork":
        # A fork child inherited a copy of the read end, so its pipe never breaks.
        writer.terminate()
        writer.join()
    else:
        assert writer.exitcode == 0  # BrokenPipeError caught: a quiet exit


def test_send_repeated_under_a_lock_keeps_messages_whole(mp_context) -> None:
    receive_end, send_end = mp_context.Pipe(duplex=False)
    lock = mp_context.Lock()
    writers = [start(mp_context, pipes.send_repeated, send_end, lock, tag, SIZE, 15)
               for tag in (b"A", b"B")]
    send_end.close()
    assert pipes.read_until_corrupt(receive_end, SIZE, (b"A", b"B"), limit=100) == (30, "EOF")
    receive_end.close()
    for writer in writers:
        writer.join(timeout=10)
        assert writer.exitcode == 0


def test_read_until_corrupt_classifies_messages() -> None:
    from multiprocessing import Pipe

    receive_end, send_end = Pipe(duplex=False)
    for message in (b"AAAA", b"BBBB", b"ABAB"):
        send_end.send_bytes(message)
    assert pipes.read_until_corrupt(receive_end, 4, (b"A", b"B"), limit=10) == (2, "corrupted")
    send_end.send_bytes(b"AAAA")
    send_end.send_bytes(b"AAA")  # too short
    assert pipes.read_until_corrupt(receive_end, 4, (b"A",), limit=10) == (1, "corrupted")
    send_end.send_bytes(b"BBBB")
    send_end.send_bytes(b"BBBB")
    assert pipes.read_until_corrupt(receive_end, 4, (b"B",), limit=1) == (1, "limit")
    send_end.close()
    assert pipes.read_until_corrupt(receive_end, 4, (b"B",), limit=5) == (1, "EOF")
    receive_end.close()


@pytest.mark.skipif(sys.platform == "win32", reason="writes to the pipe's file descriptor")
def test_read_until_corrupt_detects_a_garbage_length_header() -> None:
    from multiprocessing import Pipe

    receive_end, send_end = Pipe(duplex=False)
    os.write(send_end.fileno(), struct.pack("!i", 4) + b"AAAA" + b"AAAAAAAA")
    assert pipes.read_until_corrupt(receive_end, 4, (b"A",), limit=10) == (1, "corrupted")
    receive_end.close()
    send_end.close()


def test_hello_sends_the_greeting_and_pids(mp_context) -> None:
    receive_end, send_end = mp_context.Pipe(duplex=False)
    child = start(mp_context, pipes.hello, send_end, 7)
    send_end.close()
    ((greeting, ppid, pid),) = drain(receive_end)
    child.join()
    receive_end.close()
    assert greeting == ["hello7"]
    assert pid == child.pid
    assert isinstance(ppid, int) and ppid != pid


def test_two_readers_on_one_end_corrupt_the_stream(mp_context) -> None:
    import queue

    receive_end, send_end = mp_context.Pipe(duplex=False)
    go = mp_context.Event()
    verdicts = mp_context.Queue()
    writer = start(mp_context, pipes.send_forever, send_end, go, b"A", 1 << 20)
    readers = [start(mp_context, pipes.read_alongside, receive_end, 1 << 20, b"A", 200, verdicts)
               for _ in range(2)]
    receive_end.close()
    send_end.close()
    go.set()
    try:
        intact, verdict = verdicts.get(timeout=20)
    except queue.Empty:
        intact, verdict = None, "no reader finished"
    for process in (writer, *readers):
        process.terminate()
        process.join()
    assert verdict == "corrupted" and intact < 200
