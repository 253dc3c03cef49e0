"""hannover.de Veranstaltungskalender pages read into values, as pure functions (no Scrapy).

Contract (the page structure is that of the captures in ``shared/corpora/hannover-de``):
- The listing pages and load-more answers (``parse_listing``, ``parse_load_more``, ``Card``,
  ``Listing``, ``LoadMoreError``) and the text helpers ``clean`` and ``split_status`` are
  ``spiders.hannover_de_listing``'s, re-exported here; this module reads the detail pages
  and turns pages into events.
- ``parse_detail(html, url)`` → ``Detail``: title (soft hyphens removed, an ``Abgesagt:`` /
  ``Verschoben:`` prefix turned into the status), plain-text summary, image, the
  ``data-location-id`` as the event id, the occurrences of the "Termine" cell (grammar in
  ``spiders.termine``), the "Ort" cell as a ``Location``, and price text and free from the
  prices table or the sentence "Dies ist eine Veranstaltung mit freiem Eintritt".
- ``with_cards(detail, cards)`` fills what the detail page lacks from its listing cards and
  collects their category labels; ``merge_details`` joins details of one event reached
  through several URLs; ``event_fields(detail, window_start, window_end)`` gives the
  ``RawEvent`` keyword arguments of each occurrence whose start is inside the window.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from parsel import Selector

from core.model import Location
from spiders.hannover_de_listing import Card as Card
from spiders.hannover_de_listing import Listing as Listing
from spiders.hannover_de_listing import LoadMoreError as LoadMoreError
from spiders.hannover_de_listing import clean as clean
from spiders.hannover_de_listing import load_more_query as load_more_query
from spiders.hannover_de_listing import parse_listing as parse_listing
from spiders.hannover_de_listing import parse_load_more as parse_load_more
from spiders.hannover_de_listing import split_status as split_status
from spiders.hannover_de_listing import text_of
from spiders.termine import (
    Occurrence,
    parse_exclusions,
    parse_line,
    parse_termine,
    weekdays_of,
)

FREE_ENTRY_SENTENCE = "Dies ist eine Veranstaltung mit freiem Eintritt"
EXCLUSION_LABEL = "findet nicht statt am"
_STARTS_WITH_DATE = re.compile(r"^\s*\d{1,2}\.\d{1,2}\.\d{4}")
_POSTAL_LINE = re.compile(r"^(\d{5})\s+(\S.*)$")
_PRICE_LABELS = re.compile(r"^(Eintritt|Preis|Preise|Kosten|Teilnahmegebühr|Gebühr)\b", re.I)
_AMOUNT = re.compile(
    r"(\d+)(?:[.,](\d{1,2}))?\s*(?:€|EUR|Euro)|(?:€|EUR)\s*(\d+)(?:[.,](\d{1,2}))?", re.I
)
_FREE_WORDS = re.compile(
    r"^(frei|kostenlos|kostenfrei|gratis|eintritt frei|freier eintritt)\b", re.I
)


# --- detail pages ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Detail:
    """What one detail page says about its event."""

    url: str
    location_id: str | None = None
    title: str = ""
    status: str | None = None
    summary: str = ""
    image: str | None = None
    occurrences: tuple[Occurrence, ...] = ()
    termine_lines: tuple[str, ...] = ()
    unparsed_lines: tuple[str, ...] = ()
    location: Location = field(default_factory=Location)
    price: str | None = None
    free: bool | None = None
    categories: tuple[str, ...] = ()

    @property
    def event_id(self) -> str:
        """The source's id of the event: the location id, else the page's path."""
        return self.location_id or urlsplit(self.url).path


def _rows(selector: Selector) -> list[tuple[str, Selector]]:
    """(label, value cell) of every two-cell detail row."""
    rows = []
    for row in selector.css("div.detail-row"):
        cells = row.xpath(
            "./div[contains(concat(' ', normalize-space(@class), ' '), ' detail-cell ')]"
        )
        if len(cells) >= 2:
            rows.append((text_of(cells[0]).rstrip(":").strip(), cells[1]))
    return rows


def _lines(cell: Selector) -> list[tuple[str, bool]]:
    """The visual lines of a cell, split at <br> and block elements; (text, is the label).

    Exclusion dates follow a ``<strong>`` label; the flag tells the label apart.
    """
    lines: list[tuple[str, bool]] = []
    current: list[str] = []

    def flush() -> None:
        text = clean(" ".join(current))
        if text:
            lines.append((text, False))
        current.clear()

    def walk(node: Selector) -> None:
        for child in node.xpath("./node()"):
            root = child.root
            if isinstance(root, str):
                current.append(root)
                continue
            tag = getattr(root, "tag", "")
            if not isinstance(tag, str):
                continue  # comments and processing instructions
            if tag == "br":
                flush()
            elif tag in ("p", "div", "li", "ul", "ol", "strong", "b", "h3", "h4"):
                flush()
                if tag in ("strong", "b") and EXCLUSION_LABEL in text_of(child).lower():
                    lines.append((text_of(child), True))
                else:
                    walk(child)
                flush()
            else:
                walk(child)

    walk(cell)
    flush()
    return lines


def read_termine(cell: Selector) -> tuple[list[str], list[str]]:
    """The Termine cell's date lines and the lines after the exclusion label."""
    dates: list[str] = []
    excluded: list[str] = []
    target = dates
    for text, is_label in _lines(cell):
        if is_label:
            target = excluded
            continue
        head, sep, tail = text.partition("Die Veranstaltung findet nicht statt am:")
        if sep:
            if head.strip():
                target.append(head.strip())
            target = excluded
            if tail.strip():
                target.append(tail.strip())
            continue
        if target and not _STARTS_WITH_DATE.match(text) and weekdays_of(text) is not None:
            # A <br> inside the <p> puts the weekday words ("sonntags") on a line of their
            # own; they belong to the dates before them.
            target[-1] = f"{target[-1]} {text}"
            continue
        target.append(text)
    return dates, excluded


