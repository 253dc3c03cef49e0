"""Date and time texts of partner pages, as pure functions (no Scrapy, no HTML).

Contract: ``read_when(start, end=None, reference=…)`` gives the occurrences a start text (and
an optional separate end text) describe, as ``spiders.termine.Occurrence`` values, or an
empty list when the text is no date:
- ISO 8601 (``2026-12-12``, ``2026-12-12T15:00``, with or without offset) is taken as it is;
  the ``Occurrence`` then carries the day and the local times, and ``iso_start`` keeps an
  offset the text gave.
- German texts are read by the grammar of hannover.de's Termine (``spiders.termine``) after
  the forms partner pages add to it are rewritten into it: a leading weekday
  (``Sa., 12.12.2026``), month names (``12. Dezember 2026``, ``12. Dez.``), whole hours
  (``15 Uhr``, ``15–17 Uhr``) and dates without a year (``12.12.``: the first such date not
  more than 60 days before ``reference``). Ranges and weekday words expand as there.
- The month and weekday words are data: ``data/dates_de.toml``.
- Only where that grammar reads nothing does dateutil's parser (with German month and
  weekday names, day first) read a single date or date and time.
- The end text may be a time alone (``17 Uhr``, ``bis 17:30``: the end of each occurrence)
  or a date with or without a time (the end of a single occurrence).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from functools import cache

from dateutil import parser as dateutil_parser

from core.paths import data_file
from spiders.termine import Occurrence, parse_termine


@cache
def _words() -> tuple[dict[str, int], list[list[str]]]:
    with data_file("dates_de.toml").open("rb") as handle:
        data = tomllib.load(handle)
    return dict(data["months"]), [list(names) for names in data["weekdays"]["names"]]


@cache
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    months, weekdays = _words()
    days = "|".join(sorted((w for names in weekdays for w in names), key=len, reverse=True))
    leading = re.compile(rf"\b(?:{days})\b\.?\s*,?\s*(?=\d)", re.IGNORECASE)
    names = "|".join(sorted(months, key=len, reverse=True))
    month = re.compile(rf"\b(\d{{1,2}})\.\s*({names})\b\.?\s*(\d{{4}})?", re.IGNORECASE)
    return leading, month


@cache
def _german_info() -> dateutil_parser.parserinfo:
    """dateutil's reader with the German words (its tables are class attributes)."""
    months, weekdays = _words()
    by_number: dict[int, list[str]] = {}
    for word, number in months.items():
        by_number.setdefault(number, []).append(word)
    table = {
        "MONTHS": [tuple(by_number[n]) for n in range(1, 13)],
        "WEEKDAYS": [tuple(names) for names in weekdays],
        "JUMP": [" ", ".", ",", ";", "-", "/", "'", "um", "uhr", "den", "am"],
    }
    info: dateutil_parser.parserinfo = type(
        "GermanParserInfo", (dateutil_parser.parserinfo,), table
    )(dayfirst=True)
    return info


_NO_YEAR = re.compile(r"(?<![\d.])(\d{1,2})\.(\d{1,2})\.(?!\d)")
# "15 Uhr", "15-17 Uhr", "ab 15 bis 17 Uhr": hours without minutes.
_WHOLE_HOUR = re.compile(r"(?<![\d.:])(\d{1,2})(?![\d.:])(?=\s*(?:Uhr|[-–]|bis\b))", re.I)
_TIME_ONLY = re.compile(r"^\s*(?:bis|-|–)?\s*(\d{1,2})(?:[:.](\d{2}))?\s*(?:Uhr)?\s*$", re.I)
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")


@dataclass(frozen=True, kw_only=True)
class When:
    """One occurrence and, for ISO input with an offset, the texts exactly as given."""

    occurrence: Occurrence
    iso_start: str | None = None
    iso_end: str | None = None

    @property
    def start_text(self) -> str:
        return self.iso_start or self.occurrence.start_text()

    @property
    def end_text(self) -> str | None:
        return self.iso_end or self.occurrence.end_text()


