"""Which spider class reads which source type, and the spider class of one source.

Contract: ``spider_class(type)`` is the type's spider (imported lazily: a source type's
dependencies load only when a source of that type is crawled). ``source_spider(source)`` is
a subclass of it for that one source: named by the source's id, with the source's politeness
delay (``download_delay``; an explicit run-wide ``DOWNLOAD_DELAY`` passed in wins) and the
source's configuration as the default ``source`` argument — the class both the crawl worker
and Scrapy's own tools (``spiders.loader``) run.
"""

from __future__ import annotations

import importlib
from typing import Any

from core.config import SourceConfig
from core.model import SourceType
from spiders.base import SourceSpider

_SPIDERS: dict[SourceType, str] = {
    SourceType.ICS: "spiders.ics:IcsSpider",
    SourceType.HANNOVER_DE: "spiders.hannover_de:HannoverDeSpider",
    SourceType.JSONLD: "spiders.jsonld:JsonLdSpider",
    SourceType.TRIBE: "spiders.tribe:TribeSpider",
    SourceType.WORDPRESS: "spiders.wordpress:WordpressSpider",
    SourceType.HTML: "spiders.html:HtmlSpider",
}


def spider_class(source_type: SourceType) -> type[SourceSpider]:
    module_name, _, class_name = _SPIDERS[source_type].partition(":")
    cls: type[SourceSpider] = getattr(importlib.import_module(module_name), class_name)
    return cls


def source_spider(
    source: SourceConfig, *, delay: float | None = None, seconds: float | None = None
) -> type[SourceSpider]:
    """The spider class of ``source``; ``delay``: a run-wide DOWNLOAD_DELAY override;
    ``seconds``: how long it may crawl (default its ``max_seconds``; Scrapy's
    CLOSESPIDER_TIMEOUT closes it then)."""
    base = spider_class(source.type)

    def __init__(self: SourceSpider, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("source", source)
        base.__init__(self, *args, **kwargs)

    return type(
        f"{base.__name__}_{source.id.replace('-', '_')}",
        (base,),
        {
            "name": source.id,
            "__init__": __init__,
            "custom_settings": {
                **(base.custom_settings or {}),
                "DOWNLOAD_DELAY": source.download_delay if delay is None else delay,
                "CLOSESPIDER_TIMEOUT": float(source.max_seconds if seconds is None else seconds),
            },
        },
    )
