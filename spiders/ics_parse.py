"""Reading an iCalendar file into occurrences, as pure functions (no Scrapy): the ``ics``
source type's parser (the spider is ``spiders.ics``).

Contract:
- ``parse_ics(body, window_start=…, window_end=…, default_timezone=…)`` yields one
  ``RawEvent``-ready dict per VEVENT occurrence inside the window, and ``Skip`` values for
  what it had to pass over (each with a reason that the spider counts and logs).
- Recurrences are expanded by recurring-ical-events (RRULE, RDATE, EXDATE, RECURRENCE-ID:
  moved and cancelled occurrences); X-WR-TIMEZONE without TZIDs is applied by x-wr-timezone.
  The occurrences are the ones recurring-ical-events finds with ``skip_bad_series=True``;
  the tests hold every file of the shared ``ics-real`` corpus to that.
- Times keep the source's form: aware (ISO with offset, ``timezone`` = the IANA name when
  there is one) for TZID and UTC times; naive with ``timezone=default_timezone`` for
  floating times; a bare date with ``all_day=True`` and an exclusive ``end`` for dates.
- ``record_id``: the UID for a single event; UID ``#`` RECURRENCE-ID (the occurrence's
  original start, so a moved occurrence keeps its id) for every occurrence of a series.
- A component we cannot read (no or broken DTSTART, broken DTEND/DURATION, several
  DTSTARTs, a series the expander rejects) is a ``Skip``; the rest of the file is used.
  A broken file structure (unbalanced BEGIN/END, truncated download) is salvaged event by
  event. Only a body that is no calendar at all raises ``NotACalendar``.
- Faults (issue #8): a file without its closing ``END:VCALENDAR`` (a truncated download, a
  crashed generator) is announced by a first ``Skip(TRUNCATED, …)``. A DTSTART outside
  1900–2199 and an end before the start (which the expander swaps) are counted as ``Skip``s
  with that reason.
- Budget (issue #14): with ``max_series`` (the spider passes the source's
  ``SourceConfig.max_series_occurrences``) one series gives at most that many occurrences;
  the rest is one ``Skip(SERIES_BUDGET, …)``. A series that can repeat more than daily is
  expanded lazily in time order, so an endless ``FREQ=SECONDLY`` costs only the occurrences
  kept, never the whole window's.
- Every core (issue #9): a well-formed file of at least ``parallel_from`` VEVENTs
  (``PARALLEL_FROM``) is cut into one part per worker (``workers``, default: the usable
  cores; one means none) by ``spiders.ics_chunks`` and read in worker processes. The result
  is the whole-file read's: the same dicts under the same record ids and the same skips;
  only their order differs (part by part, each part in its own order; the same for the same
  file). Where the parts could differ from the whole — a part icalendar cannot read as a
  calendar of its own, a UID in two parts, an X-WR-TIMEZONE that fails in some parts only —
  or no workers can be started, the file is read whole, as is every smaller, broken or
  truncated file. How a large file was read is logged (INFO). A worker that dies once the
  parts' items flow (killed, out of memory) ends the reading with ``WorkerDied``.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import multiprocessing
import re
from collections import Counter, defaultdict
from collections.abc import Generator, Iterator
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
import recurring_ical_events
import x_wr_timezone

from core.model import Location
from spiders.common import DEFAULT_TIMEZONE, Skip, web_url
from spiders.ics_chunks import (
    ChunkWorkers,
    Unsplittable,
    WorkerDied,
    split_calendar,
    usable_cores,
    warm_up,
)

_RECURRENCE_KEYS = ("RRULE", "RDATE", "RECURRENCE-ID")
_SUB_DAILY = {"SECONDLY", "MINUTELY", "HOURLY"}
_SUB_DAILY_BY = ("BYSECOND", "BYMINUTE", "BYHOUR")
SERIES_BUDGET = "budget max_occurrences (series)"
_CRITICAL = {"DTSTART", "DTEND", "DURATION", "RRULE", "RDATE", "EXDATE", "RECURRENCE-ID"}
TRUNCATED = "truncated file"
BAD_X_WR_TIMEZONE = "bad X-WR-TIMEZONE"
# From this many VEVENTs a file is read on every core (below, starting workers and cutting
# the file cost more than they save); parse_ics(parallel_from=…) overrides it.
PARALLEL_FROM = 2000
_PIECE = 250  # VEVENTs a worker expands and sends at a time
log = logging.getLogger(__name__)
_CLOSED = re.compile(r"(?i)END:VCALENDAR\s*\Z")


class NotACalendar(ValueError):
    """The body is not iCalendar (HTML error page, JSON, random bytes)."""


def decode(body: bytes) -> str:
    # RFC 5545 says UTF-8, but exports from old Windows tools send cp1252; a BOM is dropped.
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return body.decode(encoding)
        except UnicodeDecodeError:
            continue
    return body.decode("latin-1")


def parse_ics(
    body: bytes,
    *,
    window_start: datetime,
    window_end: datetime,
    default_timezone: str = DEFAULT_TIMEZONE,
    workers: int | None = None,
    parallel_from: int = PARALLEL_FROM,
    max_series: int | None = None,
) -> Iterator[dict[str, Any] | Skip]:
    text = decode(body)
    if "begin:vcalendar" not in text[:65536].lower():
        head = text.lstrip()[:512].lower()
        if head.startswith(("<!doctype html", "<html")) or "<html" in head:
            raise NotACalendar("sent HTML where a calendar was expected")
        raise NotACalendar("not an iCalendar file (no BEGIN:VCALENDAR)")
    closed = _CLOSED.search(text) is not None
    if not closed:
        yield Skip(TRUNCATED, "no END:VCALENDAR at the end of the file")
    count = usable_cores() if workers is None else workers
    window = (window_start, window_end, default_timezone, max_series)
    seen: set[str] = set()
    with contextlib.ExitStack() as running:
        items = None
        if closed and count > 1 and not multiprocessing.current_process().daemon:
            items = running.enter_context(_in_parts(text, count, parallel_from, *window))
        if items is None:
            items = _whole_file(text, *window)
        for item in items:
            if isinstance(item, dict):
                # The same UID twice in one file without RECURRENCE-ID (seen in real exports):
                # keep both, with the start telling them apart.
                if item["record_id"] in seen:
                    item["record_id"] = f"{item['record_id']}#{item['start']}"
                seen.add(item["record_id"])
            yield item


def _whole_file(
    text: str,
    window_start: datetime,
    window_end: datetime,
    default_timezone: str,
    max_series: int | None,
) -> Iterator[dict[str, Any] | Skip]:
    calendars, problems = _read_calendars(text)
    yield from problems
    for calendar in calendars:
        yield from _component_notes(calendar)
        yield from _calendar_occurrences(
            calendar, window_start, window_end, default_timezone, max_series
        )


# --- a large file on every core ----------------------------------------------------------
# split_calendar cuts the file into calendars of whole UIDs; each worker reads its own and
# first answers with what reading found (the skips before expansion and the UIDs it holds),
# then sends its occurrences piece by piece. Only when the answers show that the parts read as
# the whole would — every part readable as a whole calendar (else the file's salvage
# decides), no UID in two parts (UID-less events get theirs from their content), the
# calendar-wide X-WR-TIMEZONE step failing in all parts or in none — are the parts' items
# used: the same items, grouped by part. Otherwise the file is read here as a whole.


def _chunk_messages(
    text: str,
    window_start: datetime,
    window_end: datetime,
    default_timezone: str,
    max_series: int | None,
) -> Iterator[tuple[list[Skip], set[str]] | list[dict[str, Any] | Skip] | None]:
    """A worker's answers for its part: (skips, UIDs) or None, then lists of items."""
    try:
        calendars, problems = _read_calendars(text)
    except NotACalendar:
        calendars, problems = [], []
    if problems or len(calendars) != 1:
        yield None
        return
    calendar = calendars[0]
    skips = list(_component_notes(calendar))
    steps = _prepare(calendar)
    while True:
        try:
            skips.append(next(steps))
        except StopIteration as done:
            prepared: icalendar.Calendar = done.value
            break
    uids = {_text(c, "UID") for c in prepared.subcomponents if c.name == "VEVENT"}
    yield skips, uids
    # In pieces, as the file in parts (and for the same reason the same items): the reader
    # gets the first occurrences while the rest are still being expanded.
    for piece in _pieces(prepared):
        yield list(_expanded(piece, window_start, window_end, default_timezone, max_series))


