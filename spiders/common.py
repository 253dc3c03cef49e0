"""Small helpers shared by the generic source-type spiders (no Scrapy here).

Contract: ``Skip`` is what a pure parse function yields for something it passed over
(``reason`` is the counter's key, ``detail`` goes to the log); ``web_url`` keeps only links a
reader can follow; ``in_window`` tells whether an occurrence given as the model's ISO text
(aware, naive + zone, or a bare date) touches the crawl window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIMEZONE = "Europe/Berlin"


@dataclass(frozen=True)
class Skip:
    reason: str
    detail: str


def web_url(text: str | None) -> str | None:
    # "javascript:", "mailto:" and relative junk are no event links.
    text = (text or "").strip()
    return text if text.lower().startswith(("http://", "https://")) else None


def _aware(text: str, timezone: str | None) -> datetime:
    value = datetime.fromisoformat(text)
    if len(text) == 10:
        value = datetime.combine(date.fromisoformat(text), datetime.min.time())
    if value.tzinfo is None:
        try:
            zone = ZoneInfo(timezone or DEFAULT_TIMEZONE)
        except (ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo(DEFAULT_TIMEZONE)
        value = value.replace(tzinfo=zone)
    return value


def in_window(
    start: str, end: str | None, timezone: str | None, window_start: datetime, window_end: datetime
) -> bool:
    """True unless the occurrence lies wholly before or after the window (unreadable: True,
    so that the normalizer, not the spider, reports it)."""
    try:
        first = _aware(start, timezone)
        last = _aware(end, timezone) if end else first + timedelta(seconds=1)
    except ValueError:
        return True
    return first < window_end and max(last, first + timedelta(seconds=1)) > window_start
