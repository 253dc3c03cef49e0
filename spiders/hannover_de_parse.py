"""hannover.de Veranstaltungskalender pages read into values, as pure functions (no Scrapy).

Contract (the page structure is that of the captures in ``shared/corpora/hannover-de``):
- ``parse_listing(html, url)`` → ``Listing``: the cards ``article.interesting-single
  .line-view-content`` (detail URL, title, category label, summary, image, venue, first date)
  and the load-more request named by ``button.more-items[data-tile_query]``, with the
  button's identifier and sort attributes as the query (``identifiers``, ``sortField``,
  ``sortOrder``). The view id in that URL changes over time, so it is read on every page.
- ``parse_load_more(text, url, query)`` → ``Listing`` of one load-more API answer
  (``items[]`` card HTML, ``isLast``; the next page is ``next`` when given, else the same
  view with the offset advanced by the limit).
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

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

from parsel import Selector

from core.model import Location, Status
from spiders.termine import (
    Occurrence,
    parse_exclusions,
    parse_line,
    parse_termine,
    weekdays_of,
)

FREE_ENTRY_SENTENCE = "Dies ist eine Veranstaltung mit freiem Eintritt"
EXCLUSION_LABEL = "findet nicht statt am"
_STATUS_PREFIX = re.compile(r"^\s*(Abgesagt|Verschoben)\s*[:!–-]\s*", re.IGNORECASE)
_STATUS_WORDS = {"abgesagt": Status.CANCELLED.value, "verschoben": Status.POSTPONED.value}
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))
_STARTS_WITH_DATE = re.compile(r"^\s*\d{1,2}\.\d{1,2}\.\d{4}")
_POSTAL_LINE = re.compile(r"^(\d{5})\s+(\S.*)$")
_LOAD_MORE_PATH = re.compile(
    r"^(?P<head>.*/api/v1/view/\d+/)(?P<offset>\d+)/(?P<limit>\d+)(?P<tail>/.*)?$"
)
_PRICE_LABELS = re.compile(r"^(Eintritt|Preis|Preise|Kosten|Teilnahmegebühr|Gebühr)\b", re.I)
_AMOUNT = re.compile(
    r"(\d+)(?:[.,](\d{1,2}))?\s*(?:€|EUR|Euro)|(?:€|EUR)\s*(\d+)(?:[.,](\d{1,2}))?", re.I
)
_FREE_WORDS = re.compile(
    r"^(frei|kostenlos|kostenfrei|gratis|eintritt frei|freier eintritt)\b", re.I
)


def clean(text: str | None) -> str:
    """Text with soft hyphens and zero-width characters removed and whitespace collapsed."""
    return " ".join((text or "").translate(_INVISIBLE).split())


def split_status(title: str) -> tuple[str, str | None]:
    """('K-Pop Forever', 'cancelled') from 'Abgesagt: K-Pop Forever'."""
    title = clean(title)
    match = _STATUS_PREFIX.match(title)
    if match is None:
        return title, None
    return title[match.end() :].strip(), _STATUS_WORDS[match.group(1).lower()]


def _text(selector: Any) -> str:
    return clean(" ".join(selector.xpath(".//text()").getall()))


# --- listings -------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Card:
    """One event card of a listing page."""

    url: str
    title: str = ""
    category: str = ""
    summary: str = ""
    image: str | None = None
    venue: str = ""
    first_date: date | None = None


@dataclass(frozen=True, kw_only=True)
class Listing:
    cards: tuple[Card, ...] = ()
    next_url: str | None = None  # the next load-more request, query included


def _cards(selector: Selector, base_url: str) -> list[Card]:
    cards = []
    for article in selector.css("article.interesting-single.line-view-content"):
        href = (
            article.css("a.content__read-more::attr(href)").get()
            or article.css(".interesting-single__title a::attr(href), a[href]::attr(href)").get()
        )
        if not href:
            continue
        image = (
            article.css("img::attr(data-large-image)").get() or article.css("img::attr(src)").get()
        )
        dates = re.findall(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", _text(article.css(".date__duration")))
        first: date | None = None
        if dates:
            try:
                first = date(int(dates[0][2]), int(dates[0][1]), int(dates[0][0]))
            except ValueError:
                first = None
        cards.append(
            Card(
                url=urljoin(base_url, href.strip()),
                title=_text(article.css(".interesting-single__title")),
                category=_text(article.css(".interesting-single__category")),
                summary=_text(article.css(".interesting-single__description > p")),
                image=urljoin(base_url, image.strip()) if image else None,
                venue=_text(article.css(".date__category")),
                first_date=first,
            )
        )
    return cards


def load_more_query(button: Selector) -> dict[str, str]:
    """The query the "mehr" button sends along with its ``data-tile_query`` URL."""
    query = {}
    identifiers = button.attrib.get("data-identi_query")
    if identifiers:
        query["identifiers"] = identifiers
    sort_field, sort_order = (
        button.attrib.get("data-sort_field"),
        button.attrib.get("data-sort_order"),
    )
    if sort_field and sort_order:
        query["sortField"] = sort_field
        query["sortOrder"] = sort_order
    return query


def _with_query(url: str, query: dict[str, str]) -> str:
    if not query:
        return url
    return url.split("?", 1)[0] + "?" + urlencode(query)


def parse_listing(html: str, url: str) -> Listing:
    """The cards of a category page and its first load-more request."""
    selector = Selector(text=html)
    next_url = None
    button = selector.css("button.more-items[data-tile_query]")
    if button:
        tile_query = (button[0].attrib.get("data-tile_query") or "").strip()
        if tile_query:
            next_url = _with_query(urljoin(url, tile_query), load_more_query(button[0]))
    return Listing(cards=tuple(_cards(selector, url)), next_url=next_url)


class LoadMoreError(ValueError):
    """A load-more answer that is not the API's JSON."""


