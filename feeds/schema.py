"""The JSON Schema of the ``_event`` object (contract.md, "JSON Feed items").

Contract: ``event_schema()`` is ``data/schema/event.schema.json`` (the event's own fields:
uid, times, location, sources, …) with one property per tag field added from the tag
declaration (``core.tagfields.TAG_FIELDS``), every one required: the schema's enums are the
code's vocabularies by construction.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from core.model import TagKind
from core.paths import data_file
from core.tagfields import TAG_FIELDS


@cache
def event_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(data_file("schema", "event.schema.json").read_text())
    for tag in TAG_FIELDS:
        prop = tag.schema()
        if tag.kind is TagKind.SLUGS:
            prop["uniqueItems"] = True
        if tag.kind is TagKind.NUMBER:
            prop["maximum"] = 120
        schema["properties"][tag.name] = prop
        schema["required"].append(tag.name)
    return schema
