"""The ``tribe`` source type: WordPress sites running The Events Calendar (REST API).

Contract:
- A start URL is the API's event list (``…/wp-json/tribe/events/v1/events``, with any query
  the partner needs, e.g. ``?start_date=2026-01-01&per_page=50``).
- ``parse_tribe_page(data, site_timezone)`` returns ``(items, next_url)``: one
  ``RawEvent``-ready dict per visible event (or a ``Skip``) and the page's ``next_rest_url``
  as given (the spider resolves it against the response URL, so relative links work).
- Times: the API's local ``start_date``/``end_date`` ("2026-12-06 11:00:00") stay naive with
  ``timezone`` = the event's own ``timezone`` field when present, else ``site_timezone`` (the
  source option ``timezone``, else Europe/Berlin). ``all_day`` events get bare dates and an
  exclusive end (the API's "23:59:59" end day plus one).
- ``record_id`` is the event ``id``; instances of a recurring event (Events Calendar Pro
  gives each its own id and a dated URL) add their start date.
- HTML entities in titles, venues, costs and categories are decoded; the description stays
  HTML (the normalizer cleans it). Hidden (``hide_from_listings``) and unpublished events are
  skipped with a counted reason. ``cost`` "Free"/"kostenlos"/"0" sets ``free``.
- An answer that is not UTF-8 (latin-1 sent as UTF-8) is read as cp1252/latin-1 and counted
  as ``repaired``. ``next_rest_url`` is followed within the source's ``max_pages`` and
  ``max_bytes`` budgets (``spiders.budget``); an API page that cannot be fetched after the
  first degrades the source.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from scrapy.http import Response

from core.model import Location, SourceType
from spiders.base import SourceSpider
from spiders.common import DEFAULT_TIMEZONE, Skip, decode_repaired, in_window, web_url

_FREE = {"free", "kostenlos", "gratis", "frei", "eintritt frei", "0", "0,00", "0.00", "0,-"}
_DATED_URL = re.compile(r"/\d{4}-\d{2}-\d{2}/?$")


def parse_tribe_page(
    data: dict[str, Any], site_timezone: str = DEFAULT_TIMEZONE
) -> tuple[list[dict[str, Any] | Skip], str | None]:
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        raise ValueError("not a The Events Calendar answer (no 'events' list)")
    items: list[dict[str, Any] | Skip] = []
    for event in data["events"]:
        try:
            items.append(_event(event, site_timezone))
        except (KeyError, TypeError, ValueError) as exc:  # one unreadable event, not the page
            ident = event.get("id", "?") if isinstance(event, dict) else "?"
            items.append(Skip("unreadable event", f"id {ident}: {exc}"))
    next_url = data.get("next_rest_url")
    return items, next_url if isinstance(next_url, str) and next_url else None


def _text(value: Any) -> str:
    return html.unescape(str(value)).strip() if value not in (None, False) else ""


def _event(event: dict[str, Any], site_timezone: str) -> dict[str, Any] | Skip:
    ident = event["id"]
    if event.get("hide_from_listings"):
        return Skip("hidden event", f"id {ident}")
    if event.get("status") not in (None, "publish"):
        return Skip("unpublished event", f"id {ident}: {event.get('status')}")
    start = datetime.fromisoformat(str(event["start_date"]))
    end = datetime.fromisoformat(str(event["end_date"])) if event.get("end_date") else None
    all_day = bool(event.get("all_day"))
    start_text: str
    end_text: str | None
    if all_day:
        start_text = start.date().isoformat()
        last: date = end.date() if end is not None else start.date()
        end_text = (last + timedelta(days=1)).isoformat()  # exclusive, as in ICS
    else:
        start_text = start.isoformat()
        end_text = end.isoformat() if end is not None else None
    url = _text(event.get("url"))
    recurring = bool(event.get("recurring") or event.get("is_recurring")) or bool(
        _DATED_URL.search(url)
    )
    timezone = event.get("timezone") if isinstance(event.get("timezone"), str) else None
    cost = _text(event.get("cost"))
    return {
        "record_id": f"{ident}#{start.date().isoformat()}" if recurring else str(ident),
        "title": _text(event.get("title")),
        "start": start_text,
        "end": end_text,
        "timezone": None if all_day else (timezone or site_timezone),
        "all_day": all_day,
        "url": web_url(url),
        "description": str(event.get("description") or ""),
        "location": _venue(event.get("venue")),
        "categories": tuple(
            _text(c.get("name")) for c in event.get("categories") or [] if isinstance(c, dict)
        ),
        "price": cost or None,
        "free": _free(cost, event.get("cost_details")),
        "status": _status(event),
        "image": _image(event.get("image")),
    }


def _free(cost: str, details: Any) -> bool | None:
    if cost.lower().rstrip(" €").strip() in _FREE:
        return True
    values = details.get("values") if isinstance(details, dict) else None
    zero = ("0", "0.00")
    if cost and isinstance(values, list) and values and all(str(v) in zero for v in values):
        return True
    return None


def _venue(venue: Any) -> Location:
    if isinstance(venue, list):  # some versions list several venues; the first is the place
        venue = venue[0] if venue else None
    if not isinstance(venue, dict):
        return Location()

    def number(value: Any) -> float | None:
        try:
            return float(value) if value not in (None, "") else None
        except (TypeError, ValueError):
            return None

    return Location(
        name=_text(venue.get("venue")),
        street=_text(venue.get("address")),
        postal_code=_text(venue.get("zip")),
        city=_text(venue.get("city")),
        lat=number(venue.get("geo_lat")),
        lon=number(venue.get("geo_lng")),
    )


def _status(event: dict[str, Any]) -> str | None:
    # The Events Calendar 5.11+ "event status" (scheduled, canceled, postponed) when exposed.
    for key in ("event_status", "status_reason"):
        value = event.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _image(image: Any) -> str | None:
    if isinstance(image, dict) and isinstance(image.get("url"), str):
        return str(image["url"])
    return None


class TribeSpider(SourceSpider):
    source_type = SourceType.TRIBE

    def parse_start(self, response: Response) -> Iterable[Any]:
        timezone = str(self.source.options.get("timezone") or DEFAULT_TIMEZONE)
        text, repaired = decode_repaired(response.body)
        if repaired:
            self.repaired(f"{repaired} ({response.url})")
        try:
            data = json.loads(text)
            items, next_url = parse_tribe_page(data, timezone)
        except (RecursionError, ValueError) as exc:
            self.fail(f"not a The Events Calendar REST answer: {exc} ({response.url})")
            return
        for item in items:
            if isinstance(item, Skip):
                self.skip(item.reason, item.detail)
            elif in_window(
                item["start"], item["end"], item["timezone"], self.window_start, self.window_end
            ):
                yield self.make_event(**item)
        if next_url:
            # Resolved against the response, so sites behind proxies and snapshots work.
            yield self.request(response.urljoin(next_url), self.parse_start)
