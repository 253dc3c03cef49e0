"""No input can crash the partner parsers: generated bodies only ever give events, skips or
the documented "not a calendar"/"not an events answer" errors."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from spiders.common import Skip
from spiders.ics import NotACalendar, parse_ics
from spiders.jsonld import parse_jsonld_page
from spiders.tribe import parse_tribe_page

WINDOW = {
    "window_start": datetime(2026, 1, 1, tzinfo=UTC),
    "window_end": datetime(2028, 1, 1, tzinfo=UTC),
}
LINES = st.sampled_from(
    [
        "BEGIN:VEVENT",
        "END:VEVENT",
        "BEGIN:VTIMEZONE",
        "END:VTIMEZONE",
        "UID:x",
        "DTSTART:20261201T100000",
        "DTSTART;VALUE=DATE:20261201",
        "DTSTART:2026",
        "DTSTART;TZID=Nowhere/Land:20261201T100000",
        "DTEND:20261130T100000",
        "DURATION:PT1H",
        "DURATION:P99999999W",
        "RRULE:FREQ=DAILY;COUNT=3",
        "RRULE:FREQ=",
        "RDATE:20261205T100000",
        "RDATE;VALUE=PERIOD:20261205T100000/PT1H",
        "EXDATE:2026",
        "RECURRENCE-ID:20261202T100000",
        "GEO:1;2",
        "GEO:x",
        "CATEGORIES:a,b",
        "STATUS:CANCELLED",
        "SUMMARY:ä",
        "X-WR-TIMEZONE:Europe/Berlin",
        "X-WR-TIMEZONE:Mars",
        " folded",
        "garbage",
        "",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(LINES, max_size=30))
def test_ics_never_crashes(lines: list[str]) -> None:
    body = "\r\n".join(["BEGIN:VCALENDAR", *lines, "END:VCALENDAR"]).encode()
    try:
        for item in parse_ics(body, **WINDOW):
            assert isinstance(item, dict | Skip)
    except NotACalendar:
        pass


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
EVENT_KEYS = st.sampled_from(
    [
        "@type",
        "name",
        "startDate",
        "endDate",
        "location",
        "offers",
        "@graph",
        "subEvent",
        "eventStatus",
        "isAccessibleForFree",
        "image",
        "url",
        "@id",
        "keywords",
        "address",
        "geo",
    ]
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(EVENT_KEYS, JSON | st.just("Event") | st.just("2026-12-01"), max_size=10))
def test_jsonld_never_crashes(node: dict[str, Any]) -> None:
    import json

    node.setdefault("@type", "Event")
    html = f'<script type="application/ld+json">{json.dumps(node)}</script>'
    for item in parse_jsonld_page(html, "https://example.org/"):
        assert isinstance(item, dict | Skip)


TRIBE_KEYS = st.sampled_from(
    [
        "id",
        "title",
        "start_date",
        "end_date",
        "all_day",
        "venue",
        "cost",
        "cost_details",
        "categories",
        "url",
        "image",
        "hide_from_listings",
        "status",
        "timezone",
    ]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.dictionaries(TRIBE_KEYS, JSON | st.just("2026-12-01 10:00:00")), max_size=4))
def test_tribe_never_crashes(events: list[dict[str, Any]]) -> None:
    items, _ = parse_tribe_page({"events": events}, "Europe/Berlin")
    assert all(isinstance(item, dict | Skip) for item in items)
