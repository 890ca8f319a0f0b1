"""helpers.crawler: the site of notebook 15, its server, and the crawler with a central node.

Every assertion is a relation that holds on any machine, idle or loaded: the same site from
the same seed, ground truth that follows from the plan, a crawl that finds exactly that
truth with one request per page (retries aside) as the server counts them, a per-host limit
the server never sees exceeded, a script that stops on SIGINT with exit status 130 and
nothing left running; never a speed.
"""

from __future__ import annotations

import multiprocessing
import signal
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pytest
import requests

import helpers  # noqa: F401  (installs the guard)
from helpers import crawler, practice

ATTEMPTS, TIME_LIMIT = 3, 0.5


@pytest.fixture(scope="module")
def small_site() -> crawler.Site:
    """A small site with every planted fault, fast pages, a short hold."""
    return crawler.make_site(pages=24, latency=0.005, hold=1.0, words=50)


# --- the site and its ground truth ----------------------------------------------------------


def test_site_is_deterministic_and_seeded() -> None:
    assert crawler.make_site() == crawler.make_site()
    assert crawler.make_site() != crawler.make_site(seed=crawler.SEED + 1)
    with pytest.raises(ValueError):
        crawler.make_site(pages=21)


@pytest.mark.parametrize("pages, seed", [(22, 1), (30, 2), (48, crawler.SEED), (80, 3)])
def test_ground_truth_follows_from_the_plan(pages: int, seed: int) -> None:
    site = crawler.make_site(pages=pages, seed=seed)
    truth = site.expected(ATTEMPTS, TIME_LIMIT)
    existing = set(site.pages)
    assert site.start in truth.ok
    assert truth.reachable <= existing and not truth.dead & existing
    assert len(truth.reachable) < len(existing), "some pages must be unreachable"
    # Every page fetched is linked from another fetched page (or is the start page).
    linked = {link for p in truth.ok for link in site.pages[p].links}
    assert truth.reachable | truth.dead <= linked | {site.start}
    assert truth.ok.isdisjoint(truth.failed | truth.timed_out)
    assert all(site.pages[p].fail_first == crawler.ALWAYS for p in truth.failed)
    assert all(site.pages[p].hold > TIME_LIMIT for p in truth.timed_out)
    assert truth.dead, "the plan puts dead links on reachable pages"


def test_more_attempts_or_time_turn_failures_into_pages() -> None:
    site = crawler.make_site()
    strict, patient = site.expected(1, TIME_LIMIT), site.expected(ATTEMPTS, None)
    flaky = {p.path for p in site.pages.values() if p.fail_first > 0}
    assert flaky <= strict.failed
    assert flaky.isdisjoint(patient.failed) and not patient.timed_out
    assert strict.ok <= patient.ok


def test_parse_finds_every_link_and_the_title() -> None:
    page = crawler.Page("/site/7", ("/site/1", "/site/99"), words=40)
    parsed = crawler.parse("http://127.0.0.1:1/site/7", crawler.page_html(page))
    assert parsed.links == ("http://127.0.0.1:1/site/1", "http://127.0.0.1:1/site/99")
    assert parsed.title == "Page 7" and parsed.words > 40


# --- the server -------------------------------------------------------------------------------


def test_server_counts_and_fails_first(small_site: crawler.Site) -> None:
    flaky = next(p for p in small_site.pages.values() if p.fail_first == 2)
    with crawler.SiteServer(small_site) as server:
        codes = [requests.get(server.url(flaky.path), timeout=5).status_code for _ in range(4)]
        missing = requests.get(server.url("/site/9999"), timeout=5).status_code
    assert codes == [500, 500, 200, 200] and missing == 404
    assert server.counts == {flaky.path: 4, "/site/9999": 1} and server.total == 5


def test_server_stop_releases_a_held_request(small_site: crawler.Site) -> None:
    held = next(p.path for p in small_site.pages.values() if p.hold)
    with crawler.SiteServer(small_site) as server:
        with pytest.raises(requests.Timeout):
            requests.get(server.url(held), timeout=0.2)
    assert server.counts == {held: 1}


# --- the crawler ------------------------------------------------------------------------------


