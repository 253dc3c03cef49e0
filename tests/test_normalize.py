"""normalize: clean text, aware Europe/Berlin times, safe URLs, counted rejections."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from core.model import BERLIN, Location, RawEvent
from pipeline.normalize import Rejected, normalize, plain_text, safe_url, split_location


def raw(**fields: object) -> RawEvent:
    values: dict[str, object] = {
        "source_id": "s",
        "record_id": "r",
        "title": "Titel",
        "start": "2026-12-06T11:00:00",
    }
    values.update(fields)
    return RawEvent(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>Hallo <b>Welt</b></p><p>Zweiter</p>", "Hallo Welt\nZweiter"),
        ("Kinder&shy;theater &amp; mehr", "Kindertheater & mehr"),
        ("Kinder\u00adtheater", "Kindertheater"),
        ("<script>alert(1)</script>Text", "Text"),
        ("a\r\nb", "a\nb"),
        ("  viel    Raum  ", "viel Raum"),
        ("&lt;b&gt;", "<b>"),
    ],
)
def test_plain_text(html: str, text: str) -> None:
    assert plain_text(html) == text


def test_description_is_bounded() -> None:
    event = normalize(raw(description="x" * 20_000), uid="u")
    assert len(event.description) == 10_000


@pytest.mark.parametrize(
    ("start", "zone", "expected"),
    [
        ("2026-12-06T11:00:00", None, datetime(2026, 12, 6, 11, tzinfo=BERLIN)),
        ("2026-07-06T11:00:00", None, datetime(2026, 7, 6, 11, tzinfo=BERLIN)),
        ("2026-12-06T10:00:00Z", None, datetime(2026, 12, 6, 11, tzinfo=BERLIN)),
        ("2026-12-06T11:00:00+01:00", None, datetime(2026, 12, 6, 11, tzinfo=BERLIN)),
        ("2026-12-06T05:00:00", "America/New_York", datetime(2026, 12, 6, 11, tzinfo=BERLIN)),
        ("2026-12-06T11:00:00", "Not/AZone", datetime(2026, 12, 6, 11, tzinfo=BERLIN)),
    ],
)
def test_times_become_berlin(start: str, zone: str | None, expected: datetime) -> None:
    event = normalize(raw(start=start, timezone=zone), uid="u")
    assert event.start == expected
    assert isinstance(event.start, datetime) and event.start.tzinfo is BERLIN


def test_dst_offsets() -> None:
    summer = normalize(raw(start="2026-03-29T03:30:00"), uid="u").start
    winter = normalize(raw(start="2026-10-25T03:30:00"), uid="u").start
    assert isinstance(summer, datetime) and isinstance(winter, datetime)
    assert summer.utcoffset() == timedelta(hours=2)
    assert winter.utcoffset() == timedelta(hours=1)


def test_all_day_end_is_exclusive() -> None:
    single = normalize(raw(start="2026-06-01"), uid="u")
    assert single.all_day and single.end == date(2026, 6, 2)
    multi = normalize(raw(start="2026-06-01", end="2026-06-04"), uid="u")
    assert multi.end == date(2026, 6, 4)


def test_end_before_start_is_repaired() -> None:
    event = normalize(raw(start="2026-06-01T10:00:00", end="2026-06-01T09:00:00"), uid="u")
    assert event.end is None
    assert event.hints["repaired"] == "end before start"


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"title": "  "}, "no title"),
        ({"title": "<b></b>"}, "no title"),
        ({"start": ""}, "no start"),
        ({"start": "gestern"}, "unreadable time"),
        ({"start": "0001-01-01T00:00:00"}, "out of range"),
        ({"start": "2500-01-01"}, "out of range"),
    ],
)
def test_rejections(fields: dict[str, object], reason: str) -> None:
    with pytest.raises(Rejected, match=reason):
        normalize(raw(**fields), uid="u")


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://example.org/a", True),
        ("http://example.org", True),
        ("javascript:alert(1)", False),
        ("data:text/html,<b>", False),
        ("JAVASCRIPT:alert(1)", False),
        ("ftp://x", False),
        ("", False),
    ],
)
def test_safe_url(url: str, kept: bool) -> None:
    assert (safe_url(url) is not None) is kept


def test_split_location_from_ics_text() -> None:
    place = split_location(Location(name="Freizeitheim Linden, Windheimstraße 4, 30451 Hannover"))
    assert place == Location(
        name="Freizeitheim Linden", street="Windheimstraße 4", postal_code="30451", city="Hannover"
    )
    assert split_location(Location(name="Maschsee")) == Location(name="Maschsee")


def test_hints_keep_source_statements() -> None:
    event = normalize(raw(status="CANCELLED", free=True, age_range="6-12"), uid="u")
    assert event.hints == {"status": "CANCELLED", "free": True, "age_range": "6-12"}
    assert event.sources[0].id == "s" and event.sources[0].record_id == "r"
