"""dedupe: one canonical event per real event, across sources.

Contract: ``dedupe(events, priority=…, created=…) -> DedupeResult(events, log, absorbed)``.
Input: normalized events with one source each, ``uid`` already looked up from the store's
identities (or ``new_uid`` for a record never seen). Output:

- one merged ``Event`` per group of events that describe the same occurrence. Two events
  match when they come from different sources, are both all-day or both timed, start on the
  same local day within ``start_tolerance_minutes`` (all-day: the same date), their
  normalized titles are similar (an edit-distance ratio of ``title_key``: NFKC, casefold,
  umlauts spelled out, punctuation and dashes dropped, known prefixes like "Kindertheater:"
  removed) and their
  places are compatible (postal codes equal or missing, venue names similar, coordinates
  close). A group holds at most one record per source, and every pair in it must match
  (complete linkage), so two different events at the same time and place never chain
  together; the closest starts pair first, so a series' neighbouring showings stay apart.
- fields: each from the highest-``priority`` source that has it (ties: the richer record,
  then the source id; records in ``stale``, no longer listed by their source, come last);
  ``categories`` and ``hints`` are united; ``sources`` keeps every ``SourceRef`` (best
  first); ``field_sources`` names the source of each field.
- UIDs: a group keeps the UID it first had — of its members' UIDs the one ``created``
  earliest. When one UID is claimed by several groups (a merged group split), the group
  holding the record the UID was derived from keeps it; another group falls back to its next
  oldest member UID, then to ``new_uid`` of its own records (which revives the UID its record
  had before it was merged). Member UIDs that no group keeps are returned in ``absorbed``
  (old uid -> surviving uid) so the caller can publish a tombstone for them.
- ``log``: one row per merge ("merged", with the evidence) and per near miss ("kept apart":
  inside the time tolerance but a title or place too different, or a source already in the
  group), each ``{uid, source_id, record_id, decision, reason}``.
- ``pairs``, ``judged``: how many pairs of starts lay within the tolerance, and how many of
  them had titles alike enough to be judged (for the benchmarks).

No step compares all pairs: events are blocked by local start day (``block_key``) and,
within a day, only events whose starts lie within the tolerance are compared (a sweep over
the sorted starts); a pair whose titles cannot reach the judge's lower bar for it
(``alike``) is passed over before any verdict is made.
Thresholds and prefixes live in ``data/dedupe.toml``. Pure: no clock, no I/O beyond reading
that file once. The comparisons of two events (config, title keys and similarity, place
conflicts) are ``pipeline.dedupe_match``'s; ``DedupeConfig`` and ``title_key`` are
re-exported here. This module blocks, judges pairs, groups, assigns UIDs and merges.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from core.model import BERLIN, Event, SourceRef, evolve
from pipeline.dedupe_match import DedupeConfig as DedupeConfig
from pipeline.dedupe_match import (
    Title,
    alike,
    default_config,
    place_conflict,
    place_evidence,
    title_similarity,
)
from pipeline.dedupe_match import title_key as title_key

DEFAULT_PRIORITY = 50


@dataclass(frozen=True, kw_only=True)
class DedupeResult:
    events: list[Event]
    log: list[dict[str, Any]]
    absorbed: dict[str, str] = field(default_factory=dict)  # old uid -> the uid that kept it
    pairs: int = 0  # pairs of starts within the tolerance
    judged: int = 0  # of those, the pairs whose titles were alike enough to judge


def new_uid(source_id: str, record_id: str) -> str:
    """The UID of a record never merged: from the source's own identity, never from content."""
    digest = hashlib.sha256(f"{source_id}\x1f{record_id}".encode()).hexdigest()[:24]
    return f"{digest}@famcal-hannover"


# --- grouping ---------------------------------------------------------------------------------


@dataclass(kw_only=True)
class _Item:
    index: int
    event: Event
    source: str
    record: str
    instant: datetime | None  # None for all-day events
    title: Title
    rank: tuple[bool, int, int, str, str]


