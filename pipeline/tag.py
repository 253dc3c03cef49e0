"""The tagging stage: every tag of taxonomy.md on every event, each with its evidence.

Contract:
- ``tag_event(event) -> Tags`` tags a normalized ``famcal.model.Event`` from its title,
  description, categories, price, location and ``event.hints`` (source statements: ``status``
  e.g. "CANCELLED"/"EventCancelled", ``free`` bool, ``age_range`` e.g. "6-12"), then applies
  the manual corrections of ``data/overrides.toml`` keyed by the uid or a source record id.
- ``tag_record(record) -> dict`` is the same for a ``famcal tag`` line (contract.md): the input
  keys ``id, title, description, start, end, location{…}, categories, price, url`` (any may be
  missing or None); returns a new dict = input plus ``family, age_min, age_max, age_groups,
  free, aktivpass, district, municipality, status, topics, audiences, reasons`` (JSON-safe).
  Overrides keyed by the record's ``id`` apply.
- ``reasons_line(tags)`` is the short one-line summary of the reasons for an ICS description.
- Pure: the rules are data files under ``data/`` loaded once (``pipeline.rules``,
  ``pipeline.places``); no database, network or clock. Every tag that is set has a reason
  "tag: rule «phrase»"; an explicit age beats a keyword; overrides beat every rule.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from typing import Any

from famcal.model import AgeGroup, Audience, Event, Location, Status, Tags, Topic
from pipeline.ages import AgeFinding, find_ages, groups_for_range, groups_from_words
from pipeline.family import decide_family
from pipeline.overrides import apply_overrides
from pipeline.places import locate
from pipeline.price import decide_aktivpass, decide_free
from pipeline.rules import first_hit, match_lexicon, rules
from pipeline.status import decide_status
from pipeline.text import fold

_TAG_KEYS = (
    "family",
    "age_min",
    "age_max",
    "age_groups",
    "free",
    "aktivpass",
    "district",
    "municipality",
    "status",
    "topics",
    "audiences",
    "reasons",
)
_HINT_RANGE = re.compile(r"^\s*(\d{1,2})?\s*(?:-|–|bis)?\s*(\d{1,2})?\s*\+?\s*$")
_TAGS = re.compile(r"<[^>]+>")


def _span(lo: int | None, hi: int | None) -> str:
    return f"{'' if lo is None else lo}–{'' if hi is None else hi}"


def _hint_ages(value: Any) -> AgeFinding | None:
    """A source's typicalAgeRange: "6-12", "6-", "-12", "6+"."""
    if not isinstance(value, str):
        return None
    m = _HINT_RANGE.match(value)
    if not m or not (m.group(1) or m.group(2)):
        return None
    lo = int(m.group(1)) if m.group(1) else None
    hi = int(m.group(2)) if m.group(2) else None
    if lo is not None and hi is None and "-" not in value and "+" not in value:
        hi = lo  # a single number "8" is an exact age
    return AgeFinding(min=lo, max=hi, phrases=(f"source age range {value}",))


