"""The ``html`` source type (#19): selectors, German date texts, paging, and a redesigned site
reported as degraded naming the selector — parse functions, real crawls on a local server
and two ``famcal run``s."""

from __future__ import annotations

import json
import tomllib
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from parsel import Selector

from core.config import SourceConfig
from core.model import Health, SourceType
from spiders.crawl import crawl
from spiders.dates_de import read_when, to_grammar
from spiders.html import parse_html_page, place_location
from spiders.selectors import value, values
from tests.conftest import FAST_CRAWL, FIXTURES, NOW, LocalSite, famcal

HTML = FIXTURES / "html"
SELECT: dict[str, str] = tomllib.loads((HTML / "select.toml").read_text(encoding="utf-8"))
SETTINGS = {"HTTPCACHE_ENABLED": False, "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False}
WINDOW = {
    "window_start": datetime(2026, 11, 1, tzinfo=UTC),
    "window_end": datetime(2027, 5, 1, tzinfo=UTC),
}
REFERENCE = date(2026, 11, 25)


def _source(url: str, select: dict[str, str] = SELECT, **budgets: Any) -> SourceConfig:
    return SourceConfig(
        id="stz-nord",
        type=SourceType.HTML,
        name="Stadtteilzentrum Nordstadt",
        start_urls=(url,),
        download_delay=0,
        options={"select": select},
        **budgets,
    )


def _serve_fixture(site: LocalSite) -> str:
    for name in ("programm.html", "programm-2.html"):
        site.put(
            f"/html/{name}", (HTML / name).read_text(encoding="utf-8"), content_type="text/html"
        )
    return site.url("/html/programm.html")


# --- selectors --------------------------------------------------------------------------


def test_element_and_explicit_selectors_give_the_same_links() -> None:
    page = Selector(text='<p><a class="ev" href="/a">Eins</a> <a class="ev" href="/b">Zwei</a></p>')
    assert values(page, "a.ev") == values(page, "a.ev::attr(href)") == ["/a", "/b"]
    assert value(page, "a.ev") == "Eins"  # an element's text where no link is wanted
    assert value(page, ".gibt-es-nicht, a.ev::text") == "Eins Zwei"  # the first that matches
    assert value(page, "p", link=True) == "/a"  # an element without href: its first link


# --- German date texts ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("Sa., 12.12.2026, 15 Uhr", None, [("2026-12-12T15:00:00", None)]),
        ("12. Dezember 2026, 15–17 Uhr", None, [("2026-12-12T15:00:00", "2026-12-12T17:00:00")]),
        ("Mi 2.12., 10:30 Uhr", "12 Uhr", [("2026-12-02T10:30:00", "2026-12-02T12:00:00")]),
        ("2026-12-12T15:00:00+01:00", None, [("2026-12-12T15:00:00+01:00", None)]),
        ("Samstag, 12. Dez. 2026", None, [("2026-12-12", "2026-12-13")]),
        ("12.12.2026", "14.12.2026", [("2026-12-12", "2026-12-15")]),
        ("12 Dez 2026 15:30", None, [("2026-12-12T15:30:00", None)]),  # dateutil's reach
        ("10.1., 9 Uhr", None, [("2027-01-10T09:00:00", None)]),  # no year: the next January
        ("Termine folgen", None, []),
    ],
)
def test_german_date_texts(start: str, end: str | None, expected: list[tuple[str, str]]) -> None:
    found = read_when(start, end, reference=REFERENCE)
    assert [(w.start_text, w.end_text) for w in found] == expected


WEEKDAYS = ["Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa.", "So.", "Montag,", "Samstag", ""]
MONTHS = ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
          "Oktober", "November", "Dezember"]  # fmt: skip


@given(
    day=st.dates(min_value=date(2026, 1, 1), max_value=date(2028, 12, 31)),
    start=st.one_of(st.none(), st.times().map(lambda t: t.replace(second=0, microsecond=0))),
    hours=st.integers(min_value=1, max_value=5),
    weekday=st.sampled_from(WEEKDAYS),
    month_name=st.booleans(),
    whole_hour=st.booleans(),
)
def test_generated_german_texts_read_back(
    day: date, start: time | None, hours: int, weekday: str, month_name: bool, whole_hour: bool
) -> None:
    written = (
        f"{day.day}. {MONTHS[day.month - 1]} {day.year}" if month_name else day.strftime("%d.%m.%Y")
    )
    if start is not None and whole_hour:
        start = start.replace(minute=0)
    text = f"{weekday} {written}"
    if start is not None:
        clock = f"{start.hour}" if whole_hour else f"{start:%H:%M}"
        stop = (datetime.combine(day, start) + timedelta(hours=hours)).time()
        stop_text = f"{stop.hour}" if whole_hour else f"{stop:%H:%M}"
        text += f", {clock} – {stop_text} Uhr"
    found = read_when(text, reference=REFERENCE)
    assert len(found) == 1, (text, to_grammar(text, REFERENCE))
    occurrence = found[0].occurrence
    assert occurrence.day == day
    assert occurrence.start == start
    if start is not None:
        assert occurrence.end == stop


