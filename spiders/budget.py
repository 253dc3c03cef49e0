"""Per-source budgets on the download side, and ``Retry-After`` within them.

Contract:
- ``BudgetMiddleware`` (a downloader middleware, next to the downloader): for a
  ``SourceSpider`` it counts the pages a source requests (retries, redirects, robots.txt and
  ``data:`` URLs are not pages) and the bytes it reads (a 304 reads none). A request beyond
  ``max_pages``, or once ``max_bytes`` is spent, is dropped with ``BudgetExceeded`` (the
  spider's errback records the budget, not an error). Every request may read at most
  ``min(max_response_bytes, bytes left)`` (Scrapy's ``download_maxsize``), so an endless body
  stops at the budget, and no download runs past the spider's ``deadline`` (its
  ``download_timeout`` is cut to the time left).
- ``RetryAfterMiddleware`` (replaces Scrapy's ``RetryMiddleware``): a 429 or 503 with
  ``Retry-After`` (seconds or an HTTP date) is retried after that wait when it ends within
  ``RETRY_AFTER_MAX`` seconds and before the spider's deadline (``SourceSpider.deadline``,
  monotonic); a longer wait gives up at once (the answer goes on as the error it is).
"""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime
from typing import Any

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Request, Response
from scrapy.spiders import Spider
from scrapy.utils.asyncio import sleep

from spiders.base import BudgetExceeded, SourceSpider

__all__ = ["BudgetExceeded", "BudgetMiddleware", "RetryAfterMiddleware", "retry_after_seconds"]


def _is_page(request: Request) -> bool:
    return not (
        request.meta.get("dont_obey_robotstxt")  # robots.txt itself
        or request.meta.get("retry_times")
        or request.meta.get("redirect_times")
        or request.url.startswith("data:")
    )


class BudgetMiddleware:
    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize  # DOWNLOAD_MAXSIZE: a run-wide cap below the budgets wins
        self.pages: dict[str, int] = {}
        self.bytes: dict[str, int] = {}

    @classmethod
    def from_crawler(cls, crawler: Any) -> BudgetMiddleware:
        return cls(crawler.settings.getint("DOWNLOAD_MAXSIZE"))

    def process_request(self, request: Request, spider: Spider) -> None:
        if not isinstance(spider, SourceSpider) or request.url.startswith("data:"):
            return
        source = spider.source
        if _is_page(request):
            pages = self.pages.get(spider.name, 0) + 1
            if pages > source.max_pages:
                raise BudgetExceeded("max_pages", f"{source.max_pages} pages read")
            self.pages[spider.name] = pages
        left = source.max_bytes - self.bytes.get(spider.name, 0)
        if left <= 0:
            raise BudgetExceeded("max_bytes", f"{source.max_bytes} bytes read")
        limits = [source.max_response_bytes, left] + ([self.maxsize] if self.maxsize else [])
        request.meta["download_maxsize"] = min(limits)
        # No download outlives the source's time (Scrapy's close waits for the ones running,
        # so a slow drip would hold the spider open past max_seconds).
        remaining = max(0.5, spider.deadline - time.monotonic())
        timeout = request.meta.get("download_timeout")
        request.meta["download_timeout"] = min(remaining, timeout) if timeout else remaining

    def process_response(self, request: Request, response: Response, spider: Spider) -> Response:
        if isinstance(spider, SourceSpider):
            self.bytes[spider.name] = self.bytes.get(spider.name, 0) + len(response.body)
        return response


def retry_after_seconds(value: bytes | str | None, now: float) -> float | None:
    """The wait a ``Retry-After`` header asks for (seconds from ``now``, a Unix time)."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


class RetryAfterMiddleware(RetryMiddleware):
    async def process_response(  # type: ignore[override]
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Request | Response:
        if response.status in (429, 503) and not request.meta.get("dont_retry", False):
            wait = retry_after_seconds(response.headers.get(b"Retry-After"), time.time())
            if wait is not None:
                limit = self.crawler.settings.getfloat("RETRY_AFTER_MAX", 60.0)
                deadline = getattr(self.crawler.spider, "deadline", None)
                ends = time.monotonic() + wait
                if wait > limit or (deadline is not None and ends >= deadline):
                    return response  # not worth waiting for within this run: an error
                await sleep(wait)
        return super().process_response(request, response)
