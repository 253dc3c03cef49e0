"""The spider loader of Scrapy's own tools: one spider per source of the sources file.

Contract: ``SourceSpiderLoader`` (``SPIDER_LOADER_CLASS`` in ``spiders.settings``) lists the
ids of the sources file named by the ``FAMCAL_SOURCES`` setting (``scrapy list``) and loads
each as its source's spider class (``spiders.registry.source_spider``), so that
``scrapy crawl <id>`` runs that source as ``famcal crawl`` would, with the project settings.
Such a crawl reads the window ``famcal crawl`` reads around ``-a now=<ISO 8601>`` (default:
the current time — Scrapy's command line is the caller here), or ``-a window_start=…
-a window_end=…``; it does not know the store, so it never skips an unchanged document.
A sources file that cannot be read is a ``ConfigError`` naming the file and key, raised when
a spider is first listed or loaded: famcal's crawl child builds its spiders from the job it is
given and never asks the loader, so it must not need a sources file in its working directory
(a cron job's ``famcal run --sources /etc/…`` runs from anywhere).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Self

from scrapy.crawler import Crawler
from scrapy.http import Request
from scrapy.settings import BaseSettings

from core.config import SourceConfig, load_sources
from core.model import BERLIN
from core.window import crawl_window
from spiders.base import SourceSpider
from spiders.registry import source_spider


def _when(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=BERLIN)


_Names = list[str]  # (``list`` is a method name below)


class SourceSpiderLoader:
    def __init__(self, settings: BaseSettings) -> None:
        self._path = Path(settings.get("FAMCAL_SOURCES") or "data/sources.toml")
        self._sources: dict[str, SourceConfig] | None = None

    @property
    def sources(self) -> dict[str, SourceConfig]:
        # Read on first use, not when Scrapy builds the loader (see the module's contract).
        if self._sources is None:
            self._sources = {s.id: s for s in load_sources(self._path)}
        return self._sources

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> Self:
        return cls(settings)

    def list(self) -> _Names:
        return list(self.sources)

    def load(self, spider_name: str) -> type[SourceSpider]:
        try:
            source = self.sources[spider_name]
        except KeyError:
            raise KeyError(f"Spider not found: {spider_name}") from None
        base = source_spider(source)

        @classmethod  # type: ignore[misc]
        def from_crawler(
            cls: type[SourceSpider], crawler: Crawler, *args: Any, **kwargs: Any
        ) -> Any:
            # Spider arguments from the command line arrive as text.
            start, end = crawl_window(
                _when(kwargs.pop("now")) if "now" in kwargs else datetime.now(BERLIN)
            )
            kwargs["window_start"] = (
                _when(kwargs["window_start"]) if "window_start" in kwargs else start
            )
            kwargs["window_end"] = _when(kwargs["window_end"]) if "window_end" in kwargs else end
            return super(command_line, cls).from_crawler(crawler, *args, **kwargs)

        command_line: type[SourceSpider] = type(
            base.__name__, (base,), {"from_crawler": from_crawler}
        )
        return command_line

    def find_by_request(self, request: Request) -> _Names:
        return [
            sid
            for sid, source in self.sources.items()
            if any(request.url.startswith(u) for u in source.start_urls)
        ]
