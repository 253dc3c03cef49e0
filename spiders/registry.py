"""Which spider class reads which source type (imported lazily: a source type's
dependencies load only when a source of that type is crawled)."""

from __future__ import annotations

import importlib

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
