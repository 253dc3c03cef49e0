"""End to end: a source that sends exactly what it sent last time costs a request, not a
run (issue #9) — and that shortcut never hides a change, a cancellation or unfinished work."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FAST_CRAWL, NOW, LocalSite, famcal

pytestmark = pytest.mark.e2e


def vevent(uid: str, title: str, day: int) -> str:
    return (
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20261101T000000Z\r\n"
        f"DTSTART;TZID=Europe/Berlin:202612{day:02d}T100000\r\nSUMMARY:{title}\r\nEND:VEVENT\r\n"
    )


def calendar(*events: str) -> str:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//DE\r\n"
        + "".join(events)
        + ("END:VCALENDAR\r\n")
    )


A = vevent("a@t", "Kindertheater für Kinder ab 4", 5)
B = vevent("b@t", "Bilderbuchkino für Kinder", 6)


def run(root: Path, url: str, now: str = NOW.isoformat()) -> dict[str, Any]:
    (root / "sources.toml").write_text(
        f'[sources.partner]\ntype = "ics"\nname = "P"\nstart_urls = ["{url}"]\n'
    )
    result = famcal(
        "run",
        "--sources",
        str(root / "sources.toml"),
        "--db",
        str(root / "events.db"),
        "--out",
        str(root / "out"),
        "--now",
        now,
        *FAST_CRAWL,
    )
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(root / "events.db") as db:
        counts: dict[str, Any] = json.loads(
            db.execute("select counts from runs order by id desc limit 1").fetchone()[0]
        )
    return counts


def feed(root: Path) -> dict[str, dict[str, Any]]:
    items = json.loads((root / "out" / "alle.json").read_text())["items"]
    return {i["title"]: i["_event"] for i in items}


def files(root: Path) -> dict[str, tuple[int, bytes]]:
    out = root / "out"
    return {
        str(p.relative_to(out)): (p.stat().st_mtime_ns, p.read_bytes())
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name not in ("health.json", "health.html")  # the run's report
    }


def test_unchanged_source_skips_processing_and_rewrites_nothing(
    tmp_path: Path, site: LocalSite
) -> None:
    url = site.put("/cal.ics", calendar(A, B))
    first = run(tmp_path, url)
    assert first["process"]["events"] == 2
    before = files(tmp_path)
    second = run(tmp_path, url)
    assert second["process"] == {"skipped": "no source changed since the last run"}
    assert files(tmp_path) == before
    health = json.loads((tmp_path / "out" / "health.json").read_text())["sources"]["partner"]
    assert health["status"] == "ok" and health["events"] == 2

    # A real change is processed and published.
    site.put("/cal.ics", calendar(A, vevent("b@t", "Bilderbuchkino: Der Grüffelo", 6)))
    third = run(tmp_path, url)
    assert third["process"]["events"] == 2 and third["process"]["changed"] == 1
    assert "Bilderbuchkino: Der Grüffelo" in feed(tmp_path)


def test_still_missing_counts_while_the_source_is_unchanged(
    tmp_path: Path, site: LocalSite
) -> None:
    url = site.put("/cal.ics", calendar(A, B))
    run(tmp_path, url)
    site.put("/cal.ics", calendar(A))
    run(tmp_path, url)  # B missing once: still scheduled
    assert feed(tmp_path)["Bilderbuchkino für Kinder"]["status"] == "scheduled"
    third = run(tmp_path, url)  # same document, B missing twice: cancelled, kept
    assert "skipped" not in third["process"]
    assert feed(tmp_path)["Bilderbuchkino für Kinder"]["status"] == "cancelled"


def test_a_new_day_reads_the_document_again(tmp_path: Path, site: LocalSite) -> None:
    weekly = (
        "BEGIN:VEVENT\r\nUID:w@t\r\nDTSTAMP:20261101T000000Z\r\n"
        "DTSTART;TZID=Europe/Berlin:20261201T100000\r\nRRULE:FREQ=WEEKLY\r\n"
        "SUMMARY:Krabbelgruppe\r\nEND:VEVENT\r\n"
    )
    url = site.put("/cal.ics", calendar(weekly))
    first = run(tmp_path, url)
    # Eight days later the window reaches a week further: one more occurrence, same bytes.
    later = run(tmp_path, url, now="2026-12-03T08:00:00+01:00")
    assert "skipped" not in later["process"]
    assert later["process"]["new"] >= 1
    assert first["process"]["events"] >= 52
