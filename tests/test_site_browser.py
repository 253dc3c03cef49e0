"""The published demo site in a real browser (pip playwright driving /usr/bin/chromium):
the page's script shows exactly the events that feeds.filters (Python) picks from alle.json
for the same query, the controls write the query into the address, the subscription builder
makes absolute links from the page's own address, axe-core finds no serious or critical
violation, no request leaves the site, screenshots go to test-output/."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import icalendar
import pytest

from core.model import BERLIN
from feeds.filters import end_instant, parse_query
from tests.conftest import AXE
from tests.conftest import TEST_OUTPUT as OUTPUT

pytestmark = pytest.mark.browser

# A Saturday morning three days after the demo's --now: "wochenende" is today and tomorrow,
# and the events that ended before it are hidden.
CLOCK = datetime(2026, 11, 28, 10, 0, tzinfo=BERLIN)


@pytest.fixture
def page(site_context: Any) -> Any:
    tab = site_context(viewport={"width": 1280, "height": 900}).new_page()
    tab.clock.set_fixed_time(CLOCK)
    return tab


def expected(demo_out: Path, query: str) -> list[str]:
    """What the site must show: feeds.filters over the published alle.json, not ended."""
    items = json.loads((demo_out / "alle.json").read_text())["items"]
    wanted = parse_query(parse_qsl(query))
    return [
        i["_event"]["uid"]
        for i in items
        if wanted.accepts(i["_event"], now=CLOCK) and end_instant(i["_event"]) > CLOCK
    ]


def settled(tab: Any) -> None:
    """Wait until the list shows what the controls ask (month files fetched, list drawn)."""
    tab.wait_for_selector("html[data-ready] #list[aria-busy=false]", state="attached")


def shown(tab: Any, base: str, query: str) -> list[str]:
    tab.goto(f"{base}/index.html?{query}")
    settled(tab)
    while tab.locator("#list button.more").count():
        tab.click("#list button.more")
        settled(tab)
    uids: list[str] = tab.eval_on_selector_all(
        "#list [data-uid]", "els => els.map(e => e.dataset.uid)"
    )
    return uids


def start_axe(tab: Any) -> None:
    """Start axe-core on the page without waiting: the pages' runs go on side by side."""
    tab.add_script_tag(path=str(AXE))
    tab.evaluate("() => { window.axeRun = axe.run(document, {resultTypes: ['violations']}); }")


def serious_violations(tab: Any) -> list[tuple[str, str, list[Any]]]:
    result = tab.evaluate("() => window.axeRun")
    return [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize(
    "query",
    [
        "alter=4&bezirk=linden-limmer",
        "zeit=wochenende",
        "q=kinder",
        "kostenlos=1&zeit=woche",
        "",
        # months ahead: only the month files of February and March hold them
        "von=2027-02-01&bis=2027-03-31",
        "alter=6-9&von=2027-02-15",
    ],
)
def test_script_shows_what_the_filters_declare(
    page: Any, served: str, demo_out: Path, query: str
) -> None:
    want = expected(demo_out, query)
    assert want, f"the demo has no event for {query!r}: a weak check"
    assert sorted(shown(page, served, query)) == sorted(want)
    assert page.inner_text("#count") == (f"{len(want)} Termine" if len(want) > 1 else "1 Termin")


def test_controls_write_a_shareable_address(page: Any, served: str, demo_out: Path) -> None:
    page.goto(f"{served}/index.html")
    page.wait_for_selector("html[data-ready]")
    # Three choices: a Saturday view for a 4-year-old in Linden-Limmer.
    page.select_option("select[name=alter]", "4")
    page.select_option("select[name=bezirk]", "linden-limmer")
    page.select_option("select[name=zeit]", "wochenende")
    settled(page)
    assert page.url.endswith("?alter=4&bezirk=linden-limmer&zeit=wochenende")
    uids = page.eval_on_selector_all("#list [data-uid]", "els => els.map(e => e.dataset.uid)")
    assert not page.locator("#list button.more").count()
    want = expected(demo_out, "alter=4&bezirk=linden-limmer&zeit=wochenende")
    assert sorted(uids) == sorted(want)
    # The builder follows the filter (age 4: the group 3-5) to the district × group feed.
    assert page.input_value("#abo-alter") == "3-5"
    host = served.split("://", 1)[1]
    assert page.get_attribute("#abo-webcal", "href") == (
        f"webcal://{host}/bezirk/linden-limmer/3-5.ics"
    )
    google = page.get_attribute("#abo-google", "href")
    assert google.startswith("https://calendar.google.com/calendar/render?cid=webcal%3A%2F%2F")
    assert (demo_out / "bezirk" / "linden-limmer" / "3-5.ics").is_file()


def test_accessible_pages_and_screenshots(page: Any, served: str, demo_out: Path) -> None:
    if not AXE.is_file():
        pytest.skip("axe-core is not installed (make js)")
    OUTPUT.mkdir(exist_ok=True)
    index = json.loads((demo_out / "site" / "index.json").read_text())
    key = index["events"][0]["k"]
    views = {
        "index": "index.html",
        "filtered": "index.html?alter=4&bezirk=linden-limmer",
        "event": f"termine/{key}.html",
        "arabic": "ar/index.html",
    }
    tabs = {}
    for name, path in views.items():
        tab = page if not tabs else page.context.new_page()
        tab.clock.set_fixed_time(CLOCK)
        tab.goto(f"{served}/{path}")
        if "index.html" in path:
            tab.wait_for_selector("html[data-ready]")
        for width in (390, 1280):
            tab.set_viewport_size({"width": width, "height": 900})
            tab.screenshot(path=str(OUTPUT / f"site-{name}-{width}.png"))
        start_axe(tab)
        tabs[name] = tab
    assert tabs["arabic"].get_attribute("html", "dir") == "rtl"
    found = {name: serious_violations(tab) for name, tab in tabs.items()}
    assert found == {name: [] for name in views}


def test_one_event_calendar_file(demo_out: Path) -> None:
    index = json.loads((demo_out / "site" / "index.json").read_text())
    first = index["events"][0]
    data = (demo_out / "termine" / f"{first['k']}.ics").read_bytes()
    calendar = icalendar.Calendar.from_ical(data)
    vevents = calendar.walk("VEVENT")
    assert len(vevents) == 1 and str(vevents[0]["UID"]) == first["u"]
