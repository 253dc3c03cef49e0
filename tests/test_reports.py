"""Reports for the city (issue #21): the coverage CSV counted again from the published
``alle.json`` (a weekly series across the year's end, a cancelled and a postponed event, a
Region town, an event without ages, a start just after midnight), the weekend digest for a
Wednesday, a Saturday and a Sunday, the text's line lengths, the change between runs, and
the publish stage writing the reports."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from core.model import BERLIN, AgeGroup, District, Event, Location, Municipality, Status, Tags
from core.store import Store
from famcal.publish_stage import publish_stage
from feeds.publish import render
from feeds.reports import REPORT_FILES, build_reports, report_files
from feeds.reports.weekend import WIDTH, event_link
from tests.feed_samples import event

NOW = datetime(2026, 12, 16, 9, 0, tzinfo=BERLIN)  # a Wednesday; weeks 2026-W51 to 2027-W05
WEEKS = ["2026-W51", "2026-W52", "2026-W53", *(f"2027-W{n:02d}" for n in range(1, 6))]
ALL = tuple(AgeGroup)


def tags(district: District | None, *groups: AgeGroup, **more: object) -> Tags:
    return Tags(family=True, district=district, age_groups=groups, **more)  # type: ignore[arg-type]


def at(y: int, m: int, d: int, h: int = 10, minute: int = 0) -> datetime:
    return datetime(y, m, d, h, minute, tzinfo=BERLIN)


def coverage_calendar() -> list[Event]:
    events = []
    # A weekly series on Tuesdays from 1 December to 2 March: across the year's end and
    # beyond both ends of the 8 weeks (its 15 December date is before --now, in its week).
    first = at(2026, 12, 1, 16)
    for n in range(14):
        events.append(
            event(
                n,
                start=first + timedelta(weeks=n),
                tags=tags(District.MITTE, AgeGroup.GRUNDSCHULE, AgeGroup.KIDS, series="s1"),
            )
        )
    events += [
        event(20, start=at(2026, 12, 19), tags=tags(District.LINDEN_LIMMER, AgeGroup.KITA,
              status=Status.CANCELLED)),
        event(21, start=at(2026, 12, 20), tags=tags(District.NORD, AgeGroup.KITA,
              status=Status.POSTPONED)),
        event(22, start=at(2026, 12, 19), tags=tags(None, AgeGroup.KITA,
              municipality=Municipality.GARBSEN)),
        # No ages: all five groups, on an all-day date in 2026-W53.
        event(23, start=date(2026, 12, 28), end=date(2026, 12, 29), all_day=True,
              tags=tags(District.RICKLINGEN)),
        event(24, start=at(2026, 12, 17), tags=Tags(family=False, district=District.MITTE)),
        # Sunday 23:30 and Monday 00:30 local: the weeks of the local dates (the Monday is
        # still Sunday in UTC).
        event(25, start=at(2027, 1, 3, 23, 30), tags=tags(District.MISBURG_ANDERTEN,
              AgeGroup.TEENS)),
        event(26, start=at(2027, 1, 4, 0, 30), tags=tags(District.MISBURG_ANDERTEN,
              AgeGroup.TEENS)),
        # A multi-day event counts once, in the week it starts.
        event(27, start=date(2026, 12, 31), end=date(2027, 1, 3), all_day=True,
              tags=tags(District.SUEDSTADT_BULT, AgeGroup.BABY)),
        # Just outside the 8 weeks, on either side.
        event(28, start=at(2026, 12, 13), tags=tags(District.NORD, AgeGroup.BABY)),
        event(29, start=at(2027, 2, 8, 0, 30), tags=tags(District.NORD, AgeGroup.BABY)),
        event(30, start=at(2027, 2, 7, 23), tags=tags(District.NORD, AgeGroup.BABY)),
    ]  # fmt: skip
    return events


def read_csv(data: bytes) -> tuple[list[str], dict[tuple[str, str, str], int]]:
    rows = list(csv.reader(io.StringIO(data.decode())))
    return rows[0], {(b, g, w): int(n) for b, g, w, n in rows[1:]}


def counts_from_feed(alle: dict[str, object]) -> Counter[tuple[str, str, str]]:
    """The contract's counting, done again on the published JSON."""
    counted: Counter[tuple[str, str, str]] = Counter()
    for item in alle["items"]:  # type: ignore[attr-defined]
        ev = item["_event"]
        if not ev["family"] or ev["status"] != "scheduled" or ev["district"] is None:
            continue
        start = ev["start"]
        day = (
            date.fromisoformat(start)
            if len(start) == 10
            else datetime.fromisoformat(start).astimezone(BERLIN).date()
        )
        year, week, _ = day.isocalendar()
        for group in ev["age_groups"] or [g.value for g in AgeGroup]:
            counted[(ev["district"], group, f"{year}-W{week:02d}")] += 1
    return counted


