"""The stages of a famcal run: crawl → process (normalize, tag, dedupe, track) → publish.

Contract:
- ``crawl_stage``: crawls the sources (``spiders.crawl``), decides each source's health
  (failed on any fetch/content error; degraded when an otherwise fine crawl's event count
  fell by more than half since the last healthy run; zero events from a source that had
  events is degraded with its own message) and stores the records — a failed or degraded
  source's records are kept and none of its events is taken for deleted.
- ``process_stage``: reads every stored record of the configured sources inside the window,
  normalizes (rejects are counted by reason, overall and per source, and logged), tags,
  merges duplicates across sources (``pipeline.dedupe``; merged events are tagged again,
  and a cancellation any of their sources states holds), cancels events that every
  listing source stopped listing for two healthy runs, keeps a cancelled tombstone for
  each published UID a merge absorbed (until 30 days after its end), tracks
  SEQUENCE/LAST-MODIFIED, and saves the canonical events, the identities and the changed
  merge decisions in one transaction. It never deletes events: past ones stay in the
  database as history.
- ``publish_stage``: writes the feeds, ``health.json`` and ``index.html`` from the last
  processed events.
- ``run``: all three, returning contract.md's exit status (0, 3, or 1); with ``log_dir`` it
  writes the run's structured log (``core.runlog``), with ``progress`` it reports to a
  terminal (``famcal.progress``). The caller holds the run lock (``core.lock``).
- Test hook: ``FAMCAL_TEST_PAUSE_AT=process|publish`` makes ``run`` announce itself on stderr
  and sleep before that stage (so a test can SIGKILL it there); inert when unset.
"now" is always passed in; nothing below the command line reads the clock, except the run
log's wall-clock stamps.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from core.config import SourceConfig
from core.model import BERLIN, Event, Health, Status, Tags, as_datetime, evolve
from core.parallel import map_chunks
from core.paths import data_digest
from core.runlog import RunLog
from core.store import RecordRow, Store
from famcal import __version__
from famcal.progress import QUIET, Progress
from feeds.health import health_document
from feeds.publish import (
    WINDOW_AFTER,
    WINDOW_BEFORE,
    Content,
    PublishReport,
    Serialized,
    feed_specs,
    iter_rendered,
    json_bytes,
    render_key,
    serialize,
    window_events,
    write_files,
    write_staged,
)
from feeds.site import PRUNED, health_html, site_files
from pipeline.dedupe import dedupe, new_uid
from pipeline.normalize import Rejected, normalize
from pipeline.tag import rule_key, rule_tags, tag_event, with_overrides
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
    # Sent exactly what the last healthy crawl read; ``missing_moved`` counts the records
    # that are missing once more because of it (they may now be cancelled).
    unchanged: bool = False
    missing_moved: int = 0


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


def window(now: datetime) -> tuple[datetime, datetime]:
    return now - WINDOW_BEFORE, now + WINDOW_AFTER


def crawl_window(now: datetime) -> tuple[datetime, datetime]:
    """The feed window widened to whole local days: runs on the same day expand recurring
    events over the same window, so an unchanged document can be recognised as such."""
    start, end = window(now)
    first = datetime.combine(start.astimezone(BERLIN).date(), datetime.min.time(), BERLIN)
    last = datetime.combine(
        end.astimezone(BERLIN).date() + timedelta(days=1), datetime.min.time(), BERLIN
    )
    return first, last


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
    log_file: Path | None = None,
    progress: Progress = QUIET,
) -> dict[str, SourceOutcome]:
    from spiders.crawl import crawl  # Scrapy loads only for the stages that crawl

    start, end = crawl_window(now)
    results = crawl(
        sources,
        previous_digests=store.digests(),
        window_start=start,
        window_end=end,
        work_dir=work_dir,
        settings=settings,
        log_file=log_file,
        echo=progress.note if progress.enabled else None,
    )
    outcomes: dict[str, SourceOutcome] = {}
    for source in sources:
        result = results[source.id]
        status, error = result.status, result.error
        previous = store.source_health(source.id)
        if result.unchanged and status is Health.OK and previous is not None:
            moved = store.save_unchanged(
                run_id=run_id,
                source_id=source.id,
                at=now,
                window_start=start,
                stats=result.stats,
            )
            outcomes[source.id] = SourceOutcome(
                id=source.id,
                status=Health.OK,
                events=previous.events,
                error=None,
                unchanged=True,
                missing_moved=moved,
            )
            log.info("source %s: ok, unchanged since the last run", source.id)
            progress.note(f"{source.id}: ok, unchanged")
            continue
        last_healthy = previous.last_healthy_count if previous else None
        if status is Health.OK and last_healthy and result.count == 0:
            # An answer without a single event from a source that had events is far more
            # often a broken page than an empty calendar: never "ok".
            status = Health.DEGRADED
            error = f"no events (the last healthy run had {last_healthy})"
        elif status is Health.OK and last_healthy and result.count * 2 < last_healthy:
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
            records=(RecordRow.from_json_line(line) for line in result.lines()),
            count=result.count,
            digests=result.digests,
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
        log.log(
            logging.INFO if status is Health.OK else logging.WARNING,
            "source %s: %s, %d events%s%s",
            source.id,
            status.value,
            result.count,
            f" ({error})" if error else "",
            f", skipped {dict(result.skipped)}" if result.skipped else "",
        )
        progress.note(
            f"{source.id}: {status.value}, {result.count} events" + (f" — {error}" if error else "")
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
            report.rejected_by_source[raw.source_id][str(exc)] += 1
            log.info("rejected %s %s: %s", raw.source_id, raw.record_id[:200], exc)
            continue
        if repaired := event.hints.get("repaired"):
            report.repaired_by_source[raw.source_id][str(repaired)] += 1
        missing[key] = stored.missing_runs
        normalized.append(event)
    normalized = _tag_all(store, normalized, run_id=run_id)
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
        _merge_tombstones(
            merged.absorbed, stored_rows, {e.uid for e in canonical}, now=now, load=store.event_data
        )
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


def _tag_all(store: Store, events: list[Event], *, run_id: int) -> list[Event]:
    """Tag every event. Tagging is the costliest pure step, so the rules run once per
    distinct input (a series' occurrences share theirs), not again for inputs an earlier run
    tagged with the same rules, and over every core for the rest; overrides always apply."""
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
    return [
        evolve(event, tags=with_overrides(event, used[key]))
        for key, event in zip(keys, events, strict=True)
    ]


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
    load: Callable[[str], dict[str, Any] | None],
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
            data = load(uid)
            if data is None:
                continue
            event = Event.from_dict(data)
            tags = event.tags or Tags()
            reason = f"status: merged into {absorbed[uid]}"
            event = replace(
                event,
                description="\n\n".join(p for p in (MERGED_NOTE, event.description) if p),
                hints={**event.hints, "merged_into": absorbed[uid]},
                tags=replace(tags, status=Status.CANCELLED, reasons=(*tags.reasons, reason)),
            )
        elif row["status"] == Status.CANCELLED.value and row["start"] >= first_window_start:
            data = load(uid)
            if data is None or "merged_into" not in (data.get("hints") or {}):
                continue
            event = Event.from_dict(data)
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
    reuse: bool = False,
    events: Sequence[Event] | None = None,
    stored_digests: Mapping[str, str] | None = None,
) -> PublishReport:
    """Write the feeds, the page and health.json. With ``reuse``, a publish whose inputs
    (the processed events in the window, the next family events, the address, the rules)
    are those of the last one rewrites only health.json. ``events`` (and their stored JSON
    by uid) are the ones the process stage just saved, if it ran (``ProcessReport``)."""
    processed = store.latest_processed()
    signature = _publish_signature(store, processed, now=now, base_url=base_url)
    health_doc = health_document(store.all_source_health(), now=now)
    health = json_bytes(health_doc)
    if reuse and signature == store.meta("publish_signature") and _all_published(out_dir):
        report = PublishReport(feeds=json.loads(store.meta("publish_feeds") or "{}"))
        again = {"health.json": health, "health.html": health_html(health_doc)}
        write_files(out_dir, again, report)
        return report
    if events is None:
        events = store.events(processed=processed) if processed is not None else []
    report = PublishReport()
    known = _serialized_forms(store, events, now=now, stored_digests=stored_digests or {})

    def files() -> Iterator[tuple[str, Content]]:
        yield from iter_rendered(events, now=now, base_url=base_url, report=report, known=known)
        # After the feeds: the site shows their counts.
        vevents = {uid: form.vevent for uid, form in known.items()}
        yield from site_files(
            events, report, now=now, base_url=base_url, health=health_doc, vevents=vevents
        )
        # health.json carries the run's time ("generated"), so it is the one file that
        # changes on every run; the feeds and index.html change only with the events.
        yield "health.json", health

    write_staged(out_dir, files(), report, prune=PRUNED)
    store.set_meta("publish_signature", signature)
    store.set_meta("publish_feeds", json.dumps(report.feeds, sort_keys=True))
    return report


def _serialized_forms(
    store: Store, events: Sequence[Event], *, now: datetime, stored_digests: Mapping[str, str]
) -> dict[str, Serialized]:
    """Each shown event's serialized forms: from the last publish where the event (and the
    code and labels that serialize it) did not change, freshly made over every core for the
    rest, which are stored for the next publish."""
    shown = window_events(events, now)
    keys = {event.uid: render_key(event, stored_digests.get(event.uid)) for event in shown}
    forms: dict[str, Serialized] = {}
    for uid, (key, vevent, item, jsonld) in store.cached_forms().items():
        if keys.get(uid) == key:
            forms[uid] = Serialized(vevent=vevent, item=item, jsonld=jsonld)
    todo = [event for event in shown if event.uid not in forms]
    made = dict(zip((e.uid for e in todo), map_chunks(serialize, todo), strict=True))
    forms.update(made)
    store.save_forms(
        {uid: (keys[uid], f.vevent, f.item, f.jsonld) for uid, f in made.items()}, keep=keys
    )
    return forms


def _publish_signature(
    store: Store, processed: int | None, *, now: datetime, base_url: str | None
) -> str:
    lo, hi = window(now)
    shown, upcoming = (
        store.window_keys(
            processed,
            start_from=lo.astimezone(UTC).isoformat(),
            start_to=hi.astimezone(UTC).isoformat(),
            upcoming_from=now.astimezone(UTC).isoformat(),
        )
        if processed is not None
        else ([], [])
    )
    parts = [__version__, data_digest(), base_url or "", str(processed), *shown, "|", *upcoming]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _all_published(out_dir: Path) -> bool:
    names = [f"{spec.path}.{ext}" for spec in feed_specs() for ext in ("ics", "json")]
    return all((out_dir / name).is_file() for name in [*names, "index.html"])


def process_signature(sources: Sequence[SourceConfig]) -> str:
    """What processing depends on besides the records: the sources' settings and the rules."""
    parts = [__version__, data_digest()] + [
        f"{s.id}|{s.type.value}|{s.priority}|{','.join(s.categories)}"
        for s in sorted(sources, key=lambda s: s.id)
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def exit_status(outcomes: dict[str, SourceOutcome]) -> int:
    if all(o.status is Health.OK for o in outcomes.values()):
        return EXIT_OK
    return EXIT_DEGRADED


def record_problems(store: Store, report: ProcessReport) -> dict[str, dict[str, Any]]:
    """Store the processing's rejections and repairs per source (for health.json)."""
    rejected = {k: dict(v) for k, v in report.rejected_by_source.items()}
    repaired = {k: dict(v) for k, v in report.repaired_by_source.items()}
    store.save_problems(rejected=rejected, repaired=repaired)
    return {
        source: {"rejected": rejected.get(source, {}), "repaired": repaired.get(source, {})}
        for source in sorted(set(rejected) | set(repaired))
    }


def pause_for_tests(stage: str) -> None:
    """FAMCAL_TEST_PAUSE_AT=<stage>: stop before the stage so a test can kill the run there."""
    if os.environ.get("FAMCAL_TEST_PAUSE_AT") == stage:
        print(f"famcal: test pause before {stage}", file=sys.stderr, flush=True)
        time.sleep(float(os.environ.get("FAMCAL_TEST_PAUSE_SECONDS", "120")))


def run(
    store: Store,
    sources: Sequence[SourceConfig],
    *,
    now: datetime,
    out_dir: Path,
    work_dir: Path,
    settings: dict[str, Any] | None = None,
    base_url: str | None = None,
    log_dir: Path | None = None,
    progress: Progress = QUIET,
) -> int:
    run_id = store.start_run(started=_wall_clock(), now=now, stage="run")
    runlog = RunLog.open(log_dir, run_id) if log_dir is not None else None
    counts: dict[str, Any] = {}
    status = EXIT_NOTHING
    try:
        if runlog is not None:
            runlog.write("start", now=now.isoformat(), sources=[s.id for s in sources])
        with runlog.capture(log) if runlog is not None else _nothing():
            status = _run_stages(
                store,
                sources,
                now=now,
                out_dir=out_dir,
                work_dir=work_dir,
                settings=settings,
                base_url=base_url,
                run_id=run_id,
                counts=counts,
                runlog=runlog,
                progress=progress,
            )
    except Exception as exc:
        if runlog is not None:
            runlog.write("error", error=f"{type(exc).__name__}: {exc}")
        raise
    finally:
        store.finish_run(run_id, finished=_wall_clock(), exit_status=status, counts=counts)
        if runlog is not None:
            runlog.write("finish", exit_status=status)
            runlog.close()
    return status


def _run_stages(
    store: Store,
    sources: Sequence[SourceConfig],
    *,
    now: datetime,
    out_dir: Path,
    work_dir: Path,
    settings: dict[str, Any] | None,
    base_url: str | None,
    run_id: int,
    counts: dict[str, Any],
    runlog: RunLog | None,
    progress: Progress,
) -> int:
    crawl_log = runlog.path.with_suffix(".crawl.log") if runlog is not None else None
    # Stage durations for the run log and the benchmarks (a measurement, not a date decision).
    timings: dict[str, float] = {}
    counts["timings"] = timings
    clock = time.perf_counter()
    outcomes = crawl_stage(
        store,
        sources,
        now=now,
        run_id=run_id,
        work_dir=work_dir,
        settings=settings,
        log_file=crawl_log,
        progress=progress,
    )
    timings["crawl"] = round(time.perf_counter() - clock, 3)
    counts["sources"] = {
        k: {
            "status": v.status.value,
            "events": v.events,
            "error": v.error,
            "skipped": v.skipped,
        }
        for k, v in outcomes.items()
    }
    if runlog is not None:
        for source_id, fields in counts["sources"].items():
            runlog.write("source", source=source_id, **fields)
    with progress.bar("process and publish", 2) as advance:
        pause_for_tests("process")
        clock = time.perf_counter()
        signature = process_signature(sources)
        events: list[Event] | None = None
        stored_digests: dict[str, str] | None = None
        if (
            store.meta("process_pending") == "0"
            and store.meta("process_signature") == signature
            and store.latest_processed() is not None
        ):
            # Nothing a process would read has changed since the last one: its events stand.
            counts["process"] = {"skipped": "no source changed since the last run"}
            advance("unchanged")
        else:
            processed = process_stage(store, sources, now=now, run_id=run_id)
            store.set_meta("process_signature", signature)
            store.set_meta("process_pending", "0")
            events, stored_digests = processed.canonical, processed.stored_digests
            problems = record_problems(store, processed)
            counts["process"] = {
                "records": processed.records,
                "events": processed.events,
                "merged": processed.merged,
                "rejected": dict(processed.rejected),
                "new": processed.new,
                "changed": processed.changed,
                "cancelled_missing": processed.cancelled_missing,
            }
            counts["problems"] = problems
            if runlog is not None:
                for source_id, found in problems.items():
                    runlog.write("rejected", source=source_id, **found)
            advance(f"{processed.events} events")
        timings["process"] = round(time.perf_counter() - clock, 3)
        if runlog is not None:
            runlog.write("process", **counts["process"])
        pause_for_tests("publish")
        clock = time.perf_counter()
        # ``events`` None: publish reads the last processed events (and may find that its
        # inputs did not change at all).
        published = publish_stage(
            store,
            now=now,
            out_dir=out_dir,
            base_url=base_url,
            reuse=True,
            events=events,
            stored_digests=stored_digests,
        )
        timings["publish"] = round(time.perf_counter() - clock, 3)
        counts["publish"] = {
            "feeds": len(published.feeds),
            "written": len(published.written),
            "familie": published.feeds.get("familie", 0),
            "alle": published.feeds.get("alle", 0),
        }
        if runlog is not None:
            runlog.write("publish", **counts["publish"])
        advance(f"{len(published.feeds)} feeds")
    return exit_status(outcomes)


@contextmanager
def _nothing() -> Iterator[None]:
    yield
