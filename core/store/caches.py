"""The caches that spare a run work it did before: ``tag_cache`` (a listing text's rule
tags, by ``pipeline.tag.rule_key``), ``render_cache`` (each published event's serialized
forms) and ``page_cache`` (the site's event pages as last published).

Contract:
- Both are caches: losing them costs time, never correctness; each save keeps exactly the
  entries of the current run or publish.
- ``render_cache`` holds one row per (uid, format name): the render key (equal keys, equal
  forms) and the form as bytes or text, returned as stored. The store knows no format
  names, so a new output format needs no schema change. All rows of a uid share its key:
  ``save_forms`` replaces a changed uid's rows whole.
- ``page_cache`` holds one row per uid: the digest of its event page's inputs
  (``feeds.site.pagekeys``) and the sizes of the two files written; ``save_pages`` keeps
  exactly the given uids and writes only the rows that changed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping

import sqlite_utils

from core.model import Tags
from core.store.rows import upsert_rows

# format name -> serialized form (bytes or text); ``None`` means the event has no such form.
Forms = Mapping[str, bytes | str | None]


class CachesPart:
    db: sqlite_utils.Database

    def cached_tags(self, keys: Iterable[str] | None = None) -> dict[str, Tags]:
        """rule key -> the rules' tags from earlier runs (``pipeline.tag.rule_key``); only
        those of ``keys`` when given."""
        if keys is None:
            return {
                key: Tags.from_dict(json.loads(tags))
                for key, tags in self.db.execute("select key, tags from tag_cache")
            }
        found: dict[str, Tags] = {}
        for chunk in _chunks(sorted(set(keys)), 500):
            marks = ",".join("?" for _ in chunk)
            for key, tags in self.db.execute(
                f"select key, tags from tag_cache where key in ({marks})", chunk
            ):
                found[key] = Tags.from_dict(json.loads(tags))
        return found

    def tag_keys(self) -> set[str]:
        """The rule keys the tag cache holds (``cached_tags`` without reading the tags)."""
        return {key for (key,) in self.db.execute("select key from tag_cache")}

    def save_tag_cache(
        self, tags: Mapping[str, Tags], *, run_id: int, texts: Mapping[str, str] | None = None
    ) -> None:
        """Keep exactly this run's rule tags: upsert them, and drop every other entry but
        those the process memo names (``core.store.memo``: the tags of the records this run
        found unchanged, which a full process would have made again). Those are kept as
        they are, not marked as this run's: marking rewrote each such row, texts and all.
        ``texts``: ``tag_json`` of some of them, made already (e.g. in worker processes)."""
        made = texts or {}
        with self.db.atomic():
            upsert_rows(
                self.db,
                "tag_cache",
                pk=("key",),
                columns=("key", "tags", "run_id"),
                rows=(
                    (key, made.get(key) or tag_json(value), run_id) for key, value in tags.items()
                ),
            )
            # (NULLs left out of the list: "not in" a list holding one is never true.)
            self.db.execute(
                "delete from tag_cache where run_id != ? and key not in ("
                "select tag_key from process_memo where tag_key is not null union "
                "select merged_key from process_memo where merged_key is not null)",
                [run_id],
            )

    def cached_forms(self) -> dict[str, tuple[str, dict[str, bytes | str]]]:
        """uid -> (render key, {format name: form}) from the last publish."""
        cached: dict[str, tuple[str, dict[str, bytes | str]]] = {}
        for uid, name, key, form in self.db.execute(
            "select uid, format, key, form from render_cache"
        ):
            entry = cached.get(uid)
            if entry is None:
                entry = cached[uid] = (key, {})
            entry[1][name] = form
        return cached

    def save_forms(self, changed: Mapping[str, tuple[str, Forms]], *, keep: Iterable[str]) -> None:
        """Store the new (render key, forms) by uid and keep only the uids of ``keep`` (this
        publish)."""
        table = self.db.table("render_cache")
        kept = set(keep)
        with self.db.atomic():
            stored = {row[0] for row in self.db.execute("select distinct uid from render_cache")}
            stale = sorted((stored - kept) | (stored & changed.keys()))
            for chunk in _chunks(stale, 500):
                table.delete_where(f"uid in ({','.join('?' for _ in chunk)})", chunk)
            upsert_rows(
                self.db,
                "render_cache",
                pk=("uid", "format"),
                columns=("uid", "format", "key", "form"),
                rows=(
                    (uid, name, key, form)
                    # In key order: appended to the primary key's index, not scattered.
                    for uid, (key, forms) in sorted(changed.items())
                    for name, form in sorted(forms.items())
                    if form is not None
                ),
            )


    def published_pages(self) -> dict[str, tuple[str, int, int]]:
        """uid -> (page digest, bytes of the page, bytes of its .ics) of the last publish."""
        return {
            uid: (key, html, ics)
            for uid, key, html, ics in self.db.execute("select uid, key, html, ics from page_cache")
        }

    def forget_pages(self, uids: Iterable[str]) -> None:
        """Drop the marks of these uids' pages (a publish about to rewrite them)."""
        with self.db.atomic():
            for chunk in _chunks(sorted(uids), 500):
                self.db.table("page_cache").delete_where(
                    f"uid in ({','.join('?' for _ in chunk)})", chunk
                )

    def save_pages(self, pages: Mapping[str, tuple[str, int, int]]) -> None:
        """Keep exactly ``pages`` (uid -> digest and sizes): the rows that changed are written,
        those of other uids deleted."""
        with self.db.atomic():
            stored = self.published_pages()
            stale = sorted(stored.keys() - pages.keys())
            for chunk in _chunks(stale, 500):
                self.db.table("page_cache").delete_where(
                    f"uid in ({','.join('?' for _ in chunk)})", chunk
                )
            upsert_rows(
                self.db,
                "page_cache",
                pk=("uid",),
                columns=("uid", "key", "html", "ics"),
                rows=((uid, *mark) for uid, mark in pages.items() if stored.get(uid) != mark),
            )


def tag_json(tags: Tags) -> str:
    """The stored form of rule tags in ``tag_cache``."""
    return json.dumps(tags.to_dict(), ensure_ascii=False)


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
