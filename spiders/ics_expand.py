"""Expanding one parsed iCalendar into occurrence dicts, as pure functions (no Scrapy, no
processes): the part of the ``ics`` parser (``spiders.ics_parse``) after the file is read.

Contract:
- ``prepare(calendar)`` is a generator that yields a ``Skip`` for every VEVENT it drops (no
  or broken DTSTART, broken DTEND/DURATION/RECURRENCE-ID, several DTSTARTs) and for every
  ignorable bad line icalendar dropped, gives UID-less VEVENTs an id from their content
  (``nouid-…``, shared by all occurrences of such a series), applies X-WR-TIMEZONE
  (``Skip(BAD_X_WR_TIMEZONE, …)`` when that fails) and returns the prepared calendar.
- ``expand_calendar(calendar, window_start, window_end, default_timezone, max_series)``
  yields one ``RawEvent``-ready dict per occurrence inside the window (recurring-ical-events:
  RRULE, RDATE, EXDATE, RECURRENCE-ID) and ``Skip``s: a series the expander rejects is
  ``Skip("bad series", …)`` (the others are expanded series by series), an occurrence that
  cannot be read ``Skip("bad event", …)``. With ``max_series`` a series gives at most that
  many occurrences and one ``Skip(SERIES_BUDGET, …)``; a series that can repeat more than
  daily is expanded lazily in time order after the bounded ones, so an endless
  ``FREQ=SECONDLY`` costs only the occurrences kept.
- ``calendar_occurrences`` is ``prepare`` then ``expand_calendar``.
- One occurrence's dict: times in the source's form (aware ISO with ``timezone`` = the IANA
  name when there is one; naive with ``default_timezone`` for floating times; a bare date
  with ``all_day=True`` and an exclusive ``end``); ``record_id`` is the UID, or UID ``#``
  RECURRENCE-ID (the original start) for an occurrence of a series.
- ``text_of`` and ``with_components`` are the small component helpers the reader shares.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Generator, Iterator
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
import recurring_ical_events
import x_wr_timezone

from core.model import Location
from spiders.common import Skip, web_url

_RECURRENCE_KEYS = ("RRULE", "RDATE", "RECURRENCE-ID")
_SUB_DAILY = {"SECONDLY", "MINUTELY", "HOURLY"}
_SUB_DAILY_BY = ("BYSECOND", "BYMINUTE", "BYHOUR")
SERIES_BUDGET = "budget max_occurrences (series)"
_CRITICAL = {"DTSTART", "DTEND", "DURATION", "RRULE", "RDATE", "EXDATE", "RECURRENCE-ID"}
BAD_X_WR_TIMEZONE = "bad X-WR-TIMEZONE"


def calendar_occurrences(
    calendar: icalendar.Calendar,
    window_start: datetime,
    window_end: datetime,
    default_timezone: str,
    max_series: int | None,
) -> Iterator[dict[str, Any] | Skip]:
    prepared = yield from prepare(calendar)
    yield from expand_calendar(prepared, window_start, window_end, default_timezone, max_series)


def prepare(calendar: icalendar.Calendar) -> Generator[Skip, None, icalendar.Calendar]:
    """Drop the unreadable VEVENTs, give UID-less ones an id, apply X-WR-TIMEZONE."""
    kept: list[icalendar.Component] = []
    for component in calendar.subcomponents:
        if component.name == "VEVENT":
            problem = _unreadable(component)
            if problem is not None:
                yield Skip(problem, f"UID {text_of(component, 'UID') or '?'}")
                continue
            if not text_of(component, "UID"):
                # No UID: an id from the component's own content, given before expansion so
                # that all occurrences of a UID-less series share it.
                component.add("UID", _fallback_uid(component))
            for name, message in getattr(component, "errors", []):
                # A bad line inside an otherwise readable event: icalendar dropped it. Bad
                # recurrence lines are not ignorable: the expander skips their series.
                if name not in _CRITICAL:
                    yield Skip("bad line ignored", f"{name or '?'}: {message}")
        kept.append(component)
    calendar.subcomponents = kept
    try:
        calendar = x_wr_timezone.to_standard(calendar)
    except Exception as exc:  # a bad X-WR-TIMEZONE: keep the floating times
        yield Skip(BAD_X_WR_TIMEZONE, str(exc))
    return calendar


def expand_calendar(
    calendar: icalendar.Calendar,
    window_start: datetime,
    window_end: datetime,
    default_timezone: str,
    max_series: int | None,
) -> Iterator[dict[str, Any] | Skip]:
    events = [c for c in calendar.subcomponents if c.name == "VEVENT"]
    series_uids = {text_of(e, "UID") for e in events if any(k in e for k in _RECURRENCE_KEYS)}
    # Series that repeat more than daily (FREQ=SECONDLY, BYMINUTE=…) can hold millions of
    # occurrences in the window: each is expanded lazily, in time order, up to max_series.
    groups = _series(events)
    fast = [group for group in groups.values() if any(_sub_daily(c) for c in group)]
    if fast:
        lazy = {id(c) for group in fast for c in group}
        kept = [c for c in calendar.subcomponents if id(c) not in lazy]
        calendar = with_components(calendar, kept)
        events = [c for c in calendar.subcomponents if c.name == "VEVENT"]
    counts: Counter[str] = Counter()
    try:
        occurrences = list(_expand(calendar, window_start, window_end))
    except Exception:
        # The expander gives up on the whole calendar for one bad series: expand series by
        # series (all components of a UID together, so moved occurrences stay with theirs).
        occurrences = []
        for uid, group in _series(events).items():
            single = icalendar.Calendar()
            for component in calendar.subcomponents:
                if component.name == "VTIMEZONE":
                    single.add_component(component)
            for component in group:
                single.add_component(component)
            try:
                occurrences.extend(_expand(single, window_start, window_end))
            except Exception as exc:  # this series only
                yield Skip("bad series", f"UID {uid or '?'}: {type(exc).__name__}: {exc}")
    for occurrence in occurrences:
        uid = text_of(occurrence, "UID")
        counts[uid] += 1
        if max_series is not None and counts[uid] > max_series:
            if counts[uid] == max_series + 1:
                yield Skip(SERIES_BUDGET, f"UID {uid or '?'}: more than {max_series} occurrences")
            continue
        try:
            yield _occurrence(occurrence, series_uids, default_timezone)
        except Exception as exc:  # one unreadable occurrence, not the file
            yield Skip("bad event", f"UID {uid or '?'}: {exc}")
    # The bounded series first: a source budget cut falls on the endless ones.
    for group in fast:
        for found in _lazy_series(calendar, group, window_start, window_end, max_series):
            if isinstance(found, Skip):
                yield found
                continue
            try:
                yield _occurrence(found, series_uids, default_timezone)
            except Exception as exc:  # one unreadable occurrence, not the file
                yield Skip("bad event", f"UID {text_of(found, 'UID') or '?'}: {exc}")


def _expand(
    calendar: icalendar.Calendar, window_start: datetime, window_end: datetime
) -> Iterator[icalendar.Component]:
    query = recurring_ical_events.of(calendar, skip_bad_series=False)
    yield from query.between(window_start, window_end)


def _sub_daily(event: icalendar.Component) -> bool:
    """True when a recurrence rule of this VEVENT can repeat more than once a day."""
    try:
        rules = event.get("RRULE")
        for rule in rules if isinstance(rules, list) else [rules] if rules is not None else []:
            freq = [str(f).upper() for f in rule.get("FREQ", [])]
            if any(f in _SUB_DAILY for f in freq) or any(k in rule for k in _SUB_DAILY_BY):
                return True
    except Exception:  # a broken rule: the expander's own path reports it
        return False
    return False


def _lazy_series(
    calendar: icalendar.Calendar,
    group: list[icalendar.Component],
    window_start: datetime,
    window_end: datetime,
    limit: int | None,
) -> Iterator[icalendar.Component | Skip]:
    """One series' occurrences in the window, in time order, never more than ``limit``: the
    expander's ``after`` walks forward in small spans, so nothing beyond them is built."""
    zones = [c for c in calendar.subcomponents if c.name == "VTIMEZONE"]
    single = with_components(calendar, zones + group)
    uid = text_of(group[0], "UID") or "?"
    try:
        for number, occurrence in enumerate(
            recurring_ical_events.of(single, skip_bad_series=False).after(window_start)
        ):
            if _aware(occurrence.get("DTSTART").dt, window_end) >= window_end:
                return
            if limit is not None and number >= limit:
                yield Skip(SERIES_BUDGET, f"UID {uid}: more than {limit} occurrences")
                return
            yield occurrence
    except Exception as exc:  # this series only
        yield Skip("bad series", f"UID {uid}: {type(exc).__name__}: {exc}")


