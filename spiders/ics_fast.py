"""A fast reader for the plain VEVENTs of an iCalendar file (issue #20); everything else is
left to the reference reader (icalendar + recurring-ical-events, ``spiders.ics_expand``).

Contract:
- ``read_plain(text, window_start, window_end, default_timezone, max_series)`` returns
  ``None`` (read the whole file with the reference) or ``(items, rest)``: ``items`` are the
  occurrence dicts of the file's *plain* VEVENTs inside the window — exactly the dicts the
  reference path gives for them, field for field, under the same record ids — and ``rest``
  is the file without those VEVENTs' lines (a byte-for-byte subsequence of its lines, as
  ``spiders.ics_chunks`` cuts parts), which the caller reads with the reference.
- The whole file goes to the reference (``None``) when its structure is not plainly clean
  (``spiders.ics_chunks.event_blocks`` raises ``Unsplittable``), when a VEVENT has a UID
  line not of the plain form ``UID:…`` (it could be written so that icalendar reads a plain
  VEVENT's UID in it), or when "X-WR-TIMEZONE" stands in the file (whitespace and folds
  ignored) other than once, as a line ``X-WR-TIMEZONE:Zone/Name`` among the VCALENDAR's own
  properties with a name zoneinfo knows. With that one line the times are read as
  ``x_wr_timezone.to_standard`` (which the reference applies) makes them: a floating
  DTSTART/DTEND gets that zone, one whose zone is called "UTC" is moved into it, dates and
  other zones stay.
- A VEVENT is plain only when all of this holds; otherwise its UID's VEVENTs all go to the
  rest: it has a UID (not of the reference's own "nouid-" form), the only VEVENT with it;
  no component inside it; every line splits as ``NAME[;PARAM=value…]:value`` with plain
  parameter values (else icalendar's own line parser is asked, and only for properties
  this reader does not use) and every value reads without error by icalendar's own value
  type for that property; exactly one DTSTART and
  at most one DTEND, each a DATE or a DATE-TIME (floating, UTC, or with a TZID that
  icalendar reads as the zoneinfo zone of that name), both of the same kind, the end not
  before the start, or else a DURATION of whole days (of any length for a DATE-TIME), not
  negative, the start's year within 1900–2199; no RDATE, EXRULE or RECURRENCE-ID; at most
  one RRULE, and only of the kinds ``spiders.ics_fast_rule`` expands as recurring-ical-events
  does; EXDATEs (DATE or DATE-TIME, as DTSTART) only with an RRULE; no more occurrences in
  the window than ``max_series``. The UID's value is compared as icalendar reads it
  (unescaped, stripped).
- The window test is recurring-ical-events' own (``time_span_contains_event``); the dict is
  built by ``spiders.ics_expand``'s own ``_occurrence`` from the values icalendar's value
  types read, as recurring-ical-events would hand them over (DTEND always set, the
  occurrence's start as its RECURRENCE-ID).
- Reuse (issue #20): with ``memo`` (a ``PlainMemo``, kept by the spider per document in the
  crawl's work folder) a plain VEVENT whose unfolded lines the last read took as plain gives
  the occurrence dicts made then instead of being read again — keyed by a digest of its lines
  and of everything else they depend on (the window, the default zone, ``max_series``, the
  file's X-WR-TIMEZONE, this package's code, the versions of icalendar,
  recurring-ical-events, dateutil and the zone data); the zones its TZIDs named are looked
  up again (icalendar's zone cache is the process's), and a block whose zones are no longer
  plain is read afresh. The items are the same as without ``memo``, in the same order
  (``tests/test_ics_memo.py``); ``memo.made`` holds this read's blocks for the next.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import sys
import zoneinfo
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from importlib import metadata
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
from icalendar.parser import Contentline
from icalendar.parser.property import split_on_unescaped_comma, unescape_backslash
from icalendar.prop import vText, vUri
from icalendar.timezone import tzp
from recurring_ical_events.util import time_span_contains_event

from core.model import Location
from core.paths import code_digest
from spiders.ics_chunks import Unsplittable, _logical_lines, _name, event_blocks
from spiders.ics_expand import _occurrence
from spiders.ics_fast_rule import NotPlain as _NotPlain
from spiders.ics_fast_rule import rule_string, starts

# A content line without quotes, escapes, whitespace, commas or RFC 6868 carets in its
# parameters: icalendar's line parser reads it as name, parameters and value split here.
_SIMPLE = re.compile(r"([A-Za-z0-9-]+)((?:;[A-Za-z0-9-]+=[^\";:,^\\\s]+)*):")
_DATE_TIME = re.compile(r"(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)(Z?)")
_DATE = re.compile(r"(\d{4})(\d\d)(\d\d)")
_X_WR = re.compile(r"X-WR-TIMEZONE:([A-Za-z][A-Za-z0-9_+/-]*)", re.IGNORECASE)
# "X-WR-TIMEZONE" as icalendar may read it: folded anywhere, blanks in the name ignored.
_X_WR_ANYWHERE = re.compile(r"\s*".join(re.escape(c) for c in "X-WR-TIMEZONE"), re.IGNORECASE)
_NOT_PLAIN = frozenset({"RDATE", "EXRULE", "RECURRENCE-ID", "BEGIN", "END", "FREEBUSY"})
_OWN = frozenset({"DTSTART", "DTEND", "DURATION", "RRULE", "EXDATE", "CATEGORIES"}) | _NOT_PLAIN
_USED = frozenset({"UID", "SUMMARY", "DESCRIPTION", "LOCATION", "STATUS", "URL", "GEO"})
_TYPES = icalendar.Event.types_factory
_STAMPS = frozenset({"DTSTAMP", "CREATED", "LAST-MODIFIED"})


class _Values(dict[str, Any]):
    """One occurrence as ``_occurrence`` reads a component: ``get``/``in`` for the property
    values, ``decoded`` for DTSTART, DTEND and RECURRENCE-ID."""

    def __init__(self, values: dict[str, Any], times: dict[str, date]) -> None:
        super().__init__(values)
        self.update(times)
        self._times = times

    def decoded(self, name: str) -> date:
        return self._times[name]


class _Reader:
    """The per-file caches: value types by (name, VALUE), zones by TZID."""

    def __init__(self, calendar_zone: ZoneInfo | None) -> None:
        self._factories: dict[tuple[str, str | None], Any] = {}
        self._zones: dict[str, tzinfo | None] = {}
        self.calendar_zone = calendar_zone  # X-WR-TIMEZONE
        self.used: set[str] = set()  # the TZIDs looked up (for the memo: per VEVENT)

    def factory(self, name: str, value_type: str | None) -> Any:
        key = (name, value_type)
        found = self._factories.get(key)
        if found is None:
            found = self._factories[key] = _TYPES.for_property(name, value_type)
        return found

    def zone(self, tzid: str) -> tzinfo:
        self.used.add(tzid)
        if tzid not in self._zones:
            found = tzp.timezone(tzid)
            plain = isinstance(found, ZoneInfo) and found.key == tzid
            self._zones[tzid] = found if plain else None
        zone = self._zones[tzid]
        if zone is None:
            raise _NotPlain(f"TZID {tzid}")
        return zone

    def moved(self, value: date) -> date:
        """DTSTART/DTEND as x_wr_timezone.to_standard makes them (its own tests)."""
        zone = self.calendar_zone
        if zone is None or not isinstance(value, datetime):
            return value
        name = value.tzname()
        if name is None:
            return value.replace(tzinfo=zone)
        return value.astimezone(zone) if name.upper() == "UTC" else value

    def when(self, name: str, params: dict[str, str], raw: str) -> date:
        """DTSTART/DTEND/DTSTAMP… as icalendar's value type reads them (the common forms
        parsed here the same way; anything else asked of icalendar itself)."""
        value_type = params.get("VALUE")
        tzid = params.get("TZID")
        if set(params) - {"VALUE", "TZID"} or value_type not in (None, "DATE", "DATE-TIME"):
            raise _NotPlain(f"{name} parameters")
        match = _DATE_TIME.fullmatch(raw)
        if match is not None and value_type != "DATE":
            y, mo, d, h, mi, s, utc = match.groups()
            # A floating time stays naive, as icalendar reads it.
            naive = datetime(int(y), int(mo), int(d), int(h), int(mi), int(s))  # noqa: DTZ001
            if tzid is not None:
                if utc:
                    raise _NotPlain(f"{name} with TZID and Z")
                aware: datetime = tzp.localize(naive, self.zone(tzid))
                return aware
            return tzp.localize_utc(naive) if utc else naive
        match = _DATE.fullmatch(raw)
        if match is not None and value_type != "DATE-TIME" and tzid is None:
            y, mo, d = match.groups()
            return date(int(y), int(mo), int(d))
        raise _NotPlain(f"{name} value form")


def _line(line: str) -> Contentline:
    return Contentline(line)  # type: ignore[no-untyped-call]


def _split(line: str) -> tuple[str, dict[str, str], str] | None:
    """(NAME, {PARAM: value}, raw value) of a simple line, else None."""
    match = _SIMPLE.match(line)
    if match is None:
        return None
    params: dict[str, str] = {}
    if match.group(2):
        for item in match.group(2)[1:].split(";"):
            key, _, value = item.partition("=")
            key = key.upper()
            if key in params:
                return None
            params[key] = value
    return match.group(1).upper(), params, line[match.end() :]


def _unusual(reader: _Reader, line: str) -> None:
    """A line that is not simple: icalendar's own line parser splits it; only a property
    this reader does not use may stand in such a line."""
    try:
        name, params, value = _line(line).parts()
    except ValueError as exc:  # icalendar notes a bad line, which the reference reports
        raise _NotPlain(f"line {line[:30]!r}") from exc
    name = name.upper()
    if name in _OWN or name in _USED:
        raise _NotPlain(f"{name} in an unusual line")
    _check(reader, line, name, dict(params), value)


def _check(reader: _Reader, line: str, name: str, params: dict[str, Any], value: str) -> None:
    """A property this reader does not use must read without error by icalendar's value type
    for it, as icalendar reads it (else icalendar notes a bad line, which the reference
    reports as a skip)."""
    if "TZID" in params:
        raise _NotPlain(f"{name} with TZID")
    factory = reader.factory(name, params.get("VALUE"))
    getter = getattr(factory, "get_value_from_content_line", None)
    try:
        factory.from_ical(getter(_line(line)) if getter is not None else value)
    except Exception as exc:  # whatever icalendar makes of it, the reference decides
        raise _NotPlain(f"{name}: {exc}") from exc


def _event(
    reader: _Reader,
    lines: list[str],
    window_start: datetime,
    window_end: datetime,
    default_timezone: str,
    max_series: int | None,
) -> list[dict[str, Any]]:
    """The occurrence dicts of one VEVENT (its lines without BEGIN/END), or ``_NotPlain``."""
    values: dict[str, Any] = {}
    times: dict[str, date] = {}
    rule: str | None = None
    exdates: list[date] = []
    length: timedelta | None = None
    for line in lines:
        split = _split(line)
        if split is None:
            _unusual(reader, line)
            continue
        name, params, raw = split
        if name in _NOT_PLAIN:
            raise _NotPlain(name)
        if name in ("DTSTART", "DTEND"):
            if name in times:
                raise _NotPlain(f"several {name}")
            times[name] = reader.moved(reader.when(name, params, raw))
        elif name == "DURATION":
            if length is not None or params:
                raise _NotPlain("several or unusual DURATION")
            length = reader.factory(name, None).from_ical(raw)
            if not isinstance(length, timedelta) or length < timedelta(0):
                raise _NotPlain("DURATION value")
        elif name == "EXDATE":
            # Each value as icalendar's list reads it (the line's TZID for all), moved as
            # x_wr_timezone moves them.
            exdates.extend(reader.moved(reader.when(name, params, one)) for one in raw.split(","))
        elif name == "RRULE":
            if rule is not None:
                raise _NotPlain("several RRULE")
            # The rule as icalendar reads it and recurring-ical-events writes it for dateutil.
            rule = rule_string(reader.factory(name, params.get("VALUE")).from_ical(raw))
        elif name == "CATEGORIES":
            factory = reader.factory(name, params.get("VALUE"))
            _add(values, name, factory(split_on_unescaped_comma(raw)))
        elif name in _USED:
            factory = reader.factory(name, params.get("VALUE"))
            value = unescape_backslash(raw)
            if factory is vText or (factory is vUri and "\r" not in value and "\n" not in value):
                # Read as str(vText(value)) / str(vUri(value)) read it: the text itself.
                _add(values, name, value)
            else:
                try:
                    _add(values, name, factory(factory.from_ical(value)))
                except (ValueError, TypeError) as exc:
                    raise _NotPlain(f"{name}: {exc}") from exc
        elif name in _STAMPS and not params and _DATE_TIME.fullmatch(raw):
            reader.when(name, params, raw)  # the common case, without icalendar's parser
        else:
            _check(reader, line, name, params, unescape_backslash(raw))
    if "DTSTART" not in times:
        raise _NotPlain("no DTSTART")
    start = times["DTSTART"]
    if not 1900 <= start.year <= 2199:
        raise _NotPlain("date out of range")
    timed = isinstance(start, datetime)
    if "DTEND" in times:
        end = times["DTEND"]
        if isinstance(end, datetime) != timed or (
            isinstance(start, datetime)
            and isinstance(end, datetime)
            and (start.tzinfo is None) != (end.tzinfo is None)
        ):
            raise _NotPlain("DTSTART and DTEND of different kinds")
        if end < start:
            raise _NotPlain("end before start")
        if length is not None:
            raise _NotPlain("DTEND and DURATION")
    elif length is not None:
        # recurring-ical-events makes a date with a duration of hours a datetime.
        if not timed and length % timedelta(days=1):
            raise _NotPlain("DURATION of hours to a date")
        end = start + length
    else:
        end = start if timed else start + timedelta(days=1)
    if isinstance(values.get("UID"), list):
        raise _NotPlain("several UIDs")
    if rule is None and exdates:
        raise _NotPlain("EXDATE without RRULE")
    if rule is None:
        # The expander's end: the start plus the length (in the start's zone).
        ends = start + (end - start)
        spans = (
            [(start, ends)]
            if time_span_contains_event(window_start, window_end, start, ends)
            else []
        )
    else:
        spans = starts(rule, start, end, exdates, window_start, window_end)
    found: list[dict[str, Any]] = []
    series = {str(values["UID"]).strip()} if rule is not None else set()
    for begins, ends in spans:
        if max_series is not None and len(found) >= max_series:
            raise _NotPlain("series budget")
        occurrence = _Values(values, {"DTSTART": begins, "DTEND": ends, "RECURRENCE-ID": begins})
        found.append(_occurrence(occurrence, series, default_timezone))  # type: ignore[arg-type]
    return found


def _add(values: dict[str, Any], name: str, value: Any) -> None:
    # As icalendar's Component.add: a second value of a name makes the value a list.
    if name not in values:
        values[name] = value
    elif isinstance(values[name], list):
        values[name].append(value)
    else:
        values[name] = [values[name], value]


def _calendar_zone(text: str) -> ZoneInfo | bool | None:
    """The zone of the file's X-WR-TIMEZONE (None without), or False when it is not one plain
    line among the VCALENDAR's own properties (then the reference decides)."""
    named = len(_X_WR_ANYWHERE.findall(text))
    if named != 1:
        return None if named == 0 else False
    depth = 0
    for _, _, line in _logical_lines(text):
        head = line[:6].upper()
        if head.startswith("BEGIN:"):
            depth += 1
        elif head.startswith("END:"):
            depth -= 1
        elif depth == 1 and (match := _X_WR.fullmatch(line)) is not None:
            try:
                return ZoneInfo(match.group(1))  # as x_wr_timezone reads the text
            except (ValueError, KeyError, OSError):  # ZoneInfoNotFoundError is a KeyError
                return False
    return False


