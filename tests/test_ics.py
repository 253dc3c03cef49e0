"""The ``ics`` source type: own fixtures for each case of issue #4, the shared real-world
corpus (every file goes through; occurrences agree with recurring-ical-events), and the
partner sample."""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import icalendar
import pytest
import recurring_ical_events
import x_wr_timezone

from spiders.ics import NotACalendar, Skip, https_url, parse_ics

FIXTURES = Path(__file__).parent / "fixtures" / "ics"
# ../shared/corpora of the project checkout (found upwards, so worktrees find it too).
CORPORA = next(
    (
        p / "shared" / "corpora"
        for p in Path(__file__).resolve().parents[1:]
        if (p / "shared" / "corpora").is_dir()
    ),
    Path(__file__).resolve().parents[1].parent / "shared" / "corpora",
)
ICS_REAL = CORPORA / "ics-real"
WINDOW = {
    "window_start": datetime(2026, 11, 1, tzinfo=UTC),
    "window_end": datetime(2027, 5, 1, tzinfo=UTC),
}
# Wide enough for every corpus file's events; unbounded RRULEs stay finite inside it.
WIDE = {
    "window_start": datetime(1990, 1, 1, tzinfo=UTC),
    "window_end": datetime(2035, 1, 1, tzinfo=UTC),
}


def parse(name: str, **window: Any) -> tuple[list[dict[str, Any]], list[Skip]]:
    found = list(parse_ics((FIXTURES / name).read_bytes(), **(window or WINDOW)))
    return [f for f in found if isinstance(f, dict)], [f for f in found if isinstance(f, Skip)]


def by_id(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["record_id"]: e for e in events}


def test_weekly_series_with_exdate_rdate_moved_and_cancelled_occurrences() -> None:
    events, skips = parse("family.ics")
    assert skips == []
    series = sorted(
        (e["record_id"].split("#")[1], e["start"], e["status"])
        for e in events
        if e["record_id"].startswith("krabbelgruppe@fz-test#")
    )
    assert series == [
        ("2026-12-02T10:00:00+01:00", "2026-12-02T10:00:00+01:00", None),
        ("2026-12-05T10:00:00+01:00", "2026-12-05T10:00:00+01:00", None),  # RDATE
        # moved: keeps the id of its original slot
        ("2026-12-09T10:00:00+01:00", "2026-12-10T15:00:00+01:00", None),
        ("2026-12-16T10:00:00+01:00", "2026-12-16T10:00:00+01:00", "CANCELLED"),
        # 2026-12-23 is an EXDATE
        ("2026-12-30T10:00:00+01:00", "2026-12-30T10:00:00+01:00", None),
    ]


def test_fields_of_an_occurrence() -> None:
    events = by_id(parse("family.ics")[0])
    first = events["krabbelgruppe@fz-test#2026-12-02T10:00:00+01:00"]
    assert first["title"] == "Krabbelgruppe"
    assert first["end"] == "2026-12-02T11:30:00+01:00"
    assert first["timezone"] == "Europe/Berlin"
    assert first["all_day"] is False
    assert first["description"].startswith("Für Eltern mit Babys")
    assert "\n" in first["description"]
    assert first["location"].name.startswith("Familienzentrum Linden")
    assert (first["location"].lat, first["location"].lon) == (52.3667, 9.7167)
    assert first["categories"] == ("Familie", "Baby")
    assert first["url"] == "https://fz.example.org/krabbelgruppe"


def test_all_day_multi_day_and_utc_with_duration() -> None:
    events = by_id(parse("family.ics")[0])
    holiday = events["ferien@fz-test"]
    assert (holiday["start"], holiday["end"], holiday["all_day"]) == (
        "2026-12-28",
        "2026-12-31",
        True,
    )
    assert holiday["categories"] == ("Ferien", "Kinder")
    utc = events["utc@fz-test"]
    assert (utc["start"], utc["end"]) == ("2026-12-04T17:00:00+00:00", "2026-12-04T19:00:00+00:00")
    assert utc["status"] == "CONFIRMED"
    assert utc["url"] is None  # a javascript: link is no event link
    assert "past@fz-test" not in events  # outside the window


