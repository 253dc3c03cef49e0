"""What the site shows of an event: its page key, its card, its index entry, its series.

Contract (no I/O):
- ``event_key(uid)``: the event page's file name stem — the first 16 hex digits of the UID's
  SHA-256: derived from the UID alone, the same on every run, safe as a file name.
- ``index_entry(event, obj)``: the compact object of ``site/index.json`` — the fields the filters
  of ``feeds.filters`` read, under the names the declaration gives them (``district``,
  ``age_groups``, ``age_min``, ``age_max``, ``topics``, ``free``, ``aktivpass``; falsy values
  left out), and short keys for the rest: ``u`` UID, ``k`` key, ``t`` title, ``s``/``e``
  start/end ISO, ``a`` all-day, ``d0``/``d1`` first and last local date, ``z`` the end instant
  (epoch seconds, ``feeds.filters.end_instant``), ``p`` place, ``x`` status when not
  scheduled, ``b`` booked out. ``search_words(obj)``: the folded text ``q`` searches
  (``feeds.filters.search_text``), each distinct word once — a ``q`` word, which holds no
  space, is in that text exactly when it is in the full one; published apart
  (``site/words.json``), since only a search needs it. ``search_words(obj, folded)`` gives
  the same, faster over many events, with one ``folded`` dict for all of them.
- ``card(event)``: the German facts of a card for the templates.
- ``series_key(event)``: events of one series share it (the ``series`` tag where the tagger
  gave one, else the first source and its record id up to the occurrence suffix ``#…``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from itertools import chain
from typing import Any

from core.model import BERLIN, Event, Status
from feeds.filters import FACETS, end_instant, fold_words, local_dates, search_source, search_text
from feeds.labels import labels

WEEKDAYS = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")
MONTHS = (
    "Januar", "Februar", "März", "April", "Mai", "Juni",
    "Juli", "August", "September", "Oktober", "November", "Dezember",
)  # fmt: skip
# The fields the filters read besides the facets' own (the exact-age rule's numbers).
_FILTER_FIELDS = ("age_min", "age_max")


def event_key(uid: str) -> str:
    return hashlib.sha256(uid.encode()).hexdigest()[:16]


def series_key(event: Event) -> str:
    if event.tags and event.tags.series:
        return f"series\x1f{event.tags.series}"
    if not event.sources:
        return event.uid
    first = event.sources[0]
    return f"{first.id}\x1f{first.record_id.split('#', 1)[0]}"


def index_entry(event: Event, obj: Mapping[str, Any]) -> dict[str, Any]:
    """``obj``: the event's ``feeds.jsonfeed.event_object`` (made once by the caller)."""
    first, last = local_dates(obj)
    entry: dict[str, Any] = {
        "u": event.uid,
        "k": event_key(event.uid),
        "t": event.title,
        "s": obj["start"],
        "d0": first.isoformat(),
        "d1": last.isoformat(),
        "z": int(end_instant(obj).timestamp()),
    }
    if obj.get("end"):
        entry["e"] = obj["end"]
    if event.all_day:
        entry["a"] = 1
    if place := event.location.name or event.location.one_line():
        entry["p"] = place
    if event.status is not Status.SCHEDULED:
        entry["x"] = event.status.value
    if event.tags and event.tags.booked_out:
        entry["b"] = 1
    for name in (*(f.field for f in FACETS), *_FILTER_FIELDS):
        value = obj.get(name)
        if value or (value == 0 and name in _FILTER_FIELDS):
            entry[name] = value
    return entry


class FoldedWords(dict[str, tuple[str, ...]]):
    """Raw word → its folded words, each folded once (``search_words``)."""

    def __missing__(self, raw: str) -> tuple[str, ...]:
        found = self[raw] = tuple(fold_words(raw).split())
        return found


def search_words(obj: Mapping[str, Any], folded: FoldedWords | None = None) -> str:
    """``folded`` is shared by the caller over many events: their texts repeat words, and
    folding them (Unicode normalization) was most of the site index's cost. Folding works
    character by character (case folding, ß, NFKD, the combining marks dropped; a
    normalization reorders marks only between the characters of one word) and folds a
    whitespace character to whitespace, so the text's words, each folded and split again,
    are the words of the folded text (``tests/test_site_words.py`` compares them, over all
    of Unicode's whitespace and marks too)."""
    if folded is None:
        return " ".join(dict.fromkeys(search_text(obj).split()))
    words = chain.from_iterable(map(folded.__getitem__, search_source(obj).split()))
    return " ".join(dict.fromkeys(words))


def german_day(day: date) -> str:
    return f"{WEEKDAYS[day.weekday()]}, {day.day}. {MONTHS[day.month - 1]} {day.year}"


def german_time(event: Event) -> str:
    """"10:00–11:30 Uhr", "ab 10:00 Uhr", "ganztägig", or the span of a multi-day event."""
    start = event.start_datetime().astimezone(BERLIN)
    end = event.end
    if event.all_day:
        if isinstance(end, date) and (end - event.start).days > 1:
            last = date.fromordinal(end.toordinal() - 1)
            return f"ganztägig bis {last.day}. {MONTHS[last.month - 1]}"
        return "ganztägig"
    if isinstance(end, datetime):
        end = end.astimezone(BERLIN)
        if end.date() == start.date():
            return f"{start:%H:%M}–{end:%H:%M} Uhr"
        if end > start:
            return f"{start:%H:%M} Uhr bis {german_day(end.date())}, {end:%H:%M} Uhr"
    return f"{start:%H:%M} Uhr"


def short_time(event: Event) -> str:
    """The card's time: "10:00" or "10:00–11:30" (the same day), "" when all-day."""
    if event.all_day:
        return ""
    start = event.start_datetime().astimezone(BERLIN)
    end = event.end
    if isinstance(end, datetime) and end.astimezone(BERLIN).date() == start.date() and end > start:
        return f"{start:%H:%M}–{end.astimezone(BERLIN):%H:%M}"
    return f"{start:%H:%M}"


@dataclass(frozen=True, kw_only=True)
class Card:
    uid: str
    key: str
    title: str
    day: date
    time: str  # "10:00–11:30", "" when all-day
    place: str
    district: str
    age_min: int | None
    age_max: int | None
    price: str  # the source's own price text
    free: bool
    aktivpass: bool
    status: str  # "" when scheduled, else the status slug
    booked_out: bool
    registration: str  # "", "required" or "not_required"


def card(event: Event) -> Card:
    tags = event.tags
    district = tags.district.value if tags and tags.district else ""
    return Card(
        uid=event.uid,
        key=event_key(event.uid),
        title=event.title,
        day=event.start_datetime().astimezone(BERLIN).date(),
        time=short_time(event),
        place=event.location.name or event.location.one_line(),
        district=labels()["districts"].get(district, ""),
        age_min=tags.age_min if tags else None,
        age_max=tags.age_max if tags else None,
        price=event.price or "",
        free=bool(tags and tags.free),
        aktivpass=bool(tags and tags.aktivpass),
        status="" if event.status is Status.SCHEDULED else event.status.value,
        booked_out=bool(tags and tags.booked_out),
        registration=tags.registration.value if tags and tags.registration else "",
    )