def read_plain(
    text: str,
    window_start: datetime,
    window_end: datetime,
    default_timezone: str,
    max_series: int | None,
    memo: PlainMemo | None = None,
) -> tuple[list[dict[str, Any]], str] | None:
    try:
        blocks = event_blocks(text)
    except Unsplittable:
        return None
    found_zone = _calendar_zone(text)
    if isinstance(found_zone, bool):  # False: not a plain X-WR-TIMEZONE
        return None
    if any(
        key[0] != "uid" and any(_name(line) == "UID" for line in lines) for *_, key, lines in blocks
    ):
        # A UID the scanner did not see (written oddly) could be a plain one's: the
        # reference would join them in one series.
        return None
    keys = Counter(key for _, _, key, _ in blocks)
    reader = _Reader(found_zone)
    context = ""
    if memo is not None:
        context = _memo_context(found_zone, window_start, window_end, default_timezone, max_series)
    items: list[dict[str, Any]] = []
    rest: list[int] = []
    for number, (_, _, key, lines) in enumerate(blocks):
        # Without UID the reference gives a VEVENT one of its own ("nouid-…"): it and a
        # plain-looking UID of that form are the reference's.
        if keys[key] != 1 or key[0] != "uid" or key[1].startswith("nouid-"):
            rest.append(number)
            continue
        digest = ""
        if memo is not None:
            digest = _block_digest(context, lines)
            known = memo.known.get(digest)
            remembered = _remembered(reader, known) if known is not None else None
            if known is not None and remembered is not None:
                items.extend(remembered)
                memo.made[digest] = known
                memo.reused += 1
                continue
        reader.used = set()
        try:
            found = _event(reader, lines, window_start, window_end, default_timezone, max_series)
        except Exception:  # _NotPlain, or any value this reader cannot take: the reference's
            rest.append(number)
            continue
        items.extend(found)
        if memo is not None:
            memo.made[digest] = json.dumps(
                {"zones": sorted(reader.used), "items": [_to_memo(item) for item in found]}
            )
    keep = set(rest)
    pieces = []
    position = 0
    for number, (start, end, _, _) in enumerate(blocks):
        pieces.append(text[position:start])
        if number in keep:
            pieces.append(text[start:end])
        position = end
    pieces.append(text[position:])
    return items, "".join(pieces)


