"""The ``html`` source type: a partner's plain HTML programme page, read by CSS selectors.

Contract:
- The source's ``select`` table (contract.md, "Sources file"; checked by ``core.config``)
  names ``item`` (one element per event), ``title`` and ``start`` (required) and ``end``,
  ``place``, ``description``, ``link``, ``next_page`` (optional), each relative to one item
  except ``item`` and ``next_page``. Selectors are read by ``spiders.selectors``.
- ``parse_html_page(html, url, select, origin=…, reference=…, timezone=…)`` is pure and
  returns an ``HtmlPage``: one ``RawEvent``-ready dict per occurrence (dates by
  ``spiders.dates_de``; a date range gives one per day), ``Skip`` values for items without
  title or with no readable date, the names of the selectors that matched in at least one
  item (``matched``; ``item`` when any item matched) and the absolute URL of the next page.
- ``record_id``: the item's link (made absolute), else the start URL plus ``#`` and the
  title; ``#`` and the start are added where one identity has several occurrences.
- ``HtmlSpider``: each start URL and the ``next_page`` chain after it; at most ``max_pages``
  pages per source (``SourceConfig.max_pages``, contract.md's budget). The source is
  degraded, with a message naming the selector or budget, when the budget is hit, when
  ``item``, ``title`` or ``start`` matches nothing on a page that answered, or when an
  optional item selector (``end``, ``place``, ``description``, ``link``) matches nothing on
  any page of a start URL's chain (one page without end times is no redesign). Nothing is cancelled.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urljoin

from parsel import Selector
from scrapy.http import Response, TextResponse

from core.model import Location, SourceType
from spiders.base import SourceSpider
from spiders.common import DEFAULT_TIMEZONE, Skip, in_window, web_url
from spiders.dates_de import read_when
from spiders.selectors import elements, value

_POSTAL = re.compile(r"^(\d{5})\s+(\S.*)$")
_ITEM_SELECTORS = ("title", "start", "end", "place", "description", "link")
_REQUIRED = ("item", "title", "start")


@dataclass(frozen=True, kw_only=True)
class HtmlPage:
    events: list[dict[str, Any]] = field(default_factory=list)
    skips: list[Skip] = field(default_factory=list)
    matched: frozenset[str] = frozenset()  # selector names
    next_page: str | None = None


def place_location(text: str | None) -> Location:
    """'Familienzentrum Linden, Deisterstraße 12, 30449 Hannover' → name, street, postcode,
    city (a text without a postcode is the venue's name)."""
    parts = [p.strip() for p in (text or "").split(",") if p.strip()]
    if not parts:
        return Location()
    postal = _POSTAL.match(parts[-1])
    if postal is None:
        return Location(name=", ".join(parts))
    rest = parts[:-1]
    street = rest.pop() if rest else ""
    return Location(
        name=", ".join(rest), street=street, postal_code=postal.group(1), city=postal.group(2)
    )


def parse_html_page(
    html: str,
    url: str,
    select: dict[str, str],
    *,
    origin: str,
    reference: date,
    timezone: str = DEFAULT_TIMEZONE,
) -> HtmlPage:
    page = Selector(text=html)
    items = elements(page, select["item"])
    next_href = value(page, select["next_page"], link=True) if select.get("next_page") else None
    next_page = web_url(urljoin(url, next_href)) if next_href else None
    if not items:
        return HtmlPage(next_page=next_page)
    matched: Counter[str] = Counter()
    events: list[dict[str, Any]] = []
    skips: list[Skip] = []
    for item in items:
        found = {
            name: value(item, select[name], link=name == "link")
            for name in _ITEM_SELECTORS
            if select.get(name)
        }
        matched.update(name for name, text in found.items() if text)
        title, start = found.get("title"), found.get("start")
        if not title:
            skips.append(Skip("item without title", f"{url}: {item.get()[:200]}"))
            continue
        if not start:
            skips.append(Skip("item without start", f"{url}: {title}"))
            continue
        whens = read_when(start, found.get("end"), reference=reference)
        if not whens:
            skips.append(Skip("unreadable date", f"{url}: {title}: {start!r}"))
            continue
        link = web_url(urljoin(url, found["link"])) if found.get("link") else None
        for when in whens:
            events.append(
                {
                    "record_id": link or f"{origin}#{title}",
                    "title": title,
                    "start": when.start_text,
                    "end": when.end_text,
                    "timezone": None if when.iso_start else timezone,
                    "all_day": when.occurrence.all_day,
                    "url": link or web_url(url),
                    "description": found.get("description") or "",
                    "location": place_location(found.get("place")),
                }
            )
    counts = Counter(e["record_id"] for e in events)
    for event in events:
        if counts[event["record_id"]] > 1:
            event["record_id"] = f"{event['record_id']}#{event['start']}"
    return HtmlPage(
        events=events, skips=skips, matched=frozenset({"item", *matched}), next_page=next_page
    )


class HtmlSpider(SourceSpider):
    source_type = SourceType.HTML

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pages = 0
        self.max_pages = self.source.max_pages

    def parse_start(self, response: Response) -> Iterable[Any]:
        return self.parse_page(response)

    def parse_page(self, response: Response) -> Iterable[Any]:
        if not isinstance(response, TextResponse):
            self.fail(f"not an HTML page ({response.url})")
            return
        self.pages += 1
        select: dict[str, str] = dict(self.source.options["select"])
        origin = str(response.meta.get("origin") or response.url)
        page = parse_html_page(
            response.text,
            response.url,
            select,
            origin=origin,
            reference=self.window_start.date(),
            timezone=str(self.source.options.get("timezone") or DEFAULT_TIMEZONE),
        )
        for name in _REQUIRED:
            if name not in page.matched:
                self._missing(name, select[name], response.url)
        chain = frozenset(response.meta.get("matched", frozenset())) | page.matched
        for skip in page.skips:
            self.skip(skip.reason, skip.detail)
        for item in page.events:
            if in_window(
                item["start"], item["end"], item["timezone"], self.window_start, self.window_end
            ):
                yield self.make_event(**item)
        if page.next_page and page.next_page != response.url:
            if self.pages < self.max_pages:
                meta = {"origin": origin, "matched": chain}
                yield self.request(page.next_page, self.parse_page, meta=meta)
                return
            self.budget("max_pages", f"{self.max_pages} pages, next {page.next_page}")
        # The chain ends here: an optional selector that found nothing on any of its pages.
        for name in _ITEM_SELECTORS:
            if select.get(name) and name not in chain and name not in _REQUIRED:
                self._missing(name, select[name], f"any page from {origin}")

    def _missing(self, name: str, spec: str, where: str) -> None:
        # The page answered, the selector found nothing: most likely the site changed.
        self.degrade(f"selector {name} matched nothing", f"{spec!r} on {where}")
