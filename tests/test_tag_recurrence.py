"""Series keys from a source's own recurrence (taxonomy.md: "the occurrences of one recurring
source event" share a key), beside the text's cues."""

from __future__ import annotations

from datetime import datetime

from core.model import BERLIN, Event, SourceRef
from pipeline.tag import recurring_keys, rule_tags, tag_event, with_overrides


def _event(record_id: str, *, source: str = "stadtteiltreff", day: int = 5) -> Event:
    return Event(
        uid=f"u-{record_id}",
        title="Spielenachmittag im Quartier",
        description="Brettspiele für Groß und Klein, Kaffee und Saft.",
        start=datetime(2027, 3, day, 15, tzinfo=BERLIN),
        end=None,
        all_day=False,
        sources=(SourceRef(id=source, record_id=record_id),),
    )


def recurring_records(events: list[Event]) -> frozenset[tuple[str, str]]:
    """``recurring_keys`` of the events' records, as the process stage gives it."""
    return recurring_keys((e.sources[0].id, e.sources[0].record_id) for e in events)


def test_dated_occurrences_of_one_record_share_a_series_key() -> None:
    first, second = (
        _event("abc@treff#2027-03-05T15:00:00", day=5),
        _event("abc@treff#2027-03-12T15:00:00", day=12),
    )
    recurring = recurring_records([first, second])
    assert recurring == {("stadtteiltreff", "abc@treff")}
    one = with_overrides(first, rule_tags(first), recurring=recurring)
    two = with_overrides(second, rule_tags(second), recurring=recurring)
    assert one.series is not None and one.series == two.series
    assert any(r.startswith("series: one of several dates") for r in one.reasons)


def test_a_single_dated_record_or_two_sources_are_no_recurrence() -> None:
    lone = _event("xyz#2027-03-05")
    other = _event("xyz#2027-03-12", source="another-source")
    assert recurring_records([lone, other]) == frozenset()
    assert tag_event(lone).series is None  # the text says nothing about a recurrence


def test_a_link_fragment_is_not_an_occurrence_date() -> None:
    # "page#programm" and "page#anfahrt" are two anchors, not two dates of one record.
    events = [
        _event("https://example.org/page#programm"),
        _event("https://example.org/page#anfahrt"),
    ]
    assert recurring_records(events) == frozenset()