def _richness(event: Event) -> int:
    return sum(
        bool(v)
        for v in (
            event.description,
            event.url,
            event.location.name,
            event.location.street,
            event.location.postal_code,
            event.location.lat is not None,
            event.price,
            event.image,
            event.end,
        )
    )


def _local_day(event: Event) -> date:
    if isinstance(event.start, datetime):
        return event.start.astimezone(BERLIN).date()
    return event.start


def block_key(event: Event) -> str:
    """The block dedupe compares ``event`` within (all-day or timed, local start day): events
    of different blocks are never compared, so a block's groups depend on its events alone
    (their UIDs only on the other events that share one of their UIDs)."""
    return f"{'A' if event.all_day else 'T'}{_local_day(event).isoformat()}"


def _blocks(items: list[_Item]) -> dict[tuple[bool, date], list[_Item]]:
    blocks: dict[tuple[bool, date], list[_Item]] = defaultdict(list)
    for item in items:
        blocks[(item.event.all_day, _local_day(item.event))].append(item)
    return blocks


def _candidate_pairs(block: list[_Item], config: DedupeConfig) -> list[tuple[_Item, _Item, int]]:
    """Pairs of a day's events whose starts lie within the tolerance (seconds apart)."""
    if block[0].instant is None:  # all-day: the same date is the only tolerance
        return [
            (a, b, 0) for n, a in enumerate(block) for b in block[n + 1 :] if a.source != b.source
        ]
    ordered = sorted(block, key=lambda i: (i.instant, i.index))
    tolerance = config.start_tolerance.total_seconds()
    pairs: list[tuple[_Item, _Item, int]] = []
    for n, a in enumerate(ordered):
        assert a.instant is not None
        for b in ordered[n + 1 :]:
            assert b.instant is not None
            gap = (b.instant - a.instant).total_seconds()
            if gap > tolerance:
                break
            pairs.append((a, b, int(gap)))
    return pairs


@dataclass(frozen=True, kw_only=True)
class _Verdict:
    merge: bool
    similarity: float
    reason: str
    log: bool  # worth a "kept apart" row


def _judge(a: _Item, b: _Item, gap: int, config: DedupeConfig) -> _Verdict:
    minutes = f"start Δ{gap // 60} min"
    if a.source == b.source:
        # Never merged; worth a log row only when it looks like a duplicate listing.
        similarity = title_similarity(a.title, b.title, config, config.title_similarity)
        return _Verdict(
            merge=False,
            similarity=similarity,
            reason=f"same source {a.source}: different records ({minutes})",
            log=similarity >= config.title_similarity,
        )
    similarity = title_similarity(a.title, b.title, config, config.near_miss_similarity)
    if similarity < config.near_miss_similarity:
        return _Verdict(merge=False, similarity=similarity, reason="titles differ", log=False)
    conflict = place_conflict(a.event.location, b.event.location, config)
    if similarity < config.title_similarity:
        return _Verdict(
            merge=False,
            similarity=similarity,
            reason=f"titles differ ({similarity:.2f} < {config.title_similarity}: "
            f"{a.title.key!r} vs {b.title.key!r}; {minutes})",
            log=conflict is None,
        )
    if conflict is not None:
        return _Verdict(
            merge=False,
            similarity=similarity,
            reason=f"{conflict} ({minutes}, title {similarity:.2f})",
            log=True,
        )
    return _Verdict(
        merge=True,
        similarity=similarity,
        reason=f"{minutes}, title {similarity:.2f} ({a.title.key!r} ~ {b.title.key!r}), "
        f"{place_evidence(a.event.location, b.event.location)}",
        log=False,
    )


def _ref(item: _Item) -> str:
    return f"{item.source}/{item.record}"