def parse_ort(cell: Selector) -> Location:
    """Venue, street, postal code and town of an "Ort" cell.

    The venue is the link (hannover.de's location database) when there is one; the line
    with a five-digit postal code gives code and town; the line before it is the street.
    """
    block = cell.css("p") or [cell]
    first = block[0]
    venue = text_of(first.css("a")) if first.css("a") else ""
    lines = [text for text, _ in _lines(first)]
    if venue:
        lines = [line for line in lines if line != venue]
    postal_code = city = street = ""
    postal_index = next(
        (i for i in range(len(lines) - 1, -1, -1) if _POSTAL_LINE.match(lines[i])), None
    )
    before = lines
    if postal_index is not None:
        match = _POSTAL_LINE.match(lines[postal_index])
        assert match is not None
        postal_code, city = match.group(1), match.group(2).strip()
        before = lines[:postal_index]
    if before:
        street = before[-1]
        if not venue and len(before) >= 2:
            venue = before[0]
        elif not venue and postal_index is None:
            venue, street = before[0], (before[1] if len(before) > 1 else "")
    return Location(name=venue, street=street, postal_code=postal_code, city=city)


def _amount(value: str) -> float | None:
    """The price in euros a value states: 0 for "frei"/"kostenlos", None when it is unclear."""
    if _FREE_WORDS.match(value.strip()):
        return 0.0
    match = _AMOUNT.search(value)
    if match is None:
        return None
    euros = match.group(1) or match.group(3)
    cents = match.group(2) or match.group(4) or "0"
    return int(euros) + int(cents.ljust(2, "0")) / 100


def parse_prices(
    selector: Selector, rows: Sequence[tuple[str, Selector]]
) -> tuple[str | None, bool | None]:
    """(price text, free) from the prices table and the free-entry sentence."""
    entries: list[tuple[str, str]] = []
    for table in selector.css("div.table.details-table"):
        for label, cell in _rows(table):
            entries.append((label, text_of(cell)))
    for label, cell in rows:
        if _PRICE_LABELS.match(label) and (label, text_of(cell)) not in entries:
            entries.append((label, text_of(cell)))
    entries = [(label, value) for label, value in entries if value]
    page_text = text_of(selector)
    free_sentence = FREE_ENTRY_SENTENCE.lower() in page_text.lower()
    price = "; ".join(f"{label}: {value}" if label else value for label, value in entries)
    if free_sentence:
        return price or "Eintritt frei", True
    if not entries:
        return None, None
    amounts = [_amount(value) for _, value in entries]
    if any(a is not None and a > 0 for a in amounts):
        return price, False
    if all(a == 0 for a in amounts):
        return price, True
    return price, None


def _summary(selector: Selector) -> str:
    block = selector.css(".content-detail__summary")
    if not block:
        return ""
    parts = [text_of(p) for p in block[0].css("p, li")]
    parts = [p for p in parts if p]
    return "\n\n".join(parts) if parts else text_of(block[0])


