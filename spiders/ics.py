"""The ``ics`` source type: any iCalendar URL (``webcal://`` is fetched as https).

Contract: ``parse_ics(body, window_start=…, window_end=…)`` yields one ``RawEvent``-ready
dict per occurrence inside the window — recurrences expanded by recurring-ical-events
(RRULE, RDATE, EXDATE, RECURRENCE-ID), X-WR-TIMEZONE applied by x-wr-timezone — and
``Skip`` values for components it had to pass over. A file that is not a calendar at all
raises ``NotACalendar``. ``IcsSpider`` wraps it: one request per start URL.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Set
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import icalendar
import recurring_ical_events
import x_wr_timezone
from scrapy.http import Response

from famcal.model import Location, SourceType
from spiders.base import SourceSpider


class NotACalendar(ValueError):
    """The body is not iCalendar (HTML error page, JSON, random bytes)."""


@dataclass(frozen=True)
class Skip:
    reason: str
    detail: str


def decode(body: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return body.decode(encoding)
        except UnicodeDecodeError:
            continue
    return body.decode("latin-1")


def parse_ics(
    body: bytes, *, window_start: datetime, window_end: datetime
) -> Iterator[dict[str, Any] | Skip]:
    text = decode(body)
    head = text.lstrip()[:512].lower()
    if "begin:vcalendar" not in text[:65536].lower():
        if head.startswith(("<!doctype html", "<html")) or "<html" in head:
            raise NotACalendar("sent HTML where a calendar was expected")
        raise NotACalendar("not an iCalendar file (no BEGIN:VCALENDAR)")
    try:
        calendars = icalendar.Calendar.from_ical(text, multiple=True)
    except Exception as exc:  # icalendar raises ValueError and others on broken files
        raise NotACalendar(f"unreadable iCalendar: {exc}") from exc
    for calendar in calendars:
        yield from _calendar_occurrences(calendar, window_start, window_end)


def _calendar_occurrences(
    calendar: icalendar.Calendar, window_start: datetime, window_end: datetime
) -> Iterator[dict[str, Any] | Skip]:
    try:
        calendar = x_wr_timezone.to_standard(calendar)
    except Exception as exc:  # a bad X-WR-TIMEZONE: keep the floating times
        yield Skip("bad X-WR-TIMEZONE", str(exc))
    try:
        query = recurring_ical_events.of(calendar, skip_bad_series=True)
        occurrences = list(query.between(window_start, window_end))
    except Exception as exc:
        # One broken series makes the library give up on the calendar: fall back to the
        # events one by one, so the good ones still come through.
        yield Skip("calendar expansion failed", str(exc))
        occurrences = []
        for component in calendar.walk("VEVENT"):
            try:
                single = icalendar.Calendar()
                for tz in calendar.walk("VTIMEZONE"):
                    single.add_component(tz)
                single.add_component(component)
                occurrences.extend(
                    recurring_ical_events.of(single, skip_bad_series=True).between(
                        window_start, window_end
                    )
                )
            except Exception as inner:
                yield Skip("bad event", f"{component.get('UID', '?')}: {inner}")
    # recurring-ical-events drops RRULE from and adds RECURRENCE-ID to every occurrence, even
    # of a single event: which UIDs are series must be read from the calendar itself.
    series = {
        str(c.get("UID", "")).strip()
        for c in calendar.walk("VEVENT")
        if any(k in c for k in ("RRULE", "RDATE", "RECURRENCE-ID"))
    }
    for occurrence in occurrences:
        try:
            yield _occurrence(occurrence, series)
        except Exception as exc:
            yield Skip("bad event", f"{occurrence.get('UID', '?')}: {exc}")


def _iso(value: date | datetime) -> str:
    return value.isoformat()


def _text(component: icalendar.Event, name: str) -> str:
    value = component.get(name)
    return str(value).strip() if value is not None else ""


def _occurrence(event: icalendar.Event, series: Set[str] = frozenset()) -> dict[str, Any]:
    start = event.decoded("DTSTART")
    if not isinstance(start, date):
        raise ValueError("DTSTART is not a date or time")
    end: date | datetime | None = None
    if "DTEND" in event:
        end = event.decoded("DTEND")
    elif "DURATION" in event:
        duration = event.decoded("DURATION")
        if isinstance(duration, timedelta):
            end = start + duration
    all_day = not isinstance(start, datetime)
    timezone = None
    if isinstance(start, datetime) and start.tzinfo is not None:
        # Name the zone for the normalizer; the offset in the ISO text is what counts.
        timezone = getattr(start.tzinfo, "key", None)
    uid = _text(event, "UID") or _fallback_uid(event)
    # The record id must survive a moved time (issue #6): a single event is its UID; an
    # occurrence of a series is the UID plus its RECURRENCE-ID (the slot it was planned in),
    # not its possibly moved DTSTART.
    recurrence = event.get("RECURRENCE-ID")
    slot = recurrence.dt if recurrence is not None else start
    record_id = f"{uid}#{_iso(slot)}" if uid in series else uid
    categories: list[str] = []
    raw_categories = event.get("CATEGORIES")
    for group in raw_categories if isinstance(raw_categories, list) else [raw_categories]:
        if group is None:
            continue
        categories.extend(str(c).strip() for c in getattr(group, "cats", [group]) if str(c).strip())
    geo = event.get("GEO")
    lat = lon = None
    if geo is not None:
        lat, lon = float(geo.latitude), float(geo.longitude)
    return {
        "record_id": record_id,
        "title": _text(event, "SUMMARY"),
        "start": _iso(start),
        "end": _iso(end) if end is not None else None,
        "timezone": timezone,
        "all_day": all_day,
        "url": _text(event, "URL") or None,
        "description": _text(event, "DESCRIPTION"),
        "location": Location(name=_text(event, "LOCATION"), lat=lat, lon=lon),
        "categories": tuple(dict.fromkeys(categories)),
        "status": _text(event, "STATUS") or None,
    }


def _fallback_uid(event: icalendar.Event) -> str:
    # No UID: the component's own content (less its timestamp) is the only identity left.
    lines = [ln for ln in event.to_ical().splitlines() if not ln.startswith(b"DTSTAMP")]
    return "nouid-" + hashlib.sha256(b"\n".join(lines)).hexdigest()[:16]


class IcsSpider(SourceSpider):
    source_type = SourceType.ICS

    async def start(self):  # type: ignore[no-untyped-def]
        for url in self.source.start_urls:
            if url.startswith("webcal://"):
                url = "https://" + url.removeprefix("webcal://")
            yield self.request(url, self.parse_start)

    def parse_start(self, response: Response) -> Iterable[Any]:
        try:
            found = parse_ics(
                response.body, window_start=self.window_start, window_end=self.window_end
            )
            for item in found:
                if isinstance(item, Skip):
                    self.skip(item.reason, item.detail)
                    continue
                if not item["url"]:
                    item["url"] = None
                yield self.make_event(**item)
        except NotACalendar as exc:
            self.fail(f"{exc} ({response.url})")
