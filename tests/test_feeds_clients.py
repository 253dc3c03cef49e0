"""Every published .ics read as a family's calendar apps read it (issue #15).

Four independent readers — libical (Evolution, GNOME Calendar; Debian's GObject bindings,
run under the system Python), Home Assistant's strict ``ical``, icalendar, and ical.js
(Thunderbird; ``test_feeds_readers``) — must read every feed of the demo and of the sample
calendar without an error and with the JSON's start, status and title (less the "Abgesagt: "
/ "Verschoben: " prefix every client shows), and the JSON's end where it gives one. The
texts are what a parent reads: German, the source's name, no rule evidence.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import icalendar
import pytest
from ical.calendar_stream import IcsCalendarStream

from feeds.labels import STATUS_PREFIX
from tests.conftest import ROOT

SYSTEM_PYTHON = Path("/usr/bin/python3")
LIBICAL = ROOT / "tests" / "clients" / "read_libical.py"
ICS_STATUS = {"scheduled": "CONFIRMED", "cancelled": "CANCELLED", "postponed": "TENTATIVE"}
PREFIX = {status.value: text for status, text in STATUS_PREFIX.items()}
# What rule evidence looks like: «phrase», "(+3)", "keyword", "→".
EVIDENCE = re.compile(r"«|»|\(\+\d|\(-\d|keyword|→|Warum hier|age_groups")


def feeds(out: Path) -> list[Path]:
    """The feeds: every .ics but the site's one-event files (``termine/``)."""
    return sorted(p for p in out.rglob("*.ics") if p.relative_to(out).parts[0] != "termine")


def items(path: Path) -> dict[str, dict[str, Any]]:
    document = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    return {item["id"]: item for item in document["items"]}


@pytest.fixture(params=["demo", "sample"])
def out(request: pytest.FixtureRequest) -> Path:
    if request.param == "sample":
        path: Path = request.getfixturevalue("sample_out")
    else:
        path = request.getfixturevalue("demo_out")
    return path


def libical(paths: list[Path]) -> dict[str, Any]:
    """libical's reading; skips (saying why) where Debian's bindings are not installed."""
    if not SYSTEM_PYTHON.exists():
        pytest.skip("no /usr/bin/python3 for libical's GObject bindings")
    probe = subprocess.run(
        [str(SYSTEM_PYTHON), "-c", "import gi; gi.require_version('ICalGLib', '3.0')"],
        capture_output=True,
        check=False,
    )
    if probe.returncode != 0:
        pytest.skip("libical bindings missing: apt-get install gir1.2-ical-3.0 python3-gi")
    result = subprocess.run(
        [str(SYSTEM_PYTHON), str(LIBICAL), *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def local(iso: str | None) -> str | None:
    """The JSON's ISO time as local wall time without offset (what libical prints)."""
    return iso[:19] if iso else None


def title_of(summary: str, status: str) -> str:
    prefix = PREFIX.get(status, "")
    assert summary.startswith(prefix), (summary, status)
    return summary[len(prefix) :]


def test_libical_reads_every_feed_without_errors(out: Path) -> None:
    paths = feeds(out)
    read = libical(paths)
    checked = 0
    for path in paths:
        reading = read[str(path)]
        assert reading["errors"] == [], path
        expected = items(path)
        assert set(reading["events"]) == set(expected), path
        for uid, event in reading["events"].items():
            obj = expected[uid]["_event"]
            assert event["errors"] == [], (path, uid, event["errors"])
            assert event["status"] == ICS_STATUS[obj["status"]]
            assert title_of(event["summary"], obj["status"]) == obj["title"]
            assert event["start"] == local(obj["start"])
            if obj["end"]:
                assert event["end"] == local(obj["end"])
            checked += 1
    assert checked > 0


def test_home_assistant_ical_reads_every_feed(out: Path) -> None:
    checked = 0
    for path in feeds(out):
        calendar = IcsCalendarStream.calendar_from_ics(path.read_text(encoding="utf-8"))
        expected = items(path)
        assert {e.uid for e in calendar.events} == set(expected), path
        for event in calendar.events:
            obj = expected[event.uid]["_event"]
            assert event.status is not None
            assert str(event.status.value) == ICS_STATUS[obj["status"]]
            assert title_of(event.summary or "", obj["status"]) == obj["title"]
            assert event.dtstart.isoformat() == obj["start"]
            if obj["end"]:
                assert event.dtend is not None
                assert event.dtend.isoformat() == obj["end"]
            checked += 1
    assert checked > 0


def test_icalendar_reads_what_the_json_says(out: Path) -> None:
    for path in feeds(out):
        calendar = icalendar.Calendar.from_ical(path.read_bytes())
        expected = items(path)
        for event in calendar.events:
            obj = expected[str(event["UID"])]["_event"]
            assert title_of(str(event["SUMMARY"]), obj["status"]) == obj["title"]
            assert event.start.isoformat() == obj["start"]
            assert str(event["STATUS"]) == ICS_STATUS[obj["status"]]
            if obj["end"]:
                assert event.end.isoformat() == obj["end"]


def test_the_notes_read_as_german_text_for_parents(demo_out: Path) -> None:
    calendar = icalendar.Calendar.from_ical((demo_out / "familie.ics").read_bytes())
    by_uid = items(demo_out / "familie.ics")
    assert calendar.events
    for event in calendar.events:
        text = str(event["DESCRIPTION"])
        assert not EVIDENCE.search(text), text
        obj = by_uid[str(event["UID"])]
        assert obj["content_text"] == text
        names = [s["id"] for s in obj["_event"]["sources"]]
        assert "Quelle: " in text
        # The source's name for people, not its id.
        assert not any(f"Quelle: {n}" == line for n in names for line in text.splitlines())
        if obj["_event"]["status"] == "cancelled":
            assert text.startswith("Abgesagt:")
    # The evidence stays for developers, in the JSON.
    assert any(item["_event"]["reasons"] for item in by_uid.values())


def test_a_cancelled_demo_event_reads_abgesagt_in_every_reader(demo_out: Path) -> None:
    path = demo_out / "familie.ics"
    cancelled = {u: i for u, i in items(path).items() if i["_event"]["status"] == "cancelled"}
    assert cancelled, "the demo has cancelled events"
    uid, item = sorted(cancelled.items())[0]
    expected = "Abgesagt: " + item["_event"]["title"]
    libical_events = libical([path])[str(path)]["events"]
    assert libical_events[uid]["summary"] == expected
    ha = IcsCalendarStream.calendar_from_ics(path.read_text(encoding="utf-8"))
    assert {e.uid: e.summary for e in ha.events}[uid] == expected
    ical_calendar = icalendar.Calendar.from_ical(path.read_bytes())
    assert {str(e["UID"]): str(e["SUMMARY"]) for e in ical_calendar.events}[uid] == expected
    node = shutil.which("node")
    js = ROOT / "tests" / "js"
    if node and (js / "node_modules" / "ical.js").is_dir():
        run = subprocess.run(
            [node, str(js / "parse_feeds.mjs"), str(path)],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        assert json.loads(run.stdout)[str(path)]["events"][uid]["summary"] == expected


def test_no_empty_property_in_any_feed(out: Path) -> None:
    for path in feeds(out):
        for line in path.read_text(encoding="utf-8").split("\r\n"):
            if line and not line.startswith(" "):
                _, _, value = line.partition(":")
                assert value, (path, line)