def _pieces(calendar: icalendar.Calendar) -> Iterator[icalendar.Calendar]:
    """The calendar as calendars of about ``_PIECE`` VEVENTs of whole UIDs, in order, each
    with the calendar's properties and its other components."""
    others = [c for c in calendar.subcomponents if c.name != "VEVENT"]
    groups: dict[str, list[icalendar.Component]] = defaultdict(list)
    for component in calendar.subcomponents:
        if component.name == "VEVENT":
            groups[_text(component, "UID")].append(component)
    events: list[icalendar.Component] = []
    for group in groups.values():
        events.extend(group)
        if len(events) >= _PIECE:
            yield _with(calendar, others + events)
            events = []
    if events:
        yield _with(calendar, others + events)


def _with(
    calendar: icalendar.Calendar, components: list[icalendar.Component]
) -> icalendar.Calendar:
    piece = calendar.copy()  # the properties, without components
    piece.subcomponents = components
    return piece


@contextlib.contextmanager
def _in_parts(
    text: str,
    parts: int,
    min_events: int,
    window_start: datetime,
    window_end: datetime,
    default_timezone: str,
    max_series: int | None,
) -> Iterator[Iterator[dict[str, Any] | Skip] | None]:
    """The file's items read in up to ``parts`` worker processes, or None: read it whole."""
    # A cheap first look (generators write BEGIN:VEVENT in capitals; a file that does not is
    # read whole): most files are small, and their cutting would be wasted.
    events = text.count("BEGIN:VEVENT")
    if events < min_events:
        log.debug("iCalendar file read as a whole: %d VEVENTs", events)
        yield None
        return
    warm_up()  # the forkserver starts while the file is cut
    try:
        chunks = split_calendar(text, parts, min_events=min_events)
    except Unsplittable as exc:
        log.debug("iCalendar file read as a whole: %s", exc)
        yield None
        return
    try:
        pool = ChunkWorkers(
            _chunk_messages, chunks, window_start, window_end, default_timezone, max_series
        )
    except OSError as exc:  # no processes to be had
        log.info("iCalendar file read as a whole: no worker processes (%s)", exc)
        yield None
        return
    count = len(chunks)
    del chunks  # the workers have theirs
    with pool:
        items, why = _from_workers(pool, count)
        if items is None:
            pool.close()  # their work is of no use; the whole file is read here instead
            log.info("iCalendar file read as a whole after all: %s", why)
        else:
            log.info("iCalendar file read in %d parts", count)
        yield items


