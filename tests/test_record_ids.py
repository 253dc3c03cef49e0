"""ICS record ids survive moved times (issue #6): a single event is its UID, an occurrence of
a series its UID plus RECURRENCE-ID — never its (possibly moved) start."""

from __future__ import annotations

from datetime import datetime

from core.model import BERLIN
from spiders.ics import parse_ics

CALENDAR = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//famcal tests//DE
BEGIN:VEVENT
UID:single@test
DTSTAMP:20261101T000000Z
DTSTART;TZID=Europe/Berlin:{single}
SUMMARY:Laternenumzug
END:VEVENT
BEGIN:VEVENT
UID:series@test
DTSTAMP:20261101T000000Z
DTSTART;TZID=Europe/Berlin:20261201T100000
RRULE:FREQ=WEEKLY;COUNT=3
SUMMARY:Krabbelgruppe
END:VEVENT
{override}END:VCALENDAR
"""
MOVED = """BEGIN:VEVENT
UID:series@test
DTSTAMP:20261101T000000Z
RECURRENCE-ID;TZID=Europe/Berlin:20261208T100000
DTSTART;TZID=Europe/Berlin:20261208T143000
SUMMARY:Krabbelgruppe (nachmittags)
END:VEVENT
"""


def record_ids(single: str, override: str = "") -> dict[str, str]:
    body = CALENDAR.format(single=single, override=override).replace("\n", "\r\n").encode()
    found = parse_ics(
        body,
        window_start=datetime(2026, 11, 1, tzinfo=BERLIN),
        window_end=datetime(2027, 1, 1, tzinfo=BERLIN),
    )
    return {item["record_id"]: item["start"] for item in found if isinstance(item, dict)}


def test_moved_times_keep_their_record_ids() -> None:
    before = record_ids("20261203T170000")
    after = record_ids("20261203T173000", MOVED)
    assert (
        set(before)
        == set(after)
        == {
            "single@test",
            "series@test#2026-12-01T10:00:00+01:00",
            "series@test#2026-12-08T10:00:00+01:00",
            "series@test#2026-12-15T10:00:00+01:00",
        }
    )
    assert after["single@test"].startswith("2026-12-03T17:30")
    assert after["series@test#2026-12-08T10:00:00+01:00"].startswith("2026-12-08T14:30")
