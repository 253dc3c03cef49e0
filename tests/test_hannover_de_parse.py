"""The page parsers of spiders.hannover_de_parse on small hand-written fragments: the forms
the real captures do not show (Ort without venue link or postal line, price wordings, status
prefixes, load-more answers, merging one event reached through several URLs)."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from parsel import Selector

from core.model import Location
from spiders.hannover_de_parse import (
    Detail,
    LoadMoreError,
    clean,
    event_fields,
    merge_details,
    parse_detail,
    parse_load_more,
    parse_ort,
    record_ids,
    split_status,
)
from spiders.termine import Occurrence

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Abgesagt: Zum ersten Mal in Hannover", ("Zum ersten Mal in Hannover", "cancelled")),
        ("ABGESAGT:Kinderkino", ("Kinderkino", "cancelled")),
        ("Verschoben: Mitmach\u00adzirkus", ("Mitmachzirkus", "postponed")),
        ("Lesung: Abgesagt? Nein!", ("Lesung: Abgesagt? Nein!", None)),
        ("  Winter\u00adzauber  im\nGarten ", ("Winterzauber im Garten", None)),
    ],
)
def test_status_prefix_and_soft_hyphens(title: str, expected: tuple[str, str | None]) -> None:
    assert split_status(title) == expected


def test_clean_removes_invisible_characters() -> None:
    assert clean("Stadt\u00adbiblio\u200bthek\ufeff") == "Stadtbibliothek"


def _ort(inner: str) -> Location:
    return parse_ort(Selector(text=f'<div class="detail-cell"><p>{inner}</p></div>').css("div")[0])


@pytest.mark.parametrize(
    ("inner", "expected"),
    [
        (
            '<a href="/x"><span>Zoo</span></a><br/>Adenauerallee 3<br/>30175 Hannover',
            Location(name="Zoo", street="Adenauerallee 3", postal_code="30175", city="Hannover"),
        ),
        # A venue link without a street.
        (
            '<a href="/x">Tiergarten</a><br/>30559 Hannover',
            Location(name="Tiergarten", postal_code="30559", city="Hannover"),
        ),
        # Venue as plain text, then street and town.
        (
            "Freizeitheim Linden<br/>Windheimstraße 4<br/>30451 Hannover",
            Location(
                name="Freizeitheim Linden",
                street="Windheimstraße 4",
                postal_code="30451",
                city="Hannover",
            ),
        ),
        # No postal line at all.
        ("Verschiedene Veranstaltungsorte", Location(name="Verschiedene Veranstaltungsorte")),
        # A Region town with its Ortsteil.
        (
            "Marktplatz 1<br/>30900 Wedemark OT Mellendorf",
            Location(street="Marktplatz 1", postal_code="30900", city="Wedemark OT Mellendorf"),
        ),
    ],
)
def test_ort_forms(inner: str, expected: Location) -> None:
    assert _ort(inner) == expected


def _page(termine: str = "<p>06.12.2026 ab 11:00 Uhr</p>", extra: str = "") -> str:
    return f"""<html><body><h1 class="content-detail__title">Nikolausfeier</h1>
    <div class="details">
    <div class="detail-row"><div class="detail-cell"><p>Termine</p></div>
    <div class="detail-cell">{termine}<p><span class="react-ical" data-location-id="42">
    </span></p></div></div>
    <div class="detail-row"><div class="detail-cell"><p>Eintritt:</p></div>
    <div class="detail-cell"><p>{extra or "5 €"}</p></div></div>
    </div></body></html>"""


@pytest.mark.parametrize(
    ("value", "price", "free"),
    [
        ("5 €", "Eintritt: 5 €", False),
        ("frei", "Eintritt: frei", True),
        ("0 €", "Eintritt: 0 €", True),
        ("€ 2,50", "Eintritt: € 2,50", False),
        ("Spende erbeten", "Eintritt: Spende erbeten", None),
    ],
)
def test_price_row_in_the_details(value: str, price: str, free: bool | None) -> None:
    detail = parse_detail(_page(extra=value), "https://www.hannover.de/e")
    assert (detail.price, detail.free) == (price, free)


def test_exclusion_label_inside_a_paragraph() -> None:
    termine = (
        "<p>01.12.2026 bis 15.12.2026 ab 10:00 Uhr<br/>dienstags</p>"
        "<p>Die Veranstaltung findet nicht statt am: 08.12.2026</p>"
    )
    detail = parse_detail(_page(termine), "https://www.hannover.de/e")
    assert [o.day for o in detail.occurrences] == [date(2026, 12, 1), date(2026, 12, 15)]
    assert detail.location_id == "42"


def test_unreadable_lines_are_reported_and_the_rest_is_used() -> None:
    termine = "<p>06.12.2026 ab 11:00 Uhr</p><p>weitere Termine auf Anfrage</p>"
    detail = parse_detail(_page(termine), "https://www.hannover.de/e")
    assert detail.unparsed_lines == ("weitere Termine auf Anfrage",)
    assert len(detail.occurrences) == 1


def _answer(**payload: object) -> str:
    card = (
        '<article class="interesting-single line-view-content">'
        '<p class="interesting-single__category">Sport</p>'
        '<h2 class="interesting-single__title">Lauf</h2>'
        '<a class="content__read-more" href="/Veranstaltungskalender/Sport/Lauf">lesen</a>'
        "</article>"
    )
    return json.dumps({"success": True, "items": [card], **payload})


def test_load_more_answers() -> None:
    url = "https://www.hannover.de/api/v1/view/9/10/10/line?sortField=2"
    page = parse_load_more(_answer(isLast=False), url)
    assert page.cards[0].url == "https://www.hannover.de/Veranstaltungskalender/Sport/Lauf"
    assert page.next_url == "https://www.hannover.de/api/v1/view/9/20/10/line?sortField=2"
    # No isLast: treated as the last page rather than guessing on.
    assert parse_load_more(_answer(), url).next_url is None
    with pytest.raises(LoadMoreError):
        parse_load_more("<html>Wartungsarbeiten</html>", url)
    with pytest.raises(LoadMoreError):
        parse_load_more(json.dumps({"success": False}), url)


def _detail(url: str, location_id: str | None, *categories: str) -> Detail:
    return Detail(
        url=url,
        location_id=location_id,
        title="Lauf",
        occurrences=(Occurrence(day=date(2026, 12, 6)),),
        categories=categories,
    )


def test_merge_by_location_id_and_by_same_event_under_two_paths() -> None:
    base = "https://www.hannover.de/Veranstaltungskalender"
    merged = merge_details(
        [
            _detail(f"{base}/Sport/Lauf", "1", "Sport"),
            _detail(f"{base}/Kostenlos/Lauf-2026", "1", "Kostenlos"),
            _detail(f"{base}/Kinder-Jugendliche/Lauf", "7", "Kinder & Jugendliche"),
            _detail(f"{base}/Sport/Anderer-Lauf", "8", "Sport"),
        ]
    )
    assert [(d.url.rsplit("/", 2)[-2], d.categories) for d in merged] == [
        ("Sport", ("Sport", "Kostenlos", "Kinder & Jugendliche")),
        ("Sport", ("Sport",)),
    ]


def test_record_ids_gain_the_time_only_when_a_date_has_two() -> None:
    occurrences = [
        Occurrence(day=date(2027, 1, 17), start=time(11, 0)),
        Occurrence(day=date(2027, 1, 17), start=time(15, 0)),
        Occurrence(day=date(2027, 1, 24), start=time(15, 0)),
    ]
    assert record_ids("3100107", occurrences) == [
        "3100107#2027-01-17T11:00",
        "3100107#2027-01-17T15:00",
        "3100107#2027-01-24",
    ]


def test_event_fields_keep_only_the_window() -> None:
    detail = Detail(
        url="https://www.hannover.de/e",
        location_id="5",
        title="Markt",
        occurrences=tuple(Occurrence(day=date(2026, 12, d)) for d in (1, 2, 3)),
    )
    window = (datetime(2026, 12, 2, tzinfo=BERLIN), datetime(2026, 12, 2, 23, tzinfo=BERLIN))
    fields = event_fields(detail, *window)
    assert [(f["record_id"], f["start"], f["end"], f["all_day"]) for f in fields] == [
        ("5#2026-12-02", "2026-12-02", "2026-12-03", True)
    ]
