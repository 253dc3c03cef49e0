"""Coverage: family events per Stadtbezirk × age group × ISO week (contract.md, "Reports for
the city", ``bericht/abdeckung.csv``).

Contract: ``coverage(events, now=…)`` counts, over the 8 whole ISO weeks (Monday to Sunday)
that start with the week of ``now`` (Europe/Berlin), every family occurrence that is neither
cancelled nor postponed and lies in a Stadtbezirk, in the week of its local start date and in
each age group it serves (all five when it names none). The result holds every district ×
group × week cell, zeros included, as plain Python values: pandas does the counting inside
this module and appears in no signature (it is imported at the first count, not with the
module: a command that builds no reports does not wait for it; ``load_pandas()`` imports it
now, for a caller with time to spare). ``coverage_csv(cov)`` is the CSV
(``bezirk,altersgruppe,woche,termine``; districts, groups in taxonomy order, weeks in time
order). Weeks are labelled by ISO year and week: 2026-12-28 is ``2026-W53``, then
``2027-W01``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

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


def load_pandas() -> Any:  # pandas ships no types this project's mypy reads
    import pandas  # here, not with the module (the module's contract)

    return pandas


def coverage(events: Sequence[Event], *, now: datetime) -> Coverage:
    pd = load_pandas()
    today = now.astimezone(BERLIN).date()
    first = today - timedelta(days=today.weekday())
    weeks = tuple(iso_label(first + timedelta(weeks=n)) for n in range(WEEKS))
    end = first + timedelta(weeks=WEEKS)
    counted = [
        e
        for e in events
        if e.tags is not None
        and e.tags.family
        and e.tags.status is Status.SCHEDULED
        and e.tags.district is not None
    ]
    frame = pd.DataFrame(
        {
            "uid": [e.uid for e in counted],
            "bezirk": [e.tags.district.value for e in counted if e.tags and e.tags.district],
            "altersgruppe": [
                [g.value for g in e.tags.age_groups] or list(GROUPS) for e in counted if e.tags
            ],
            "tag": pd.to_datetime([local_start(e) for e in counted]),
        },
        columns=["uid", "bezirk", "altersgruppe", "tag"],
    )
    frame = frame[(frame["tag"] >= pd.Timestamp(first)) & (frame["tag"] < pd.Timestamp(end))]
    iso = frame["tag"].dt.isocalendar()
    frame = frame.assign(
        woche=iso["year"].astype(str) + "-W" + iso["week"].astype(str).str.zfill(2)
    )
    grid = pd.MultiIndex.from_product(
        [DISTRICTS, GROUPS, weeks], names=["bezirk", "altersgruppe", "woche"]
    )
    # An event serves each of its groups: one row per (event, group), then counted per cell.
    cells = (
        frame.explode("altersgruppe")
        .groupby(["bezirk", "altersgruppe", "woche"])
        .size()
        .reindex(grid, fill_value=0)
    )
    by_group = cells.groupby(level=["bezirk", "altersgruppe"]).sum()
    # Per district and week an event counts once, however many groups it serves.
    weekly = (
        frame.pivot_table(index="bezirk", columns="woche", values="uid", aggfunc="count")
        .reindex(index=list(DISTRICTS), columns=list(weeks))
        .fillna(0)
        .astype(int)
    )
    return Coverage(
        weeks=weeks,
        first_day=first,
        cells={key: int(n) for key, n in cells.items()},
        by_group={key: int(n) for key, n in by_group.items()},
        by_week={(d, w): int(weekly.at[d, w]) for d in DISTRICTS for w in weeks},
        totals={d: int(n) for d, n in weekly.sum(axis=1).items()},
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