def _aware(value: date | datetime, like: datetime) -> datetime:
    if not isinstance(value, datetime):
        return datetime.combine(value, datetime.min.time(), like.tzinfo)
    return value if value.tzinfo is not None else value.replace(tzinfo=like.tzinfo)


def _series(events: list[icalendar.Component]) -> dict[str, list[icalendar.Component]]:
    groups: dict[str, list[icalendar.Component]] = defaultdict(list)
    for index, event in enumerate(events):
        # Events without UID are series of their own.
        groups[text_of(event, "UID") or f"#{index}"].append(event)
    return groups


def _unreadable(event: icalendar.Component) -> str | None:
    """Why this VEVENT cannot be read at all, or None."""
    if "DTSTART" not in event:
        return "no DTSTART"
    if isinstance(event.get("DTSTART"), list):
        return "several DTSTART"
    for name in ("DTSTART", "DTEND", "DURATION", "RECURRENCE-ID"):
        if name not in event:
            continue
        try:
            value = event.decoded(name)
        except Exception:  # icalendar raises various errors for broken values
            return f"bad {name}"
        expected = timedelta if name == "DURATION" else date
        if not isinstance(value, expected):
            return f"bad {name}"
    if "DURATION" in event:
        try:
            event.decoded("DTSTART") + event.decoded("DURATION")
        except OverflowError:
            return "bad DURATION"
    return None


