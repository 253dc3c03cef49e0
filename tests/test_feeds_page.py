"""The family site as files (feeds.site): German index with the filter controls, the
language pages, cards with data-uid and event pages, subscribe links, escaping, event pages
that keep their bytes and go away with their event, health.html."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import icalendar

from core.model import BERLIN, Health, SourceRef, Status, Tags
from feeds.filters import FACETS, site_declaration
from feeds.publish import PublishReport, render, window_events, write_staged
from feeds.site import PRUNED, site_files
from feeds.site.entries import event_key
from tests.feed_samples import HOSTILE, NOW, event, sample_events

BASE = "https://familie.example.de/kalender"
HEALTH = {
    "generated": NOW.isoformat(),
    "sources": {
        "a-ok": {"name": "Stadt", "status": "ok", "events": 5, "error": None,
                 "last_success": "2026-11-25", "recent": [{"events": 5}, {"events": 3}]},
        "b-bad": {"name": "Verein", "status": "failed", "events": 0, "error": "HTTP 503",
                  "last_success": None, "recent": []},
    },
}  # fmt: skip


def site(events: list | None = None, base_url: str | None = BASE) -> dict[str, bytes]:  # type: ignore[type-arg]
    events = sample_events() if events is None else events
    report = render(events, now=NOW).report
    return dict(site_files(events, report, now=NOW, base_url=base_url, health=HEALTH))


class Outline(HTMLParser):
    """Headings, scripts, links, form controls and data-uid cards as a parser sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.h2: list[str] = []
        self.scripts: list[dict[str, str | None]] = []
        self.hrefs: list[str] = []
        self.tags: set[str] = set()
        self.controls: set[str] = set()
        self.uids: list[str] = []
        self.html_attrs: dict[str, str | None] = {}
        self._in_h2 = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.add(tag)
        self._in_h2 = tag == "h2"
        if tag == "html":
            self.html_attrs = a
        if tag == "h2":
            self.h2.append("")
        if tag == "script":
            self.scripts.append(a)
        if tag in ("a", "link"):
            self.hrefs.append(a.get("href") or "")
        if tag in ("select", "input") and a.get("name"):
            self.controls.add(str(a["name"]))
        if "data-uid" in a:
            self.uids.append(str(a["data-uid"]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "h2":
            self._in_h2 = False

    def handle_data(self, data: str) -> None:
        if self._in_h2:
            self.h2[-1] += data


def outline(html: bytes | str) -> Outline:
    parser = Outline()
    parser.feed(html.decode() if isinstance(html, bytes) else html)
    return parser


def test_german_index_with_the_filter_controls() -> None:
    html = site()["index.html"].decode()
    assert html.startswith('<!doctype html>\n<html lang="de"')
    assert 'name="viewport"' in html
    parsed = outline(html)
    # Every parameter of the declaration has its control, named like the parameter.
    assert {f.param for f in FACETS} | {"zeit", "q"} <= parsed.controls
    assert parsed.h2[:3] == ["Nächste Termine", "Termine nach Stadtbezirk und Alter",
                             "Kalender abonnieren"]  # fmt: skip
    assert "Linden-Limmer" in html and "6 bis 9 Jahre" in html and "Feste &amp; Märkte" in html
    # Without JavaScript: the district and age pages.
    assert "bezirk/linden-limmer.html" in parsed.hrefs and "alter/3-5.html" in parsed.hrefs


def test_index_json_carries_the_declaration_and_family_events() -> None:
    files = site()
    index = json.loads(files["site/index.json"])
    assert index["declaration"] == json.loads(json.dumps(site_declaration()))
    uids = [e["u"] for e in index["events"]]
    assert "ev004@famcal-hannover" not in uids  # not a family event
    first = index["events"][0]
    assert first["k"] == event_key(first["u"]) and first["d0"] <= first["d1"]
    assert f"termine/{first['k']}.html" in files


def test_index_is_a_first_load_and_month_files(tmp_path: Path) -> None:
    ended = event(90, start=NOW - timedelta(days=3), tags=Tags(family=True))
    later = event(91, start=datetime(2027, 2, 3, 10, tzinfo=BERLIN), tags=Tags(family=True))
    events = [ended, *sample_events(), later]
    files = site(events)
    index = json.loads(files["site/index.json"])
    assert index["until"] == "2026-12-09"  # NEAR_DAYS after --now
    names = [m["m"] for m in index["months"]]
    assert names == sorted(set(names)) and names[0] == "2026-12" and "2027-02" in names
    assert all(e["d0"] <= index["until"] for e in index["events"])
    words = json.loads(files["site/words.json"])["words"]
    assert len(words) == len(index["events"]) and "termin" in words[0]
    uids = [e["u"] for e in index["events"]]
    for month in index["months"]:
        part = json.loads(files[f"site/index-{month['m']}.json"])
        assert len(part["events"]) == len(part["words"]) == month["n"]
        assert all(e["d0"][:7] == month["m"] and e["d0"] > index["until"] for e in part["events"])
        uids += [e["u"] for e in part["events"]]
    # Every family event that has not ended is in one file, in feed order.
    family = [e.uid for e in window_events(events, NOW) if e.tags and e.tags.family]
    assert uids == [u for u in family if u != ended.uid]
    # A month that empties leaves with its file.
    report = render(events, now=NOW).report
    write_staged(tmp_path, iter(files.items()), PublishReport(), prune=PRUNED)
    again = PublishReport()
    rest = [e for e in events if e.start_datetime() < datetime(2027, 2, 1, tzinfo=BERLIN)]
    write_staged(tmp_path, site_files(rest, report, now=NOW, base_url=BASE, health=HEALTH), again,
                 prune=PRUNED)  # fmt: skip
    assert "site/index-2027-02.json" in again.removed
    assert (tmp_path / "site" / "famcal.js").is_file()


def test_static_cards_are_the_next_family_events() -> None:
    parsed = outline(site()["index.html"])
    assert parsed.uids[:3] == [f"ev{n:03d}@famcal-hannover" for n in range(3)]
    assert "ev004@famcal-hannover" not in parsed.uids
    assert f"termine/{event_key('ev000@famcal-hannover')}.html" in parsed.hrefs


def test_subscribe_links() -> None:
    parsed = outline(site()["index.html"])
    assert "webcal://familie.example.de/kalender/familie.ics" in parsed.hrefs
    assert (
        "https://calendar.google.com/calendar/render?cid="
        "webcal%3A%2F%2Ffamilie.example.de%2Fkalender%2Ffamilie.ics"
    ) in parsed.hrefs
    assert "bezirk/nord.ics" in parsed.hrefs  # the directory


def test_without_base_url_links_are_relative() -> None:
    html = site(base_url=None)["index.html"].decode()
    assert "webcal:" not in html and 'data-base=""' in html
    assert "familie.ics" in outline(html).hrefs


def test_no_external_assets() -> None:
    files = site()
    first_page = f"termine/{event_key('ev000@famcal-hannover')}.html"
    for name in ("index.html", "ar/index.html", first_page):
        parsed = outline(files[name])
        sources = [s.get("src") for s in parsed.scripts if s.get("src")]
        assert all(not re.match(r"^[a-z]+:|^//", str(s)) for s in sources), sources
        for asset in (' src="http', "url(", "@import", "<iframe", "<img"):
            assert asset not in files[name].decode(), asset
    # The script's only address elsewhere is the link it builds to Google's subscribe form.
    script = files["site/famcal.js"].decode()
    assert re.findall(r"https?://[\w./?=-]+", script) == [
        "https://calendar.google.com/calendar/render?cid="
    ]


def test_languages_link_each_other() -> None:
    files = site()
    for lang in ("en", "tr", "ar", "uk"):
        parsed = outline(files[f"{lang}/index.html"])
        assert parsed.html_attrs["lang"] == lang
        assert parsed.html_attrs.get("dir") == ("rtl" if lang == "ar" else None)
        assert "../index.html" in parsed.hrefs and "../tr/index.html" in parsed.hrefs
    assert "Kalender abonnieren" not in files["en/index.html"].decode()
    assert "Subscribe to a calendar" in files["en/index.html"].decode()


def test_cancelled_event_is_marked() -> None:
    events = [event(1, title="Laternenfest", tags=Tags(family=True, status=Status.CANCELLED))]
    files = site(events)
    assert '<li class="card x"' in files["index.html"].decode()
    assert "abgesagt</span>" in files["index.html"].decode()
    page = files[f"termine/{event_key('ev001@famcal-hannover')}.html"].decode()
    assert "Dieser Termin ist abgesagt." in page


def test_hostile_source_text_is_escaped() -> None:
    events = [event(1, title=HOSTILE, description=HOSTILE, url="javascript:alert(1)")]
    files = site(events)
    for name in ("index.html", f"termine/{event_key('ev001@famcal-hannover')}.html"):
        html = files[name].decode()
        parsed = outline(html)
        assert "b" not in parsed.tags  # the source's <b> stayed text
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
        assert "javascript:" not in html
    page = files[f"termine/{event_key('ev001@famcal-hannover')}.html"].decode()
    ld = page.split('<script type="application/ld+json">')[1].split("</script>")[0]
    assert json.loads(ld)[0]["name"] == HOSTILE


def test_event_page() -> None:
    # Two occurrences of one source record (``r#…``): a series.
    series = [
        event(n, sources=(SourceRef(id="src", record_id=f"r#2026-12-{n - 190}"),))
        for n in (200, 201)
    ]
    files = site([*sample_events(), *series])
    key = event_key("ev000@famcal-hannover")
    page = files[f"termine/{key}.html"].decode()
    assert "Dienstag, 1. Dezember 2026" in page and "10:00–12:00 Uhr" in page
    assert "openstreetmap.org/search?query=Ort+0" in page
    assert "calendar.google.com/calendar/render?action=TEMPLATE&amp;text=Termin+0" in page
    assert "dates=20261201T090000Z%2F20261201T110000Z" in page
    assert '<script type="application/ld+json">' in page
    calendar = icalendar.Calendar.from_ical(files[f"termine/{key}.ics"])
    vevents = calendar.walk("VEVENT")
    assert len(vevents) == 1 and str(vevents[0]["UID"]) == "ev000@famcal-hannover"
    assert "Weitere Termine dieser Reihe" not in page
    first = files[f"termine/{event_key('ev200@famcal-hannover')}.html"].decode()
    assert "Weitere Termine dieser Reihe" in first
    assert f'href="{event_key("ev201@famcal-hannover")}.html"' in first


def test_event_pages_keep_their_bytes_and_leave_with_their_event(tmp_path: Path) -> None:
    events = sample_events()

    def publish(evs: list) -> PublishReport:  # type: ignore[type-arg]
        report = render(evs, now=NOW).report
        out = PublishReport()
        files = site_files(evs, report, now=NOW, base_url=BASE, health=HEALTH)
        write_staged(tmp_path, files, out, prune=PRUNED)
        return out

    publish(events)
    gone = f"termine/{event_key(events[0].uid)}.html"
    kept = tmp_path / f"termine/{event_key(events[1].uid)}.html"
    assert (tmp_path / gone).is_file()
    before = kept.stat().st_mtime_ns
    again = publish(events)
    assert not [w for w in again.written if w.startswith("termine/")]
    second = publish(events[1:])
    assert gone in second.removed and not (tmp_path / gone).exists()
    assert kept.stat().st_mtime_ns == before
    assert (tmp_path / "index.html").is_file()  # files outside termine/ are never pruned


def test_health_page_failed_first_with_sparkline() -> None:
    html = site()["health.html"].decode()
    assert html.index("b-bad") < html.index("a-ok")
    assert "HTTP 503" in html and "<polyline" in html and Health.FAILED.value in html


def test_every_interface_string_is_in_every_catalogue() -> None:
    from babel.messages.extract import extract_from_dir
    from babel.messages.pofile import read_po

    from core.paths import data_file
    from feeds.site.pages import DAY_LABELS, SCRIPT_TEXTS

    templates = data_file("site", "templates")
    found = extract_from_dir(
        str(templates),
        method_map=[("**.html", "jinja2")],
        options_map={"**.html": {"extensions": "jinja2.ext.i18n"}},
    )
    wanted = {m if isinstance(m, str) else m[0] for _, _, m, _, _ in found}
    wanted |= {*SCRIPT_TEXTS, *DAY_LABELS.values()}
    for lang in ("en", "tr", "ar", "uk"):
        with data_file("site", "locale", lang, "LC_MESSAGES", "site.po").open("rb") as handle:
            catalog = read_po(handle)
        missing = sorted(m for m in wanted if not (catalog.get(m) and catalog.get(m).string))
        assert missing == [], (lang, missing)
