"""Issue #14 end to end: real crawls (child process, Scrapy) against a local server that
behaves like real ones — static-file headers without Cache-Control, ETag only, Last-Modified
only, ``Cache-Control: no-cache`` — and that fails in the middle of a crawl (5xx, reset, slow
drip, endless pages and bodies, endless recurrence, Retry-After). Each crawl is asked what it
fetched, what health it reports and what it kept."""

from __future__ import annotations

import json
import re
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

import spiders.crawl
from core.config import SourceConfig
from core.model import Health, SourceType
from spiders.crawl import CrawlResult, crawl, prestarted
from spiders.settings import EXTENSIONS_RUN
from tests.conftest import NOW, LocalSite, answer
from tests.test_lifecycle_e2e import LATERNE, SINGEN, Setup, V, calendar, filler

WINDOW = {
    "window_start": datetime(2026, 11, 25, tzinfo=NOW.tzinfo),
    "window_end": NOW.replace(year=2027),
}
FAST: dict[str, Any] = {
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False,
    "RETRY_TIMES": 0,
    "DOWNLOAD_TIMEOUT": 3,
}
OLD = "Sat, 24 Oct 2026 08:00:00 GMT"  # a month before NOW: 3 days of heuristic freshness
NEWER = "Tue, 24 Nov 2026 08:00:00 GMT"


def source(sid: str, kind: SourceType, *urls: str, **budgets: Any) -> SourceConfig:
    options = budgets.pop("options", {})
    return SourceConfig(
        id=sid, type=kind, name=sid, start_urls=urls, download_delay=0, options=options, **budgets
    )


def run_crawl(tmp: Path, sources: list[SourceConfig], **settings: Any) -> dict[str, CrawlResult]:
    deadline = settings.pop("deadline_seconds", None)
    merged = {**FAST, "HTTPCACHE_DIR": str(tmp / "httpcache"), **settings}
    work = tmp / f"crawl-{time.monotonic_ns()}"
    return crawl(sources, work_dir=work, settings=merged, deadline_seconds=deadline, **WINDOW)


def titles(result: CrawlResult) -> list[str]:
    return sorted(r.title for r in result.records())


# --- the cache: every run asks, a 304 is cheap, a failure is a failure -------------------

HEADERS = {
    "static-file": {"Last_Modified": OLD, "ETag": '"5f1-6a2b"', "Accept_Ranges": "bytes"},
    "etag-only": {"ETag": '"v1"'},
    "last-modified-only": {"Last_Modified": OLD},
    "no-cache": {"Last_Modified": OLD, "Cache_Control": "no-cache"},
}


def test_every_run_revalidates_and_sees_changes(tmp_path: Path, site: LocalSite) -> None:
    """One source per kind of server headers, crawled together run after run."""
    src = [source(kind, SourceType.ICS, site.url(f"/{kind}.ics")) for kind in HEADERS]
    for kind, headers in HEADERS.items():
        site.put(f"/{kind}.ics", calendar(LATERNE, SINGEN), **headers)
    first = run_crawl(tmp_path, src)
    assert all(r.status is Health.OK and r.count == 2 for r in first.values())

    # Unchanged: asked again conditionally, answered 304, read from the stored copy.
    second = run_crawl(tmp_path, src)
    for kind in HEADERS:
        asked = [h for path, h in site.headers if path == f"/{kind}.ics"]
        assert len(asked) == 2, kind
        assert "If-None-Match" in asked[1] or "If-Modified-Since" in asked[1], kind
        assert second[kind].stats.get("httpcache/revalidate") == 1, kind
        assert second[kind].status is Health.OK and titles(second[kind]) == titles(first[kind])

    # Changed the next day (new validators): every run sees it at once, with no heuristic
    # freshness from a month-old Last-Modified.
    moved = V(uid=LATERNE.uid, title="Laternenumzug (verlegt)", start="20261204T170000")
    for kind, headers in HEADERS.items():
        new = dict(headers)
        if "ETag" in new:
            new["ETag"] = '"v2"'
        if "Last_Modified" in new:
            new["Last_Modified"] = NEWER
        site.put(f"/{kind}.ics", calendar(moved, SINGEN), **new)
    third = run_crawl(tmp_path, src)
    assert all("Laternenumzug (verlegt)" in titles(r) for r in third.values())

    # Down during revalidation: failed with the error, not the stored copy.
    for kind in HEADERS:
        site.put(f"/{kind}.ics", "Service Unavailable", status=503, content_type="text/plain")
    down = run_crawl(tmp_path, src)
    for result in down.values():
        assert result.status is Health.FAILED and result.error and "HTTP 503" in result.error
        assert result.count == 0


