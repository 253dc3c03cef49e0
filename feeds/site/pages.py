"""The site's pages, rendered from the templates of ``data/site/templates`` (no I/O).

Contract: each function returns one page's text, the same text for the same input (no
clock: "now" is an argument, and only the list pages read it).
- ``index_page(lang, cards, ...)``: the list page of one language — the controls made from
  ``feeds.filters.FACETS`` (``name`` = the filter's parameter), the next events as static
  cards by day, links to the district and age pages, and the subscription builder with the
  feed directory.
- ``list_page(heading, feed, cards)``: one district's or age group's events (the page a
  visitor without JavaScript reaches from the index).
- ``event_page(event, series, sources)``: ``termine/<key>.html``.
- ``health_page(document)``: ``health.html`` from ``feeds.health.health_document``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import groupby
from typing import Any
from urllib.parse import quote, urlencode

from babel.dates import format_date
from markupsafe import Markup

from core.ages import OLDEST
from core.model import Event
from core.urls import safe_url
from feeds import jsonld
from feeds.filters import BY_PARAM, DAY_WORDS
from feeds.labels import ages_text, labels
from feeds.site.entries import Card, card, event_key, german_day, german_time
from feeds.site.i18n import LANGUAGES, SOURCE_LANGUAGE, environment, translations

# The strings the script needs besides those in the page's controls.
SCRIPT_TEXTS = (
    "ganztägig", "kostenlos", "AktivPass", "abgesagt", "verschoben", "%(lo)s bis %(hi)s Jahre",
    "ab %(lo)s Jahren", "bis %(hi)s Jahre", "Keine passenden Termine.", "Mehr anzeigen",
    "%(n)s Termine", "1 Termin", "Termine laden …", "ausgebucht", "+ Kalender",
    "mindestens %(n)s Termine", "alle Familientermine",
)  # fmt: skip
DAY_LABELS = {"heute": "heute", "morgen": "morgen", "wochenende": "am Wochenende",
              "woche": "diese Woche"}  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class DirectoryFeed:
    path: str
    label: str
    count: int


def root_of(lang: str) -> str:
    return "" if lang == SOURCE_LANGUAGE else "../"


def day_groups(cards: Sequence[Card], lang: str) -> list[tuple[str, list[Card]]]:
    return [
        (format_date(day, "EEEE, d. MMMM", locale=lang), list(items))
        for day, items in groupby(cards, key=lambda c: c.day)
    ]


def _facet_options(lang: str) -> dict[str, list[tuple[str, str]]]:
    gettext = translations(lang).gettext
    names = labels()
    return {
        param: [(v, gettext(names[facet.labels][v])) for v in facet.values]
        for param, facet in BY_PARAM.items()
        if facet.labels
    }


def subscribe_links(path: str, base_url: str | None) -> dict[str, str | None]:
    """The https (or relative), webcal and Google Calendar addresses of one feed."""
    if not base_url:
        return {"https": f"{path}.ics", "webcal": None, "google": None}
    https = f"{base_url.rstrip('/')}/{path}.ics"
    webcal = "webcal://" + https.split("://", 1)[1]
    google = "https://calendar.google.com/calendar/render?cid=" + quote(webcal, safe="")
    return {"https": https, "webcal": webcal, "google": google}


def index_page(
    lang: str,
    cards: Sequence[Card],
    *,
    more: bool,
    directory: Sequence[tuple[str, Sequence[DirectoryFeed]]],
    base_url: str | None,
) -> str:
    gettext = translations(lang).gettext
    root = root_of(lang)
    languages = [
        {
            "code": other.code,
            "name": other.name,
            "href": root
            + ("index.html" if other.code == SOURCE_LANGUAGE else f"{other.code}/index.html"),
        }
        for other in LANGUAGES
    ]
    texts = {text: gettext(text) for text in SCRIPT_TEXTS}
    # In a <script> element: "<" never reaches the HTML parser as such.
    texts_json = json.dumps(texts, ensure_ascii=False, sort_keys=True).replace("<", "\\u003c")
    language = next(lg for lg in LANGUAGES if lg.code == lang)
    return environment(lang).get_template("index.html").render(
        lang=lang,
        rtl=language.rtl,
        root=root,
        home=root + "index.html" if lang == SOURCE_LANGUAGE else "index.html",
        languages=languages,
        ages=range(OLDEST + 1),
        facets=_facet_options(lang),
        day_words=[(w, gettext(DAY_LABELS[w])) for w in DAY_WORDS],
        groups=day_groups(cards, lang),
        more=more,
        directory=directory,
        base_url=base_url,
        subscribe=subscribe_links(root + "familie" if not base_url else "familie", base_url),
        texts_json=_markup(texts_json),
    )


def list_page(heading: str, feed: str, cards: Sequence[Card], *, more: bool = False) -> str:
    return environment().get_template("list.html").render(
        lang=SOURCE_LANGUAGE,
        rtl=False,
        root="../",
        home="../index.html",
        heading=heading,
        feed=feed,
        more=more,
        groups=day_groups(cards, SOURCE_LANGUAGE),
    )


def osm_link(event: Event) -> str:
    place = event.location
    if place.lat is not None and place.lon is not None:
        return (
            f"https://www.openstreetmap.org/?mlat={place.lat:.5f}&mlon={place.lon:.5f}"
            f"#map=17/{place.lat:.5f}/{place.lon:.5f}"
        )
    return "https://www.openstreetmap.org/search?" + urlencode({"query": place.one_line()})


def _google_dates(event: Event) -> str:
    if event.all_day:
        start = event.start if isinstance(event.start, date) else event.start.date()
        end = event.end if isinstance(event.end, date) else start + timedelta(days=1)
        return f"{start:%Y%m%d}/{end:%Y%m%d}"
    begin = event.start_datetime().astimezone(UTC)
    end_dt = event.end if isinstance(event.end, datetime) else event.start_datetime()
    return f"{begin:%Y%m%dT%H%M%SZ}/{end_dt.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def google_link(event: Event) -> str:
    """Google Calendar's "add event" form, filled in."""
    details = event.description[:600]
    if url := safe_url(event.url):
        details = f"{details}\n\n{url}".strip()
    query = {
        "action": "TEMPLATE",
        "text": event.title,
        "dates": _google_dates(event),
        "ctz": "Europe/Berlin",
        "details": details,
        "location": event.location.one_line(),
    }
    return "https://calendar.google.com/calendar/render?" + urlencode(query)


