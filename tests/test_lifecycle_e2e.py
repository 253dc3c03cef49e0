"""End to end, over several runs: two ICS sources of different priority on a real local HTTP
server, whose answers change between runs, and the real ``famcal run`` (issue #6).

Covers: merge across sources with fields by priority; cancelled in the text; series dates
and different events at the same time and place kept apart; UIDs kept through merges,
splits and retitles with SEQUENCE + 1; an unchanged run rewrites no feed byte; missing twice
from a healthy source → cancelled tombstone kept 30 days past its end; failed or degraded
sources cancel nothing; an event another source still lists stays; a returning event is
scheduled again; past events stay in the database when the window moves on.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import icalendar
import pytest

from tests.conftest import FAST_CRAWL, NOW, LocalSite, famcal

pytestmark = pytest.mark.e2e

GLOCKSEE = "Theater an der Glocksee, Glockseestraße 35, 30169 Hannover"
BIBLIOTHEK = "Stadtbibliothek Hannover, Hildesheimer Straße 12, 30169 Hannover"


@dataclass(frozen=True)
class V:
    """One VEVENT of a test calendar (local Berlin times)."""

    uid: str
    title: str
    start: str  # "20261206T150000"
    end: str | None = None
    location: str = ""
    description: str = ""
    url: str = ""
    rrule: str = ""

    def ics(self) -> str:
        lines = [
            "BEGIN:VEVENT",
            f"UID:{self.uid}",
            "DTSTAMP:20261101T000000Z",
            f"DTSTART;TZID=Europe/Berlin:{self.start}",
        ]
        if self.end:
            lines.append(f"DTEND;TZID=Europe/Berlin:{self.end}")
        if self.rrule:
            lines.append(f"RRULE:{self.rrule}")
        lines.append(f"SUMMARY:{self.title}")
        if self.location:
            lines.append("LOCATION:" + self.location.replace(",", "\\,"))
        if self.description:
            lines.append(f"DESCRIPTION:{self.description}")
        if self.url:
            lines.append(f"URL:{self.url}")
        lines.append("END:VEVENT")
        return "\r\n".join(lines)


def calendar(*events: V) -> str:
    head = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//famcal tests//DE\r\n"
    return head + "".join(e.ics() + "\r\n" for e in events) + "END:VCALENDAR\r\n"


class Setup:
    """Two sources (stadt: priority 80, partner: priority 40), a database and an out folder."""

    def __init__(self, tmp_path: Path, site: LocalSite) -> None:
        self.tmp, self.site = tmp_path, site
        self.sources = tmp_path / "sources.toml"
        self.sources.write_text(
            f'[sources.stadt]\ntype = "ics"\nname = "Stadt"\npriority = 80\n'
            f'start_urls = ["{site.url("/stadt.ics")}"]\n\n'
            f'[sources.partner]\ntype = "ics"\nname = "Partner"\npriority = 40\n'
            f'start_urls = ["{site.url("/partner.ics")}"]\n'
        )
        self.out = tmp_path / "out"
        self.db = tmp_path / "events.db"

    def serve(self, *, stadt: list[V] | None = None, partner: list[V] | None = None) -> None:
        if stadt is not None:
            self.site.put("/stadt.ics", calendar(*stadt))
        if partner is not None:
            self.site.put("/partner.ics", calendar(*partner))

    def run(
        self, now: datetime = NOW, expect: int = 0, extra: tuple[str, ...] = ()
    ) -> dict[str, dict[str, Any]]:
        result = famcal(
            "run",
            "--sources",
            str(self.sources),
            "--db",
            str(self.db),
            "--out",
            str(self.out),
            "--now",
            now.isoformat(),
            *FAST_CRAWL,
            *extra,
        )
        assert result.returncode == expect, result.stderr
        return self.items()

    def items(self) -> dict[str, dict[str, Any]]:
        """The alle feed's items by uid, as their ``_event`` objects."""
        feed = json.loads((self.out / "alle.json").read_text())
        return {item["id"]: item["_event"] for item in feed["items"]}

    def ics_status(self) -> dict[str, tuple[str, int]]:
        cal = icalendar.Calendar.from_ical((self.out / "alle.ics").read_bytes())
        return {str(e["UID"]): (str(e.get("STATUS", "")), int(e["SEQUENCE"])) for e in cal.events}

    def sql(self, query: str, *args: Any) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.db) as conn:
            return conn.execute(query, args).fetchall()


