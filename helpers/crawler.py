"""A crawler with a central node, for notebook 15 (capstone 2), and the site it crawls.

The site is served by ``SiteServer`` on 127.0.0.1 (a free port, a thread of this process),
like ``helpers.localserver``; its pages are described by a ``Site`` built from a seed, so
every machine crawls the same site: pages that link to pages, some slow, some failing a few
times (retries fix them), one always failing, one that never answers in time, links to
pages that do not exist (404), a page whose parse costs real CPU time, and pages that no
link from the start page reaches. The ``Site`` computes its own ground truth
(``Site.expected``), independently of the crawler, to check the crawler against.

The crawler (``crawl``) is a central node in the calling thread: it holds the frontier,
the ``seen`` set and the results, hands each URL to a fetcher (an executor of threads, for
I/O) and each fetched page to a parser (an executor of processes, for CPU), and stops when
the frontier is empty and nothing is in flight, at a deadline, or on Ctrl-C.

The module is also a script, for the notebook's Ctrl-C demo::

    python -m helpers.crawler --pages 40 --latency 0.1

``requests`` is imported inside the fetch functions, so that a parser process (which only
parses) never pays for importing it.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import faulthandler
import hashlib
import os
import random
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

if TYPE_CHECKING:
    from helpers import practice

HOST = "127.0.0.1"
SEED = 15
"""The seed of the notebook's site."""

ALWAYS = -1
"""``Page.fail_first`` for a page that fails every time."""


# --- 1. The site: a plan, its ground truth, and its HTML ---------------------------------------


@dataclass(frozen=True)
class Page:
    """One page of the site: its path, the paths it links to, how long the server waits
    before answering (``delay``, seconds), how many times it first answers 500
    (``fail_first``; ``ALWAYS``: every time), ``hold``: the server holds the request that
    long (or until it stops) before answering, ``heavy``: its body is large and costly to
    parse; ``words``: the words of text of an ordinary page."""

    path: str
    links: tuple[str, ...]
    delay: float = 0.0
    fail_first: int = 0
    hold: float = 0.0
    heavy: bool = False
    words: int = 300


@dataclass(frozen=True)
class Expected:
    """The ground truth of a crawl from ``Site.start``: the pages fetched (``ok``), those
    that fail after every attempt (``failed``), those that never answer within the time
    limit (``timed_out``), and the links to pages that do not exist (``dead``)."""

    ok: frozenset[str]
    failed: frozenset[str]
    timed_out: frozenset[str]
    dead: frozenset[str]

    @property
    def reachable(self) -> frozenset[str]:
        """Every existing page that some chain of links from the start page reaches."""
        return self.ok | self.failed | self.timed_out


@dataclass(frozen=True)
class Site:
    """The plan of a site: ``pages`` by path, the start page, and the base latency."""

    pages: dict[str, Page]
    start: str
    latency: float

    def expected(self, attempts: int, time_limit: float | None) -> Expected:
        """What a correct crawler must find from ``start``, computed by a plain breadth-first
        walk over the plan (no HTTP): a page that answers 500 ``attempts`` times or more is
        failed, a page held longer than ``time_limit`` timed out; only fetched pages' links
        are followed."""
        ok, failed, timed_out, dead = set(), set(), set(), set()
        todo, seen = collections.deque([self.start]), {self.start}
        while todo:
            path = todo.popleft()
            page = self.pages.get(path)
            if page is None:
                dead.add(path)
                continue
            if page.fail_first == ALWAYS or page.fail_first >= attempts:
                failed.add(path)
                continue
            if time_limit is not None and max(page.hold, page.delay) > time_limit:
                timed_out.add(path)
                continue
            ok.add(path)
            for link in page.links:
                if link not in seen:
                    seen.add(link)
                    todo.append(link)
        return Expected(frozenset(ok), frozenset(failed), frozenset(timed_out), frozenset(dead))

    def describe(self) -> list[str]:
        """A few lines about the plan: how many pages of each kind."""
        pages = self.pages.values()
        links = sum(len(p.links) for p in pages)
        missing = sorted({link for p in pages for link in p.links if link not in self.pages},
                         key=_path_key)
        return [
            f"{len(self.pages)} pages, {links} links, start page {self.start}",
            f"links to pages that do not exist: {len(missing)} ({', '.join(missing)})",
            "slow pages: " + ", ".join(f"{p.path} (+{p.delay * 1000:.0f} ms)" for p in pages
                                       if p.delay > self.latency),
            "failing first: " + ", ".join(f"{p.path} ({p.fail_first}x 500)" for p in pages
                                          if p.fail_first > 0),
            "always failing: " + ", ".join(p.path for p in pages if p.fail_first == ALWAYS),
            "held by the server: " + ", ".join(f"{p.path} (up to {p.hold:.0f} s)"
                                               for p in pages if p.hold),
            "heavy to parse: " + ", ".join(p.path for p in pages if p.heavy),
        ]


