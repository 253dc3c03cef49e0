"""index.html: German, grouped feeds with counts, subscribe links, the next family events,
everything escaped; and the page as a real browser (headless chromium) renders it."""

from __future__ import annotations

import json
import re
import subprocess
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from core.model import Status, Tags
from feeds.page import index_html
from feeds.publish import render
from tests.conftest import ROOT
from tests.feed_samples import HOSTILE, NOW, event, sample_events

BASE = "https://familie.example.de/kalender"
CHROMIUM = Path("/usr/bin/chromium")
OUTPUT = ROOT / "test-output"


def page(base_url: str | None = BASE) -> str:
    events = sample_events()
    return index_html(events, render(events, now=NOW).report, now=NOW, base_url=base_url)


class Outline(HTMLParser):
    """Headings, scripts and links of a page, as a browser's parser sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.h2: list[str] = []
        self.scripts: list[dict[str, str | None]] = []
        self.hrefs: list[str] = []
        self.tags: set[str] = set()
        self._in_h2 = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self._in_h2 = tag == "h2"
        if tag == "h2":
            self.h2.append("")
        if tag == "script":
            self.scripts.append(dict(attrs))
        if tag == "a":
            self.hrefs.append(dict(attrs).get("href") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "h2":
            self._in_h2 = False

    def handle_data(self, data: str) -> None:
        if self._in_h2:
            self.h2[-1] += data


def outline(html: str) -> Outline:
    parser = Outline()
    parser.feed(html)
    return parser


def test_german_grouped_with_counts() -> None:
    html = page()
    assert html.startswith('<!doctype html><html lang="de">')
    assert 'name="viewport"' in html
    parsed = outline(html)
    assert parsed.h2 == [
        "Überblick",
        "Stadtbezirke",
        "Alter",
        "Themen",
        "Die nächsten Familientermine",
    ]
    report = render(sample_events(), now=NOW).report
    for path in ("familie", "bezirk/linden-limmer", "alter/6-9", "thema/kultur"):
        count = report.feeds[path]
        assert re.search(rf'href="{re.escape(path)}\.json">JSON</a>.*?', html)
        assert f"({count} Termin" in html
    assert "Linden-Limmer" in html and "6 bis 9 Jahre" in html and "Feste &amp; Märkte" in html


def test_subscribe_links() -> None:
    parsed = outline(page())
    assert "webcal://familie.example.de/kalender/familie.ics" in parsed.hrefs
    assert (
        "https://calendar.google.com/calendar/render?cid="
        "webcal%3A%2F%2Ffamilie.example.de%2Fkalender%2Ffamilie.ics"
    ) in parsed.hrefs
    html = page()
    assert "<code>https://familie.example.de/kalender/bezirk/nord.ics</code>" in html
    assert "Per URL" in html and "Google Kalender" in html


def test_without_base_url_links_are_relative() -> None:
    parsed = outline(page(base_url=None))
    assert not [h for h in parsed.hrefs if h.startswith("webcal:")]
    assert "familie.ics" in parsed.hrefs and "bezirk/nord.ics" in parsed.hrefs


def test_no_external_assets() -> None:
    html = page()
    # Links to events and to Google are links; nothing is loaded from elsewhere.
    for asset in ("<link", " src=", "url(", "@import", "<iframe", "<img"):
        assert asset not in html, asset
    assert outline(html).scripts == [{"type": "application/ld+json"}]


def test_next_family_events_from_now() -> None:
    events = sample_events()
    html = index_html(events, render(events, now=NOW).report, now=NOW, base_url=BASE)
    upcoming = html.split("Die nächsten Familientermine")[1]
    titles = re.findall(r'<li class="ev[^"]*"><span class="t">(?:<a [^>]*>)?([^<]*)', upcoming)
    assert titles[:3] == ["Termin 0", "Termin 1", "Termin 2"]
    assert "Termin 4" not in titles  # not a family event
    assert len(titles) == 10
    later = NOW.replace(year=2027, month=3, day=27)
    html = index_html(events, render(events, now=later).report, now=later, base_url=BASE)
    upcoming = html.split("Die nächsten Familientermine")[1]
    assert "So, 28.03.2027, 01:30 Uhr" in upcoming and "So, 28.03.2027, 03:30 Uhr" in upcoming


def test_cancelled_event_is_marked() -> None:
    events = [event(1, title="Laternenfest", tags=Tags(family=True, status=Status.CANCELLED))]
    html = index_html(events, render(events, now=NOW).report, now=NOW, base_url=BASE)
    assert '<li class="ev x">' in html and "abgesagt</span>" in html


def test_hostile_source_text_is_escaped() -> None:
    events = [event(1, title=HOSTILE, description=HOSTILE, url="javascript:alert(1)")]
    html = index_html(events, render(events, now=NOW).report, now=NOW, base_url=BASE)
    parsed = outline(html)
    assert parsed.scripts == [{"type": "application/ld+json"}]
    assert "b" not in parsed.tags  # the source's <b> stayed text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "javascript:" not in html
    ld = html.split('<script type="application/ld+json">')[1].split("</script>")[0]
    assert json.loads(ld)[0]["name"] == HOSTILE


@pytest.mark.browser
def test_in_headless_chromium(tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is absent")
    events = [*sample_events(), event(113, title=HOSTILE, start=NOW + timedelta(hours=1))]
    rendered = render(events, now=NOW, base_url=BASE)
    html = index_html(events, rendered.report, now=NOW, base_url=BASE)
    target = tmp_path / "index.html"
    target.write_text(html)
    OUTPUT.mkdir(exist_ok=True)
    shot = OUTPUT / "index-phone.png"
    shot.unlink(missing_ok=True)
    common = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=412,900",
    ]
    run = subprocess.run(
        [*common, f"--screenshot={shot}", target.as_uri()],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert shot.stat().st_size > 10_000
    dom = subprocess.run(
        [*common, "--dump-dom", target.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    rendered_dom = outline(dom.stdout)
    # The browser built the hostile title as text: one script (JSON-LD) and no <b>.
    assert rendered_dom.scripts == [{"type": "application/ld+json"}]
    assert "b" not in rendered_dom.tags
    assert "&lt;script&gt;alert" in dom.stdout
    assert rendered_dom.h2[0] == "Überblick"