def dedupe(
    events: Sequence[Event],
    *,
    priority: Mapping[str, int],
    created: Mapping[str, str | None] | None = None,
    stale: Collection[tuple[str, str]] = (),
    config: DedupeConfig | None = None,
) -> DedupeResult:
    config = config or default_config()
    created = created or {}
    stale = set(stale)
    items: list[_Item] = []
    for index, event in enumerate(events):
        ref = event.sources[0] if event.sources else SourceRef(id="", record_id=event.uid)
        items.append(
            _Item(
                index=index,
                event=event,
                source=ref.id,
                record=ref.record_id,
                instant=event.start if isinstance(event.start, datetime) else None,
                title=Title.of(event.title, config),
                rank=(
                    (ref.id, ref.record_id) in stale,
                    -priority.get(ref.id, DEFAULT_PRIORITY),
                    -_richness(event),
                    ref.id,
                    ref.record_id,
                ),
            )
        )

    # Judge the candidate pairs of each block; keep the mergeable ones, log the near misses.
    matches: list[tuple[int, float, int, int, str]] = []
    good: set[tuple[int, int]] = set()
    apart: list[tuple[_Item, _Item, str]] = []
    same, near = config.title_similarity, config.near_miss_similarity  # _judge's floors
    pairs = judged = 0
    for block in _blocks(items).values():
        if len(block) < 2:
            continue
        candidates = _candidate_pairs(block, config)
        pairs += len(candidates)
        for a, b, gap in candidates:
            # Titles further apart than _judge's lower bar for the pair give "titles differ"
            # and nothing to log: those pairs, nearly all, are passed over unjudged.
            floor = same if a.source == b.source else near
            if not alike(a.title, b.title, config, floor):
                continue
            judged += 1
            verdict = _judge(a, b, gap, config)
            if verdict.merge:
                good.add((min(a.index, b.index), max(a.index, b.index)))
                matches.append((gap, -verdict.similarity, a.index, b.index, verdict.reason))
            elif verdict.log:
                apart.append((a, b, verdict.reason))

    # Complete-linkage grouping, closest pairs first: a group takes an event only when that
    # event matches every member and brings a source the group does not have yet.
    group_of = list(range(len(items)))
    members: dict[int, list[int]] = {i: [i] for i in range(len(items))}
    joins: list[tuple[_Item, _Item, str]] = []
    for _gap, _sim, i, j, reason in sorted(matches):
        gi, gj = group_of[i], group_of[j]
        if gi == gj:
            continue
        sources_i = {items[m].source for m in members[gi]}
        sources_j = {items[m].source for m in members[gj]}
        if sources_i & sources_j:
            shared = ", ".join(sorted(sources_i & sources_j))
            apart.append((items[i], items[j], f"{shared} already in the group ({reason})"))
            continue
        unmatched = [
            (m, n) for m in members[gi] for n in members[gj] if (min(m, n), max(m, n)) not in good
        ]
        if unmatched:
            m, n = unmatched[0]
            why = f"{_ref(items[m])} and {_ref(items[n])} do not match"
            apart.append((items[i], items[j], f"{why} ({reason})"))
            continue
        keep, drop = (gi, gj) if len(members[gi]) >= len(members[gj]) else (gj, gi)
        for m in members.pop(drop):
            group_of[m] = keep
            members[keep].append(m)
        a, b = sorted((items[i], items[j]), key=lambda it: it.rank)
        joins.append((a, b, reason))

    groups = [sorted((items[m] for m in ms), key=lambda it: it.rank) for ms in members.values()]
    groups.sort(key=lambda g: min(it.index for it in g))
    uids, absorbed = _assign_uids(groups, created)

    merged = [_merge(group, uid) for group, uid in zip(groups, uids, strict=True)]
    uid_of = {it.index: uid for group, uid in zip(groups, uids, strict=True) for it in group}
    log: list[dict[str, Any]] = []
    for a, b, reason in joins:
        log.append(
            {
                "uid": uid_of[b.index],
                "source_id": b.source,
                "record_id": b.record,
                "decision": "merged",
                "reason": f"with {_ref(a)}: {reason}",
            }
        )
    for a, b, reason in apart:
        log.append(
            {
                "uid": uid_of[b.index],
                "source_id": b.source,
                "record_id": b.record,
                "decision": "kept apart",
                "reason": f"from {_ref(a)}: {reason}",
            }
        )
    log.sort(key=lambda r: (r["source_id"], r["record_id"], r["decision"], r["reason"]))
    return DedupeResult(events=merged, log=log, absorbed=absorbed, pairs=pairs, judged=judged)