def _path_key(path: str) -> tuple[int, str]:
    """Sort ``/site/<n>`` paths by ``n``."""
    tail = path.rsplit("/", 1)[-1]
    return (int(tail), path) if tail.isdigit() else (10**9, path)


def make_site(pages: int = 48, seed: int = SEED, latency: float = 0.02,
              unreachable: int = 4, hold: float = 5.0, words: int = 300) -> Site:
    """Plan a site of ``pages`` pages ``/site/0`` ... from ``seed`` (the same site on every
    machine), each answered after ``latency`` seconds (some after longer), each with
    ``words`` words of text (the parse's cost grows with it).

    Every page but the last ``unreachable`` is linked from an earlier one (so reachable
    from ``/site/0``, which links to eight pages); each page has two to four more links at
    random. Planted: four links to pages that do not exist, two pages failing with 500
    once and twice, one failing always, one held ``hold`` seconds (far beyond any time
    limit), four slow pages, one page heavy to parse. The last ``unreachable`` pages link
    only to each other and into the site: nothing links to them.
    """
    if pages - unreachable < 18:
        raise ValueError("a site needs at least 18 reachable pages for its planted faults")
    rng = random.Random(seed)
    reach = pages - unreachable
    links: dict[int, list[int]] = {n: [] for n in range(pages)}
    links[0] = list(range(1, 9))
    for n in range(9, reach):
        links[rng.randrange(1, n)].append(n)  # a parent earlier in the site
    for n in range(reach):
        links[n] += rng.sample(range(reach), rng.randint(2, 4))
    for n in range(reach, pages):
        links[n] += [reach + (n - reach + 1) % unreachable, rng.randrange(reach)]
    special = rng.sample(range(9, reach), 9)
    flaky1, flaky2, broken, held, heavy, *slow = special
    dead_from = rng.sample(range(1, reach), 3)
    dead = [f"/site/{pages + 100 + k}" for k in range(4)]
    plan: dict[str, Page] = {}
    for n in range(pages):
        targets = [f"/site/{m}" for m in dict.fromkeys(links[n]) if m != n]
        if n in dead_from:
            targets.append(dead[dead_from.index(n)])
        if n == dead_from[0]:
            targets.append(dead[3])
        if n == 1:
            targets.append(dead[3])  # the same dead link from two pages: reported once
        delay = latency * (4 if n in slow else 1)
        plan[f"/site/{n}"] = Page(
            f"/site/{n}", tuple(targets), delay=delay,
            fail_first={flaky1: 1, flaky2: 2, broken: ALWAYS}.get(n, 0),
            hold=hold if n == held else 0.0, heavy=n == heavy, words=words,
        )
    return Site(plan, "/site/0", latency)


HEAVY_WORDS = 12_000
"""Words in the heavy page's body, each in a tag of its own."""


def page_html(page: Page) -> str:
    """The HTML of ``page``: deterministic; a title, some text, and its links in order.

    An ordinary page has ``page.words`` words, each in a tag; the heavy one
    ``HEAVY_WORDS``, so that parsing it (pure-Python ``html.parser``) takes real CPU time.
    """
    number = page.path.rsplit("/", 1)[-1]
    words = HEAVY_WORDS if page.heavy else page.words
    body = "".join(f'<span class="w{i % 7}">word{number}x{i}</span> ' for i in range(words))
    anchors = "".join(f'<li><a href="{link}">{link}</a></li>' for link in page.links)
    return (f"<html><head><title>Page {number}</title></head><body><h1>Page {number}</h1>"
            f"<p>{body}</p><ul>{anchors}</ul></body></html>")


