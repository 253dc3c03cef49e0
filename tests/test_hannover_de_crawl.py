"""End to end: a real crawl (child process, Scrapy, robots.txt) of a local hannover.de-shaped
site under tests/fixtures/hannover_de/: two category listings, load-more pages with
``isLast``, detail pages. Pages live at ``<path>/index.html`` and are served by the standard
library's file server, as the demo snapshot is.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from core.config import SourceConfig
from core.model import Health, Location, RawEvent, SourceType
from spiders.crawl import CrawlResult, crawl

SITE = Path(__file__).parent / "fixtures" / "hannover_de"
BERLIN = ZoneInfo("Europe/Berlin")
WINDOW = {
    "window_start": datetime(2026, 11, 25, tzinfo=BERLIN),
    "window_end": datetime(2027, 4, 30, tzinfo=BERLIN),
}
FAST = {"HTTPCACHE_ENABLED": False, "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False}
UA = "famcal-test/1.0 (+http://contact.example/famcal)"


class _Handler(SimpleHTTPRequestHandler):
    agents: list[str] = []  # noqa: RUF012 — shared by the server's handler instances

    def log_message(self, format: str, *args: Any) -> None:
        self.agents.append(self.headers.get("User-Agent", ""))


@pytest.fixture
def site() -> Iterator[str]:
    _Handler.agents = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Handler, directory=str(SITE)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _source(base: str, **options: Any) -> SourceConfig:
    return SourceConfig(
        id="hannover-de",
        type=SourceType.HANNOVER_DE,
        name="hannover.de",
        start_urls=(
            f"{base}/Veranstaltungskalender/Kinder-Jugendliche",
            f"{base}/Veranstaltungskalender/Kostenlos",
        ),
        download_delay=0,
        options=options,
    )


def _run(base: str, tmp_path: Path, settings: dict[str, Any], **options: Any) -> CrawlResult:
    results = crawl([_source(base, **options)], work_dir=tmp_path, settings=settings, **WINDOW)
    return results["hannover-de"]


def test_crawl_publishes_every_occurrence(site: str, tmp_path: Path) -> None:
    result = _run(site, tmp_path, FAST, user_agent=UA)
    assert result.status is Health.OK, result.error
    records = {r.record_id: r for r in result.records()}
    assert sorted(records) == [
        "9001#2027-03-03",
        "9001#2027-03-10",
        "9001#2027-03-24",
        "9001#2027-03-31",
        "9002#2026-12-12",
        "9003#2027-02-01",
        "9003#2027-02-02",
        "9003#2027-02-03",
        "9003#2027-02-05T10:00",
        "9003#2027-02-05T14:00",
        "9004#2026-11-28",
    ]
    # The unparseable page is skipped; the card dated after the window is never fetched
    # (its page does not exist: fetching it would be a 404 and fail the source).
    assert result.skipped == {"unparseable detail": 1}
    assert all(ua == UA for ua in _Handler.agents)

    vorlesen = records["9001#2027-03-31"]
    assert vorlesen == RawEvent(
        source_id="hannover-de",
        source_name="hannover.de",
        record_id="9001#2027-03-31",
        title="Vorlesezeit in der Stadtbibliothek",
        start="2027-03-31T16:00:00",
        end="2027-03-31T17:00:00",
        timezone="Europe/Berlin",
        all_day=False,
        url=f"{site}/Veranstaltungskalender/Kinder-Jugendliche/Vorlesezeit-in-der-Stadtbibliothek/",
        description=(
            "Jeden Mittwoch lesen Ehrenamtliche für Kinder ab vier Jahren vor.\n\n"
            "Eine Anmeldung ist nicht nötig."
        ),
        location=Location(
            name="Stadtbibliothek Hannover",
            street="Hildesheimer Straße 12",
            postal_code="30169",
            city="Hannover",
        ),
        categories=("Kinder & Jugendliche", "Kostenlos"),
        price="Eintritt frei",
        free=True,
        status=None,
        image="http://images.example/var/storage/images/_aliases/full/1/vorlesen.jpg",
    )
    # After the switch to summer time on 28 March 2027 the same 16:00 is +02:00.
    offsets = {
        rid: datetime.fromisoformat(records[rid].start).replace(tzinfo=BERLIN).isoformat()
        for rid in ("9001#2027-03-24", "9001#2027-03-31")
    }
    assert offsets == {
        "9001#2027-03-24": "2027-03-24T16:00:00+01:00",
        "9001#2027-03-31": "2027-03-31T16:00:00+02:00",
    }

    kasper = records["9002#2026-12-12"]
    assert (kasper.title, kasper.status, kasper.start, kasper.end) == (
        "Kasper und der Zauberer",
        "cancelled",
        "2026-12-12T15:00:00",
        None,
    )
    assert (kasper.price, kasper.free, kasper.categories) == (
        "Kinder: 5 €; Erwachsene: 8 €",
        False,
        ("Kinder & Jugendliche",),
    )

    werkstatt = records["9003#2027-02-02"]
    assert (werkstatt.start, werkstatt.end, werkstatt.free) == (
        "2027-02-02T10:00:00",
        "2027-02-02T13:00:00",
        True,
    )
    assert werkstatt.url is not None
    assert werkstatt.url.endswith("/Winterferien-Werkstatt/")
    assert records["9003#2027-02-05T14:00"].start == "2027-02-05T14:00:00"

    # Listed under two URLs (one per category) with one location id: one event, both labels.
    laterne = records["9004#2026-11-28"]
    assert (laterne.title, laterne.status, laterne.all_day) == (
        "Laternenfest im Stadtteil",
        "postponed",
        True,
    )
    assert (laterne.start, laterne.end) == ("2026-11-28", "2026-11-29")
    assert laterne.location == Location(street="Marktplatz 1", postal_code="30880", city="Laatzen")
    assert laterne.categories == ("Kinder & Jugendliche", "Kostenlos")


def test_window_bounds_the_occurrences(site: str, tmp_path: Path) -> None:
    window = {
        "window_start": datetime(2027, 3, 5, tzinfo=BERLIN),
        "window_end": datetime(2027, 3, 25, tzinfo=BERLIN),
    }
    results = crawl([_source(site)], work_dir=tmp_path, settings=FAST, **window)
    result = results["hannover-de"]
    assert result.status is Health.OK, result.error
    assert sorted(r.record_id for r in result.records()) == ["9001#2027-03-10", "9001#2027-03-24"]


def test_unchanged_pages_are_not_downloaded_again(site: str, tmp_path: Path) -> None:
    settings = {
        "HTTPCACHE_ENABLED": True,
        "HTTPCACHE_DIR": str(tmp_path / "httpcache"),
        "DOWNLOAD_DELAY": 0,
        "AUTOTHROTTLE_ENABLED": False,
    }
    first = _run(site, tmp_path / "first", settings)
    second = _run(site, tmp_path / "second", settings)
    assert first.status is second.status is Health.OK
    assert [r.record_id for r in second.records()] == [r.record_id for r in first.records()]
    stats = second.stats
    # Never served from the cache without asking (#14): every stored page was asked again
    # and answered 304 (the file server's redirects carry no validator: asked afresh).
    assert stats.get("httpcache/hit", 0) == 0, stats
    assert stats.get("httpcache/revalidate", 0) == first.stats["httpcache/store"] > 0, stats


def test_a_missing_detail_page_degrades_the_source(site: str, tmp_path: Path) -> None:
    source = SourceConfig(
        id="hannover-de",
        type=SourceType.HANNOVER_DE,
        name="hannover.de",
        start_urls=(f"{site}/Veranstaltungskalender/Sport",),
        download_delay=0,
    )
    result = crawl([source], work_dir=tmp_path, settings=FAST, **WINDOW)["hannover-de"]
    # Partial, not failed: the event behind the page keeps its last known state.
    assert result.status is Health.DEGRADED
    assert result.problems == {"page not fetched": 1}
    assert result.error is not None
    assert result.error.startswith("HTTP 404 for ")
    assert result.error.endswith("/Veranstaltungskalender/Sport/Gibt-es-nicht-mehr")
    # The pages that did answer still give their events.
    assert [(r.record_id, r.categories) for r in result.records()] == [
        ("9002#2026-12-12", ("Sport",))
    ]
