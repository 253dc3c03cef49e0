"""The filters of contract.md ("Filters"): one declaration for the published facet feeds, the
server's filtered feeds and the family site.

Contract:
- ``FACETS``: the tag facets, each a ``Facet`` (URL parameter, the tag field it reads, how it
  matches, its values, its label table, and the published feed family it makes, if any).
  ``feeds.publish`` makes a feed per facet value from it, the server and the site read their
  parameters from it (the site gets ``site_declaration()`` as JSON), labels come from
  ``data/labels.toml``. A new facet is one entry here and its labels there.
- ``parse_query(pairs)`` reads query parameters into a ``Query`` or raises ``BadRequest``
  naming the allowed values; tracking parameters (``utm_*``, ``fbclid``, ``gclid``, ``mc_*``)
  are ignored. ``Query.accepts(obj, today=)`` tests one ``_event`` object (the JSON form, the
  same shape ``Tags.to_dict`` writes plus start/end/title/description/location).
- ``day_span(word, today)``: the dates "heute", "morgen", "wochenende", "woche" cover
  (contract.md, "Days"), Europe/Berlin dates.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from core.ages import OLDEST, OPEN_SPAN, serves_age
from core.model import BERLIN, AgeGroup, District, Topic


class Match(StrEnum):
    ONE = "one"  # the field's value is one of the chosen
    ANY = "any"  # the field's list holds one of the chosen
    FLAG = "flag"  # the field is true (the only value is "1")
    AGE = "age"  # a child's age (exact-age rule) or an age-group slug


@dataclass(frozen=True, kw_only=True)
class Feeds:
    """The published feeds a facet makes: one per value under ``folder`` (``bezirk/mitte``),
    or, for a flag, one feed named ``folder``."""

    folder: str
    group: str  # heading on the subscription page
    title: str  # "{label}" is the value's label
    description: str


@dataclass(frozen=True, kw_only=True)
class Facet:
    param: str
    field: str
    match: Match
    values: tuple[str, ...]
    labels: str  # table of data/labels.toml ("" for a flag)
    label: str  # the facet's own name, for people
    feeds: Feeds | None = None

    def accepts(self, obj: Mapping[str, Any], chosen: frozenset[str]) -> bool:
        value = obj.get(self.field)
        if self.match is Match.ONE:
            return value in chosen
        if self.match is Match.ANY:
            return bool(chosen.intersection(value or ()))
        if self.match is Match.FLAG:
            return value is True
        groups = set(obj.get("age_groups") or ())
        for wanted in chosen:
            if wanted.isdigit():
                if serves_age(
                    int(wanted),
                    age_min=obj.get("age_min"),
                    age_max=obj.get("age_max"),
                    age_groups=groups,
                ):
                    return True
            elif wanted in groups:
                return True
        return False

    def reads(self, obj: Mapping[str, Any]) -> Hashable:
        """What of ``obj`` ``accepts`` reads: two objects that read the same are accepted by
        the same choices (``feeds.publish.memberships`` tests each reading once)."""
        if self.match is Match.AGE:
            return (obj.get("age_min"), obj.get("age_max"), tuple(obj.get("age_groups") or ()))
        value = obj.get(self.field)
        if self.match is Match.ANY:
            return tuple(value or ())
        if self.match is Match.FLAG:
            return value is True
        return value  # Match.ONE

    def allowed(self) -> tuple[str, ...]:
        if self.match is Match.AGE:
            return (*(str(n) for n in range(OLDEST + 1)), *self.values)
        return self.values


def _slugs(vocabulary: Iterable[StrEnum]) -> tuple[str, ...]:
    return tuple(v.value for v in vocabulary)


FACETS: tuple[Facet, ...] = (
    Facet(
        param="bezirk",
        field="district",
        match=Match.ONE,
        values=_slugs(District),
        labels="districts",
        label="Stadtbezirk",
        feeds=Feeds(
            folder="bezirk",
            group="Stadtbezirke",
            title="Familienkalender Hannover: {label}",
            description="Familienveranstaltungen im Stadtbezirk {label}.",
        ),
    ),
    Facet(
        param="alter",
        field="age_groups",
        match=Match.AGE,
        values=_slugs(AgeGroup),
        labels="age_groups",
        label="Alter",
        feeds=Feeds(
            folder="alter",
            group="Alter",
            title="Familienkalender Hannover: {label}",
            description="Familienveranstaltungen für Kinder von {label}.",
        ),
    ),
    Facet(
        param="thema",
        field="topics",
        match=Match.ANY,
        values=_slugs(Topic),
        labels="topics",
        label="Thema",
        feeds=Feeds(
            folder="thema",
            group="Themen",
            title="Familienkalender Hannover: {label}",
            description="Familienveranstaltungen zum Thema {label}.",
        ),
    ),
    Facet(
        param="kostenlos",
        field="free",
        match=Match.FLAG,
        values=("1",),
        labels="",
        label="kostenlos",
        feeds=Feeds(
            folder="kostenlos",
            group="Überblick",
            title="Familienkalender Hannover: kostenlos",
            description="Kostenlose Veranstaltungen für Familien.",
        ),
    ),
    Facet(
        param="aktivpass",
        field="aktivpass",
        match=Match.FLAG,
        values=("1",),
        labels="",
        label="HannoverAktivPass",
    ),
)
BY_PARAM: dict[str, Facet] = {f.param: f for f in FACETS}

DAY_WORDS = ("heute", "morgen", "wochenende", "woche")
# Parameters of the Filters table that are not tag facets.
OTHER_PARAMS = ("zeit", "von", "bis", "q")
PARAMS: tuple[str, ...] = (*BY_PARAM, *OTHER_PARAMS)
_TRACKING = re.compile(r"^(utm_.*|fbclid|gclid|dclid|msclkid|mc_.*|_ga|igshid)$")
_OFF = {"0", "false", "nein", ""}  # a flag parameter that asks for nothing


class BadRequest(ValueError):
    """A filter that cannot be answered; the message (German) names the allowed values."""


@dataclass(frozen=True, kw_only=True)
class Query:
    facets: Mapping[str, frozenset[str]] = field(default_factory=dict)  # param -> chosen
    days: frozenset[str] = frozenset()
    since: date | None = None  # von
    until: date | None = None  # bis
    words: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (self.facets or self.days or self.since or self.until or self.words)

    def accepts(self, obj: Mapping[str, Any], *, now: datetime) -> bool:
        """Whether one ``_event`` object passes every given filter at ``now``. Any filter
        asks for family events only; a time word also wants events not yet ended."""
        if not obj.get("family"):
            return False
        for param, chosen in self.facets.items():
            if not BY_PARAM[param].accepts(obj, chosen):
                return False
        if self.days or self.since or self.until:
            first, last = local_dates(obj)
            today = now.astimezone(BERLIN).date()
            spans = [day_span(w, today) for w in self.days]
            if self.days and _ended(obj, now):
                return False
            if self.since or self.until:
                spans.append((self.since or date.min, self.until or date.max))
            if not any(first <= hi and last >= lo for lo, hi in spans):
                return False
        if self.words:
            haystack = search_text(obj)
            if not all(w in haystack for w in self.words):
                return False
        return True

    def key(self) -> str:
        """A canonical text of the query (the same for equal queries)."""
        parts = [f"{p}={','.join(sorted(v))}" for p, v in sorted(self.facets.items())]
        if self.days:
            parts.append("zeit=" + ",".join(sorted(self.days)))
        if self.since:
            parts.append(f"von={self.since.isoformat()}")
        if self.until:
            parts.append(f"bis={self.until.isoformat()}")
        if self.words:
            parts.append("q=" + " ".join(self.words))
        return "&".join(parts)


def parse_query(pairs: Iterable[tuple[str, str]]) -> Query:
    """Read (name, value) pairs; several values repeated or comma-separated mean "any of"."""
    chosen: dict[str, set[str]] = {}
    days: set[str] = set()
    dates: dict[str, date] = {}
    words: list[str] = []
    for name, raw in pairs:
        if _TRACKING.match(name):
            continue
        if name == "q":
            words += fold_words(raw).split()
            continue
        if name in ("von", "bis"):
            try:
                dates[name] = date.fromisoformat(raw.strip())
            except ValueError:
                raise BadRequest(
                    f"Ungültiges Datum {raw!r} für {name}. Erlaubt: JJJJ-MM-TT."
                ) from None
            continue
        if name not in PARAMS:
            raise BadRequest(f"Unbekannter Parameter {name!r}. Erlaubt: {', '.join(PARAMS)}.")
        for value in (v.strip() for v in raw.split(",")):
            if name == "zeit":
                if value not in DAY_WORDS:
                    raise BadRequest(
                        f"Unbekannter Wert {value!r} für zeit. Erlaubt: {', '.join(DAY_WORDS)}."
                    )
                days.add(value)
                continue
            facet = BY_PARAM[name]
            if facet.match is Match.FLAG:
                if value.lower() in _OFF:
                    continue
                if value.lower() not in ("1", "true", "ja"):
                    raise BadRequest(f"Unbekannter Wert {value!r} für {name}. Erlaubt: 1.")
                value = "1"
            elif value not in facet.allowed():
                raise BadRequest(
                    f"Unbekannter Wert {value!r} für {name}. Erlaubt: {', '.join(facet.allowed())}."
                )
            chosen.setdefault(name, set()).add(value)
    return Query(
        facets={k: frozenset(v) for k, v in chosen.items()},
        days=frozenset(days),
        since=dates.get("von"),
        until=dates.get("bis"),
        words=tuple(dict.fromkeys(words)),
    )


def day_span(word: str, today: date) -> tuple[date, date]:
    """The first and last date a time word covers (contract.md, "Days")."""
    if word == "heute":
        return today, today
    if word == "morgen":
        tomorrow = today + timedelta(days=1)
        return tomorrow, tomorrow
    weekday = today.weekday()  # Monday 0 … Sunday 6
    sunday = today + timedelta(days=6 - weekday)
    if word == "woche":
        return today, sunday
    if word == "wochenende":
        return (today if weekday >= 5 else sunday - timedelta(days=1)), sunday
    raise ValueError(f"unknown time word {word!r}")


def local_dates(obj: Mapping[str, Any]) -> tuple[date, date]:
    """The first and last local date an event covers (an all-day ``end`` is exclusive; a
    timed end at midnight does not reach into that day)."""
    start = _when(str(obj["start"]))
    end_text = obj.get("end")
    end = _when(str(end_text)) if end_text else start
    first = start.date() if isinstance(start, datetime) else start
    if isinstance(end, datetime):
        last = (end - timedelta(microseconds=1)).date() if end > start else first
    else:
        last = end - timedelta(days=1) if end > first else first
    return first, max(first, last)


def _ended(obj: Mapping[str, Any], now: datetime) -> bool:
    return end_instant(obj) <= now


def end_instant(obj: Mapping[str, Any]) -> datetime:
    """When an event has ended: its end (its start, where it gives none); an all-day event
    at the end of its last day."""
    end = _when(str(obj.get("end") or obj["start"]))
    if not isinstance(end, datetime):
        if not obj.get("end"):
            end += timedelta(days=1)
        end = datetime(end.year, end.month, end.day, tzinfo=BERLIN)
    return end


def search_text(obj: Mapping[str, Any]) -> str:
    """The folded text ``q`` searches: title, description and every place field."""
    return fold_words(search_source(obj))


def search_source(obj: Mapping[str, Any]) -> str:
    """``search_text`` before folding."""
    return " ".join(
        str(x or "")
        for x in (obj.get("title"), obj.get("description"), *(obj.get("location") or {}).values())
    )


def _when(text: str) -> date | datetime:
    if len(text) == 10:
        return date.fromisoformat(text)
    return datetime.fromisoformat(text).astimezone(BERLIN)


def fold_words(text: str) -> str:
    """Case- and accent-insensitive text for ``q`` (ß → ss, ä → a)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace("ß", "ss"))
    if decomposed.isascii():
        return decomposed
    return decomposed.translate(_combining())


@functools.cache
def _combining() -> dict[int, None]:
    """Every combining character, to drop with ``str.translate`` (a per-character test in
    Python cost seconds for the site's 20,000 search texts)."""
    return {c: None for c in range(sys.maxunicode + 1) if unicodedata.combining(chr(c))}


def site_declaration() -> dict[str, Any]:
    """The declaration as JSON for the site's script (parameters, values, match kinds)."""
    return {
        "facets": [
            {"param": f.param, "field": f.field, "match": f.match.value, "values": f.values}
            for f in FACETS
        ],
        "days": list(DAY_WORDS),
        "age_bounds": {g.value: list(g.bounds) for g in AgeGroup},
        "open_span": OPEN_SPAN,
        "oldest": OLDEST,
    }