# --- 2. The server ------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    server: _SiteHTTPServer
    timeout = 10  # a client that connects and sends nothing cannot hold a thread for ever

    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        """Answer one GET as the site's plan says: 404 for a page not in it; else after its
        delay (and hold), 500 while it "fails first" (or always), else its HTML."""
        server = self.server
        path = self.path.split("?", 1)[0]
        count = server.arrive(path)
        left = False
        try:
            page = server.site.pages.get(path)
            if page is None:
                status, body = 404, b"<html><title>Not found</title></html>"
            else:
                if page.hold:
                    server.released.wait(page.hold)  # until the server stops, at most hold
                time.sleep(page.delay)
                failing = page.fail_first == ALWAYS or count <= page.fail_first
                status = 500 if failing else 200
                body = b"<html><title>Server error</title></html>" if failing else \
                    server.html[path]
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            # No longer in flight before the body leaves: the client cannot have the whole
            # answer (and send its next request) before this request stopped counting.
            server.leave()
            left = True
            self.wfile.write(body)
        finally:
            if not left:
                server.leave()

    def log_message(self, format: str, *args: object) -> None:
        """Keep notebook output clean: no access log on stderr."""


class _SiteHTTPServer(ThreadingHTTPServer):
    daemon_threads = False  # so that server_close() joins every request's thread
    request_queue_size = 64

    def __init__(self, site: Site) -> None:
        """Bind 127.0.0.1 on a free port; render every page's HTML once."""
        super().__init__((HOST, 0), _Handler)
        self.site = site
        self.html = {path: page_html(page).encode() for path, page in site.pages.items()}
        self.counts: collections.Counter[str] = collections.Counter()
        self.in_flight = 0
        self.max_in_flight = 0
        self.released = threading.Event()
        self._lock = threading.Lock()

    def arrive(self, path: str) -> int:
        """Count a request for ``path`` and one more in flight; return the path's count."""
        with self._lock:
            self.counts[path] += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            return self.counts[path]

    def leave(self) -> None:
        """One request fewer in flight."""
        with self._lock:
            self.in_flight -= 1

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet when a client gave up (its time limit) before the answer was sent."""


class SiteServer:
    """Serve ``site`` on 127.0.0.1 (a free port) from a thread of this process, counting
    the requests per path and the most requests in flight at once.

    ``stop()`` (or leaving the ``with`` block) releases held requests, shuts the server
    down and joins its threads.
    """

    def __init__(self, site: Site) -> None:
        """A server for ``site``, not started yet (``start()`` or ``with``)."""
        self.site = site
        self._server: _SiteHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> SiteServer:
        """Bind to 127.0.0.1 on a free port and serve in a background thread."""
        if self._server is None:
            self._server = _SiteHTTPServer(self.site)
            self._thread = threading.Thread(target=self._server.serve_forever,
                                            kwargs={"poll_interval": 0.05},
                                            name="crawler-site-server", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Release held requests, stop serving, close the socket, join every thread."""
        if self._server is not None and self._thread is not None:
            self._server.released.set()
            self._server.shutdown()
            self._server.server_close()
            self._thread.join()
            self._thread = None

    def url(self, path: str = "/") -> str:
        """The full URL of ``path`` on this server."""
        if self._server is None:
            raise RuntimeError("the server is not running: call start() or use `with`")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{path}"

    @property
    def counts(self) -> dict[str, int]:
        """Requests received per path (a copy)."""
        return dict(self._server.counts) if self._server else {}

    @property
    def total(self) -> int:
        """Requests received in all."""
        return sum(self.counts.values())

    @property
    def max_in_flight(self) -> int:
        """The most requests the server was answering at the same time."""
        return self._server.max_in_flight if self._server else 0

    def __enter__(self) -> SiteServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- 3. Fetching (threads) and parsing (processes) ----------------------------------------------