def to_grammar(text: str, reference: date) -> str:
    """``text`` rewritten into the Termine grammar's forms (see the module doc)."""
    text = " ".join(text.replace("\u00a0", " ").split())
    leading, month_name = _patterns()
    months = _words()[0]
    text = leading.sub("", text)
    text = month_name.sub(lambda m: f"{m[1]}.{months[m[2].lower()]}.{m[3] or ''}", text)
    text = _NO_YEAR.sub(lambda m: _with_year(int(m[1]), int(m[2]), reference), text)
    # The grammar wants "ab 15:00 bis 17:00 Uhr"; partner pages write "15 – 17 Uhr".
    return _WHOLE_HOUR.sub(lambda m: f"{m[1]}:00", text)


def _with_year(day: int, month: int, reference: date) -> str:
    for year in (reference.year - 1, reference.year, reference.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate >= reference - timedelta(days=60):
            return f"{day}.{month}.{year}"
    return f"{day}.{month}."


def _iso(text: str) -> When | None:
    text = text.strip()
    if not _ISO.match(text):
        return None
    try:
        if len(text) == 10:
            return When(occurrence=Occurrence(day=date.fromisoformat(text)))
        value = datetime.fromisoformat(text.replace(" ", "T", 1).replace("Z", "+00:00"))
    except ValueError:
        return None
    occurrence = Occurrence(day=value.date(), start=value.time().replace(tzinfo=None))
    return When(occurrence=occurrence, iso_start=value.isoformat() if value.tzinfo else None)


def _fallback(text: str) -> When | None:
    try:
        value = dateutil_parser.parse(text, parserinfo=_german_info())
    except (ValueError, OverflowError):
        return None
    if value.tzinfo is not None:
        return When(
            occurrence=Occurrence(day=value.date(), start=value.time()),
            iso_start=value.isoformat(),
        )
    has_time = bool(re.search(r"\d[:.]\d{2}(?!\d)|\bUhr\b", text)) and value.time() != time(0)
    return When(occurrence=Occurrence(day=value.date(), start=value.time() if has_time else None))


def _starts(text: str, reference: date) -> list[When]:
    iso = _iso(text)
    if iso is not None:
        return [iso]
    grammar = to_grammar(text, reference)
    found = parse_termine([grammar])
    if found:
        return [When(occurrence=o) for o in found]
    fallback = _fallback(grammar)
    return [fallback] if fallback is not None else []


def _end_time(text: str) -> time | None:
    match = _TIME_ONLY.match(text)
    if match is None:
        return None
    hour, minute = int(match[1]), int(match[2] or 0)
    if hour == 24 and minute == 0:
        return time(0, 0)
    return time(hour, minute) if hour < 24 and minute < 60 else None


def read_when(start: str, end: str | None = None, *, reference: date) -> list[When]:
    found = _starts(start, reference)
    if not end or not found:
        return found
    end_time = _end_time(end)
    if end_time is not None:
        return [
            replace(w, occurrence=replace(w.occurrence, end=end_time), iso_end=None)
            if w.occurrence.start is not None and w.iso_start is None
            else w
            for w in found
        ]
    ends = _starts(end, reference)
    if len(found) != 1 or len(ends) != 1:
        return found  # a range's end or an unreadable end: the start's own reading stands
    first, last = found[0], ends[0]
    naive = first.iso_start is None and not last.iso_start
    timed = None not in (first.occurrence.start, last.occurrence.start)
    if naive and timed and last.occurrence.day == first.occurrence.day:
        return [replace(first, occurrence=replace(first.occurrence, end=last.occurrence.start))]
    if last.occurrence.day <= first.occurrence.day and not last.iso_start:
        return found
    return [replace(first, iso_end=_end_iso(first, last))]


def _end_iso(first: When, last: When) -> str:
    if last.iso_start:
        return last.iso_start
    if first.occurrence.all_day and last.occurrence.all_day:
        return (last.occurrence.day + timedelta(days=1)).isoformat()  # exclusive, as all-day
    return datetime.combine(last.occurrence.day, last.occurrence.start or time(0, 0)).isoformat()