def by_title(items: dict[str, dict[str, Any]], text: str) -> list[dict[str, Any]]:
    return sorted(
        (e for e in items.values() if text in e["title"]), key=lambda e: (e["start"], e["uid"])
    )


def snapshot(out: Path) -> dict[str, tuple[int, bytes]]:
    return {
        str(p.relative_to(out)): (p.stat().st_mtime_ns, p.read_bytes())
        for p in sorted(out.rglob("*"))
        if p.is_file()
    }


PIPPI_STADT = V(
    "pippi@stadt",
    "Kindertheater: Pippi Langstrumpf",
    "20261206T150000",
    "20261206T163000",
    GLOCKSEE,
)
PIPPI_PARTNER = V(
    "p-17@partner",
    "Pippi Langstrumpf!",
    "20261206T151000",  # the partner rounds to its own clock
    location="Theater an der Glocksee, 30169 Hannover",
    description="Für Kinder ab 4 Jahren. Eintritt 6 €.",
    url="https://partner.example/pippi",
)
KRABBEL_STADT = V(
    "krabbel@stadt",
    "Krabbelgruppe",
    "20261201T100000",
    "20261201T113000",
    "Familienzentrum Linden, Windheimstraße 4, 30451 Hannover",
    rrule="FREQ=WEEKLY;COUNT=3",
)
KRABBEL_PARTNER = V(
    "krabbel@partner",
    "Krabbelgruppe für Babys",
    "20261201T100000",
    rrule="FREQ=WEEKLY;COUNT=3",
    location="Familienzentrum Linden",
)
GRUFFELO_STADT = V(
    "gruffelo@stadt", "Bilderbuchkino: Der Grüffelo", "20261210T160000", location=BIBLIOTHEK
)
BASTELN_PARTNER = V(
    "basteln@partner", "Bastelnachmittag im Advent", "20261210T160000", location=BIBLIOTHEK
)
GRUFFELO_PARTNER = V(
    "gruffelo@partner",
    "Der Grüffelo",
    "20261210T160000",
    location="Stadtbibliothek, 30169 Hannover",
)


def test_merge_across_sources_and_unchanged_run(tmp_path: Path, site: LocalSite) -> None:
    s = Setup(tmp_path, site)
    s.serve(
        stadt=[PIPPI_STADT, KRABBEL_STADT, GRUFFELO_STADT],
        partner=[PIPPI_PARTNER, KRABBEL_PARTNER, BASTELN_PARTNER, GRUFFELO_PARTNER],
    )
    items = s.run()

    # One Pippi: fields by priority (stadt), what stadt lacks from the partner, both sources.
    (pippi,) = by_title(items, "Pippi")
    assert pippi["title"] == "Kindertheater: Pippi Langstrumpf"
    assert pippi["start"] == "2026-12-06T15:00:00+01:00"
    assert pippi["description"].startswith("Für Kinder ab 4 Jahren")
    assert pippi["url"] == "https://partner.example/pippi"
    assert [src["id"] for src in pippi["sources"]] == ["stadt", "partner"]
    assert pippi["sources"][1]["url"] == "https://partner.example/pippi"
    (data,) = s.sql("select data from events where uid = ?", pippi["uid"])
    origins = json.loads(data[0])["field_sources"]
    assert origins["title"] == "stadt" and origins["description"] == "partner"

    # A weekly series: three dates, each merged across sources, never with each other.
    krabbel = by_title(items, "Krabbelgruppe")
    assert [k["start"][:10] for k in krabbel] == ["2026-12-01", "2026-12-08", "2026-12-15"]
    assert all(len(k["sources"]) == 2 for k in krabbel)
    assert len({k["uid"] for k in krabbel}) == 3

    # Same time, same place, different events: apart; the Grüffelo of both sources: one.
    assert len(by_title(items, "Bastelnachmittag")) == 1
    (gruffelo,) = by_title(items, "Grüffelo")
    assert len(gruffelo["sources"]) == 2
    assert len(items) == 6

    # The decision log says what merged and why.
    decisions = s.sql("select decision, source_id, reason from merge_log")
    merged = [d for d in decisions if d[0] == "merged"]
    assert len(merged) == 5  # Pippi, 3 Krabbel dates, Grüffelo
    assert any("start Δ10 min" in d[2] for d in merged)

    # A second run with no change rewrites no feed byte and logs no decision again.
    before = snapshot(s.out)
    s.run()
    after = snapshot(s.out)
    assert [name for name in before if before[name] != after[name]] == [
        "health.html",
        "health.json",
    ]
    assert s.sql("select count(*) from merge_log") == [(len(decisions),)]

    # The partner writes "Abgesagt" into its title: still the same event (the prefix says
    # nothing about which event it is), the title still stadt's, the status cancelled,
    # under the same UID with SEQUENCE + 1.
    cancelled = replace(PIPPI_PARTNER, title="ABGESAGT – Pippi Langstrumpf!")
    s.serve(partner=[cancelled, KRABBEL_PARTNER, BASTELN_PARTNER, GRUFFELO_PARTNER])
    (pippi2,) = by_title(s.run(), "Pippi")
    assert pippi2["uid"] == pippi["uid"]
    assert pippi2["title"] == pippi["title"] and pippi2["status"] == "cancelled"
    assert pippi2["sequence"] == pippi["sequence"] + 1
    assert s.ics_status()[pippi["uid"]] == ("CANCELLED", 1)