@dataclass(frozen=True)
class Fetched:
    """What a fetcher returns for one URL: ``status`` (``"ok"``, ``"dead"``, ``"failed"``,
    ``"timed out"``), the HTTP status codes of its attempts, the body of a page fetched, and
    the last error's text."""

    url: str
    status: str
    codes: tuple[Any, ...]
    body: str = ""
    error: str = ""

    @property
    def attempts(self) -> int:
        """How many requests this URL cost."""
        return len(self.codes)


@dataclass(frozen=True)
class Parsed:
    """What a parser returns for one page: its links (absolute URLs, in order), title,
    word count and a digest of its text."""

    url: str
    links: tuple[str, ...]
    title: str
    words: int
    digest: str


class HostLimits:
    """One ``threading.BoundedSemaphore`` per host (``host:port``): at most ``limit``
    requests in flight to the same host, whatever the number of fetcher threads.
    ``limit=None``: no limit (for the break-it demo)."""

    def __init__(self, limit: int | None) -> None:
        """No semaphore yet: one is made for each host on its first request."""
        self.limit = limit
        self._semaphores: dict[str, threading.BoundedSemaphore] = {}
        self._lock = threading.Lock()

    def slot(self, url: str) -> Any:
        """A context manager that holds one of ``url``'s host's slots (``nullcontext``
        without a limit)."""
        if self.limit is None:
            return contextlib.nullcontext()
        host = urlsplit(url).netloc
        with self._lock:
            if host not in self._semaphores:
                self._semaphores[host] = threading.BoundedSemaphore(self.limit)
            return self._semaphores[host]


def fetch(url: str, limits: HostLimits, attempts: int = 3, time_limit: float | None = 0.5,
          backoff: float = 0.02) -> Fetched:
    """THE FETCHER (runs in a thread): GET ``url`` holding a slot of its host, with a
    ``time_limit`` per request (``requests``' ``timeout``: for connecting and for each wait
    on the socket), and up to ``attempts`` requests.

    A 5xx or a refused connection is retried after ``backoff``, ``2 * backoff``, ... (the
    wait is outside the host's slot, so others can use it); 404 is a dead link, not retried;
    a timeout is reported at once, not retried (it already cost the whole time limit; a
    second try would likely cost it again). Never raises for what a site does: the status
    says what happened.
    """
    import requests

    codes: list[Any] = []
    error = ""
    for attempt in range(attempts):
        if attempt:
            time.sleep(backoff * 2 ** (attempt - 1))
        try:
            with limits.slot(url):
                response = requests.get(url, timeout=time_limit)
        except requests.Timeout as exc:
            codes.append("timeout")
            return Fetched(url, "timed out", tuple(codes), error=type(exc).__name__)
        except requests.ConnectionError as exc:
            codes.append("error")
            error = type(exc).__name__
            continue
        codes.append(response.status_code)
        if response.status_code == 200:
            return Fetched(url, "ok", tuple(codes), body=response.text)
        if response.status_code == 404:
            return Fetched(url, "dead", tuple(codes), error="404 Not Found")
        error = f"{response.status_code} {response.reason}"
        if response.status_code < 500:
            break
    return Fetched(url, "failed", tuple(codes), error=error)


class _LinkParser(HTMLParser):
    """Collects the ``href`` of every ``<a>``, the title and the text."""

    def __init__(self) -> None:
        """An empty parser: no links, no title, no text yet."""
        super().__init__()
        self.links: list[str] = []
        self.title = ""
        self.text: list[str] = []
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Keep an ``<a>``'s ``href``; note whether the ``<title>`` begins."""
        if tag == "a":
            self.links += [value for name, value in attrs if name == "href" and value]
        self._in_title = tag == "title"

    def handle_endtag(self, tag: str) -> None:
        """Any end tag ends the title."""
        self._in_title = False

    def handle_data(self, data: str) -> None:
        """Keep the text (and the title's)."""
        if self._in_title:
            self.title += data
        self.text.append(data)


