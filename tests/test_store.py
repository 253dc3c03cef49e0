"""The store: created on first use, crawls saved atomically, absences counted only when safe."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from core.model import Event, Health, Location, RawEvent, SourceRef, evolve
from core.store import Store
from tests.conftest import NOW


def raws(*ids: str, start: str = "2026-12-06T11:00:00") -> list[RawEvent]:
    return [RawEvent(source_id="s", record_id=i, title=f"T {i}", start=start) for i in ids]


def save(
    store: Store, records: list[RawEvent], status: Health = Health.OK, run_id: int = 1
) -> None:
    store.save_crawl(
        run_id=run_id,
        source_id="s",
        name="S",
        type="ics",
        status=status,
        error=None if status is Health.OK else "boom",
        records=records,
        count=len(records),
        at=NOW,
        window_start=NOW,
    )


def missing(store: Store) -> dict[str, int]:
    return {r.raw.record_id: r.missing_runs for r in store.records()}


def test_created_on_first_use(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "events.db"
    Store(path).close()
    tables = {
        r[0]
        for r in sqlite3.connect(path).execute("select name from sqlite_master where type='table'")
    }
    assert {"sources", "records", "events", "runs", "identities", "merge_log"} <= tables


def test_absences_counted_only_for_healthy_crawls(tmp_path: Path) -> None:
    store = Store(tmp_path / "e.db")
    save(store, raws("a", "b"))
    save(store, raws("a"), run_id=2)
    assert missing(store) == {"a": 0, "b": 1}
    save(store, raws(), status=Health.FAILED, run_id=3)
    assert missing(store) == {"a": 0, "b": 1}
    save(store, raws("a"), status=Health.DEGRADED, run_id=4)
    assert missing(store) == {"a": 0, "b": 1}
    save(store, raws("a"), run_id=5)
    assert missing(store) == {"a": 0, "b": 2}
    save(store, raws("a", "b"), run_id=6)
    assert missing(store) == {"a": 0, "b": 0}


def test_past_records_are_not_missing(tmp_path: Path) -> None:
    store = Store(tmp_path / "e.db")
    save(store, raws("old", start="2026-01-01T10:00:00") + raws("new"))
    save(store, raws("new"), run_id=2)
    assert missing(store) == {"old": 0, "new": 0}


def test_health_keeps_last_success_and_healthy_count(tmp_path: Path) -> None:
    store = Store(tmp_path / "e.db")
    save(store, raws("a", "b"))
    save(store, raws(), status=Health.FAILED, run_id=2)
    health = store.source_health("s")
    assert health is not None
    assert health.status is Health.FAILED and health.error == "boom"
    assert health.last_success == NOW.isoformat()
    assert health.last_healthy_count == 2
    assert [h["status"] for h in health.history] == ["failed", "ok"]


def test_a_crawl_that_dies_leaves_the_previous_state(tmp_path: Path) -> None:
    store = Store(tmp_path / "e.db")
    save(store, raws("a", "b"))

    def exploding() -> list[RawEvent]:
        yield from raws("c")
        raise RuntimeError("killed mid-write")

    with pytest.raises(RuntimeError):
        store.save_crawl(
            run_id=2,
            source_id="s",
            name="S",
            type="ics",
            status=Health.OK,
            error=None,
            records=exploding(),
            count=1,
            at=NOW,
            window_start=NOW,
        )
    assert missing(store) == {"a": 0, "b": 0}
    assert store.source_health("s").last_healthy_count == 2  # type: ignore[union-attr]


def test_an_unchanged_crawl_that_dies_leaves_the_previous_state(tmp_path: Path) -> None:
    # save_unchanged moves the missing counters first: they must roll back with the rest.
    store = Store(tmp_path / "e.db")
    save(store, raws("a", "b"))
    save(store, raws("a"), run_id=2)
    with pytest.raises(TypeError):
        store.save_unchanged(
            run_id=3,
            source_id="s",
            at=NOW,
            window_start=NOW,
            stats={"unserializable": object()},
        )
    assert missing(store) == {"a": 0, "b": 1}
    assert [h["run_id"] for h in store.source_health("s").history] == [2, 1]  # type: ignore[union-attr]


def test_the_render_cache_keeps_forms_by_any_format_name(tmp_path: Path) -> None:
    store = Store(tmp_path / "e.db")
    store.save_forms(
        {
            "u1": ("k1", {"vevent": b"BEGIN:VEVENT", "item": "{}", "page": "<html>"}),
            "u2": ("k2", {"vevent": b"V2", "item": "{2}", "jsonld": None}),
        },
        keep=["u1", "u2"],
    )
    assert store.cached_forms() == {
        "u1": ("k1", {"vevent": b"BEGIN:VEVENT", "item": "{}", "page": "<html>"}),
        "u2": ("k2", {"vevent": b"V2", "item": "{2}"}),
    }
    # A changed event's forms are replaced whole; events no longer shown drop out.
    store.save_forms({"u1": ("k3", {"vevent": b"NEW", "item": "{new}"})}, keep=["u1"])
    assert store.cached_forms() == {"u1": ("k3", {"vevent": b"NEW", "item": "{new}"})}


def test_keeping_events_writes_their_marks_not_their_rows(tmp_path: Path) -> None:
    """An incremental process that finds 2,000 events unchanged marks them as its own in
    ``event_runs``: what it writes is a small fraction of the events' JSON (it used to
    rewrite every row), and the store then gives them as that run's events."""
    base = Event(
        uid="x", title="Vorlesestunde", start=NOW, end=None, all_day=False,
        location=Location(name="Stadtbibliothek"), sources=(SourceRef(id="s", record_id="r"),),
    )  # fmt: skip
    events = [
        evolve(base, uid=f"e{i}@famcal", description=f"Termin {i}: " + "Bilderbücher. " * 200)
        for i in range(2000)
    ]
    store = Store(tmp_path / "e.db")
    store.save_events([(e, "f", NOW.isoformat()) for e in events], processed=1)
    store.db.conn.executemany(
        "insert or replace into process_memo (source_id, record_id, state, uid) "
        "values ('s', ?, '', ?)",
        [(str(i), e.uid) for i, e in enumerate(events)],
    )
    store.db.conn.commit()
    store.db.execute("pragma wal_checkpoint(truncate)")
    wal = tmp_path / "e.db-wal"
    store.keep_events(processed=2, previous=1)
    json_bytes = sum(len(e.to_json()) for e in events)
    assert wal.stat().st_size < json_bytes / 20, (wal.stat().st_size, json_bytes)
    assert store.latest_processed() == 2
    assert [e.uid for e in store.events(processed=2)] == sorted(e.uid for e in events)
