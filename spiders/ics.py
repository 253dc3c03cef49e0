"""The ``ics`` source type: any iCalendar URL (``webcal://`` is fetched as https).

Contract:
- ``IcsSpider``: one request per start URL; each body is read by ``parse_ics``
  (``spiders.ics_parse``, re-exported here with ``NotACalendar``, ``Skip`` and
  ``TRUNCATED``); source option ``timezone`` names the zone of floating times (default
  Europe/Berlin). Every ``Skip`` is counted under its reason.
- Faults (issue #8): a file without its closing ``END:VCALENDAR`` (announced by
  ``parse_ics`` with a first ``Skip(TRUNCATED, …)``): the spider uses the salvaged events but
  fails the source, so the operator hears of it and no absence is counted. A body that is no
  calendar at all fails the source.
- Budgets (issue #14): a series cut at ``max_series_occurrences`` is the source's
  ``max_occurrences`` budget (degraded, the kept occurrences stored).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

from scrapy.http import Response

from core.model import SourceType
from spiders.base import SourceSpider
from spiders.common import DEFAULT_TIMEZONE, Skip
from spiders.ics_parse import SERIES_BUDGET, TRUNCATED, NotACalendar, parse_ics

__all__ = ["TRUNCATED", "IcsSpider", "NotACalendar", "Skip", "https_url", "parse_ics"]


def https_url(url: str) -> str:
    """``webcal://`` (and ``webcals://``) are https in disguise."""
    for prefix in ("webcals://", "webcal://"):
        if url.lower().startswith(prefix):
            return "https://" + url[len(prefix) :]
    return url


class IcsSpider(SourceSpider):
    source_type = SourceType.ICS
    single_document = True

    async def start(self) -> AsyncIterator[Any]:
        for url in self.source.start_urls:
            yield self.start_request(https_url(url), self.parse_start)

    def parse_start(self, response: Response) -> Iterable[Any]:
        if self.unchanged(response):
            return
        timezone = str(self.source.options.get("timezone") or DEFAULT_TIMEZONE)
        truncated = False
        read = 0
        try:
            for item in parse_ics(
                response.body,
                window_start=self.window_start,
                window_end=self.window_end,
                default_timezone=timezone,
                max_series=self.source.max_series_occurrences,
            ):
                if isinstance(item, Skip) and item.reason == TRUNCATED:
                    truncated = True
                elif isinstance(item, Skip) and item.reason == SERIES_BUDGET:
                    self.budget("max_occurrences", item.detail)
                elif isinstance(item, Skip):
                    self.skip(item.reason, item.detail)
                else:
                    read += 1
                    yield self.make_event(**item)
        except NotACalendar as exc:
            self.fail(f"{exc} ({response.url})")
            return
        if truncated:
            # The salvaged events are used; the source still counts as failed, so nothing
            # it no longer lists is taken for deleted.
            self.fail(
                f"truncated iCalendar file (no END:VCALENDAR): "
                f"{read} events read before the cut ({response.url})"
            )
