"""Scrapy settings for famcal crawls: polite, bounded, cache-aware — the project's settings module.

Contract: the module-level upper-case names are the settings, read by Scrapy's own tools
(``scrapy.cfg`` names this module: ``scrapy list``, ``scrapy crawl <id>``, Scrapyd) and by
famcal's crawl worker alike: ``crawl_settings(overrides)`` returns them as a dict with the
run's overrides on top (the CLI passes ``HTTPCACHE_DIR`` next to the database; tests and the
demo shorten timeouts and delays this way). The spiders are one per source of the sources
file ``FAMCAL_SOURCES`` (``spiders.loader``; ``-s FAMCAL_SOURCES=…`` names another file).
``FAMCAL_USER_AGENT`` in the environment replaces the User-Agent, for ``famcal`` and Scrapy.

- The cache revalidates every stored URL on every run and never answers a failed fetch
  from the cache (``spiders.httpcache``).
- Budgets and ``Retry-After`` are ``spiders.budget``'s; ``max_seconds`` is Scrapy's
  ``CLOSESPIDER_TIMEOUT``, set per source by ``spiders.worker``.
- Only the extensions a cron crawl needs run (``EXTENSIONS_RUN``, not a setting):
  statistics, the periodic "Crawled N pages" line, log counts, close-on-timeout and
  AutoThrottle. The remote control server (Scrapy 2.19, an HTTP endpoint that runs code), the
  telnet console, memory watchers, spider state and feed exports are off, and not even
  imported (``EXTENSIONS_BASE``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from core import __version__

BOT_NAME = "famcal"
SPIDER_LOADER_CLASS = "spiders.loader.SourceSpiderLoader"
FAMCAL_SOURCES = "data/sources.toml"
USER_AGENT = os.environ.get("FAMCAL_USER_AGENT") or (
    f"famcal/{__version__} (Familienkalender Hannover; +https://github.com/famcal/famcal#contact)"
)
ROBOTSTXT_OBEY = True
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
# A hung source must not hold the cron run: bounded time, size, retries and redirects.
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 32 * 1024 * 1024
DOWNLOAD_WARNSIZE = 8 * 1024 * 1024
RETRY_TIMES = 2
REDIRECT_MAX_TIMES = 5
# Every stored URL is asked again with If-None-Match/If-Modified-Since on every run: an
# unchanged page costs a 304, a failure is a failure (never the stored copy).
HTTPCACHE_ENABLED = True
HTTPCACHE_POLICY = "spiders.httpcache.RevalidatePolicy"
HTTPCACHE_STORAGE = "scrapy.extensions.httpcache.FilesystemCacheStorage"
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.httpcache.HttpCacheMiddleware": None,
    "spiders.httpcache.RevalidatingCacheMiddleware": 900,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "spiders.budget.RetryAfterMiddleware": 550,
    # Next to the downloader: it sees the raw answers (a 304 reads no bytes).
    "spiders.budget.BudgetMiddleware": 950,
}
# A Retry-After wait longer than this is not waited for: the fetch fails this run.
RETRY_AFTER_MAX = 60.0
REMOTE_CONTROL_ENABLED = False
# What runs in a crawl with these settings (tests/test_crawl_e2e.py holds every crawl to it).
EXTENSIONS_RUN = frozenset(
    {
        "scrapy.extensions.corestats.CoreStats",
        "scrapy.extensions.logstats.LogStats",
        "scrapy.extensions.logcount.LogCount",
        "scrapy.extensions.closespider.CloseSpider",
        "scrapy.extensions.throttle.AutoThrottle",
    }
)
# Those alone, in place of Scrapy's base list: an extension switched off with ``None`` in
# EXTENSIONS is still imported (to match its name), and the remote control's import (aiohttp)
# took 0.15–0.25 s of every crawl's start. Its priorities are the base list's (all 0).
EXTENSIONS_BASE = dict.fromkeys(sorted(EXTENSIONS_RUN), 0)
# Next to the default database (data/events.db), as ``famcal crawl`` keeps it; absolute,
# since Scrapy puts a relative one inside its own .scrapy folder.
HTTPCACHE_DIR = str(Path("data/httpcache").resolve())
LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"

_NOT_SETTINGS = ("BASE_SETTINGS", "EXTENSIONS_RUN")
BASE_SETTINGS: dict[str, Any] = {
    name: value for name, value in globals().items() if name.isupper() and name not in _NOT_SETTINGS
}


def crawl_settings(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    settings = dict(BASE_SETTINGS)
    settings.update(overrides or {})
    return settings