def parse(url: str, body: str) -> Parsed:
    """THE PARSER (runs in a process): parse ``body`` with ``html.parser`` (pure Python:
    it holds the GIL while it runs, so two parses in threads never run at once), and return
    its links made absolute against ``url``, its title, word count and a SHA-256 digest of
    its text."""
    parser = _LinkParser()
    parser.feed(body)
    parser.close()
    text = " ".join(parser.text)
    words = text.split()
    return Parsed(url, tuple(urljoin(url, link) for link in parser.links), parser.title,
                  len(words), hashlib.sha256(text.encode()).hexdigest()[:12])


class InlineExecutor(Executor):
    """An executor that runs each task at once in the calling thread: the serial crawl
    is the same coordinator with no concurrency at all."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        """Run ``fn(*args, **kwargs)`` now; return a finished future."""
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # kept in the future, as an executor would
            future.set_exception(exc)
        return future


# --- 4. The central node ------------------------------------------------------------------------


@dataclass
class CrawlResult:
    """What a crawl found: per URL its fetch (codes, status) and parse; the number of fetch
    tasks per URL and of requests per path; why it stopped (``""``: the frontier ran dry;
    ``"deadline"``, ``"SIGINT"``, ``"budget"``); URLs still in flight or never fetched."""

    start: str
    fetched: dict[str, Fetched] = field(default_factory=dict)
    parsed: dict[str, Parsed] = field(default_factory=dict)
    tasks: collections.Counter[str] = field(default_factory=collections.Counter)
    requests: collections.Counter[str] = field(default_factory=collections.Counter)
    stopped_by: str = ""
    unfinished: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def paths(self, status: str) -> set[str]:
        """The paths of the URLs whose fetch ended with ``status``."""
        return {urlsplit(u).path for u, f in self.fetched.items() if f.status == status}

    def record(self, fetched: Fetched) -> None:
        """Keep a fetch's outcome (the last one per URL) and add its requests to the count
        per path (every fetch, even of a URL fetched before)."""
        self.fetched[fetched.url] = fetched
        self.requests[urlsplit(fetched.url).path] += fetched.attempts

    @property
    def attempts(self) -> dict[str, int]:
        """Requests sent per path, by every fetch of the crawl."""
        return dict(self.requests)

    def report(self) -> list[str]:
        """The crawl's report: a summary line, then the URLs that did not work, by path."""
        ok = self.paths("ok")
        how = f"stopped by {self.stopped_by}" if self.stopped_by else "finished"
        lines = [f"{how}: {len(ok)} pages, {len(self.paths('dead'))} dead links, "
                 f"{len(self.paths('failed'))} failed, {len(self.paths('timed out'))} timed out,"
                 f" {sum(self.attempts.values())} requests"]
        retried = {urlsplit(u).path: f for u, f in self.fetched.items() if f.attempts > 1}
        for path in sorted(retried, key=_path_key):
            lines.append(f"  retried {path}: {' -> '.join(map(str, retried[path].codes))}")
        for status in ("dead", "failed", "timed out"):
            for url, f in sorted(self.fetched.items(), key=lambda i: _path_key(urlsplit(i[0]).path)):
                if f.status == status:
                    lines.append(f"  {status} {urlsplit(url).path}: {f.error}")
        if self.unfinished:
            lines.append(f"  not finished: {len(self.unfinished)} URLs")
        return lines