# --- reuse of the last read (issue #20) ------------------------------------------------


@dataclass
class PlainMemo:
    """What ``read_plain`` made of a document's plain VEVENTs: ``known`` from the last read
    (block digest → the JSON text of the TZIDs looked up and the occurrence dicts, in the form
    of ``_to_memo``), ``made`` by this one (the blocks it read or reused: the next read's
    ``known``), ``reused`` how many blocks were taken from ``known``. Saved as one line per
    block, ``digest TAB JSON``, so that a reused block is written as it was read, not
    serialized again."""

    known: dict[str, str] = field(default_factory=dict)
    made: dict[str, str] = field(default_factory=dict)
    reused: int = 0

    @classmethod
    def load(cls, path: Path) -> PlainMemo:
        """The memo saved at ``path``; an empty one when there is none or it is unreadable
        (then every block is read afresh; a broken line costs only its block)."""
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, ValueError):
            return cls()
        head, _, body = text.partition("\n")
        if head != _MEMO_HEAD:
            return cls()
        known: dict[str, str] = {}
        for line in body.splitlines():
            digest, tab, entry = line.partition("\t")
            if tab:
                known[digest] = entry
        return cls(known=known)

    def save(self, path: Path) -> None:
        """``made`` for the next read, written whole or not at all (a crawl killed while
        writing leaves the last memo, or none)."""
        if self.reused == len(self.made) == len(self.known):
            return  # the same blocks as last time: the saved memo is this one
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        lines = [f"{digest}\t{entry}\n" for digest, entry in self.made.items()]
        partial.write_text(_MEMO_HEAD + "\n" + "".join(lines), encoding="utf-8")
        os.replace(partial, path)


