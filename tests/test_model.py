"""The domain model: JSON round trips keep values, zones and vocabularies."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime

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