def test_coverage_csv_matches_the_published_feed_cell_by_cell() -> None:
    events = coverage_calendar()
    alle = json.loads(render(events, now=NOW).files["alle.json"])
    files = dict(report_files(build_reports(events, now=NOW, history=None), base_url=None))
    header, cells = read_csv(files["bericht/abdeckung.csv"])
    assert header == ["bezirk", "altersgruppe", "woche", "termine"]
    assert len(cells) == 13 * 5 * 8
    assert sorted({w for _, _, w in cells}) == WEEKS
    expected = counts_from_feed(alle)
    for key, n in cells.items():
        assert n == expected.get(key, 0), key
    # And nothing the feed counts is missing from the grid (inside its 8 weeks).
    assert {k for k in expected if k[2] in WEEKS} <= set(cells)
    # Spot checks of the contract's rules.
    assert [cells[("mitte", "6-9", w)] for w in WEEKS] == [1] * 8
    assert cells[("mitte", "0-2", "2026-W51")] == 0
    assert all(cells[("ricklingen", g.value, "2026-W53")] == 1 for g in AgeGroup)
    assert cells[("misburg-anderten", "14-17", "2026-W53")] == 1
    assert cells[("misburg-anderten", "14-17", "2027-W01")] == 1
    assert cells[("suedstadt-bult", "0-2", "2026-W53")] == 1
    assert cells[("nord", "0-2", "2027-W05")] == 1  # Sunday 7 February, 23:00
    assert sum(cells.values()) == 8 * 2 + 5 + 2 + 1 + 1
    assert cells[("linden-limmer", "3-5", "2026-W51")] == 0  # cancelled
    assert cells[("nord", "3-5", "2026-W51")] == 0  # postponed


def test_report_page_names_the_gaps() -> None:
    files = dict(
        report_files(build_reports(coverage_calendar(), now=NOW, history=None), base_url=None)
    )
    page = files["bericht/index.html"].decode()
    assert "Herrenhausen-Stöcken: kein Termin in den nächsten 8 Wochen" in page
    assert (
        "Mitte: kein Termin für 0–2 Jahre, 3–5 Jahre und 14–17 Jahre in den nächsten 8 Wochen"
        in page
    )
    assert "Ricklingen:" not in page.split('id="karte"')[0]  # no gap: all five groups
    assert "<svg" in page and "<table" in page and "Noch kein früherer Bericht" in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # nothing from elsewhere


def test_change_against_the_last_report_of_an_earlier_day() -> None:
    events = coverage_calendar()
    first = build_reports(events, now=NOW, history=None)
    more = [*events, event(40, start=at(2026, 12, 18), tags=tags(District.MITTE))]
    later = NOW + timedelta(days=1)
    second = build_reports(more, now=later, history=first.history_json())
    assert second.change is not None and second.change.since == NOW.date()
    page = dict(report_files(second, base_url=None))["bericht/index.html"].decode()
    assert "Mehr Termine: Mitte (+1)." in page and "Weniger Termine" not in page
    # A second publish the same day compares with the earlier day still.
    again = build_reports(more, now=later + timedelta(hours=3), history=second.history_json())
    assert again.change is not None and again.change.since == NOW.date()
    assert len(json.loads(again.history_json())) == 2
    assert build_reports(events, now=NOW, history="not json").change is None


# --- the weekend ---------------------------------------------------------------------------

SAT, SUN = date(2026, 12, 19), date(2026, 12, 20)


def weekend_calendar() -> list[Event]:
    place = Location(name="Stadtteilzentrum", street="Weg 1", city="Hannover")
    return [
        event(1, title="Lesestunde", start=at(2026, 12, 19, 10), tags=tags(District.MITTE)),
        event(2, title="Frühes Turnen", start=at(2026, 12, 19, 8),
              end=at(2026, 12, 19, 9), tags=tags(District.MITTE)),
        event(3, title="Puppentheater", start=at(2026, 12, 20, 15),
              tags=tags(District.LINDEN_LIMMER)),
        event(4, title="Wintermarkt", start=date(2026, 12, 18), end=date(2026, 12, 21),
              all_day=True, tags=tags(District.NORD)),
        event(5, title="Am Freitag", start=at(2026, 12, 18), tags=tags(District.MITTE)),
        event(6, title="Eine Woche später", start=at(2026, 12, 26), tags=tags(District.MITTE)),
        event(7, title="Abgesagt", start=at(2026, 12, 19, 11),
              tags=tags(District.MITTE, status=Status.CANCELLED)),
        event(8, title="Verschoben", start=at(2026, 12, 20, 11),
              tags=tags(District.MITTE, status=Status.POSTPONED)),
        event(9, title="Für Erwachsene", start=at(2026, 12, 19, 11),
              tags=Tags(family=False, district=District.MITTE)),
        event(10, title="Basteln in Garbsen", start=at(2026, 12, 19, 14),
              tags=tags(None, municipality=Municipality.GARBSEN)),
        event(11, title="Ohne Ort", start=at(2026, 12, 20, 11), end=at(2026, 12, 20, 12),
              location=Location(), tags=tags(None)),
        event(12, title="Im Zentrum", start=at(2026, 12, 20, 9), location=place,
              tags=tags(District.MITTE)),
    ]  # fmt: skip