def test_crawl_runs_from_any_working_directory(
    tmp_path: Path, site: LocalSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cron job runs famcal from wherever it is started: the crawl child takes its sources
    from the job, not from a data/sources.toml it would look for in its working directory
    (found on a run from outside the checkout: every source failed with that file's error)."""
    site.put("/k.ics", calendar(LATERNE, SINGEN), Last_Modified=OLD)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = run_crawl(tmp_path, [source("k", SourceType.ICS, site.url("/k.ics"))])["k"]
    assert result.status is Health.OK, result.error
    assert titles(result) == sorted([LATERNE.title, SINGEN.title])


def test_a_prestarted_worker_crawls_and_an_unused_one_leaves(
    tmp_path: Path, site: LocalSite
) -> None:
    """``famcal run`` starts the crawl child first (it loads Scrapy while the run opens its
    store): the crawl must take that child, read the same records as a child started by
    the crawl, and a child no crawl took must be gone when the block ends."""
    site.put("/k.ics", calendar(LATERNE, SINGEN), Last_Modified=OLD)
    src = [source("k", SourceType.ICS, site.url("/k.ics"))]
    with prestarted():
        (child,) = spiders.crawl._spare
        result = run_crawl(tmp_path, src)["k"]
        assert not spiders.crawl._spare  # taken by this crawl, not a second child
    assert child.returncode == 0
    assert result.status is Health.OK, result.error
    assert titles(result) == sorted([LATERNE.title, SINGEN.title])

    with prestarted():
        (unused,) = spiders.crawl._spare
    assert unused.returncode is not None and not spiders.crawl._spare

    with prestarted():  # a child that died before its crawl: the crawl starts another
        (dead,) = spiders.crawl._spare
        dead.kill()
        dead.wait()
        again = run_crawl(tmp_path, src)["k"]
    assert again.status is Health.OK, again.error
    assert titles(again) == titles(result)


def test_reset_and_timeout_during_revalidation_fail(tmp_path: Path, site: LocalSite) -> None:
    url = site.put("/cal.ics", calendar(LATERNE), **HEADERS["static-file"])
    src = [source("partner", SourceType.ICS, url)]
    assert run_crawl(tmp_path, src)["partner"].status is Health.OK
    site.put("/cal.ics", calendar(LATERNE), fault="reset")
    reset = run_crawl(tmp_path, src)["partner"]
    assert reset.status is Health.FAILED and reset.count == 0, reset.error
    site.put("/cal.ics", calendar(LATERNE), fault="drip")  # new validators: not a 304
    slow = run_crawl(tmp_path, src, DOWNLOAD_TIMEOUT=1)["partner"]
    assert slow.status is Health.FAILED and slow.error and "timed out" in slow.error


def test_retry_after_is_honoured_within_the_run(tmp_path: Path, site: LocalSite) -> None:
    busy = answer("busy", status=503, content_type="text/plain", Retry_After="1")
    url = site.queue("/cal.ics", busy, answer(calendar(LATERNE)))
    away = site.put("/away.ics", "later", status=429, content_type="text/plain", Retry_After="3600")
    started = time.monotonic()
    results = run_crawl(
        tmp_path,
        [source("busy", SourceType.ICS, url), source("away", SourceType.ICS, away)],
        RETRY_TIMES=2,
    )
    assert results["busy"].status is Health.OK and results["busy"].count == 1
    # An hour is not waited for: failed at once (one request, no retries).
    assert results["away"].status is Health.FAILED
    assert site.requests.count("/away.ics") == 1
    assert time.monotonic() - started < 20


# --- budgets, partial fetches, repairs: one crawl of many bad sources -------------------


def tribe_page(n: int, next_url: str | None, title: str = "Kinderflohmarkt") -> str:
    event = {
        "id": n,
        "title": f"{title} {n}",
        "start_date": f"2026-12-0{n % 9 + 1} 10:00:00",
        "end_date": f"2026-12-0{n % 9 + 1} 12:00:00",
        "url": f"https://partner.example/e/{n}/",
    }
    more = {"next_rest_url": next_url} if next_url else {}
    return json.dumps({"events": [event], **more}, ensure_ascii=False)


def jsonld_page(title: str, day: int) -> str:
    data = {"@type": "ChildrensEvent", "name": title, "startDate": f"2026-12-{day:02d}T15:00"}
    return f'<html><script type="application/ld+json">{json.dumps(data)}</script></html>'


THROTTLE = "scrapy.extensions.throttle.AutoThrottle"
ENDLESS_RULE = V(uid="tick@x", title="Tick", start="20261201T100000", rrule="FREQ=SECONDLY")


@pytest.fixture(scope="module")
def bad(tmp_path_factory: pytest.TempPathFactory) -> dict[str, CrawlResult]:
    site = LocalSite()
    tmp = tmp_path_factory.mktemp("bad")
    html = "text/html; charset=utf-8"
    # A Tribe API whose next_rest_url never ends.
    for n in range(1, 40):
        site.put(f"/tribe/{n}", tribe_page(n, f"/tribe/{n + 1}"), content_type="application/json")
    # ... and one whose next page is an endless body.
    site.put("/tribe2/1", tribe_page(1, "/tribe2/2"), content_type="application/json")
    site.put("/tribe2/2", b"[" * 65536, content_type="application/json", fault="endless")
    # latin-1 declared as UTF-8.
    latin = tribe_page(7, None, title="Märchenstunde für Kinder").encode("latin-1")
    site.put("/latin", latin, content_type="application/json; charset=utf-8")
    # A listing whose detail pages answer 503 / drip.
    links = "".join(f'<a class="ev" href="/ev/{n}">{n}</a>' for n in range(1, 4))
    site.put("/list", f"<html>{links}</html>", content_type=html)
    site.put("/ev/1", jsonld_page("Puppentheater", 5), content_type=html)
    site.put("/ev/2", "down", status=503, content_type="text/plain")
    site.put("/ev/3", jsonld_page("Bilderbuchkino", 6), content_type=html)
    site.put("/slow-list", '<html><a class="ev" href="/drip">1</a></html>', content_type=html)
    site.put("/drip", jsonld_page("Tropfen", 7), content_type=html, fault="drip")
    # One JSON-LD block nested 100,000 deep next to a valid one.
    deep = '<script type="application/ld+json">' + "[" * 100_000 + "]" * 100_000 + "</script>"
    site.put("/deep", f"<html>{deep}{jsonld_page('Kinderkonzert', 8)[6:]}", content_type=html)
    # An ICS with an endless SECONDLY rule next to a plain event.
    site.put("/tick.ics", calendar(ENDLESS_RULE, LATERNE))
    sources = [
        source("endless-api", SourceType.TRIBE, site.url("/tribe/1"), max_pages=5),
        source("endless-body", SourceType.TRIBE, site.url("/tribe2/1"), max_bytes=200_000),
        source("latin", SourceType.TRIBE, site.url("/latin")),
        source(
            "detail-503", SourceType.JSONLD, site.url("/list"), options={"link_selector": "a.ev"}
        ),
        source(
            "drip",
            SourceType.JSONLD,
            site.url("/slow-list"),
            max_seconds=2,
            options={"link_selector": "a.ev"},
        ),
        source("deep", SourceType.JSONLD, site.url("/deep")),
        source("tick", SourceType.ICS, site.url("/tick.ics"), max_occurrences=300),
    ]
    try:
        yield run_crawl(tmp, sources, LOG_LEVEL="INFO", DOWNLOAD_TIMEOUT=10)
    finally:
        site.close()


def test_endless_pagination_stops_at_max_pages(bad: dict[str, CrawlResult]) -> None:
    result = bad["endless-api"]
    assert result.status is Health.DEGRADED
    assert result.error and result.error.startswith("budget max_pages")
    assert result.problems == {"budget max_pages": 1}
    assert result.count == 5  # what the five pages held is kept


def test_endless_body_stops_at_max_bytes(bad: dict[str, CrawlResult]) -> None:
    result = bad["endless-body"]
    assert result.status is Health.DEGRADED, result.error
    assert result.problems == {"budget max_bytes": 1}
    assert titles(result) == ["Kinderflohmarkt 1"]


def test_latin1_sent_as_utf8_is_repaired(bad: dict[str, CrawlResult]) -> None:
    result = bad["latin"]
    assert result.status is Health.OK, result.error
    assert titles(result) == ["Märchenstunde für Kinder 7"]
    assert result.problems == {"repaired": 1}


def test_unfetched_detail_page_degrades_and_keeps_the_rest(bad: dict[str, CrawlResult]) -> None:
    result = bad["detail-503"]
    assert result.status is Health.DEGRADED
    assert result.error and "HTTP 503" in result.error
    assert result.problems == {"page not fetched": 1}
    assert titles(result) == ["Bilderbuchkino", "Puppentheater"]


def test_slow_drip_stops_at_max_seconds(bad: dict[str, CrawlResult]) -> None:
    result = bad["drip"]
    assert result.status is Health.DEGRADED
    assert result.problems.get("budget max_seconds") == 1


def test_deep_json_ld_block_is_skipped_alone(bad: dict[str, CrawlResult]) -> None:
    result = bad["deep"]
    assert result.status is Health.OK, result.error
    assert titles(result) == ["Kinderkonzert"]
    assert result.skipped == {"structured data nested too deep": 1}


def test_endless_recurrence_is_bounded(bad: dict[str, CrawlResult]) -> None:
    result = bad["tick"]
    assert result.status is Health.DEGRADED
    assert result.problems == {"budget max_occurrences": 1}
    got = titles(result)
    assert "Laternenumzug" in got and got.count("Tick") == 299  # 300 events in all


def test_only_the_needed_extensions_run(bad: dict[str, CrawlResult]) -> None:
    log = (next(iter(bad.values())).records_path.parent / "crawl.log").read_text()  # type: ignore[union-attr]
    enabled = re.findall(r"Enabled extensions:\n\[([^\]]*)\]", log)
    assert enabled, "no 'Enabled extensions' line in the crawl log"
    for block in enabled:  # one per source's crawler
        # AutoThrottle is off in these fast crawls (it stays in EXTENSIONS_RUN for real ones).
        assert set(re.findall(r"'([\w.]+)'", block)) == EXTENSIONS_RUN - {THROTTLE}
    assert "RemoteControl" not in log and "remote control" not in log.lower()


def test_the_run_deadline_cuts_every_source(tmp_path: Path, site: LocalSite) -> None:
    html = "text/html; charset=utf-8"
    site.put("/slow-list", '<html><a class="ev" href="/drip">1</a></html>', content_type=html)
    site.put("/drip", jsonld_page("Tropfen", 7), content_type=html, fault="drip")
    src = [
        source("drip", SourceType.JSONLD, site.url("/slow-list"), options={"link_selector": "a.ev"})
    ]
    started = time.monotonic()
    result = run_crawl(tmp_path, src, DOWNLOAD_TIMEOUT=30, deadline_seconds=2)["drip"]
    assert time.monotonic() - started < 15
    assert result.status is Health.DEGRADED
    assert result.problems.get("budget run max_seconds") == 1


# --- over several runs: health, exit status, kept events, no cancellations --------------


def test_partial_and_failed_runs_keep_events_and_cancel_nothing(
    tmp_path: Path, site: LocalSite
) -> None:
    s = Setup(tmp_path, site)
    cached = ("--set", "HTTPCACHE_ENABLED=true")
    events = [LATERNE, *filler(3)]
    site.put("/stadt.ics", calendar(*events), **HEADERS["static-file"])
    site.put("/partner.ics", calendar(SINGEN), **HEADERS["etag-only"])
    first = s.run(extra=cached)
    assert len(first) == 5
    # Two runs with the server failing during revalidation (5xx, then a reset): failed,
    # exit 3, every event still published and scheduled.
    for fault in ({"status": 502, "content_type": "text/plain"}, {"fault": "reset"}):
        site.put("/stadt.ics", "Bad Gateway", **fault)  # type: ignore[arg-type]
        items = s.run(expect=3, extra=cached)
        health = json.loads((s.out / "health.json").read_text())["sources"]
        assert health["stadt"]["status"] == "failed"
        assert health["partner"]["status"] == "ok"
        assert set(items) == set(first)
        assert {e["status"] for e in items.values()} == {"scheduled"}
    # Back: ok, nothing was cancelled on the way.
    site.put("/stadt.ics", calendar(*events), **HEADERS["static-file"])
    again = s.run(extra=cached)
    assert {e["status"] for e in again.values()} == {"scheduled"}
    health = json.loads((s.out / "health.json").read_text())["sources"]
    assert health["stadt"]["status"] == "ok" and health["stadt"]["problems"] == {}
