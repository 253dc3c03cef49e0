"""The ``tribe`` source type: WordPress The Events Calendar REST answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from spiders.common import Skip
from spiders.tribe import parse_tribe_page

FIXTURES = Path(__file__).parent / "fixtures" / "tribe"
CORPORA = next(
    (
        p / "shared" / "corpora"
        for p in Path(__file__).resolve().parents[1:]
        if (p / "shared" / "corpora").is_dir()
    ),
    Path(__file__).resolve().parents[1].parent / "shared" / "corpora",
)


def load(
    path: Path, timezone: str = "Europe/Berlin"
) -> tuple[dict[str, Any], list[Skip], str | None]:
    items, next_url = parse_tribe_page(json.loads(path.read_text(encoding="utf-8")), timezone)
    events = {i["record_id"]: i for i in items if isinstance(i, dict)}
    return events, [i for i in items if isinstance(i, Skip)], next_url


def test_page_one() -> None:
    events, skips, next_url = load(FIXTURES / "page1.json")
    assert next_url == "page2.json"
    assert [s.reason for s in skips] == ["hidden event"]
    market = events["101"]
    assert market["title"] == "Kinderflohmarkt & Waffeln"
    assert (market["start"], market["end"], market["timezone"]) == (
        "2026-12-05T10:00:00",
        "2026-12-05T13:00:00",
        "Europe/Berlin",
    )
    assert market["free"] is True and market["price"] == "kostenlos"
    assert market["categories"] == ("Familie & Kinder", "Markt")
    assert market["location"].name == "Nachbarschaftstreff „Eck“"
    assert (market["location"].street, market["location"].postal_code) == ("Eckweg 3", "30451")
    assert (market["location"].lat, market["location"].lon) == (52.37, 9.71)
    assert market["image"] == "https://quartier.example.org/flohmarkt.jpg"
    assert market["description"] == "<p>Verkaufen &amp; stöbern</p>"  # HTML for the normalizer
    workshop = events["102"]
    assert (workshop["start"], workshop["end"], workshop["all_day"]) == (
        "2027-02-01",
        "2027-02-03",  # the API's last day 23:59:59, exclusive
        True,
    )
    assert workshop["price"] == "15 €" and workshop["free"] is None


def test_page_two_recurring_instance_draft_and_broken_event() -> None:
    events, skips, next_url = load(FIXTURES / "page2.json", "Europe/Vienna")
    assert next_url is None
    assert list(events) == ["2001#2026-12-10"]  # an instance of a recurring event
    assert events["2001#2026-12-10"]["timezone"] == "Europe/Vienna"  # site zone: no own field
    assert events["2001#2026-12-10"]["free"] is True  # cost "0"
    assert sorted(s.reason for s in skips) == ["unpublished event", "unreadable event"]


@pytest.mark.parametrize("data", [{}, {"events": None}, []])
def test_not_an_events_answer(data: Any) -> None:
    with pytest.raises(ValueError, match="events"):
        parse_tribe_page(data, "Europe/Berlin")


@pytest.mark.skipif(not (CORPORA / "partners").is_dir(), reason="shared corpus not present")
def test_partner_sample() -> None:
    events, skips, next_url = load(CORPORA / "partners" / "platzprojekt_events.json")
    assert next_url is None
    assert [s.reason for s in skips] == ["hidden event"]
    assert events["11837"]["title"] == "PLATZkino – heute mit „Parasite“"
    assert events["11837"]["price"] == "5 €"
    assert events["11837"]["location"].name == "OSCO – OpenSpace"
    assert (events["11512"]["start"], events["11512"]["end"]) == ("2026-07-30", "2026-07-31")
    assert "10000631#2026-08-06" in events
    assert events["20003"]["url"] is None  # javascript: link
