"""The domain model: JSON round trips keep values, zones and vocabularies."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime
from typing import Any

import pytest

from core.model import (
    BERLIN,
    AgeGroup,
    District,
    Event,
    Location,
    RawEvent,
    SourceRef,
    Status,
    Tags,
    Topic,
    evolve,
    parse_when,
)


def test_raw_event_round_trip() -> None:
    raw = RawEvent(
        source_id="s",
        record_id="r1",
        title="T",
        start="2026-12-06T11:00:00",
        timezone="Europe/Berlin",
        location=Location(name="Ort", lat=52.3),
        categories=("a", "b"),
    )
    assert RawEvent.from_dict(raw.to_dict()) == raw


def test_written_out_to_dicts_cover_every_field() -> None:
    # The hand-written to_dict methods (hot paths) must not forget a field added later.
    raw = RawEvent(source_id="s", record_id="r", title="T", start="2026-12-06", free=True)
    assert raw.to_dict() == dataclasses.asdict(raw) | {"categories": []}
    assert list(raw.to_dict()) == [f.name for f in dataclasses.fields(RawEvent)]
    event = Event(uid="u", title="T", start=date(2026, 12, 6), end=None, all_day=True)
    assert set(event.to_dict()) == {f.name for f in dataclasses.fields(Event)}


def test_event_round_trip_keeps_berlin_zone() -> None:
    event = Event(
        uid="u",
        title="T",
        start=datetime(2026, 7, 1, 10, tzinfo=BERLIN),
        end=datetime(2026, 7, 1, 11, tzinfo=BERLIN),
        all_day=False,
        sources=(SourceRef(id="s", url=None, record_id="r"),),
        tags=Tags(
            family=True,
            district=District.NORD,
            topics=(Topic.KULTUR,),
            age_groups=(AgeGroup.KITA,),
            status=Status.CANCELLED,
            reasons=("x",),
        ),
    )
    back = Event.from_dict(event.to_dict())
    assert back == event
    assert isinstance(back.start, datetime) and back.start.tzinfo is BERLIN
    assert back.start.utcoffset() is not None and back.start.utcoffset().total_seconds() == 7200


def test_all_day_round_trip() -> None:
    event = Event(uid="u", title="T", start=date(2026, 6, 1), end=date(2026, 6, 4), all_day=True)
    assert Event.from_dict(event.to_dict()) == event
    assert event.start_datetime() == datetime(2026, 6, 1, tzinfo=BERLIN)


def test_naive_time_is_refused_in_the_model() -> None:
    with pytest.raises(ValueError, match="naive"):
        parse_when("2026-06-01T10:00:00")


def test_age_group_bounds() -> None:
    assert AgeGroup("10-13").bounds == (10, 13)


def test_evolve_is_replace_without_its_cost() -> None:
    event = Event(uid="u", title="T", start=date(2026, 12, 6), end=None, all_day=True)
    tags = Tags(family=True)
    assert evolve(event, tags=tags, sequence=2) == dataclasses.replace(event, tags=tags, sequence=2)
    assert event.tags is None and event.sequence == 0  # the original is untouched
    with pytest.raises(TypeError, match="no field colour"):
        evolve(event, colour="red")


def _reference_event(data: dict[str, Any]) -> Event:
    """``Event.from_dict`` as it read events before issue #20 made it build them without the
    dataclasses' ``__init__`` (every constructor called, ``_read_tag`` per tag field)."""
    from core.model import _read_tag

    tag_data = data.get("tags")
    tags = None
    if tag_data is not None:
        fields = dataclasses.fields(Tags)
        read = {f.name: _read_tag(f, tag_data[f.name]) for f in fields if f.name in tag_data}
        tags = Tags(**read)
    return Event(
        uid=data["uid"],
        title=data["title"],
        start=parse_when(data["start"]),
        end=parse_when(data["end"]) if data.get("end") else None,
        all_day=bool(data["all_day"]),
        description=data.get("description") or "",
        url=data.get("url"),
        location=Location.from_dict(data.get("location")),
        categories=tuple(data.get("categories") or ()),
        price=data.get("price"),
        image=data.get("image"),
        hints=dict(data.get("hints") or {}),
        sources=tuple(SourceRef(**s) for s in data.get("sources") or ()),
        tags=tags,
        sequence=int(data.get("sequence") or 0),
        updated=datetime.fromisoformat(data["updated"]) if data.get("updated") else None,
        created=datetime.fromisoformat(data["created"]) if data.get("created") else None,
        field_sources=dict(data.get("field_sources") or {}),
    )


