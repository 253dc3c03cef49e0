"""The reports' HTML pages, from the templates of ``data/reports/templates`` (Jinja2,
autoescaped; no I/O besides reading them).

Contract: ``report_page(cov, change=…, made=…)`` is ``bericht/index.html``: the gaps in words,
the district × age-group heatmap as inline SVG (a single-hue scale of four steps plus the
number in every cell, empty cells dashed: readable in grey scale and without telling hues
apart) with the same numbers as a table, the weeks per district as small multiples on one
scale (and as a table), and the change since the last report of an earlier day.
``weekend_page(w, link=…)`` is ``wochenende.html``: every event an element with
``data-uid``. Both are the same text for the same input.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

import jinja2

from core.paths import data_file
from feeds.labels import labels
from feeds.reports.coverage import DISTRICTS, GROUPS, Coverage
from feeds.reports.weekend import Weekend, german_date, heading

# Light to dark; the numbers are dark on the three light steps, white on the darkest (each
# at least 4.5:1).
STEPS = ("#ffffff", "#deebf7", "#9ecae1", "#4292c6", "#08519c")
INK = ("#1a1a1a", "#1a1a1a", "#1a1a1a", "#1a1a1a", "#ffffff")
CELL_W, CELL_H, LABEL_W, HEAD_H = 64, 28, 230, 44
BAR_W, BAR_GAP, BARS_H = 18, 6, 48


@dataclass(frozen=True, kw_only=True)
class Change:
    since: date  # the earlier report's date
    first_week: str
    before: Mapping[str, int]  # district -> events then
    now: Mapping[str, int]


@cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(data_file("reports", "templates")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def group_label(slug: str) -> str:
    low, high = slug.split("-")
    return f"{low}–{high} Jahre"


def termine(n: int) -> str:
    return "Termin" if n == 1 else "Termine"


def _district(slug: str) -> str:
    return labels()["districts"][slug]


def _step(n: int, top: int) -> int:
    """0 for an empty cell, else 1–4 by the share of the largest cell (quarters)."""
    if n <= 0:
        return 0
    return min(4, 1 + (4 * (n - 1)) // max(top, 1))


def gaps(cov: Coverage) -> list[str]:
    """The empty district × group cells in words; a district with nothing at all once."""
    span = f"in den nächsten {len(cov.weeks)} Wochen"
    out = []
    for d in DISTRICTS:
        empty = [g for g in GROUPS if cov.by_group[(d, g)] == 0]
        if len(empty) == len(GROUPS):
            out.append(f"{_district(d)}: kein Termin {span}")
        elif empty:
            groups = ", ".join(group_label(g) for g in empty[:-1])
            last = group_label(empty[-1])
            which = f"{groups} und {last}" if groups else last
            out.append(f"{_district(d)}: kein Termin für {which} {span}")
    return out


def _heatmap(cov: Coverage) -> dict[str, Any]:
    top = max(cov.by_group.values(), default=0)
    rows = []
    for r, d in enumerate(DISTRICTS):
        y = HEAD_H + r * CELL_H
        cells = []
        for c, g in enumerate(GROUPS):
            n = cov.by_group[(d, g)]
            step = _step(n, top)
            x = LABEL_W + c * CELL_W
            cells.append(
                {
                    "x": x + 1,
                    "y": y + 1,
                    "tx": x + CELL_W // 2,
                    "ty": y + CELL_H // 2 + 5,
                    "n": n,
                    "fill": STEPS[step],
                    "ink": INK[step],
                    "stroke": "#767676" if step == 0 else "#ffffff",
                    "dashed": step == 0,
                    "bold": step == 0,
                }
            )
        label = {"x": LABEL_W - 8, "y": y + CELL_H // 2 + 5, "text": _district(d)}
        rows.append({**label, "cells": cells})
    columns = [
        {"x": LABEL_W + c * CELL_W + CELL_W // 2, "y": HEAD_H - 8, "text": g.replace("-", "–")}
        for c, g in enumerate(GROUPS)
    ]
    columns.append(
        {"x": LABEL_W + len(GROUPS) * CELL_W // 2, "y": 16, "text": "Alter in Jahren"}
    )
    legend = [{"fill": STEPS[0], "text": "kein Termin"}]
    bounds = [(s, [n for n in range(1, top + 1) if _step(n, top) == s]) for s in range(1, 5)]
    for s, ns in bounds:
        if ns:
            text = f"{ns[0]}" if ns[0] == ns[-1] else f"{ns[0]}–{ns[-1]}"
            legend.append({"fill": STEPS[s], "text": f"{text} {termine(ns[-1])}"})
    return {
        "width": LABEL_W + len(GROUPS) * CELL_W + 2,
        "height": HEAD_H + len(DISTRICTS) * CELL_H + 2,
        "cell_w": CELL_W - 2,
        "cell_h": CELL_H - 2,
        "rows": rows,
        "columns": columns,
        "legend": legend,
    }


def _multiples(cov: Coverage) -> tuple[list[dict[str, Any]], int]:
    top = max(cov.by_week.values(), default=0)
    width = len(cov.weeks) * (BAR_W + BAR_GAP)
    base = BARS_H + 14
    out = []
    for d in DISTRICTS:
        bars = []
        for i, w in enumerate(cov.weeks):
            n = cov.by_week[(d, w)]
            h = round(BARS_H * n / top) if top else 0
            x = i * (BAR_W + BAR_GAP) + BAR_GAP // 2
            bars.append(
                {"x": x, "y": base - h, "w": BAR_W, "h": h, "n": n,
                 "tx": x + BAR_W // 2, "ty": base - h - 3}
            )  # fmt: skip
        spoken = ", ".join(f"{w}: {b['n']}" for w, b in zip(cov.weeks, bars, strict=True))
        out.append(
            {"label": _district(d), "total": cov.totals[d], "bars": bars, "spoken": spoken,
             "width": width, "height": base + 1, "base": base}
        )  # fmt: skip
    return out, top


def _change(change: Change | None) -> dict[str, Any] | None:
    if change is None:
        return None
    rows, gained, lost = [], [], []
    for d in DISTRICTS:
        before, now = change.before.get(d, 0), change.now.get(d, 0)
        delta = now - before
        if delta > 0:
            gained.append(f"{_district(d)} (+{delta})")
        elif delta < 0:
            lost.append(f"{_district(d)} (−{-delta})")
        sign = f"+{delta}" if delta > 0 else (f"−{-delta}" if delta < 0 else "±0")
        rows.append({"label": _district(d), "before": before, "now": now, "delta": sign})
    return {
        "since": german_date(change.since, "d. MMMM y"),
        "weeks": change.first_week,
        "gained": ", ".join(gained),
        "lost": ", ".join(lost),
        "rows": rows,
    }


def report_page(cov: Coverage, *, change: Change | None, made: date) -> str:
    multiples, week_max = _multiples(cov)
    table = [
        {"label": _district(d), "counts": [cov.by_group[(d, g)] for g in GROUPS],
         "total": cov.totals[d]}
        for d in DISTRICTS
    ]  # fmt: skip
    period = (
        f"{cov.weeks[0]} bis {cov.weeks[-1]} ({german_date(cov.first_day, 'd. MMMM y')} "
        f"bis {german_date(cov.last_day, 'd. MMMM y')})"
    )
    return environment().get_template("bericht.html").render(
        home="../index.html",
        period=period,
        made=german_date(made),
        total=sum(cov.totals.values()),
        gaps=gaps(cov),
        heat=_heatmap(cov),
        groups=[group_label(g) for g in GROUPS],
        table=table,
        weeks=cov.weeks,
        week_max=week_max,
        multiples=multiples,
        change=_change(change),
        termine=termine,
    )


def weekend_page(w: Weekend, *, link: Callable[[str], str]) -> str:
    return environment().get_template("wochenende.html").render(
        home="index.html",
        heading=heading(w),
        made=german_date(w.made),
        count=w.count,
        days=w.days,
        link=link,
    )
