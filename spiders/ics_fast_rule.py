"""The occurrences of one plain VEVENT's RRULE for the fast reader (``spiders.ics_fast``),
computed with the same dateutil calls, in the same order and on the same values as
recurring-ical-events makes them for a series of one component (issue #20).

Contract:
- ``rule_string(vrecur)`` is the rule as recurring-ical-events hands it to dateutil (the
  string icalendar writes back from the value it read), or ``NotPlain`` when it is not of
  the kinds this module takes: ``FREQ=DAILY|WEEKLY|MONTHLY`` with ``INTERVAL``, ``COUNT``
  (≤ ``MAX_COUNT``), ``UNTIL`` (a DATE, or a DATE-TIME in UTC or floating), ``BYDAY``
  (weekdays, with an ordinal only for MONTHLY) and ``WKST``, each at most once.
- ``starts(rule, start, end, exdates, window_start, window_end)`` gives the (start, end) of
  every occurrence inside the window of a VEVENT with that DTSTART, end (its DTEND, or what
  its DURATION or the default makes of it), rule and EXDATEs, as recurring-ical-events'
  series expansion gives them: dateutil's ``rrulestr`` with the start as DTSTART over the
  query span widened by the event's length, the start itself added unless it lies after
  UNTIL, occurrences after UNTIL dropped (compared as recurring-ical-events compares them),
  duplicates and EXDATEs dropped as it matches them (by day for a DATE, else by UTC and
  wall-clock recurrence ids), the types of the VEVENT's own values restored, the window
  test recurring-ical-events' own. ``NotPlain`` when dateutil refuses the rule as written
  (the reference rewrites such an UNTIL; it stays the reference's) or when the start, end
  and EXDATEs are not all of one kind (date, floating, or aware).
- ``FREQ=DAILY|WEEKLY;COUNT=n[;INTERVAL=k]`` without EXDATE (most series) is counted out
  directly: the start plus multiples of the step, which is what dateutil gives for it.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from dateutil.rrule import rrule, rruleset, rrulestr
from icalendar.prop import vDDDTypes
from recurring_ical_events.util import (
    compare_greater,
    convert_to_date,
    convert_to_datetime,
    time_span_contains_event,
    to_recurrence_ids,
)

MAX_COUNT = 1000  # longer series (years of daily dates) are left to the reference
_DAY = r"(?:MO|TU|WE|TH|FR|SA|SU)"
_PART = re.compile(
    r"FREQ=(?:DAILY|WEEKLY|MONTHLY)|COUNT=[1-9][0-9]{0,3}|INTERVAL=[1-9][0-9]{0,2}"
    r"|UNTIL=[0-9]{8}(?:T[0-9]{6}Z?)?"
    rf"|BYDAY=(?:[+-]?[1-5])?{_DAY}(?:,(?:[+-]?[1-5])?{_DAY})*|WKST={_DAY}"
)


_SIMPLE = re.compile(
    r"FREQ=(?P<freq>DAILY|WEEKLY);COUNT=(?P<count>[0-9]+)(?:;INTERVAL=(?P<interval>[0-9]+))?"
)


class NotPlain(Exception):
    """This VEVENT is for the reference reader."""


def rule_string(vrecur: Any) -> str:
    text: str = vrecur.to_ical().decode()
    parts = text.split(";")
    names = [p.partition("=")[0] for p in parts]
    if (
        not all(_PART.fullmatch(p) for p in parts)
        or len(set(names)) != len(names)
        or names[0] != "FREQ"
    ):
        raise NotPlain(f"RRULE {text}")
    rule = dict(p.partition("=")[::2] for p in parts)
    if int(rule.get("COUNT", "0")) > MAX_COUNT:
        raise NotPlain(f"RRULE {text}")
    if rule["FREQ"] != "MONTHLY" and re.search(r"[0-9]", rule.get("BYDAY", "")):
        raise NotPlain(f"RRULE {text}: an ordinal weekday")
    return text


def _until(text: str) -> date | None:
    # As recurring-ical-events reads UNTIL: the text after ";UNTIL=" (none when it is first).
    pieces = text.split(";UNTIL=")
    if len(pieces) == 1:
        return None
    value: date = vDDDTypes.from_ical(pieces[1].partition(";")[0])  # type: ignore[no-untyped-call]
    return value


def _kind(value: date) -> tuple[bool, bool]:
    return isinstance(value, datetime), isinstance(value, datetime) and value.tzinfo is not None


def starts(
    text: str,
    start: date,
    end: date,
    exdates: list[date],
    window_start: datetime,
    window_end: datetime,
) -> list[tuple[date, date]]:
    timed = isinstance(start, datetime)
    if any(_kind(value) != _kind(start) for value in (end, *exdates)):
        # Mixed kinds: recurring-ical-events takes the first zone it finds for all of them.
        raise NotPlain("DTSTART, end and EXDATE of different kinds")
    zone = start.tzinfo if isinstance(start, datetime) else None
    # Excluded as recurring-ical-events matches them: by day for a DATE, else by the
    # recurrence ids (UTC and wall time) of the EXDATE as read and as converted.
    excluded_days = {value for value in exdates if not isinstance(value, datetime)}
    excluded: set[Any] = set()
    for value in exdates:
        excluded.update(to_recurrence_ids(value))
    excluded.update(convert_to_datetime(value, zone) for value in exdates)
    length = end - start
    simple = _SIMPLE.fullmatch(text)
    if simple is not None and not exdates:
        # FREQ=DAILY|WEEKLY;COUNT=n[;INTERVAL=k]: dateutil's dates are the start plus
        # multiples of the step (wall clock, as for zoned times), the start the first.
        step = timedelta(
            days=int(simple["interval"] or 1) * (7 if simple["freq"] == "WEEKLY" else 1)
        )
        spans = []
        for number in range(int(simple["count"])):
            begins = start + step * number
            ends = begins + length
            if time_span_contains_event(window_start, window_end, begins, ends):
                spans.append((begins, ends))
        return spans
    first = convert_to_datetime(start, zone)
    try:
        rule: rrule = rrulestr(text, dtstart=first, cache=True)
        until = _until(text)
    except ValueError as exc:
        raise NotPlain(f"RRULE {text}: {exc}") from exc
    own = rruleset(cache=True)
    if not until or not compare_greater(first, until):
        own.rdate(first)
    # The query span widened by the event's length (recurring-ical-events' extension).
    span_start = convert_to_datetime(window_start - length, zone)
    span_stop = convert_to_datetime(window_end, zone)
    seen: set[datetime] = set()
    found: list[tuple[date, date]] = []
    for source, limit in ((own, None), (rule, until)):
        for begins in source.between(span_start, span_stop, inc=True):
            if limit is not None and compare_greater(begins, limit):
                continue
            if (
                begins in seen
                or convert_to_date(begins) in excluded_days
                or excluded & set(to_recurrence_ids(begins))
            ):
                continue
            seen.add(begins)
            moved = begins + timedelta(0)  # as the expander moves an occurrence of the core
            ends = moved + length
            occurrence = (moved, ends) if timed else (convert_to_date(moved), convert_to_date(ends))
            if time_span_contains_event(window_start, window_end, *occurrence):
                found.append(occurrence)
    return found
