"""Every real hannover.de capture in shared/corpora/hannover-de parsed to what a person reading
the page would list. The expected values were written by reading each page; the captures are
cut down by their recorder (most detail pages lack title, summary and image: those come from
the listing card, as in a crawl). Skipped when the corpora folder is absent (a fresh clone).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from core.model import Location
from spiders.hannover_de_parse import (
    event_fields,
    parse_detail,
    parse_listing,
    parse_load_more,
    with_cards,
)

# ../shared/corpora beside the checkout (Path(__file__).resolve().parents[1].parent); a git
# worktree sits deeper, so the nearest ancestor holding the folder counts.
CORPUS = next(
    (
        base / "shared" / "corpora" / "hannover-de"
        for base in Path(__file__).resolve().parents[1].parents
        if (base / "shared" / "corpora" / "hannover-de").is_dir()
    ),
    Path(__file__).resolve().parents[1].parent / "shared" / "corpora" / "hannover-de",
)
BERLIN = ZoneInfo("Europe/Berlin")
SITE = "https://www.hannover.de"
LISTING_URL = f"{SITE}/Veranstaltungskalender/Feste-Festivals"
FESTE = "Feste & Festivals"

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpora not present")


def _read(*parts: str) -> str:
    return CORPUS.joinpath(*parts).read_text(encoding="utf-8")


def test_listing_page() -> None:
    listing = parse_listing(_read("listing", "hannover_festivals_listing.html"), LISTING_URL)
    assert [(c.url, c.title, c.category, c.venue, c.first_date) for c in listing.cards] == [
        (
            f"{SITE}/Veranstaltungskalender/Feste-Festivals/Oktoberfest-2026",
            "Oktoberfest 2026",
            FESTE,
            "Schützenplatz Hannover",
            date(2026, 10, 7),
        ),
        (
            f"{SITE}/Veranstaltungskalender/Feste-Festivals/KiezKultur-Festival",
            "KiezKultur Festival",
            FESTE,
            "",
            date(2026, 10, 9),
        ),
        (
            f"{SITE}/Veranstaltungskalender/Feste-Festivals/Hannover-Wies%27n",
            "Hannover Wies'n",
            FESTE,
            "Parkbühne",
            date(2026, 10, 9),
        ),
    ]
    oktoberfest = listing.cards[0]
    assert oktoberfest.summary.startswith("Es geht wieder rund: Vom 25. September")
    assert oktoberfest.image == (
        f"{SITE}/var/storage/images/_aliases/full/3/7/7/7/24827773-2-ger-DE/"
        "c46022c782b7-oktoberfest-riesenrad-c-hannover.de.jpg"
    )
    # The "mehr" button: the view API with the button's identifiers and sort order.
    assert listing.next_url is not None
    parts = urlsplit(listing.next_url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{SITE}/api/v1/view/533295/10/10/line"
    query = parse_qs(parts.query)
    assert query["sortField"] == ["2"]
    assert query["sortOrder"] == ["1"]
    assert query["identifiers"][0].split(",")[:3] == [
        "article",
        "government_service",
        "organisation",
    ]


def test_load_more_page_is_last() -> None:
    url = f"{SITE}/api/v1/view/533295/10/10/line?sortField=2&sortOrder=1"
    page = parse_load_more(_read("listing", "hannover_festivals_page2.json"), url)
    assert page.next_url is None
    assert [(c.title, c.venue, c.first_date) for c in page.cards] == [
        ("Nacht der Museen 2027", "", date(2027, 5, 29)),
        ("Schützenfest Hannover 2027", "Schützenplatz Hannover", date(2027, 7, 2)),
        ("Klassik Open Air: Operngala im Maschpark", "Maschpark", date(2027, 7, 16)),
        (
            "Entdeckertag der Region Hannover 2027",
            "Verschiedene Veranstaltungsorte",
            date(2027, 9, 12),
        ),
    ]
    assert {c.category for c in page.cards} == {FESTE}
    assert (
        page.cards[0].url == f"{SITE}/Veranstaltungskalender/Feste-Festivals/Nacht-der-Museen-2027"
    )


def test_load_more_page_that_is_not_last_continues_with_the_next_offset() -> None:
    payload = json.loads(_read("listing", "hannover_festivals_page2.json"))
    payload["isLast"] = False
    url = f"{SITE}/api/v1/view/533295/10/10/line?sortField=2&sortOrder=1"
    page = parse_load_more(json.dumps(payload), url)
    assert page.next_url == f"{SITE}/api/v1/view/533295/20/10/line?sortField=2&sortOrder=1"
    payload["next"] = "/api/v1/view/533295/20/10/line"
    assert parse_load_more(json.dumps(payload), url).next_url == page.next_url


HANNOVER = "Hannover"
FRICKE_WEG = "Ferdinand-Wilhelm-Fricke-Weg 8"

# file → (location id, title on the page, status, Location, price, free, [(start, end)])
DETAILS = {
    "hannover_concert_detail_cancelled": (
        "1379612",
        "Zum ersten Mal in Hannover: K-Pop Forever",
        "cancelled",
        Location(name="Swiss Life Hall", street=FRICKE_WEG, postal_code="30169", city=HANNOVER),
        None,
        None,
        [("2026-10-22T19:00:00", None)],
    ),
    "hannover_festival_detail_kiezkultur": (
        "1383971",
        "",
        None,
        Location(street="Zur Bettfedernfabrik 3", postal_code="30451", city=HANNOVER),
        None,
        None,
        [("2026-10-09T10:00:00", None), ("2026-10-10T10:00:00", None)],
    ),
    "hannover_festival_detail_kunst_kurbis": (
        "1397496",
        "",
        None,
        Location(
            name="Eldagser Hoflieferant",
            street="Lange Straße 142",
            postal_code="31832",
            city="Springe",
        ),
        "Eintritt frei",
        True,
        [("2026-10-18T11:00:00", "2026-10-18T17:00:00")],
    ),
    "hannover_festival_detail_oktoberfest": (
        "534386",
        "",
        None,
        Location(
            name="Schützenplatz Hannover",
            street="Bruchmeisterallee 1A",
            postal_code="30169",
            city=HANNOVER,
        ),
        None,
        None,
        [
            ("2026-10-08T15:00:00", None),
            ("2026-10-09T15:00:00", None),
            ("2026-10-10T15:00:00", None),
            ("2026-10-11T14:00:00", None),
        ],
    ),
    "hannover_festival_detail_tiergartenfest": (
        "633234",
        "",
        None,
        Location(
            name="Tiergarten", street="Tiergartenstraße 117", postal_code="30559", city=HANNOVER
        ),
        "Mit Baumscheibe (für Eichel- und Kastaniensammler*innen): frei; "
        "Erwachsene: 3 €; Kinder (bis 14 Jahre): 2 €",
        False,
        [("2026-10-10T13:00:00", "2026-10-10T18:30:00")],
    ),
    "hannover_festival_detail_wiesn": (
        "1182202",
        "",
        None,
        Location(name="Parkbühne", street=FRICKE_WEG, postal_code="30169", city=HANNOVER),
        None,
        None,
        [
            (f"2026-{day}T18:00:00", None)
            for day in ("10-09", "10-10", "10-16", "10-17", "10-23", "10-24")
        ]
        + [(f"2026-{day}T18:00:00", None) for day in ("10-29", "10-30", "10-31")]
        + [("2026-11-01T11:30:00", None)]
        + [(f"2026-{day}T18:00:00", None) for day in ("11-06", "11-07")],
    ),
    "hannover_festival_detail_winterzauber": (
        "1363592",
        "",
        None,
        Location(
            name="Galerie Herrenhausen",
            street="Herrenhäuser Straße 3a",
            postal_code="30419",
            city=HANNOVER,
        ),
        None,
        None,
        [
            ("2026-10-28T13:00:00", "2026-10-28T20:00:00"),
            ("2026-10-29T11:00:00", "2026-10-29T21:00:00"),
            ("2026-10-30T11:00:00", "2026-10-30T21:00:00"),
            ("2026-10-31T11:00:00", "2026-10-31T21:00:00"),
            ("2026-11-01T11:00:00", "2026-11-01T19:00:00"),
        ],
    ),
    # Sundays 11.–18.10., but not on 18.10.: one market day.
    "hannover_market_detail_faust_flohmarkt": (
        "1099534",
        "",
        None,
        Location(
            name="Kulturzentrum Faust",
            street="Zur Bettfedernfabrik 3",
            postal_code="30451",
            city=HANNOVER,
        ),
        None,
        None,
        [("2026-10-11T08:00:00", "2026-10-11T17:00:00")],
    ),
    # Saturdays 10.10.–12.12., but not on 31.10.; a Region town (Langenhagen).
    "hannover_market_detail_neue_bult": (
        "923001",
        "",
        None,
        Location(
            name="Pferderennbahn Neue Bult",
            street="Theodor-Heuss-Straße 41",
            postal_code="30853",
            city="Langenhagen",
        ),
        None,
        None,
        [
            (f"2026-{day}T08:00:00", f"2026-{day}T15:00:00")
            for day in (
                *("10-10", "10-17", "10-24"),  # 31.10. excluded
                *("11-07", "11-14", "11-21", "11-28", "12-05", "12-12"),
            )
        ],
    ),
}


def test_every_detail_capture_is_listed() -> None:
    assert sorted(p.stem for p in CORPUS.joinpath("detail").glob("*.html")) == sorted(DETAILS)


@pytest.mark.parametrize("name", sorted(DETAILS))
def test_detail_capture(name: str) -> None:
    location_id, title, status, location, price, free, times = DETAILS[name]
    detail = parse_detail(_read("detail", f"{name}.html"), f"{SITE}/Veranstaltungskalender/x")
    assert detail.location_id == location_id
    assert (detail.title, detail.status) == (title, status)
    assert detail.location == location
    assert (detail.price, detail.free) == (price, free)
    assert [(o.start_text(), o.end_text()) for o in detail.occurrences] == times
    assert detail.unparsed_lines == ()


def test_cancelled_capture_summary_is_plain_text() -> None:
    detail = parse_detail(_read("detail", "hannover_concert_detail_cancelled.html"), SITE)
    assert detail.summary == (
        "Die für den 22. Oktober 2026 angedachte K-Pop Tribute-Show in Hannover wurde "
        "ersatzlos abgesagt. Bereits gekaufte Eintrittskarten können an den jeweiligen "
        "Vorverkaufsstellen zurückgegeben werden, bei denen sie erworben wurden."
    )


@pytest.mark.parametrize(
    ("card_index", "name", "record_ids"),
    [
        (
            0,
            "hannover_festival_detail_oktoberfest",
            ["534386#2026-10-08", "534386#2026-10-09", "534386#2026-10-10", "534386#2026-10-11"],
        ),
        (1, "hannover_festival_detail_kiezkultur", ["1383971#2026-10-09", "1383971#2026-10-10"]),
        (2, "hannover_festival_detail_wiesn", [f"1182202#2026-{d}" for d in ("10-09", "10-10")]),
    ],
)
def test_listing_card_and_detail_give_the_events(
    card_index: int, name: str, record_ids: list[str]
) -> None:
    listing = parse_listing(_read("listing", "hannover_festivals_listing.html"), LISTING_URL)
    card = listing.cards[card_index]
    detail = with_cards(parse_detail(_read("detail", f"{name}.html"), card.url), [card])
    window = (datetime(2026, 10, 1, tzinfo=BERLIN), datetime(2026, 10, 10, 23, 59, tzinfo=BERLIN))
    events = event_fields(detail, *window)
    assert [e["record_id"] for e in events] == record_ids[: len(events)]
    assert len(events) == min(len(record_ids), 3)
    for event in events:
        assert event["title"] == card.title
        assert event["url"] == card.url
        assert event["categories"] == (FESTE,)
        assert event["description"] == card.summary
        assert event["image"] == card.image
        assert event["timezone"] == "Europe/Berlin"
        assert event["all_day"] is False
        assert event["status"] is None
    # Neither the KiezKultur card nor its page names a venue; the others agree with the card.
    if name.endswith("kiezkultur"):
        assert events[0]["location"].name == ""
    else:
        assert events[0]["location"].name == card.venue