def _assign_uids(
    groups: list[list[_Item]], created: Mapping[str, str | None]
) -> tuple[list[str], dict[str, str]]:
    """Each group keeps its oldest member UID; a UID claimed twice goes to its origin's group."""

    def age(uid: str) -> tuple[str, str]:
        # UIDs the store has never saved are newer than any it has.
        return (created.get(uid) or "~", uid)

    claimants: dict[str, list[int]] = defaultdict(list)
    for n, group in enumerate(groups):
        for uid in dict.fromkeys(it.event.uid for it in group):
            claimants[uid].append(n)
    assigned: dict[int, str] = {}
    taken: set[str] = set()
    for uid in sorted(claimants, key=age):
        # In age order, so a group still open here lost each of its older UIDs to another.
        open_groups = [n for n in claimants[uid] if n not in assigned]
        if not open_groups:
            continue
        origin = [
            n for n in open_groups if any(new_uid(it.source, it.record) == uid for it in groups[n])
        ]
        winner = (origin or sorted(open_groups, key=lambda n: groups[n][0].rank))[0]
        assigned[winner] = uid
        taken.add(uid)
    for n, group in enumerate(groups):
        if n in assigned:
            continue
        for item in group:
            fresh = new_uid(item.source, item.record)
            if fresh not in taken:
                break
        else:
            keys = "\x1e".join(sorted(_ref(it) for it in group))
            fresh = hashlib.sha256(keys.encode()).hexdigest()[:24] + "@famcal-hannover"
        assigned[n] = fresh
        taken.add(fresh)
    uids = [assigned[n] for n in range(len(groups))]
    absorbed: dict[str, str] = {}
    for uid, claiming in claimants.items():
        if uid not in taken:
            absorbed[uid] = uids[claiming[0]]
    return uids, absorbed


_FIELDS = ("title", "start", "end", "description", "url", "location", "price", "image")


def _has(event: Event, name: str, start: date) -> bool:
    if name == "location":
        return not event.location.is_empty()
    if name == "end":
        # An end only fits when it lies after the start the group takes.
        end = event.end
        return end is not None and type(end) is type(start) and end > start
    return bool(getattr(event, name))


def _merge(group: list[_Item], uid: str) -> Event:
    """Field by field from the best-ranked member that has the field."""
    best = group[0].event
    origin = {name: group[0].source for name in _FIELDS}
    values: dict[str, Any] = {}
    for name in ("description", "url", "location", "price", "image", "end"):
        for item in group:
            if _has(item.event, name, best.start):
                values[name] = getattr(item.event, name)
                origin[name] = item.source
                break
        else:
            origin.pop(name)
    values.setdefault("end", None)
    categories: dict[str, None] = {}
    category_sources: dict[str, None] = {}
    hints: dict[str, Any] = {}
    for item in group:
        for category in item.event.categories:
            if category not in categories:
                categories[category] = None
                category_sources[item.source] = None
        for key, value in item.event.hints.items():
            hints.setdefault(key, value)
    if category_sources:
        origin["categories"] = ",".join(category_sources)
    return evolve(
        best,
        uid=uid,
        categories=tuple(categories),
        hints=hints,
        sources=tuple(ref for item in group for ref in item.event.sources),
        field_sources=origin,
        **values,
    )
