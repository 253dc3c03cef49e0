"""schema.org ``Event`` JSON-LD: what search engines read on event pages (feeds.md, "JSON").

Contract:
- ``event_jsonld(event) -> dict``: one schema.org Event with ``name``, ``startDate`` (ISO
  with offset; a date for all-day events), ``endDate`` (for all-day events the last day,
  inclusive as schema.org reads it, not the exclusive ICS end), ``eventStatus``,
  ``eventAttendanceMode``, ``location`` (Place with PostalAddress and GeoCoordinates where
  known), ``url``, ``image``, ``description``, ``typicalAgeRange`` ("4-", "6-12", "-10"),
  ``isAccessibleForFree`` and ``offers`` where known, ``keywords`` (German topic names) and
  ``identifier`` (the stable UID). Unknown values are left out, never null.
- ``document(events) -> bytes``: ``{"@context": "https://schema.org", "@graph": [...]}`` from
  already serialized events (``dump(event_jsonld(e))``), deterministic; ``document_chunks``
  gives the same bytes in pieces from the events' UTF-8.
- ``script_tag(objects) -> str``: a ``<script type="application/ld+json">`` block safe to embed
  in HTML (``<``, ``>`` and ``&`` escaped as JSON unicode escapes, so source text cannot close
  the script element).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from datetime import timedelta
from typing import Any

from core.model import Event, Status, Tags
from core.urls import safe_url
from feeds.labels import CATEGORY_LABELS, price_text

CONTEXT = "https://schema.org"
_STATUS = {
    Status.SCHEDULED: "https://schema.org/EventScheduled",
    Status.CANCELLED: "https://schema.org/EventCancelled",
    Status.POSTPONED: "https://schema.org/EventPostponed",
}


def _age_range(tags: Tags) -> str | None:
    if tags.age_min is None and tags.age_max is None:
        return None
    low = "" if tags.age_min is None else str(tags.age_min)
    high = "" if tags.age_max is None else str(tags.age_max)
    return f"{low}-{high}"


def _location(event: Event) -> dict[str, Any] | None:
    place = event.location
    if place.is_empty():
        return None
    result: dict[str, Any] = {"@type": "Place", "name": place.name or place.one_line()}
    address = {
        "streetAddress": place.street,
        "postalCode": place.postal_code,
        "addressLocality": place.city,
    }
    address = {k: v for k, v in address.items() if v}
    if address:
        result["address"] = {"@type": "PostalAddress", **address, "addressCountry": "DE"}
    if place.lat is not None and place.lon is not None:
        result["geo"] = {"@type": "GeoCoordinates", "latitude": place.lat, "longitude": place.lon}
    return result


def event_jsonld(event: Event) -> dict[str, Any]:
    tags = event.tags or Tags()
    result: dict[str, Any] = {
        "@type": "Event",
        "identifier": event.uid,
        "name": event.title,
        "startDate": event.start.isoformat(),
        "eventStatus": _STATUS[tags.status],
        "eventAttendanceMode": "https://schema.org/OfflineEventAttendanceMode",
    }
    if event.end is not None:
        # ICS all-day ends are exclusive; schema.org's endDate is the last day itself.
        end = event.end - timedelta(days=1) if event.all_day else event.end
        result["endDate"] = end.isoformat()
    if event.description:
        result["description"] = event.description
    if url := safe_url(event.url):
        result["url"] = url
    if image := safe_url(event.image):
        result["image"] = image
    if (location := _location(event)) is not None:
        result["location"] = location
    if (ages := _age_range(tags)) is not None:
        result["typicalAgeRange"] = ages
    if tags.free is not None:
        result["isAccessibleForFree"] = tags.free
    if tags.free:
        result["offers"] = {"@type": "Offer", "price": 0, "priceCurrency": "EUR"}
    elif event.price:
        offer: dict[str, Any] = {"@type": "Offer", "description": price_text(event)}
        if (amount := price_amount(event.price)) is not None:
            offer |= {"price": amount, "priceCurrency": "EUR"}
        result["offers"] = offer
    if organizer := _organizer(event):
        result["organizer"] = organizer
    if tags.topics:
        result["keywords"] = ", ".join(CATEGORY_LABELS.get(t, t) for t in tags.topics)
    return result


# "5 €", "3,50 Euro", "EUR 12", "€ 4": the amounts of a price text in euros.
_AMOUNT = re.compile(
    r"(?:(?:€|eur)\s*(\d+(?:[.,]\d{1,2})?))|(?:(\d+(?:[.,]\d{1,2})?)\s*(?:€|eur(?:o)?\b))",
    re.IGNORECASE,
)


def price_amount(text: str) -> float | int | None:
    """The lowest euro amount a price text names (schema.org ``Offer.price``), else None."""
    amounts = [float((a or b).replace(",", ".")) for a, b in _AMOUNT.findall(text) if (a or b)]
    if not amounts:
        return None
    low = min(amounts)
    return int(low) if low.is_integer() else low


def _organizer(event: Event) -> dict[str, Any] | None:
    """Who holds the event, as far as the data says: the listing source's name (with its
    link), else the venue."""
    ref = event.sources[0] if event.sources else None
    if ref is not None and ref.name:
        organizer: dict[str, Any] = {"@type": "Organization", "name": ref.name}
        if url := safe_url(ref.url):
            organizer["url"] = url
        return organizer
    if event.location.name:
        return {"@type": "Organization", "name": event.location.name}
    return None


def dump(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def document(serialized: Iterable[str]) -> bytes:
    body = ",\n".join(serialized)
    graph = f"[\n{body}\n]" if body else "[]"
    return f'{{"@context":"{CONTEXT}",\n"@graph":{graph}}}\n'.encode()


def document_chunks(serialized: Iterable[bytes]) -> Iterator[bytes]:
    """``document`` in pieces (head, each event, end) from the events' UTF-8."""
    yield f'{{"@context":"{CONTEXT}",\n"@graph":'.encode()
    separator = b"[\n"
    for event in serialized:
        yield separator + event
        separator = b",\n"
    yield b"[]}\n" if separator == b"[\n" else b"\n]}\n"


def script_tag(objects: Iterable[dict[str, Any]]) -> str:
    graph = [{"@context": CONTEXT, **obj} for obj in objects]
    text = json.dumps(graph, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    # JSON allows \uXXXX anywhere in strings; HTML then never sees "</script" or "<!--".
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f'<script type="application/ld+json">{text}</script>'
