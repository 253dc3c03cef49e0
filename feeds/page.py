"""index.html: the page for people — what each feed holds and how to subscribe.

Contract: ``index_html(events, report, now=…, base_url=…) -> str``: German, self-contained
(no external assets), every text from sources escaped. Lists the feeds grouped as in
``feeds.publish.feed_specs`` with their event counts and subscribe links (webcal://, the
https address to copy, how to add it in Google Calendar) and the next family events.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape

from famcal.model import Event
from feeds.publish import PublishReport, feed_specs, in_window

_CSS = """
body{font-family:system-ui,sans-serif;margin:0 auto;max-width:52rem;padding:1rem;line-height:1.5;
color:#1b1b1b;background:#fff}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:2px solid #c00}
ul{padding-left:1.2rem}li{margin:.4rem 0}.n{color:#555}
a{color:#0645ad}code{background:#f3f3f3;padding:0 .2rem;word-break:break-all}
.ev{border-left:3px solid #c00;padding-left:.6rem;margin:.6rem 0}
"""


def _links(path: str, base_url: str | None) -> str:
    rel = f"{path}.ics"
    if not base_url:
        return f'<a href="{escape(rel)}">ICS</a> · <a href="{escape(path)}.json">JSON</a>'
    https = f"{base_url.rstrip('/')}/{rel}"
    webcal = "webcal://" + https.split("://", 1)[1]
    google = "https://calendar.google.com/calendar/r?cid=" + escape(webcal)
    return (
        f'<a href="{escape(webcal)}">Abonnieren</a> · <a href="{google}">Google Kalender</a> · '
        f'<a href="{escape(path)}.json">JSON</a><br><code>{escape(https)}</code>'
    )


def _when(event: Event) -> str:
    if event.all_day:
        return event.start.strftime("%d.%m.%Y")
    return event.start_datetime().strftime("%d.%m.%Y, %H:%M Uhr")


def index_html(
    events: Sequence[Event], report: PublishReport, *, now: datetime, base_url: str | None
) -> str:
    groups: dict[str, list[str]] = {}
    for spec in feed_specs():
        count = report.feeds.get(spec.path, 0)
        groups.setdefault(spec.group, []).append(
            f"<li><strong>{escape(spec.title)}</strong> "
            f'<span class="n">({count} Termine)</span><br>{_links(spec.path, base_url)}</li>'
        )
    upcoming = [
        e
        for e in events
        if e.tags and e.tags.family and in_window(e, now) and e.start_datetime() >= now
    ][:10]
    next_items = "".join(
        f'<div class="ev"><strong>{escape(e.title)}</strong><br>{escape(_when(e))}'
        f" · {escape(e.location.one_line())}</div>"
        for e in upcoming
    )
    sections = "".join(
        f"<h2>{escape(name)}</h2><ul>{''.join(items)}</ul>" for name, items in groups.items()
    )
    return (
        '<!doctype html><html lang="de"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>Familienkalender Hannover</title><style>{_CSS}</style></head><body>"
        "<h1>Familienkalender Hannover</h1>"
        "<p>Veranstaltungen für Kinder, Jugendliche und Familien in Hannover, als Kalender zum "
        "Abonnieren. In Google Kalender: „Weitere Kalender“ → „Per URL“ und die Adresse einfügen."
        "</p>"
        f"<h2>Die nächsten Familientermine</h2>{next_items or '<p>Keine Termine.</p>'}"
        f"{sections}</body></html>\n"
    )
