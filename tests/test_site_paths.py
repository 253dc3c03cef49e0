"""A parent's path through the published demo site in a real browser (pip playwright driving
/usr/bin/chromium), and the accessibility the issue asks beyond axe-core (#16):
- three taps from the index to "Samstag, für 4 Jahre, Linden-Limmer" and into one's own
  calendar, on a phone (390 px) and a desktop (1280 px), with screenshots of every step in
  test-output/ (the expectation computed from alle.json with feeds.filters);
- 200 % zoom and reflow at 320 CSS px: no horizontal scrolling, every control on the screen;
- the keyboard: Tab reaches every control in order, each with a visible focus outline;
- ``prefers-reduced-motion``: no transition and no animation then."""

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
from feeds.site.entries import event_key
from tests.conftest import TEST_OUTPUT as OUTPUT

pytestmark = pytest.mark.browser

# A Wednesday a week after the demo's --now: "Samstag" is the coming Saturday, 5 December.
WEEKDAY = datetime(2026, 12, 2, 10, 0, tzinfo=BERLIN)
SATURDAY = "2026-12-05"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def expected(demo_out: Path, query: str) -> list[dict[str, Any]]:
    """The events of alle.json that feeds.filters picks for the query at WEEKDAY."""
    items = json.loads((demo_out / "alle.json").read_text())["items"]
    wanted = parse_query(parse_qsl(query))
    return [
        i["_event"]
        for i in items
        if wanted.accepts(i["_event"], now=WEEKDAY) and end_instant(i["_event"]) > WEEKDAY
    ]


@pytest.fixture
def context(site_context: Any) -> Any:
    return site_context


def open_tab(ctx: Any, url: str) -> Any:
    tab = ctx.new_page()
    tab.clock.set_fixed_time(WEEKDAY)
    tab.goto(url)
    if "index.html" in url:
        tab.wait_for_selector("html[data-ready] #list[aria-busy=false]", state="attached")
    return tab


def settled(tab: Any) -> None:
    tab.wait_for_selector("html[data-ready] #list[aria-busy=false]", state="attached")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390", "1280"])
def test_three_taps_to_saturday_for_a_four_year_old_in_linden(
    context: Any, served: str, demo_out: Path, viewport: dict[str, int]
) -> None:
    OUTPUT.mkdir(exist_ok=True)
    width = viewport["width"]
    tab = open_tab(context(viewport=viewport, accept_downloads=True), f"{served}/index.html")
    taps = 0

    def shot(step: str) -> None:
        tab.screenshot(path=str(OUTPUT / f"site-taps-{step}-{width}.png"))

    shot("0-index")
    tab.select_option("select[name=alter]", "4")  # tap 1: the child's age
    taps += 1
    settled(tab)
    shot("1-age")
    tab.select_option("select[name=bezirk]", "linden-limmer")  # tap 2: the district
    taps += 1
    settled(tab)
    shot("2-district")

    # The list is the filter's, by day; Saturday's events are on the first screen.
    listed = tab.eval_on_selector_all("#list [data-uid]", "els => els.map(e => e.dataset.uid)")
    chosen = expected(demo_out, "alter=4&bezirk=linden-limmer")
    assert sorted(listed) == sorted(e["uid"] for e in chosen)
    saturday = expected(demo_out, f"alter=4&bezirk=linden-limmer&von={SATURDAY}&bis={SATURDAY}")
    assert saturday, "the demo has no Saturday event for a 4-year-old in Linden-Limmer"
    section = tab.locator(f"#list section[data-day='{SATURDAY}']")
    assert section.locator("h3").inner_text() == "Samstag, 5. Dezember"
    in_section = section.locator("[data-uid]").evaluate_all("els => els.map(e => e.dataset.uid)")
    assert sorted(in_section) == sorted(e["uid"] for e in saturday if e["start"][:10] == SATURDAY)
    first = section.locator("[data-uid]").first
    box = first.bounding_box()
    assert first.is_visible() and box["y"] + box["height"] <= viewport["height"], box

    # The bar above the list subscribes to what is chosen: Linden-Limmer × 3-5.
    host = served.split("://", 1)[1]
    assert (
        tab.get_attribute("#now-webcal", "href") == f"webcal://{host}/bezirk/linden-limmer/3-5.ics"
    )
    assert "3 bis 5 Jahre" in tab.inner_text("#now-webcal")
    assert (demo_out / "bezirk" / "linden-limmer" / "3-5.ics").is_file()

    # Tap 3: "+ Kalender" on Saturday's event puts that one event into one's calendar.
    add = first.locator("a.add")
    uid = first.get_attribute("data-uid")
    link = add.evaluate("a => a.href")
    assert link == f"{served}/termine/{event_key(uid)}.ics"
    with tab.expect_download() as download:
        add.click()
    taps += 1
    shot("3-calendar")
    assert taps == 3
    calendar = icalendar.Calendar.from_ical(Path(download.value.path()).read_bytes())
    vevents = calendar.walk("VEVENT")
    assert [str(v["UID"]) for v in vevents] == [uid]
    assert vevents[0].decoded("DTSTART").astimezone(BERLIN).date().isoformat() == SATURDAY


