"""The ``wordpress`` source type: a WordPress REST listing (``wp/v2`` posts or a custom post
type) whose items link the partner's event pages.

Contract:
- A start URL is a ``wp/v2`` listing: a JSON list of objects of which only ``link`` is read
  (``id``, ``title`` may be there too). Its ``X-WP-TotalPages`` header says how many pages
  the listing has; pages 2… are requested with ``page=N`` in the query, at most
  ``max_pages`` pages per start URL (``SourceConfig.max_pages``; more is the budget hit:
  degraded).
- Each item's ``link`` (made absolute against the listing's URL) is followed and read as an
  event page the way the ``jsonld`` type reads one (JSON-LD or microdata;
  ``spiders.jsonld.parse_jsonld_page``). A link to another host than the listing's is
  skipped and counted ("link to another host"), as is an item without a link; a dead event
  page is a counted skip, not an error of the source.
- A listing that is not a JSON list is an error of the source (failed).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from scrapy.http import Response

from core.model import SourceType
from spiders.common import web_url
from spiders.jsonld import JsonLdSpider


def page_url(url: str, page: int) -> str:
    """``url`` asking for page ``page`` of the listing (other query parameters kept)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "page"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("page", str(page))])))


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").removeprefix("www.")


def listing_links(data: Any, base_url: str) -> list[str | None]:
    """The ``link`` of every item of a ``wp/v2`` listing, made absolute against the
    listing's URL (None where an item has none)."""
    if not isinstance(data, list):
        raise ValueError("not a JSON list")
    return [
        web_url(urljoin(base_url, str(item.get("link") or "")))
        if isinstance(item, dict) and item.get("link")
        else None
        for item in data
    ]


class WordpressSpider(JsonLdSpider):
    source_type = SourceType.WORDPRESS

    def parse_start(self, response: Response) -> Iterable[Any]:
        yield from self.parse_listing(response)
        total_text = response.headers.get("X-WP-TotalPages", b"1") or b"1"
        try:
            total = int(total_text.decode("ascii", "replace").strip())
        except ValueError:
            total = 1
        budget = self.source.max_pages
        if total > budget:
            self.budget("max_pages", f"{budget} of {total} pages, {response.url}")
        for page in range(2, min(total, budget) + 1):
            yield self.request(page_url(response.url, page), self.parse_listing)

    def parse_listing(self, response: Response) -> Iterable[Any]:
        try:
            links = listing_links(json.loads(response.body), response.url)
        except ValueError as exc:  # JSONDecodeError is a ValueError
            self.fail(f"not a WordPress REST listing ({exc}): {response.url}")
            return
        host = _host(response.url)
        for link in links:
            if link is None:
                self.skip("item without link", response.url)
            elif _host(link) != host:
                self.skip("link to another host", link)
            else:
                # A dead event page degrades the source; its event keeps its last state.
                yield self.request(link, self.parse_event_page)
