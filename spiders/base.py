"""The base every source-type spider extends.

Contract:
- A spider is built for one ``SourceConfig`` and a window (``window_start``..``window_end``,
  aware datetimes); it yields ``RawEvent`` items for the occurrences it finds in that window
  (recurrences already expanded by the spider that understands them).
- ``self.request(url, callback)`` makes requests whose failures are recorded: a failed
  request (HTTP error status, DNS, timeout, refused, too large, too many redirects) is an
  *error* of the source, worded for an operator (``describe_failure``). A redirect that
  leads back to a URL of its own chain (which Scrapy's duplicate filter would silently
  drop) is an error too: "redirect loop".
- ``self.fail(message)`` records a content error (e.g. HTML where a calendar was expected);
  ``self.skip(reason, detail)`` counts and logs a bad component that was passed over.
- ``self.degrade(reason, detail)`` records that the source answered but incompletely (a
  selector matched nothing on a page that answered, a page budget was hit): counted like a
  skip, and the source is degraded (never failed: nothing of it is taken for deleted).
- After the crawl, ``errors`` decides the source's health (any error: failed; else any
  ``degradations``: degraded) and ``skipped`` holds counts per reason; ``spiders.worker``
  reads them.
- The source's own ``categories`` are added to every event (``make_event``).
- Callbacks of ``self.request`` requests reach Scrapy with their events grouped into
  ``RecordBatch`` items (``spiders.worker`` writes both kinds of item).
"""

from __future__ import annotations

import functools
import hashlib
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Self

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import Request, Response
from twisted.python.failure import Failure

from core.config import SourceConfig
from core.model import RawEvent, SourceType


class SourceSpider(scrapy.Spider):
    source_type: ClassVar[SourceType]
    # True when the start URLs are the whole source (one document each, no links followed):
    # then an unchanged start document means an unchanged source.
    single_document: ClassVar[bool] = False

    def __init__(
        self,
        *,
        source: SourceConfig,
        window_start: datetime,
        window_end: datetime,
        previous_digests: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name=source.id, **kwargs)
        self.source = source
        self.window_start = window_start
        self.window_end = window_end
        self.previous_digests = previous_digests or {}
        self.digests: dict[str, str] = {}
        self.unchanged_urls: set[str] = set()
        self.errors: list[str] = []
        self.skipped: Counter[str] = Counter()
        self.degradations: list[str] = []
        self.emitted = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.on_dropped, signal=signals.request_dropped)
        return spider

    async def start(self) -> AsyncIterator[Any]:
        for url in self.source.start_urls:
            yield self.request(url, self.parse_start)

    def parse_start(self, response: Response) -> Iterable[Any]:
        raise NotImplementedError

    def unchanged(self, response: Response) -> bool:
        """True when this start document is byte for byte what the last healthy crawl read
        in the same window: its events are already stored, so parsing it again is waste.

        Only for spiders whose whole source is the start documents (``single_document``);
        the digest covers the body and the window, since a longer window can hold more
        occurrences of the same series.
        """
        digest = hashlib.sha256(
            response.body
            + f"|{self.window_start.isoformat()}|{self.window_end.isoformat()}".encode()
        ).hexdigest()
        url = response.request.url if response.request is not None else response.url
        self.digests[url] = digest
        if self.single_document and self.previous_digests.get(url) == digest:
            self.unchanged_urls.add(url)
            return True
        return False

    @property
    def all_unchanged(self) -> bool:
        return (
            self.single_document
            and not self.errors
            and bool(self.source.start_urls)
            and len(self.unchanged_urls) == len(self.digests) == len(self.source.start_urls)
        )

    def request(
        self,
        url: str,
        callback: Callable[..., Any],
        *,
        meta: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Request:
        return Request(
            url, callback=_batching(callback), errback=self.on_error, meta=meta or {}, **kwargs
        )

    def on_error(self, failure: Failure) -> None:
        self.fail(describe_failure(failure))

    def on_dropped(self, request: Request) -> None:
        # A redirect back into its own chain is dropped by the duplicate filter without
        # reaching the errback; unreported, the source would look fine with zero events.
        chain = request.meta.get("redirect_urls") or []
        if request.url in chain:
            self.fail(f"redirect loop: {chain[0]} redirects back to {request.url}")

    def fail(self, message: str) -> None:
        self.logger.error(message)
        self.errors.append(message)

    def skip(self, reason: str, detail: str = "") -> None:
        self.skipped[reason] += 1
        self.logger.warning("skipped (%s): %s", reason, detail[:300])

    def degrade(self, reason: str, detail: str) -> None:
        self.skipped[reason] += 1
        message = f"{reason}: {detail}"
        if message not in self.degradations:
            self.degradations.append(message)
        self.logger.warning("degraded (%s): %s", reason, detail[:300])

    def make_event(self, **fields: Any) -> RawEvent:
        categories = tuple(fields.pop("categories", ()))
        extra = tuple(c for c in self.source.categories if c not in categories)
        self.emitted += 1
        return RawEvent(
            source_id=self.source.id,
            source_name=self.source.name,
            categories=categories + extra,
            **fields,
        )


@dataclass(frozen=True)
class RecordBatch:
    """Consecutive ``RawEvent``s of one callback as one Scrapy item: Scrapy's per-item
    machinery (middlewares, signals, stats) costs more than writing a record, and a large
    calendar yields tens of thousands of them."""

    events: tuple[RawEvent, ...]


BATCH_SIZE = 500


def _batching(callback: Callable[..., Any]) -> Callable[..., Any]:
    """``callback`` with its ``RawEvent``s grouped into ``RecordBatch``es (in order; anything
    else — requests, other items — passes through at once, flushing the batch first)."""

    @functools.wraps(callback)
    def wrapped(*args: Any, **kwargs: Any) -> Iterator[Any]:
        output = callback(*args, **kwargs)
        if output is None:
            return
        batch: list[RawEvent] = []
        for item in output:
            if isinstance(item, RawEvent):
                batch.append(item)
                if len(batch) >= BATCH_SIZE:
                    yield RecordBatch(tuple(batch))
                    batch = []
                continue
            if batch:
                yield RecordBatch(tuple(batch))
                batch = []
            yield item
        if batch:
            yield RecordBatch(tuple(batch))

    return wrapped


def describe_failure(failure: Failure) -> str:
    """An operator's one line for a failed request: what went wrong, and where."""
    request = getattr(failure, "request", None)
    response = getattr(failure.value, "response", None)
    url = request.url if request is not None else "?"
    if response is not None:
        return f"HTTP {response.status} for {url}"
    kind = failure.type.__name__ if failure.type else "error"
    text = failure.getErrorMessage()
    if "Timeout" in kind:
        return f"timed out: {text} ({url})"
    if "max size" in text or "maxsize" in text:
        return f"too large: {text} ({url})"
    if "redirections" in text:
        return f"redirect loop: {text} ({url})"
    if "DataLoss" in kind:
        return f"truncated response: {text} ({url})"
    return f"{kind}: {text} ({url})"
