"""JSON Feed 1.1 writing with the ``_event`` extension of contract.md.

Contract:
- ``item(event) -> dict`` is one event's item; ``dump_item(item) -> str`` its JSON text (one
  line, sorted keys). Publishing serializes each event's item once and every feed that holds
  the event splices that same text in.
- ``feed(title=, description=, items=, feed_url=, home_page_url=) -> bytes`` is the whole
  document from serialized items, deterministic (sorted keys, no build time inside), one item
  per line so that diffs between runs stay readable. ``feed_chunks`` gives the same bytes in
  pieces, for writing a large feed without holding it whole.
- ``date_modified`` (the last change), ``date_published`` (when famcal first published the
  event) and ``url`` are left out when unknown (JSON Feed wants strings there).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC
from typing import Any

from core.model import Event, Tags
from core.urls import safe_url
from feeds.labels import describe_event

VERSION = "https://jsonfeed.org/version/1.1"


def event_span(event: Event) -> dict[str, str | None]:
    """The ``start`` and ``end`` of the ``_event`` object, alone: what
    ``feeds.filters.local_dates`` and ``end_instant`` read, made without the rest."""
    return {"start": event.start.isoformat(), "end": event.end.isoformat() if event.end else None}


def event_object(event: Event) -> dict[str, Any]:
    """The ``_event`` object: the event's own fields, then every tag field as ``Tags.to_dict``
    writes it (the tag declaration decides which; see ``feeds.schema``)."""
    tags = event.tags or Tags()
    updated = event.updated.astimezone(UTC).isoformat() if event.updated else None
    return {
        "uid": event.uid,
        "title": event.title,
        "description": event.description,
        **event_span(event),
        "all_day": event.all_day,
        "location": {
            "name": event.location.name or None,
            "street": event.location.street or None,
            "postal_code": event.location.postal_code or None,
            "city": event.location.city or None,
            "lat": event.location.lat,
            "lon": event.location.lon,
        },
        **tags.to_dict(),
        "categories": list(event.categories),
        "sources": [{"id": s.id, "url": safe_url(s.url)} for s in event.sources],
        "url": safe_url(event.url),
        "sequence": event.sequence,
        "updated": updated,
    }


def item(event: Event) -> dict[str, Any]:
    obj = event_object(event)
    tags = [*obj["topics"], *obj["age_groups"], *obj["audiences"]]
    if obj["district"]:
        tags.append(obj["district"])
    if obj["free"]:
        tags.append("kostenlos")
    result: dict[str, Any] = {
        "id": event.uid,
        "title": event.title,
        "content_text": describe_event(event),
        "tags": tags,
        "_event": obj,
    }
    if obj["updated"]:
        result["date_modified"] = obj["updated"]
    if published := event.created or event.updated:
        result["date_published"] = published.astimezone(UTC).isoformat()
    if obj["url"]:
        result["url"] = obj["url"]
    if image := safe_url(event.image):
        result["image"] = image
    return result


def dump_item(item: dict[str, Any]) -> str:
    """One item as JSON text: the form every feed reuses (serialize once per event)."""
    return json.dumps(item, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def feed_chunks(
    *,
    title: str,
    description: str,
    items: Iterable[str | bytes],
    feed_url: str | None = None,
    home_page_url: str | None = None,
) -> Iterator[bytes]:
    """The JSON Feed document around already serialized items (``dump_item``, or its UTF-8),
    in pieces (head, each item, end), so a large feed can be written without being held
    whole."""
    document: dict[str, Any] = {
        "version": VERSION,
        "title": title,
        "description": description,
        "language": "de",
        "_event": {"about": "famcal event extension: see contract.md, 'JSON Feed items'"},
    }
    if feed_url:
        document["feed_url"] = feed_url
    if home_page_url:
        document["home_page_url"] = home_page_url
    head = json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True)
    # Splice the items in as the last member: "{...\n}" -> "{..., "items": [...]\n}".
    yield f'{head[:-2]},\n "items": '.encode()
    separator = b"[\n"
    for item in items:
        yield separator + (item.encode() if isinstance(item, str) else item)
        separator = b",\n"
    yield b"[]\n}\n" if separator == b"[\n" else b"\n ]\n}\n"


def feed(
    *,
    title: str,
    description: str,
    items: Iterable[str],
    feed_url: str | None = None,
    home_page_url: str | None = None,
) -> bytes:
    """The whole JSON Feed document as bytes (``feed_chunks`` joined)."""
    return b"".join(
        feed_chunks(
            title=title,
            description=description,
            items=items,
            feed_url=feed_url,
            home_page_url=home_page_url,
        )
    )
