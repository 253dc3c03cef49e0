"""Reuse of the fast reader's last read (``spiders.ics_fast.PlainMemo``, issue #20): a read
with a memo of an earlier read gives exactly what a fresh read gives — on every real file of
the shared corpus, on the benchmarks' sources with one event changed, when the window moves,
when the file's X-WR-TIMEZONE changes, when a remembered zone no longer reads as plain, and
when the memo file is broken — and reuses the blocks it may."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from benchmarks.synth_real import change_one, realistic_sources
from core.model import BERLIN, Health, SourceType
from spiders.crawl import crawl
from spiders.ics_fast import PlainMemo, read_plain
from spiders.ics_parse import NotACalendar, decode, parse_ics
from tests.conftest import LocalSite
from tests.test_ics import CORPUS_FILES, WIDE
from tests.test_ics_fast import FEED, FILES, OWN, calendar


def fresh(text: str, window: dict[str, Any]) -> Any:
    return read_plain(text, *window.values(), "Europe/Berlin", None)


def learned(text: str, window: dict[str, Any], path: Path) -> PlainMemo:
    """A memo as the spider keeps one: filled by a read, saved, loaded for the next."""
    memo = PlainMemo()
    read_plain(text, *window.values(), "Europe/Berlin", None, memo)
    memo.save(path)
    return PlainMemo.load(path)


def again(text: str, window: dict[str, Any], memo: PlainMemo) -> Any:
    return read_plain(text, *window.values(), "Europe/Berlin", None, memo)


@pytest.mark.skipif(not CORPUS_FILES, reason="shared corpus ics-real/ not present")
@pytest.mark.parametrize("window", [WIDE, FEED], ids=["wide", "feed"])
def test_every_real_file_reads_the_same_from_its_memo(
    window: dict[str, Any], tmp_path: Path
) -> None:
    reused = 0
    for number, path in enumerate([*FILES, *OWN]):
        text = decode(path.read_bytes())
        memo = learned(text, window, tmp_path / f"{number}.memo")
        assert again(text, window, memo) == fresh(text, window), path.name
        reused += memo.reused
        # And the whole reading, skips and order included.
        body = path.read_bytes()
        try:
            plain = list(parse_ics(body, workers=1, **window))
        except NotACalendar:
            continue
        memo = learned(text, window, tmp_path / f"{number}.memo")
        assert list(parse_ics(body, workers=1, memo=memo, **window)) == plain, path.name
    assert reused > 100  # not vacuous


def test_one_changed_event_is_read_again_and_the_rest_reused(tmp_path: Path) -> None:
    sources = realistic_sources(600, start=datetime(2026, 11, 25, 8, tzinfo=BERLIN))
    stadt = sources.pop("stadt")
    changed, _ = change_one(stadt, others=list(sources.values()))
    memo = learned(decode(stadt), FEED, tmp_path / "stadt.memo")
    blocks = len(memo.known)
    assert again(decode(changed), FEED, memo) == fresh(decode(changed), FEED)
    assert memo.reused == blocks - 1  # the one changed VEVENT was read again
    assert len(memo.made) == blocks
    memo.save(tmp_path / "stadt.memo")
    memo = PlainMemo.load(tmp_path / "stadt.memo")
    assert again(decode(changed), FEED, memo) == fresh(decode(changed), FEED)
    assert memo.reused == blocks


def test_a_moved_window_reads_afresh(tmp_path: Path) -> None:
    text = decode(realistic_sources(300)["stadt"])
    memo = learned(text, WIDE, tmp_path / "m.memo")
    assert again(text, FEED, memo) == fresh(text, FEED)
    assert memo.reused == 0
    later = {key: value.replace(day=value.day + 1) for key, value in FEED.items()}
    memo = learned(text, FEED, tmp_path / "m.memo")
    assert again(text, later, memo) == fresh(text, later)
    assert memo.reused == 0


EVENTS = (
    "BEGIN:VEVENT\r\nUID:float@x\r\nDTSTART:20261201T100000\r\nDTEND:20261201T110000\r\n"
    "SUMMARY:Floating\r\nEND:VEVENT\r\n",
    "BEGIN:VEVENT\r\nUID:utc@x\r\nDTSTART:20261202T100000Z\r\nDTEND:20261202T110000Z\r\n"
    "SUMMARY:UTC\r\nRRULE:FREQ=WEEKLY;COUNT=3\r\nEND:VEVENT\r\n",
    "BEGIN:VEVENT\r\nUID:zoned@x\r\nDTSTART;TZID=Europe/Berlin:20261203T100000\r\n"
    "DTEND;TZID=Europe/Berlin:20261203T110000\r\nSUMMARY:Zoned\r\nEND:VEVENT\r\n",
)


def zoned_calendar(zone: str | None) -> str:
    head = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//DE\r\n"
    if zone is not None:
        head += f"X-WR-TIMEZONE:{zone}\r\n"
    return calendar(*EVENTS, head=head)


@pytest.mark.parametrize(
    ("before", "after"),
    [(None, "Europe/Berlin"), ("Europe/Berlin", "America/New_York"), ("Asia/Tokyo", None)],
)
def test_a_changed_calendar_zone_reads_afresh(
    before: str | None, after: str | None, tmp_path: Path
) -> None:
    memo = learned(zoned_calendar(before), FEED, tmp_path / "m.memo")
    assert len(memo.known) == 3
    text = zoned_calendar(after)
    found = fresh(text, FEED)
    assert found is not None and len(found[0]) == 5
    assert again(text, FEED, memo) == found
    assert memo.reused == 0


def test_a_remembered_zone_is_looked_up_again(tmp_path: Path) -> None:
    text = zoned_calendar(None)
    path = tmp_path / "m.memo"
    learned(text, FEED, path)
    head, *lines = path.read_text().splitlines()
    entries = [json.loads(line.split("\t", 1)[1]) for line in lines]
    assert sorted(entry["zones"] for entry in entries) == [[], [], ["Europe/Berlin"]]
    for entry in entries:
        if entry["zones"]:
            entry["zones"] = ["Nowhere/Atlantis"]  # as if it no longer read as plain
            entry["items"] = []  # what a reuse would wrongly give
    digests = [line.split("\t", 1)[0] for line in lines]
    written = [f"{d}\t{json.dumps(e)}" for d, e in zip(digests, entries, strict=True)]
    path.write_text("\n".join([head, *written]) + "\n")
    memo = PlainMemo.load(path)
    assert again(text, FEED, memo) == fresh(text, FEED)
    assert memo.reused == 2  # the zoned block was read again


def test_a_broken_entry_costs_only_its_block(tmp_path: Path) -> None:
    text = zoned_calendar(None)
    path = tmp_path / "m.memo"
    learned(text, FEED, path)
    head, first, *rest = path.read_text().splitlines()
    broken = [f"{first.split(chr(9))[0]}\t{{\"zones\": [], \"items\": [{{\"x\": 1}}]}}"]
    path.write_text("\n".join([head, *broken, *rest, "no tab here", "\tempty"]) + "\n")
    memo = PlainMemo.load(path)
    assert again(text, FEED, memo) == fresh(text, FEED)
    assert memo.reused == 2


@pytest.mark.parametrize(
    "content", ["", "{", "famcal plain memo 1\nx\ty\n", "\x00\x01", "famcal plain memo 2"]
)
def test_a_broken_memo_is_an_empty_one(content: str, tmp_path: Path) -> None:
    path = tmp_path / "m.memo"
    path.write_text(content)
    memo = PlainMemo.load(path)
    text = zoned_calendar("Europe/Berlin")
    assert again(text, FEED, memo) == fresh(text, FEED)
    assert memo.reused == 0 and len(memo.made) == 3
    assert PlainMemo.load(tmp_path / "missing.memo").known == {}
    path.write_bytes(b"\xff\xfe not text")
    assert PlainMemo.load(path).known == {}


def test_the_memo_is_saved_whole(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "m.memo"
    memo = learned(zoned_calendar(None), FEED, path)
    assert len(memo.known) == 3
    assert [p.name for p in path.parent.iterdir()] == ["m.memo"]  # no partial file left


VTIMEZONE = (
    "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\n"
    "TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n"
    "END:STANDARD\r\nBEGIN:DAYLIGHT\r\nDTSTART:19700329T020000\r\nTZOFFSETFROM:+0100\r\n"
    "TZOFFSETTO:+0200\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n"
    "END:VTIMEZONE\r\n"
)


@pytest.mark.parametrize("added", [True, False], ids=["vtimezone-added", "vtimezone-removed"])
def test_a_changed_timezone_block_reads_the_same(added: bool, tmp_path: Path) -> None:
    without, with_zone = zoned_calendar(None), calendar(VTIMEZONE, *EVENTS)
    before, after = (without, with_zone) if added else (with_zone, without)
    memo = learned(before, FEED, tmp_path / "m.memo")
    assert again(after, FEED, memo) == fresh(after, FEED)
    body = after.encode()
    plain = list(parse_ics(body, workers=1, **FEED))
    memo = learned(before, FEED, tmp_path / "m.memo")
    assert list(parse_ics(body, workers=1, memo=memo, **FEED)) == plain


def test_a_crawl_keeps_a_memo_and_reads_the_same_with_it(tmp_path: Path, site: LocalSite) -> None:
    # Real crawls (the child process, Scrapy) of one ICS source: the second, after one event
    # changed, reuses the others from the first's memo and keeps what a crawl without one
    # keeps; reading the changed document is noted for the run (the read-ahead's signal).
    from tests.test_crawl_e2e import FAST, WINDOW, source
    from tests.test_lifecycle_e2e import LATERNE, SINGEN, V, calendar, filler

    events = [LATERNE, SINGEN, *filler(12)]
    changed = [V(LATERNE.uid, "Laternenumzug mit Musik", LATERNE.start, LATERNE.end), *events[1:]]
    stadt = source("stadt", SourceType.ICS, site.url("/stadt.ics"))
    settings = {**FAST, "HTTPCACHE_ENABLED": False}

    def records(work: Path) -> list[dict[str, Any]]:
        found = crawl([stadt], work_dir=work, settings=settings, **WINDOW)["stadt"]
        assert found.status is Health.OK, found.error
        return sorted((r.to_dict() for r in found.records()), key=lambda r: r["record_id"])

    site.put("/stadt.ics", calendar(*events))
    first = records(tmp_path / "kept")
    memos = list((tmp_path / "kept" / "plain").glob("stadt-*.memo"))
    assert len(memos) == 1 and len(PlainMemo.load(memos[0]).known) == len(events)
    site.put("/stadt.ics", calendar(*changed))
    again = records(tmp_path / "kept")
    log = (tmp_path / "kept" / "crawl.log").read_text(encoding="utf-8")
    assert f"{len(events) - 1} plain VEVENTs reused of the last read" in log
    assert again == records(tmp_path / "fresh") != first
    assert "Laternenumzug mit Musik" in {r["title"] for r in again}