def test_x_wr_timezone_and_byte_order_mark() -> None:
    events, skips = parse("xwr.ics")
    assert skips == []
    assert [(e["title"], e["start"], e["timezone"]) for e in events] == [
        ("Flohmarkt", "2026-12-05T10:00:00+01:00", "Europe/Berlin")
    ]


def test_floating_times_stay_naive_with_the_default_zone() -> None:
    events, _ = parse("floating.ics")
    assert [(e["start"], e["timezone"]) for e in events] == [
        ("2026-12-06T11:00:00", "Europe/Berlin")
    ]
    other = list(
        parse_ics((FIXTURES / "floating.ics").read_bytes(), default_timezone="UTC", **WINDOW)
    )
    assert other[0]["timezone"] == "UTC"  # type: ignore[index]


def test_broken_components_are_skipped_and_counted_rest_is_used() -> None:
    events, skips = parse("broken.ics")
    assert [e["record_id"] for e in events] == ["good@test"]
    assert events[0]["location"].lat is None  # the bad GEO line is dropped, not the event
    reasons = Counter(s.reason for s in skips)
    assert reasons["bad DTSTART"] == 1
    assert reasons["no DTSTART"] == 1
    assert reasons["bad series"] == 1
    assert reasons["broken file structure"] == 1  # truncated: no END:VCALENDAR
    assert reasons["bad line ignored"] == 2


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ((FIXTURES / "not_a_calendar.html").read_bytes(), "sent HTML"),
        (b'{"events": []}', "no BEGIN:VCALENDAR"),
        (b"", "no BEGIN:VCALENDAR"),
        (bytes(range(256)) * 4, "no BEGIN:VCALENDAR"),
    ],
)
def test_not_a_calendar(body: bytes, message: str) -> None:
    with pytest.raises(NotACalendar, match=message):
        list(parse_ics(body, **WINDOW))


@pytest.mark.parametrize("newline", [b"\r\n", b"\n"])
def test_line_endings_and_cp1252(newline: bytes) -> None:
    text = (
        "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:a\nDTSTART:20261201T100000\n"
        "SUMMARY:Bücherflohmarkt\nEND:VEVENT\nEND:VCALENDAR\n"
    )
    for encoding in ("utf-8", "cp1252"):
        body = text.encode(encoding).replace(b"\n", newline)
        events = [e for e in parse_ics(body, **WINDOW) if isinstance(e, dict)]
        assert [e["title"] for e in events] == ["Bücherflohmarkt"]


def test_same_uid_in_two_calendars_keeps_both_with_distinct_ids() -> None:
    body = (
        b"BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:dup\nDTSTART:20261201T100000\nEND:VEVENT\n"
        b"END:VCALENDAR\nBEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:dup\nDTSTART:20261202T100000\n"
        b"END:VEVENT\nEND:VCALENDAR\n"
    )
    ids = [e["record_id"] for e in parse_ics(body, **WINDOW) if isinstance(e, dict)]
    assert ids == ["dup", "dup#2026-12-02T10:00:00"]


def test_webcal_is_https() -> None:
    assert https_url("webcal://example.org/k.ics") == "https://example.org/k.ics"
    assert https_url("https://example.org/k.ics") == "https://example.org/k.ics"


# --- the shared corpus -------------------------------------------------------------------

CORPUS_FILES = sorted(ICS_REAL.rglob("*.ics")) if ICS_REAL.is_dir() else []
# Files the reference itself cannot read (it raises), with what we do instead. Everything
# else must agree occurrence for occurrence.
REFERENCE_FAILS = {
    "broken_ical.ics": {"no DTSTART": 1},  # "DTSTART;;VALUE=…": the property is lost
    "issue_1050_multiple_calendars.ics": {"no DTSTART": 2},
    "issue_722_missing_timezones.ics": {"no DTSTART": 2},
    "multiple_timezones.ics": {"bad series": 3},  # RDATE;VALUE=TIME is not RFC 5545
    "pacific_fiji.ics": {"several DTSTART": 1},
}
NOT_CALENDARS = {"fuzz_testcase_invalid_month.ics", "fuzz_testcase_vtimezone_lone_cr.ics"}


