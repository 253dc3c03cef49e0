"""ICS writing (RFC 5545) with icalendar, shaped by what real clients need (feeds.md).

Contract:
- ``vevent(event) -> bytes``: one event's VEVENT block, serialized once and reused by every
  feed that holds the event. UID, SEQUENCE, DTSTAMP = LAST-MODIFIED = the event's last
  change (never the build time), times with TZID=Europe/Berlin, all-day as VALUE=DATE with
  an exclusive DTEND, STATUS (cancelled events stay in the feed), plain-text DESCRIPTION with
  ages, price, reasons, source and link; LOCATION, GEO, URL, CATEGORIES.
- ``calendar(name=, description=, vevents=) -> bytes``: a VCALENDAR with NAME/X-WR-CALNAME,
  DESCRIPTION, REFRESH-INTERVAL, X-PUBLISHED-TTL, X-WR-TIMEZONE, the compact Europe/Berlin
  VTIMEZONE (two yearly RRULE transitions; ical.js misreads RDATE lists) and no METHOD.
  Same input, same bytes. ``calendar_chunks`` gives the same bytes in pieces.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from functools import cache

import icalendar
from icalendar import vDuration
from icalendar.enums import STATUS

from famcal.model import Event, Status
from famcal.urls import safe_url
from feeds.labels import CATEGORY_LABELS, describe_event

PRODID = "-//famcal//Familienkalender Hannover//DE"
TTL = timedelta(hours=6)
_STATUS: dict[Status, STATUS] = {
    Status.SCHEDULED: STATUS.CONFIRMED,
    Status.CANCELLED: STATUS.CANCELLED,
    Status.POSTPONED: STATUS.TENTATIVE,
}


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
    stamp = (event.updated or event.start_datetime()).astimezone(UTC).replace(microsecond=0)
    component = icalendar.Event.new(
        uid=event.uid,
        stamp=stamp,
        last_modified=stamp,
        sequence=event.sequence,
        summary=event.title,
        start=event.start,
        end=event.end,
        description=describe_event(event),
        location=event.location.one_line() or None,
        url=safe_url(event.url),
        status=_STATUS[event.status],
        categories=[CATEGORY_LABELS.get(c, c) for c in feed_categories(event)],
    )
    if event.location.lat is not None and event.location.lon is not None:
        component.add("GEO", (event.location.lat, event.location.lon))
    if event.status is Status.CANCELLED:
        # Some clients hide cancelled entries only when they are also transparent.
        component.add("TRANSP", "TRANSPARENT")
    data: bytes = component.to_ical()
    return data


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
