"""What the last process made of each record (``process_memo``), so the next process can
redo only what a changed record touches.

Contract:
- One row per (source id, record id) the last process read: ``state`` (the digest of the
  stored record plus whether it is gone, ``famcal.process_plan.record_state``), ``block``
  (the dedupe block of its normalized event, or None when it was rejected), ``rejected`` /
  ``repaired`` (the normalizer's verdicts), ``tag_key`` (its ``pipeline.tag.rule_key``),
  ``uid`` (the canonical event it ended in), ``merged_key`` (that event's rule key when it
  merged several records) and ``unlisted`` (1 when that event is a tombstone of records
  every source stopped listing).
- ``save_memo`` upserts the given rows, deletes the removed keys and records the process
  run the memo belongs to (meta ``memo_run``), inside the caller's transaction when one is
  open: a memo is only valid together with the events it describes.
- ``save_tag_cache`` (``core.store.caches``) keeps the ``tag_cache`` entries the memo names
  (what a full process would have kept), so a memo is saved before it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import sqlite_utils

from core.store.meta import set_value
from core.store.rows import upsert_rows

MEMO_COLUMNS = (
    "source_id",
    "record_id",
    "state",
    "block",
    "rejected",
    "repaired",
    "tag_key",
    "uid",
    "merged_key",
    "unlisted",
)


@dataclass(frozen=True, kw_only=True)
class MemoRow:
    state: str
    block: str | None = None
    rejected: str | None = None
    repaired: str | None = None
    tag_key: str | None = None
    uid: str | None = None
    merged_key: str | None = None
    unlisted: bool = False


class MemoPart:
    db: sqlite_utils.Database

    def memo(self) -> tuple[int | None, dict[tuple[str, str], MemoRow]]:
        """(the process run the memo belongs to, its rows by (source id, record id))."""
        run = self.db.execute("select value from meta where key = 'memo_run'").fetchone()
        rows = {
            (row[0], row[1]): MemoRow(
                state=row[2],
                block=row[3],
                rejected=row[4],
                repaired=row[5],
                tag_key=row[6],
                uid=row[7],
                merged_key=row[8],
                unlisted=bool(row[9]),
            )
            for row in self.db.execute(f"select {', '.join(MEMO_COLUMNS)} from process_memo")
        }
        return (int(run[0]) if run else None), rows

    def save_memo(
        self,
        rows: Mapping[tuple[str, str], MemoRow],
        *,
        removed: Iterable[tuple[str, str]],
        run_id: int,
        replace: bool = False,
    ) -> None:
        """Upsert ``rows``, delete ``removed`` (``replace``: every other row), mark the memo
        as this run's."""
        with self.db.atomic():
            if replace:
                self.db.execute("delete from process_memo")
            self.db.conn.executemany(
                "delete from process_memo where source_id = ? and record_id = ?", list(removed)
            )
            upsert_rows(
                self.db,
                "process_memo",
                pk=("source_id", "record_id"),
                columns=MEMO_COLUMNS,
                rows=(
                    (
                        s,
                        r,
                        m.state,
                        m.block,
                        m.rejected,
                        m.repaired,
                        m.tag_key,
                        m.uid,
                        m.merged_key,
                        int(m.unlisted),
                    )
                    for (s, r), m in rows.items()
                ),
            )
            set_value(self.db, "memo_run", str(run_id))

