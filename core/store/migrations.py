"""The schema of the store as numbered steps (sqlite-utils' ``Migrations``).

Contract:
- ``migrate(db)`` applies every pending step in order, each in its own transaction together
  with its record in ``_sqlite_migrations`` (set ``famcal``), and sets ``PRAGMA user_version``
  to the number of steps applied, so ``sqlite3 events.db 'pragma user_version'`` tells a
  database's schema without Python. A second call is a no-op.
- A database that records a step this code does not know was written by a newer famcal:
  ``migrate`` refuses it (``SchemaTooNew``) rather than write into a schema it cannot read.
- Steps are never edited once released; a schema change is a new step at the end.
- Steps 1 and 2 also *adopt* databases written before this table of steps existed (famcal
  ≤ 0.1 created the tables "if missing" on every open): they create only what is missing,
  so an old database and a fresh one end with the same schema. From step 3 on, a step runs
  exactly once.
"""

from __future__ import annotations

import sqlite_utils
from sqlite_utils import Migrations

MIGRATIONS = Migrations("famcal")


class SchemaTooNew(RuntimeError):
    """The database was migrated by a newer famcal than this one."""


@MIGRATIONS()
def m001_initial(db: sqlite_utils.Database) -> None:
    """The ten tables and their indexes as famcal created them before numbered steps."""
    db.table("sources").create(
        {
            "id": str,
            "name": str,
            "type": str,
            "status": str,
            "events": int,
            "error": str,
            "last_success": str,
            "last_run": str,
            "last_healthy_count": int,
        },
        pk="id",
        if_not_exists=True,
    )
    db.table("source_runs").create(
        {
            "run_id": int,
            "source_id": str,
            "status": str,
            "events": int,
            "error": str,
            "skipped": str,
            "stats": str,
            "at": str,
        },
        pk=("run_id", "source_id"),
        if_not_exists=True,
    )
    db.table("records").create(
        {
            "source_id": str,
            "record_id": str,
            "data": str,
            "start": str,
            "first_seen": str,
            "last_seen": str,
            "missing_runs": int,
        },
        pk=("source_id", "record_id"),
        if_not_exists=True,
    )
    db.table("identities").create(
        {"source_id": str, "record_id": str, "uid": str},
        pk=("source_id", "record_id"),
        if_not_exists=True,
    )
    db.table("identities").create_index(["uid"], if_not_exists=True)
    db.table("events").create(
        {
            "uid": str,
            "start": str,
            "end": str,
            "family": int,
            "status": str,
            "sequence": int,
            "updated": str,
            "created": str,
            "fingerprint": str,
            "processed": int,
            "data": str,
        },
        pk="uid",
        if_not_exists=True,
    )
    db.table("events").create_index(["start"], if_not_exists=True)
    db.table("events").create_index(["processed"], if_not_exists=True)
    db.table("merge_log").create(
        {
            "id": int,
            "run_id": int,
            "uid": str,
            "source_id": str,
            "record_id": str,
            "decision": str,
            "reason": str,
        },
        pk="id",
        if_not_exists=True,
    )
    # Finding each record's last decision (process logs only changes).
    db.table("merge_log").create_index(["source_id", "record_id", "run_id"], if_not_exists=True)
    db.table("runs").create(
        {
            "id": int,
            "started": str,
            "finished": str,
            "now": str,
            "exit_status": int,
            "stage": str,
            "counts": str,
        },
        pk="id",
        if_not_exists=True,
    )
    db.table("meta").create({"key": str, "value": str}, pk="key", if_not_exists=True)
    db.table("render_cache").create(
        {"uid": str, "key": str, "vevent": bytes, "item": str, "jsonld": str},
        pk="uid",
        if_not_exists=True,
    )
    db.table("tag_cache").create(
        {"key": str, "tags": str, "run_id": int}, pk="key", if_not_exists=True
    )


@MIGRATIONS()
def m002_source_problems(db: sqlite_utils.Database) -> None:
    """Per-source problem counts (issue #8) and the document digests of the last healthy
    crawl (issue #9), as JSON objects on ``sources``."""
    sources = db.table("sources")
    for column in ("skipped", "rejected", "repaired", "digests"):
        if column not in sources.columns_dict:
            sources.add_column(column, str)


@MIGRATIONS()
def m003_render_cache_by_format(db: sqlite_utils.Database) -> None:
    """The render cache holds one row per (uid, format) instead of a column per format, so
    a new output format needs no schema change. The forms already cached are kept."""
    db.table("render_forms").create(
        {"uid": str, "format": str, "key": str, "form": bytes}, pk=("uid", "format")
    )
    # A one-off copy between shapes: the table API has no insert-from-select.
    for column in ("vevent", "item", "jsonld"):
        db.execute(
            f"insert into render_forms (uid, format, key, form) "
            f"select uid, '{column}', key, {column} from render_cache "
            f"where {column} is not null"
        )
    db.table("render_cache").drop()
    db.rename_table("render_forms", "render_cache")


@MIGRATIONS()
def m004_page_cache(db: sqlite_utils.Database) -> None:
    """The site's event pages as last published (issue #20): per UID the digest of the
    page's inputs and the bytes of its two files, so a publish renders only changed pages."""
    db.table("page_cache").create({"uid": str, "key": str, "html": int, "ics": int}, pk="uid")


@MIGRATIONS()
def m005_process_memo(db: sqlite_utils.Database) -> None:
    """What the last process made of each record (issue #20), so the next one redoes only
    what changed records touch. Empty at first: the next process is a full one."""
    db.table("process_memo").create(
        {
            "source_id": str,
            "record_id": str,
            "state": str,
            "block": str,
            "rejected": str,
            "repaired": str,
            "tag_key": str,
            "uid": str,
            "merged_key": str,
            "unlisted": int,
        },
        pk=("source_id", "record_id"),
    )


@MIGRATIONS()
def m006_event_runs(db: sqlite_utils.Database) -> None:
    """Which process run made each event's current row, moved from ``events.processed`` to
    a narrow table of its own (issue #20): a process that keeps an event unchanged marks it
    with a row of a few bytes, where it rewrote the whole row before — JSON and all, some
    56 MB for the 19,000 kept events of a run after one change."""
    db.execute(
        "create table if not exists event_runs "
        "(uid text primary key, processed integer not null)"
    )
    db.execute("insert or replace into event_runs select uid, processed from events")
    db.execute("create index if not exists idx_event_runs_processed on event_runs (processed)")
    db.execute("drop index if exists idx_events_processed")
    db.execute("alter table events drop column processed")


# In order; each registered under its function's name.
STEPS = (
    m001_initial,
    m002_source_problems,
    m003_render_cache_by_format,
    m004_page_cache,
    m005_process_memo,
    m006_event_runs,
)


def migrate(db: sqlite_utils.Database) -> list[str]:
    """Apply the pending steps; return the names of all applied ones, in order."""
    known = {step.__name__ for step in STEPS}
    unknown = [m.name for m in MIGRATIONS.applied(db) if m.name not in known]
    if unknown:
        raise SchemaTooNew(
            f"the database was migrated by a newer famcal (unknown steps: {', '.join(unknown)})"
        )
    if MIGRATIONS.pending(db):
        MIGRATIONS.apply(db)
    applied = [m.name for m in MIGRATIONS.applied(db)]
    if db.execute("PRAGMA user_version").fetchone()[0] != len(applied):
        db.execute(f"PRAGMA user_version={len(applied)}")
    return applied
