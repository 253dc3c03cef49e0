"""The ``hannover_de`` source type: www.hannover.de's Veranstaltungskalender.

Contract:
- Start URLs are category listings (``/Veranstaltungskalender/Kinder-Jugendliche`` …). Each
  listing's cards lead to detail pages; further cards come from the load-more API named by
  the listing's "mehr" button, read afresh on every run and followed until ``isLast``.
- Every occurrence (``spiders.termine``) whose start lies in the window becomes one
  ``RawEvent``: ``record_id`` ``<data-location-id>#<YYYY-MM-DD>`` (``T<HH:MM>`` added when a
  date has two times), naive local times with ``timezone="Europe/Berlin"`` or an all-day date
  with the exclusive next day as end, ``categories`` = the card labels of every listing the
  event was seen in. Page parsing lives in ``spiders.hannover_de_listing`` (listings) and
  ``spiders.hannover_de_parse`` (detail pages), as pure functions.
- An event listed in several categories is one event with all their labels. The crawl runs
  in three phases, each begun when the spider would otherwise go idle:
  1. listings and load-more pages: cards are collected per detail URL;
  2. one request per detail URL (skipped when every card dates it after the window);
  3. the parsed details are merged (same location id, or same event under several category
     paths) and emitted, from a ``data:`` request, since Scrapy emits items only from
     callbacks. So no event is emitted before all its labels are known.
- A detail page that fails (404/500) is an error of the source; one whose "Termine" cell
  yields no date is skipped ("unparseable detail"); an unreadable Termine line is skipped
  with its text while the page's other lines are used.
- Politeness comes from ``spiders.settings`` (robots.txt, User-Agent with contact,
  AutoThrottle, RFC 2616 HTTP cache: an unchanged page costs a 304). The source's
  ``download_delay`` applies; a ``user_agent`` option in the sources file overrides the UA.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response

from core.model import SourceType
from spiders.base import SourceSpider
from spiders.hannover_de_listing import Card, LoadMoreError, parse_listing, parse_load_more
from spiders.hannover_de_parse import (
    Detail,
    event_fields,
    merge_details,
    parse_detail,
    with_cards,
)

# Where a card was seen: (index of the start URL, load-more page, position on the page).
Place = tuple[int, int, int]

# A bound on load-more pages per listing: ten cards a page, so 2,000 events a category.
MAX_LOAD_MORE_PAGES = 200


class HannoverDeSpider(SourceSpider):
    source_type = SourceType.HANNOVER_DE

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        user_agent = self.source.options.get("user_agent")
        if isinstance(user_agent, str) and user_agent.strip():
            # Scrapy's UserAgentMiddleware reads this attribute when the spider opens.
            self.user_agent = user_agent.strip()
        # Responses arrive in any order; cards and details carry the place they would have
        # in a sequential reading (start URL, page, position) so the output is reproducible.
        self._cards: dict[str, list[tuple[Place, Card]]] = {}
        self._seen_pages: set[str] = set()
        self._details: list[tuple[Place, Detail]] = []
        self._phase = "listings"

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> HannoverDeSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.on_idle, signal=signals.spider_idle)
        return spider

    # --- phase 1: listings ------------------------------------------------------------------

    async def start(self) -> AsyncIterator[Any]:
        for index, url in enumerate(self.source.start_urls):
            yield self.start_request(url, self.parse_start, cb_kwargs={"listing": index})

    def parse_start(self, response: Response, listing: int = 0) -> Iterable[Any]:
        page = parse_listing(response.text, response.url)
        if not page.cards and page.next_url is None:
            self.fail(f"no event cards on listing page ({response.url})")
            return
        self._add_cards(page.cards, listing, 0)
        yield from self._follow(page.next_url, listing, 1)

    def parse_load_more(self, response: Response, listing: int, pages: int) -> Iterable[Any]:
        try:
            page = parse_load_more(response.text, response.url)
        except LoadMoreError as exc:
            self.fail(f"{exc} ({response.url})")
            return
        self._add_cards(page.cards, listing, pages)
        yield from self._follow(page.next_url, listing, pages + 1)

    def _follow(self, url: str | None, listing: int, pages: int) -> Iterator[Request]:
        if url is None or url in self._seen_pages:
            return
        if pages > MAX_LOAD_MORE_PAGES:
            self.skip("load-more page limit", url)
            return
        self._seen_pages.add(url)
        kwargs = {"listing": listing, "pages": pages}
        yield self.request(url, self.parse_load_more, cb_kwargs=kwargs)

    def _add_cards(self, cards: Iterable[Card], listing: int, page: int) -> None:
        for position, card in enumerate(cards):
            self._cards.setdefault(card.url, []).append(((listing, page, position), card))

    # --- phases 2 and 3 ---------------------------------------------------------------------

    def on_idle(self) -> None:
        engine = self.crawler.engine
        assert engine is not None
        if self._phase == "listings":
            self._phase = "details"
            scheduled = 0
            last_day = self.window_end.date()
            for url, seen in self._cards.items():
                seen.sort(key=lambda entry: entry[0])
                cards = [card for _, card in seen]
                # A card's date is the first date still to come; all after the window: skip.
                if all(c.first_date is not None and c.first_date > last_day for c in cards):
                    continue
                kwargs = {"cards": cards, "place": seen[0][0]}
                # Each card URL is requested once (the dict above); dont_filter keeps two card
                # URLs that redirect to one page from losing the second one's labels.
                request = self.request(url, self.parse_detail, cb_kwargs=kwargs, dont_filter=True)
                engine.crawl(request)
                scheduled += 1
            if scheduled:
                raise DontCloseSpider
        if self._phase == "details":
            self._phase = "done"
            if self._details:
                # Items come only from callbacks: a data: URL (no network, no robots.txt,
                # not cached) gives the callback that emits the merged events.
                engine.crawl(
                    self.request(
                        "data:,famcal-emit",
                        self.emit,
                        dont_filter=True,
                        meta={"dont_cache": True},
                    )
                )
                raise DontCloseSpider

    def parse_detail(self, response: Response, cards: list[Card], place: Place) -> None:
        detail = with_cards(parse_detail(response.text, response.url), cards)
        if not detail.title or len(detail.unparsed_lines) == len(detail.termine_lines):
            # No Termine cell, no readable line, or no title anywhere: nothing to publish.
            self.skip("unparseable detail", response.url)
            return
        if not detail.occurrences:
            self.skip("every date excluded", response.url)
            return
        for line in detail.unparsed_lines:
            self.skip("unparsed Termine line", f"{response.url}: {line}")
        self._details.append((place, detail))

    def emit(self, response: Response) -> Iterable[Any]:
        ordered = [detail for _, detail in sorted(self._details, key=lambda e: e[0])]
        for detail in merge_details(ordered):
            for fields in event_fields(detail, self.window_start, self.window_end):
                yield self.make_event(**fields)
