"""Canonical events, identities and the merge log: ``events`` (each event's JSON plus the
indexed columns a publish and the tracker read), ``event_runs`` (the process run that made
or, finding it unchanged, kept each event: a narrow table, so that keeping 20,000 events
writes 20,000 small rows, not their JSON again), ``identities`` (source record -> uid, so a
UID survives title and time changes and merges) and ``merge_log`` (what merged and why).

Contract:
- ``save_events`` writes the events, the changed identities and the merge decisions in one
  transaction: identities that point at a UID whose event was not saved would make a merge's
  absorbed UID vanish without its tombstone.
- ``events`` sorts by UTC start (timed and all-day events together), then uid.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC
from pathlib import Path
from typing import Any

import sqlite_utils

from core.model import Event, json_digest
from core.store.rows import upsert_rows

EVENT_COLUMNS = (
    "uid",
    "start",
    "end",
    "family",
    "status",
    "sequence",
    "updated",
    "created",
    "fingerprint",
    "data",
)


class EventsPart:
    db: sqlite_utils.Database
    path: Path

    def save_events(
        self,
        events: Sequence[tuple[Event, str, str]],
        *,
        processed: int,
        merge_log: Sequence[dict[str, Any]] = (),
        identities: Mapping[tuple[str, str], str] | None = None,
        rows: Iterable[tuple[EventRow, str]] | None = None,
    ) -> dict[str, str]:
        """Upsert (event, fingerprint, created) rows, the merge decisions and the changed
        identities, atomically. Returns the ``json_digest`` of each saved event's stored
        JSON (``Event.to_json``) by uid, so callers can key work by it without serializing
        the events again. ``rows``: ``event_row`` of each of ``events`` in order, made
        elsewhere (e.g. streamed from worker processes)."""
        digests: dict[str, str] = {}
        made = rows if rows is not None else (event_row(e) for e in events)

        def values() -> Iterator[EventRow]:
            for (event, _, _), (row, digest) in zip(events, made, strict=True):
                digests[event.uid] = digest
                yield row

        with self.db.atomic():
            if identities:
                upsert_rows(
                    self.db,
                    "identities",
                    pk=("source_id", "record_id"),
                    columns=("source_id", "record_id", "uid"),
                    rows=((s, r, u) for (s, r), u in identities.items()),
                )
            # The largest write of a run.
            upsert_rows(
                self.db,
                "events",
                pk=("uid",),
                columns=EVENT_COLUMNS,
                rows=values(),
            )
            upsert_rows(
                self.db,
                "event_runs",
                pk=("uid",),
                columns=("uid", "processed"),
                rows=((event.uid, processed) for event, _, _ in events),
            )
            if merge_log:
                self.db.table("merge_log").insert_all(
                    {
                        "uid": r["uid"],
                        "source_id": r["source_id"],
                        "record_id": r["record_id"],
                        "decision": r["decision"],
                        "reason": r["reason"],
                        "run_id": processed,
                    }
                    for r in merge_log
                )
        return digests

    def event_texts(self, uids: Iterable[str]) -> dict[str, str]:
        """uid -> stored JSON (``Event.to_json``) of those of ``uids`` the store has."""
        wanted = sorted(set(uids))
        texts: dict[str, str] = {}
        for i in range(0, len(wanted), 500):
            chunk = wanted[i : i + 500]
            marks = ",".join("?" for _ in chunk)
            texts.update(
                self.db.execute(f"select uid, data from events where uid in ({marks})", chunk)
            )
        return texts

    def latest_event_texts_apart(self) -> list[tuple[str, str]]:
        """(uid, stored JSON) of the latest process run's events, read over a read-only
        connection of its own: for a thread that reads them ahead while this connection
        writes (``famcal.process_stage.ReadAhead``)."""
        conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            conn.execute("PRAGMA busy_timeout=10000")
            return conn.execute(
                "select e.uid, e.data from event_runs r join events e on e.uid = r.uid "
                "where r.processed = (select max(processed) from event_runs)"
            ).fetchall()
        finally:
            conn.close()

    def keep_events(self, *, processed: int, previous: int) -> None:
        """Mark the events of the process run ``previous`` that the process memo still names
        (``core.store.memo``) as produced by the run ``processed``, as they are stored: an
        incremental process found them unchanged (one statement: no row goes through
        Python)."""
        with self.db.atomic():
            self.db.execute(
                "update event_runs set processed = ? where processed = ? "
                "and uid in (select uid from process_memo)",
                [processed, previous],
            )

    def latest_processed(self) -> int | None:
        row = self.db.execute("select max(processed) from event_runs").fetchone()
        return int(row[0]) if row and row[0] is not None else None

    def events(self, *, processed: int | None = None) -> list[Event]:
        """Canonical events, by UTC start; ``processed`` limits them to one process run's."""
        if processed is None:
            rows = self.db.execute("select data from events order by start, uid")
        else:
            rows = self.db.execute(
                "select e.data from event_runs r join events e on e.uid = r.uid "
                "where r.processed = ? order by e.start, e.uid",
                [processed],
            )
        return [Event.from_dict(json.loads(data)) for (data,) in rows]

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

    def window_keys(
        self, processed: int, *, start_from: str, start_to: str, upcoming_from: str
    ) -> tuple[list[str], list[str]]:
        """The uids a publish would show (by UTC start) and the first family ones from
        ``upcoming_from``: what the published files depend on besides the events' data."""
        shown = [
            row[0]
            for row in self.db.execute(
                "select e.uid from event_runs r join events e on e.uid = r.uid "
                "where r.processed = ? and e.start >= ? and e.start <= ? "
                "order by e.start, e.uid",
                [processed, start_from, start_to],
            )
        ]
        upcoming = [
            row[0]
            for row in self.db.execute(
                "select e.uid from event_runs r join events e on e.uid = r.uid "
                "where r.processed = ? and e.family = 1 and e.start >= ? "
                "and e.start <= ? order by e.start, e.uid limit 20",
                [processed, upcoming_from, start_to],
            )
        ]
        return shown, upcoming

    def identities(self) -> dict[tuple[str, str], str]:
        return {
            (row["source_id"], row["record_id"]): row["uid"]
            for row in self.db.table("identities").rows
        }

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


EventRow = tuple[str | int | None, ...]


def event_row(entry: tuple[Event, str, str]) -> tuple[EventRow, str]:
    """The ``events`` row (``EVENT_COLUMNS``) of one tracked (event, fingerprint, created)
    and the ``json_digest`` of its JSON. Pure: ``save_events`` makes it, or takes it made."""
    event, fingerprint, created = entry
    text = event.to_json()
    row = (
        event.uid,
        _sort_key(event),
        event.end.isoformat() if event.end else None,
        int(bool(event.tags and event.tags.family)),
        event.status.value,
        event.sequence,
        event.updated.isoformat() if event.updated else None,
        created,
        fingerprint,
        text,
    )
    return row, json_digest(text)


def _sort_key(event: Event) -> str:
    # Timed and all-day events sort together by their UTC instant.
    return event.start_datetime().astimezone(UTC).isoformat()