ZOOMS = {
    # reflow (WCAG 1.4.10): 320 CSS px wide
    "320": {"viewport": {"width": 320, "height": 640}},
    # a 1280 px screen at 200 %: 640 CSS px at device scale 2
    "200pct": {"viewport": {"width": 640, "height": 450}, "device_scale_factor": 2},
}


@pytest.mark.parametrize("zoom", ZOOMS, ids=list(ZOOMS))
def test_reflow_and_zoom_need_no_horizontal_scrolling(
    context: Any, served: str, demo_out: Path, zoom: str
) -> None:
    OUTPUT.mkdir(exist_ok=True)
    ctx = context(**ZOOMS[zoom])
    width = ZOOMS[zoom]["viewport"]["width"]
    index = json.loads((demo_out / "site" / "index.json").read_text())
    pages = {
        "filtered": "index.html?alter=4&bezirk=linden-limmer",
        "arabic": "ar/index.html",
        "event": f"termine/{index['events'][0]['k']}.html",
    }
    for name, path in pages.items():
        tab = open_tab(ctx, f"{served}/{path}")
        tab.screenshot(path=str(OUTPUT / f"site-zoom-{name}-{zoom}.png"))
        scroll = tab.evaluate("() => document.documentElement.scrollWidth")
        assert scroll <= width, (name, scroll)
        controls = tab.eval_on_selector_all(
            "select, input, button:not([hidden]), a.btn, a.add",
            "els => els.map(e => { const r = e.getBoundingClientRect();"
            " return [e.name || e.id || e.className, r.left, r.right]; })",
        )
        outside = [c for c in controls if c[1] < 0 or c[2] > width]
        assert controls and outside == [], (name, outside)
        tab.close()


def test_keyboard_reaches_every_control_in_order_with_a_visible_focus(
    context: Any, served: str
) -> None:
    tab = open_tab(context(viewport=DESKTOP), f"{served}/index.html?alter=4&bezirk=linden-limmer")
    reached: list[str] = []
    for _ in range(40):
        tab.keyboard.press("Tab")
        focus = tab.evaluate(
            """() => { const e = document.activeElement, s = getComputedStyle(e);
            const r = e.getBoundingClientRect();
            return {name: e.name || e.id || e.className, style: s.outlineStyle,
                    width: parseFloat(s.outlineWidth), shown: r.width > 0 && r.height > 0,
                    onscreen: r.left >= 0 && r.top >= 0 && r.right <= innerWidth}; }"""
        )
        assert focus["style"] != "none" and focus["width"] >= 2, focus  # a visible outline
        assert focus["shown"] and focus["onscreen"], focus  # the skip link comes into view
        reached.append(focus["name"])
        if focus["name"] == "add":  # the first card's calendar link: the list is reached
            break
    controls = ["alter", "bezirk", "zeit", "thema", "kostenlos", "aktivpass", "q"]
    order = ["skip", *controls, "now-webcal", "now-google", "add"]
    assert [n for n in reached if n in order] == order, reached


def test_reduced_motion_means_no_transitions(context: Any, served: str) -> None:
    moving = """() => [...document.querySelectorAll('*')].filter(e => {
        const s = getComputedStyle(e);
        return s.transitionDuration.split(',').some(d => parseFloat(d) > 0)
            || s.animationName !== 'none'; }).map(e => e.tagName + '.' + e.className)"""
    url = f"{served}/index.html?alter=4"
    assert open_tab(context(viewport=DESKTOP), url).evaluate(moving)  # a check that can fail
    calm = open_tab(context(viewport=DESKTOP, reduced_motion="reduce"), url)
    assert calm.evaluate(moving) == []


def test_first_screen_counts_every_event_before_the_months_arrive(
    context: Any, served: str, demo_out: Path
) -> None:
    tab = open_tab(context(viewport=PHONE), f"{served}/index.html")
    index = json.loads((demo_out / "site" / "index.json").read_text())
    assert index["months"], "the demo's later events are in month files"
    assert tab.inner_text("#count") == f"{len(expected(demo_out, ''))} Termine"
    assert tab.locator("#list button.more").count() == 1
