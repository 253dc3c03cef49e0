"""The grammar of hannover.de's "Termine" cell, as pure functions (no Scrapy, no HTML).

Contract:
- A Termine line is ``DD.MM.YYYY [bis DD.MM.YYYY] [ab HH:MM [bis HH:MM] Uhr]``, optionally
  followed by weekday words: ``montags`` … ``sonntags`` (several, joined by commas or
  ``und``; ``montags bis freitags`` is a weekday range), ``täglich`` (every day) and
  ``werktags`` (Monday to Saturday, the German legal meaning of "Werktag").
  ``parse_line`` reads one line or returns None when it is not of that form.
- ``parse_exclusions(lines)`` reads the dates listed after "Die Veranstaltung findet nicht
  statt am:" (single dates or ``bis`` ranges).
- ``parse_termine(lines, exclusions)`` gives one ``Occurrence`` per date, sorted, duplicates
  dropped, excluded dates removed:
  - a single date → that day;
  - a range with weekday words → every day of the range that matches one of them;
  - a range without weekday words → every day of the range (the times are daily opening
    hours: "30.10. bis 31.10. ab 11:00 bis 21:00 Uhr" is two days 11–21, not one 34-hour
    event; this is how hannover.de writes festivals, markets and exhibitions);
  - no time → an all-day occurrence; ``ab HH:MM`` → a start without an end; ``ab HH:MM bis
    HH:MM`` → start and end, the end on the next day when it is not after the start
    ("ab 20:00 bis 02:00 Uhr").
- Times are local wall-clock times in Europe/Berlin; ``Occurrence.starts_at()`` gives the
  aware datetime (CET +01:00 in winter, CEST +02:00 in summer).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from core.model import BERLIN

# A range longer than this is a typo (wrong year), not a schedule; it is not expanded.
MAX_RANGE_DAYS = 400

_DATE = r"(\d{1,2})\.(\d{1,2})\.(\d{4})"
_TIME = r"(\d{1,2})[:.](\d{2})"
_DASH = r"(?:bis|-|–)"
_LINE = re.compile(
    rf"^\s*{_DATE}(?:\s*{_DASH}\s*{_DATE})?"
    rf"(?:\s*,?\s*(?:ab|um)?\s*{_TIME}(?:\s*{_DASH}\s*{_TIME})?(?:\s*Uhr)?)?"
    r"(?P<rest>.*)$",
    re.IGNORECASE | re.DOTALL,
)
_DATES_IN_TEXT = re.compile(rf"{_DATE}(?:\s*{_DASH}\s*{_DATE})?")

WEEKDAY_WORDS: dict[str, int] = {
    "montags": 0,
    "dienstags": 1,
    "mittwochs": 2,
    "donnerstags": 3,
    "freitags": 4,
    "samstags": 5,
    "sonnabends": 5,
    "sonntags": 6,
}
_ALL_DAYS = frozenset(range(7))
_SPECIAL_WORDS: dict[str, frozenset[int]] = {
    "täglich": _ALL_DAYS,
    "werktags": frozenset(range(6)),
}


@dataclass(frozen=True, kw_only=True)
class Occurrence:
    """One dated occurrence; ``start``/``end`` are local wall-clock times or None."""

    day: date
    start: time | None = None
    end: time | None = None

    @property
    def all_day(self) -> bool:
        return self.start is None

    def starts_at(self) -> datetime:
        """The aware start in Europe/Berlin (local midnight for all-day occurrences)."""
        return datetime.combine(self.day, self.start or time(0, 0), tzinfo=BERLIN)

    def start_text(self) -> str:
        """ISO text for ``RawEvent.start``: a bare date, or a naive local date-time."""
        if self.start is None:
            return self.day.isoformat()
        return datetime.combine(self.day, self.start).isoformat()

    def end_text(self) -> str | None:
        """ISO text for ``RawEvent.end``: exclusive next day when all-day, else the end time."""
        if self.start is None:
            return (self.day + timedelta(days=1)).isoformat()
        if self.end is None:
            return None
        end_day = self.day if self.end > self.start else self.day + timedelta(days=1)
        return datetime.combine(end_day, self.end).isoformat()


@dataclass(frozen=True, kw_only=True)
class TermineLine:
    """One parsed line: a first and last day, optional times and weekday filter."""

    first: date
    last: date
    start: time | None = None
    end: time | None = None
    weekdays: frozenset[int] = _ALL_DAYS

    def days(self) -> list[date]:
        count = (self.last - self.first).days
        every = (self.first + timedelta(days=n) for n in range(count + 1))
        return [d for d in every if d.weekday() in self.weekdays]


def _date(day: str, month: str, year: str) -> date | None:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def _time(hour: str | None, minute: str | None) -> time | None:
    if hour is None or minute is None:
        return None
    h, m = int(hour), int(minute)
    if h == 24 and m == 0:
        # "bis 24:00 Uhr" is midnight at the end of the day.
        return time(0, 0)
    if not (0 <= h < 24 and 0 <= m < 60):
        raise ValueError(f"not a time of day: {hour}:{minute}")
    return time(h, m)


def weekdays_of(text: str) -> frozenset[int] | None:
    """The weekdays named in ``text`` ("samstags und sonntags", "montags bis freitags"),
    or None when it names none. Other words are ignored."""
    words = re.findall(r"[a-zäöüß]+", text.lower())
    found: set[int] = set()
    for index, word in enumerate(words):
        if word in _SPECIAL_WORDS:
            found |= _SPECIAL_WORDS[word]
        elif word in WEEKDAY_WORDS:
            day = WEEKDAY_WORDS[word]
            # "montags bis freitags": the range between the two words, inclusive.
            if index >= 2 and words[index - 1] == "bis" and words[index - 2] in WEEKDAY_WORDS:
                low = WEEKDAY_WORDS[words[index - 2]]
                span = (day - low) % 7
                found |= {(low + n) % 7 for n in range(span + 1)}
            found.add(day)
    return frozenset(found) if found else None


def parse_line(text: str) -> TermineLine | None:
    """Read one Termine line, or None when it is not of the documented form."""
    match = _LINE.match(" ".join(text.split()))
    if match is None:
        return None
    g = match.groups()
    first = _date(g[0], g[1], g[2])
    last = _date(g[3], g[4], g[5]) if g[3] else first
    if first is None or last is None or last < first:
        return None
    if (last - first).days > MAX_RANGE_DAYS:
        return None
    try:
        start, end = _time(g[6], g[7]), _time(g[8], g[9])
    except ValueError:
        return None
    # Weekday words filter a range; a single date is that date whatever word follows it.
    weekdays = (weekdays_of(match.group("rest")) if last > first else None) or _ALL_DAYS
    return TermineLine(first=first, last=last, start=start, end=end, weekdays=weekdays)


def parse_exclusions(lines: Iterable[str]) -> set[date]:
    """The dates in the lines after "Die Veranstaltung findet nicht statt am:"."""
    excluded: set[date] = set()
    for line in lines:
        for m in _DATES_IN_TEXT.finditer(line):
            first = _date(m.group(1), m.group(2), m.group(3))
            last = _date(m.group(4), m.group(5), m.group(6)) if m.group(4) else first
            if first is None or last is None or last < first:
                continue
            if (last - first).days > MAX_RANGE_DAYS:
                continue
            excluded.update(first + timedelta(days=n) for n in range((last - first).days + 1))
    return excluded


def parse_termine(lines: Iterable[str], exclusions: Collection[date] = ()) -> list[Occurrence]:
    """Every occurrence the lines describe, minus the excluded dates (see the module doc)."""
    found: set[Occurrence] = set()
    for text in lines:
        line = parse_line(text)
        if line is None:
            continue
        for day in line.days():
            if day not in exclusions:
                found.add(Occurrence(day=day, start=line.start, end=line.end))
    return sorted(found, key=lambda o: (o.day, o.start or time(0, 0), o.start is not None))
