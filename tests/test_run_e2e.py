"""End to end: ``famcal run`` crawls an ICS source on a real local HTTP server and publishes
what contract.md says; a second run changes nothing; a broken source is reported, not fatal."""

from __future__ import annotations

import json
from pathlib import Path

import icalendar
import pytest

from core.model import District, Topic
from tests.conftest import FAST_CRAWL, FIXTURES, NOW, LocalSite, famcal

pytestmark = pytest.mark.e2e

FEEDS = (
    ["alle", "familie", "kostenlos"]
    + [f"bezirk/{d.value}" for d in District]
    + [f"alter/{g}" for g in ("0-2", "3-5", "6-9", "10-13", "14-17")]
    + [f"thema/{t.value}" for t in Topic]
)


def sources_file(tmp_path: Path, **urls: str) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(
        "".join(
            f'[sources.{sid}]\ntype = "ics"\nname = "{sid}"\nstart_urls = ["{url}"]\n\n'
            for sid, url in urls.items()
        )
    )
    return path


def run(tmp_path: Path, sources: Path, now: str = NOW.isoformat()) -> tuple[int, str]:
    result = famcal(
        "run",
        "--sources",
        str(sources),
        "--db",
        str(tmp_path / "events.db"),
        "--out",
        str(tmp_path / "out"),
        "--now",
        now,
        *FAST_CRAWL,
    )
    return result.returncode, result.stderr


def snapshot(out: Path) -> dict[str, tuple[int, bytes]]:
    return {
        str(p.relative_to(out)): (p.stat().st_mtime_ns, p.read_bytes())
        for p in sorted(out.rglob("*"))
        if p.is_file()
    }


def test_run_publishes_every_feed(tmp_path: Path, site: LocalSite) -> None:
    url = site.put("/cal.ics", (FIXTURES / "ics" / "run_e2e.ics").read_bytes())
    code, err = run(tmp_path, sources_file(tmp_path, partner=url))
    assert code == 0, err
    out = tmp_path / "out"
    for name in FEEDS:
        assert (out / f"{name}.ics").is_file(), name
        feed = json.loads((out / f"{name}.json").read_text())
        assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert (out / "index.html").is_file()

    alle = icalendar.Calendar.from_ical((out / "alle.ics").read_bytes())
    assert alle.get_missing_tzids() == set()
    titles = sorted(str(e["SUMMARY"]) for e in alle.events)
    # 1 film + 4 weekly occurrences + 1 lecture + 1 cancelled festival (kept as a tombstone).
    assert len(titles) == 7
    assert titles.count("Krabbelgruppe für Babys") == 4
    fest = next(e for e in alle.events if "Familienfest" in str(e["SUMMARY"]))
    assert str(fest["STATUS"]) == "CANCELLED"

    items = json.loads((out / "alle.json").read_text())["items"]
    film = next(i for i in items if i["title"].startswith("Kinderkino"))
    assert film["_event"]["start"] == "2026-12-06T11:00:00+01:00"
    assert film["_event"]["location"]["postal_code"] == "30169"
    assert film["_event"]["sources"] == [{"id": "partner", "url": "https://example.org/kinderkino"}]
    assert film["id"] == film["_event"]["uid"]
    assert film["_event"]["reasons"]
    fest_item = next(i for i in items if i["title"].startswith("Familienfest"))
    assert (
        fest_item["_event"]["start"] == "2027-06-01" and fest_item["_event"]["end"] == "2027-06-04"
    )
    assert fest_item["_event"]["status"] == "cancelled"

    familie = json.loads((out / "familie.json").read_text())["items"]
    assert "Vortrag: Altersvorsorge" not in {i["title"] for i in familie}

    health = json.loads((out / "health.json").read_text())
    assert health["sources"]["partner"]["status"] == "ok"
    assert health["sources"]["partner"]["events"] == 7
    assert health["sources"]["partner"]["error"] is None


def test_second_run_rewrites_nothing_and_keeps_uids(tmp_path: Path, site: LocalSite) -> None:
    url = site.put("/cal.ics", (FIXTURES / "ics" / "run_e2e.ics").read_bytes())
    sources = sources_file(tmp_path, partner=url)
    assert run(tmp_path, sources)[0] == 0
    before = snapshot(tmp_path / "out")
    assert run(tmp_path, sources)[0] == 0
    after = snapshot(tmp_path / "out")
    changed = [name for name in before if before[name] != after[name]]
    assert changed == ["health.html", "health.json"]  # the report of the run itself

    # A retitled event keeps its UID and gets SEQUENCE + 1.
    body = (
        (FIXTURES / "ics" / "run_e2e.ics")
        .read_text()
        .replace("Kinderkino: Die Schneekönigin", "Kinderkino: Die Eiskönigin")
    )
    site.put("/cal.ics", body)
    assert run(tmp_path, sources)[0] == 0
    items = json.loads((tmp_path / "out" / "alle.json").read_text())["items"]
    film = next(i for i in items if i["title"].startswith("Kinderkino"))
    old = json.loads(before["alle.json"][1])["items"]
    old_film = next(i for i in old if i["title"].startswith("Kinderkino"))
    assert film["id"] == old_film["id"]
    assert film["_event"]["sequence"] == old_film["_event"]["sequence"] + 1


def test_broken_source_is_reported_and_others_published(tmp_path: Path, site: LocalSite) -> None:
    good = site.put("/cal.ics", (FIXTURES / "ics" / "run_e2e.ics").read_bytes())
    bad = site.put(
        "/broken.ics", b"<html><body>Wartungsarbeiten</body></html>", content_type="text/html"
    )
    sources = sources_file(tmp_path, partner=good, broken=bad)
    code, err = run(tmp_path, sources)
    assert code == 3, err
    health = json.loads((tmp_path / "out" / "health.json").read_text())
    assert health["sources"]["partner"]["status"] == "ok"
    assert health["sources"]["broken"]["status"] == "failed"
    assert "HTML where a calendar was expected" in health["sources"]["broken"]["error"]
    assert len(json.loads((tmp_path / "out" / "alle.json").read_text())["items"]) == 7

    # The good source now fails too: its earlier events stay published, nothing cancelled.
    site.put("/cal.ics", b"oops", status=500)
    code, err = run(tmp_path, sources)
    assert code == 3
    items = json.loads((tmp_path / "out" / "alle.json").read_text())["items"]
    assert len(items) == 7
    assert sum(i["_event"]["status"] == "cancelled" for i in items) == 1  # the festival only
    health = json.loads((tmp_path / "out" / "health.json").read_text())
    assert health["sources"]["partner"]["status"] == "failed"
    assert "HTTP 500" in health["sources"]["partner"]["error"]
    assert health["sources"]["partner"]["last_success"] == NOW.isoformat()
