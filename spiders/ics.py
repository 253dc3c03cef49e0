"""The ``ics`` source type: any iCalendar URL (``webcal://`` is fetched as https).

Contract: ``parse_ics(body, window_start=…, window_end=…)`` yields one ``RawEvent``-ready
dict per occurrence inside the window — recurrences expanded by recurring-ical-events
(RRULE, RDATE, EXDATE, RECURRENCE-ID), X-WR-TIMEZONE applied by x-wr-timezone — and
``Skip`` values for components it had to pass over. A file that is not a calendar at all
raises ``NotACalendar``. ``IcsSpider`` wraps it: one request per start URL.

Faults (issue #8): a file cut short (no closing ``END:VCALENDAR``: a truncated download or
a crashed generator) is read up to its last complete VEVENT and announced by a
``Skip(TRUNCATED, …)`` first; the spider uses those events but fails the source, so the
operator hears of it and no absence is counted. Components without DTSTART, with a date
outside 1900–2199, or with an end before the start are counted as skips with that reason.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import icalendar
import recurring_ical_events
import x_wr_timezone
from scrapy.http import Response

from famcal.model import Location, SourceType
from spiders.base import SourceSpider

TRUNCATED = "truncated file"
_CLOSED = re.compile(r"(?i)END:VCALENDAR\s*\Z")
_EVENT_END = re.compile(r"(?im)^END:VEVENT\r?$")
_EVENT_BEGIN = re.compile(r"(?im)^BEGIN:VEVENT\r?$")


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
    if not _CLOSED.search(text):
        text = _complete_part(text)
        yield Skip(TRUNCATED, "no END:VCALENDAR; read up to the last complete event")
    try:
        calendars = icalendar.Calendar.from_ical(text, multiple=True)
    except Exception as exc:  # icalendar raises ValueError and others on broken files
        raise NotACalendar(f"unreadable iCalendar: {exc}") from exc
    for calendar in calendars:
        yield from _component_notes(calendar)
        yield from _calendar_occurrences(calendar, window_start, window_end)


def _complete_part(text: str) -> str:
    """A cut-off calendar up to its last complete VEVENT, closed again."""
    ends = list(_EVENT_END.finditer(text))
    if ends:
        head = text[: ends[-1].end()]
    else:
        begin = _EVENT_BEGIN.search(text)
        head = text[: begin.start()] if begin else text
    return head.rstrip("\r\n") + "\r\nEND:VCALENDAR\r\n"


def _component_notes(calendar: icalendar.Calendar) -> Iterator[Skip]:
    """Count what the expansion would pass over (or repair) silently."""
    for component in calendar.walk("VEVENT"):
        uid = str(component.get("UID", "?"))[:200]
        start = component.get("DTSTART")
        if start is None:
            yield Skip("no start", uid)
            continue
        try:
            begins = start.dt
            if not 1900 <= begins.year <= 2199:
                yield Skip("date out of range", f"{uid}: {begins.isoformat()}")
            end = component.get("DTEND")
            if end is not None and type(end.dt) is type(begins) and end.dt < begins:
                # recurring-ical-events swaps such start and end; say so.
                yield Skip("end before start (swapped)", uid)
        except (AttributeError, TypeError, ValueError):
            continue  # the expansion reports what it cannot read


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
            if "DTSTART" not in component:
                continue  # counted as "no start" already
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
    for occurrence in occurrences:
        try:
            yield _occurrence(occurrence)
        except Exception as exc:
            yield Skip("bad event", f"{occurrence.get('UID', '?')}: {exc}")


def _iso(value: date | datetime) -> str:
    return value.isoformat()


def _text(component: icalendar.Event, name: str) -> str:
    value = component.get(name)
    return str(value).strip() if value is not None else ""


def _occurrence(event: icalendar.Event) -> dict[str, Any]:
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
    recurring = any(k in event for k in ("RRULE", "RDATE", "RECURRENCE-ID"))
    record_id = f"{uid}#{_iso(start)}" if recurring else uid
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
        truncated = False
        read = 0
        try:
            found = parse_ics(
                response.body, window_start=self.window_start, window_end=self.window_end
            )
            for item in found:
                if isinstance(item, Skip):
                    if item.reason == TRUNCATED:
                        truncated = True
                    else:
                        self.skip(item.reason, item.detail)
                    continue
                if not item["url"]:
                    item["url"] = None
                read += 1
                yield self.make_event(**item)
        except NotACalendar as exc:
            self.fail(f"{exc} ({response.url})")
            return
        if truncated:
            # The events before the cut are used; the source still counts as failed so
            # nothing it no longer lists is taken for deleted.
            self.fail(
                f"truncated iCalendar file (no END:VCALENDAR): "
                f"{read} events read before the cut ({response.url})"
            )
