"""The weekend's family programme (contract.md, "Reports for the city": ``wochenende.html`` and
``wochenende.txt``).

Contract: ``weekend(events, now=…)`` picks the family events that ``zeit=wochenende``
(``feeds.filters``) gives at ``now`` — the days of ``day_span("wochenende", today)``, events
not yet ended —, leaves out cancelled and postponed ones, and sorts them by day (an event on
each of its days), then place (the 13 Stadtbezirke in taxonomy order, Hannover without a
known district, the Region's towns, no known place), then time and title.
``weekend_text(w, link=…)`` is the plain text for a newsletter: no line over 78 characters.
``event_link(uid, base_url)`` is where an event's page is (``termine/<key>.html``), absolute
with a base URL, else relative to the published folder.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from babel.dates import format_date

from core.model import BERLIN, District, Event, Municipality, Status
from feeds.filters import day_span, local_dates, parse_query
from feeds.jsonfeed import event_object
from feeds.labels import labels
from feeds.site.entries import event_key

WIDTH = 78
WEEKEND = parse_query([("zeit", "wochenende")])
_PLACE_ORDER = {
    **{d.value: n for n, d in enumerate(District)},
    **{m.value: len(District) + 1 + n for n, m in enumerate(Municipality)},
}


def event_link(uid: str, base_url: str | None) -> str:
    path = f"termine/{event_key(uid)}.html"
    return f"{base_url.rstrip('/')}/{path}" if base_url else path


@dataclass(frozen=True, kw_only=True)
class Entry:
    uid: str
    time: str  # "10:00–12:00 Uhr", "ganztägig", "bis 12:00 Uhr"
    title: str
    place: str


@dataclass(frozen=True, kw_only=True)
class Area:
    label: str  # "Linden-Limmer", "Region: Garbsen"
    entries: tuple[Entry, ...]


@dataclass(frozen=True, kw_only=True)
class Day:
    day: date
    label: str  # "Samstag, 28. November 2026"
    areas: tuple[Area, ...]


@dataclass(frozen=True, kw_only=True)
class Weekend:
    first: date
    last: date
    made: date  # the date of --now
    days: tuple[Day, ...]

    @property
    def count(self) -> int:
        return len({e.uid for d in self.days for a in d.areas for e in a.entries})


def german_date(day: date, pattern: str = "EEEE, d. MMMM y") -> str:
    return str(format_date(day, pattern, locale="de_DE"))


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _area(event: Event) -> tuple[int, str]:
    tags = event.tags
    names = labels()
    if tags and tags.district:
        return _PLACE_ORDER[tags.district.value], names["districts"][tags.district.value]
    if tags and tags.municipality is Municipality.HANNOVER:
        return len(District), "Hannover, Stadtbezirk unbekannt"
    if tags and tags.municipality:
        slug = tags.municipality.value
        return _PLACE_ORDER[slug], f"Region: {names['municipalities'][slug]}"
    return len(_PLACE_ORDER) + 1, "Ohne Ortsangabe"


def _time(event: Event, day: date) -> str:
    if event.all_day or not isinstance(event.start, datetime):
        return "ganztägig"
    start = event.start.astimezone(BERLIN)
    end = event.end.astimezone(BERLIN) if isinstance(event.end, datetime) else None
    ends_today = end is not None and (end - timedelta(microseconds=1)).date() == day
    if start.date() == day:
        until = f"–{end:%H:%M}" if end is not None and ends_today and end > start else ""
        return f"{start:%H:%M}{until} Uhr"
    return f"bis {end:%H:%M} Uhr" if end is not None and ends_today else "ganztägig"


def _sort_time(event: Event, day: date) -> str:
    start = event.start_datetime().astimezone(BERLIN)
    return "" if event.all_day or start.date() < day else f"{start:%H:%M}"


def weekend(events: Sequence[Event], *, now: datetime) -> Weekend:
    today = now.astimezone(BERLIN).date()
    first, last = day_span("wochenende", today)
    # Cheap tests before the filter's own: only family events on as planned that start by
    # the weekend's last day can be on it.
    candidates = [
        e
        for e in events
        if e.tags is not None
        and e.tags.family
        and e.tags.status is Status.SCHEDULED
        and e.start_datetime().astimezone(BERLIN).date() <= last
    ]
    chosen = [(e, obj) for e in candidates if WEEKEND.accepts(obj := event_object(e), now=now)]
    days = []
    for n in range((last - first).days + 1):
        day = first + timedelta(days=n)
        on_day = [e for e, obj in chosen if local_dates(obj)[0] <= day <= local_dates(obj)[1]]
        on_day.sort(key=lambda e: (*_area(e), _sort_time(e, day), e.title, e.uid))
        areas: dict[str, list[Entry]] = {}
        for e in on_day:
            areas.setdefault(_area(e)[1], []).append(
                Entry(
                    uid=e.uid,
                    time=_time(e, day),
                    title=_one_line(e.title),
                    place=_one_line(e.location.one_line()),
                )
            )
        days.append(
            Day(
                day=day,
                label=german_date(day),
                areas=tuple(Area(label=k, entries=tuple(v)) for k, v in areas.items()),
            )
        )
    return Weekend(first=first, last=last, made=today, days=tuple(days))


def heading(w: Weekend) -> str:
    if w.first == w.last:
        return f"Familientermine am {german_date(w.first)}"
    return (
        f"Familientermine am Wochenende, {german_date(w.first, 'd. MMMM')} "
        f"bis {german_date(w.last, 'd. MMMM y')}"
    )


def weekend_text(w: Weekend, *, link: Callable[[str], str]) -> str:
    """Plain text, every line at most ``WIDTH`` characters (a long link is cut into lines
    rather than overrun them)."""

    def wrap(text: str, first: str = "", rest: str = "") -> list[str]:
        return textwrap.wrap(
            text,
            WIDTH,
            initial_indent=first,
            subsequent_indent=rest,
            break_on_hyphens=False,
        ) or [first.rstrip()]

    lines = [*wrap(heading(w)), ""]
    lines += wrap(
        f"Stand: {german_date(w.made)}. Familienveranstaltungen in Hannover und der "
        "Region aus dem Familienkalender Hannover; abgesagte und verschobene Termine "
        "sind nicht aufgeführt."
    )
    if not w.count:
        lines += ["", *wrap("An diesem Wochenende sind keine Familientermine bekannt.")]
    for day in w.days:
        title = day.label.upper()
        lines += ["", "", title, "=" * len(title)]
        if not day.areas:
            lines += ["", "Keine Termine."]
        for area in day.areas:
            lines += ["", area.label, "-" * len(area.label)]
            for entry in area.entries:
                lines += wrap(f"{entry.time}: {entry.title}", "* ", "  ")
                if entry.place:
                    lines += wrap(entry.place, "  ", "  ")
                lines += wrap(link(entry.uid), "  ", "  ")
    return "\n".join(lines) + "\n"