def parse_load_more(text: str, url: str) -> Listing:
    """One load-more API answer; ``url`` is the request's URL (its query is kept)."""
    try:
        payload = json.loads(text)
    except ValueError as exc:
        raise LoadMoreError(f"load-more answer is not JSON: {exc}") from exc
    if not isinstance(payload, dict) or payload.get("success") is False:
        raise LoadMoreError("load-more answer is not a successful API object")
    items = payload.get("items")
    if not isinstance(items, list):
        raise LoadMoreError("load-more answer has no items list")
    html = "\n".join(item for item in items if isinstance(item, str))
    cards = tuple(_cards(Selector(text=html or "<html></html>"), url))
    if payload.get("isLast") is not False or not cards:
        # isLast missing counts as last: never loop on an answer we do not understand.
        return Listing(cards=cards, next_url=None)
    query = urlsplit(url).query
    raw_next = payload.get("next")
    if isinstance(raw_next, str) and raw_next.strip():
        next_url = urljoin(url, raw_next.strip())
    else:
        path = urlsplit(url).path
        match = _LOAD_MORE_PATH.match(path)
        if match is None:
            return Listing(cards=cards, next_url=None)
        offset, limit = int(match["offset"]), int(match["limit"])
        next_path = f"{match['head']}{offset + limit}/{limit}{match['tail'] or ''}"
        next_url = urljoin(url, next_path)
    if query and "?" not in next_url:
        next_url = f"{next_url}?{query}"
    return Listing(cards=cards, next_url=next_url)


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
            rows.append((_text(cells[0]).rstrip(":").strip(), cells[1]))
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
                if tag in ("strong", "b") and EXCLUSION_LABEL in _text(child).lower():
                    lines.append((_text(child), True))
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
    venue = _text(first.css("a")) if first.css("a") else ""
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
            entries.append((label, _text(cell)))
    for label, cell in rows:
        if _PRICE_LABELS.match(label) and (label, _text(cell)) not in entries:
            entries.append((label, _text(cell)))
    entries = [(label, value) for label, value in entries if value]
    page_text = _text(selector)
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
    parts = [_text(p) for p in block[0].css("p, li")]
    parts = [p for p in parts if p]
    return "\n\n".join(parts) if parts else _text(block[0])


def parse_detail(html: str, url: str) -> Detail:
    """Everything a detail page states about its event (see the module doc)."""
    selector = Selector(text=html)
    title, status = split_status(
        _text(selector.css("h1.content-detail__title")) or _text(selector.css("h1"))
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