def crawl(start: str, fetchers: Executor, parsers: Executor, *, host_limit: int | None = 4,
          attempts: int = 3, time_limit: float | None = 0.5, deadline: float | None = 30.0,
          dedupe: bool = True, budget: int | None = None,
          progress: Callable[[CrawlResult], None] | None = None) -> CrawlResult:
    """THE CENTRAL NODE: crawl from ``start``, following links on the same host only.

    Runs in the calling thread and is the only one to touch the frontier, the ``seen`` set
    and the results, so none of them needs a lock: fetchers (``fetchers``, threads) and
    parsers (``parsers``, processes) receive a URL or a page and return a value; the
    coordinator waits for whichever future finishes first (``wait(FIRST_COMPLETED)``),
    sends a fetched page to a parser, and queues each new link once (``seen``, filled when
    a URL is queued, not when it is fetched).

    Stops when the frontier is empty and nothing is in flight; or after ``deadline``
    seconds, or on Ctrl-C (``KeyboardInterrupt``): then the futures not started are
    cancelled, those running are left to finish (each within its time limit), and the
    result is partial (``stopped_by``, ``unfinished``); fetches already running are waited
    for (each within its time limit; not at all without one) and recorded, not parsed. ``dedupe=False`` drops the ``seen``
    set and ``budget`` caps the fetch tasks (the break-it demo: without ``seen`` a site with
    cycles never ends). ``progress(result)`` is called after each page parsed.
    """
    limits = HostLimits(host_limit)
    host = urlsplit(start).netloc
    result = CrawlResult(start)
    frontier = collections.deque([start])
    seen = {start}
    in_flight: dict[Future, tuple[str, str]] = {}
    started = time.perf_counter()
    ends_at = None if deadline is None else started + deadline
    try:
        while frontier or in_flight:
            while frontier:
                if budget is not None and sum(result.tasks.values()) >= budget:
                    result.stopped_by = "budget"
                    break
                url = frontier.popleft()
                result.tasks[url] += 1
                in_flight[fetchers.submit(fetch, url, limits, attempts, time_limit)] = ("fetch", url)
            if result.stopped_by:
                break
            left = None if ends_at is None else ends_at - time.perf_counter()
            if left is not None and left <= 0:
                result.stopped_by = "deadline"
                break
            done, _ = wait(in_flight, timeout=left, return_when=FIRST_COMPLETED)
            for future in done:
                kind, url = in_flight.pop(future)
                if kind == "fetch":
                    fetched = future.result()
                    result.record(fetched)
                    if fetched.status == "ok":
                        in_flight[parsers.submit(parse, url, fetched.body)] = ("parse", url)
                    continue
                parsed = future.result()
                result.parsed[url] = parsed
                for link in parsed.links:
                    link = link.split("#", 1)[0]
                    if urlsplit(link).netloc != host:
                        continue
                    if not dedupe or link not in seen:
                        seen.add(link)
                        frontier.append(link)
                if progress is not None:
                    progress(result)
    except KeyboardInterrupt:
        result.stopped_by = "SIGINT"
    finally:
        for future in in_flight:
            future.cancel()  # those not started yet
        # Fetches already running end within their time limit: record what they cost.
        running = [f for f, (kind, _) in in_flight.items() if kind == "fetch" and not f.cancelled()]
        wait(running, timeout=0 if time_limit is None else attempts * (time_limit + 0.2))
        for future in running:
            if future.done() and future.exception() is None:
                in_flight.pop(future)
                result.record(future.result())
        result.unfinished = sorted({url for _, url in in_flight.values()} | set(frontier),
                                   key=lambda u: _path_key(urlsplit(u).path))
        result.seconds = time.perf_counter() - started
    return result


def check(result: CrawlResult, server: SiteServer, expected: Expected) -> list[tuple[str, bool]]:
    """Check a finished crawl against the site's ground truth and the server's counts;
    return ``(what, passed)`` pairs."""
    counts = server.counts
    attempts = result.attempts
    retried = {urlsplit(u).path for u, f in result.fetched.items() if f.attempts > 1}
    return [
        ("pages fetched == the site's reachable pages that work", result.paths("ok") == expected.ok),
        ("every URL handed to a fetcher exactly once", set(result.tasks.values()) == {1}),
        ("every page fetched was parsed", {urlsplit(u).path for u in result.parsed} == expected.ok),
        ("dead links reported == the site's dead links", result.paths("dead") == expected.dead),
        ("failed pages == the site's always-failing pages", result.paths("failed") == expected.failed),
        ("timed-out pages == the site's held pages", result.paths("timed out") == expected.timed_out),
        ("the server got one request per page not retried",
         all(counts.get(p) == 1 for p in attempts if p not in retried)),
        ("retried pages: the server's count == the crawler's attempts",
         bool(retried) and all(counts.get(p) == attempts[p] for p in retried)),
        ("the server's total == the crawler's total attempts", server.total == sum(attempts.values())),
        ("no request for an unreachable page",
         set(counts) <= expected.reachable | expected.dead),
    ]


