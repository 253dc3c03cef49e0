"""dedupe: one canonical event per real event, across sources.

Contract: ``dedupe(events, priority=…)`` groups events that describe the same occurrence and
returns ``DedupeResult(events, log)``: one merged ``Event`` per group — fields from the
highest-priority source (ties: the richer record), every source kept in ``sources``, the
field origins in ``field_sources``, and the UID of the group's oldest identity — plus one log
row per merge decision. Candidates are blocked by start day, so no step compares all pairs.
This first version merges only exact matches (same start, same normalized title, no
conflicting postal code); issue #6 widens it.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from famcal.model import Event


@dataclass(frozen=True, kw_only=True)
class DedupeResult:
    events: list[Event]
    log: list[dict[str, Any]]


def title_key(title: str) -> str:
    text = unicodedata.normalize("NFKC", title).casefold()
    text = re.sub(r"[^\w]+", " ", text)
    return " ".join(text.split())


def _richness(event: Event) -> int:
    return sum(
        bool(v)
        for v in (
            event.description,
            event.url,
            event.location.name,
            event.location.street,
            event.location.postal_code,
            event.price,
            event.image,
            event.end,
        )
    )


def dedupe(events: Sequence[Event], *, priority: Mapping[str, int]) -> DedupeResult:
    blocks: dict[tuple[str, str], list[Event]] = defaultdict(list)
    for event in events:
        blocks[(event.start.isoformat(), title_key(event.title))].append(event)
    merged: list[Event] = []
    log: list[dict[str, Any]] = []
    for group in blocks.values():
        clusters: list[list[Event]] = []
        for event in group:
            for cluster in clusters:
                codes = {e.location.postal_code for e in cluster if e.location.postal_code}
                same_source = any(e.sources[0].id == event.sources[0].id for e in cluster)
                if not same_source and (
                    not event.location.postal_code
                    or not codes
                    or event.location.postal_code in codes
                ):
                    cluster.append(event)
                    break
            else:
                clusters.append([event])
        for cluster in clusters:
            merged.append(_merge(cluster, priority, log))
    return DedupeResult(events=merged, log=log)


def _merge(cluster: list[Event], priority: Mapping[str, int], log: list[dict[str, Any]]) -> Event:
    if len(cluster) == 1:
        return cluster[0]
    ranked = sorted(
        cluster,
        key=lambda e: (-priority.get(e.sources[0].id, 50), -_richness(e), e.sources[0].id),
    )
    best = ranked[0]
    uid = min(e.uid for e in cluster)
    sources = tuple(s for e in ranked for s in e.sources)
    for other in ranked[1:]:
        log.append(
            {
                "uid": uid,
                "source_id": other.sources[0].id,
                "record_id": other.sources[0].record_id,
                "decision": "merged",
                "reason": "same start, same normalized title, compatible place",
            }
        )
    field_sources = {
        name: best.sources[0].id
        for name in ("title", "start", "end", "location", "description", "url")
    }
    return replace(best, uid=uid, sources=sources, field_sources=field_sources)