KASPER_PARTNER = V(
    "kasper@partner",
    "Kasper und das Krokodil",
    "20261212T110000",
    location="Figurentheater Hannover, Lange-Feld-Straße 1, 30559 Hannover",
)
HOTZENPLOTZ = V(
    "hotz@stadt",
    "Der Räuber Hotzenplotz",
    "20261212T110000",
    location="Figurentheater Hannover, Lange-Feld-Straße 1, 30559 Hannover",
)
SINGEN = V(
    "singen@partner",
    "Adventssingen für Familien",
    "20261213T170000",
    location="Marktkirche, Hanns-Lilje-Platz 2, 30159 Hannover",
)


def test_uids_survive_joins_merges_and_splits(tmp_path: Path, site: LocalSite) -> None:
    s = Setup(tmp_path, site)
    s.serve(stadt=[HOTZENPLOTZ], partner=[KASPER_PARTNER, SINGEN])
    first = s.run()
    (kasper,) = by_title(first, "Kasper")
    (hotz,) = by_title(first, "Hotzenplotz")  # same time and place, a different show
    (singen,) = by_title(first, "Adventssingen")

    # The higher-priority source starts listing the Adventssingen: it joins the partner's
    # event under its first UID; stadt's title wins (a material change: SEQUENCE + 1).
    # Stadt also retitles its show — it was the Kasper all along: the two events merge.
    singen_stadt = V(
        "singen@stadt",
        "Familien-Adventssingen",
        "20261213T170000",
        location="Marktkirche, 30159 Hannover",
    )
    retitled = V(
        HOTZENPLOTZ.uid,
        "Puppentheater: Kasper und das Krokodil",
        HOTZENPLOTZ.start,
        location=HOTZENPLOTZ.location,
    )
    s.serve(stadt=[retitled, singen_stadt])
    second = s.run()
    (singen2,) = by_title(second, "Adventssingen")
    assert singen2["uid"] == singen["uid"]
    assert [src["id"] for src in singen2["sources"]] == ["stadt", "partner"]
    assert singen2["title"] == "Familien-Adventssingen"
    assert singen2["sequence"] == singen["sequence"] + 1

    # Both were created in the first run; the survivor is one of the old UIDs and the other
    # is kept as a cancelled tombstone, so no calendar entry silently vanishes.
    kept = [e for e in second.values() if "Kasper" in e["title"] and e["status"] == "scheduled"]
    assert len(kept) == 1 and len(kept[0]["sources"]) == 2
    survivor = kept[0]["uid"]
    assert survivor in {kasper["uid"], hotz["uid"]}
    (absorbed,) = {kasper["uid"], hotz["uid"]} - {survivor}
    assert second[absorbed]["status"] == "cancelled"
    assert second[absorbed]["sequence"] == 1
    assert s.ics_status()[absorbed] == ("CANCELLED", 1)
    merged = set(s.sql("select source_id, record_id from merge_log where decision = 'merged'"))
    assert {("partner", "kasper@partner"), ("partner", "singen@partner")} <= merged

    # The tombstone is carried over unchanged by the next run.
    before = snapshot(s.out)
    s.run()
    after = snapshot(s.out)
    assert [name for name in before if before[name] != after[name]] == [
        "health.html",
        "health.json",
    ]

    # Stadt retitles back: the group splits, each part scheduled under its old UID.
    s.serve(stadt=[HOTZENPLOTZ, singen_stadt])
    third = s.run()
    assert {third[kasper["uid"]]["status"], third[hotz["uid"]]["status"]} == {"scheduled"}
    assert third[kasper["uid"]]["title"] == "Kasper und das Krokodil"
    assert third[hotz["uid"]]["title"] == "Der Räuber Hotzenplotz"
    assert third[absorbed]["sequence"] == 2  # cancelled → scheduled again
    assert s.sql("select count(*) from merge_log where decision = 'split'") == [(1,)]


