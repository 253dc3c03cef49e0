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
- Reuse (issue #20): with ``memo_dir`` (the crawl's work folder, ``spiders.worker``) each
  document's plain VEVENTs are remembered there (``spiders.ics_fast.PlainMemo``, one file per
  source and URL, saved after a complete read that was not truncated), so a document of
  which one event changed reads only that event again. A memo that cannot be written is
  logged and costs only the reuse.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

from scrapy.http import Response

from core.model import SourceType
from spiders.base import SourceSpider
from spiders.common import DEFAULT_TIMEZONE, Skip
from spiders.ics_fast import PlainMemo
from spiders.ics_parse import SERIES_BUDGET, TRUNCATED, NotACalendar, parse_ics

log = logging.getLogger(__name__)

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

    def memo_path(self, url: str) -> Path | None:
        memo_dir = getattr(self, "memo_dir", None)  # set by spiders.worker
        if not memo_dir:
            return None
        name = hashlib.sha256(url.encode()).hexdigest()[:16]
        return Path(memo_dir) / f"{self.source.id}-{name}.memo"

    def parse_start(self, response: Response) -> Iterable[Any]:
        if self.unchanged(response):
            return
        timezone = str(self.source.options.get("timezone") or DEFAULT_TIMEZONE)
        truncated = False
        read = 0
        memo_path = self.memo_path(response.url)
        memo = PlainMemo.load(memo_path) if memo_path is not None else None
        try:
            for item in parse_ics(
                response.body,
                window_start=self.window_start,
                window_end=self.window_end,
                default_timezone=timezone,
                max_series=self.source.max_series_occurrences,
                memo=memo,
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
        if memo is not None and memo_path is not None and not truncated:
            log.info("%s: %d plain VEVENTs reused of the last read", response.url, memo.reused)
            try:
                memo.save(memo_path)
            except OSError as exc:  # only the next read's reuse is lost
                log.warning("could not save %s: %s", memo_path, exc)
        if truncated:
            # The salvaged events are used; the source still counts as failed, so nothing
            # it no longer lists is taken for deleted.
            self.fail(
                f"truncated iCalendar file (no END:VCALENDAR): "
                f"{read} events read before the cut ({response.url})"
            )
