"""Scrapy settings for famcal crawls: polite, bounded, cache-aware — the project's settings module.

Contract: the module-level upper-case names are the settings, read by Scrapy's own tools
(``scrapy.cfg`` names this module: ``scrapy list``, ``scrapy crawl <id>``, Scrapyd) and by
famcal's crawl worker alike: ``crawl_settings(overrides)`` returns them as a dict with the
run's overrides on top (the CLI passes ``HTTPCACHE_DIR`` next to the database; tests and the
demo shorten timeouts and delays this way). The spiders are one per source of the sources
file ``FAMCAL_SOURCES`` (``spiders.loader``; ``-s FAMCAL_SOURCES=…`` names another file).
``FAMCAL_USER_AGENT`` in the environment replaces the User-Agent, for ``famcal`` and Scrapy.
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
# RFC 2616 policy revalidates with If-None-Match/If-Modified-Since: an unchanged page
# costs a 304 on the next run.
HTTPCACHE_ENABLED = True
HTTPCACHE_POLICY = "scrapy.extensions.httpcache.RFC2616Policy"
HTTPCACHE_STORAGE = "scrapy.extensions.httpcache.FilesystemCacheStorage"
HTTPCACHE_IGNORE_HTTP_CODES = [500, 502, 503, 504, 404, 403, 400]
# Next to the default database (data/events.db), as ``famcal crawl`` keeps it; absolute,
# since Scrapy puts a relative one inside its own .scrapy folder.
HTTPCACHE_DIR = str(Path("data/httpcache").resolve())
LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"

BASE_SETTINGS: dict[str, Any] = {
    name: value for name, value in globals().items() if name.isupper() and name != "BASE_SETTINGS"
}


def crawl_settings(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    settings = dict(BASE_SETTINGS)
    settings.update(overrides or {})
    return settings
