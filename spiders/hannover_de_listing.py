"""hannover.de listing pages and load-more answers read into cards, as pure functions (no
Scrapy); the detail pages are ``spiders.hannover_de_parse``'s.

Contract (the page structure is that of the captures in ``shared/corpora/hannover-de``):
- ``parse_listing(html, url)`` → ``Listing``: the cards ``article.interesting-single
  .line-view-content`` (detail URL, title, category label, summary, image, venue, first date)
  and the load-more request named by ``button.more-items[data-tile_query]``, with the
  button's identifier and sort attributes as the query (``identifiers``, ``sortField``,
  ``sortOrder``; ``load_more_query``). The view id in that URL changes over time, so it is
  read on every page.
- ``parse_load_more(text, url)`` → ``Listing`` of one load-more API answer (``items[]`` card
  HTML, ``isLast``; the next page is ``next`` when given, else the same view with the offset
  advanced by the limit); an answer that is not the API's JSON raises ``LoadMoreError``.
- The text helpers both page kinds use: ``clean`` (soft hyphens and zero-width characters
  removed, whitespace collapsed), ``text_of`` (a selector's cleaned text) and
  ``split_status`` (an ``Abgesagt:`` / ``Verschoben:`` title prefix turned into the status).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

from parsel import Selector

from core.model import Status

_STATUS_PREFIX = re.compile(r"^\s*(Abgesagt|Verschoben)\s*[:!–-]\s*", re.IGNORECASE)
_STATUS_WORDS = {"abgesagt": Status.CANCELLED.value, "verschoben": Status.POSTPONED.value}
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))
_LOAD_MORE_PATH = re.compile(
    r"^(?P<head>.*/api/v1/view/\d+/)(?P<offset>\d+)/(?P<limit>\d+)(?P<tail>/.*)?$"
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


def text_of(selector: Any) -> str:
    """The cleaned text of a selector and everything inside it."""
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
        duration = text_of(article.css(".date__duration"))
        dates = re.findall(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", duration)
        first: date | None = None
        if dates:
            try:
                first = date(int(dates[0][2]), int(dates[0][1]), int(dates[0][0]))
            except ValueError:
                first = None
        cards.append(
            Card(
                url=urljoin(base_url, href.strip()),
                title=text_of(article.css(".interesting-single__title")),
                category=text_of(article.css(".interesting-single__category")),
                summary=text_of(article.css(".interesting-single__description > p")),
                image=urljoin(base_url, image.strip()) if image else None,
                venue=text_of(article.css(".date__category")),
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
