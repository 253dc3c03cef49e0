"""End to end (issue #17): real ``famcal run`` crawls of two ICS sources on a local HTTP
server whose calendars change between runs — a move, a cancellation, a merge across sources,
— and an app reading ``/feed.json?since=`` page by page
from a running ``famcal serve``, each time from where the last read stopped.

Covers: only what changed comes back, oldest change first, each page's ``next_url`` starting
at the previous page's last ``date_modified``; the tombstone of a merged UID names the
survivor in ``_replaced_by``; a tombstone is still reported after its UID has left
``alle.json``; ``aenderungen.json`` exists after every run.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from tests.conftest import NOW, LocalSite
from tests.test_feeds_serve import RunningServer, get
from tests.test_lifecycle_e2e import (
    GRUFFELO_STADT,
    HOTZENPLOTZ,
    KASPER_PARTNER,
    LATERNE,
    Setup,
    V,
    by_title,
)

pytestmark = pytest.mark.e2e

Item = dict[str, Any]
EPOCH = "2000-01-01T00:00:00+00:00"


def read_since(server: tuple[str, int, Path], since: str, limit: int) -> tuple[list[Item], str]:
    """Every change after ``since``, page by page; returns them and the stamp to keep."""
    items: list[Item] = []
    path: str | None = f"/feed.json?since={quote(since)}&limit={limit}"
    while path:
        status, _, body = get(server, path)
        assert status == 200, body
        page = json.loads(body)
        assert len(page["items"]) <= limit
        items += page["items"]
        if (next_url := page.get("next_url")) is None:
            break
        # The next page starts at this page's last change (and its uid, for equal stamps).
        cursor = parse_qs(urlsplit(next_url).query)
        last = page["items"][-1]
        assert datetime.fromisoformat(cursor["since"][0]) == stamp_of(last)
        assert cursor["after"] == [last["id"]]
        path = urlsplit(next_url)._replace(scheme="", netloc="").geturl()
    if items:
        since = stamp_of(items[-1]).isoformat()
    stamps = [(stamp_of(i), i["id"]) for i in items]
    assert stamps == sorted(stamps) and len({i["id"] for i in items}) == len(items)
    return items, since


def stamp_of(item: Item) -> datetime:
    return datetime.fromisoformat(item["date_modified"])


def gone_file(s: Setup) -> list[Item]:
    data: list[Item] = json.loads((s.out / "aenderungen.json").read_text())
    return data


def test_an_app_follows_the_change_feed_across_runs(tmp_path: Path, site: LocalSite) -> None:
    s = Setup(tmp_path, site)
    gruffelo = replace(GRUFFELO_STADT, start="20261211T160000")  # apart from the Kasper
    s.serve(stadt=[LATERNE, HOTZENPLOTZ, gruffelo], partner=[KASPER_PARTNER])
    first = s.run()
    assert gone_file(s) == []  # written on every run, empty when nothing is gone
    (laterne,) = by_title(first, "Laternenumzug")
    (kasper,) = by_title(first, "Kasper")
    (hotz,) = by_title(first, "Hotzenplotz")
    (bilderbuch,) = by_title(first, "Grüffelo")

    with RunningServer(s.out, clock=lambda: NOW) as running:
        server = ("127.0.0.1", running.port, s.out)
        everything, since = read_since(server, EPOCH, limit=2)
        assert {i["id"] for i in everything} == set(first)

        # Second run: the Laternenumzug moves, the Grüffelo is cancelled, stadt's show turns
        # out to be the partner's Kasper (the two merge).
        moved = replace(LATERNE, start="20261203T173000", end="20261203T190000")
        cancelled = replace(gruffelo, title="Abgesagt: Bilderbuchkino: Der Grüffelo")
        kasper_stadt = V(
            HOTZENPLOTZ.uid,
            "Puppentheater: Kasper und das Krokodil",
            HOTZENPLOTZ.start,
            location=HOTZENPLOTZ.location,
        )
        s.serve(stadt=[moved, kasper_stadt, cancelled])
        second = s.run(now=NOW + timedelta(hours=6))
        (survivor,) = [
            e for e in second.values() if "Kasper" in e["title"] and e["status"] == "scheduled"
        ]
        (absorbed,) = {kasper["uid"], hotz["uid"]} - {survivor["uid"]}
        changes, since = read_since(server, since, limit=1)
        by_id = {i["id"]: i for i in changes}
        assert {laterne["uid"], bilderbuch["uid"], absorbed} <= set(by_id)
        assert set(by_id) <= {laterne["uid"], bilderbuch["uid"], absorbed, survivor["uid"]}
        assert by_id[laterne["uid"]]["_event"]["start"] == "2026-12-03T17:30:00+01:00"
        assert by_id[bilderbuch["uid"]]["_event"]["status"] == "cancelled"  # still an item
        assert by_id[absorbed] == {
            "id": absorbed,
            "date_modified": by_id[absorbed]["date_modified"],
            "_deleted": True,
            "_replaced_by": survivor["uid"],
        }
        assert read_since(server, since, limit=1)[0] == []  # caught up

        # The cancelled Grüffelo is no longer listed; after two healthy runs it is gone for
        # good, and an app that already saw it cancelled still gets its tombstone.
        s.serve(stadt=[moved, kasper_stadt])
        s.run(now=NOW + timedelta(hours=12))
        s.run(now=NOW + timedelta(hours=18))
        assert bilderbuch["uid"] in {g["id"] for g in gone_file(s)}
        changes, since = read_since(server, since, limit=500)
        assert {"id": bilderbuch["uid"], "_deleted": True, "_replaced_by": None}.items() <= {
            i["id"]: i for i in changes
        }[bilderbuch["uid"]].items()

        # Six weeks on, the merged UID's cancelled entry has left alle.json (30 days past its
        # end); a new app starting from the beginning still learns it is gone.
        later = s.run(now=NOW + timedelta(days=50), expect=3)  # all past: "degraded"
        assert absorbed not in later
        assert absorbed in {g["id"] for g in gone_file(s)}
        fresh, _ = read_since(server, EPOCH, limit=500)
        (tombstone,) = [i for i in fresh if i["id"] == absorbed]
        assert tombstone["_deleted"] is True and tombstone["_replaced_by"] == survivor["uid"]
