"""The process stage: stored records → canonical events (normalize, tag, dedupe, lifecycle, track).

Contract: ``process_stage(store, sources, now=…, run_id=…)`` reads every stored record of the
configured sources inside the window, normalizes (rejects are counted by reason, overall and
per source, and logged), tags, merges duplicates across sources (``pipeline.dedupe``; merged
events are tagged again, and a cancellation any of their sources states holds), cancels events
that every listing source stopped listing for two healthy runs, keeps a cancelled tombstone
for each published UID a merge absorbed (the rules: ``pipeline.lifecycle``), tracks
SEQUENCE/LAST-MODIFIED, and saves the canonical events, the identities and the changed merge
decisions in one transaction. It never deletes events: past ones stay as history.
``record_problems`` stores the rejections and repairs per source (for health.json);
``process_signature`` is what processing depends on besides the records.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from core.config import SourceConfig
from core.model import Event, Tags, evolve
from core.parallel import map_chunks
from core.paths import data_digest
from core.store import Store
from core.window import window
from famcal import __version__
from pipeline.dedupe import dedupe, new_uid
from pipeline.lifecycle import (
    cancel_if_unlisted,
    decisions_to_log,
    is_gone,
    merge_tombstones,
    retag_merged,
)
from pipeline.normalize import Rejected, normalize
from pipeline.tag import recurring_records, rule_key, rule_tags, with_overrides
from pipeline.track import track

log = logging.getLogger("famcal")


@dataclass(kw_only=True)
class ProcessReport:
    records: int = 0
    events: int = 0
    merged: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    rejected_by_source: defaultdict[str, Counter[str]] = field(
        default_factory=lambda: defaultdict(Counter)
    )
    repaired_by_source: defaultdict[str, Counter[str]] = field(
        default_factory=lambda: defaultdict(Counter)
    )
    cancelled_missing: int = 0
    changed: int = 0
    new: int = 0
    # The events saved for this run, handed to publish so it need not read them back, and
    # the digests of their stored JSON by uid (the publish keys its forms by them instead of
    # serializing every event again; digests, not texts, to keep the memory small).
    canonical: list[Event] = field(default_factory=list)
    stored_digests: dict[str, str] = field(default_factory=dict)


def process_stage(
    store: Store,
    sources: Sequence[SourceConfig],
    *,
    now: datetime,
    run_id: int,
) -> ProcessReport:
    report = ProcessReport()
    configured = {s.id: s for s in sources}
    priority = {s.id: s.priority for s in sources}
    identities = store.identities()
    stored_rows = store.event_rows()
    start, _ = window(now)
    missing: dict[tuple[str, str], int] = {}
    normalized: list[Event] = []
    for stored in store.records(since=(start - timedelta(days=1)).date().isoformat()):
        raw = stored.raw
        if raw.source_id not in configured:
            continue
        report.records += 1
        key = (raw.source_id, raw.record_id)
        uid = identities.get(key) or new_uid(*key)
        try:
            event = normalize(raw, uid=uid)
        except Rejected as exc:
            report.rejected[str(exc)] += 1
            report.rejected_by_source[raw.source_id][str(exc)] += 1
            log.info("rejected %s %s: %s", raw.source_id, raw.record_id[:200], exc)
            continue
        if repaired := event.hints.get("repaired"):
            report.repaired_by_source[raw.source_id][str(repaired)] += 1
        missing[key] = stored.missing_runs
        normalized.append(event)
    recurring = recurring_records(normalized)  # a source's own recurrences: a series key
    normalized, known_tags = _tag_all(store, normalized, run_id=run_id, recurring=recurring)
    merged_tags: dict[str, Tags] = {}

    def cached_rule_tags(event: Event) -> Tags:
        # Merged events are tagged again; through the same cache, so the next run (a new
        # day, one changed event) reuses their tags too.
        key = rule_key(event)
        if key not in known_tags:
            known_tags[key] = rule_tags(event)
        merged_tags[key] = known_tags[key]
        return merged_tags[key]

    merged = dedupe(
        normalized,
        priority=priority,
        created={uid: _utc(row["created"]) for uid, row in stored_rows.items()},
        stale={key for key, runs in missing.items() if is_gone(runs)},
    )
    report.merged = sum(len(e.sources) - 1 for e in merged.events)
    by_record = {(e.sources[0].id, e.sources[0].record_id): e for e in normalized}
    canonical: list[Event] = []
    new_identities: dict[tuple[str, str], str] = {}
    for event in merged.events:
        if len(event.sources) > 1:
            event = retag_merged(
                event, by_record, rule_tags_of=cached_rule_tags, recurring=recurring
            )
        for ref in event.sources:
            key = (ref.id, ref.record_id)
            if identities.get(key) != event.uid:
                new_identities[key] = event.uid
        if (tombstone := cancel_if_unlisted(event, missing)) is not None:
            # Every source that listed it has stopped for two healthy runs: a tombstone.
            event = tombstone
            report.cancelled_missing += 1
        canonical.append(event)
    canonical.extend(
        merge_tombstones(
            merged.absorbed,
            stored_rows,
            {e.uid for e in canonical},
            now=now,
            window_start=start,
            load=store.event_data,
        )
    )
    if merged_tags:
        store.save_tag_cache(merged_tags, run_id=run_id)  # adds to this run's entries
    tracked = track(canonical, stored_rows, now=now)
    report.new = sum(1 for e, _, _ in tracked if e.uid not in stored_rows)
    report.changed = sum(
        1
        for e, mark, _ in tracked
        if e.uid in stored_rows and stored_rows[e.uid]["fingerprint"] != mark
    )
    grouped = {(r.id, r.record_id) for e in merged.events if len(e.sources) > 1 for r in e.sources}
    decisions = decisions_to_log(
        merged.log, identities, new_identities, grouped, store.latest_merge_decisions()
    )
    report.stored_digests = store.save_events(
        tracked, processed=run_id, merge_log=decisions, identities=new_identities
    )
    report.events = len(tracked)
    report.canonical = [event for event, _, _ in tracked]
    log.info(
        "processed %d records into %d events (%d merged, %d rejected)",
        report.records,
        report.events,
        report.merged,
        sum(report.rejected.values()),
    )
    return report


def _tag_all(
    store: Store, events: list[Event], *, run_id: int, recurring: frozenset[tuple[str, str]]
) -> tuple[list[Event], dict[str, Tags]]:
    """Tag every event. Tagging is the costliest pure step, so the rules run once per
    distinct input (a series' occurrences share theirs), not again for inputs an earlier run
    tagged with the same rules, and over every core for the rest; overrides always apply.
    Also returns every rule key's tags known so far (for the merged events)."""
    keys = [rule_key(event) for event in events]
    known = store.cached_tags()
    todo: dict[str, Event] = {}
    for key, event in zip(keys, events, strict=True):
        if key not in known and key not in todo:
            todo[key] = event
    fresh = map_chunks(rule_tags, list(todo.values()))
    known.update(zip(todo, fresh, strict=True))
    used = {key: known[key] for key in keys}
    store.save_tag_cache(used, run_id=run_id)
    tagged = [
        evolve(event, tags=with_overrides(event, used[key], recurring=recurring))
        for key, event in zip(keys, events, strict=True)
    ]
    return tagged, known


def _utc(stamp: str | None) -> str | None:
    # Comparable text: "created" stamps carry the offset of their run's --now.
    return datetime.fromisoformat(stamp).astimezone(UTC).isoformat() if stamp else None


def process_signature(sources: Sequence[SourceConfig]) -> str:
    """What processing depends on besides the records: the sources' settings and the rules."""
    parts = [__version__, data_digest()] + [
        f"{s.id}|{s.type.value}|{s.priority}|{','.join(s.categories)}"
        for s in sorted(sources, key=lambda s: s.id)
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def record_problems(store: Store, report: ProcessReport) -> dict[str, dict[str, Any]]:
    """Store the processing's rejections and repairs per source (for health.json)."""
    rejected = {k: dict(v) for k, v in report.rejected_by_source.items()}
    repaired = {k: dict(v) for k, v in report.repaired_by_source.items()}
    store.save_problems(rejected=rejected, repaired=repaired)
    return {
        source: {"rejected": rejected.get(source, {}), "repaired": repaired.get(source, {})}
        for source in sorted(set(rejected) | set(repaired))
    }
