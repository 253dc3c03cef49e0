"""The ``jsonld`` source type: pages that carry schema.org Events as JSON-LD or microdata.

Contract:
- ``parse_jsonld_page(html, url, default_timezone=…)`` yields one ``RawEvent``-ready dict per
  schema.org ``Event`` (or subtype: ChildrensEvent, TheaterEvent, …; ``subEvent``s of a
  series too) found on the page, and ``Skip`` values for events it cannot read (no name, no
  or unreadable ``startDate``). JSON-LD may be one object, a list, an ``@graph`` or slightly
  malformed JSON (comments, trailing commas, raw newlines, a broken neighbour script);
  microdata is read too. Extraction is extruct's; a tolerant per-script reader takes over
  when extruct gives up on a page.
- Times: ``startDate`` with an offset stays aware; without one it is naive with
  ``timezone=default_timezone``; a bare date is all-day with an exclusive ``end``.
- ``record_id``: the event's ``@id``, else its ``url``, else the page URL (for microdata
  the first link inside the event's element); ``#startDate`` is added only where one page
  gives several occurrences the same identity.
- Hints as the source states them: ``status`` = ``eventStatus``; ``free`` from
  ``isAccessibleForFree`` or an offer price of 0; ``price`` = the offers' price text;
  ``age_range`` = ``typicalAgeRange``; ``categories`` from ``keywords``.
- ``JsonLdSpider``: without the source option ``link_selector`` each start URL is an event
  page (or a page listing events); with it, the start URL is a listing whose links matching
  that CSS selector are followed and read as event pages (a dead link degrades the source:
  its event keeps its last known state). The selector is read by ``spiders.selectors``: an
  element (``a.ev``, its ``href``) or an explicit ``a.ev::attr(href)``.
- One block that cannot be read at all (JSON-LD nested beyond the parser's stack) is a
  ``Skip`` (``TOO_DEEP``); the page's other blocks and events are kept.
"""

from __future__ import annotations

import html as htmllib
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urljoin

from extruct.jsonld import JsonLdExtractor
from extruct.utils import parse_html
from extruct.w3cmicrodata import MicrodataExtractor
from scrapy.http import Response, TextResponse

from core.model import Location, SourceType
from spiders.base import SourceSpider
from spiders.common import DEFAULT_TIMEZONE, Skip, in_window, web_url
from spiders.selectors import values

# schema.org Event subtypes whose names do not end in "Event".
_EVENT_TYPES = {"Festival", "Hackathon", "CourseInstance", "EventSeries"}
_ADDRESS = re.compile(r"^(.*?),\s*(\d{5})\s+(.+)$")
_FREE_WORDS = {"free", "kostenlos", "gratis", "frei", "eintritt frei"}


def parse_jsonld_page(
    html: str | bytes, url: str, default_timezone: str = DEFAULT_TIMEZONE
) -> Iterator[dict[str, Any] | Skip]:
    if isinstance(html, bytes):
        html = html.decode("utf-8", errors="replace")
    if not html.strip():
        return
    try:
        tree = parse_html(html, encoding="utf-8")
    except Exception:  # lxml's errors for input that is no HTML at all
        return
    if tree is None:
        return
    nodes, skips = _jsonld_items(tree, html)
    yield from skips
    nodes += _microdata_items(tree, url)
    found: list[dict[str, Any]] = []
    for node, fallback_url in _events(nodes):
        try:
            item = _event(node, url, fallback_url, default_timezone)
        except (TypeError, ValueError, AttributeError) as exc:  # this event only
            yield Skip("unreadable event", f"{url}: {exc}")
            continue
        if isinstance(item, Skip):
            yield item
        else:
            found.append(item)
    # Several occurrences of one event on one page share an identity: tell them apart.
    counts = Counter(item["record_id"] for item in found)
    seen: set[tuple[str, str]] = set()
    for item in found:
        key = (item["record_id"], item["start"])
        if key in seen:
            continue  # the same event in JSON-LD and microdata, or twice in a @graph
        seen.add(key)
        if counts[item["record_id"]] > 1:
            item["record_id"] = f"{item['record_id']}#{item['start']}"
        yield item