@given(st.text(max_size=60))
def test_any_text_is_read_or_refused_never_raises(text: str) -> None:
    for when in read_when(text, text[::-1], reference=REFERENCE):
        datetime.fromisoformat(when.start_text)


def test_place_text_is_split_into_venue_street_and_town() -> None:
    location = place_location("Familienzentrum Linden, Deisterstraße 12, 30449 Hannover")
    assert (location.name, location.street, location.postal_code, location.city) == (
        "Familienzentrum Linden",
        "Deisterstraße 12",
        "30449",
        "Hannover",
    )
    assert place_location("Kulturtreff").name == "Kulturtreff"


# --- the page, parsed and crawled -------------------------------------------------------


def test_parse_page_reports_matched_selectors_and_next_page() -> None:
    url = "https://stz.example.org/html/programm.html"
    page = parse_html_page(
        (HTML / "programm.html").read_text(encoding="utf-8"), url, SELECT, origin=url,
        reference=REFERENCE,
    )  # fmt: skip
    assert page.next_page == "https://stz.example.org/html/programm-2.html"
    assert page.matched == {"item", "title", "start", "end", "place", "description", "link"}
    assert [s.reason for s in page.skips] == ["item without start"]
    assert [e["title"] for e in page.events] == ["Bastelnachmittag für Kinder", "Familienkonzert"]


def test_crawl_matches_the_expected_events(site: LocalSite, tmp_path: Path) -> None:
    result = crawl([_source(_serve_fixture(site))], work_dir=tmp_path, settings=SETTINGS, **WINDOW)
    found = result["stz-nord"]
    assert found.status is Health.OK, found.error
    expected = json.loads((HTML / "expected.json").read_text(encoding="utf-8").replace(
        "{base}", site.base
    ))  # fmt: skip
    records = sorted(found.records(), key=lambda r: r.start)
    assert [
        {key: record.to_dict()[key] for key in expected[0] if key != "location"}
        | {"location": {k: record.location.to_dict()[k] for k in expected[0]["location"]}}
        for record in records
    ] == expected
    assert found.skipped == {"item without start": 1}
    assert "/robots.txt" in site.requests  # polite: robots.txt first


def test_page_budget_is_degraded_naming_it(site: LocalSite, tmp_path: Path) -> None:
    url = _serve_fixture(site)
    found = crawl([_source(url, max_pages=1)], work_dir=tmp_path, settings=SETTINGS, **WINDOW)
    result = found["stz-nord"]
    assert result.status is Health.DEGRADED
    assert result.error is not None and "max_pages" in result.error
    assert result.count == 2  # what was read within the budget is kept


REDESIGNED = """<!DOCTYPE html><html lang="de"><body><main>
<section class="card"><h4>Bastelnachmittag für Kinder</h4><p>4.12.2026</p></section>
</main></body></html>"""


def _status_of(item: dict[str, Any]) -> str:
    event = item.get("_famcal") or item.get("_event") or item
    return str(event.get("status", ""))


@pytest.mark.e2e
def test_redesigned_site_is_degraded_naming_the_selector_and_cancels_nothing(
    site: LocalSite, tmp_path: Path
) -> None:
    url = _serve_fixture(site)
    sources = tmp_path / "sources.toml"
    table = "".join(f'{k} = "{v}"\n' for k, v in SELECT.items())
    sources.write_text(
        f'[sources.stz-nord]\ntype = "html"\nname = "STZ"\nstart_urls = ["{url}"]\n'
        f"[sources.stz-nord.select]\n{table}",
        encoding="utf-8",
    )
    args = ["run", "--sources", str(sources), "--db", str(tmp_path / "e.db")]
    args += ["--out", str(tmp_path / "out"), "--now", NOW.isoformat(), *FAST_CRAWL]
    first = famcal(*args)
    assert first.returncode == 0, first.stderr
    site.put("/html/programm.html", REDESIGNED, content_type="text/html")
    # Two runs on the redesigned page: two healthy runs without an event would cancel it.
    for _ in range(2):
        again = famcal(*args)
        assert again.returncode == 3, again.stderr
    health = json.loads((tmp_path / "out" / "health.json").read_text(encoding="utf-8"))
    report = health["sources"]["stz-nord"]
    assert report["status"] == "degraded"
    assert "selector item matched nothing" in report["error"] and "div.eintrag" in report["error"]
    assert report["skipped"]["selector item matched nothing"] == 1
    items = json.loads((tmp_path / "out" / "alle.json").read_text(encoding="utf-8"))["items"]
    assert len(items) == 4
    assert {_status_of(item) for item in items} == {"scheduled"}


def test_redesigned_dates_are_degraded_naming_the_start_selector(
    site: LocalSite, tmp_path: Path
) -> None:
    url = _serve_fixture(site)
    broken = (HTML / "programm.html").read_text(encoding="utf-8")
    broken = broken.replace('class="datum"', 'class="wann"').replace("<time", "<span")
    site.put("/html/programm.html", broken, content_type="text/html")
    result = crawl([_source(url)], work_dir=tmp_path, settings=SETTINGS, **WINDOW)["stz-nord"]
    assert result.status is Health.DEGRADED
    assert result.error is not None and result.error.startswith("selector start matched nothing")
    assert "programm.html" in result.error
    assert result.count == 2  # page 2 still answers as before