def filler(n: int) -> list[V]:
    return [
        V(
            f"kurs-{i}@stadt",
            f"Kinderyoga Kurs {i}",
            f"202612{10 + i:02d}T090000",
            location="Kulturtreff Vahrenheide, 30179 Hannover",
        )
        for i in range(n)
    ]


LATERNE = V(
    "laterne@stadt",
    "Laternenumzug",
    "20261203T170000",
    "20261203T183000",
    "Kita Sonnenschein, 30161 Hannover",
)
SINGEN_STADT = V(
    "singen@stadt",
    "Adventssingen für Familien",
    "20261213T170000",
    location="Marktkirche, Hanns-Lilje-Platz 2, 30159 Hannover",
)


def test_missing_cancels_after_two_healthy_runs_and_reappears(
    tmp_path: Path, site: LocalSite
) -> None:
    s = Setup(tmp_path, site)
    s.serve(stadt=[LATERNE, SINGEN_STADT, *filler(4)], partner=[SINGEN])
    first = s.run()
    (laterne,) = by_title(first, "Laternenumzug")
    (singen,) = by_title(first, "Adventssingen")
    assert len(singen["sources"]) == 2

    # Stadt stops listing both; the partner still lists the Adventssingen.
    s.serve(stadt=filler(4))
    once = s.run()
    assert once[laterne["uid"]]["status"] == "scheduled"  # one run is not enough
    twice = s.run()
    assert twice[laterne["uid"]]["status"] == "cancelled"  # a tombstone, still in the feed
    assert twice[laterne["uid"]]["sequence"] == laterne["sequence"] + 1
    assert s.ics_status()[laterne["uid"]] == ("CANCELLED", 1)
    assert twice[singen["uid"]]["status"] == "scheduled"  # the partner still lists it
    assert twice[singen["uid"]]["sequence"] == singen["sequence"]

    # The tombstone stays until 30 days after the end (3 Dec 18:30)...
    end = datetime.fromisoformat("2026-12-03T18:30:00+01:00")
    late = s.run(now=end + timedelta(days=29))
    assert late[laterne["uid"]]["status"] == "cancelled"

    # ...and when the event comes back it is scheduled again, SEQUENCE + 1.
    s.serve(stadt=[LATERNE, *filler(4)])
    back = s.run(now=end + timedelta(days=29))
    assert back[laterne["uid"]]["status"] == "scheduled"
    assert back[laterne["uid"]]["sequence"] == laterne["sequence"] + 2
    assert s.ics_status()[laterne["uid"]] == ("CONFIRMED", 2)

    # Past the window it leaves the feeds, not the database.
    later = s.run(now=end + timedelta(days=31))
    assert laterne["uid"] not in later
    # Past events stay in the database as history.
    rows = s.sql("select status, sequence from events where uid = ?", laterne["uid"])
    assert rows == [("scheduled", 2)]
    assert s.sql("select count(*) from events where uid = ?", singen["uid"]) == [(1,)]