# --- extraction ------------------------------------------------------------------------


TOO_DEEP = "structured data nested too deep"


def _jsonld_items(tree: Any, html: str) -> tuple[list[Any], list[Skip]]:
    try:
        return list(JsonLdExtractor().extract_items(tree)), []
    except Exception:  # extruct fails the whole page for one bad script: read them one by one
        items: list[Any] = []
        skips: list[Skip] = []
        for number, script in enumerate(tree.xpath('//script[@type="application/ld+json"]')):
            try:
                data = _loads_tolerant(script.text_content() or "")
            except RecursionError:
                # A hostile or broken block (nested beyond Python's stack): that block only.
                skips.append(Skip(TOO_DEEP, f"JSON-LD script {number + 1}"))
                continue
            if isinstance(data, list):
                items.extend(data)
            elif data is not None:
                items.append(data)
        return items, skips


_COMMENT = re.compile(r"^\s*(//[^\n]*|<!--|-->)\s*$|/\*.*?\*/", re.MULTILINE | re.DOTALL)
_TRAILING_COMMA = re.compile(r",\s*([}\]])")


def _loads_tolerant(text: str) -> Any:
    """Read JSON-LD as browsers' search-engine readers do: forgiving, but never guessing."""
    text = text.strip().removeprefix("<![CDATA[").removesuffix("]]>").strip().rstrip(";")
    text = _COMMENT.sub("", text)
    for candidate in (text, _TRAILING_COMMA.sub(r"\1", text)):
        try:
            return json.loads(candidate, strict=False)
        except ValueError:
            pass
    # Several objects one after another (a common CMS concatenation).
    decoder = json.JSONDecoder(strict=False)
    values: list[Any] = []
    position = 0
    cleaned = _TRAILING_COMMA.sub(r"\1", text)
    while position < len(cleaned):
        while position < len(cleaned) and cleaned[position] in " \t\r\n,;":
            position += 1
        if position >= len(cleaned):
            break
        try:
            value, position = decoder.raw_decode(cleaned, position)
        except ValueError:
            break
        values.append(value)
    return values or None


def _microdata_items(tree: Any, url: str) -> list[Any]:
    try:
        raw = MicrodataExtractor(add_html_node=True).extract_items(tree, url)
    except Exception:  # broken microdata must not cost the page's JSON-LD
        return []
    return [_uniform(item) for item in raw]


def _uniform(value: Any) -> Any:
    """Microdata item → the JSON-LD shape (``@type`` + properties), keeping the element's
    first link as a fallback event URL."""
    if isinstance(value, list):
        return [_uniform(v) for v in value]
    if not isinstance(value, dict) or "type" not in value:
        return value
    types = value["type"] if isinstance(value["type"], list) else [value["type"]]
    out: dict[str, Any] = {"@type": [str(t).rstrip("/").rsplit("/", 1)[-1] for t in types]}
    if value.get("id"):
        out["@id"] = value["id"]
    for key, prop in (value.get("properties") or {}).items():
        out[key] = _uniform(prop)
    node = value.get("htmlNode")
    if node is not None:
        links = node.xpath(".//a/@href")
        if links:
            out["_link"] = str(links[0])
    return out


def _types(node: dict[str, Any]) -> list[str]:
    kind = node.get("@type") or node.get("type") or []
    kinds = kind if isinstance(kind, list) else [kind]
    return [str(k).rstrip("/").rsplit("/", 1)[-1] for k in kinds]


def _is_event(node: dict[str, Any]) -> bool:
    return any(t.endswith("Event") or t in _EVENT_TYPES for t in _types(node))


