"""The time spans a run works on, around the run's "now".

Contract: ``window(now)`` is the feed window (``WINDOW_BEFORE`` before now, ``WINDOW_AFTER``
after: what the feeds show); ``crawl_window(now)`` the same widened to whole local days (what
``famcal crawl`` and ``scrapy crawl`` read).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from core.model import BERLIN

WINDOW_BEFORE = timedelta(days=30)
WINDOW_AFTER = timedelta(days=365)


def window(now: datetime) -> tuple[datetime, datetime]:
    return now - WINDOW_BEFORE, now + WINDOW_AFTER


def crawl_window(now: datetime) -> tuple[datetime, datetime]:
    """The feed window widened to whole local days: runs on the same day expand recurring
    events over the same window, so an unchanged document can be recognised as such."""
    start, end = window(now)
    first = datetime.combine(start.astimezone(BERLIN).date(), datetime.min.time(), BERLIN)
    last = datetime.combine(
        end.astimezone(BERLIN).date() + timedelta(days=1), datetime.min.time(), BERLIN
    )
    return first, last