def _same_value(a: Any, b: Any) -> None:
    # Equal, and of the same types all the way down (a list where a tuple was is equal to
    # nothing, but a StrEnum member and its slug compare equal).
    assert type(a) is type(b), (a, b)
    if dataclasses.is_dataclass(a):
        assert list(vars(a)) == list(vars(b))
        for name in vars(a):
            _same_value(getattr(a, name), getattr(b, name))
    elif isinstance(a, tuple | list):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _same_value(x, y)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for key in a:
            _same_value(a[key], b[key])
    else:
        assert a == b
        if isinstance(a, datetime):
            assert type(a.tzinfo) is type(b.tzinfo) and a.tzinfo == b.tzinfo


def _stored_forms() -> list[dict[str, Any]]:
    """Stored events of many shapes: every tag field set and unset, sources with and without
    their optional keys, tags with keys missing, odd values of the non-vocabulary kinds."""
    full = Event(
        uid="u1",
        title="T",
        start=datetime(2026, 7, 1, 10, tzinfo=BERLIN),
        end=datetime(2026, 7, 1, 11, tzinfo=BERLIN),
        all_day=False,
        location=Location(name="Ort", street="S", postal_code="30159", city="H", lat=52.3),
        categories=("a",),
        price="5 €",
        hints={"status": "cancelled", "free": True},
        sources=(SourceRef(id="s", url="https://x", record_id="r", name="N"),),
        tags=Tags(
            family=True,
            age_min=3,
            age_max=0,
            age_groups=(AgeGroup.KITA, AgeGroup.GRUNDSCHULE),
            free=None,
            aktivpass=True,
            district=District.NORD,
            status=Status.CANCELLED,
            topics=(Topic.KULTUR,),
            languages=("en",),
            series="k",
            reasons=("x", "y"),
        ),
        sequence=2,
        updated=datetime(2026, 7, 1, 9, tzinfo=BERLIN),
        created=datetime(2026, 6, 1, 9, tzinfo=BERLIN),
        field_sources={"title": "s"},
    )
    forms = [full.to_dict()]
    bare = Event(uid="u2", title="T", start=date(2026, 6, 1), end=None, all_day=True)
    forms.append(bare.to_dict())
    partial = full.to_dict()
    del partial["tags"]["reasons"], partial["tags"]["district"]
    partial["sources"] = [{"id": "s"}, {"id": "t", "record_id": "r"}]
    forms.append(partial)
    odd = full.to_dict()
    odd["tags"] |= {"family": 1, "booked_out": "", "languages": None, "series": "", "status": ""}
    odd["tags"]["district"] = None
    odd["tags"]["topics"] = None
    forms.append(odd)
    extra = full.to_dict()
    extra["tags"]["extra"] = 1  # a key no field has: ignored, as before
    forms.append(extra)
    return forms


@pytest.mark.parametrize("number", range(5))
def test_fast_from_dict_reads_what_the_constructors_read(number: int) -> None:
    data = _stored_forms()[number]
    _same_value(Event.from_dict(data), _reference_event(data))


def test_fast_from_dict_refuses_what_the_constructors_refuse() -> None:
    data = _stored_forms()[0]
    data["sources"] = [{"id": "s", "unknown": 1}]
    with pytest.raises(TypeError):
        Event.from_dict(data)
    data = _stored_forms()[0]
    data["tags"]["district"] = "nowhere"
    with pytest.raises(ValueError):
        Event.from_dict(data)


def test_fast_from_dict_over_the_sample_calendar() -> None:
    from tests.feed_samples import sample_events

    events = sample_events()
    assert len(events) > 10
    for event in events:
        data = json.loads(event.to_json())  # as the store holds it
        back = Event.from_dict(data)
        _same_value(back, _reference_event(data))
        assert back == event and hash(back.tags) == hash(event.tags)
