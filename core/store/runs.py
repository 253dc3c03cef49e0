"""Runs and source health: ``runs`` (start, end, counts, exit status of each run),
``sources`` (the latest health of each source) and ``source_runs`` (each run's outcome per
source).

Contract:
- ``SourceHealth`` is a source's latest state with its last ten runs and the problem counts
  (issue #8): ``skipped`` (spider skips by reason, from the crawl), ``rejected`` and
  ``repaired`` (normalizer rejections and repairs by reason, from processing).
- The module functions ``source_health`` and ``save_source_run`` serve the crawl writers of
  ``records.py``; they write inside the caller's transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlite_utils

from core.model import Health


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


def source_health(db: sqlite_utils.Database, source_id: str) -> SourceHealth | None:
    rows = list(db.table("sources").rows_where("id = ?", [source_id]))
    if not rows:
        return None
    row = rows[0]
    history = tuple(
        db.table("source_runs").rows_where(
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


def save_source_run(
    db: sqlite_utils.Database,
    *,
    run_id: int,
    source_id: str,
    status: Health,
    events: int,
    error: str | None,
    at: str,
    skipped: dict[str, int],
    stats: dict[str, Any],
) -> None:
    db.table("source_runs").upsert(
        {
            "run_id": run_id,
            "source_id": source_id,
            "status": status.value,
            "events": events,
            "error": error,
            "at": at,
            "skipped": json.dumps(skipped),
            "stats": json.dumps(stats),
        },
        pk=("run_id", "source_id"),
    )


class RunsPart:
    db: sqlite_utils.Database

    def start_run(self, *, started: datetime, now: datetime, stage: str) -> int:
        with self.db.atomic():
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
        with self.db.atomic():
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

    def source_health(self, source_id: str) -> SourceHealth | None:
        return source_health(self.db, source_id)

    def all_source_health(self) -> list[SourceHealth]:
        ids = [row["id"] for row in self.db.table("sources").rows_where(select="id", order_by="id")]
        return [h for h in (source_health(self.db, i) for i in ids) if h is not None]

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
        with self.db.atomic():
            ids = [row["id"] for row in self.db.table("sources").rows_where(select="id")]
            # Only existing ids: the upsert updates these two columns and inserts nothing.
            self.db.table("sources").upsert_all(
                (
                    {
                        "id": source_id,
                        "rejected": json.dumps(rejected.get(source_id, {}), ensure_ascii=False),
                        "repaired": json.dumps(repaired.get(source_id, {}), ensure_ascii=False),
                    }
                    for source_id in ids
                ),
                pk="id",
            )


def _counts(text: str | None) -> dict[str, int]:
    if not text:
        return {}
    value = json.loads(text)
    return {str(k): int(v) for k, v in value.items()} if isinstance(value, dict) else {}
