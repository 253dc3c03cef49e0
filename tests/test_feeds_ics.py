"""ICS output read back by icalendar: the traps of feeds.md."""

from __future__ import annotations

from datetime import date, datetime

import icalendar

from core.model import BERLIN, Event, Location, SourceRef, Status, Tags
from feeds import ics

UPDATED = datetime(2026, 11, 20, 9, 30, tzinfo=BERLIN)


def event(**fields: object) -> Event:
    values: dict[str, object] = {
        "uid": "abc@famcal-hannover",
        "title": "Kindertheater; Der Räuber, Hotzenplotz",
        "start": datetime(2026, 7, 1, 10, tzinfo=BERLIN),
        "end": datetime(2026, 7, 1, 11, tzinfo=BERLIN),
        "all_day": False,
        "location": Location(
            name="Theater",
            street="Str. 1",
            postal_code="30159",
            city="Hannover",
            lat=52.37,
            lon=9.73,
        ),
        "url": "https://example.org/e",
        "sequence": 2,
        "updated": UPDATED,
        "sources": (SourceRef(id="src", url="https://example.org/e"),),
        "tags": Tags(family=True),
        "description": "Zeile 1\nZeile 2",
    }
    values.update(fields)
    return Event(**values)  # type: ignore[arg-type]


def parse(data: bytes) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(data)


def feed(*events: Event) -> icalendar.Calendar:
    data = ics.calendar(
        uid="feed@x", name="Feed", description="D", vevents=[ics.vevent(e) for e in events]
    )
    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
    assert all(len(line) <= 75 for line in data.split(b"\r\n"))
    return parse(data)


def test_calendar_metadata_and_timezone() -> None:
    cal = feed(event())
    assert cal.get_missing_tzids() == set()
    assert "METHOD" not in cal
    assert str(cal["X-WR-CALNAME"]) == "Feed" and str(cal["NAME"]) == "Feed"
    assert cal["REFRESH-INTERVAL"].params["VALUE"] == "DURATION"
    assert cal["X-PUBLISHED-TTL"].to_ical() == b"PT6H"
    assert str(cal["X-WR-TIMEZONE"]) == "Europe/Berlin"
    (tz,) = cal.walk("VTIMEZONE")
    assert "RDATE" not in tz.to_ical().decode()
    assert tz.to_ical().decode().count("RRULE") == 2


def test_event_fields() -> None:
    (ev,) = feed(event()).events
    assert str(ev["UID"]) == "abc@famcal-hannover"
    assert ev.start == datetime(2026, 7, 1, 10, tzinfo=BERLIN)
    assert ev["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert ev["SEQUENCE"] == 2
    assert ev.decoded("DTSTAMP") == UPDATED
    assert ev.decoded("LAST-MODIFIED") == UPDATED
    assert str(ev["SUMMARY"]) == "Kindertheater; Der Räuber, Hotzenplotz"
    assert "Zeile 1\nZeile 2" in str(ev["DESCRIPTION"])
    assert "Quelle: src" in str(ev["DESCRIPTION"])
    assert str(ev["LOCATION"]) == "Theater, Str. 1, 30159 Hannover"
    assert (ev["GEO"].latitude, ev["GEO"].longitude) == (52.37, 9.73)
    assert str(ev["STATUS"]) == "CONFIRMED"


def test_all_day_is_date_with_exclusive_end() -> None:
    (ev,) = feed(event(start=date(2026, 6, 1), end=date(2026, 6, 4), all_day=True)).events
    assert ev["DTSTART"].params.get("VALUE") == "DATE" or ev["DTSTART"].to_ical() == b"20260601"
    assert ev.start == date(2026, 6, 1) and ev.end == date(2026, 6, 4)


def test_cancelled_is_kept_with_status() -> None:
    (ev,) = feed(event(tags=Tags(family=True, status=Status.CANCELLED))).events
    assert str(ev["STATUS"]) == "CANCELLED"


def test_newline_in_title_cannot_inject_components() -> None:
    hostile = "Fest\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nSUMMARY:evil"
    cal = feed(event(title=hostile))
    assert len(cal.events) == 1


def test_same_input_same_bytes() -> None:
    assert ics.vevent(event()) == ics.vevent(event())
