"""The tagging stage: every tag of taxonomy.md on every event, each with its evidence.

Contract:
- ``tag_event(event) -> Tags`` tags a normalized ``core.model.Event`` from its title,
  description, categories, price, location and ``event.hints`` (source statements: ``status``
  e.g. "CANCELLED"/"EventCancelled", ``free`` bool, ``age_range`` e.g. "6-12"), then applies
  the manual corrections of ``data/overrides.toml`` keyed by the uid or a source record id.
- ``tag_record(record) -> dict`` is the same for a ``famcal tag`` line (contract.md): the input
  keys ``id, title, description, start, end, location{…}, categories, price, url`` (any may be
  missing or None); returns a new dict = input plus ``family, age_min, age_max, age_groups,
  free, aktivpass, district, municipality, status, topics, audiences, registration,
  booked_out, languages, series, reasons`` (JSON-safe). Overrides keyed by the record's ``id``
  apply.
- ``series``: when the text says the date is one of a course or regular group ("jeden
  Dienstag", "Kurs an 6 Terminen"; ``pipeline.practical``), the key is ``series_key`` of the
  folded title; ``with_overrides`` adds the event's first source id, so the dates of one course
  of one source share a key and two sources' courses of the same name do not.
- ``rule_tags``/``with_overrides``/``rule_key``: the two halves of ``tag_event`` and a key
  that identifies the first half's input, so callers can reuse tags of unchanged listings.
- ``reasons_line(tags)`` is the short one-line summary of the reasons for an ICS description.
- Pure: the rules are data files under ``data/`` loaded once (``pipeline.rules``,
  ``pipeline.places``); no database, network or clock. Every tag that is set has a reason
  "tag: rule «phrase»"; an explicit age beats a keyword; overrides beat every rule.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from core.model import Event, Location, Tags, evolve
from core.paths import code_digest, data_digest
from core.tagfields import TAG_NAMES
from pipeline.ages import decide_ages
from pipeline.family import decide_family
from pipeline.learned import Vote, is_active, model, revise_family
from pipeline.overrides import apply_overrides
from pipeline.places import locate
from pipeline.practical import decide_practical, practical_rules
from pipeline.price import decide_aktivpass, decide_free
from pipeline.rules import rules
from pipeline.status import decide_status
from pipeline.text import fold
from pipeline.topics import decide_audiences, decide_topics, revise_with_model

_TAGS = re.compile(r"<[^>]+>")


def folded_parts(
    title: str, description: str, categories: Sequence[str]
) -> tuple[str, str, list[str]]:
    """Folded title, description and categories: the form every rule and the model read."""
    # Sources may still deliver HTML and entities ("Kinder &amp; Jugendliche").
    return (
        fold(html.unescape(title)),
        fold(html.unescape(_TAGS.sub(" ", description))),
        [fold(html.unescape(c)) for c in categories],
    )


def tag_fields(
    *,
    title: str,
    description: str,
    categories: Sequence[str],
    price: str,
    location: Location,
    hints: Mapping[str, Any] | None = None,
    use_model: bool = True,
) -> Tags:
    """The rules and the trained models (no overrides) on the parts of a listing.

    ``use_model=False`` gives the rules alone: what ``scripts/train_tagger.py`` trains on top of.
    """
    book = rules()
    hints = hints or {}
    f_title, f_desc, f_cats = folded_parts(title, description, categories)
    f_price = fold(html.unescape(price))
    text = f"{f_title} . {f_desc}"
    reasons: list[str] = []

    ages, groups, word_groups, why = decide_ages(text, hints.get("age_range"), book.ages)
    reasons.extend(why)

    family, why, score = decide_family(text, f_cats, ages, word_groups, book.family)
    reasons.extend(why)
    learned = model() if use_model else None
    known: list[frozenset[str]] = []  # the text's known features, found at the first vote

    def vote(name: str) -> Vote:
        assert learned is not None
        if not known:
            known.append(learned.known(text, f_cats))
        return learned.vote(name, known[0])

    fam_label = learned.label("family") if learned else None
    if fam_label is not None and is_active(fam_label):
        # An explicit age stays stronger than the model (taxonomy.md).
        explicit = ages is not None and (ages.min is not None or ages.max is not None)
        family, why_model = revise_family(
            family,
            score=None if explicit else score,
            threshold=book.family.threshold,
            vote=vote("family"),
            label=fam_label,
        )
        reasons.append(why_model)

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

    topics, why = decide_topics(text, f_cats, book)
    if learned is not None:
        topics, why = revise_with_model(topics, why, vote, learned)
    reasons.extend(why)
    audiences, why = decide_audiences(text, f_cats, book)
    reasons.extend(why)
    practical = decide_practical(f"{text} . {f_price}", practical_rules())
    reasons.extend(practical.reasons)

    return Tags(
        family=family,
        age_min=ages.min if ages else None,
        age_max=ages.max if ages else None,
        age_groups=groups,
        free=free,
        aktivpass=aktivpass,
        district=place.district,
        municipality=place.municipality,
        status=status,
        topics=topics,
        audiences=audiences,
        registration=practical.registration,
        booked_out=practical.booked_out,
        languages=practical.languages,
        series=series_key(f_title) if practical.series_cue else None,
        reasons=tuple(reasons),
    )


def tag_event(event: Event) -> Tags:
    return with_overrides(event, rule_tags(event))


def rule_tags(event: Event) -> Tags:
    """The rules' tags before manual overrides: a pure function of what ``rule_key`` covers."""
    return tag_fields(
        title=event.title,
        description=event.description,
        categories=event.categories,
        price=event.price or "",
        location=event.location,
        hints=event.hints,
    )


def series_key(folded_title: str, source_id: str = "") -> str:
    """The key the dates of one course share: the source and the title, folded, digits and
    punctuation dropped (a date or "Teil 3" in the title does not split a course)."""
    words = re.sub(r"[^\w]+|\d+", " ", folded_title).split()
    digest = hashlib.sha256(f"{source_id}\x1f{' '.join(words)}".encode()).hexdigest()
    return "s-" + digest[:16]


def with_overrides(event: Event, tags: Tags) -> Tags:
    """The event's own half: the series key of its source, then the manual overrides."""
    if tags.series is not None and event.sources:
        key = series_key(fold(html.unescape(event.title)), event.sources[0].id)
        tags = evolve(tags, series=key)
    record_ids = [s.record_id for s in event.sources if s.record_id]
    return apply_overrides(tags, uid=event.uid, record_ids=record_ids)


def rule_key(event: Event) -> str:
    """Equal keys, equal ``rule_tags``: the inputs the rules read plus the rules' digest.

    Lets a run reuse the tags of an unchanged listing, and the occurrences of a series (which
    share their texts) be tagged once.
    """
    place = event.location
    payload = json.dumps(
        [
            event.title,
            event.description,
            list(event.categories),
            event.price or "",
            [place.name, place.street, place.postal_code, place.city, place.lat, place.lon],
            event.hints,
        ],
        ensure_ascii=False,
        sort_keys=True,
        default=str,
    )
    salt = data_digest() + code_digest("pipeline")
    return hashlib.sha256((salt + payload).encode()).hexdigest()


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
    out.update({key: values[key] for key in TAG_NAMES})
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


__all__ = ["reasons_line", "tag_event", "tag_fields", "tag_record"]
