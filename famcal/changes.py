"""The change feed of contract.md ("Changes for apps"), over the published ``alle.json``.

Contract:
- ``entries_of(items, gone)``: the items of ``alle.json`` and the UIDs gone for good of
  ``aenderungen.json`` (written by the publish stage from the store, whether or not the UID
  is still in ``alle.json``) as ``ChangeEntry`` ordered by (``updated``, uid); items without
  ``updated`` are left out (they never changed after anything). A UID gone for good is one
  tombstone entry ``{"id", "date_modified", "_deleted": true, "_replaced_by"}`` in place of
  its item; other cancelled events stay items.
- ``read_change_params(pairs)``: ``since`` (ISO 8601; without an offset it is UTC),
  ``after`` (the cursor's uid), ``limit`` (default 500, at most 5,000); ``BadRequest``
  (German) otherwise.
- ``change_page(...)``: the JSON Feed of the entries later than the cursor that pass the
  filters (all of ``alle`` without filters, family or not; tombstones always pass, since
  an app may hold an event that matched before it went), oldest change first, at most
  ``limit``, with ``next_url`` (the last entry's ``updated`` and uid) when more remain.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from feeds.filters import BadRequest, Query
from feeds.jsonfeed import VERSION, dump_item

CHANGE_PARAMS = ("since", "after", "limit")
DEFAULT_LIMIT = 500
MAX_LIMIT = 5000


@dataclass(frozen=True, kw_only=True)
class ChangeEntry:
    updated: datetime
    uid: str
    obj: Mapping[str, Any]  # the ``_event`` object, for the filters
    text: str  # the item (or tombstone) as JSON text
    gone: bool = False  # a tombstone


@dataclass(frozen=True, kw_only=True)
class ChangeParams:
    since: datetime | None
    after: str
    limit: int


def entries_of(
    items: Iterable[Mapping[str, Any]], gone: Iterable[Mapping[str, Any]] = ()
) -> list[ChangeEntry]:
    out: list[ChangeEntry] = []
    deleted: set[str] = set()
    for entry in gone:
        uid, stamp = str(entry["id"]), str(entry["date_modified"])
        deleted.add(uid)
        text = dump_item(
            {
                "id": uid,
                "date_modified": stamp,
                "_deleted": True,
                "_replaced_by": entry.get("_replaced_by"),
            }
        )
        out.append(ChangeEntry(updated=_instant(stamp), uid=uid, obj={}, text=text, gone=True))
    for item in items:
        obj = item["_event"]
        changed = obj.get("updated") or item.get("date_modified")
        if not changed or item["id"] in deleted:
            continue
        text = dump_item(dict(item))
        out.append(ChangeEntry(updated=_instant(changed), uid=item["id"], obj=obj, text=text))
    out.sort(key=lambda e: (e.updated, e.uid))
    return out


def _instant(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def read_change_params(pairs: Iterable[tuple[str, str]]) -> ChangeParams:
    values = {name: raw.strip() for name, raw in pairs if name in CHANGE_PARAMS}
    since = None
    if "since" in values:
        try:
            since = _instant(values["since"])
        except ValueError:
            raise BadRequest(
                f"Ungültiger Zeitpunkt {values['since']!r} für since. "
                "Erlaubt: ISO 8601, etwa 2026-05-01T12:00:00+00:00."
            ) from None
    limit = DEFAULT_LIMIT
    if "limit" in values:
        if not values["limit"].isdigit() or not 1 <= int(values["limit"]) <= MAX_LIMIT:
            raise BadRequest(
                f"Ungültiger Wert {values['limit']!r} für limit. Erlaubt: 1 bis {MAX_LIMIT}."
            )
        limit = int(values["limit"])
    after = values.get("after", "")
    if after and since is None:
        raise BadRequest("after gilt nur zusammen mit since (dem Zeitpunkt des Eintrags).")
    return ChangeParams(since=since, after=after, limit=limit)


def _start(entries: Sequence[ChangeEntry], params: ChangeParams) -> int:
    if params.since is None:
        return 0
    if params.after:
        cursor = (params.since, params.after)
        return bisect.bisect_right(entries, cursor, key=lambda e: (e.updated, e.uid))
    return bisect.bisect_right(entries, params.since, key=lambda e: e.updated)


def change_page(
    entries: Sequence[ChangeEntry],
    query: Query,
    params: ChangeParams,
    *,
    pairs: Sequence[tuple[str, str]],
    base_url: str,
    now: datetime,
) -> bytes:
    chosen: list[ChangeEntry] = []
    more = False
    for entry in entries[_start(entries, params) :]:
        if not entry.gone and not query.is_empty and not query.accepts(entry.obj, now=now):
            continue
        if len(chosen) == params.limit:
            more = True
            break
        chosen.append(entry)
    document: dict[str, Any] = {
        "version": VERSION,
        "title": "Familienkalender Hannover: Änderungen",
        "description": "Geänderte, abgesagte und entfallene Einträge, älteste Änderung zuerst.",
        "language": "de",
        "_event": {"about": "famcal event extension: see contract.md, 'Changes for apps'"},
    }
    if more:
        last = chosen[-1]
        keep = [(n, v) for n, v in pairs if n not in CHANGE_PARAMS]
        cursor = [
            ("since", last.updated.isoformat()),
            ("after", last.uid),
            ("limit", str(params.limit)),
        ]
        document["next_url"] = f"{base_url}?{urlencode(keep + cursor)}"
    head = json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True)
    items = ",\n".join(e.text for e in chosen)
    return f'{head[:-2]},\n "items": [\n{items}\n ]\n}}\n'.encode()