# --- one occurrence --------------------------------------------------------------------


def _iso(value: date | datetime) -> str:
    return value.isoformat()


def text_of(component: icalendar.Component, name: str) -> str:
    value = component.get(name)
    if isinstance(value, list):  # a property given twice: the first one counts
        value = value[0] if value else None
    return str(value).strip() if value is not None else ""


def _occurrence(
    event: icalendar.Component, series_uids: set[str], default_timezone: str
) -> dict[str, Any]:
    start = event.decoded("DTSTART")
    all_day = not isinstance(start, datetime)
    end: date | datetime | None = None
    if "DTEND" in event:
        end = event.decoded("DTEND")
    elif "DURATION" in event:
        duration = event.decoded("DURATION")
        if isinstance(duration, timedelta):
            end = start + duration
    elif all_day:
        end = start + timedelta(days=1)  # RFC 5545 3.6.1: a date without end lasts one day
    if all_day and end == start:
        # Holiday feeds write DTEND equal to DTSTART for one day; exclusive, that is no day.
        end = start + timedelta(days=1)
    timezone: str | None = None
    if isinstance(start, datetime):
        # Floating: the source's zone. Aware: the zone's name as a hint for the normalizer;
        # the offset in the ISO text is what counts.
        timezone = default_timezone if start.tzinfo is None else _iana_name(start.tzinfo)
    uid = text_of(event, "UID")
    if uid in series_uids:
        recurrence = event.decoded("RECURRENCE-ID") if "RECURRENCE-ID" in event else start
        record_id = f"{uid}#{_iso(recurrence)}"
    else:
        record_id = uid
    return {
        "record_id": record_id,
        "title": text_of(event, "SUMMARY"),
        "start": _iso(start),
        "end": _iso(end) if end is not None else None,
        "timezone": timezone,
        "all_day": all_day,
        "url": web_url(text_of(event, "URL")),
        "description": text_of(event, "DESCRIPTION"),
        "location": _location(event),
        "categories": _categories(event),
        "status": text_of(event, "STATUS").upper() or None,
    }


def _iana_name(tzinfo: Any) -> str | None:
    # Custom VTIMEZONEs ("custom_Pacific/Fiji") have no IANA name: then None, not a guess.
    key = getattr(tzinfo, "key", None)
    if not isinstance(key, str):
        return None
    try:
        ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return key


def _location(event: icalendar.Component) -> Location:
    lat = lon = None
    geo = event.get("GEO")
    try:
        if geo is not None:
            lat, lon = float(geo.latitude), float(geo.longitude)
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                lat = lon = None
    except (AttributeError, TypeError, ValueError):  # a broken GEO line: no coordinates
        lat = lon = None
    return Location(name=text_of(event, "LOCATION"), lat=lat, lon=lon)


def _categories(event: icalendar.Component) -> tuple[str, ...]:
    raw = event.get("CATEGORIES")
    found: list[str] = []
    for group in raw if isinstance(raw, list) else [raw]:
        if group is None:
            continue
        for category in getattr(group, "cats", [group]):
            text = str(category).strip()
            if text:
                found.append(text)
    return tuple(dict.fromkeys(found))


def _fallback_uid(event: icalendar.Component) -> str:
    # No UID: the component's own content (less its timestamp) is the only identity left.
    lines = [ln for ln in event.to_ical().splitlines() if not ln.startswith(b"DTSTAMP")]
    return "nouid-" + hashlib.sha256(b"\n".join(lines)).hexdigest()[:16]


def with_components(
    calendar: icalendar.Calendar, components: list[icalendar.Component]
) -> icalendar.Calendar:
    """The calendar's properties with ``components`` as its components."""
    piece = calendar.copy()  # the properties, without components
    piece.subcomponents = components
    return piece
