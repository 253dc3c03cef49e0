"""The store's schema evolves by numbered steps: a database written before them (by main at
43e3f1a, kept as a SQL dump in tests/fixtures/store/) opens, migrates, keeps every UID it
published and serves the next process and publish; a fresh database ends with the same
schema; opening again changes nothing; a database from a newer famcal is refused."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from core.config import load_sources
from core.paths import data_file
from core.store import SchemaTooNew, Store
from core.store.migrations import STEPS
from famcal import run
from famcal.cli import main
from tests.conftest import FIXTURES, NOW

OLD_MAIN = FIXTURES / "store" / "main-43e3f1a.sql"
STEP_NAMES = [step.__name__ for step in STEPS]


def old_database(path: Path) -> Path:
    conn = sqlite3.connect(path)
    try:
        conn.executescript(OLD_MAIN.read_text(encoding="utf-8"))
    finally:
        conn.close()
    return path


def query(path: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def schema(path: Path) -> list[tuple[object, ...]]:
    return query(
        path,
        "select type, name, tbl_name, sql from sqlite_master "
        "where name not like 'sqlite_%' order by type, name",
    )


def published_uids(path: Path) -> set[str]:
    rows = query(
        path, "select uid from events where processed = (select max(processed) from events)"
    )
    return {str(uid) for (uid,) in rows}


def test_the_old_database_migrates_and_keeps_what_it_held(tmp_path: Path) -> None:
    path = old_database(tmp_path / "old.db")
    uids = published_uids(path)
    identities = query(path, "select source_id, record_id, uid from identities order by 1, 2")
    records = query(path, "select * from records order by 1, 2")
    forms = query(path, "select uid, key, vevent, item, jsonld from render_cache order by uid")
    assert len(uids) == 14 and query(path, "pragma user_version") == [(1,)]

    store = Store(path)
    assert store.migrations == STEP_NAMES
    assert query(path, "pragma user_version") == [(len(STEPS),)]
    assert [r[0] for r in query(path, "select name from _sqlite_migrations order by id")] == (
        STEP_NAMES
    )
    assert {e.uid for e in store.events(processed=store.latest_processed())} == uids
    assert query(path, "select source_id, record_id, uid from identities order by 1, 2") == (
        identities
    )
    assert query(path, "select * from records order by 1, 2") == records
    health = store.source_health("demo-kindertheater")
    assert health is not None and health.events == 6 and len(health.history) == 1
    assert store.meta("process_pending") == "0"
    # The render cache changed shape (one row per format) and kept its forms as they were.
    cached = store.cached_forms()
    assert len(forms) == len(cached) == 3
    for uid, key, vevent, item, jsonld in forms:
        expected = {"vevent": vevent, "item": item} | ({"jsonld": jsonld} if jsonld else {})
        assert cached[str(uid)] == (key, expected)
    assert any(jsonld is None for *_, jsonld in forms)
    store.close()

    # An old database and a fresh one end with the same schema.
    Store(tmp_path / "fresh.db").close()
    assert schema(path) == schema(tmp_path / "fresh.db")


def test_the_migrated_database_serves_process_and_publish(tmp_path: Path) -> None:
    path = old_database(tmp_path / "old.db")
    uids = published_uids(path)

    # famcal publish, as a user runs it after updating famcal.
    out = tmp_path / "public"
    result = CliRunner().invoke(
        main, ["publish", "--db", str(path), "--out", str(out), "--now", NOW.isoformat()]
    )
    assert result.exit_code == 0, result.output
    published = {item["id"] for item in json.loads((out / "alle.json").read_text())["items"]}
    assert published == uids

    # Processing the stored records again finds every event under the UID it had.
    store = Store(path)
    sources = load_sources(data_file("demo", "sources.toml"))
    report = run.process(store, sources, now=NOW)
    assert {e.uid for e in report.canonical} == uids
    assert {e.uid for e in store.events(processed=store.latest_processed())} == uids
    again = run.publish(store, now=NOW, out_dir=tmp_path / "again")
    assert again.feeds["alle"] == len(uids)
    # (Not the same bytes: the old events were made by the code of their day.)
    items = json.loads((tmp_path / "again" / "alle.json").read_text())["items"]
    assert {item["id"] for item in items} == uids
    store.close()


def test_a_fresh_database_gets_every_step_and_a_second_open_is_a_no_op(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "events.db"
    store = Store(path)
    assert store.migrations == STEP_NAMES
    store.close()
    applied = query(path, "select * from _sqlite_migrations order by id")
    tables = schema(path)
    assert query(path, "pragma user_version") == [(len(STEPS),)]

    again = Store(path)
    assert again.migrations == STEP_NAMES
    again.close()
    assert query(path, "select * from _sqlite_migrations order by id") == applied
    assert schema(path) == tables


def test_a_database_of_a_newer_famcal_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    Store(path).close()
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "insert into _sqlite_migrations (migration_set, name, applied_at) "
            "values ('famcal', 'm999_from_the_future', '2030-01-01')"
        )
    conn.close()
    with pytest.raises(SchemaTooNew, match="m999_from_the_future"):
        Store(path)
