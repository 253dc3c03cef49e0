"""The SQLite store (through sqlite-utils): the only package that talks to the database.

Contract:
- ``Store(path)`` opens the database (creating it and its folder on first use) and brings
  its schema up to date by numbered steps (``migrations.py``); a database written by an
  older famcal keeps its data.
- The store is split by table family, one part each, which ``Store`` composes:
  ``runs.py`` (runs, source health, per-run source history), ``records.py`` (raw records and
  the crawl's document digests), ``events.py`` (canonical events, identities, merge log),
  ``caches.py`` (tag cache, render cache), ``memo.py`` (what the last process made of each
  record), ``meta.py`` (named values).
- Every write method is one transaction (``db.atomic()``; nested calls become savepoints):
  a run that dies leaves the previous state.
- Values cross this boundary as ``core.model`` objects or plain dicts, never cursors.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# First: the other parts import sqlite-utils too, and it is to be loaded lean (backend.py).
from core.store.backend import sqlite_utils
from core.store.caches import CachesPart, Forms
from core.store.events import EventsPart
from core.store.memo import MemoPart, MemoRow
from core.store.meta import MetaPart
from core.store.migrations import SchemaTooNew, migrate
from core.store.records import RecordRow, RecordsPart, StoredRecord
from core.store.runs import RunsPart, SourceHealth

__all__ = ["Forms", "MemoRow", "RecordRow", "SchemaTooNew", "SourceHealth", "Store", "StoredRecord"]


class Store(RunsPart, RecordsPart, EventsPart, CachesPart, MemoPart, MetaPart):
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite_utils.Database(self.path)
        self.db.execute("PRAGMA busy_timeout=10000")
        # WAL keeps readers (famcal serve, sources) working while a run writes.
        self.db.enable_wal()
        self.db.execute("PRAGMA synchronous=NORMAL")
        try:
            self.migrations = migrate(self.db)
        except BaseException:
            self.db.close()
            raise

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self.db.atomic():
            yield