def _from_workers(
    pool: ChunkWorkers, count: int
) -> tuple[Iterator[dict[str, Any] | Skip] | None, str]:
    streams = [pool.messages(number) for number in range(count)]
    try:
        heads = [next(stream, None) for stream in streams]
    except WorkerDied as exc:
        return None, str(exc)
    reads: list[tuple[list[Skip], set[str]]] = [h for h in heads if isinstance(h, tuple)]
    if len(reads) != count:
        return None, "a part is not readable as a calendar of its own"
    uids = [chunk_uids for _, chunk_uids in reads]
    if sum(map(len, uids)) != len(set().union(*uids)):
        return None, "a UID in two parts"
    bad_zone = [any(s.reason == BAD_X_WR_TIMEZONE for s in skips) for skips, _ in reads]
    if any(bad_zone) and not all(bad_zone):
        return None, "X-WR-TIMEZONE fails in some parts only"
    return _streamed([skips for skips, _ in reads], streams), ""


def _streamed(
    skips: list[list[Skip]], streams: list[Iterator[Any]]
) -> Iterator[dict[str, Any] | Skip]:
    for number, chunk_skips in enumerate(skips):
        for skip in chunk_skips:
            if skip.reason != BAD_X_WR_TIMEZONE or number == 0:  # once, as for the file
                yield skip
    for stream in streams:
        for batch in stream:
            yield from batch


def _component_notes(calendar: icalendar.Calendar) -> Iterator[Skip]:
    """Count what the expansion would drop (absurd dates) or repair (swapped times) silently."""
    for component in calendar.walk("VEVENT"):
        try:
            begins = component.get("DTSTART").dt
            if not 1900 <= begins.year <= 2199:
                uid = _text(component, "UID") or "?"
                yield Skip("date out of range", f"UID {uid}: {begins.isoformat()}")
            end = component.get("DTEND")
            if end is not None and type(end.dt) is type(begins) and end.dt < begins:
                yield Skip("end before start (swapped)", f"UID {_text(component, 'UID') or '?'}")
        except (AttributeError, TypeError, ValueError):
            continue  # no or unreadable DTSTART/DTEND: reported by the reader itself


# --- reading the file ------------------------------------------------------------------

_BLOCK = re.compile(
    r"^BEGIN:(VEVENT|VTIMEZONE)\s*$(.*?)^(?:END:\1\s*$|(?=BEGIN:VEVENT\s*$)|(?=END:VCALENDAR)|\Z)",
    re.IGNORECASE | re.MULTILINE | re.DOTALL,
)
_CAL_PROPERTY = re.compile(r"^(X-WR-TIMEZONE|X-WR-CALNAME)[;:].*$", re.IGNORECASE | re.MULTILINE)


def _read_calendars(text: str) -> tuple[list[icalendar.Calendar], list[Skip]]:
    try:
        calendars = list(icalendar.Calendar.from_ical(text, multiple=True))
    except Exception as exc:  # icalendar raises ValueError and others on broken structure
        return _salvage(text, f"broken file structure: {exc}")
    no_events = not any(c.walk("VEVENT") for c in calendars)
    if no_events and re.search(r"^BEGIN:VEVENT", text, re.IGNORECASE | re.MULTILINE):
        # e.g. a truncated download without END:VCALENDAR reads as nothing at all.
        return _salvage(text, "file structure unreadable")
    return calendars, []


