"""The ``wordpress`` source type (#19), selector options shared with ``jsonld``, the
microdata partner samples, option keys checked before any fetch, and ``famcal sources
check`` — on a local HTTP server (no network)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.config import ConfigError, SourceConfig, parse_sources
from core.model import Health, SourceType
from spiders.crawl import crawl
from spiders.jsonld import parse_jsonld_page
from spiders.wordpress import listing_links, page_url
from tests.conftest import FAST_CRAWL, FIXTURES, NOW, LocalSite, famcal, shared_path

WP = FIXTURES / "wordpress"
SETTINGS = {"HTTPCACHE_ENABLED": False, "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False}
WINDOW = {
    "window_start": datetime(2026, 11, 1, tzinfo=UTC),
    "window_end": datetime(2027, 5, 1, tzinfo=UTC),
}
LISTING = "/wp-json/wp/v2/veranstaltung"


def _serve(site: LocalSite) -> str:
    for number in (1, 2):
        body = (WP / f"listing-{number}.json").read_text(encoding="utf-8")
        query = "" if number == 1 else "?page=2"
        site.put(
            LISTING + query,
            body.replace("{base}", site.base),
            content_type="application/json",
            **{"X-WP-TotalPages": "2"},
        )
    for page in ("lesung.html", "tanz.html"):
        text = (WP / "events" / page).read_text(encoding="utf-8")
        site.put(f"/wordpress/events/{page}", text, content_type="text/html")
    return site.url(LISTING)


def _source(kind: SourceType, url: str, **options: object) -> SourceConfig:
    return SourceConfig(
        id="partner", type=kind, name="partner", start_urls=(url,), download_delay=0,
        options=dict(options),
    )  # fmt: skip


def test_wordpress_listing_pages_and_event_pages(site: LocalSite, tmp_path: Path) -> None:
    url = _serve(site)
    result = crawl([_source(SourceType.WORDPRESS, url)], work_dir=tmp_path, settings=SETTINGS,
                   **WINDOW)["partner"]  # fmt: skip
    # One event page answers 404: partial, so degraded (#14); the others are kept.
    assert result.status is Health.DEGRADED, result.error
    assert result.problems == {"page not fetched": 1}
    expected = json.loads(
        (WP / "expected.json").read_text(encoding="utf-8").replace("{base}", site.base)
    )
    records = sorted(result.records(), key=lambda r: r.start)
    assert [{k: r.to_dict()[k] for k in expected[0]} for r in records] == expected
    assert result.skipped == {
        "link to another host": 1,
        "item without link": 1,
    }
    assert LISTING + "?page=2" in site.requests


def test_maschseefest_inventory_shape() -> None:
    data = json.loads(shared_path("corpora", "partners", "maschseefest_inventory.json").read_text())
    links = listing_links(data, "https://www.maschseefest.de/wp-json/wp/v2/veranstaltungen")
    assert len(links) == 3 and all(link and link.startswith("https://") for link in links)
    assert page_url("https://h.example.org/wp-json/wp/v2/x?per_page=50&page=1", 3) == (
        "https://h.example.org/wp-json/wp/v2/x?per_page=50&page=3"
    )


@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        ("stumpf_event.html", [("Fearskaper", "2099-09-11", "Stumpf", "Hannover")]),
        (
            "sv_arminia_events.html",
            [
                ("Labasheeda + die ueblichen", "2099-08-13", "SV Arminia Vereinsgaststätte",
                 "Hannover"),
                ("Muck And The Mires", "2099-08-20", "Arminia Vereinslokal", "Hannover"),
            ],
        ),
    ],
)  # fmt: skip
def test_jsonld_type_reads_the_microdata_partner_samples(
    sample: str, expected: list[tuple[str, str, str, str]]
) -> None:
    html = shared_path("corpora", "partners", sample).read_text(encoding="utf-8")
    items = [
        i for i in parse_jsonld_page(html, "https://partner.example.org/") if isinstance(i, dict)
    ]
    assert [(i["title"], i["start"], i["location"].name, i["location"].city) for i in items] == (
        expected
    )
    assert all(i["all_day"] and i["url"].startswith("https://") for i in items)


def test_jsonld_link_selector_element_or_attribute(site: LocalSite, tmp_path: Path) -> None:
    # Before #19 the explicit form failed the source: 'str' object has no attribute 'attrib'.
    site.put("/liste.html", '<a class="ev" href="/wordpress/events/lesung.html">x</a>',
             content_type="text/html")  # fmt: skip
    _serve(site)
    selectors = ["a.ev", "a.ev::attr(href)", ".nichts, a.ev"]
    sources = [
        SourceConfig(id=f"p{n}", type=SourceType.JSONLD, name="p",
                     start_urls=(site.url("/liste.html"),), download_delay=0,
                     options={"link_selector": selector})
        for n, selector in enumerate(selectors)
    ]  # fmt: skip
    results = crawl(sources, work_dir=tmp_path, settings=SETTINGS, **WINDOW)
    for source in sources:
        assert results[source.id].status is Health.OK, results[source.id].error
        assert [r.title for r in results[source.id].records()] == ["Lesung für Kinder"]


def _entry(kind: str, **keys: object) -> dict[str, object]:
    return {"sources": {"fz": {"type": kind, "start_urls": ["https://fz.example.org/"], **keys}}}


@pytest.mark.parametrize(
    ("kind", "keys", "message"),
    [
        ("jsonld", {"link_selectr": "a"},
         "sources.fz.link_selectr: unknown option for type 'jsonld' "
         "(its options: licence, link_selector, timezone)"),
        ("ics", {"select": {}}, "unknown option for type 'ics'"),
        ("html", {}, "sources.fz.select: an html source needs a [select] table"),
        ("html", {"select": {"item": "li", "title": "h3"}}, "sources.fz.select.start: missing"),
        ("html", {"select": {"item": "li", "title": "h3", "start": "x", "wann": "y"}},
         "select.wann: unknown selector"),
        ("html", {"select": {"item": "li[", "title": "h3", "start": "x"}},
         "select.item: not a CSS selector"),
        ("wordpress", {"max_pages": 0}, "max_pages: must be a whole number >= 1"),
    ],
)  # fmt: skip
def test_option_keys_are_checked_per_type(kind: str, keys: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=None) as caught:
        parse_sources(_entry(kind, **keys), "sources.toml")
    assert message in str(caught.value)


def test_documented_keys_are_accepted() -> None:
    select = {"item": "li", "title": "h3", "start": "time::attr(datetime), .wann"}
    for kind, keys in [
        ("html", {"select": select, "licence": "CC BY 4.0"}),
        ("wordpress", {"timezone": "Europe/Berlin", "licence": "x"}),
        ("hannover_de", {"user_agent": "famcal-test"}),
    ]:
        assert parse_sources(_entry(kind, **keys), "sources.toml")[0].options == keys
    # The budgets are typed fields of every type, not options (#14).
    typed = parse_sources(_entry("html", select=select, max_pages=5), "sources.toml")[0]
    assert (typed.max_pages, typed.options) == (5, {"select": select})


@pytest.mark.e2e
def test_sources_check_of_a_candidate(site: LocalSite, tmp_path: Path) -> None:
    url = _serve(site)
    result = famcal("sources", "check", "--type", "wordpress", "--url", url,
                    "--now", NOW.isoformat(), *FAST_CRAWL)  # fmt: skip
    assert result.returncode == 3, result.stderr  # one event page 404: would be degraded
    lines = result.stdout.splitlines()
    assert lines[0] == f"candidate (wordpress): {url}"
    assert any("Lesung für Kinder" in line for line in lines)
    assert "skipped: item without link (1), link to another host (1), page not fetched (1)" in lines
    assert lines[-2] == "2 events"
    assert lines[-1].startswith("health: degraded — HTTP 404 for ")
    assert not (tmp_path / "out").exists()


def test_sources_check_refuses_an_unknown_option_before_fetching(site: LocalSite) -> None:
    result = famcal("sources", "check", "--type", "html", "--url", site.url("/x"),
                    "--option", "select.item=li", "--option", "farbe=rot")  # fmt: skip
    assert result.returncode == 2
    assert "farbe: unknown option for type 'html'" in result.stderr
    assert site.requests == []


@pytest.mark.e2e
def test_sources_check_of_an_html_page_that_changed(site: LocalSite, tmp_path: Path) -> None:
    site.put(
        "/termine.html", "<html><body><p>Neue Seite</p></body></html>", content_type="text/html"
    )
    sources = tmp_path / "sources.toml"
    sources.write_text(
        f'[sources.fz]\ntype = "html"\nstart_urls = ["{site.url("/termine.html")}"]\n'
        '[sources.fz.select]\nitem = "article.termin"\ntitle = "h3"\nstart = "time"\n',
        encoding="utf-8",
    )
    result = famcal("sources", "check", "fz", "--sources", str(sources), *FAST_CRAWL)
    assert result.returncode == 3, result.stderr
    assert result.stdout.splitlines()[-1].startswith(
        "health: degraded — selector item matched nothing: 'article.termin'"
    )