def uid(n: int) -> str:
    return f"ev{n:03d}@famcal-hannover"


@pytest.mark.parametrize(
    ("now", "want"),
    [
        (NOW, {SAT: [2, 1, 4, 10], SUN: [12, 3, 4, 11]}),  # Wednesday: the coming weekend
        (at(2026, 12, 19, 10), {SAT: [1, 4, 10], SUN: [12, 3, 4, 11]}),  # 8–9 o'clock ended
        (at(2026, 12, 20, 12), {SUN: [3, 4]}),  # Sunday noon: 9–11 and 11–12 o'clock ended
    ],
    ids=["wednesday", "saturday", "sunday"],
)
def test_weekend_digest_holds_exactly_the_weekends_events(
    now: datetime, want: dict[date, list[int]]
) -> None:
    reports = build_reports(weekend_calendar(), now=now, history=None)
    got = {d.day: [e.uid for a in d.areas for e in a.entries] for d in reports.weekend.days}
    # By day, then district (taxonomy order), Region towns, no place; then time.
    assert got == {day: [uid(n) for n in ns] for day, ns in want.items()}
    files = dict(report_files(reports, base_url=None))
    html = files["wochenende.html"].decode()
    wanted = {uid(n) for ns in want.values() for n in ns}
    assert set(re.findall(r'data-uid="([^"]+)"', html)) == wanted
    text = files["wochenende.txt"].decode()
    for n in range(1, 13):
        link = event_link(uid(n), None)
        assert (link in text) == (uid(n) in wanted), n
        assert (f'href="{link}"' in html) == (uid(n) in wanted), n
    if now.weekday() != 6:
        assert "Region: Garbsen" in text and "Ohne Ortsangabe" in text


def test_weekend_text_lines_fit_and_links_are_absolute_with_a_base_url() -> None:
    base = "https://familienkalender.example.org/hannover/"
    long_title = "Ein sehr langer Titel " * 12
    events = [
        *weekend_calendar(),
        event(50, title=long_title, start=at(2026, 12, 19, 16),
              location=Location(name="Haus " * 30, city="Hannover"),
              tags=tags(District.KIRCHRODE_BEMERODE_WUELFERODE)),
    ]  # fmt: skip
    files = dict(report_files(build_reports(events, now=NOW, history=None), base_url=base))
    text = files["wochenende.txt"].decode()
    assert max(len(line) for line in text.splitlines()) <= WIDTH
    link = f"{base.rstrip('/')}/{event_link(uid(50), None)}"
    assert link in text.splitlines()[-1] or f"  {link}" in text.splitlines()
    assert f'href="{link}"' in files["wochenende.html"].decode()
    assert "16:00–18:00 Uhr: Ein sehr langer Titel" in text


def test_publish_stage_writes_the_reports_and_keeps_history(tmp_path: Path) -> None:
    store = Store(tmp_path / "events.db")
    out = tmp_path / "out"
    events = coverage_calendar()
    publish_stage(store, now=NOW, out_dir=out, events=events)
    assert all((out / name).is_file() for name in REPORT_FILES)
    assert json.loads(store.meta("report_history") or "[]")[0]["date"] == "2026-12-16"
    publish_stage(store, now=NOW + timedelta(days=1), out_dir=out, events=events)
    assert (
        "Verglichen mit dem Bericht vom 16. Dezember 2026"
        in (out / "bericht" / "index.html").read_text()
    )


@pytest.mark.e2e
def test_demo_publishes_the_reports_and_its_counts_match_its_feed(demo_out: Path) -> None:
    assert all((demo_out / name).is_file() for name in REPORT_FILES)
    _, cells = read_csv((demo_out / "bericht" / "abdeckung.csv").read_bytes())
    expected = counts_from_feed(json.loads((demo_out / "alle.json").read_text()))
    weeks = {w for _, _, w in cells}
    assert {k: n for k, n in cells.items() if n} == {
        k: n for k, n in expected.items() if k[2] in weeks
    }
    text = (demo_out / "wochenende.txt").read_text()
    assert max(len(line) for line in text.splitlines()) <= WIDTH
