"""normalize: a spider's ``RawEvent`` becomes a clean ``Event`` — or is rejected with a reason.

Contract: ``normalize(raw, uid=…)`` returns an ``Event`` with
- plain-text title and description (HTML reduced by nh3, entities decoded, soft hyphens and
  control characters removed, whitespace folded; description bounded to 10,000 characters);
- ``start``/``end`` as Europe/Berlin-aware datetimes, or dates for all-day events with an
  exclusive end (a missing all-day end becomes the next day);
- only http(s) URLs (``javascript:``/``data:`` are dropped);
- the source's structured statements kept in ``hints`` (status, free, age_range).
It raises ``Rejected`` for what cannot be an event: no title, no or unreadable start, a
year outside 1900–2199 (also when a shift across time zones would leave the calendar). An
end before the start, unreadable or out of range is repaired (dropped) and noted in
``hints["repaired"]``. Pure: no clock, no I/O.
"""

from __future__ import annotations

import html
import re
import unicodedata
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import nh3

from core.model import BERLIN, Event, Location, RawEvent, SourceRef, When
from core.urls import safe_url

MAX_DESCRIPTION = 10_000
MAX_TITLE = 300
# Far outside any feed window, yet wide enough for every real calendar.
MIN_YEAR, MAX_YEAR = 1900, 2199
_BLOCK_TAGS = re.compile(r"(?i)<\s*(br|/p|/div|/li|/h[1-6]|/tr)\s*/?\s*>")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u00ad\u2028\u2029\ufeff]")


class Rejected(ValueError):
    """A raw record that cannot become an event; the message is the counted reason."""


def plain_text(value: str | None, *, limit: int | None = None, multiline: bool = True) -> str:
    if not value:
        return ""
    text = value
    if "<" in text:
        text = _BLOCK_TAGS.sub("\n", text)
        # nh3 (ammonia) parses HTML like a browser; with no allowed tags only text remains,
        # and script/style contents are removed entirely.
        text = nh3.clean(text, tags=set(), clean_content_tags={"script", "style"})
    text = html.unescape(html.unescape(text)) if "&" in text else text
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", unicodedata.normalize("NFC", text))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    if multiline:
        text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    else:
        text = " ".join(line for line in lines if line)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def _zone(name: str | None) -> ZoneInfo:
    if not name:
        return BERLIN
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return BERLIN


def parse_time(text: str | None, zone_name: str | None) -> When | None:
    """ISO text from a spider → date (all day) or Europe/Berlin-aware datetime."""
    if text is None or not str(text).strip():
        return None
    text = str(text).strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise Rejected(f"unreadable time {text[:40]!r}") from exc
    if value.tzinfo is None:
        value = value.replace(tzinfo=_zone(zone_name))
    try:
        return value.astimezone(BERLIN)
    except OverflowError as exc:  # year 1 or 9999 shifted across the calendar's edge
        raise Rejected(f"start year {value.year} out of range") from exc


def normalize(raw: RawEvent, *, uid: str) -> Event:
    title = plain_text(raw.title, limit=MAX_TITLE, multiline=False)
    if not title:
        raise Rejected("no title")
    start = parse_time(raw.start, raw.timezone)
    if start is None:
        raise Rejected("no start")
    if not MIN_YEAR <= start.year <= MAX_YEAR:
        raise Rejected(f"start year {start.year} out of range")
    hints: dict[str, object] = {}
    try:
        end = parse_time(raw.end, raw.timezone)
    except Rejected:
        end = None
        hints["repaired"] = "unreadable end"
    if end is not None and not MIN_YEAR <= end.year <= MAX_YEAR:
        end = None
        hints["repaired"] = "end out of range"
    all_day = not isinstance(start, datetime)
    if all_day:
        if isinstance(end, datetime):
            end = (
                end.date() + timedelta(days=1) if end.time() != datetime.min.time() else end.date()
            )
        if end is None or end <= start:
            if end is not None:
                hints["repaired"] = "end before start"
            end = start + timedelta(days=1)
    else:
        if isinstance(end, date) and not isinstance(end, datetime):
            end = datetime(end.year, end.month, end.day, tzinfo=BERLIN)
        if end is not None and end < start:
            hints["repaired"] = "end before start"
            end = None
    for key in ("status", "free", "age_range"):
        value = getattr(raw, key)
        if value is not None and value != "":
            hints[key] = value
    return Event(
        uid=uid,
        title=title,
        start=start,
        end=end,
        all_day=all_day,
        description=plain_text(raw.description, limit=MAX_DESCRIPTION),
        url=safe_url(raw.url),
        location=split_location(
            Location(
                name=plain_text(raw.location.name, limit=200, multiline=False),
                street=plain_text(raw.location.street, limit=200, multiline=False),
                postal_code=plain_text(raw.location.postal_code, limit=10, multiline=False),
                city=plain_text(raw.location.city, limit=100, multiline=False),
                lat=_coordinate(raw.location.lat, 90),
                lon=_coordinate(raw.location.lon, 180),
            )
        ),
        categories=tuple(
            dict.fromkeys(
                c for c in (plain_text(c, limit=80, multiline=False) for c in raw.categories) if c
            )
        ),
        price=plain_text(raw.price, limit=300, multiline=False) or None,
        image=safe_url(raw.image),
        hints=hints,
        sources=(
            SourceRef(
                id=raw.source_id,
                url=safe_url(raw.url),
                record_id=raw.record_id,
                name=raw.source_name,
            ),
        ),
    )


_TOWN = re.compile(r"^(?P<head>.*?),?\s*(?P<plz>\d{5})\s+(?P<city>[^,\d][^,]*)$")


def split_location(location: Location) -> Location:
    """'Venue, Street 1, 30165 Hannover' in the name alone (ICS LOCATION) → its parts."""
    if location.street or location.postal_code or location.city or "," not in location.name:
        return location
    match = _TOWN.match(location.name)
    if not match:
        return location
    head = [p.strip() for p in match["head"].split(",") if p.strip()]
    name = head[0] if head else ""
    street = ", ".join(head[1:]) if len(head) > 1 else ""
    if (
        len(head) == 1
        and re.search(r"\d", name)
        and re.search(r"(?i)(str\.?|straße|weg|platz|allee)\s*\d", name)
    ):
        name, street = "", name
    return Location(
        name=name,
        street=street,
        postal_code=match["plz"],
        city=match["city"].strip(),
        lat=location.lat,
        lon=location.lon,
    )


def _coordinate(value: float | None, bound: float) -> float | None:
    if value is None or not -bound <= value <= bound:
        return None
    return value
