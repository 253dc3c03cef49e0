"""Bulk upserts for the writes that grow with the number of events.

Contract: ``upsert_rows`` writes many rows in one transaction (nested in the caller's when
one is open) as one ``INSERT … ON CONFLICT(pk) DO UPDATE`` statement run for every row;
columns named in ``insert_only`` are set when a row is new and left as stored when it
exists. It serves the records of a crawl, the events, identities, tag cache and memo of a
process and the render cache of a publish; everything else in the store writes through
sqlite-utils' table API (``insert``/``upsert``/``upsert_all``/``update``/``delete_where``).
This is the same upsert without the table API's per-value Python checks, which made a
crawl's write of 20,000 records ~4× and a process's write of 20,000 events ~1.2× slower
(issue #13).
Values must be SQLite-ready (str, int, float, bytes, None).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import sqlite_utils
from sqlite_utils.db import quote_identifier as quote


def upsert_rows(
    db: sqlite_utils.Database,
    table: str,
    *,
    pk: Sequence[str],
    columns: Sequence[str],
    rows: Iterable[Sequence[object]],
    insert_only: Sequence[str] = (),
) -> None:
    updates = ", ".join(
        f"{quote(c)} = excluded.{quote(c)}" for c in columns if c not in pk and c not in insert_only
    )
    sql = (
        f"insert into {quote(table)} ({', '.join(quote(c) for c in columns)}) "
        f"values ({', '.join('?' for _ in columns)}) "
        f"on conflict({', '.join(quote(c) for c in pk)}) "
        + (f"do update set {updates}" if updates else "do nothing")
    )
    with db.atomic():
        db.conn.executemany(sql, rows)
