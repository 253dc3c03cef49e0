"""Small helpers shared by the generic source-type spiders (no Scrapy here).

Contract: ``Skip`` is what a pure parse function yields for something it passed over
(``reason`` is the counter's key, ``detail`` goes to the log); ``web_url`` keeps only links a
reader can follow; ``in_window`` tells whether an occurrence given as the model's ISO text
(aware, naive + zone, or a bare date) touches the crawl window; ``decode_repaired`` reads
text declared as UTF-8 and, where the bytes are not, as the Windows/latin-1 text such
answers nearly always are (telling the caller, who counts it as ``repaired``).
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


def decode_repaired(body: bytes) -> tuple[str, str | None]:
    """``(text, None)`` for UTF-8 (a BOM dropped); else ``(text, how it was repaired)``.

    cp1252 decodes every byte latin-1 does as the same letter (and 0x80–0x9f as the quotes
    and dashes Windows tools write); latin-1 takes the few bytes cp1252 leaves undefined.
    """
    try:
        return body.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        why = f"not UTF-8 at byte {exc.start}"
    for encoding in ("cp1252", "latin-1"):
        try:
            return body.decode(encoding), f"{why}: read as {encoding}"
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


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
