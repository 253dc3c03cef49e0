"""index.html: the page for people — what each feed holds and how to subscribe.

Contract: ``index_html(events, report, now=…, base_url=…) -> str``:
- German, one self-contained file (inline CSS, no script but JSON-LD, no external assets),
  readable on a phone (viewport meta, one column, large tap targets).
- The feeds grouped as in ``feeds.publish.feed_specs`` (Überblick, Stadtbezirke, Alter,
  Themen), each with its event count and its links; after the overview, how to subscribe:
  webcal:// for Apple, Outlook and Thunderbird, the https address to copy, step by step for
  Google Calendar (which adds subscriptions only on the web, by URL). Without ``base_url``
  the links are relative and the page says that the subscribe address is this page's
  address with the feed's file name.
- The next ten family events from ``now`` (an argument, never the clock), cancelled ones
  marked, with their schema.org JSON-LD embedded for search engines.
- Every text that comes from sources or configuration is escaped; only http(s) links are
  linked. Same input, same bytes (no build time on the page).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape
from urllib.parse import quote

from core.model import Event, Status
from core.urls import safe_url
from feeds import jsonld
from feeds.labels import ages_text, labels, price_text
from feeds.publish import FeedSpec, PublishReport, feed_specs, window_events

NEXT_EVENTS = 10
_WEEKDAYS = ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So")

_CSS = """
*{box-sizing:border-box}
body{font:1.05rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;
max-width:48rem;padding:.8rem;color:#1b1b1b;background:#fff}
h1{font-size:1.5rem;margin:.4rem 0}h2{font-size:1.2rem;margin:1.8rem 0 .6rem;
border-bottom:2px solid #b00;padding-bottom:.2rem}
a{color:#0645ad}.feeds{list-style:none;padding:0;margin:0}
.feed{border:1px solid #ddd;border-radius:.5rem;padding:.6rem .7rem;margin:.5rem 0}
.feed .t{font-weight:600}.n{color:#555;white-space:nowrap}
.btn{display:inline-block;margin:.35rem .35rem 0 0;padding:.35rem .7rem;border-radius:.4rem;
background:#eef3ff;text-decoration:none;min-height:2.2rem}
code{display:block;margin-top:.35rem;background:#f3f3f3;padding:.2rem .3rem;font-size:.85rem;
overflow-wrap:anywhere;user-select:all}
.ev{border-left:4px solid #b00;padding:.1rem 0 .1rem .6rem;margin:.7rem 0}
.ev .d{font-size:.9rem;color:#444}.ev.x .t{text-decoration:line-through}
.tag{display:inline-block;font-size:.8rem;background:#eef7ee;border-radius:.3rem;padding:0 .3rem}
.cx{background:#fde8e8}
details{margin:.6rem 0}summary{cursor:pointer;font-weight:600}
ol{padding-left:1.3rem}
"""


def _subscribe_urls(path: str, base_url: str | None) -> tuple[str, str | None, str | None]:
    """(https or relative address, webcal address, Google Calendar link) of one feed."""
    if not base_url:
        return f"{path}.ics", None, None
    https = f"{base_url.rstrip('/')}/{path}.ics"
    webcal = "webcal://" + https.split("://", 1)[1]
    google = "https://calendar.google.com/calendar/render?cid=" + quote(webcal, safe="")
    return https, webcal, google


def _feed_item(spec: FeedSpec, label: str, count: int, base_url: str | None) -> str:
    address, webcal, google = _subscribe_urls(spec.path, base_url)
    buttons = []
    if webcal:
        buttons.append(f'<a class="btn" href="{escape(webcal)}">Abonnieren</a>')
    if google:
        buttons.append(f'<a class="btn" href="{escape(google)}">Google Kalender</a>')
    buttons.append(f'<a class="btn" href="{escape(spec.path)}.ics">ICS-Datei</a>')
    buttons.append(f'<a class="btn" href="{escape(spec.path)}.json">JSON</a>')
    noun = "Termin" if count == 1 else "Termine"
    return (
        f'<li class="feed"><span class="t">{escape(label)}</span> '
        f'<span class="n">({count} {noun})</span><br>{escape(spec.description)}<br>'
        f"{''.join(buttons)}<code>{escape(address)}</code></li>"
    )


def _label(spec: FeedSpec) -> str:
    """The short name within its group: "Linden-Limmer", not the whole calendar title."""
    overview = {"alle": "Alle Veranstaltungen", "familie": "Alle Familientermine"}
    if spec.path in overview:
        return overview[spec.path]
    if spec.path == "kostenlos":
        return "Kostenlose Familientermine"
    names = labels()
    kind, _, slug = spec.path.partition("/")
    table = {"bezirk": "districts", "alter": "age_groups", "thema": "topics"}.get(kind)
    return names[table][slug] if table else spec.title


def _when(event: Event) -> str:
    start = event.start_datetime()
    day = f"{_WEEKDAYS[start.weekday()]}, {start:%d.%m.%Y}"
    return day if event.all_day else f"{day}, {start:%H:%M} Uhr"


def _event_item(event: Event) -> str:
    title = escape(event.title)
    if link := safe_url(event.url):
        title = f'<a href="{escape(link)}">{title}</a>'
    facts = [escape(_when(event))]
    if place := event.location.one_line():
        facts.append(escape(place))
    tags = []
    if event.status is Status.CANCELLED:
        tags.append('<span class="tag cx">abgesagt</span>')
    elif event.status is Status.POSTPONED:
        tags.append('<span class="tag cx">verschoben</span>')
    if ages := ages_text(event):
        tags.append(f'<span class="tag">{escape(ages)}</span>')
    if price := price_text(event):
        tags.append(f'<span class="tag">{escape(price)}</span>')
    cancelled = " x" if event.status is Status.CANCELLED else ""
    return (
        f'<li class="ev{cancelled}"><span class="t">{title}</span><br>'
        f'<span class="d">{" · ".join(facts)}</span> {" ".join(tags)}</li>'
    )


def _howto(base_url: str | None) -> str:
    example, _, _ = _subscribe_urls("familie", base_url)
    address = (
        f"<code>{escape(example)}</code>"
        if base_url
        else "die Adresse dieser Seite, mit dem Dateinamen des Kalenders statt "
        "<code>index.html</code> (zum Beispiel <code>familie.ics</code>)"
    )
    return (
        "<details open><summary>So abonnieren Sie einen Kalender</summary>"
        "<p>Ein abonnierter Kalender aktualisiert sich von selbst: neue, geänderte und "
        "abgesagte Termine erscheinen ohne Ihr Zutun.</p>"
        "<p><strong>iPhone, iPad, Mac, Outlook, Thunderbird:</strong> auf "
        "„Abonnieren“ tippen und bestätigen.</p>"
        "<p><strong>Google Kalender</strong> (auch für Android-Telefone):</p><ol>"
        "<li>Am Computer <strong>calendar.google.com</strong> öffnen "
        "(in der Handy-App geht das nicht).</li>"
        "<li>Links bei „Weitere Kalender“ auf <strong>+</strong> klicken, dann "
        "„<strong>Per URL</strong>“ wählen.</li>"
        f"<li>Die Adresse des Kalenders einfügen, zum Beispiel {address}, und "
        "„Kalender hinzufügen“ klicken.</li>"
        "<li>Nach einigen Minuten erscheint er auch auf dem Telefon. Google aktualisiert "
        "Abos nur etwa alle 8 bis 24 Stunden und zeigt abgesagte Termine nicht an.</li></ol>"
        "<p>Oder auf „Google Kalender“ beim gewünschten Kalender klicken.</p>"
        "</details>"
    )


def index_html(
    events: Sequence[Event], report: PublishReport, *, now: datetime, base_url: str | None
) -> str:
    groups: dict[str, list[str]] = {}
    for spec in feed_specs():
        count = report.feeds.get(spec.path, 0)
        groups.setdefault(spec.group, []).append(_feed_item(spec, _label(spec), count, base_url))
    upcoming = [
        e
        for e in window_events(events, now)
        if e.tags and e.tags.family and e.start_datetime() >= now
    ][:NEXT_EVENTS]
    next_items = "".join(_event_item(e) for e in upcoming)
    sections = [
        f'<h2>{escape(name)}</h2><ul class="feeds">{"".join(items)}</ul>'
        for name, items in groups.items()
    ]
    structured = jsonld.script_tag(jsonld.event_jsonld(e) for e in upcoming) if upcoming else ""
    family = report.feeds.get("familie", 0)
    return (
        '<!doctype html><html lang="de"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta name="description" content="Veranstaltungen für Kinder, Jugendliche und '
        'Familien in Hannover als Kalender zum Abonnieren.">'
        f"<title>Familienkalender Hannover</title><style>{_CSS}</style>{structured}</head>"
        "<body><header><h1>Familienkalender Hannover</h1>"
        "<p>Veranstaltungen für Kinder, Jugendliche und Familien in Hannover, gesammelt aus "
        f"den Kalendern der Stadt und ihrer Partner: zurzeit {family} Termine. Abonnieren "
        "Sie alle oder nur die Ihres Stadtbezirks, des Alters Ihrer Kinder oder eines "
        "Themas.</p></header>"
        # On a phone the common case comes first: the overview feeds, then how to subscribe.
        f"{sections[0]}{_howto(base_url)}{''.join(sections[1:])}"
        f'<h2>Die nächsten Familientermine</h2><ul class="feeds">'
        f"{next_items or '<li>Zurzeit keine Termine.</li>'}</ul>"
        "<footer><p>Die Termine stammen von den jeweiligen Veranstaltern; maßgeblich sind "
        "deren Angaben. Für Webseiten: jeder Kalender auch als JSON Feed "
        '(<a href="familie.json">familie.json</a>) und als schema.org-Daten '
        '(<a href="familie.jsonld">familie.jsonld</a>).</p></footer>'
        "</body></html>\n"
    )
