"""track: SEQUENCE and LAST-MODIFIED that change only when an event really changed.

Contract: ``track(events, stored, now=…)`` compares each canonical event with its stored row
(``fingerprint``, ``sequence``, ``updated``, ``created``) by a hash of the material fields
(title, start, end, place, status, description). Unchanged: the stored sequence and
``updated`` are kept, so the feeds come out byte-identical. Changed: sequence + 1 and
``updated = now``. New: sequence 0, ``updated = created = now``. Returns
``(event, fingerprint, created)`` triples for the store.

Status is material, so a cancellation (in the text, by a source, or by two healthy runs
without it) and a return to "scheduled" each count as a change. What is not material —
URL, categories, tags other than status, which sources list the event — may change the
JSON bytes but never SEQUENCE or LAST-MODIFIED.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from core.model import Event, evolve


def fingerprint(event: Event) -> str:
    material = {
        "title": event.title,
        "start": event.start.isoformat(),
        "end": event.end.isoformat() if event.end else None,
        "all_day": event.all_day,
        "location": event.location.one_line(),
        "status": event.status.value,
        "description": event.description,
    }
    if event.hints.get("unlisted"):  # out of every source (pipeline.lifecycle): a change
        material["unlisted"] = True  # only when set, so other events keep their marks
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def track(
    events: Sequence[Event], stored: Mapping[str, Mapping[str, Any]], *, now: datetime
) -> list[tuple[Event, str, str]]:
    out: list[tuple[Event, str, str]] = []
    for event in events:
        mark = fingerprint(event)
        row = stored.get(event.uid)
        if row is None:
            out.append((evolve(event, sequence=0, updated=now, created=now), mark, now.isoformat()))
            continue
        previous_updated = datetime.fromisoformat(row["updated"]) if row["updated"] else now
        if row["fingerprint"] == mark:
            tracked = evolve(event, sequence=row["sequence"] or 0, updated=previous_updated)
        else:
            tracked = evolve(event, sequence=(row["sequence"] or 0) + 1, updated=now)
        created = row["created"] or now.isoformat()
        out.append((evolve(tracked, created=datetime.fromisoformat(created)), mark, created))
    return out