def parse_detail(html: str, url: str) -> Detail:
    """Everything a detail page states about its event (see the module doc)."""
    selector = Selector(text=html)
    title, status = split_status(
        text_of(selector.css("h1.content-detail__title")) or text_of(selector.css("h1"))
    )
    rows = _rows(selector)
    termine = next((cell for label, cell in rows if label.lower() == "termine"), None)
    ort = next((cell for label, cell in rows if label.lower() == "ort"), None)
    if ort is None:
        venue_row = selector.css("#venue_detail > div.detail-cell")
        ort = venue_row[1] if len(venue_row) > 1 else None
    lines: list[str] = []
    excluded: list[str] = []
    if termine is not None:
        lines, excluded = read_termine(termine)
    occurrences = parse_termine(lines, parse_exclusions(excluded))
    location_id = selector.css("span.react-ical::attr(data-location-id)").get()
    image = (
        selector.css('meta[property="og:image"]::attr(content)').get()
        or selector.css(
            ".content-detail img::attr(data-large-image), .content-detail img::attr(src)"
        ).get()
    )
    price, free = parse_prices(selector, rows)
    return Detail(
        url=url,
        location_id=location_id.strip() if location_id and location_id.strip() else None,
        title=title,
        status=status,
        summary=clean_paragraphs(_summary(selector)),
        image=urljoin(url, image.strip()) if image else None,
        occurrences=tuple(occurrences),
        termine_lines=tuple(lines),
        unparsed_lines=tuple(line for line in lines if parse_line(line) is None),
        location=parse_ort(ort) if ort is not None else Location(),
        price=price,
        free=free,
    )


def clean_paragraphs(text: str) -> str:
    return "\n\n".join(clean(p) for p in text.split("\n\n") if clean(p))


# --- from pages to events -------------------------------------------------------------------


def with_cards(detail: Detail, cards: Iterable[Card]) -> Detail:
    """The detail with its cards' category labels, and their title, summary, image and
    venue where the detail page has none (a card's status prefix counts too)."""
    cards = list(cards)
    categories = tuple(
        dict.fromkeys([*detail.categories, *(c.category for c in cards if c.category)])
    )
    title, status = detail.title, detail.status
    for card in cards:
        card_title, card_status = split_status(card.title)
        title = title or card_title
        status = status or card_status
    location = detail.location
    venue = next((c.venue for c in cards if c.venue), "")
    if not location.name and venue:
        location = replace(location, name=venue)
    return replace(
        detail,
        categories=categories,
        title=title,
        status=status,
        summary=detail.summary or next((c.summary for c in cards if c.summary), ""),
        image=detail.image or next((c.image for c in cards if c.image), None),
        location=location,
    )


def _slug(url: str) -> str:
    return urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]


def merge_details(details: Iterable[Detail]) -> list[Detail]:
    """One detail per event: pages with the same location id — or, when an event sits under
    several category paths with different ids, the same last path segment, title and
    dates — are one event with the union of their categories (first page's URL kept)."""
    merged: dict[Any, Detail] = {}
    aliases: dict[Any, Any] = {}
    for detail in details:
        keys = [
            ("id", detail.event_id),
            ("same", _slug(detail.url), detail.title, detail.occurrences),
        ]
        key = next((aliases[k] for k in keys if k in aliases), keys[0])
        for k in keys:
            aliases.setdefault(k, key)
        if key in merged:
            first = merged[key]
            categories = tuple(dict.fromkeys([*first.categories, *detail.categories]))
            merged[key] = replace(first, categories=categories)
        else:
            merged[key] = detail
    return list(merged.values())


def record_ids(event_id: str, occurrences: Sequence[Occurrence]) -> list[str]:
    """``<id>#<date>``, plus ``T<HH:MM>`` when two occurrences share the date."""
    per_day: dict[date, int] = {}
    for o in occurrences:
        per_day[o.day] = per_day.get(o.day, 0) + 1
    ids = []
    for o in occurrences:
        rid = f"{event_id}#{o.day.isoformat()}"
        if per_day[o.day] > 1 and o.start is not None:
            rid += f"T{o.start.strftime('%H:%M')}"
        ids.append(rid)
    return ids


def event_fields(
    detail: Detail, window_start: datetime, window_end: datetime
) -> list[dict[str, Any]]:
    """``RawEvent`` keyword arguments (less ``source_id``) per occurrence in the window."""
    events = []
    for occurrence, record_id in zip(
        detail.occurrences, record_ids(detail.event_id, detail.occurrences), strict=True
    ):
        if not window_start <= occurrence.starts_at() <= window_end:
            continue
        events.append(
            {
                "record_id": record_id,
                "title": detail.title,
                "start": occurrence.start_text(),
                "end": occurrence.end_text(),
                "timezone": "Europe/Berlin",
                "all_day": occurrence.all_day,
                "url": detail.url,
                "description": detail.summary,
                "location": detail.location,
                "categories": detail.categories,
                "price": detail.price,
                "free": detail.free,
                "status": detail.status,
                "image": detail.image,
            }
        )
    return events
