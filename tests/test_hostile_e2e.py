"""Hostile input end to end (issue #8): a source whose events carry markup and scripts,
``javascript:``/``data:`` URLs, escaped line breaks that spell calendar components, a 1 MB
description, an end before the start, no DTSTART, no title and the year 9999. The run
finishes, the clean events are published as plain text, the published ICS holds exactly the
expected VEVENTs, and every problem is counted in health.json."""

from __future__ import annotations

import json
import re
from pathlib import Path

import icalendar
import pytest

from pipeline.normalize import MAX_DESCRIPTION
from tests.conftest import FAST_CRAWL, FIXTURES, NOW, LocalSite, famcal

pytestmark = pytest.mark.e2e
OWN_SCRIPTS = re.compile(
    r'<script (type="application/ld\+json"|type="application/json" id="famcal-text"'
    r'|src="(\.\./)?site/famcal\.js" defer)>'
)


def vevent(uid: str, *lines: str, start: str | None = "DTSTART:20261203T150000Z") -> str:
    body = [f"UID:{uid}", "DTSTAMP:20261101T000000Z", *([start] if start else []), *lines]
    return "BEGIN:VEVENT\r\n" + "".join(f"{line}\r\n" for line in body) + "END:VEVENT\r\n"


HOSTILE = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//hostile//EN\r\n"
    + vevent(
        "script",
        "SUMMARY:<script>alert('t')</script>Kinder<b>theater</b>",
        "DESCRIPTION:<p>Ab 4</p><img src=x onerror=alert(1)>"
        "<a href=\"javascript:alert('d')\">Karten</a>",
        "URL:javascript:alert('u')",
    )
    + vevent("data-url", "SUMMARY:Bilderbuchkino", "URL:data:text/html;base64,PHNjcmlwdD4=")
    + vevent(
        "inject",
        "SUMMARY:Puppenspiel",
        "DESCRIPTION:Harmlos\\nEND:VEVENT\\nBEGIN:VEVENT\\nUID:evil\\nSUMMARY:Injected"
        "\\nDTSTART:20261204T100000Z\\nEND:VEVENT\\nBEGIN:VEVENT",
    )
    + vevent("huge", "SUMMARY:Lange Beschreibung", "DESCRIPTION:" + "Ä" * 1_000_000)
    + vevent("backwards", "SUMMARY:Rückwärts", "DTEND:20261203T130000Z")
    + vevent("no-start", "SUMMARY:Ohne Beginn", start=None)
    + vevent("no-title", "DESCRIPTION:nur Text")
    + vevent("far", "SUMMARY:Zukunft", start="DTSTART:99991231T100000Z")
    + "END:VCALENDAR\r\n"
)
PUBLISHED = {"Kindertheater", "Bilderbuchkino", "Puppenspiel", "Lange Beschreibung", "Rückwärts"}
PARTNER_EVENTS = 7


def test_hostile_source_is_cleaned_and_counted(tmp_path: Path, site: LocalSite) -> None:
    partner = site.put("/partner.ics", (FIXTURES / "ics" / "family.ics").read_bytes())
    hostile = site.put("/hostile.ics", HOSTILE)
    sources = tmp_path / "sources.toml"
    sources.write_text(
        f'[sources.partner]\ntype = "ics"\nname = "partner"\nstart_urls = ["{partner}"]\n\n'
        f'[sources.hostile]\ntype = "ics"\nname = "hostile"\nstart_urls = ["{hostile}"]\n'
    )
    out = tmp_path / "out"
    result = famcal(
        "run",
        *("--sources", str(sources), "--db", str(tmp_path / "events.db")),
        *("--out", str(out), "--now", NOW.isoformat(), *FAST_CRAWL),
    )
    assert result.returncode == 0, result.stderr

    calendar = icalendar.Calendar.from_ical((out / "alle.ics").read_bytes())
    assert len(calendar.events) == PARTNER_EVENTS + len(PUBLISHED)
    uids = [str(e["UID"]) for e in calendar.events]
    assert len(set(uids)) == len(uids)
    titles = {str(e["SUMMARY"]) for e in calendar.events}
    assert titles >= PUBLISHED
    assert not titles & {"Injected", "Ohne Beginn", "Zukunft"}

    items = {i["title"]: i for i in json.loads((out / "alle.json").read_text())["items"]}
    script = items["Kindertheater"]
    assert script["_event"]["description"] == "Ab 4\nKarten"
    assert script.get("url") is None and script["_event"]["url"] is None
    assert items["Bilderbuchkino"]["_event"]["url"] is None
    injected = items["Puppenspiel"]["_event"]["description"]
    assert injected.startswith("Harmlos\nEND:VEVENT\nBEGIN:VEVENT")  # text, not components
    assert len(items["Lange Beschreibung"]["_event"]["description"]) <= MAX_DESCRIPTION
    backwards = items["Rückwärts"]["_event"]
    assert backwards["end"] is None or backwards["end"] >= backwards["start"]

    for path in out.rglob("*"):
        if path.is_file() and path.name != "health.json":
            text = path.read_text(encoding="utf-8")
            # The site's own script elements are the ones allowed (its schema.org block, its
            # texts as JSON, its script file); hostile text inside JSON is escaped, so it
            # cannot close a block.
            text = OWN_SCRIPTS.sub("", text)
            for needle in ("<script", "javascript:", "data:text", "onerror", "alert("):
                assert needle not in text, (path.name, needle)

    health = json.loads((out / "health.json").read_text())["sources"]
    assert health["partner"]["status"] == "ok"
    hostile_health = health["hostile"]
    assert hostile_health["status"] == "ok"
    assert hostile_health["events"] == len(PUBLISHED) + 1  # the title-less one is rejected
    assert hostile_health["skipped"]["no DTSTART"] == 1
    assert hostile_health["skipped"]["date out of range"] == 1
    assert hostile_health["skipped"]["end before start (swapped)"] == 1
    assert hostile_health["rejected"] == {"no title": 1}