def test_failed_or_degraded_source_cancels_nothing(tmp_path: Path, site: LocalSite) -> None:
    s = Setup(tmp_path, site)
    events = [LATERNE, *filler(5)]
    s.serve(stadt=events, partner=[SINGEN])
    first = s.run()
    assert len(first) == 7

    # Failed twice: nothing cancelled, nothing dropped.
    site.put("/stadt.ics", b"Service Unavailable", status=503, content_type="text/plain")
    for _ in range(2):
        items = s.run(expect=3)
        assert {e["status"] for e in items.values()} == {"scheduled"}
        assert set(items) == set(first)

    # Degraded twice (6 events fell to 2): still nothing cancelled.
    s.serve(stadt=events[:2])
    for _ in range(2):
        items = s.run(expect=3)
        assert {e["status"] for e in items.values()} == {"scheduled"}
        assert set(items) == set(first)
    health = json.loads((s.out / "health.json").read_text())
    assert health["sources"]["stadt"]["status"] == "degraded"


def test_past_events_stay_in_the_database(tmp_path: Path, site: LocalSite) -> None:
    s = Setup(tmp_path, site)
    spring = [
        V(f"spring-{i}@{who}", f"Osterbasteln {who} {i}", f"2027031{i}T100000")
        for i, who in ((1, "stadt"), (2, "stadt"), (3, "partner"))
    ]
    s.serve(stadt=[PIPPI_STADT, LATERNE, *spring[:2]], partner=[PIPPI_PARTNER, spring[2]])
    first = s.run()
    assert len(first) == 5
    december = {uid: data for uid, data in s.sql("select uid, data from events")}
    december = {uid: data for uid, data in december.items() if "2026-12" in data}
    assert len(december) == 2

    # Three months on, December is history: out of the feeds, unchanged in the database,
    # and neither missing nor cancelled though the sources no longer send it.
    later = s.run(now=NOW + timedelta(days=90))
    assert sorted(e["title"] for e in later.values()) == [
        "Osterbasteln partner 3",
        "Osterbasteln stadt 1",
        "Osterbasteln stadt 2",
    ]
    for uid, data in december.items():
        assert s.sql("select data from events where uid = ?", uid) == [(data,)]
    assert s.sql("select count(*) from records where missing_runs > 0") == [(0,)]


def test_moved_time_keeps_uid(tmp_path: Path, site: LocalSite) -> None:
    s = Setup(tmp_path, site)
    s.serve(stadt=[LATERNE, KRABBEL_STADT], partner=[])
    first = s.run()
    (laterne,) = by_title(first, "Laternenumzug")
    krabbel = by_title(first, "Krabbelgruppe")

    # The single event moves by half an hour; one date of the series moves to the afternoon.
    moved = V(
        KRABBEL_STADT.uid,
        "Krabbelgruppe",
        "20261208T143000",
        "20261208T160000",
        KRABBEL_STADT.location,
    )
    override = moved.ics().replace(
        "DTSTART;", "RECURRENCE-ID;TZID=Europe/Berlin:20261208T100000\r\nDTSTART;", 1
    )
    s.site.put(
        "/stadt.ics",
        calendar(
            replace(LATERNE, start="20261203T173000", end="20261203T190000"), KRABBEL_STADT
        ).replace("END:VCALENDAR", override + "\r\nEND:VCALENDAR"),
    )
    second = s.run(now=NOW + timedelta(hours=6))
    assert set(second) == set(first)  # no new UIDs, none gone
    assert second[laterne["uid"]]["start"] == "2026-12-03T17:30:00+01:00"
    assert second[laterne["uid"]]["sequence"] == 1
    assert second[krabbel[1]["uid"]]["start"] == "2026-12-08T14:30:00+01:00"
    assert [second[k["uid"]]["sequence"] for k in krabbel] == [0, 1, 0]
    # LAST-MODIFIED moves with SEQUENCE, and only then.
    changed = {laterne["uid"], krabbel[1]["uid"]}
    for uid, event in second.items():
        moved_on = event["updated"] != first[uid]["updated"]
        assert moved_on == (uid in changed), uid
    cal = icalendar.Calendar.from_ical((s.out / "alle.ics").read_bytes())
    stamps = {str(e["UID"]): e["LAST-MODIFIED"].dt for e in cal.events}
    assert stamps[laterne["uid"]] == NOW + timedelta(hours=6)
