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
- Failures of a start URL (``self.start_request``) and content errors are ``errors``: the
  source is failed. A followed page that cannot be fetched (a detail page, the next API
  page) is ``self.page_failed``: counted in ``problems`` under ``PAGE_FAILED`` and the source
  is degraded (what it did read is kept; nothing it could not read is taken for gone).
- Budgets (``SourceConfig.max_*``): ``spiders.budget`` drops requests beyond ``max_pages`` /
  ``max_bytes`` with ``BudgetExceeded``; a response over its byte limit is that budget too;
  callbacks stop being read once ``max_occurrences`` events were yielded; ``max_seconds``
  closes the spider (``spiders.worker``). Each hit is ``self.budget(name, detail)``:
  ``problems["budget <name>"]`` and the source is degraded. ``deadline`` (monotonic) is when
  the source's time is up.
- After the crawl, ``errors`` (failed), ``degradations`` (degraded, the first message),
  ``problems`` and ``skipped`` (counts per reason) decide the source's health;
  ``spiders.worker`` reads them.
- The source's own ``categories`` are added to every event (``make_event``).
- Callbacks of ``self.request`` requests reach Scrapy with their events grouped into
  ``RecordBatch`` items (``spiders.worker`` writes both kinds of item).
"""

from __future__ import annotations

import functools
import hashlib
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Self

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from twisted.python.failure import Failure

from core.config import SourceConfig
from core.model import RawEvent, SourceType

PAGE_FAILED = "page not fetched"
REPAIRED = "repaired"


class BudgetExceeded(IgnoreRequest):
    """A request dropped because the source spent one of its budgets."""

    def __init__(self, budget: str, detail: str) -> None:
        super().__init__(f"budget {budget}: {detail}")
        self.budget = budget
        self.detail = detail


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
        seconds: float | None = None,
        seconds_budget: str = "max_seconds",
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
        self.problems: Counter[str] = Counter()
        self.skipped: Counter[str] = Counter()
        self.degradations: list[str] = []
        self.emitted = 0
        self.yielded = 0  # events that reached Scrapy (the max_occurrences count)
        seconds = float(source.max_seconds) if seconds is None else seconds
        self.deadline = time.monotonic() + seconds
        self.seconds_budget = seconds_budget  # or "run max_seconds" when the run's is shorter

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.on_dropped, signal=signals.request_dropped)
        return spider

    async def start(self) -> AsyncIterator[Any]:
        for url in self.source.start_urls:
            yield self.start_request(url, self.parse_start)

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
            and not self.degradations
            and bool(self.source.start_urls)
            and len(self.unchanged_urls) == len(self.digests) == len(self.source.start_urls)
        )

    def request(
        self,
        url: str,
        callback: Callable[..., Any],
        *,
        meta: dict[str, Any] | None = None,
        errback: Callable[[Failure], Any] | None = None,
        **kwargs: Any,
    ) -> Request:
        return Request(
            url,
            callback=_batching(callback, self),
            errback=errback or self.on_error,
            meta=meta or {},
            **kwargs,
        )

    def start_request(self, url: str, callback: Callable[..., Any], **kwargs: Any) -> Request:
        """A request for a start URL: its failure fails the source."""
        meta = {**kwargs.pop("meta", {}), "famcal_start": True}
        return self.request(url, callback, meta=meta, **kwargs)

    def on_error(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        exc = failure.value
        if isinstance(exc, BudgetExceeded):
            self.budget(exc.budget, f"{exc.detail}; {request.url if request else '?'} not read")
            return
        message = describe_failure(failure)
        start = request is not None and bool(request.meta.get("famcal_start"))
        if message.startswith("timed out") and time.monotonic() >= self.deadline - 0.5:
            # Cut by the source's time, not by a slow server: what was read is kept.
            self.budget(self.seconds_budget, message)
        elif message.startswith("too large") and not start:
            self.budget("max_bytes", message)
        elif start:
            # Nothing of the source could be read: failed (a start document over the byte
            # budget too, as there is nothing read within it to keep).
            self.fail(message)
        else:
            self.page_failed(message)

    def page_failed(self, message: str) -> None:
        """A followed page could not be fetched: what it holds keeps its last known state."""
        self.logger.warning("page not fetched: %s", message)
        self.problems[PAGE_FAILED] += 1
        self.degradations.append(message)

    def budget(self, name: str, detail: str) -> None:
        """The source spent its budget ``name``: it keeps what it read within it."""
        reason = f"budget {name}"
        if not self.problems[reason]:  # once per budget: the first hit is the story
            self.logger.warning("%s: %s", reason, detail)
            self.degradations.append(f"{reason} ({detail})")
            self.problems[reason] = 1

    def repaired(self, detail: str) -> None:
        self.logger.info("repaired: %s", detail[:300])
        self.problems[REPAIRED] += 1

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


def _batching(callback: Callable[..., Any], spider: SourceSpider) -> Callable[..., Any]:
    """``callback`` with its ``RawEvent``s grouped into ``RecordBatch``es (in order; anything
    else — requests, other items — passes through at once, flushing the batch first).

    Once the source has yielded ``max_occurrences`` events the callback is read no further
    (a lazily expanded endless series stops there) and the budget is recorded."""

    @functools.wraps(callback)
    def wrapped(*args: Any, **kwargs: Any) -> Iterator[Any]:
        output = callback(*args, **kwargs)
        if output is None:
            return
        batch: list[RawEvent] = []
        limit = spider.source.max_occurrences
        for item in output:
            if isinstance(item, RawEvent):
                if spider.yielded >= limit:
                    spider.budget("max_occurrences", f"{limit} events read")
                    close = getattr(output, "close", None)
                    if close is not None:
                        close()  # ends a lazy expansion (and its worker processes) now
                    break
                spider.yielded += 1
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
    maxsize = request.meta.get("download_maxsize") if request is not None else None
    if "DownloadCancelled" in kind and maxsize:
        # Scrapy cancels a download that grows past download_maxsize (and says so in a log
        # line only).
        return f"too large: more than {maxsize} bytes ({url})"
    if "DataLoss" in kind:
        return f"truncated response: {text} ({url})"
    return f"{kind}: {text} ({url})"
