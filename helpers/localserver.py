"""A local web server for the download demos: no internet, a latency you choose.

The seeds' downloader fetched pages from a public search engine. The course serves its own
pages on 127.0.0.1 instead, so the demos run offline, the same way on every machine, and
with a set delay per request that makes the cost of waiting (what threads hide) visible.

    with LocalServer(latency=0.2) as server:
        requests.get(server.url("/page/3"))

Pages are ``/page/<n>``: a small HTML document whose body depends only on ``n``. The server
runs in a thread of the current process and ``stop()`` (or leaving the ``with`` block) shuts
it down and joins that thread, so nothing is left behind.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOST = "127.0.0.1"


def page_body(number: int) -> bytes:
    """The HTML of page ``number``: deterministic, so a download can be checked."""
    words = " ".join(f"word{number}-{i}" for i in range(50 + number % 7))
    return f"<html><head><title>Page {number}</title></head><body><p>{words}</p></body></html>".encode()


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = 10  # a client that connects and sends nothing cannot hold a thread for ever

    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        self.server.count_request()
        time.sleep(self.server.latency)
        parts = self.path.strip("/").split("/")
        if len(parts) == 2 and parts[0] == "page" and parts[1].isdigit():
            body, status = page_body(int(parts[1])), 200
        else:
            body, status = b"not found", 404
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Keep notebook output clean: no access log on stderr."""


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # so that server_close() joins every request's thread
    request_queue_size = 64  # socketserver's default backlog of 5 drops simultaneous clients

    def __init__(self, latency: float) -> None:
        super().__init__((HOST, 0), _Handler)
        self.latency = latency
        self.requests = 0
        self._lock = threading.Lock()

    def count_request(self) -> None:
        with self._lock:
            self.requests += 1


class LocalServer:
    """An HTTP server on 127.0.0.1 (a free port) that waits ``latency`` seconds per request."""

    def __init__(self, latency: float = 0.1) -> None:
        self.latency = latency
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> LocalServer:
        """Bind to 127.0.0.1 on a free port and serve in a background thread."""
        if self._server is None:
            self._server = _Server(self.latency)
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                name="course-local-server", daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close the socket, and join the server thread and request threads."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join()
            self._server = self._thread = None

    @property
    def address(self) -> tuple[str, int]:
        """The (host, port) the server listens on."""
        if self._server is None:
            raise RuntimeError("the server is not running: call start() or use `with`")
        return self._server.server_address[:2]

    @property
    def requests_served(self) -> int:
        """How many requests the server has answered so far."""
        return self._server.requests if self._server else 0

    def url(self, path: str = "/") -> str:
        """The full URL of ``path`` on this server."""
        host, port = self.address
        return f"http://{host}:{port}{path}"

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
