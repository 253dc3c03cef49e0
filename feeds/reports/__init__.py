"""Reports for the city (contract.md, "Reports for the city"), written on every publish.

Contract:
- ``build_reports(events, now=…, history=…)`` reads the feed window's events once: the
  coverage (``feeds.reports.coverage``), the weekend (``feeds.reports.weekend``), and the
  change since the last report of an earlier day, from ``history`` — the text the previous
  publish stored (``Reports.history_json()``, a short JSON list of per-district totals; None
  or unreadable: no comparison).
- ``report_files(reports, base_url=…)`` yields (path, bytes): ``bericht/abdeckung.csv``,
  ``bericht/index.html``, ``wochenende.html``, ``wochenende.txt`` (``REPORT_FILES``). Event
  links are absolute with ``base_url``, else relative to the file.
- ``Reports.history_json()``: the history to store for the next publish — this report's
  totals replace any of the same day, and the last ``HISTORY`` days are kept.
- ``LINKS``: the reports as (path, label), for the family site's index.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from core.model import BERLIN, Event
from feeds.reports.coverage import Coverage, coverage, coverage_csv
from feeds.reports.pages import Change, report_page, weekend_page
from feeds.reports.weekend import Weekend, event_link, weekend, weekend_text

REPORT_FILES = ("bericht/abdeckung.csv", "bericht/index.html", "wochenende.html", "wochenende.txt")
LINKS = (
    ("wochenende.html", "Familientermine am Wochenende"),
    ("bericht/index.html", "Familienangebote nach Stadtbezirk und Alter"),
)
HISTORY = 12  # reports (days) kept for the comparison


@dataclass(frozen=True, kw_only=True)
class Reports:
    coverage: Coverage
    weekend: Weekend
    change: Change | None
    history: tuple[dict[str, Any], ...]  # earlier days' entries, oldest first
    made: date

    def entry(self) -> dict[str, Any]:
        return {
            "date": self.made.isoformat(),
            "first_week": self.coverage.weeks[0],
            "totals": self.coverage.totals,
        }

    def history_json(self) -> str:
        kept = [*self.history, self.entry()][-HISTORY:]
        return json.dumps(kept, sort_keys=True, separators=(",", ":"))


def _read_history(text: str | None, today: date) -> tuple[dict[str, Any], ...]:
    """The stored entries of days before ``today`` (an entry of today is replaced)."""
    try:
        entries = json.loads(text) if text else []
        return tuple(
            e
            for e in entries
            if isinstance(e, dict)
            and date.fromisoformat(str(e["date"])) < today
            and isinstance(e.get("totals"), dict)
        )
    except (ValueError, KeyError, TypeError):
        return ()


def build_reports(events: Sequence[Event], *, now: datetime, history: str | None) -> Reports:
    today = now.astimezone(BERLIN).date()
    cov = coverage(events, now=now)
    earlier = _read_history(history, today)
    change = None
    if earlier:
        last = earlier[-1]
        change = Change(
            since=date.fromisoformat(str(last["date"])),
            first_week=str(last.get("first_week", "")),
            before={str(k): int(v) for k, v in last["totals"].items()},
            now=cov.totals,
        )
    return Reports(
        coverage=cov,
        weekend=weekend(events, now=now),
        change=change,
        history=earlier,
        made=today,
    )


def report_files(reports: Reports, *, base_url: str | None) -> Iterator[tuple[str, bytes]]:
    def top_link(uid: str) -> str:
        return event_link(uid, base_url)

    yield "bericht/abdeckung.csv", coverage_csv(reports.coverage)
    yield (
        "bericht/index.html",
        report_page(reports.coverage, change=reports.change, made=reports.made).encode(),
    )
    yield "wochenende.html", weekend_page(reports.weekend, link=top_link).encode()
    yield "wochenende.txt", weekend_text(reports.weekend, link=top_link).encode()