_MEMO_HEAD = "famcal plain memo 2"


@functools.cache
def _code_version() -> str:
    """What a remembered read depends on besides its input: this package's code, the
    libraries whose value types, window test and rule expansion it uses, and the zone data
    (the tzdata package's version and the system's zone files, by their stamp)."""
    parts = [sys.version, code_digest("spiders")]
    for name in ("icalendar", "recurring-ical-events", "python-dateutil", "tzdata"):
        try:
            parts.append(f"{name}={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{name}=none")
    for folder in zoneinfo.TZPATH:
        for name in ("tzdata.zi", "."):
            try:
                stat = os.stat(os.path.join(folder, name))
            except OSError:
                continue
            parts.append(f"{folder}/{name}:{stat.st_mtime_ns}:{stat.st_size}")
            break
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _memo_context(
    zone: ZoneInfo | None,
    window_start: datetime,
    window_end: datetime,
    default_timezone: str,
    max_series: int | None,
) -> str:
    """Everything besides a VEVENT's lines that ``_event`` reads (the reader's zone cache
    aside: ``_zones_plain``)."""
    window = [
        f"{when.isoformat()} {when.tzinfo!r}" for when in (window_start, window_end)
    ]
    calendar_zone = zone.key if zone is not None else ""
    return "\x1f".join([_code_version(), *window, default_timezone, str(max_series), calendar_zone])


def _block_digest(context: str, lines: list[str]) -> str:
    digest = hashlib.blake2b(context.encode(), digest_size=20)
    for line in lines:
        digest.update(b"\n" + line.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def _remembered(reader: _Reader, known: str) -> list[dict[str, Any]] | None:
    """A remembered block's occurrence dicts, if the zones its TZIDs named are still read as
    they were (plain); None for a block to read afresh (and for a broken entry)."""
    try:
        entry = json.loads(known)
        zones, items = entry["zones"], entry["items"]
        for tzid in zones:
            reader.zone(tzid)
        return [_from_memo(item) for item in items]
    except (_NotPlain, ValueError, KeyError, TypeError, AttributeError):
        return None


def _to_memo(item: dict[str, Any]) -> dict[str, Any]:
    location: Location = item["location"]
    return {**item, "location": location.to_dict(), "categories": list(item["categories"])}


def _from_memo(item: dict[str, Any]) -> dict[str, Any]:
    return {
        **item,
        "location": Location(**item["location"]),
        "categories": tuple(item["categories"]),
    }