def corpus_id(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def reference(body: bytes) -> Counter[tuple[str, str]]:
    found: Counter[tuple[str, str]] = Counter()
    for calendar in icalendar.Calendar.from_ical(body, multiple=True):
        calendar = x_wr_timezone.to_standard(calendar)
        query = recurring_ical_events.of(calendar, skip_bad_series=True)
        for occurrence in query.between(WIDE["window_start"], WIDE["window_end"]):
            start = occurrence.decoded("DTSTART")
            found[(str(occurrence.get("UID", "")), start.isoformat())] += 1
    return found


def ours(events: list[dict[str, Any]]) -> Counter[tuple[str, str]]:
    found: Counter[tuple[str, str]] = Counter()
    for event in events:
        uid = event["record_id"]
        if "#" in uid:  # series: UID#RECURRENCE-ID
            uid = uid.rsplit("#", 1)[0]
        if uid.startswith("nouid-"):  # our stand-in for a missing UID
            uid = ""
        found[(uid, event["start"])] += 1
    return found


@pytest.mark.skipif(not CORPUS_FILES, reason="shared corpus ics-real/ not present")
@pytest.mark.parametrize("path", CORPUS_FILES, ids=corpus_id)
def test_corpus_file_agrees_with_recurring_ical_events(path: Path) -> None:
    body = path.read_bytes()
    try:
        found = list(parse_ics(body, **WIDE))
    except NotACalendar:
        assert path.name in NOT_CALENDARS
        return
    assert path.name not in NOT_CALENDARS
    events = [f for f in found if isinstance(f, dict)]
    skips = Counter(f.reason for f in found if isinstance(f, Skip))
    for event in events:
        assert event["record_id"] and isinstance(event["start"], str)
        datetime.fromisoformat(event["start"])
    if path.name in REFERENCE_FAILS:
        with pytest.raises(Exception):  # noqa: B017 - the reference's own errors vary
            reference(body)
        for reason, count in REFERENCE_FAILS[path.name].items():
            assert skips[reason] == count
        return
    assert ours(events) == reference(body)


@pytest.mark.skipif(not CORPUS_FILES, reason="shared corpus ics-real/ not present")
def test_corpus_parses_in_reasonable_time() -> None:
    started = time.perf_counter()
    total = 0
    for path in CORPUS_FILES:
        with contextlib.suppress(NotACalendar):
            total += sum(1 for _ in parse_ics(path.read_bytes(), **WIDE))
    elapsed = time.perf_counter() - started
    assert total > 30000  # 34,133 occurrences and skips when written
    assert elapsed < 60, f"{elapsed:.1f}s for the corpus"


@pytest.mark.skipif(not (CORPORA / "partners").is_dir(), reason="shared corpus not present")
def test_partner_match_calendar() -> None:
    body = (CORPORA / "partners" / "hannover_96_matches.ics").read_bytes()
    found = list(
        parse_ics(
            body,
            window_start=datetime(2026, 8, 1, tzinfo=UTC),
            window_end=datetime(2026, 9, 1, tzinfo=UTC),
        )
    )
    events = by_id([f for f in found if isinstance(f, dict)])
    assert set(events) == {
        "away@example.com",
        "home@example.com",
        "friendly@example.com",
        "private-friendly@example.com",
        "untimed-home@example.com",
    }
    assert events["home@example.com"]["start"] == "2026-08-16T11:30:00+00:00"
    assert events["home@example.com"]["location"].name == "Heinz von Heiden Arena"
    untimed = events["untimed-home@example.com"]
    assert (untimed["start"], untimed["end"], untimed["all_day"]) == (
        "2026-08-20",
        "2026-08-21",
        True,
    )