def event_page(
    event: Event,
    *,
    series: Sequence[Event],
    source_names: Mapping[str, str],
) -> str:
    place = event.location
    town = " ".join(p for p in (place.postal_code, place.city) if p)
    address = ", ".join(p for p in (place.street, town) if p)
    sources = [
        {"name": source_names.get(ref.id, ref.id), "url": safe_url(ref.url) or safe_url(event.url)}
        for ref in event.sources
    ] or [{"name": "", "url": safe_url(event.url)}]
    start = event.start_datetime()
    return environment().get_template("event.html").render(
        lang=SOURCE_LANGUAGE,
        rtl=False,
        root="../",
        home="../index.html",
        e=event,
        c=card(event),
        day=german_day(start.date()),
        time=german_time(event),
        place={"name": place.name or address, "address": address if place.name else ""}
        if not place.is_empty()
        else None,
        osm=osm_link(event),
        ages=ages_text(event),
        google=google_link(event),
        series=[
            (f"{german_day(o.start_datetime().date())}, {german_time(o)}", event_key(o.uid))
            for o in series
            if o.uid != event.uid
        ],
        sources=sources,
        jsonld=_markup(jsonld.script_tag([jsonld.event_jsonld(event)])),
    )


def _sparkline(counts: Sequence[int], width: int = 120, height: int = 24) -> dict[str, Any]:
    top = max(counts) or 1
    step = width / max(len(counts) - 1, 1)
    points = " ".join(
        f"{i * step:.1f},{height - 2 - (n / top) * (height - 4):.1f}" for i, n in enumerate(counts)
    )
    return {
        "width": width,
        "height": height,
        "points": points,
        "label": " → ".join(str(n) for n in counts),
    }


_ORDER = {"failed": 0, "degraded": 1, "ok": 2}


def health_page(document: Mapping[str, Any]) -> str:
    rows = []
    for source_id, s in document["sources"].items():
        counts = [int(h.get("events") or 0) for h in reversed(s.get("recent") or [])]
        rows.append(
            {
                "id": source_id,
                "name": s.get("name") or source_id,
                "status": s.get("status") or "failed",
                "events": s.get("events"),
                "error": s.get("error"),
                "last_success": s.get("last_success"),
                "spark": _sparkline(counts) if len(counts) > 1 else None,
            }
        )
    rows.sort(key=lambda r: (_ORDER.get(r["status"], 0), r["id"]))
    return environment().get_template("health.html").render(
        lang=SOURCE_LANGUAGE,
        rtl=False,
        root="",
        home="index.html",
        generated=document.get("generated"),
        sources=rows,
    )


def _markup(text: str) -> Markup:
    """Text this module made safe itself (JSON in a script element)."""
    return Markup(text)
