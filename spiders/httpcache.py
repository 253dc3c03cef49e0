"""HTTP cache rules for famcal crawls: always ask the source, keep only what lets us ask cheaply.

Contract:
- ``RevalidatePolicy`` (``HTTPCACHE_POLICY``): a stored response is never fresh. Every
  request for a stored URL goes to the server with the stored ``ETag`` (``If-None-Match``)
  and ``Last-Modified`` (``If-Modified-Since``); a 304 answers with the stored copy (marked
  ``cached``), any other answer replaces it. No heuristic freshness (Scrapy's RFC 2616 policy
  treats ``Last-Modified`` without ``Cache-Control`` as fresh for a tenth of its age, so a
  calendar unchanged for a month would not be asked again for three days), and no answer
  from the cache for a 5xx: the fetch failed and the spider hears of it.
- Only a 200/203 with a validator is stored: without one the next run could not ask
  conditionally, so a stored copy would only cost disk. Error answers never overwrite the
  stored copy (the next run revalidates against it).
- ``RevalidatingCacheMiddleware`` (replaces Scrapy's ``HttpCacheMiddleware``): a timeout,
  reset or refused connection during revalidation is an error of the request (retried, then
  the spider's errback), not the stored copy.
"""

from __future__ import annotations

from scrapy.downloadermiddlewares.httpcache import HttpCacheMiddleware
from scrapy.extensions.httpcache import RFC2616Policy
from scrapy.http import Request, Response
from scrapy.spiders import Spider


class RevalidatePolicy(RFC2616Policy):
    def should_cache_response(self, response: Response, request: Request) -> bool:
        if response.status not in (200, 203):
            return False
        if b"no-store" in self._parse_cachecontrol(response):
            return False
        return b"ETag" in response.headers or b"Last-Modified" in response.headers

    def is_cached_response_fresh(self, cachedresponse: Response, request: Request) -> bool:
        # Never fresh: every run asks the source what it says now (a 304 costs a header).
        self._set_conditional_validators(request, cachedresponse)
        return False

    def is_cached_response_valid(
        self, cachedresponse: Response, response: Response, request: Request
    ) -> bool:
        return response.status == 304


class RevalidatingCacheMiddleware(HttpCacheMiddleware):
    def process_exception(
        self, request: Request, exception: Exception, spider: Spider | None = None
    ) -> Request | Response | None:
        # Drop the stored copy from this attempt: the failure goes on to the retry
        # middleware and the errback (a retry looks the copy up again).
        request.meta.pop("cached_response", None)
        return None
