"""ICS writing (RFC 5545), shaped by what real clients need (feeds.md).

Contract:
- ``vevent(event) -> bytes``: one event's VEVENT block, serialized once and reused by every
  feed that holds the event. UID, SEQUENCE, DTSTAMP = LAST-MODIFIED = the event's last
  change (never the build time), times with TZID=Europe/Berlin, all-day as VALUE=DATE with
  an exclusive DTEND, a timed event without an end ``DEFAULT_DURATION`` long, STATUS
  (cancelled events stay in the feed) and "Abgesagt: " / "Verschoben: " before the SUMMARY,
  the plain German DESCRIPTION of ``feeds.labels.describe_event``; LOCATION, GEO, URL, and
  CATEGORIES only when there are any (never an empty property).
  Written directly, not through icalendar's component model (that cost 0.3–0.5 ms per
  event, most of the publish; issue #9), and byte for byte what
  ``icalendar.Event.new(...).to_ical()`` made of the same event (``tests/ics_reference.py``
  keeps that code as the tests' reference): its property order, its TEXT escaping and its
  folding (at most 74 octets before each CRLF + space, never inside a UTF-8 character, never
  between a ``\\`` or ``^`` and the character after it). Like icalendar, it raises
  ``ValueError`` for an end before the start or a negative SEQUENCE and ``TypeError`` for a
  date start with a datetime end or the reverse. Datetimes must be aware and are written in
  Europe/Berlin, the model's zone and the feed's only VTIMEZONE (icalendar wrote another
  zone's name, which the feed does not define; the model holds no other zone).
- ``calendar(name=, description=, vevents=) -> bytes``: a VCALENDAR with NAME/X-WR-CALNAME,
  DESCRIPTION, REFRESH-INTERVAL, X-PUBLISHED-TTL, X-WR-TIMEZONE, the compact Europe/Berlin
  VTIMEZONE (two yearly RRULE transitions; ical.js misreads RDATE lists) and no METHOD.
  Built with icalendar: it runs once per feed, not per event.
  Same input, same bytes. ``calendar_chunks`` gives the same bytes in pieces.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from functools import cache

import icalendar
from icalendar import vDuration

from core.model import BERLIN, Event, Status
from core.urls import safe_url
from feeds.labels import CATEGORY_LABELS, describe_event, summary

PRODID = "-//famcal//Familienkalender Hannover//DE"
TTL = timedelta(hours=6)
# The length a timed event without a stated end gets in calendars (the JSON keeps end: null
# and the description says "Ende nicht angegeben"): most family offers last about an hour.
DEFAULT_DURATION = timedelta(hours=1)
_STATUS: dict[Status, str] = {
    Status.SCHEDULED: "CONFIRMED",
    Status.CANCELLED: "CANCELLED",
    Status.POSTPONED: "TENTATIVE",
}
# TEXT values without these characters need no escaping (the common case: skip 7 scans).
_SPECIAL = re.compile(r"[\\;,\r\n]")
# icalendar folds before a character that would bring a line to 75 octets (so: ≤ 74).
_FOLD_AT = 75
_ESCAPE_STARTS = b"\\^"


@cache
def berlin_vtimezone() -> icalendar.Timezone:
    tz = icalendar.Timezone()
    tz.add("TZID", "Europe/Berlin")
    daylight = icalendar.TimezoneDaylight()
    daylight.add("TZOFFSETFROM", timedelta(hours=1))
    daylight.add("TZOFFSETTO", timedelta(hours=2))
    daylight.add("TZNAME", "CEST")
    daylight.add("DTSTART", datetime(1970, 3, 29, 2, 0, 0))  # noqa: DTZ001 - VTIMEZONE local time
    daylight.add("RRULE", {"FREQ": "YEARLY", "BYMONTH": 3, "BYDAY": "-1SU"})
    standard = icalendar.TimezoneStandard()
    standard.add("TZOFFSETFROM", timedelta(hours=2))
    standard.add("TZOFFSETTO", timedelta(hours=1))
    standard.add("TZNAME", "CET")
    standard.add("DTSTART", datetime(1970, 10, 25, 3, 0, 0))  # noqa: DTZ001 - VTIMEZONE local time
    standard.add("RRULE", {"FREQ": "YEARLY", "BYMONTH": 10, "BYDAY": "-1SU"})
    tz.add_component(daylight)
    tz.add_component(standard)
    return tz


def vevent(event: Event) -> bytes:
    start, end = event.start, event.end
    # icalendar refused these (normalize and track never make them); so does this writer.
    if end is not None and start > end:
        raise ValueError(f"{event.uid}: end {end} before start {start}")
    if event.sequence < 0:
        raise ValueError(f"{event.uid}: negative SEQUENCE {event.sequence}")
    stamp = _utc(event.updated or event.start_datetime())
    # Properties in icalendar's order: its canonical VEVENT head, then alphabetical.
    lines = [
        "BEGIN:VEVENT",
        "SUMMARY:" + _text(summary(event)),
        "DTSTART" + _when(start),
    ]
    if end is None and isinstance(start, datetime):
        # RFC 5545 makes a timed event without an end a point in time, which several
        # clients hide; it gets a default length, and the text says the end is not known.
        end = start + DEFAULT_DURATION
    if end is not None:
        lines.append("DTEND" + _when(end))
    lines += (
        "DTSTAMP:" + stamp,
        "UID:" + _text(event.uid),
        f"SEQUENCE:{event.sequence}",
    )
    if categories := feed_categories(event):
        # Never an empty CATEGORIES: libical drops it with an X-LIC-ERROR, Fastmail rejects.
        lines.append(
            "CATEGORIES:" + ",".join([_text(CATEGORY_LABELS.get(c, c)) for c in categories])
        )
    lines.append("DESCRIPTION:" + _text(describe_event(event)))
    location = event.location
    if location.lat is not None and location.lon is not None:
        lines.append(f"GEO:{float(location.lat)};{float(location.lon)}")  # Python's repr
    lines.append("LAST-MODIFIED:" + stamp)
    if place := location.one_line():
        lines.append("LOCATION:" + _text(place))
    lines.append("STATUS:" + _STATUS[event.status])
    if event.status is Status.CANCELLED:
        # Some clients hide cancelled entries only when they are also transparent.
        lines.append("TRANSP:TRANSPARENT")
    if url := safe_url(event.url):
        # A URI, not TEXT: written as it is (safe_url lets no white space through).
        lines.append("URL:" + url)
    lines.append("END:VEVENT")
    return b"\r\n".join([_fold(line.encode()) for line in lines]) + b"\r\n"


def _text(value: str) -> str:
    """TEXT escaping (RFC 5545 3.3.11) as icalendar does it, in its order: a literal ``\\N``
    becomes a line break first, and CRLF, LF and a lone CR each become one ``\\n``."""
    if not _SPECIAL.search(value):
        return value
    return (
        value.replace("\\N", "\n")
        .replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def _when(value: date) -> str:
    """``;VALUE=DATE:…`` or ``;TZID=Europe/Berlin:…`` (seconds, no fraction) — the parameter
    and value part of DTSTART/DTEND."""
    if not isinstance(value, datetime):
        return f";VALUE=DATE:{value.year:04}{value.month:02}{value.day:02}"
    if value.tzinfo is not BERLIN:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value} (the model's times are aware)")
        # The feed has only the Europe/Berlin VTIMEZONE; the model holds no other zone.
        value = value.astimezone(BERLIN)
    return (
        f";TZID=Europe/Berlin:{value.year:04}{value.month:02}{value.day:02}"
        f"T{value.hour:02}{value.minute:02}{value.second:02}"
    )


def _utc(value: datetime) -> str:
    value = value.astimezone(UTC)
    return (
        f"{value.year:04}{value.month:02}{value.day:02}"
        f"T{value.hour:02}{value.minute:02}{value.second:02}Z"
    )


def _fold(line: bytes) -> bytes:
    """RFC 5545 3.1 folding exactly as icalendar's ``_foldline``: at most 74 octets before
    each CRLF + space, never inside a UTF-8 sequence, and a chunk that would end in ``\\``
    or ``^`` leaves it to the next one so no escape is split across the fold."""
    if len(line) < _FOLD_AT:
        return line
    chunks = []
    begin, size = 0, len(line)
    while size - begin >= _FOLD_AT:
        cut = begin + _FOLD_AT - 1
        while line[cut] & 0xC0 == 0x80:  # a UTF-8 continuation byte: back to its start
            cut -= 1
        if line[cut - 1] in _ESCAPE_STARTS:
            cut -= 1
        chunks.append(line[begin:cut])
        begin = cut
    chunks.append(line[begin:])
    return b"\r\n ".join(chunks)


def feed_categories(event: Event) -> list[str]:
    """Topic slugs first (shown with German names), then the source's own categories."""
    tags = event.tags
    topics = [t.value for t in tags.topics] if tags else []
    return list(dict.fromkeys([*topics, *event.categories]))


def calendar_chunks(
    *, uid: str, name: str, description: str, vevents: Iterable[bytes]
) -> Iterator[bytes]:
    """The VCALENDAR in pieces (head, each VEVENT, end), so a large feed can be written
    without being held in memory whole."""
    cal = icalendar.Calendar.new(
        uid=uid,
        name=name,
        description=description,
        prodid=PRODID,
        refresh_interval=TTL,
        subcomponents=[berlin_vtimezone()],
    )
    # Calendar.new writes REFRESH-INTERVAL without its required VALUE=DURATION parameter.
    cal["REFRESH-INTERVAL"].params["VALUE"] = "DURATION"
    cal.add("X-PUBLISHED-TTL", vDuration(TTL))
    cal.add("X-WR-TIMEZONE", "Europe/Berlin")
    head: bytes = cal.to_ical()
    end = b"END:VCALENDAR\r\n"
    assert head.endswith(end)
    yield head[: -len(end)]
    yield from vevents
    yield end


def calendar(*, uid: str, name: str, description: str, vevents: Iterable[bytes]) -> bytes:
    return b"".join(calendar_chunks(uid=uid, name=name, description=description, vevents=vevents))
