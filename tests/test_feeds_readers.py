"""Independent readers over every published feed: icalendar round-trips each ICS file,
ical.js (the parser Thunderbird uses, from node) reads the same start times as the JSON
feed says, and every ``_event`` object validates against ``data/schema/event.schema.json``.

Run over a real demo run and over hand-built events around both DST switches (ical.js read
summer times an hour off with icalendar's long RDATE VTIMEZONE; see feeds.md)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import icalendar
import jsonschema
import pytest

from core.model import AgeGroup, Audience, District, Municipality, Status, Topic
from feeds import ics
from feeds.schema import event_schema
from tests.conftest import ROOT

JS = ROOT / "tests" / "js"
SCHEMA = event_schema()


def feeds(out: Path) -> list[Path]:
    """The feeds: every .ics but the site's one-event files (``termine/``)."""
    return sorted(p for p in out.rglob("*.ics") if p.relative_to(out).parts[0] != "termine")


def json_of(ics_path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(ics_path.with_suffix(".json").read_text())
    return document


def ical_js(paths: list[Path]) -> dict[str, Any]:
    """ical.js's reading of the files; skips when node or the npm package is absent."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    if not (JS / "node_modules" / "ical.js").is_dir():
        pytest.skip("ical.js is not installed: `make test` installs it into tests/js")
    result = subprocess.run(
        [node, str(JS / "parse_feeds.mjs"), *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


@pytest.fixture(params=["demo", "sample"])
def out(request: pytest.FixtureRequest) -> Path:
    path: Path = request.getfixturevalue(f"{request.param}_out")
    return path


def test_every_feed_is_there(out: Path) -> None:
    combined = len(District) * len(AgeGroup)  # bezirk/<district>/<group>
    assert len(feeds(out)) == 3 + len(District) + len(AgeGroup) + len(Topic) + combined
    for path in feeds(out):
        assert path.with_suffix(".json").is_file()


def test_icalendar_round_trips_every_feed(out: Path) -> None:
    for path in feeds(out):
        data = path.read_bytes()
        cal = icalendar.Calendar.from_ical(data)
        assert cal.get_missing_tzids() == set(), path
        assert "METHOD" not in cal
        assert str(cal["X-WR-CALNAME"]) == str(cal["NAME"]) == json_of(path)["title"]
        # icalendar writes back exactly what it read: nothing was lost or reinterpreted.
        assert cal.to_ical() == data, path
        again = icalendar.Calendar.from_ical(cal.to_ical())
        for first, second in zip(cal.events, again.events, strict=True):
            for key in ("UID", "SUMMARY", "DESCRIPTION", "STATUS", "SEQUENCE", "DTSTAMP"):
                assert first.get(key) == second.get(key)
            assert (first.start, first.end) == (second.start, second.end)


def test_icalendar_reads_what_the_json_says(out: Path) -> None:
    for path in feeds(out):
        cal = icalendar.Calendar.from_ical(path.read_bytes())
        items = json_of(path)["items"]
        assert [str(e["UID"]) for e in cal.events] == [i["id"] for i in items], path
        for ev, item in zip(cal.events, items, strict=True):
            assert ev.start.isoformat() == item["_event"]["start"]
            status = {"scheduled": "CONFIRMED", "cancelled": "CANCELLED", "postponed": "TENTATIVE"}
            assert str(ev["STATUS"]) == status[item["_event"]["status"]]


def test_ical_js_reads_the_start_times_of_the_json(out: Path) -> None:
    paths = feeds(out)
    parsed = ical_js(paths)
    checked = 0
    for path in paths:
        reading = parsed[str(path)]
        assert reading["timezones"] == ["Europe/Berlin"]
        assert reading["name"] == json_of(path)["title"]
        expected = {i["id"]: i["_event"] for i in json_of(path)["items"]}
        assert set(reading["events"]) == set(expected), path
        for uid, event in reading["events"].items():
            assert event["start"] == expected[uid]["start"], (path, uid)
            if expected[uid]["end"]:
                assert event["end"] == expected[uid]["end"], (path, uid)
            elif not expected[uid]["all_day"]:
                # A timed event without a stated end lasts the feeds' default duration.
                start = datetime.fromisoformat(expected[uid]["start"])
                assert event["end"] == (start + ics.DEFAULT_DURATION).isoformat(), (path, uid)
            checked += 1
    assert checked > 0


def test_ical_js_gets_summer_and_winter_offsets_right(sample_out: Path) -> None:
    events = ical_js([sample_out / "alle.ics"])[str(sample_out / "alle.ics")]["events"]
    starts = {e["start"] for e in events.values()}
    assert {
        "2027-03-28T01:30:00+01:00",
        "2027-03-28T03:30:00+02:00",
        "2027-07-15T10:00:00+02:00",
        "2027-10-31T01:30:00+02:00",
        "2027-10-31T03:30:00+01:00",
        "2027-06-01",
    } <= starts
    assert events["ev102@famcal-hannover"]["start_utc"] == "2027-07-15T08:00:00.000Z"
    assert events["ev111@famcal-hannover"]["status"] == "CANCELLED"


def test_every_event_object_matches_the_schema(out: Path) -> None:
    validator = jsonschema.Draft202012Validator(SCHEMA)
    count = 0
    for path in sorted(out.rglob("*.json")):
        if path.name in ("health.json", "aenderungen.json") or path.relative_to(out).parts[0] in (
            "site",
            "termine",
        ):
            continue  # the operators' report, the tombstones and the site's own files
        for item in json.loads(path.read_text())["items"]:
            errors = [e.message for e in validator.iter_errors(item["_event"])]
            assert not errors, (path, item["id"], errors)
            assert item["id"] == item["_event"]["uid"]
            count += 1
    assert count > 0


def test_schema_is_valid_and_follows_the_model() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    props = SCHEMA["properties"]
    assert props["status"]["enum"] == [s.value for s in Status]
    assert props["district"]["enum"] == [*(d.value for d in District), None]
    assert props["municipality"]["enum"] == [*(m.value for m in Municipality), None]
    assert props["age_groups"]["items"]["enum"] == [g.value for g in AgeGroup]
    assert props["topics"]["items"]["enum"] == [t.value for t in Topic]
    assert props["audiences"]["items"]["enum"] == [a.value for a in Audience]


def test_schema_rejects_what_the_contract_forbids() -> None:
    validator = jsonschema.Draft202012Validator(SCHEMA)
    good = json.loads((ROOT / "tests" / "fixtures" / "event_object.json").read_text())
    assert validator.is_valid(good)
    for change in (
        {"start": "2026-12-06T11:00:00"},  # no offset
        {"district": "linden"},
        {"topics": ["kultur", "kultur"]},
        {"status": "abgesagt"},
        {"all_day": True},  # a timed start on an all-day event
        {"extra": 1},
    ):
        assert not validator.is_valid({**good, **change}), change


def test_second_demo_run_rewrites_no_feed(tmp_path: Path) -> None:
    from tests.conftest import famcal

    # A port of its own: the snapshot's URLs (and UIDs) contain it, and another demo (a
    # parallel test run) may hold the default one.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = str(sock.getsockname()[1])
    args = (
        "demo",
        "--db",
        str(tmp_path / "demo.db"),
        "--out",
        str(tmp_path / "out"),
        "--port",
        port,
    )
    assert famcal(*args).returncode == 0
    files = sorted(p for p in (tmp_path / "out").rglob("*") if p.is_file())
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in files}
    assert famcal(*args).returncode == 0
    after = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in files}
    changed = [p.name for p in files if before[p] != after[p]]
    # health.json and health.html report the run itself; every feed and page stay as is.
    assert changed == ["health.html", "health.json"]
    assert sorted(p for p in (tmp_path / "out").rglob("*") if p.is_file()) == files
