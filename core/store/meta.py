"""Small named values of the store (``meta``): the skip signatures of process and publish
and the ``process_pending`` flag.

Contract: ``MetaPart`` reads and writes one key at a time; ``mark_pending(db)`` sets the
flag that tells the next run its records changed. It writes inside the caller's
transaction when one is open (``db.atomic()`` nests), so a crawl saved and its flag cannot
come apart.
"""

from __future__ import annotations

import sqlite_utils


def set_value(db: sqlite_utils.Database, key: str, value: str) -> None:
    with db.atomic():
        db.table("meta").upsert({"key": key, "value": value}, pk="key")


def mark_pending(db: sqlite_utils.Database) -> None:
    """Records changed: the next process must run."""
    set_value(db, "process_pending", "1")


class MetaPart:
    db: sqlite_utils.Database

    def meta(self, key: str) -> str | None:
        row = self.db.execute("select value from meta where key = ?", [key]).fetchone()
        return str(row[0]) if row else None

    def set_meta(self, key: str, value: str) -> None:
        set_value(self.db, key, value)
