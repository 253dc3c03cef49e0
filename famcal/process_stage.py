"""The process stage: stored records → canonical events (normalize, tag, dedupe, lifecycle, track).

Contract: ``process_stage(store, sources, now=…, run_id=…)`` reads every stored record of the
configured sources inside the window, normalizes (rejects are counted by reason, overall and
per source, and logged), tags, merges duplicates across sources (``pipeline.dedupe``; merged
events are tagged again, and a cancellation any of their sources states holds), cancels events
that every listing source stopped listing for two healthy runs, keeps a cancelled tombstone
for each published UID a merge absorbed (the rules: ``pipeline.lifecycle``), tracks
SEQUENCE/LAST-MODIFIED, and saves the canonical events, the identities and the changed merge
decisions in one transaction. It never deletes events: past ones stay as history.
With ``incremental`` (issue #20) only the records ``famcal.process_plan`` finds changed or
touched by a change are processed again; the other canonical events are taken as stored
(their ``processed`` moves to this run) — the same events, counts and published bytes as
processing everything, at the cost of what changed. The per-record memo that makes this
possible (``core.store.memo``) is saved in the same transaction as the events; without a
memo of the stored events (first run, ``famcal process``, other rules) everything is
processed. The merge log then lacks only repeats of decisions already logged.
Tagging runs in worker processes while the parent dedupes (dedupe reads no tags: a merged
event is tagged afresh, a single one takes its record's tags); ``prepared`` (a run's
``famcal.prepare``) is called just before the workers fork and gives rule tags by
``pipeline.tag.rule_key`` made during the crawl, which are taken for their keys.
``record_problems`` stores the rejections and repairs per source (for health.json);
``process_signature`` is what processing depends on besides the records.
``ahead`` (``famcal.read_ahead.ReadAhead``, started by the run during the crawl) gives the
kept events read ahead; one is taken only where its stored JSON has the digest of the one
read now, so the events are the same with or without it. ``on_tracked`` is given the new
and changed events (by ``pipeline.track``'s fingerprint) as they are final (tracked), before
the store writes that end the stage — the run starts their serialization there
(``famcal.publish_stage.FormsAhead``); events redone but unchanged are left out, as the
render cache most likely holds their forms.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from core.config import SourceConfig
from core.model import Event, RawEvent, Tags, evolve, json_digest
from core.parallel import Started, start_chunks, stream_chunks
from core.paths import code_digest, data_digest
from core.store import MemoRow, Store
from core.store.caches import tag_json
from core.store.events import event_row
from core.window import window
from famcal import __version__
from famcal.process_plan import is_changed, plan, record_state, with_recurrence
from famcal.read_ahead import ReadAhead, kept_event
from pipeline.dedupe import block_key, dedupe, new_uid
from pipeline.lifecycle import (
    cancel_if_unlisted,
    decisions_to_log,
    is_gone,
    merge_tombstones,
    retag_merged,
)
from pipeline.normalize import Rejected, normalize
from pipeline.tag import is_recurring, recurring_keys, rule_key, rule_tags, with_overrides
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
    incremental: bool = False,
    prepared: Callable[[], Mapping[str, Tags]] | None = None,
    ahead: ReadAhead | None = None,
    on_tracked: Callable[[list[Event]], None] | None = None,
) -> ProcessReport:
    if ahead is not None:
        ahead.stop()  # before anything forks (map_chunks stays serial while a thread runs)
    report = ProcessReport()
    configured = {s.id: s for s in sources}
    priority = {s.id: s.priority for s in sources}
    identities = store.identities()
    stored_rows = store.event_rows()
    start, _ = window(now)
    memo_run, memo = store.memo() if incremental else (None, {})
    # The memo stands for what this code made of the records: a new famcal, even one
    # without a new version number, processes everything once.
    code = code_digest("core", "pipeline", "famcal")
    if memo_run != store.latest_processed() or store.meta("memo_code") != code:
        memo = {}  # not the memo of the stored events: process everything

    def normalize_one(key: tuple[str, str], data: str) -> Event | str:
        raw = RawEvent.from_dict(json.loads(data))
        try:
            return normalize(raw, uid=identities.get(key) or new_uid(*key))
        except Rejected as exc:
            log.info("rejected %s %s: %s", key[0], key[1][:200], exc)
            return str(exc)

    # Streamed: a record's JSON is held only while it is normalized.
    rows: list[tuple[str, str, str]] = []
    missing_runs: list[int] = []
    done: dict[int, Event | str] = {}
    since = records_since(now)
    for source_id, record_id, data, runs in store.record_rows(since=since):
        if source_id not in configured:
            continue
        key = (source_id, record_id)
        state = record_state(data, runs)
        if is_changed(memo, key, state, unmarked=True):
            done[len(rows)] = normalize_one(key, data)
        rows.append((source_id, record_id, state))
        missing_runs.append(runs)
    report.records = len(rows)
    # A source's own recurrences give a series key (pipeline.tag): whether a record is one of
    # several dates of its source record is part of its state, so that a date added to a
    # one-off event or the last but one date gone redoes its siblings too.
    recurring = recurring_keys((s, r) for s, r, _ in rows)
    for index, (source_id, record_id, state) in enumerate(rows):
        key = (source_id, record_id)
        state = with_recurrence(state, is_recurring(key, recurring))
        rows[index] = (source_id, record_id, state)
        if index not in done and is_changed(memo, key, state):
            done[index] = normalize_one(key, store.record_text(key))
    todo = plan(rows, memo, identities, done)
    missing: dict[tuple[str, str], int] = {}
    normalized: list[Event] = []
    # Of each normalization the memo needs the block, the rejection or the repair only.
    made_of: dict[int, tuple[str | None, str | None, str | None]] = {}
    for index in todo.dirty:
        source_id, record_id, _ = rows[index]
        key = (source_id, record_id)
        made = done.pop(index) if index in done else normalize_one(key, store.record_text(key))
        if isinstance(made, str):
            made_of[index] = (None, made, None)
            report.rejected[made] += 1
            report.rejected_by_source[source_id][made] += 1
            continue
        repaired = made.hints.get("repaired")
        if repaired:
            report.repaired_by_source[source_id][str(repaired)] += 1
        made_of[index] = (block_key(made), None, str(repaired) if repaired else None)
        missing[key] = missing_runs[index]
        normalized.append(made)
    clean_uids: dict[str, None] = {}
    clean_unlisted: set[str] = set()
    for index in todo.clean:
        source_id = rows[index][0]
        before = memo[(source_id, rows[index][1])]
        if before.rejected is not None:
            report.rejected[before.rejected] += 1
            report.rejected_by_source[source_id][before.rejected] += 1
            continue
        if before.repaired is not None:
            report.repaired_by_source[source_id][before.repaired] += 1
        if before.uid is not None:
            clean_uids[before.uid] = None
            if before.unlisted:
                clean_unlisted.add(before.uid)
        report.merged += 1  # less one per canonical event, below
    report.merged -= len(clean_uids)
    clean_texts = store.event_texts(clean_uids)
    if len(clean_texts) != len(clean_uids):  # the memo does not match the events: start over
        return process_stage(store, sources, now=now, run_id=run_id, on_tracked=on_tracked)
    read_ahead = ahead.result(clean_texts) if ahead is not None and clean_texts else {}
    # Rule tags made during the crawl (famcal.prepare), taken when the workers are to fork.
    prepared_tags = prepared() if prepared is not None and normalized else {}
    with _start_tagging(store, normalized, prepared=prepared_tags) as tagging:
        # Dedupe reads no tags (a merged event is tagged afresh below, a single one takes
        # its record's tags), so it runs here, untagged, while the workers tag.
        merged = dedupe(
            normalized,
            priority=priority,
            created={uid: _utc(row["created"]) for uid, row in stored_rows.items()},
            stale={key for key, runs in missing.items() if is_gone(runs)},
        )
        # Merged events are tagged again; through the same cache, so the next run (a new
        # day, one changed event) reuses their tags too.
        merged_keys = {e.uid: rule_key(e) for e in merged.events if len(e.sources) > 1}
        merged_tags = store.cached_tags(merged_keys.values())
        for event in merged.events:
            if (tag_key := merged_keys.get(event.uid)) is not None and tag_key not in merged_tags:
                known = prepared_tags.get(tag_key)  # the same rules' tags of the same input
                merged_tags[tag_key] = known if known is not None else rule_tags(event)
        normalized, used_tags, tag_keys = tagging.finish(recurring=recurring)
        tag_texts = tagging.texts
    report.merged += sum(len(e.sources) - 1 for e in merged.events)
    by_record = {(e.sources[0].id, e.sources[0].record_id): e for e in normalized}
    used_tags.update(merged_tags)
    canonical: list[Event] = []
    new_identities: dict[tuple[str, str], str] = {}
    unlisted: set[str] = set()
    for event in merged.events:
        if (tag_key := merged_keys.get(event.uid)) is not None:
            event = retag_merged(
                event,
                by_record,
                rule_tags_of=_known(merged_tags[tag_key]),
                recurring=recurring,
            )
        else:  # one record's event: its record's tags
            event = evolve(event, tags=by_record[_first_ref(event)].tags)
        for ref in event.sources:
            key = (ref.id, ref.record_id)
            if identities.get(key) != event.uid:
                new_identities[key] = event.uid
        if (tombstone := cancel_if_unlisted(event, missing)) is not None:
            # Every source that listed it has stopped for two healthy runs: a tombstone.
            event = tombstone
            report.cancelled_missing += 1
            unlisted.add(event.uid)
        canonical.append(event)
    grouped = {(r.id, r.record_id) for e in canonical if len(e.sources) > 1 for r in e.sources}
    merged.events.clear()  # untagged: ``canonical`` holds them now
    clean_digests = {uid: json_digest(text) for uid, text in clean_texts.items()}
    kept = [
        kept_event(text, clean_digests[uid], read_ahead.get(uid))
        for uid, text in clean_texts.items()
    ]
    report.cancelled_missing += len(clean_unlisted)
    produced = {e.uid for e in canonical} | clean_texts.keys()
    tombstones = merge_tombstones(
        merged.absorbed, stored_rows, produced, now=now, window_start=start, load=store.event_data
    )
    tracked = track([*canonical, *tombstones], stored_rows, now=now)
    # New (no stored row) or changed (another fingerprint): counted, and handed on.
    altered = [
        e
        for e, mark, _ in tracked
        if (row := stored_rows.get(e.uid)) is None or row["fingerprint"] != mark
    ]
    report.new = sum(1 for e in altered if e.uid not in stored_rows)
    report.changed = len(altered) - report.new
    if on_tracked is not None:  # before the stream below: its pool's thread bars forking
        on_tracked(altered)
    # The stored JSON of the events, over every core while the rest is made here, streamed
    # into the store chunk by chunk (the texts are not all held at once).
    event_rows = stream_chunks(event_row, tracked)
    decisions = decisions_to_log(
        merged.log, identities, new_identities, grouped, store.latest_merge_decisions()
    )
    group_uid = {(r.id, r.record_id): e.uid for e in canonical for r in e.sources}
    group_key = {e.uid: merged_keys.get(e.uid) for e in canonical}
    memo_rows: dict[tuple[str, str], MemoRow] = {}
    for index in todo.dirty:
        source_id, record_id = rows[index][:2]
        key = (source_id, record_id)
        block, rejected, repaired = made_of[index]
        uid = group_uid.get(key)
        memo_rows[key] = MemoRow(
            state=rows[index][2],
            block=block,
            rejected=rejected,
            repaired=repaired,
            tag_key=tag_keys.get(key),
            uid=uid,
            merged_key=group_key.get(uid) if uid else None,
            unlisted=uid in unlisted,
        )
    with closing(event_rows), store.transaction():
        report.stored_digests = store.save_events(
            tracked,
            processed=run_id,
            merge_log=decisions,
            identities=new_identities,
            rows=event_rows,
        )
        store.save_memo(memo_rows, removed=todo.removed, run_id=run_id, replace=not memo)
        store.set_meta("memo_code", code)
        if memo_run is not None and clean_texts:
            store.keep_events(processed=run_id, previous=memo_run)
        # After the memo: the clean records' tags it names are kept, the others dropped.
        store.save_tag_cache(used_tags, run_id=run_id, texts=tag_texts)
    report.stored_digests.update(clean_digests)
    fresh = {e.uid: e for e, _, _ in tracked}
    everything = [*(fresh[e.uid] for e in canonical), *kept]
    everything.sort(key=_first_record)
    report.canonical = [*everything, *(fresh[e.uid] for e in tombstones)]
    report.events = len(report.canonical)
    log.info(
        "processed %d records into %d events (%d merged, %d rejected; %d records redone)",
        report.records,
        report.events,
        report.merged,
        sum(report.rejected.values()),
        len(todo.dirty),
    )
    return report


def records_since(now: datetime) -> str:
    """The first start day (ISO) of the records a process reads."""
    return (window(now)[0] - timedelta(days=1)).date().isoformat()


def _known(tags: Tags) -> Callable[[Event], Tags]:
    return lambda _event: tags


def _first_record(event: Event) -> tuple[str, str]:
    # A full process lists the merged events by their first record in store order.
    refs = event.sources
    if len(refs) == 1:  # most events (the sort key of 20,000: a generator each was 0.2 s)
        return (refs[0].id, refs[0].record_id)
    return min((ref.id, ref.record_id) for ref in refs)


def _first_ref(event: Event) -> tuple[str, str]:
    return (event.sources[0].id, event.sources[0].record_id)


class _Tagging:
    """Tagging begun in the background (``_start_tagging``); ``finish`` waits for it."""

    def __init__(
        self,
        events: list[Event],
        keys: list[str],
        known: dict[str, Tags],
        todo: list[str],
        pending: Started[tuple[Tags, str]],
    ) -> None:
        self.events, self.keys, self.known, self.todo, self.pending = (
            events,
            keys,
            known,
            todo,
            pending,
        )
        # The tag cache's JSON of the tags the workers made, made there too.
        self.texts: dict[str, str] = {}

    def finish(
        self, *, recurring: frozenset[tuple[str, str]]
    ) -> tuple[list[Event], dict[str, Tags], dict[tuple[str, str], str]]:
        """The tagged events, the rule tags used by key and each record's key."""
        for key, (tags, text) in zip(self.todo, self.pending.results(), strict=True):
            self.known[key] = tags
            self.texts[key] = text
        used = {key: self.known[key] for key in self.keys}
        tagged = [
            evolve(event, tags=with_overrides(event, used[key], recurring=recurring))
            for key, event in zip(self.keys, self.events, strict=True)
        ]
        by_record = {_first_ref(e): key for e, key in zip(self.events, self.keys, strict=True)}
        # The untagged events are the caller's to drop.
        self.events, self.keys, self.known, self.todo = [], [], {}, []
        return tagged, used, by_record

    def __enter__(self) -> _Tagging:
        return self

    def __exit__(self, *exc: object) -> None:
        self.pending.cancel()