def _events(nodes: Iterable[Any]) -> Iterator[tuple[dict[str, Any], str | None]]:
    """Every Event node, depth first, with the link of the element it came from."""
    stack = list(nodes)
    stack.reverse()
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(reversed(node))
            continue
        if not isinstance(node, dict):
            continue
        if "@graph" in node:
            stack.extend(reversed(node["@graph"] if isinstance(node["@graph"], list) else []))
        if _is_event(node):
            link = node.get("_link")
            subs = _as_list(node.get("subEvent")) + _as_list(node.get("subEvents"))
            if node.get("startDate") or not subs:
                yield node, link if isinstance(link, str) else None
            stack.extend(reversed(subs))
        for element in _as_list(node.get("itemListElement")):
            # ItemList / ListItem wrappers around events on listing pages.
            if isinstance(element, dict):
                stack.append(element.get("item", element))


# --- one event -------------------------------------------------------------------------


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _first(value: Any) -> Any:
    values = _as_list(value)
    return values[0] if values else None


def _text(value: Any) -> str:
    value = _first(value)
    if isinstance(value, dict):
        value = value.get("@value") or value.get("name") or ""
    return htmllib.unescape(str(value)).strip() if value is not None else ""


def _when(text: str) -> tuple[datetime | date, bool]:
    """(value, is_date) of a schema.org date or datetime text."""
    text = text.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return date.fromisoformat(text), True
    # "2026-12-06T11:00" and "2026-12-06 11:00:00+01:00" both occur.
    return datetime.fromisoformat(text.replace(" ", "T", 1)), False


def _event(
    node: dict[str, Any], page_url: str, fallback_url: str | None, default_timezone: str
) -> dict[str, Any] | Skip:
    title = _text(node.get("name"))
    if not title:
        return Skip("event without name", page_url)
    start_text = _text(node.get("startDate"))
    if not start_text:
        return Skip("event without startDate", f"{page_url}: {title}")
    try:
        start, all_day = _when(start_text)
    except ValueError:
        return Skip("unreadable startDate", f"{page_url}: {start_text!r}")
    end_text: str | None = None
    if node.get("endDate"):
        try:
            end, end_is_date = _when(_text(node.get("endDate")))
        except ValueError:
            end, end_is_date = None, False
        if end is not None:
            if all_day:
                last = end.date() if isinstance(end, datetime) else end
                end_text = (last + timedelta(days=1)).isoformat()  # schema.org: inclusive
            elif not end_is_date:
                end_text = end.isoformat()
    elif all_day:
        end_text = (start + timedelta(days=1)).isoformat()
    naive = isinstance(start, datetime) and start.tzinfo is None
    event_url = web_url(urljoin(page_url, _text(node.get("url")))) if node.get("url") else None
    event_url = event_url or (web_url(urljoin(page_url, fallback_url)) if fallback_url else None)
    identity = _text(node.get("@id"))
    record_id = (
        (urljoin(page_url, identity) if identity and not identity.startswith("_:") else "")
        or event_url
        or page_url
    )
    price, free = _offers(node.get("offers"))
    accessible = node.get("isAccessibleForFree")
    if accessible is not None:
        if str(_first(accessible)).strip().lower() in ("true", "1", "yes"):
            free = True
        elif str(_first(accessible)).strip().lower() in ("false", "0", "no"):
            free = False if free is None else free
    return {
        "record_id": record_id,
        "title": title,
        "start": start.isoformat(),
        "end": end_text,
        "timezone": default_timezone if naive else None,
        "all_day": all_day,
        "url": event_url or web_url(page_url),
        "description": _text(node.get("description")),
        "location": _location(node.get("location")),
        "categories": _keywords(node.get("keywords")),
        "price": price,
        "free": free,
        "status": _text(node.get("eventStatus")) or None,
        "age_range": _text(node.get("typicalAgeRange")) or None,
        "image": _image(node.get("image"), page_url),
    }


