"""Scrapy settings for famcal crawls: polite, bounded, cache-aware.

Contract: ``crawl_settings(overrides)`` returns the settings dict the worker uses. Values can
be overridden per run (the CLI passes ``HTTPCACHE_DIR`` next to the database and the
User-Agent from ``FAMCAL_USER_AGENT``); tests shorten timeouts and delays this way.
"""

from __future__ import annotations

from typing import Any

from core import __version__

USER_AGENT = (
    f"famcal/{__version__} (Familienkalender Hannover; +https://github.com/famcal/famcal#contact)"
)

BASE_SETTINGS: dict[str, Any] = {
    "BOT_NAME": "famcal",
    "USER_AGENT": USER_AGENT,
    "ROBOTSTXT_OBEY": True,
    "COOKIES_ENABLED": False,
    "TELNETCONSOLE_ENABLED": False,
    "CONCURRENT_REQUESTS": 8,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 2,
    "DOWNLOAD_DELAY": 1.0,
    "AUTOTHROTTLE_ENABLED": True,
    "AUTOTHROTTLE_START_DELAY": 1.0,
    "AUTOTHROTTLE_MAX_DELAY": 30.0,
    "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0,
    # A hung source must not hold the cron run: bounded time, size, retries and redirects.
    "DOWNLOAD_TIMEOUT": 30,
    "DOWNLOAD_MAXSIZE": 32 * 1024 * 1024,
    "DOWNLOAD_WARNSIZE": 8 * 1024 * 1024,
    "RETRY_TIMES": 2,
    "REDIRECT_MAX_TIMES": 5,
    # RFC 2616 policy revalidates with If-None-Match/If-Modified-Since: an unchanged page
    # costs a 304 on the next run.
    "HTTPCACHE_ENABLED": True,
    "HTTPCACHE_POLICY": "scrapy.extensions.httpcache.RFC2616Policy",
    "HTTPCACHE_STORAGE": "scrapy.extensions.httpcache.FilesystemCacheStorage",
    "HTTPCACHE_IGNORE_HTTP_CODES": [500, 502, 503, 504, 404, 403, 400],
    "LOG_LEVEL": "INFO",
    "FEED_EXPORT_ENCODING": "utf-8",
}


def crawl_settings(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    settings = dict(BASE_SETTINGS)
    settings.update(overrides or {})
    return settings
