"""The SQLite store (through sqlite-utils): the only module that talks to the database.

Contract:
- ``Store(path)`` opens (and on first use creates) the database; tables:
  ``sources`` (health per source), ``source_runs`` (per-run history of each source),
  ``records`` (raw records per source, with first/last seen and a missing counter),
  ``events`` (canonical events: the model's JSON plus indexed columns),
  ``identities`` (source record -> uid, so a UID survives title/time changes and merges),
  ``merge_log`` (what merged and why), ``runs`` (start, end, counts, exit status).
- ``sources`` also keeps the latest per-source problem counts as JSON objects (issue #8):
  ``skipped`` (spider skips by reason, from the crawl), ``rejected`` and ``repaired``
  (normalizer rejections and repairs by reason, from processing) — ``save_problems``.
- Every write method runs in one transaction: a run that dies leaves the previous state.
- Values cross this boundary as ``core.model`` objects or plain dicts, never cursors.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from core.model import Event, Health, RawEvent, Tags, json_digest

SCHEMA_VERSION = 1


@dataclass(frozen=True, kw_only=True)
class SourceHealth:
    id: str
    name: str
    type: str
    status: Health | None
    events: int
    error: str | None
    last_success: str | None
    last_run: str | None
    last_healthy_count: int | None
    history: tuple[dict[str, Any], ...] = ()
    skipped: dict[str, int] = field(default_factory=dict)
    rejected: dict[str, int] = field(default_factory=dict)
    repaired: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class StoredRecord:
    raw: RawEvent
    missing_runs: int
    first_seen: str
    last_seen: str


@dataclass(frozen=True, kw_only=True)
class RecordRow:
    """A raw record ready for the ``records`` table: its identity, start and JSON."""

    record_id: str
    start: str
    data: str

    @classmethod
    def of(cls, raw: RawEvent) -> RecordRow:
        return cls(
            record_id=raw.record_id,
            start=raw.start,
            data=json.dumps(raw.to_dict(), ensure_ascii=False),
        )

    @classmethod
    def from_json_line(cls, line: str) -> RecordRow:
        data = json.loads(line)
        return cls(
            record_id=str(data["record_id"]), start=str(data["start"]), data=line.rstrip("\n")
        )


class Store:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite_utils.Database(self.path)
        # WAL keeps readers (famcal serve, sources) working while a run writes.
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA busy_timeout=10000")
        self._create()

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self.db.conn:
            yield

    def _create(self) -> None:
        db = self.db
        with db.conn:
            if "sources" not in db.table_names():
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
                )
            if "source_runs" not in db.table_names():
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
                )
            if "records" not in db.table_names():
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
                )
            if "identities" not in db.table_names():
                db.table("identities").create(
                    {"source_id": str, "record_id": str, "uid": str},
                    pk=("source_id", "record_id"),
                )
                db.table("identities").create_index(["uid"])
            if "events" not in db.table_names():
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
                )
                db.table("events").create_index(["start"])
                db.table("events").create_index(["processed"])
            if "merge_log" not in db.table_names():
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
                )
            # Finding each record's last decision (process_stage logs only changes).
            db.table("merge_log").create_index(
                ["source_id", "record_id", "run_id"], if_not_exists=True
            )
            if "runs" not in db.table_names():
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
                )
            # Added by issue #8; older databases get the columns on first open.
            sources = db.table("sources")
            for column in ("skipped", "rejected", "repaired", "digests"):
                if column not in sources.columns_dict:
                    sources.add_column(column, str)
            if "meta" not in db.table_names():
                db.table("meta").create({"key": str, "value": str}, pk="key")
            if "render_cache" not in db.table_names():
                db.table("render_cache").create(
                    {"uid": str, "key": str, "vevent": bytes, "item": str, "jsonld": str},
                    pk="uid",
                )
            if "tag_cache" not in db.table_names():
                db.table("tag_cache").create({"key": str, "tags": str, "run_id": int}, pk="key")
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    # --- runs -------------------------------------------------------------------------------

    def start_run(self, *, started: datetime, now: datetime, stage: str) -> int:
        with self.transaction():
            table = self.db.table("runs")
            table.insert(
                {
                    "started": started.isoformat(),
                    "now": now.isoformat(),
                    "stage": stage,
                    "counts": "{}",
                }
            )
            return int(table.last_pk or 0)

    def finish_run(
        self, run_id: int, *, finished: datetime, exit_status: int, counts: dict[str, Any]
    ) -> None:
        with self.transaction():
            self.db.table("runs").update(
                run_id,
                {
                    "finished": finished.isoformat(),
                    "exit_status": exit_status,
                    "counts": json.dumps(counts, ensure_ascii=False),
                },
            )

    def runs(self, limit: int = 20) -> list[dict[str, Any]]:
        return list(self.db.table("runs").rows_where(order_by="id desc", limit=limit))

    # --- sources ----------------------------------------------------------------------------

    def source_health(self, source_id: str) -> SourceHealth | None:
        rows = list(self.db.table("sources").rows_where("id = ?", [source_id]))
        if not rows:
            return None
        row = rows[0]
        history = tuple(
            self.db.table("source_runs").rows_where(
                "source_id = ?", [source_id], order_by="run_id desc", limit=10
            )
        )
        return SourceHealth(
            id=row["id"],
            name=row["name"] or "",
            type=row["type"] or "",
            status=Health(row["status"]) if row["status"] else None,
            events=row["events"] or 0,
            error=row["error"],
            last_success=row["last_success"],
            last_run=row["last_run"],
            last_healthy_count=row["last_healthy_count"],
            history=history,
            skipped=_counts(row.get("skipped")),
            rejected=_counts(row.get("rejected")),
            repaired=_counts(row.get("repaired")),
        )

    def all_source_health(self) -> list[SourceHealth]:
        ids = [row["id"] for row in self.db.table("sources").rows_where(select="id", order_by="id")]
        return [h for h in (self.source_health(i) for i in ids) if h is not None]

    # --- a crawl's results ------------------------------------------------------------------

    def save_crawl(
        self,
        *,
        run_id: int,
        source_id: str,
        name: str,
        type: str,
        status: Health,
        error: str | None,
        records: Iterable[RawEvent | RecordRow],
        count: int,
        at: datetime,
        window_start: datetime,
        skipped: dict[str, int] | None = None,
        stats: dict[str, Any] | None = None,
        digests: dict[str, str] | None = None,
    ) -> None:
        """Store one source's crawl in one transaction.

        Seen records are upserted (missing counter reset). Only an ``ok`` crawl counts the
        absences of the source's other records still inside the window; a failed or
        degraded crawl must never make events look deleted. ``records`` are ``RawEvent``s or
        ready ``RecordRow``s (the crawl's own JSON lines, stored without a round trip).
        The document digests are kept only for an ``ok`` crawl: the next crawl may skip a
        document only when its events were stored whole.
        """
        stamp = at.isoformat()
        previous = self.source_health(source_id)
        with self.transaction():
            seen: set[str] = set()
            batch: list[dict[str, Any]] = []
            for raw in records:
                row = raw if isinstance(raw, RecordRow) else RecordRow.of(raw)
                seen.add(row.record_id)
                batch.append(
                    {
                        "source_id": source_id,
                        "record_id": row.record_id,
                        "data": row.data,
                        "start": row.start,
                        "last_seen": stamp,
                        "missing_runs": 0,
                    }
                )
                if len(batch) >= 2000:
                    self._upsert_records(batch, stamp)
                    batch = []
            self._upsert_records(batch, stamp)
            if status is Health.OK:
                # Only records whose start the source should still list can be missing:
                # occurrences that slid out of the window are history, not deletions.
                window = window_start.isoformat()[:10]
                rows = self.db.execute(
                    "select record_id from records "
                    "where source_id = ? and substr(start, 1, 10) >= ?",
                    [source_id, window],
                ).fetchall()
                gone = [r[0] for r in rows if r[0] not in seen]
                for chunk in _chunks(gone, 500):
                    marks = ",".join("?" for _ in chunk)
                    self.db.execute(
                        f"update records set missing_runs = missing_runs + 1 "
                        f"where source_id = ? and record_id in ({marks})",
                        [source_id, *chunk],
                    )
            healthy = status is Health.OK
            self.db.table("sources").upsert(
                {
                    "id": source_id,
                    "name": name,
                    "type": type,
                    "status": status.value,
                    "events": count,
                    "error": error,
                    "last_run": stamp,
                    "last_success": stamp
                    if healthy
                    else (previous.last_success if previous else None),
                    "last_healthy_count": count
                    if healthy
                    else (previous.last_healthy_count if previous else None),
                    "skipped": json.dumps(skipped or {}, ensure_ascii=False),
                    "digests": json.dumps((digests or {}) if healthy else {}),
                },
                pk="id",
            )
            # Records changed: the next process must run (set in the same transaction, so
            # a run killed before processing cannot leave them unprocessed).
            self._mark_pending()
            self.db.table("source_runs").upsert(
                {
                    "run_id": run_id,
                    "source_id": source_id,
                    "status": status.value,
                    "events": count,
                    "error": error,
                    "at": stamp,
                    "skipped": json.dumps(skipped or {}),
                    "stats": json.dumps(stats or {}),
                },
                pk=("run_id", "source_id"),
            )

    def digests(self) -> dict[str, dict[str, str]]:
        """source id -> {url: digest} of the documents its last healthy crawl read."""
        return {
            row["id"]: json.loads(row["digests"] or "{}")
            for row in self.db.table("sources").rows_where(select="id, digests")
        }

    def save_unchanged(
        self,
        *,
        run_id: int,
        source_id: str,
        at: datetime,
        window_start: datetime,
        stats: dict[str, Any] | None = None,
    ) -> int:
        """A healthy crawl that found the source exactly as last time, in one transaction.

        The stored records stand as they are; the ones already missing are missing once
        more (the source still does not list them). Returns how many missing counters moved,
        so the caller knows whether the events can change.
        """
        stamp = at.isoformat()
        previous = self.source_health(source_id)
        count = previous.events if previous else 0
        with self.transaction():
            cursor = self.db.execute(
                "update records set missing_runs = missing_runs + 1 "
                "where source_id = ? and missing_runs > 0 and substr(start, 1, 10) >= ?",
                [source_id, window_start.isoformat()[:10]],
            )
            if cursor.rowcount:
                self._mark_pending()
            self.db.execute(
                "update sources set status = ?, error = null, last_run = ?, last_success = ? "
                "where id = ?",
                [Health.OK.value, stamp, stamp, source_id],
            )
            self.db.table("source_runs").upsert(
                {
                    "run_id": run_id,
                    "source_id": source_id,
                    "status": Health.OK.value,
                    "events": count,
                    "error": None,
                    "at": stamp,
                    "skipped": "{}",
                    "stats": json.dumps({**(stats or {}), "unchanged": True}),
                },
                pk=("run_id", "source_id"),
            )
        return int(cursor.rowcount or 0)

    def window_keys(
        self, processed: int, *, start_from: str, start_to: str, upcoming_from: str
    ) -> tuple[list[str], list[str]]:
        """The uids a publish would show (by UTC start) and the first family ones from
        ``upcoming_from``: what the published files depend on besides the events' data."""
        shown = [
            row[0]
            for row in self.db.execute(
                "select uid from events where processed = ? and start >= ? and start <= ? "
                "order by start, uid",
                [processed, start_from, start_to],
            )
        ]
        upcoming = [
            row[0]
            for row in self.db.execute(
                "select uid from events where processed = ? and family = 1 and start >= ? "
                "and start <= ? order by start, uid limit 20",
                [processed, upcoming_from, start_to],
            )
        ]
        return shown, upcoming

    def _mark_pending(self) -> None:
        self.db.execute("insert or replace into meta (key, value) values ('process_pending', '1')")

    def cached_tags(self) -> dict[str, Tags]:
        """rule key -> the rules' tags from earlier runs (``pipeline.tag.rule_key``)."""
        return {
            key: Tags.from_dict(json.loads(tags))
            for key, tags in self.db.execute("select key, tags from tag_cache")
        }

    def save_tag_cache(self, tags: Mapping[str, Tags], *, run_id: int) -> None:
        """Keep exactly this run's rule tags: upsert them, drop every other entry."""
        with self.transaction():
            self.db.conn.executemany(
                "insert into tag_cache (key, tags, run_id) values (?, ?, ?) "
                "on conflict(key) do update set tags = excluded.tags, run_id = excluded.run_id",
                (
                    (key, json.dumps(value.to_dict(), ensure_ascii=False), run_id)
                    for key, value in tags.items()
                ),
            )
            self.db.execute("delete from tag_cache where run_id != ?", [run_id])

    def cached_forms(self) -> dict[str, tuple[str, bytes, str, str | None]]:
        """uid -> (render key, VEVENT, JSON item, JSON-LD) from the last publish."""
        return {
            row[0]: (row[1], row[2], row[3], row[4])
            for row in self.db.execute("select uid, key, vevent, item, jsonld from render_cache")
        }

    def save_forms(
        self, changed: Mapping[str, tuple[str, bytes, str, str | None]], *, keep: Iterable[str]
    ) -> None:
        """Store the new serialized forms and keep only those of ``keep`` (this publish)."""
        with self.transaction():
            self.db.execute("create temp table if not exists keep_uids (uid text primary key)")
            self.db.execute("delete from keep_uids")
            self.db.conn.executemany(
                "insert or ignore into keep_uids (uid) values (?)", ((uid,) for uid in keep)
            )
            self.db.execute("delete from render_cache where uid not in (select uid from keep_uids)")
            self.db.conn.executemany(
                "insert into render_cache (uid, key, vevent, item, jsonld) values (?, ?, ?, ?, ?) "
                "on conflict(uid) do update set key = excluded.key, vevent = excluded.vevent, "
                "item = excluded.item, jsonld = excluded.jsonld",
                ((uid, *form) for uid, form in changed.items()),
            )

    def meta(self, key: str) -> str | None:
        rows = list(self.db.table("meta").rows_where("key = ?", [key]))
        return str(rows[0]["value"]) if rows else None

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction():
            self.db.table("meta").upsert({"key": key, "value": value}, pk="key")

    def save_problems(
        self,
        *,
        rejected: dict[str, dict[str, int]],
        repaired: dict[str, dict[str, int]],
    ) -> None:
        """The latest processing's rejections and repairs by source and reason.

        Every known source is written (an empty object when it had none), so counts from
        an earlier run do not linger after the source fixed its data.
        """
        with self.transaction():
            for (source_id,) in self.db.execute("select id from sources").fetchall():
                self.db.execute(
                    "update sources set rejected = ?, repaired = ? where id = ?",
                    [
                        json.dumps(rejected.get(source_id, {}), ensure_ascii=False),
                        json.dumps(repaired.get(source_id, {}), ensure_ascii=False),
                        source_id,
                    ],
                )

    def _upsert_records(self, batch: list[dict[str, Any]], stamp: str) -> None:
        if not batch:
            return
        # first_seen is set once: insert-or-ignore first, then update the mutable columns.
        self.db.conn.executemany(
            "insert or ignore into records (source_id, record_id, first_seen, missing_runs) "
            "values (?, ?, ?, 0)",
            [(b["source_id"], b["record_id"], stamp) for b in batch],
        )
        self.db.conn.executemany(
            "update records set data = ?, start = ?, last_seen = ?, missing_runs = 0 "
            "where source_id = ? and record_id = ?",
            [
                (b["data"], b["start"], b["last_seen"], b["source_id"], b["record_id"])
                for b in batch
            ],
        )

    def records(self, since: str | None = None) -> Iterator[StoredRecord]:
        """Every stored raw record (optionally only those starting on or after ``since``)."""
        where, args = ("substr(start, 1, 10) >= ?", [since[:10]]) if since else (None, [])
        for row in self.db.table("records").rows_where(
            where, args, order_by="source_id, record_id"
        ):
            if row["data"] is None:
                continue
            yield StoredRecord(
                raw=RawEvent.from_dict(json.loads(row["data"])),
                missing_runs=row["missing_runs"] or 0,
                first_seen=row["first_seen"] or "",
                last_seen=row["last_seen"] or "",
            )

    # --- identities -------------------------------------------------------------------------

    def identities(self) -> dict[tuple[str, str], str]:
        return {
            (row["source_id"], row["record_id"]): row["uid"]
            for row in self.db.table("identities").rows
        }

    # --- canonical events -------------------------------------------------------------------

    def latest_processed(self) -> int | None:
        row = self.db.execute("select max(processed) from events").fetchone()
        return int(row[0]) if row and row[0] is not None else None

    def events(self, *, processed: int | None = None) -> list[Event]:
        """Canonical events, by UTC start; ``processed`` limits them to one process run's."""
        where, args = ("processed = ?", [processed]) if processed is not None else (None, [])
        return [
            Event.from_dict(json.loads(row["data"]))
            for row in self.db.table("events").rows_where(where, args, order_by="start, uid")
        ]

    def event_rows(self) -> dict[str, dict[str, Any]]:
        """uid -> stored row (start, status, fingerprint, sequence, updated, created) for
        tracking; without the events' JSON, which ``event_data`` reads where needed."""
        return {
            row["uid"]: row
            for row in self.db.table("events").rows_where(
                select="uid, start, status, fingerprint, sequence, updated, created"
            )
        }

    def cancelled_rows(self) -> list[dict[str, Any]]:
        """The cancelled events (uid, start, end, updated, ``merged_into`` from their hints)
        with how many source records their UID holds and the fewest runs any of them has been
        missing (None without records): what ``pipeline.lifecycle.gone_for_good`` reads."""
        rows = self.db.execute(
            "select e.uid, e.start, e.end, e.updated, "
            "json_extract(e.data, '$.hints.merged_into'), count(r.record_id), "
            "min(r.missing_runs) from events e "
            "left join identities i on i.uid = e.uid "
            "left join records r on r.source_id = i.source_id and r.record_id = i.record_id "
            "where e.status = 'cancelled' group by e.uid"
        ).fetchall()
        names = ("uid", "start", "end", "updated", "merged_into", "records", "least_missing")
        return [dict(zip(names, row, strict=True)) for row in rows]

    def event_data(self, uid: str) -> dict[str, Any] | None:
        row = self.db.execute("select data from events where uid = ?", [uid]).fetchone()
        return json.loads(row[0]) if row else None

    def save_events(
        self,
        events: Sequence[tuple[Event, str, str]],
        *,
        processed: int,
        merge_log: Sequence[dict[str, Any]] = (),
        identities: Mapping[tuple[str, str], str] | None = None,
    ) -> dict[str, str]:
        """Upsert (event, fingerprint, created) rows, the merge decisions and the changed
        identities, atomically: identities that point at a UID whose event was not saved
        would make a merge's absorbed UID vanish without its tombstone. Returns the
        ``json_digest`` of each saved event's stored JSON (``Event.to_json``) by uid, so
        callers can key work by it without serializing the events again."""
        digests: dict[str, str] = {}

        def stored(event: Event) -> str:
            text = event.to_json()
            digests[event.uid] = json_digest(text)
            return text

        with self.transaction():
            if identities:
                self.db.conn.executemany(
                    "insert into identities (source_id, record_id, uid) values (?, ?, ?) "
                    "on conflict(source_id, record_id) do update set uid = excluded.uid",
                    ((s, r, u) for (s, r), u in identities.items()),
                )
            # One statement per row with a native upsert: sqlite-utils' upsert_all runs an
            # insert and an update per row, and this is the largest write of a run.
            self.db.conn.executemany(
                "insert into events (uid, start, end, family, status, sequence, updated, "
                "created, fingerprint, processed, data) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "on conflict(uid) do update set start = excluded.start, end = excluded.end, "
                "family = excluded.family, status = excluded.status, "
                "sequence = excluded.sequence, updated = excluded.updated, "
                "created = excluded.created, fingerprint = excluded.fingerprint, "
                "processed = excluded.processed, data = excluded.data",
                (
                    (
                        event.uid,
                        _sort_key(event),
                        event.end.isoformat() if event.end else None,
                        int(bool(event.tags and event.tags.family)),
                        event.status.value,
                        event.sequence,
                        event.updated.isoformat() if event.updated else None,
                        created,
                        fingerprint,
                        processed,
                        stored(event),
                    )
                    for event, fingerprint, created in events
                ),
            )
            if merge_log:
                rows = [
                    (
                        r["uid"],
                        r["source_id"],
                        r["record_id"],
                        r["decision"],
                        r["reason"],
                        processed,
                    )
                    for r in merge_log
                ]
                self.db.conn.executemany(
                    "insert into merge_log (uid, source_id, record_id, decision, reason, run_id) "
                    "values (?, ?, ?, ?, ?, ?)",
                    rows,
                )
        return digests

    def latest_merge_decisions(self) -> dict[tuple[str, str], set[tuple[str, str, str]]]:
        """(source, record) -> the (uid, decision, reason) rows of the last run that logged it."""
        rows = self.db.execute(
            "select m.source_id, m.record_id, m.uid, m.decision, m.reason from merge_log m "
            "join (select source_id, record_id, max(run_id) as run_id from merge_log "
            "group by source_id, record_id) last "
            "on m.source_id = last.source_id and m.record_id = last.record_id "
            "and m.run_id = last.run_id"
        ).fetchall()
        latest: dict[tuple[str, str], set[tuple[str, str, str]]] = {}
        for source_id, record_id, uid, decision, reason in rows:
            latest.setdefault((source_id, record_id), set()).add((uid, decision, reason))
        return latest


def _counts(text: str | None) -> dict[str, int]:
    if not text:
        return {}
    value = json.loads(text)
    return {str(k): int(v) for k, v in value.items()} if isinstance(value, dict) else {}


def _sort_key(event: Event) -> str:
    # Timed and all-day events sort together by their UTC instant.
    from datetime import UTC

    return event.start_datetime().astimezone(UTC).isoformat()


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