def _offers(offers: Any) -> tuple[str | None, bool | None]:
    prices: list[str] = []
    free: bool | None = None
    for offer in _as_list(offers):
        if not isinstance(offer, dict):
            continue
        raw = offer.get("price", offer.get("lowPrice"))
        if raw is None or raw == "":
            continue
        text = _text(raw)
        number = text.replace(",", ".").replace("€", "").strip()
        try:
            if float(number) == 0:
                free = True
        except ValueError:
            if text.lower() in _FREE_WORDS:
                free = True
        currency = _text(offer.get("priceCurrency"))
        prices.append(f"{text} {currency}".strip())
    return (" / ".join(dict.fromkeys(prices)) or None), free


def _location(value: Any) -> Location:
    place = _first(value)
    if isinstance(place, str):
        return Location(name=htmllib.unescape(place).strip())
    if not isinstance(place, dict) or "VirtualLocation" in _types(place):
        return Location()
    address = _first(place.get("address"))
    street = postal_code = city = ""
    if isinstance(address, dict):
        street = _text(address.get("streetAddress"))
        postal_code = _text(address.get("postalCode"))
        city = _text(address.get("addressLocality"))
    elif isinstance(address, str):
        street = htmllib.unescape(address).strip()
        # "Hildesheimer Straße 20, 30169 Hannover" as one text.
        match = _ADDRESS.match(street)
        if match:
            street, postal_code, city = match.group(1, 2, 3)
    geo = _first(place.get("geo"))
    lat = lon = None
    if isinstance(geo, dict):
        try:
            lat, lon = float(_text(geo.get("latitude"))), float(_text(geo.get("longitude")))
        except ValueError:
            lat = lon = None
    name = _text(place.get("name"))
    if street and not (postal_code or city) and street == name:
        street = ""
    # Microdata gives "address" as the town alone (e.g. "Hannover"): that is a city.
    if (
        street
        and not postal_code
        and not city
        and " " not in street
        and not any(ch.isdigit() for ch in street)
    ):
        street, city = "", street
    return Location(name=name, street=street, postal_code=postal_code, city=city, lat=lat, lon=lon)


def _keywords(value: Any) -> tuple[str, ...]:
    words: list[str] = []
    for entry in _as_list(value):
        words.extend(w.strip() for w in str(entry).split(","))
    return tuple(dict.fromkeys(htmllib.unescape(w) for w in words if w))


def _image(value: Any, page_url: str) -> str | None:
    image = _first(value)
    if isinstance(image, dict):
        image = image.get("url") or image.get("contentUrl")
    return web_url(urljoin(page_url, str(image))) if image else None


class JsonLdSpider(SourceSpider):
    source_type = SourceType.JSONLD

    def parse_start(self, response: Response) -> Iterable[Any]:
        selector = self.source.options.get("link_selector")
        if not isinstance(response, TextResponse):
            self.fail(f"not an HTML page ({response.url})")
            return
        if not selector:
            yield from self.parse_event_page(response)
            return
        # An element selector ("a.ev") or an explicit "a.ev::attr(href)" alike.
        hrefs = values(response.selector, str(selector), link=True)
        if not hrefs:
            self.skip("no event links on listing", response.url)
        for href in hrefs:
            url = web_url(response.urljoin(href))
            if url:
                # A dead link on the listing costs that event's update, not the source:
                # degraded (the base's errback), the event keeps its last known state.
                yield self.request(url, self.parse_event_page)

    def parse_event_page(self, response: Response) -> Iterable[Any]:
        if not isinstance(response, TextResponse):
            self.skip("not an HTML page", response.url)
            return
        timezone = str(self.source.options.get("timezone") or DEFAULT_TIMEZONE)
        count = 0
        for item in parse_jsonld_page(response.text, response.url, timezone):
            if isinstance(item, Skip):
                self.skip(item.reason, item.detail)
                continue
            count += 1
            if in_window(
                item["start"], item["end"], item["timezone"], self.window_start, self.window_end
            ):
                yield self.make_event(**item)
        if not count:
            self.skip("no schema.org Event on page", response.url)
