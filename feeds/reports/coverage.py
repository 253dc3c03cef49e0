"""Coverage: family events per Stadtbezirk × age group × ISO week (contract.md, "Reports for
the city", ``bericht/abdeckung.csv``).

Contract: ``coverage(events, now=…)`` counts, over the 8 whole ISO weeks (Monday to Sunday)
that start with the week of ``now`` (Europe/Berlin), every family occurrence that is neither
cancelled nor postponed and lies in a Stadtbezirk, in the week of its local start date and in
each age group it serves (all five when it names none). The result holds every district ×
group × week cell, zeros included, as plain Python values (counted with ``Counter``: pandas
did it before, and its import alone cost every run some 0.3–0.5 s of CPU for counts that
take milliseconds, issue #20). ``coverage_csv(cov)`` is the CSV
(``bezirk,altersgruppe,woche,termine``; districts, groups in taxonomy order, weeks in time
order). Weeks are labelled by ISO year and week: 2026-12-28 is ``2026-W53``, then
``2027-W01``.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from core.model import BERLIN, AgeGroup, District, Event, Status

WEEKS = 8
DISTRICTS: tuple[str, ...] = tuple(d.value for d in District)
GROUPS: tuple[str, ...] = tuple(g.value for g in AgeGroup)


@dataclass(frozen=True, kw_only=True)
class Coverage:
    weeks: tuple[str, ...]  # ISO labels, "2026-W53"
    first_day: date  # the Monday of the first week
    cells: dict[tuple[str, str, str], int]  # (district, group, week) -> events
    by_group: dict[tuple[str, str], int]  # (district, group) -> events over the weeks
    by_week: dict[tuple[str, str], int]  # (district, week) -> events (an event once)
    totals: dict[str, int]  # district -> events over the weeks (an event once)

    @property
    def last_day(self) -> date:
        return self.first_day + timedelta(days=7 * len(self.weeks) - 1)


def iso_label(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def local_start(event: Event) -> date:
    start = event.start
    return start.astimezone(BERLIN).date() if isinstance(start, datetime) else start


def coverage(events: Sequence[Event], *, now: datetime) -> Coverage:
    today = now.astimezone(BERLIN).date()
    first = today - timedelta(days=today.weekday())
    weeks = tuple(iso_label(first + timedelta(weeks=n)) for n in range(WEEKS))
    end = first + timedelta(weeks=WEEKS)
    cells: Counter[tuple[str, str, str]] = Counter()
    by_week: Counter[tuple[str, str]] = Counter()
    for e in events:
        tags = e.tags
        if tags is None or not tags.family or tags.status is not Status.SCHEDULED:
            continue
        if tags.district is None or not first <= (day := local_start(e)) < end:
            continue
        district, week = tags.district.value, iso_label(day)
        # An event serves each of its groups; per district and week it counts once.
        for group in [g.value for g in tags.age_groups] or GROUPS:
            cells[(district, group, week)] += 1
        by_week[(district, week)] += 1
    return Coverage(
        weeks=weeks,
        first_day=first,
        cells={(d, g, w): cells[(d, g, w)] for d in DISTRICTS for g in GROUPS for w in weeks},
        by_group={(d, g): sum(cells[(d, g, w)] for w in weeks) for d in DISTRICTS for g in GROUPS},
        by_week={(d, w): by_week[(d, w)] for d in DISTRICTS for w in weeks},
        totals={d: sum(by_week[(d, w)] for w in weeks) for d in DISTRICTS},
    )


def coverage_csv(cov: Coverage) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["bezirk", "altersgruppe", "woche", "termine"])
    for district in DISTRICTS:
        for group in GROUPS:
            for week in cov.weeks:
                writer.writerow([district, group, week, cov.cells[(district, group, week)]])
    return out.getvalue().encode()
