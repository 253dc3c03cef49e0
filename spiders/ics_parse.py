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
- Plain events first (issue #20): with ``plain=True`` (the default) a well-formed file's plain
  VEVENTs are read by ``spiders.ics_fast`` (the same dicts the reference gives them) and
  only the rest of the file — kept whole when that is all of it — goes the way above (in
  parts when the rest is large). The rest must read cleanly as a calendar of its own, else
  the whole file is read as before. The plain items come first; ``plain=False`` reads
  every file with icalendar + recurring-ical-events only (the reference). With ``memo``
  (``spiders.ics_fast.PlainMemo``) the plain VEVENTs the last read of the document took
  are reused, not read again: the same items.
- This module reads the file (decoding, salvage, the parts); expanding a read calendar into
  occurrences and the fields of one occurrence are ``spiders.ics_expand``'s
  (``SERIES_BUDGET`` and ``BAD_X_WR_TIMEZONE`` are re-exported here).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import multiprocessing
import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import icalendar

from spiders.common import DEFAULT_TIMEZONE, Skip
from spiders.ics_chunks import (
    ChunkWorkers,
    Unsplittable,
    WorkerDied,
    split_calendar,
    usable_cores,
    warm_up,
)
from spiders.ics_expand import BAD_X_WR_TIMEZONE as BAD_X_WR_TIMEZONE
from spiders.ics_expand import SERIES_BUDGET as SERIES_BUDGET
from spiders.ics_expand import (
    calendar_occurrences,
    expand_calendar,
    prepare,
    text_of,
    with_components,
)
from spiders.ics_fast import PlainMemo, read_plain

TRUNCATED = "truncated file"
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
    plain: bool = True,
    memo: PlainMemo | None = None,
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
        items: Iterator[dict[str, Any] | Skip] | None = None
        if closed and plain:
            items = _plain_first(text, count, parallel_from, running, *window, memo=memo)
        if items is None and closed and count > 1 and not multiprocessing.current_process().daemon:
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
        yield from _calendar_items(calendar, window_start, window_end, default_timezone, max_series)


def _plain_first(
    text: str,
    count: int,
    parallel_from: int,
    running: contextlib.ExitStack,
    window_start: datetime,
    window_end: datetime,
    default_timezone: str,
    max_series: int | None,
    *,
    memo: PlainMemo | None = None,
) -> Iterator[dict[str, Any] | Skip] | None:
    """The plain VEVENTs read by ``spiders.ics_fast``, then the rest of the file by the
    reference; None when the whole file is the reference's."""
    window = (window_start, window_end, default_timezone, max_series)
    found = read_plain(text, *window, memo)
    if found is None:
        return None
    plain, rest = found
    if not plain:
        return None  # nothing gained
    # As the parts are: how a large file was read is told at INFO.
    left = rest.count("BEGIN:VEVENT")
    level = logging.INFO if len(plain) + left >= parallel_from else logging.DEBUG
    log.log(
        level,
        "iCalendar file: %d plain occurrences read directly, %d VEVENTs by the reference",
        len(plain),
        left,
    )
    rest_items = None
    if count > 1 and not multiprocessing.current_process().daemon:
        rest_items = running.enter_context(_in_parts(rest, count, parallel_from, *window))
    if rest_items is None:
        calendars, problems = _read_calendars(rest)
        if problems or len(calendars) != 1:
            # The rest alone does not read cleanly: the whole file's salvage decides.
            return None
        rest_items = _calendar_items(calendars[0], *window)
    return itertools.chain(plain, rest_items)


def _calendar_items(
    calendar: icalendar.Calendar,
    window_start: datetime,
    window_end: datetime,
    default_timezone: str,
    max_series: int | None,
) -> Iterator[dict[str, Any] | Skip]:
    yield from _component_notes(calendar)
    yield from calendar_occurrences(
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
    steps = prepare(calendar)
    while True:
        try:
            skips.append(next(steps))
        except StopIteration as done:
            prepared: icalendar.Calendar = done.value
            break
    uids = {text_of(c, "UID") for c in prepared.subcomponents if c.name == "VEVENT"}
    yield skips, uids
    # In pieces, as the file in parts (and for the same reason the same items): the reader
    # gets the first occurrences while the rest are still being expanded.
    for piece in _pieces(prepared):
        yield list(expand_calendar(piece, window_start, window_end, default_timezone, max_series))


def _pieces(calendar: icalendar.Calendar) -> Iterator[icalendar.Calendar]:
    """The calendar as calendars of about ``_PIECE`` VEVENTs of whole UIDs, in order, each
    with the calendar's properties and its other components."""
    others = [c for c in calendar.subcomponents if c.name != "VEVENT"]
    groups: dict[str, list[icalendar.Component]] = defaultdict(list)
    for component in calendar.subcomponents:
        if component.name == "VEVENT":
            groups[text_of(component, "UID")].append(component)
    events: list[icalendar.Component] = []
    for group in groups.values():
        events.extend(group)
        if len(events) >= _PIECE:
            yield with_components(calendar, others + events)
            events = []
    if events:
        yield with_components(calendar, others + events)


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
                uid = text_of(component, "UID") or "?"
                yield Skip("date out of range", f"UID {uid}: {begins.isoformat()}")
            end = component.get("DTEND")
            if end is not None and type(end.dt) is type(begins) and end.dt < begins:
                yield Skip("end before start (swapped)", f"UID {text_of(component, 'UID') or '?'}")
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
