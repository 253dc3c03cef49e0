"""An incremental process (issue #20) redoes only the records a change touches, and its result
is that of processing everything again: the same stored events and identities, the same
counts and byte for byte the same published files, step after step (a changed text, a merged
listing moving to another day and splitting, a record no longer listed until it is gone, a
rejected record, a new record sharing a merged UID's day)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from core.config import SourceConfig
from core.model import Event, Health, Location, RawEvent, SourceType, json_digest
from core.store import Store
from famcal import process_stage, publish_stage, read_ahead
from tests.conftest import NOW

SOURCES = [
    SourceConfig(id="s", type=SourceType.ICS, name="S", start_urls=("http://s/",), priority=80),
    SourceConfig(id="t", type=SourceType.ICS, name="T", start_urls=("http://t/",)),
    SourceConfig(id="u", type=SourceType.ICS, name="U", start_urls=("http://u/",)),
]
LINDEN = Location(name="Freizeitheim Linden", postal_code="30449")


def raw(source: str, record: str, title: str, start: str, **fields: object) -> RawEvent:
    return RawEvent(
        source_id=source,
        record_id=record,
        title=title,
        start=start,
        **fields,  # type: ignore[arg-type]
    )


def crawl() -> dict[str, list[RawEvent]]:
    hexe = "Kindertheater: Die kleine Hexe"
    return {
        "s": [
            raw("s", "hexe", hexe, "2026-12-06T11:00:00", location=LINDEN,
                description="Für Kinder ab 5 Jahren."),
            *(
                raw("s", f"krabbel#{d}", "Krabbelgruppe für Babys", f"2026-12-{d:02d}T10:00:00")
                for d in (1, 8, 15, 22)
            ),
            raw("s", "lesung", "Lesung für Kinder", "2026-12-09T16:00:00", end="kaputt"),
            raw("s", "leer", "", "2026-12-10T16:00:00"),
            raw("s", "markt", "Weihnachtsmarkt", "2026-12-12", end="2026-12-14"),
            raw("s", "turnen#2026-12-03", "Eltern-Kind-Turnen", "2026-12-03T16:00:00"),
        ],
        "t": [
            raw("t", "hexe", hexe.upper(), "2026-12-06T11:00:00", location=LINDEN,
                description="Eintritt frei, für Kinder ab 5."),
            raw("t", "kino", "Bilderbuchkino für Kinder ab 4", "2026-12-06T15:00:00"),
            raw("t", "chor", "Offenes Singen", "2026-12-13T17:00:00"),
        ],
        "u": [
            raw("u", "hexe", "Die kleine Hexe (Kindertheater)", "2026-12-06T11:10:00",
                location=LINDEN),
            raw("u", "basteln", "Basteln für Kinder ab 6", "2026-12-08T14:00:00"),
        ],
    }  # fmt: skip


def steps() -> list[dict[str, list[RawEvent]]]:
    first = crawl()
    changed = crawl()  # one text changed
    changed["t"][1] = raw("t", "kino", "Bilderbuchkino für Kinder ab 5", "2026-12-06T15:00:00")
    moved = {k: list(v) for k, v in changed.items()}  # a merged listing moves a day: a split
    moved["t"][0] = raw("t", "hexe", "KINDERTHEATER: DIE KLEINE HEXE", "2026-12-07T11:00:00",
                        location=LINDEN)  # fmt: skip
    gone = {k: list(v) for k, v in moved.items()}  # no longer listed (twice: gone)
    gone["u"] = [r for r in gone["u"] if r.record_id != "basteln"]
    back = {k: list(v) for k, v in gone.items()}  # back, and a newcomer on the merge's day
    back["u"] = [*crawl()["u"], raw("u", "neu", "Neues Puppenspiel", "2026-12-06T11:00:00")]
    # A second date of the one-off record: both are now one series (pipeline.tag), though
    # the first one's record did not change; then the second date goes again.
    sibling = {k: list(v) for k, v in back.items()}
    sibling["s"] = [
        *sibling["s"],
        raw("s", "turnen#2026-12-10", "Eltern-Kind-Turnen", "2026-12-10T16:00:00"),
    ]
    return [first, changed, moved, gone, gone, back, back, sibling, back, back]


def save(store: Store, found: dict[str, list[RawEvent]], run_id: int) -> None:
    for source_id, records in found.items():
        store.save_crawl(
            run_id=run_id, source_id=source_id, name=source_id, type="ics", status=Health.OK,
            error=None, records=records, count=len(records), at=NOW, window_start=NOW,
        )  # fmt: skip


def state(store: Store) -> tuple[object, ...]:
    events = store.db.execute("select uid, data, fingerprint from events order by uid")
    identities = store.db.execute("select * from identities order by source_id, record_id")
    return events.fetchall(), identities.fetchall()


def files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_incremental_process_equals_a_full_one_step_by_step(tmp_path: Path) -> None:
    incremental, full = Store(tmp_path / "a.db"), Store(tmp_path / "b.db")
    for run_id, found in enumerate(steps(), start=1):
        out = {}
        for name, store, step in (("a", incremental, True), ("b", full, False)):
            save(store, found, run_id)
            report = process_stage.process_stage(
                store, SOURCES, now=NOW, run_id=run_id, incremental=step
            )
            out[name] = tmp_path / f"{name}{run_id}"
            publish_stage.publish_stage(
                store,
                now=NOW,
                out_dir=out[name],
                events=report.canonical,
                stored_digests=report.stored_digests,
            )
            counts = (
                report.records, report.events, report.merged, dict(report.rejected),
                dict(report.repaired_by_source), report.new, report.changed,
                report.cancelled_missing, [e.uid for e in report.canonical],
                report.stored_digests,
            )  # fmt: skip
            if step:
                expected = counts
            else:
                assert counts == expected, run_id
        assert state(incremental) == state(full), run_id
        assert files(out["a"]) == files(out["b"]), run_id
        shutil.rmtree(out["a"]), shutil.rmtree(out["b"])
    assert incremental.cached_tags() == full.cached_tags()


def test_one_changed_record_redoes_only_its_day(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(tmp_path / "e.db")
    first, changed = steps()[:2]
    save(store, first, 1)
    process_stage.process_stage(store, SOURCES, now=NOW, run_id=1, incremental=True)
    save(store, changed, 2)
    calls: list[str] = []
    real = process_stage.normalize

    def counting(raw: RawEvent, *, uid: str) -> object:
        calls.append(f"{raw.source_id}/{raw.record_id}")
        return real(raw, uid=uid)

    monkeypatch.setattr(process_stage, "normalize", counting)
    report = process_stage.process_stage(store, SOURCES, now=NOW, run_id=2, incremental=True)
    # The changed listing and the other timed listings of 6 December (the merged Hexe).
    assert sorted(calls) == ["s/hexe", "t/hexe", "t/kino", "u/hexe"]
    assert report.changed == 1 and report.events == 11
    processed = store.db.execute("select count(*) from event_runs where processed = 2").fetchone()
    assert processed[0] == report.events


def test_events_read_ahead_give_the_same_process(tmp_path: Path) -> None:
    # famcal run reads the stored events ahead while the crawl runs (ReadAhead); processing
    # with them gives what reading them in the stage gives — also when what was read ahead
    # is stale (read before an earlier step), where the stage reads the events itself.
    ahead_store, plain = Store(tmp_path / "a.db"), Store(tmp_path / "b.db")
    stale: read_ahead.ReadAhead | None = None
    for run_id, found in enumerate(steps(), start=1):
        out = {}
        fresh = read_ahead.ReadAhead(ahead_store)  # before the crawl's records are saved
        for name, store in (("a", ahead_store), ("b", plain)):
            save(store, found, run_id)
            ahead = (stale if run_id % 3 == 0 else fresh) if name == "a" else None
            report = process_stage.process_stage(
                store, SOURCES, now=NOW, run_id=run_id, incremental=True, ahead=ahead
            )
            out[name] = tmp_path / f"{name}{run_id}"
            publish_stage.publish_stage(
                store,
                now=NOW,
                out_dir=out[name],
                events=report.canonical,
                stored_digests=report.stored_digests,
            )
            counts = (
                report.records, report.events, report.merged, dict(report.rejected),
                report.new, report.changed, report.cancelled_missing, report.canonical,
                report.stored_digests,
            )  # fmt: skip
            if name == "a":
                expected = counts
            else:
                assert counts == expected, run_id
        assert state(ahead_store) == state(plain), run_id
        assert files(out["a"]) == files(out["b"]), run_id
        shutil.rmtree(out["a"]), shutil.rmtree(out["b"])
        if run_id == 1:
            stale = read_ahead.ReadAhead(ahead_store)
            assert len(stale.result(set(stale_uids := [e.uid for e in report.canonical]))) == len(
                stale_uids
            )  # read, then handed over once
            stale = read_ahead.ReadAhead(ahead_store)
        fresh.cancel()


def test_a_cancelled_read_ahead_stops(tmp_path: Path) -> None:
    store = Store(tmp_path / "c.db")
    save(store, crawl(), 1)
    process_stage.process_stage(store, SOURCES, now=NOW, run_id=1)
    ahead = read_ahead.ReadAhead(store)
    ahead.cancel()
    assert ahead.result(set()) == {}
    # A full process (not incremental) cancels it and reads nothing of it.
    ahead = read_ahead.ReadAhead(store)
    process_stage.process_stage(store, SOURCES, now=NOW, run_id=2, ahead=ahead)
    assert not ahead._thread.is_alive()


def test_a_read_ahead_that_never_started_is_read_by_the_stage(tmp_path: Path) -> None:
    store = Store(tmp_path / "d.db")
    save(store, crawl(), 1)
    report = process_stage.process_stage(store, SOURCES, now=NOW, run_id=1)
    waiting = read_ahead.ReadAhead(store, start=False)
    found = waiting.result({e.uid for e in report.canonical})  # stops the thread, reads it
    assert sorted(found) == sorted(e.uid for e in report.canonical)
    texts = store.event_texts(found)
    for uid, (digest, event) in found.items():
        assert event == Event.from_dict(json.loads(texts[uid])), uid
        assert digest == json_digest(texts[uid]), uid
    started = read_ahead.ReadAhead(store)
    started.cancel()  # stops the thread and drops what it read
    assert not started._thread.is_alive()
    assert started.result(set()) == {}


def test_a_read_ahead_stops_when_its_over_says_so(tmp_path: Path) -> None:
    store = Store(tmp_path / "f.db")
    save(store, crawl(), 1)
    report = process_stage.process_stage(store, SOURCES, now=NOW, run_id=1)
    over = read_ahead.ReadAhead(store, over=lambda: True)
    over._thread.join()  # stopped at its first look, having read nothing
    assert over._found == {}
    wanted = {e.uid for e in report.canonical}
    assert set(over.result(wanted)) == wanted  # the stage reads them itself


def test_crawl_over_means_every_spider_closed(tmp_path: Path) -> None:
    import os
    import time

    from famcal.read_ahead import crawl_over

    (tmp_path / "s.result.json").write_text("{}")
    os.utime(tmp_path / "s.result.json", (time.time() - 3600, time.time() - 3600))
    over = crawl_over(tmp_path, 2)
    assert not over()
    (tmp_path / "s.result.json").write_text("{}")
    assert not over()
    (tmp_path / "t.result.json").write_text("{}")
    assert over()
    assert not crawl_over(tmp_path / "missing", 1)()