def tag_fields(
    *,
    title: str,
    description: str,
    categories: Sequence[str],
    price: str,
    location: Location,
    hints: Mapping[str, Any] | None = None,
) -> Tags:
    """The rules alone (no overrides) on the parts of a listing."""
    book = rules()
    hints = hints or {}
    # Sources may still deliver HTML and entities ("Kinder &amp; Jugendliche").
    f_title = fold(html.unescape(title))
    f_desc = fold(html.unescape(_TAGS.sub(" ", description)))
    f_price = fold(html.unescape(price))
    f_cats = [fold(html.unescape(c)) for c in categories]
    text = f"{f_title} . {f_desc}"
    reasons: list[str] = []

    ages = find_ages(text, book.ages)
    if ages is None:
        ages = _hint_ages(hints.get("age_range"))
    age_min = ages.min if ages else None
    age_max = ages.max if ages else None
    word_groups: tuple[AgeGroup, ...] = ()
    if ages is not None:
        if age_min is not None or age_max is not None:
            reasons.append(f"age: «{', '.join(ages.phrases)}» → {_span(age_min, age_max)}")
        groups = groups_for_range(age_min, age_max) if (age_min is None or age_min <= 17) else ()
        if groups:
            reasons.append(f"age_groups: from the ages {_span(age_min, age_max)}")
    else:
        word_groups, phrases = groups_from_words(text, book.ages)
        groups = word_groups
        if groups:
            reasons.append(f"age_groups: words «{', '.join(phrases)}»")

    family, why = decide_family(text, f_cats, ages, word_groups, book.family)
    reasons.extend(why)

    hint_free = hints.get("free")
    free, why = decide_free(
        f_price, f_desc, hint_free if isinstance(hint_free, bool) else None, book.price
    )
    reasons.extend(why)
    aktivpass, why = decide_aktivpass(f"{text} . {f_price}", book.price)
    reasons.extend(why)

    status, why = decide_status(f_title, f_desc, hints.get("status"), book.status)
    reasons.extend(why)

    place = locate(location, title)
    reasons.extend(place.reasons)

    topic_text = f"{text} . {' . '.join(f_cats)}"
    topics: list[Topic] = []
    suppressed = first_hit(book.topic_suppress, text)
    if suppressed:
        reasons.append(f"topics: none, a meeting «{suppressed[1]}»")
    else:
        for topic, lexicon in book.topics.items():
            why_topic = match_lexicon(lexicon, topic_text, f_cats)
            if why_topic:
                topics.append(topic)
                reasons.append(f"topic {topic.value}: {why_topic}")
    audiences: list[Audience] = []
    for audience, lexicon in book.audiences.items():
        # Audiences read the categories only through their map: "Kinder & Jugendliche" on
        # hannover.de names a section, not teenagers.
        why_aud = match_lexicon(lexicon, text, f_cats)
        if why_aud:
            audiences.append(audience)
            reasons.append(f"audience {audience.value}: {why_aud}")
    if Audience.ALLEINERZIEHENDE in audiences and Audience.ELTERN not in audiences:
        audiences.append(Audience.ELTERN)
        reasons.append("audience eltern: single parents are parents")

    return Tags(
        family=family,
        age_min=age_min,
        age_max=age_max,
        age_groups=tuple(g for g in AgeGroup if g in groups),
        free=free,
        aktivpass=aktivpass,
        district=place.district,
        municipality=place.municipality,
        status=status,
        topics=tuple(t for t in Topic if t in topics),
        audiences=tuple(a for a in Audience if a in audiences),
        reasons=tuple(reasons),
    )


def tag_event(event: Event) -> Tags:
    tags = tag_fields(
        title=event.title,
        description=event.description,
        categories=event.categories,
        price=event.price or "",
        location=event.location,
        hints=event.hints,
    )
    record_ids = [s.record_id for s in event.sources if s.record_id]
    return apply_overrides(tags, uid=event.uid, record_ids=record_ids)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def tag_record(record: dict[str, Any]) -> dict[str, Any]:
    categories = record.get("categories") or []
    if isinstance(categories, str):
        categories = [categories]
    location = record.get("location")
    tags = tag_fields(
        title=_text(record.get("title")),
        description=_text(record.get("description")),
        categories=[c for c in categories if isinstance(c, str)],
        price=_text(record.get("price")),
        location=Location.from_dict(location if isinstance(location, dict) else None),
        hints=record.get("hints") if isinstance(record.get("hints"), dict) else None,
    )
    record_id = record.get("id")
    tags = apply_overrides(
        tags,
        uid=record.get("uid") if isinstance(record.get("uid"), str) else None,
        record_ids=[str(record_id)] if record_id is not None else [],
    )
    out = dict(record)
    values = tags.to_dict()
    out.update({key: values[key] for key in _TAG_KEYS})
    return out


_PHRASE = re.compile(r"«([^»]*)»")


def reasons_line(tags: Tags, *, limit: int = 300) -> str:
    """One short line for an ICS description: each tag with the phrases that set it.

    'Tags: family «kindertheater», «ab 4 jahren»; free «eintritt frei»; district «linden»'
    (negative family evidence is left out when the event is a family event, and vice versa).
    """
    phrases: dict[str, list[str]] = {}
    for reason in tags.reasons:
        key, _, rest = reason.partition(":")
        if key == "family" and (rest.strip().startswith("no") != (not tags.family)):
            continue
        if key == "family" and "(-" in rest and tags.family:
            continue
        found = _PHRASE.findall(rest)
        if not found and key not in ("status", "override"):
            continue
        bucket = phrases.setdefault(key, [])
        bucket.extend(p for p in found if p not in bucket)
        if not found:
            bucket.append(rest.strip())
    parts = [f"{key} " + ", ".join(f"«{p}»" for p in found) for key, found in phrases.items()]
    line = "Tags: " + "; ".join(parts)
    return line if len(line) <= limit else line[: limit - 1] + "…"


__all__ = ["Status", "reasons_line", "tag_event", "tag_fields", "tag_record"]
