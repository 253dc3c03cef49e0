"""The stages of a famcal run: crawl → process (normalize, tag, dedupe, track) → publish.

Contract:
- ``crawl_stage``: crawls the sources (``spiders.crawl``), decides each source's health
  (failed on any fetch/content error; degraded when an otherwise fine crawl's event count
  fell by more than half since the last healthy run, zero included) and stores the records.
- ``process_stage``: reads every stored record of the configured sources inside the window,
  normalizes (rejects are counted by reason), tags, merges duplicates across sources
  (``pipeline.dedupe``; merged events are tagged again, and a cancellation any of their
  sources states holds), cancels events that every listing source stopped listing for two
  healthy runs, keeps a cancelled tombstone for each published UID a merge absorbed (until
  30 days after its end), tracks SEQUENCE/LAST-MODIFIED, and saves the canonical events, the
  identities and the changed merge decisions in one transaction. It never deletes events:
  past ones stay in the database as history.
- ``publish_stage``: writes the feeds, ``health.json`` and ``index.html`` from the last
  processed events.
- ``run``: all three, returning contract.md's exit status (0, 3, or 1).
"now" is always passed in; nothing below the command line reads the clock, except the run
log's wall-clock start and finish.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from famcal.config import SourceConfig
from famcal.model import Event, Health, Status, Tags, as_datetime
from famcal.store import Store
from feeds.health import health_document
from feeds.page import index_html
from feeds.publish import WINDOW_AFTER, WINDOW_BEFORE, PublishReport, publish, write_json
from pipeline.dedupe import dedupe, new_uid
from pipeline.normalize import Rejected, normalize
from pipeline.tag import tag_event
from pipeline.track import track

log = logging.getLogger("famcal")

MISSING_RUNS_TO_CANCEL = 2
TOMBSTONE_DAYS = timedelta(days=30)  # a cancelled entry stays this long after its end
EXIT_OK, EXIT_NOTHING, EXIT_USAGE, EXIT_DEGRADED = 0, 1, 2, 3


@dataclass(frozen=True, kw_only=True)
class SourceOutcome:
    id: str
    status: Health
    events: int
    error: str | None
    skipped: dict[str, int] = field(default_factory=dict)


@dataclass(kw_only=True)
class ProcessReport:
    records: int = 0
    events: int = 0
    merged: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    cancelled_missing: int = 0
    changed: int = 0
    new: int = 0


def window(now: datetime) -> tuple[datetime, datetime]:
    return now - WINDOW_BEFORE, now + WINDOW_AFTER


def _wall_clock() -> datetime:
    return datetime.now(UTC)


def crawl_stage(
    store: Store,
    sources: Sequence[SourceConfig],
    *,
    now: datetime,
    run_id: int,
    work_dir: Path,
    settings: dict[str, Any] | None = None,
) -> dict[str, SourceOutcome]:
    from spiders.crawl import crawl  # Scrapy loads only for the stages that crawl

    start, end = window(now)
    results = crawl(
        sources, window_start=start, window_end=end, work_dir=work_dir, settings=settings
    )
    outcomes: dict[str, SourceOutcome] = {}
    for source in sources:
        result = results[source.id]
        status, error = result.status, result.error
        previous = store.source_health(source.id)
        last_healthy = previous.last_healthy_count if previous else None
        if status is Health.OK and last_healthy and result.count * 2 < last_healthy:
            status = Health.DEGRADED
            error = (
                f"event count fell from {last_healthy} to {result.count} since the last healthy run"
            )
        store.save_crawl(
            run_id=run_id,
            source_id=source.id,
            name=source.name,
            type=source.type.value,
            status=status,
            error=error,
            records=result.records(),
            count=result.count,
            at=now,
            window_start=start,
            skipped=result.skipped,
            stats=result.stats,
        )
        outcomes[source.id] = SourceOutcome(
            id=source.id,
            status=status,
            events=result.count,
            error=error,
            skipped=result.skipped,
        )
        log.info(
            "source %s: %s, %d events%s",
            source.id,
            status.value,
            result.count,
            f" ({error})" if error else "",
        )
    return outcomes


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
            continue
        missing[key] = stored.missing_runs
        normalized.append(replace(event, tags=tag_event(event)))
    merged = dedupe(
        normalized,
        priority=priority,
        created={uid: _utc(row["created"]) for uid, row in stored_rows.items()},
        stale={key for key, runs in missing.items() if runs >= MISSING_RUNS_TO_CANCEL},
    )
    report.merged = sum(len(e.sources) - 1 for e in merged.events)
    by_record = {(e.sources[0].id, e.sources[0].record_id): e for e in normalized}
    canonical: list[Event] = []
    new_identities: dict[tuple[str, str], str] = {}
    for event in merged.events:
        if len(event.sources) > 1:
            event = _retag_merged(event, by_record)
        for ref in event.sources:
            key = (ref.id, ref.record_id)
            if identities.get(key) != event.uid:
                new_identities[key] = event.uid
        gone = [
            ref
            for ref in event.sources
            if missing.get((ref.id, ref.record_id), 0) >= MISSING_RUNS_TO_CANCEL
        ]
        if event.tags and gone and len(gone) == len(event.sources):
            # Every source that listed it has stopped for two healthy runs: a tombstone.
            names = ", ".join(sorted({ref.id for ref in gone}))
            reason = f"status: no longer listed by {names} for {MISSING_RUNS_TO_CANCEL} runs"
            tags = replace(
                event.tags, status=Status.CANCELLED, reasons=(*event.tags.reasons, reason)
            )
            event = replace(event, tags=tags)
            report.cancelled_missing += 1
        canonical.append(event)
    canonical.extend(
        _merge_tombstones(merged.absorbed, stored_rows, {e.uid for e in canonical}, now=now)
    )
    tracked = track(canonical, stored_rows, now=now)
    report.new = sum(1 for e, _, _ in tracked if e.uid not in stored_rows)
    report.changed = sum(
        1
        for e, mark, _ in tracked
        if e.uid in stored_rows and stored_rows[e.uid]["fingerprint"] != mark
    )
    grouped = {(r.id, r.record_id) for e in merged.events if len(e.sources) > 1 for r in e.sources}
    decisions = _decisions_to_log(
        merged.log, identities, new_identities, grouped, store.latest_merge_decisions()
    )
    store.save_events(tracked, processed=run_id, merge_log=decisions, identities=new_identities)
    report.events = len(tracked)
    log.info(
        "processed %d records into %d events (%d merged, %d rejected)",
        report.records,
        report.events,
        report.merged,
        sum(report.rejected.values()),
    )
    return report


def _utc(stamp: str | None) -> str | None:
    # Comparable text: "created" stamps carry the offset of their run's --now.
    return datetime.fromisoformat(stamp).astimezone(UTC).isoformat() if stamp else None


def _retag_merged(event: Event, by_record: dict[tuple[str, str], Event]) -> Event:
    """Tag the merged fields afresh; a cancellation any member source states still holds.

    A source that writes "Abgesagt" is more likely right than one that has not caught up,
    and a cancelled entry is visible (a tombstone), a wrongly scheduled one sends families
    to a closed door.
    """
    tags = tag_event(event)
    if tags.status is not Status.CANCELLED:
        saying = sorted(
            ref.id
            for ref in event.sources
            if (member := by_record.get((ref.id, ref.record_id))) is not None
            and member.status is Status.CANCELLED
        )
        if saying:
            reason = f"status: cancelled per {', '.join(saying)}"
            tags = replace(tags, status=Status.CANCELLED, reasons=(*tags.reasons, reason))
    return replace(event, tags=tags)


MERGED_NOTE = (
    "Doppelter Eintrag: diese Veranstaltung steht jetzt unter einem anderen Eintrag "
    "im Kalender; dieser hier entfällt."
)


def _merge_tombstones(
    absorbed: dict[str, str],
    stored_rows: dict[str, dict[str, Any]],
    produced: set[str],
    *,
    now: datetime,
) -> list[Event]:
    """Cancelled entries for UIDs a merge absorbed, so they do not silently vanish.

    A published UID whose event merged into an older one becomes STATUS:CANCELLED (with a
    note and ``hints["merged_into"]``) and is carried from run to run unchanged until 30
    days after its end; if its records split off again, it is scheduled again under it.
    """
    first_window_start = (now - WINDOW_BEFORE).astimezone(UTC).isoformat()
    out: list[Event] = []
    for uid, row in stored_rows.items():
        if uid in produced:
            continue
        if uid in absorbed:
            event = Event.from_dict(json.loads(row["data"]))
            tags = event.tags or Tags()
            reason = f"status: merged into {absorbed[uid]}"
            event = replace(
                event,
                description="\n\n".join(p for p in (MERGED_NOTE, event.description) if p),
                hints={**event.hints, "merged_into": absorbed[uid]},
                tags=replace(tags, status=Status.CANCELLED, reasons=(*tags.reasons, reason)),
            )
        elif (
            row["status"] == Status.CANCELLED.value
            and '"merged_into"' in row["data"]
            and row["start"] >= first_window_start
        ):
            event = Event.from_dict(json.loads(row["data"]))
        else:
            continue
        if _ends(event) + TOMBSTONE_DAYS >= now:
            out.append(event)
    return out


def _ends(event: Event) -> datetime:
    return as_datetime(event.end) if event.end is not None else event.start_datetime()


def _decisions_to_log(
    rows: list[dict[str, Any]],
    identities: dict[tuple[str, str], str],
    new_identities: dict[tuple[str, str], str],
    grouped: set[tuple[str, str]],
    latest: dict[tuple[str, str], set[tuple[str, str, str]]],
) -> list[dict[str, Any]]:
    """This run's merge decisions that differ from the last ones logged for each record.

    Every run decides afresh; logging only changes keeps ``merge_log`` a history of what
    merged, split or was kept apart and why, not a copy of every run.
    """
    by_record: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        by_record.setdefault((row["source_id"], row["record_id"]), []).append(row)
    for key, uid in new_identities.items():
        previous = identities.get(key)
        if previous is None or any(r["decision"] == "merged" for r in by_record.get(key, ())):
            continue
        # A record whose UID changed without a merge row of its own: the other side of a
        # merge (its event was absorbed), or a record that left its group.
        decision = "merged" if key in grouped else "split"
        reason = f"now under {uid}" if key in grouped else f"no longer grouped under {previous}"
        by_record.setdefault(key, []).append(
            {
                "uid": uid,
                "source_id": key[0],
                "record_id": key[1],
                "decision": decision,
                "reason": f"{reason} (was {previous})" if key in grouped else reason,
            }
        )
    out: list[dict[str, Any]] = []
    for key in sorted(by_record):
        found = by_record[key]
        if {(r["uid"], r["decision"], r["reason"]) for r in found} != latest.get(key, set()):
            out.extend(found)
    return out


def publish_stage(
    store: Store,
    *,
    now: datetime,
    out_dir: Path,
    base_url: str | None = None,
) -> PublishReport:
    processed = store.latest_processed()
    events = store.events(processed=processed) if processed is not None else []
    report = publish(events, out_dir=out_dir, now=now, base_url=base_url)
    write_json(out_dir / "health.json", health_document(store.all_source_health(), now=now))
    from feeds.publish import write_if_changed

    if write_if_changed(
        out_dir / "index.html", index_html(events, report, now=now, base_url=base_url).encode()
    ):
        report.written.append("index.html")
    return report


def exit_status(outcomes: dict[str, SourceOutcome]) -> int:
    if all(o.status is Health.OK for o in outcomes.values()):
        return EXIT_OK
    return EXIT_DEGRADED


def run(
    store: Store,
    sources: Sequence[SourceConfig],
    *,
    now: datetime,
    out_dir: Path,
    work_dir: Path,
    settings: dict[str, Any] | None = None,
    base_url: str | None = None,
) -> int:
    run_id = store.start_run(started=_wall_clock(), now=now, stage="run")
    counts: dict[str, Any] = {}
    status = EXIT_NOTHING
    try:
        outcomes = crawl_stage(
            store, sources, now=now, run_id=run_id, work_dir=work_dir, settings=settings
        )
        counts["sources"] = {
            k: {
                "status": v.status.value,
                "events": v.events,
                "error": v.error,
                "skipped": v.skipped,
            }
            for k, v in outcomes.items()
        }
        processed = process_stage(store, sources, now=now, run_id=run_id)
        counts["process"] = {
            "records": processed.records,
            "events": processed.events,
            "merged": processed.merged,
            "rejected": dict(processed.rejected),
            "new": processed.new,
            "changed": processed.changed,
            "cancelled_missing": processed.cancelled_missing,
        }
        published = publish_stage(store, now=now, out_dir=out_dir, base_url=base_url)
        counts["publish"] = {
            "feeds": len(published.feeds),
            "written": len(published.written),
            "familie": published.feeds.get("familie", 0),
            "alle": published.feeds.get("alle", 0),
        }
        status = exit_status(outcomes)
    finally:
        store.finish_run(run_id, finished=_wall_clock(), exit_status=status, counts=counts)
    return status
