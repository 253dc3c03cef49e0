"""The domain model: the bottom layer every other module builds on.

Contract:
- Values are frozen, keyword-only dataclasses; stages return new values (``dataclasses.replace``).
- Vocabularies are ``StrEnum``s whose values are the slugs of ``shared/spec/taxonomy.md``;
  they are declared in ``core.vocab`` and re-exported here.
- Datetimes are timezone-aware everywhere past the spiders. A ``RawEvent`` keeps the
  time text as the source gave it (ISO 8601, naive, with offset, or a bare date) plus the
  time-zone name to read naive times in; ``pipeline.normalize`` turns it into an ``Event``.
- ``to_dict``/``from_dict`` give the JSON-safe form used by the store and between processes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from functools import cache
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from core.vocab import AgeGroup as AgeGroup
from core.vocab import Audience as Audience
from core.vocab import District as District
from core.vocab import Health as Health
from core.vocab import Municipality as Municipality
from core.vocab import Registration as Registration
from core.vocab import SourceType as SourceType
from core.vocab import Status as Status
from core.vocab import Topic as Topic

BERLIN = ZoneInfo("Europe/Berlin")
_D = TypeVar("_D")


@dataclass(frozen=True, kw_only=True)
class Location:
    name: str = ""
    street: str = ""
    postal_code: str = ""
    city: str = ""
    lat: float | None = None
    lon: float | None = None

    def is_empty(self) -> bool:
        return not (self.name or self.street or self.postal_code or self.city) and self.lat is None

    def one_line(self) -> str:
        """'Venue, Street, 30159 Hannover' without empty parts."""
        town = " ".join(p for p in (self.postal_code, self.city) if p)
        return ", ".join(p for p in (self.name, self.street, town) if p)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "street": self.street,
            "postal_code": self.postal_code,
            "city": self.city,
            "lat": self.lat,
            "lon": self.lon,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Location:
        data = data or {}

        def num(value: Any) -> float | None:
            try:
                return None if value in (None, "") else float(value)
            except (TypeError, ValueError):
                return None

        return cls(
            name=str(data.get("name") or ""),
            street=str(data.get("street") or ""),
            postal_code=str(data.get("postal_code") or ""),
            city=str(data.get("city") or ""),
            lat=num(data.get("lat")),
            lon=num(data.get("lon")),
        )


@dataclass(frozen=True, kw_only=True)
class RawEvent:
    """One occurrence as a spider found it, before any cleaning.

    ``record_id`` is the source's own identity of this occurrence (an ICS UID plus its
    recurrence id, a hannover.de location id plus the date, a page URL): it must survive
    title and time changes, because the event's published UID is derived from it.
    ``start``/``end`` are ISO 8601 text: ``2026-12-06`` (all day), ``2026-12-06T11:00:00``
    (naive, read in ``timezone`` or Europe/Berlin), ``2026-12-06T11:00:00+01:00`` or ``...Z``.
    ``description`` may hold HTML. Status/free/age hints are the source's structured
    statements (ICS STATUS, schema.org eventStatus, isAccessibleForFree, typicalAgeRange).
    """

    source_id: str
    record_id: str
    title: str
    start: str
    end: str | None = None
    timezone: str | None = None
    all_day: bool | None = None
    url: str | None = None
    description: str = ""
    location: Location = field(default_factory=Location)
    categories: tuple[str, ...] = ()
    price: str | None = None
    free: bool | None = None
    status: str | None = None
    age_range: str | None = None
    image: str | None = None
    source_name: str = ""  # the source's name for people (sources file), for the feeds' text

    def to_dict(self) -> dict[str, Any]:
        # Written out rather than generic: it runs for every record a crawl writes.
        return {
            "source_id": self.source_id,
            "record_id": self.record_id,
            "title": self.title,
            "start": self.start,
            "end": self.end,
            "timezone": self.timezone,
            "all_day": self.all_day,
            "url": self.url,
            "description": self.description,
            "location": self.location.to_dict(),
            "categories": list(self.categories),
            "price": self.price,
            "free": self.free,
            "status": self.status,
            "age_range": self.age_range,
            "image": self.image,
            "source_name": self.source_name,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RawEvent:
        values = {name: data[name] for name in _RAW_FIELDS if name in data}
        values["location"] = Location.from_dict(data.get("location"))
        values["categories"] = tuple(data.get("categories") or ())
        return cls(**values)


_RAW_FIELDS = tuple(f.name for f in dataclasses.fields(RawEvent))


class TagKind(StrEnum):
    """How a tag field's value looks; the JSON, its schema, overrides and the evaluation of a
    field follow from its kind (``core.tagfields``)."""

    FLAG = "flag"  # bool, default False
    MAYBE = "maybe"  # bool or None ("not said")
    NUMBER = "number"  # int or None
    SLUG = "slug"  # one value of the field's vocabulary, or None / its default
    SLUGS = "slugs"  # several values of the field's vocabulary, in the tagger's order
    TEXTS = "texts"  # several strings (codes, evidence)
    TEXT = "text"  # a string or None


def _tag(
    kind: TagKind,
    doc: str,
    vocabulary: type[StrEnum] | None = None,
    *,
    evaluated: bool = True,
    **kw: Any,
) -> Any:
    """A ``Tags`` field with its declaration: kind, vocabulary, a one-line meaning, and
    whether gold sets label it (``evaluated``)."""
    if "default" not in kw and "default_factory" not in kw:
        kw["default"] = {TagKind.FLAG: False, TagKind.SLUGS: (), TagKind.TEXTS: ()}.get(kind)
    meta = {"kind": kind, "vocabulary": vocabulary, "doc": doc, "evaluated": evaluated}
    return field(metadata=meta, **kw)


@dataclass(frozen=True, kw_only=True)
class Tags:
    """The taxonomy's tags for one event; ``reasons`` holds 'tag: rule «phrase»' evidence.

    This class is the one declaration of the tag fields: each field's kind, vocabulary and
    meaning (``_tag``) drive ``to_dict``/``from_dict``, the JSON Feed's ``_event``, the JSON
    Schema, the overrides file and the evaluation (``core.tagfields.TAG_FIELDS``).
    """

    family: bool = _tag(TagKind.FLAG, "aimed at children, teenagers or families")
    age_min: int | None = _tag(TagKind.NUMBER, "lowest age the text names")
    age_max: int | None = _tag(TagKind.NUMBER, "highest age the text names")
    age_groups: tuple[AgeGroup, ...] = _tag(TagKind.SLUGS, "age groups served", AgeGroup)
    free: bool | None = _tag(TagKind.MAYBE, "free of charge; null when nothing is said")
    aktivpass: bool = _tag(TagKind.FLAG, "HannoverAktivPass holders get a discount")
    district: District | None = _tag(TagKind.SLUG, "Stadtbezirk of Hannover", District)
    municipality: Municipality | None = _tag(
        TagKind.SLUG, "town of the Region Hannover", Municipality
    )
    status: Status = _tag(
        TagKind.SLUG, "scheduled, cancelled or postponed", Status, default=Status.SCHEDULED
    )
    topics: tuple[Topic, ...] = _tag(TagKind.SLUGS, "fields of the family policy", Topic)
    audiences: tuple[Audience, ...] = _tag(TagKind.SLUGS, "who it is for", Audience)
    registration: Registration | None = _tag(
        TagKind.SLUG, "sign-up required or not needed; null when nothing is said", Registration
    )
    booked_out: bool = _tag(TagKind.FLAG, "the text says it is full")
    languages: tuple[str, ...] = _tag(
        TagKind.TEXTS, "ISO 639-1 codes of the languages it is held in, [] for German alone"
    )
    series: str | None = _tag(
        TagKind.TEXT, "key shared by the dates of one course or regular group, null for one-offs"
    )
    reasons: tuple[str, ...] = _tag(TagKind.TEXTS, "the evidence of every tag", evaluated=False)

    def to_dict(self) -> dict[str, Any]:
        values = self.__dict__
        return {name: write(values[name]) for name, write in _tag_writers()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Tags:
        """Read ``to_dict``'s form (missing keys take the field's default)."""
        # Built as ``_built`` builds (every stored event a run reads has tags); the same
        # value as ``cls(**…)``, which the keys ``to_dict`` does not write still go through.
        if len(data) == len(_TAG_DEFAULTS) and data.keys() == _TAG_DEFAULTS.keys():
            return _built(cls, {name: read(data[name]) for name, read in _tag_readers()})
        return cls(**{name: read(data[name]) for name, read in _tag_readers() if name in data})


def _built(cls: type[_D], values: dict[str, Any]) -> _D:
    """A frozen dataclass of the model made from all its field values, without its
    ``__init__`` (which sets each field through ``object.__setattr__``: most of the cost of
    reading ≈ 20,000 stored events back). The model's classes have no ``__post_init__`` and
    no slots, so this is the value ``cls(**values)`` makes; ``values`` must name every field
    (the callers check that it does or build it from the field list)."""
    new: _D = object.__new__(cls)
    new.__dict__.update(values)
    return new


@cache
def _tag_writers() -> tuple[tuple[str, Any], ...]:
    """Per field, how its value is written as JSON (made once: ``to_dict`` runs for every
    event on every run)."""

    def slug(value: StrEnum | None) -> str | None:
        return value.value if value is not None else None

    def slugs(values: tuple[StrEnum, ...]) -> list[str]:
        return [v.value for v in values]

    def same(value: Any) -> Any:
        return value

    writers = {TagKind.SLUG: slug, TagKind.SLUGS: slugs, TagKind.TEXTS: list}
    return tuple((f.name, writers.get(f.metadata["kind"], same)) for f in dataclasses.fields(Tags))


@cache
def _tag_readers() -> tuple[tuple[str, Any], ...]:
    """Per field, how its JSON value is read: what ``_read_tag`` makes of it, with the
    vocabularies' slugs looked up in a dict and a function per kind (``from_dict`` runs for
    every stored event a run reads; ``tests/test_model.py`` compares them)."""

    def same(value: Any) -> Any:
        return value

    def texts(value: Any) -> tuple[str, ...]:
        return tuple(map(str, value)) if value else ()

    def reader(f: dataclasses.Field[Any]) -> Any:
        kind, vocabulary = f.metadata["kind"], f.metadata["vocabulary"]
        if kind is TagKind.FLAG:
            return bool
        if kind in (TagKind.MAYBE, TagKind.NUMBER, TagKind.TEXT):
            return same
        if vocabulary is None:
            if kind is TagKind.SLUG:
                return lambda value: str(value) if value else f.default
            return texts
        members = {m.value: m for m in vocabulary}

        def one(value: Any) -> Any:
            return members[value] if value in members else vocabulary(value)

        if kind is TagKind.SLUG:
            return lambda value: one(value) if value else f.default
        return lambda value: tuple([one(v) for v in value]) if value else ()

    return tuple((f.name, reader(f)) for f in dataclasses.fields(Tags))


def _read_tag(f: dataclasses.Field[Any], value: Any) -> Any:
    kind: TagKind = f.metadata["kind"]
    vocabulary = f.metadata["vocabulary"]
    if kind is TagKind.FLAG:
        return bool(value)
    if kind is TagKind.SLUG:
        if not value:
            return f.default
        return vocabulary(value) if vocabulary else str(value)
    if kind in (TagKind.SLUGS, TagKind.TEXTS):
        return tuple(vocabulary(v) if vocabulary else str(v) for v in value or ())
    return value


@dataclass(frozen=True, kw_only=True)
class SourceRef:
    id: str
    url: str | None = None
    record_id: str = ""
    name: str = ""  # for people: "Stadtbibliothek Hannover" (the sources file's name)


When = datetime | date


@dataclass(frozen=True, kw_only=True)
class Event:
    """One normalized occurrence: clean text, aware datetimes (or dates when all-day).

    ``end`` is exclusive for all-day events, as in ICS. ``uid`` is stable: derived from the
    first source's ``record_id``, kept through merges. ``sequence``/``updated`` change only
    when a material field changes (``pipeline.track``). ``tags`` is None until tagged.
    """

    uid: str
    title: str
    start: When
    end: When | None
    all_day: bool
    description: str = ""
    url: str | None = None
    location: Location = field(default_factory=Location)
    categories: tuple[str, ...] = ()
    price: str | None = None
    image: str | None = None
    hints: dict[str, Any] = field(default_factory=dict)  # source statements: status, free, age
    sources: tuple[SourceRef, ...] = ()
    tags: Tags | None = None
    sequence: int = 0
    updated: datetime | None = None
    created: datetime | None = None  # first published (``pipeline.track``)
    field_sources: dict[str, str] = field(default_factory=dict)  # field -> source id

    @property
    def status(self) -> Status:
        return self.tags.status if self.tags else Status.SCHEDULED

    def start_datetime(self) -> datetime:
        """The start as an aware datetime (all-day events start at local midnight)."""
        return as_datetime(self.start)

    def to_dict(self) -> dict[str, Any]:
        # Written out rather than generic: it runs for every event on every run.
        return {
            "uid": self.uid,
            "title": self.title,
            "start": self.start.isoformat(),
            "end": self.end.isoformat() if self.end is not None else None,
            "all_day": self.all_day,
            "description": self.description,
            "url": self.url,
            "location": self.location.to_dict(),
            "categories": list(self.categories),
            "price": self.price,
            "image": self.image,
            "hints": _to_jsonable(self.hints),
            "sources": [
                {"id": ref.id, "url": ref.url, "record_id": ref.record_id, "name": ref.name}
                for ref in self.sources
            ],
            "tags": self.tags.to_dict() if self.tags is not None else None,
            "sequence": self.sequence,
            "updated": self.updated.isoformat() if self.updated is not None else None,
            "created": self.created.isoformat() if self.created is not None else None,
            "field_sources": dict(self.field_sources),
        }

    def to_json(self) -> str:
        """The event as stored (JSON text of ``to_dict``); made once per run and reused."""
        return json.dumps(self.to_dict(), ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Event:
        tags = data.get("tags")
        return _built(
            cls,
            {
                "uid": data["uid"],
                "title": data["title"],
                "start": parse_when(data["start"]),
                "end": parse_when(data["end"]) if data.get("end") else None,
                "all_day": bool(data["all_day"]),
                "description": data.get("description") or "",
                "url": data.get("url"),
                "location": Location.from_dict(data.get("location")),
                "categories": tuple(data.get("categories") or ()),
                "price": data.get("price"),
                "image": data.get("image"),
                "hints": dict(data.get("hints") or {}),
                "sources": tuple(_source_ref(s) for s in data.get("sources") or ()),
                "tags": Tags.from_dict(tags) if tags is not None else None,
                "sequence": int(data.get("sequence") or 0),
                "updated": datetime.fromisoformat(data["updated"]) if data.get("updated") else None,
                "created": datetime.fromisoformat(data["created"]) if data.get("created") else None,
                "field_sources": dict(data.get("field_sources") or {}),
            },
        )


_TAG_DEFAULTS = {f.name: f.default for f in dataclasses.fields(Tags)}
_SOURCE_FIELDS = frozenset(f.name for f in dataclasses.fields(SourceRef))


def _source_ref(data: dict[str, Any]) -> SourceRef:
    if len(data) == len(_SOURCE_FIELDS) and data.keys() == _SOURCE_FIELDS:
        return _built(SourceRef, data.copy())
    return SourceRef(**data)  # defaults for missing keys, TypeError for unknown ones


def evolve(obj: _D, **changes: Any) -> _D:
    """``dataclasses.replace`` for the model's frozen dataclasses, about 8× cheaper: it runs
    for every event several times per run. The model has no ``__post_init__``, so copying
    the fields skips nothing ``replace`` would run; unknown names still raise."""
    cls: Any = type(obj)
    unknown = changes.keys() - _field_set(cls)
    if unknown:
        raise TypeError(f"{type(obj).__name__} has no field {', '.join(sorted(unknown))}")
    new: _D = object.__new__(cls)
    values = new.__dict__
    values.update(obj.__dict__)
    values.update(changes)
    return new


@cache
def _field_set(cls: type) -> frozenset[str]:
    return frozenset(f.name for f in dataclasses.fields(cls))


def json_digest(text: str) -> str:
    """The digest of a stored JSON text (``Event.to_json``): equal texts, equal digests."""
    return hashlib.sha256(text.encode()).hexdigest()


def as_datetime(value: When) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime(value.year, value.month, value.day, tzinfo=BERLIN)


def parse_when(text: str) -> When:
    """Read the model's own ISO form back: a date, or an aware datetime."""
    if len(text) == 10:
        return date.fromisoformat(text)
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError(f"naive datetime in the model: {text!r}")
    # The model's times are Europe/Berlin; the ISO text only keeps a fixed offset.
    return value.astimezone(BERLIN)


@cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


def _to_jsonable(obj: Any) -> Any:
    # Hot path of the store (every event, every run): plain values return at once and
    # dataclass field lists are looked up once per class.
    if isinstance(obj, StrEnum):
        return obj.value
    if obj is None or isinstance(obj, str | bool | int | float):
        return obj
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {name: _to_jsonable(getattr(obj, name)) for name in _field_names(type(obj))}
    if isinstance(obj, datetime | date):
        return obj.isoformat()
    if isinstance(obj, tuple | list):
        return [_to_jsonable(v) for v in obj]
    if isinstance(obj, dict):
        return {str(k): _to_jsonable(v) for k, v in obj.items()}
    return obj