def source_without_docstring(function: Callable[..., Any]) -> str:
    """The source of ``function`` with its docstring cut out, for a notebook to show."""
    import inspect

    source = inspect.getsource(function)
    start = source.index('"""')
    end = source.index('"""', start + 3) + 3
    return source[:start] + "# (docstring cut)" + source[end:]


# --- 5. The article's version: a Manager as the central node ----------------------------------


def article_f(d: Any, l: Any) -> None:  # noqa: E741 (the article's names)
    """Article 004's example, as written: change a managed dict and list in a child."""
    d[1] = "1"
    d["2"] = 2
    d[0.25] = None
    l.reverse()


def article_worker(tasks: Any, results: Any) -> None:
    """The article's idea as a crawler's worker node: take URLs from the central node's
    managed queue until ``None``, ``requests.get`` each (no timeout, no retry, no status
    check) and store the text's length under the URL in the managed dict."""
    import requests

    while (url := tasks.get()) is not None:
        results[url] = len(requests.get(url).text)


# --- 6. The script: a crawl that stops cleanly on Ctrl-C ----------------------------------------


def _ignore_sigint() -> None:
    """Parser initializer: ignore SIGINT, so that a Ctrl-C in a terminal (sent to the whole
    process group) reaches only the coordinator, which decides what to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_script(pages: int, latency: float, every: int = 5) -> int:
    """The script's work: serve a site of ``pages`` pages in this process, crawl it with 8
    fetcher threads and 2 parser processes, print ``N pages done`` every ``every`` pages
    (flushed), then the report; return 0, or 130 after Ctrl-C (128 + SIGINT's number)."""
    from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

    from helpers import crawler, practice  # by name: parsers import it, not __main__

    def progress(result: CrawlResult) -> None:
        if len(result.parsed) % every == 0:
            print(f"{len(result.parsed)} pages done", flush=True)

    site = crawler.make_site(pages, latency=latency)
    with crawler.SiteServer(site) as server, \
            ProcessPoolExecutor(2, initializer=crawler._ignore_sigint) as parsers, \
            ThreadPoolExecutor(8) as fetchers:
        # Every parser has run its initializer (ignores SIGINT) before the crawl starts: a
        # parser still starting when Ctrl-C comes would die with a KeyboardInterrupt.
        practice.warm_up(parsers, 2)
        print(f"crawl started: {len(site.pages)} pages on the site", flush=True)
        result = crawler.crawl(server.url(site.start), fetchers, parsers, progress=progress)
        if result.stopped_by:
            parsers.shutdown(wait=True, cancel_futures=True)
            fetchers.shutdown(wait=True, cancel_futures=True)
        counted = server.total
    print(result.report()[0], flush=True)
    print(f"URLs queued but not finished: {len(result.unfinished)}", flush=True)
    print("requests the server counted == requests the crawler recorded:",
          counted == sum(result.attempts.values()), flush=True)
    return 130 if result.stopped_by == "SIGINT" else 0


def main(argv: Iterable[str] | None = None) -> int:
    """The script's entry point: parse ``--pages`` and ``--latency``, run ``run_script``
    under a watchdog that ends the script after ``--watchdog`` seconds."""
    parser = argparse.ArgumentParser(prog="python -m helpers.crawler",
                                     description="Crawl a local site; Ctrl-C stops cleanly.")
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument("--latency", type=float, default=0.03)
    parser.add_argument("--watchdog", type=float, default=60.0)
    options = parser.parse_args(None if argv is None else list(argv))
    faulthandler.dump_traceback_later(options.watchdog, exit=True)
    try:
        return run_script(options.pages, options.latency)
    finally:
        faulthandler.cancel_dump_traceback_later()


if __name__ == "__main__":
    import helpers  # noqa: F401  (applies MP_START_METHOD, as in the notebooks)

    sys.exit(main())