def crawl_small(site: crawler.Site, parsers: object, **options: object) -> tuple:
    """Crawl ``site`` on a fresh server with 6 fetcher threads; return (result, server)."""
    with crawler.SiteServer(site) as server, ThreadPoolExecutor(6) as fetchers:
        result = crawler.crawl(server.url(site.start), fetchers, parsers, attempts=ATTEMPTS,
                               time_limit=TIME_LIMIT, **options)
    return result, server


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_crawl_with_parser_processes_passes_every_check(small_site: crawler.Site, method: str) -> None:
    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"no {method} here")
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context(method)) as parsers:
        result, server = crawl_small(small_site, parsers, host_limit=3)
    checks = crawler.check(result, server, small_site.expected(ATTEMPTS, TIME_LIMIT))
    assert [what for what, passed in checks if not passed] == []
    assert result.stopped_by == "" and result.unfinished == []


def test_serial_crawl_is_the_same_crawl(small_site: crawler.Site) -> None:
    inline = crawler.InlineExecutor()
    with crawler.SiteServer(small_site) as server:
        result = crawler.crawl(server.url(small_site.start), inline, inline,
                               attempts=ATTEMPTS, time_limit=TIME_LIMIT)
    assert all(passed for _, passed in crawler.check(result, server,
                                                     small_site.expected(ATTEMPTS, TIME_LIMIT)))


def test_retries_are_bounded(small_site: crawler.Site) -> None:
    for attempts in (1, 2, 4):
        with crawler.SiteServer(small_site) as server, ThreadPoolExecutor(4) as fetchers:
            result = crawler.crawl(server.url(small_site.start), fetchers, crawler.InlineExecutor(),
                                   attempts=attempts, time_limit=TIME_LIMIT, deadline=30)
        truth = small_site.expected(attempts, TIME_LIMIT)
        assert result.paths("ok") == truth.ok and result.paths("failed") == truth.failed
        assert max(result.attempts.values()) <= attempts
        assert server.counts == result.attempts


def test_host_limit_is_respected(small_site: crawler.Site) -> None:
    site = crawler.make_site(pages=24, latency=0.03, hold=0, words=50)
    limited, limited_server = crawl_small(site, crawler.InlineExecutor(), host_limit=2)
    assert limited_server.max_in_flight <= 2
    assert limited.paths("ok") == site.expected(ATTEMPTS, TIME_LIMIT).ok
    _, free_server = crawl_small(site, crawler.InlineExecutor(), host_limit=None)
    assert free_server.max_in_flight <= 6  # the fetcher threads


def test_without_seen_pages_are_fetched_again(small_site: crawler.Site) -> None:
    result, server = crawl_small(small_site, crawler.InlineExecutor(), dedupe=False, budget=60)
    assert result.stopped_by == "budget" and sum(result.tasks.values()) == 60
    assert max(result.tasks.values()) > 1
    assert server.total == sum(result.attempts.values())


def test_deadline_stops_a_crawl_without_time_limit(small_site: crawler.Site) -> None:
    held = next(p.path for p in small_site.pages.values() if p.hold)
    with ThreadPoolExecutor(6) as fetchers, crawler.SiteServer(small_site) as server:
        result = crawler.crawl(server.url(small_site.start), fetchers, crawler.InlineExecutor(),
                               attempts=ATTEMPTS, time_limit=None, deadline=0.5)
    assert result.stopped_by == "deadline"
    assert server.url(held) in result.unfinished


def test_script_stops_cleanly_on_sigint() -> None:
    report = practice.run_and_signal(signal.SIGINT, ["--pages", "40", "--latency", "0.1"],
                                     after="10 pages done", to_group=True, timeout=30,
                                     module="helpers.crawler")
    assert not report.timed_out and report.returncode == 130
    assert any(line.startswith("stopped by SIGINT") for line in report.lines)
    assert report.lines[-1].endswith("True")  # the server's count == the crawler's
    assert "Traceback" not in report.stderr
    assert report.children_seen and report.children_left == []


def test_script_without_signal_finishes() -> None:
    report = practice.run_and_signal(None, ["--pages", "24", "--latency", "0.005"],
                                     after="10 pages done", timeout=30, module="helpers.crawler")
    assert report.returncode == 0 and report.lines[-1].endswith("True")
    assert any(line.startswith("finished") for line in report.lines)
