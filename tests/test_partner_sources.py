"""The partner entries of the sources files: production partners carry a licence note, and
the demo snapshot's ics/jsonld/tribe sources crawl end to end from a local server."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.config import load_sources
from core.model import Health, SourceType
from famcal.demo import serve_folder
from spiders.crawl import crawl

ROOT = Path(__file__).resolve().parents[1]
GENERIC = {SourceType.ICS, SourceType.JSONLD, SourceType.TRIBE}
SETTINGS = {"HTTPCACHE_ENABLED": False, "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False}


def test_production_partners_document_their_licence() -> None:
    partners = [s for s in load_sources(ROOT / "data" / "sources.toml") if s.type in GENERIC]
    assert partners
    for source in partners:
        assert str(source.options.get("licence", "")).strip(), source.id
        assert all(u.startswith(("https://", "webcal://")) for u in source.start_urls)


@pytest.fixture(scope="module")
def demo_server() -> Iterator[str]:
    with serve_folder(ROOT / "data" / "demo" / "site") as base:
        yield base


@pytest.mark.e2e
def test_demo_partner_sources_crawl(demo_server: str, tmp_path: Path) -> None:
    sources = [
        # No politeness delay against our own local server.
        replace(
            s.with_urls(tuple(u.replace("{demo}", demo_server) for u in s.start_urls)),
            download_delay=0,
        )
        for s in load_sources(ROOT / "data" / "demo" / "sources.toml")
        if s.type in GENERIC
    ]
    assert {s.type for s in sources} == GENERIC
    results = crawl(
        sources,
        window_start=datetime(2026, 11, 25, tzinfo=UTC),
        window_end=datetime(2027, 5, 1, tzinfo=UTC),
        work_dir=tmp_path,
        settings=SETTINGS,
    )
    by_type = {s.type: results[s.id] for s in sources}
    for result in by_type.values():
        assert result.status is Health.OK, result.error

    ics = list(by_type[SourceType.ICS].records())
    assert len(ics) >= 20
    assert any(r.status == "CANCELLED" for r in ics)
    assert any(r.all_day and r.end and r.end > r.start for r in ics)
    krabbel = {r.record_id: r for r in ics if r.record_id.startswith("krabbelgruppe@")}
    moved = krabbel["krabbelgruppe@fz-demo.famcal#2027-01-13T10:00:00+01:00"]
    assert moved.start == "2027-01-14T15:00:00+01:00"
    assert not any(r.start.startswith("2026-12-23") for r in krabbel.values())  # EXDATE
    postal_codes = Counter(r.location.name.rsplit(", ", 1)[-1][:5] for r in ics)
    assert len(postal_codes) >= 6  # several Stadtbezirke

    theater = list(by_type[SourceType.JSONLD].records())
    assert len(theater) == 6
    assert {r.status for r in theater} >= {
        "https://schema.org/EventCancelled",
        "https://schema.org/EventRescheduled",
    }

    tribe = list(by_type[SourceType.TRIBE].records())
    assert len(tribe) == 8  # two pages, one hidden event skipped
    assert by_type[SourceType.TRIBE].skipped == {"hidden event": 1}
