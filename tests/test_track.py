"""track: SEQUENCE and LAST-MODIFIED move only when a material field changes."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from core.model import BERLIN, Event, Location, SourceRef, Status, Tags
from pipeline.track import fingerprint, track
from tests.conftest import NOW

START = datetime(2026, 12, 6, 11, 0, tzinfo=BERLIN)
BASE = Event(
    uid="u1",
    title="Pippi",
    start=START,
    end=START + timedelta(hours=1),
    all_day=False,
    description="Für Kinder",
    location=Location(name="Glocksee", postal_code="30169"),
    sources=(SourceRef(id="a", record_id="1"),),
    tags=Tags(family=True),
)
EARLIER = NOW - timedelta(days=3)


def stored(event: Event, sequence: int = 2) -> dict[str, dict[str, Any]]:
    return {
        event.uid: {
            "fingerprint": fingerprint(event),
            "sequence": sequence,
            "updated": EARLIER.isoformat(),
            "created": "2026-11-01T00:00:00+01:00",
        }
    }


@pytest.mark.parametrize(
    ("change", "material"),
    [
        ({"title": "Pippi Langstrumpf"}, True),
        ({"start": START + timedelta(minutes=30)}, True),
        ({"end": None}, True),
        ({"location": Location(name="Theater am Aegi")}, True),
        ({"description": "Ab 4"}, True),
        ({"tags": Tags(family=True, status=Status.CANCELLED)}, True),
        ({"url": "https://example.org/x"}, False),
        ({"sources": (SourceRef(id="a", record_id="1"), SourceRef(id="b", record_id="9"))}, False),
        ({"categories": ("Theater",)}, False),
        ({"tags": Tags(family=False)}, False),
        ({}, False),
    ],
)
def test_material_fields(change: dict[str, Any], material: bool) -> None:
    ((event, mark, created),) = track([replace(BASE, **change)], stored(BASE), now=NOW)
    assert created == "2026-11-01T00:00:00+01:00"
    if material:
        assert (event.sequence, event.updated) == (3, NOW)
    else:
        assert (event.sequence, event.updated) == (2, EARLIER)
        assert mark == fingerprint(BASE)


def test_new_event_starts_at_zero() -> None:
    ((event, _, created),) = track([BASE], {}, now=NOW)
    assert (event.sequence, event.updated, created) == (0, NOW, NOW.isoformat())


def test_cancelled_then_scheduled_again_counts_twice() -> None:
    cancelled = replace(BASE, tags=Tags(family=True, status=Status.CANCELLED))
    ((first, _, _),) = track([cancelled], stored(BASE, sequence=0), now=NOW)
    ((again, _, _),) = track([BASE], stored(cancelled, sequence=first.sequence), now=NOW)
    assert (first.sequence, again.sequence) == (1, 2)