def _start_tagging(store: Store, events: list[Event], *, prepared: Mapping[str, Tags]) -> _Tagging:
    """Begin tagging every event. Tagging is the costliest pure step, so the rules run once
    per distinct input (a series' occurrences share theirs), not again for inputs an earlier
    run (or ``prepared``: this run's crawl window, ``famcal.prepare``) tagged with the same
    rules, and over every core for the rest, in worker processes while the caller goes on;
    overrides always apply (``finish``)."""
    keys = [rule_key(event) for event in events]
    known = store.cached_tags(keys)
    todo: dict[str, Event] = {}
    for key, event in zip(keys, events, strict=True):
        if key in known or key in todo:
            continue
        if (tags := prepared.get(key)) is not None:
            known[key] = tags
        else:
            todo[key] = event
    pending = list(todo.values())
    if pending:
        # The first in this process: it loads and compiles the rules once (unless the crawl
        # window did), here, so the forked workers inherit them instead of each compiling
        # its own (and the merged events' retag finds them too).
        known[next(iter(todo))] = rule_tags(pending[0])
    return _Tagging(events, keys, known, list(todo)[1:], start_chunks(_tag, pending[1:]))


def _tag(event: Event) -> tuple[Tags, str]:
    """The rule tags and their stored JSON (``core.store`` ``tag_json``), in a worker."""
    tags = rule_tags(event)
    return tags, tag_json(tags)


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
