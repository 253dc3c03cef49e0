"""The demo snapshot's hannover.de section (data/demo/site/hannover.de) crawls to the events
its pages list: guards the snapshot against edits that the spider would read differently."""

from __future__ import annotations

import functools
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from core.config import load_sources
from core.model import Health
from spiders.crawl import crawl

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo"
BERLIN = ZoneInfo("Europe/Berlin")


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def demo_site() -> Iterator[str]:
    handler = functools.partial(_Quiet, directory=str(DEMO / "site"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_demo_snapshot(demo_site: str, tmp_path: Path) -> None:
    sources = [
        s.with_urls(tuple(u.replace("{demo}", demo_site) for u in s.start_urls))
        for s in load_sources(DEMO / "sources.toml")
        if s.id == "hannover-de"
    ]
    result = crawl(
        sources,
        window_start=datetime(2026, 10, 26, tzinfo=BERLIN),
        window_end=datetime(2027, 11, 25, tzinfo=BERLIN),
        work_dir=tmp_path,
        settings={"HTTPCACHE_ENABLED": False, "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False},
    )["hannover-de"]
    assert result.status is Health.OK, result.error
    assert result.skipped == {}
    records = list(result.records())
    per_event = Counter(r.title for r in records)
    assert len(per_event) == 17
    assert len(records) == 76
    assert per_event["Bilderbuchkino in der Stadtbibliothek"] == 11  # 13 Wednesdays less 2
    assert per_event["Fütterungsführung im Winterzoo"] == 24
    by_title = {r.title: r for r in records}
    assert by_title["Frau Holle – Weihnachtsmärchen"].status == "cancelled"
    assert by_title["Mitmachzirkus Salto"].status == "postponed"
    assert by_title["Kinder-Aktionstag im Museum August Kestner"].all_day is True
    assert by_title["Bilderbuchkino in der Stadtbibliothek"].categories == (
        "Kinder & Jugendliche",
        "Kostenlos",
    )
    assert by_title["Winterwald-Spaziergang für Familien"].categories == ("Kostenlos",)
    assert {r.location.city for r in records} == {"Hannover", "Pattensen", "Laatzen"}
    assert all(r.start[:10] >= "2026-11-25" and r.start[:10] <= "2027-03-31" for r in records)
    assert len({r.record_id for r in records}) == len(records)
