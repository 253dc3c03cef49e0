"""The ``jsonld`` source type: schema.org Events from JSON-LD and microdata pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.model import Location
from spiders.common import Skip
from spiders.jsonld import parse_jsonld_page

FIXTURES = Path(__file__).parent / "fixtures" / "jsonld"
BASE = "https://theater.example.org/"
CORPORA = next(
    (
        p / "shared" / "corpora"
        for p in Path(__file__).resolve().parents[1:]
        if (p / "shared" / "corpora").is_dir()
    ),
    Path(__file__).resolve().parents[1].parent / "shared" / "corpora",
)


def parse(name: str) -> tuple[list[dict[str, Any]], list[Skip]]:
    found = list(parse_jsonld_page((FIXTURES / name).read_bytes(), BASE + name))
    return [f for f in found if isinstance(f, dict)], [f for f in found if isinstance(f, Skip)]


def test_childrens_event_with_offset_place_geo_offers_age_and_status() -> None:
    (event,), skips = parse("event1.html")
    assert skips == []
    assert event["record_id"] == "https://theater.example.org/#grueffelo-2026-12-06"  # @id
    assert event["title"] == "Der Grüffelo"  # entity decoded
    assert (event["start"], event["end"]) == (
        "2026-12-06T11:00:00+01:00",
        "2026-12-06T12:00:00+01:00",
    )
    assert event["timezone"] is None and event["all_day"] is False
    assert event["status"] == "https://schema.org/EventCancelled"
    assert event["age_range"] == "4-8"
    assert event["price"] == "8.00 EUR / 5 EUR"
    assert event["free"] is False
    assert event["categories"] == ("Kindertheater", "Puppenspiel")
    assert event["image"] == "https://theater.example.org/bilder/grueffelo.jpg"
    assert event["url"] == BASE + "event1.html"
    assert event["location"] == Location(
        name="Kindertheater am Markt",
        street="Marktstraße 5",
        postal_code="30159",
        city="Hannover",
        lat=52.3717,
        lon=9.7356,
    )


def test_graph_with_naive_start_free_offer_and_text_address() -> None:
    (event,), _ = parse("event2.html")
    assert event["record_id"] == BASE + "event2.html"  # the event url
    assert (event["start"], event["timezone"]) == ("2026-12-13T15:00:00", "Europe/Berlin")
    assert event["free"] is True and event["price"] == "0 EUR"
    assert event["status"] == "EventRescheduled"
    assert event["location"].street == "Hildesheimer Straße 20"
    assert (event["location"].postal_code, event["location"].city) == ("30169", "Hannover")


def test_list_with_two_occurrences_of_one_event_and_all_day_dates() -> None:
    events, _ = parse("event3.html")
    assert [(e["record_id"], e["start"], e["end"], e["all_day"]) for e in events] == [
        (BASE + "event3.html#2027-01-10", "2027-01-10", "2027-01-12", True),  # end exclusive
        (BASE + "event3.html#2027-01-17", "2027-01-17", "2027-01-18", True),
    ]
    assert events[0]["status"] == "https://schema.org/EventPostponed"


def test_malformed_json_ld_and_broken_neighbour_script() -> None:
    (event,), _ = parse("event4.html")
    assert event["title"] == "Jim Knopf und Lukas der Lokomotivführer"
    assert event["free"] is True  # isAccessibleForFree "True"
    assert event["description"].startswith("Eine Reise nach Lummerland")
    assert event["record_id"] == BASE + "event4.html"  # no @id, no url: the page


def test_microdata_with_link_inside_the_element_and_an_event_without_date() -> None:
    events, skips = parse("event5.html")
    assert [(e["record_id"], e["title"], e["start"]) for e in events] == [
        (
            "https://theater.example.org/konzerte/familienkonzert",
            "Familienkonzert",
            "2027-03-05T19:30:00+01:00",
        ),
    ]
    assert events[0]["location"].street == "Maschstraße 22"
    assert [s.reason for s in skips] == ["event without startDate"]


@pytest.mark.parametrize(
    "html",
    [
        "",
        "   ",
        "<html><body>Kein Event</body></html>",
        '<script type="application/ld+json">{{{</script>',
        '<script type="application/ld+json">{"@type": "Event", "name": "x", '
        '"startDate": "bald"}</script>',
        '<script type="application/ld+json">[1, "a", null, {"@graph": 5}]</script>',
        '<script type="application/ld+json">{"@type": "Event", "name": ["a"], '
        '"startDate": ["2026-12-01"], "location": [5], "offers": "gratis"}</script>',
        "\x00\x01 binary",
    ],
)
def test_nothing_crashes(html: str) -> None:
    for item in parse_jsonld_page(html, BASE):
        assert isinstance(item, dict | Skip)


def test_event_series_sub_events_and_item_list() -> None:
    html = """<script type="application/ld+json">
    {"@type": "ItemList", "itemListElement": [
      {"@type": "ListItem", "item": {"@type": "EventSeries", "name": "Reihe", "subEvent": [
        {"@type": "SocialEvent", "name": "Teil 1", "startDate": "2026-12-01T10:00:00+01:00",
         "url": "/a"},
        {"@type": "Festival", "name": "Teil 2", "startDate": "2026-12-02", "url": "/b"}]}}]}
    </script>"""
    events = [e for e in parse_jsonld_page(html, BASE) if isinstance(e, dict)]
    assert [(e["title"], e["record_id"]) for e in events] == [
        ("Teil 1", BASE + "a"),
        ("Teil 2", BASE + "b"),
    ]


@pytest.mark.skipif(not (CORPORA / "partners").is_dir(), reason="shared corpus not present")
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "sv_arminia_events.html",
            [
                ("https://example.com/labasheeda", "Labasheeda + die ueblichen", "2099-08-13"),
                ("https://example.com/muck-and-the-mires", "Muck And The Mires", "2099-08-20"),
            ],
        ),
        (
            "stumpf_event.html",
            [("https://fearskaper.bandcamp.com/", "Fearskaper", "2099-09-11")],
        ),
    ],
)
def test_partner_microdata_samples(name: str, expected: list[tuple[str, str, str]]) -> None:
    html = (CORPORA / "partners" / name).read_text(encoding="utf-8")
    events = [e for e in parse_jsonld_page(html, "https://venue.example/") if isinstance(e, dict)]
    assert [(e["record_id"], e["title"], e["start"]) for e in events] == expected
    assert all(e["all_day"] and e["location"].city == "Hannover" for e in events)
    assert events[0]["location"].name
