"""How the ages of an event read in German, in the calendar notes and on the site."""

from __future__ import annotations

from datetime import datetime

import pytest

from core.model import BERLIN, Event, Tags
from feeds.labels import ages_text, why_listed


def _event(lo: int | None, hi: int | None) -> Event:
    return Event(
        uid="u@test",
        title="Krabbelgruppe",
        start=datetime(2026, 12, 5, 10, tzinfo=BERLIN),
        end=None,
        all_day=False,
        tags=Tags(family=True, age_min=lo, age_max=hi),
    )


@pytest.mark.parametrize(
    ("lo", "hi", "short", "line"),
    [
        (0, 1, "bis 1 Jahr", "Für Kinder bis 1 Jahr."),
        (0, 3, "bis 3 Jahre", "Für Kinder bis 3 Jahre."),
        (None, 10, "bis 10 Jahre", "Für Kinder bis 10 Jahre."),
        (4, 8, "4 bis 8 Jahre", "Für Kinder von 4 bis 8 Jahren."),
        (6, None, "ab 6 Jahren", "Für Kinder ab 6 Jahren."),
        (None, None, "", "Familienangebot."),
    ],
)
def test_ages_read_as_parents_say_them(
    lo: int | None, hi: int | None, short: str, line: str
) -> None:
    event = _event(lo, hi)
    assert ages_text(event) == short
    assert why_listed(event) == line
