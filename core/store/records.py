"""Raw records and crawl digests: ``records`` (each source's raw records with first and
last seen and a missing counter) and the ``digests`` column of ``sources``.

Contract:
- ``save_crawl`` stores one source's crawl in one transaction: seen records are upserted
  (missing counter reset, ``first_seen`` set once); only an ``ok`` crawl counts the absences
  of the source's other records still inside the window — a failed or degraded crawl must
  never make events look deleted. The document digests are kept only for an ``ok`` crawl:
  the next crawl may skip a document only when its events were stored whole.
- ``save_unchanged`` records a healthy crawl that found the source as last time.
- Both set ``process_pending`` in the same transaction, so a run killed before processing
  cannot leave the records unprocessed.
- Records are streamed into ``rows.upsert_rows`` (the largest write of a crawl), the rest
  goes through the table API; the missing counters, which move by one from their stored
  value, are set-wise SQL updates.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlite_utils

from core.model import Health, RawEvent
from core.store.meta import mark_pending
from core.store.rows import upsert_rows
from core.store.runs import save_source_run, source_health

RECORD_COLUMNS = (
    "source_id",
    "record_id",
    "data",
    "start",
    "first_seen",
    "last_seen",
    "missing_runs",
)


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


class RecordsPart:
    db: sqlite_utils.Database

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
        """Store one source's crawl in one transaction (see the module's contract).
        ``records`` are ``RawEvent``s or ready ``RecordRow``s (the crawl's own JSON lines,
        stored without a round trip)."""
        stamp = at.isoformat()
        previous = source_health(self.db, source_id)
        healthy = status is Health.OK
        with self.db.atomic():
            seen = self._write_records(source_id, records, stamp)
            if healthy:
                self._count_absences(source_id, seen, window_start)
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
            mark_pending(self.db)
            save_source_run(
                self.db,
                run_id=run_id,
                source_id=source_id,
                status=status,
                events=count,
                error=error,
                at=stamp,
                skipped=skipped or {},
                stats=stats or {},
            )

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
        previous = source_health(self.db, source_id)
        with self.db.atomic():
            moved = self.db.execute(
                "update records set missing_runs = missing_runs + 1 "
                "where source_id = ? and missing_runs > 0 and substr(start, 1, 10) >= ?",
                [source_id, window_start.isoformat()[:10]],
            ).rowcount
            if moved:
                mark_pending(self.db)
            if previous is not None:
                self.db.table("sources").update(
                    source_id,
                    {
                        "status": Health.OK.value,
                        "error": None,
                        "last_run": stamp,
                        "last_success": stamp,
                    },
                )
            save_source_run(
                self.db,
                run_id=run_id,
                source_id=source_id,
                status=Health.OK,
                events=previous.events if previous else 0,
                error=None,
                at=stamp,
                skipped={},
                stats={**(stats or {}), "unchanged": True},
            )
        return int(moved or 0)

    def digests(self) -> dict[str, dict[str, str]]:
        """source id -> {url: digest} of the documents its last healthy crawl read."""
        return {
            row["id"]: json.loads(row["digests"] or "{}")
            for row in self.db.table("sources").rows_where(select="id, digests")
        }

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

    def record_rows(self, since: str | None = None) -> Iterator[tuple[str, str, str, int]]:
        """(source id, record id, stored JSON text, missing runs) of every stored record
        (optionally only those starting on or after ``since``), by source and record id:
        ``records`` without parsing, for a caller that parses only what changed."""
        where = "where data is not null" + (" and substr(start, 1, 10) >= ?" if since else "")
        for row in self.db.execute(
            "select source_id, record_id, data, missing_runs from records "
            f"{where} order by source_id, record_id",
            [since[:10]] if since else [],
        ):
            yield row[0], row[1], row[2], row[3] or 0

    def record_text(self, key: tuple[str, str]) -> str:
        """The stored JSON of one record (``record_rows``' third column)."""
        row = self.db.execute(
            "select data from records where source_id = ? and record_id = ?", list(key)
        ).fetchone()
        return str(row[0])

    def _write_records(
        self, source_id: str, records: Iterable[RawEvent | RecordRow], stamp: str
    ) -> set[str]:
        seen: set[str] = set()

        def rows() -> Iterator[tuple[str | int, ...]]:
            for raw in records:
                row = raw if isinstance(raw, RecordRow) else RecordRow.of(raw)
                seen.add(row.record_id)
                yield (source_id, row.record_id, row.data, row.start, stamp, stamp, 0)

        # Streamed: a large crawl's records are never all in memory at once.
        upsert_rows(
            self.db,
            "records",
            pk=("source_id", "record_id"),
            columns=RECORD_COLUMNS,
            rows=rows(),
            insert_only=("first_seen",),  # set once, when the record is new
        )
        return seen

    def _count_absences(self, source_id: str, seen: set[str], window_start: datetime) -> None:
        # Only records whose start the source should still list can be missing:
        # occurrences that slid out of the window are history, not deletions.
        rows = self.db.execute(
            "select record_id from records where source_id = ? and substr(start, 1, 10) >= ?",
            [source_id, window_start.isoformat()[:10]],
        ).fetchall()
        gone = [r[0] for r in rows if r[0] not in seen]
        for chunk in (gone[i : i + 500] for i in range(0, len(gone), 500)):
            marks = ",".join("?" for _ in chunk)
            self.db.execute(
                f"update records set missing_runs = missing_runs + 1 "
                f"where source_id = ? and record_id in ({marks})",
                [source_id, *chunk],
            )