def _salvage(text: str, why: str) -> tuple[list[icalendar.Calendar], list[Skip]]:
    """Read each VEVENT/VTIMEZONE block on its own, so one broken block costs only itself."""
    problems = [Skip("broken file structure", why)]
    calendar = icalendar.Calendar()
    for match in _CAL_PROPERTY.finditer(text):
        name, _, value = match.group(0).partition(":")
        calendar.add(name.split(";")[0].upper(), value.strip())
    found = False
    for match in _BLOCK.finditer(text):
        kind = match.group(1).upper()
        if match.end() == len(text) and not re.search(rf"(?im)^END:{kind}\s*\Z", match.group(0)):
            # The file stops inside this block (a cut-off download): what it holds is
            # incomplete and must not overwrite the complete copy of an earlier run.
            problems.append(Skip(f"incomplete {kind}", "the file ends inside it"))
            continue
        block = f"BEGIN:{kind}\r\n{match.group(2).strip()}\r\nEND:{kind}\r\n"
        try:
            component = icalendar.Component.from_ical(block)
        except Exception as exc:  # the block itself is broken: skip only it
            problems.append(Skip(f"unreadable {kind}", str(exc)))
            continue
        calendar.add_component(component)
        found = True
    if not found:
        raise NotACalendar(f"unreadable iCalendar: {why}")
    return [calendar], problems


# --- expanding -------------------------------------------------------------------------


def _calendar_occurrences(
    calendar: icalendar.Calendar,
    window_start: datetime,
    window_end: datetime,
    default_timezone: str,
    max_series: int | None,
) -> Iterator[dict[str, Any] | Skip]:
    prepared = yield from _prepare(calendar)
    yield from _expanded(prepared, window_start, window_end, default_timezone, max_series)


def _prepare(calendar: icalendar.Calendar) -> Generator[Skip, None, icalendar.Calendar]:
    """Drop the unreadable VEVENTs, give UID-less ones an id, apply X-WR-TIMEZONE."""
    kept: list[icalendar.Component] = []
    for component in calendar.subcomponents:
        if component.name == "VEVENT":
            problem = _unreadable(component)
            if problem is not None:
                yield Skip(problem, f"UID {_text(component, 'UID') or '?'}")
                continue
            if not _text(component, "UID"):
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


def _expanded(
    calendar: icalendar.Calendar,
    window_start: datetime,
    window_end: datetime,
    default_timezone: str,
    max_series: int | None,
) -> Iterator[dict[str, Any] | Skip]:
    events = [c for c in calendar.subcomponents if c.name == "VEVENT"]
    series_uids = {_text(e, "UID") for e in events if any(k in e for k in _RECURRENCE_KEYS)}
    # Series that repeat more than daily (FREQ=SECONDLY, BYMINUTE=…) can hold millions of
    # occurrences in the window: each is expanded lazily, in time order, up to max_series.
    groups = _series(events)
    fast = [group for group in groups.values() if any(_sub_daily(c) for c in group)]
    if fast:
        lazy = {id(c) for group in fast for c in group}
        calendar = _with(calendar, [c for c in calendar.subcomponents if id(c) not in lazy])
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
        uid = _text(occurrence, "UID")
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
                yield Skip("bad event", f"UID {_text(found, 'UID') or '?'}: {exc}")


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
    single = _with(calendar, [c for c in calendar.subcomponents if c.name == "VTIMEZONE"] + group)
    uid = _text(group[0], "UID") or "?"
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
        groups[_text(event, "UID") or f"#{index}"].append(event)
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


def _text(component: icalendar.Component, name: str) -> str:
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
    uid = _text(event, "UID")
    if uid in series_uids:
        recurrence = event.decoded("RECURRENCE-ID") if "RECURRENCE-ID" in event else start
        record_id = f"{uid}#{_iso(recurrence)}"
    else:
        record_id = uid
    return {
        "record_id": record_id,
        "title": _text(event, "SUMMARY"),
        "start": _iso(start),
        "end": _iso(end) if end is not None else None,
        "timezone": timezone,
        "all_day": all_day,
        "url": web_url(_text(event, "URL")),
        "description": _text(event, "DESCRIPTION"),
        "location": _location(event),
        "categories": _categories(event),
        "status": _text(event, "STATUS").upper() or None,
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
    return Location(name=_text(event, "LOCATION"), lat=lat, lon=lon)


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
