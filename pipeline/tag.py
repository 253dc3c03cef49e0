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
- ``age_groups`` from words (not numbers) are kept only when the event is a family event; so
  are the audiences of a family role (eltern, alleinerziehende, jugendliche), and a family
  event whose youngest age is 12 to 17 is for ``jugendliche`` (``family_audiences``).
- ``series``: when the text says the date is one of a course or regular group ("jeden
  Dienstag", "Kurs an 6 Terminen"; ``pipeline.practical``), the key is ``series_key`` of the
  folded title; ``with_overrides`` adds the event's first source id, so the dates of one course
  of one source share a key and two sources' courses of the same name do not. The source's own
  recurrence counts too (taxonomy.md: "the occurrences of one recurring source event"): an
  event whose source record is one of several occurrences of that source's record (record ids
  ``<record>#<date…>`` sharing ``<record>``: ``recurring_keys`` of the run's records) gets the
  same key when the text says nothing.
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
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from core.model import Audience, Event, Location, Tags, evolve
from core.paths import code_digest, data_digest
from core.tagfields import TAG_NAMES
from pipeline.ages import AgeFinding, decide_ages
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
    if groups and ages is None and not family:
        # Groups from words describe an audience only on a family event; elsewhere the words
        # name performers, makers or beneficiaries ("Bastelarbeiten der Grundschulkinder" at a
        # Christmas market, a benefit "für Kinder und Jugendliche"). Numbers still count.
        groups = ()
        reasons.append("age_groups: none, group words on an event that is not for families")

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
    audiences, why = family_audiences(audiences, family=family, ages=ages)
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


# Audiences that are a family role (taxonomy.md: family = children and teenagers, parents in
# their family role): on an event that is not for families, their words name performers, makers,
# beneficiaries or prices ("Erlös für Kinder und Jugendliche", "Chormütter").
_FAMILY_ROLES = (Audience.ELTERN, Audience.ALLEINERZIEHENDE, Audience.JUGENDLICHE)
_TEEN_MIN, _TEEN_GROUP, _ADULT = 12, 14, 18  # teen audience from 12; the 14-17 group


def family_audiences(
    audiences: tuple[Audience, ...], *, family: bool, ages: AgeFinding | None
) -> tuple[tuple[Audience, ...], tuple[str, ...]]:
    """The family-role audiences only on family events; teenagers also from the ages: a family
    event whose youngest are 12 to 17 ("für 14- bis 17-Jährige", "ab 12") is for teenagers, one
    whose oldest are under 14 is not, whatever word it uses."""
    if not family:
        dropped = [a for a in audiences if a in _FAMILY_ROLES]
        if not dropped:
            return audiences, ()
        names = ", ".join(a.value for a in dropped)
        kept = tuple(a for a in audiences if a not in _FAMILY_ROLES)
        return kept, (f"audiences: none of {names}, not a family event",)
    low = ages.min if ages is not None else None
    high = ages.max if ages is not None else None
    if Audience.JUGENDLICHE in audiences and high is not None and high < _TEEN_GROUP:
        # The stated ages beat the word: "Kinder und Jugendliche von 5 bis 12 Jahren".
        kept = tuple(a for a in audiences if a is not Audience.JUGENDLICHE)
        return kept, (f"audiences: none of jugendliche, ages up to {high}",)
    if Audience.JUGENDLICHE not in audiences and low is not None and _TEEN_MIN <= low < _ADULT:
        found = {*audiences, Audience.JUGENDLICHE}
        why = f"audience jugendliche: ages from {low}"
        return tuple(a for a in Audience if a in found), (why,)
    return audiences, ()


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


# An occurrence's record id: the source's record, "#", the occurrence's date (ICS UID plus
# RECURRENCE-ID, hannover.de id plus day, a page link plus start).
_OCCURRENCE = re.compile(r"^(.+)#(\d{4}-\d{2}-\d{2}\S*)$")


def _record_base(record_id: str) -> str | None:
    m = _OCCURRENCE.match(record_id)
    return m.group(1) if m else None


def recurring_keys(keys: Iterable[tuple[str, str]]) -> frozenset[tuple[str, str]]:
    """(source id, record) pairs dated two or more times among the (source id, record id)
    ``keys``: the source itself says these dates are one recurring event."""
    counts: Counter[tuple[str, str]] = Counter()
    for source_id, record_id in keys:
        if (base := _record_base(record_id)) is not None:
            counts[(source_id, base)] += 1
    return frozenset(key for key, n in counts.items() if n > 1)


def is_recurring(key: tuple[str, str], recurring: Collection[tuple[str, str]]) -> bool:
    """True when the record (source id, record id) is one date of a pair in ``recurring``."""
    base = _record_base(key[1])
    return base is not None and (key[0], base) in recurring


def with_overrides(
    event: Event, tags: Tags, *, recurring: Collection[tuple[str, str]] = frozenset()
) -> Tags:
    """The event's own half: the series key of its source (from the text's cue, or from the
    source's recurrence when its first record is in ``recurring``), then the manual overrides."""
    if event.sources:
        first = event.sources[0]
        base = _record_base(first.record_id) if tags.series is None and recurring else None
        if tags.series is not None or (base is not None and (first.id, base) in recurring):
            key = series_key(fold(html.unescape(event.title)), first.id)
            reasons = tags.reasons
            if tags.series is None:
                reasons = (
                    *reasons,
                    f"series: one of several dates of the source's record «{base}»",
                )
            tags = evolve(tags, series=key, reasons=reasons)
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


__all__ = [
    "is_recurring",
    "reasons_line",
    "recurring_keys",
    "tag_event",
    "tag_fields",
    "tag_record",
    "with_overrides",
]
