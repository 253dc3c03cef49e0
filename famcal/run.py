"""A famcal run — crawl → process → publish — and the bookkeeping every command shares.

Contract:
- ``run(store, sources, now=…, out_dir=…, work_dir=…)``: the three stages, returning
  contract.md's exit status (0 all sources ok, 3 some failed or degraded; an exception
  means nothing was published: the caller exits 1). The process stage is skipped when
  nothing it reads changed since the last one, and the publish rewrites only health.json
  when its inputs did not change. With ``log_dir`` it writes the run's structured log
  (``core.runlog``), with ``progress`` it reports to a terminal (``famcal.progress``).
  ``hooks.before_stage(name)`` is called before "process" and before "publish" (default:
  nothing) — for a caller that wants to act between stages, e.g. stop the run there.
  ``max_seconds`` bounds the run: the crawl gets ``crawl_seconds(max_seconds)`` of it, and
  the sources it cuts are degraded with the run's budget named. While the crawl child runs,
  ``famcal.prepare`` warms this process up and tags the records already written in a
  helper process, whose tags the process stage takes, and ``famcal.read_ahead`` reads the
  stored events back on a thread (no result depends on either).
- ``crawl``, ``process``, ``publish``: one stage alone (the commands of the same names);
  process always processes, publish always writes every file.
- Each of these is one row of the store's ``runs``: started and finished by the wall clock
  (UTC), the run's ``now``, the counts (per source, process, problems, publish, timings
  in seconds) and the exit status. The caller holds the run lock (``core.lock``).
"now" is always passed in; the wall clock only stamps the bookkeeping.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.config import SourceConfig
from core.model import Tags
from core.runlog import RunLog
from core.store import Store
from famcal.crawl_stage import (
    EXIT_DEGRADED,
    EXIT_NOTHING,
    EXIT_OK,
    EXIT_USAGE,
    SourceOutcome,
    crawl_seconds,
    crawl_stage,
    exit_status,
)
from famcal.prepare import Preparer
from famcal.process_stage import (
    ProcessReport,
    process_signature,
    process_stage,
    record_problems,
    records_since,
)
from famcal.progress import QUIET, Progress
from famcal.publish_stage import FormsAhead, publish_stage
from famcal.read_ahead import ReadAhead, crawl_over
from feeds.publish import PublishReport

__all__ = [
    "EXIT_DEGRADED",
    "EXIT_NOTHING",
    "EXIT_OK",
    "EXIT_USAGE",
    "Hooks",
    "crawl",
    "exit_status",
    "process",
    "publish",
    "run",
]

log = logging.getLogger("famcal")


def _nothing(stage: str) -> None:
    pass


@dataclass(frozen=True, kw_only=True)
class Hooks:
    """What a caller may have done between the stages of a run."""

    before_stage: Callable[[str], None] = _nothing


def wall_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(kw_only=True)
class _Book:
    """One ``runs`` row in the making, and the run log when there is one."""

    run_id: int
    runlog: RunLog | None
    counts: dict[str, Any] = field(default_factory=dict)
    status: int = EXIT_NOTHING  # stays so unless the command gets to its end

    def write(self, event: str, **fields: Any) -> None:
        if self.runlog is not None:
            self.runlog.write(event, **fields)

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        # Stage durations for the run log and the benchmarks (a measurement, not a date).
        clock = time.perf_counter()
        yield
        self.counts.setdefault("timings", {})[stage] = round(time.perf_counter() - clock, 3)


@contextmanager
def _booked(
    store: Store,
    *,
    now: datetime,
    stage: str,
    sources: Sequence[SourceConfig] = (),
    log_dir: Path | None = None,
) -> Iterator[_Book]:
    run_id = store.start_run(started=wall_clock(), now=now, stage=stage)
    book = _Book(run_id=run_id, runlog=RunLog.open(log_dir, run_id) if log_dir else None)
    try:
        book.write("start", now=now.isoformat(), sources=[s.id for s in sources])
        with book.runlog.capture(log) if book.runlog is not None else nullcontext():
            yield book
    except Exception as exc:
        book.write("error", error=f"{type(exc).__name__}: {exc}")
        raise
    finally:
        store.finish_run(run_id, finished=wall_clock(), exit_status=book.status, counts=book.counts)
        book.write("finish", exit_status=book.status)
        if book.runlog is not None:
            book.runlog.close()


def _crawl(
    store: Store,
    sources: Sequence[SourceConfig],
    book: _Book,
    *,
    now: datetime,
    work_dir: Path,
    settings: dict[str, Any] | None,
    progress: Progress,
    max_seconds: float | None = None,
    during: AbstractContextManager[object] | None = None,
) -> dict[str, SourceOutcome]:
    with book.timed("crawl"):
        outcomes = crawl_stage(
            store,
            sources,
            now=now,
            run_id=book.run_id,
            work_dir=work_dir,
            settings=settings,
            log_file=book.runlog.path.with_suffix(".crawl.log") if book.runlog else None,
            progress=progress,
            deadline_seconds=crawl_seconds(max_seconds),
            during=during,
        )
    book.counts["sources"] = {
        k: {"status": v.status.value, "events": v.events, "error": v.error, "skipped": v.skipped}
        for k, v in outcomes.items()
    }
    for source_id, fields in book.counts["sources"].items():
        book.write("source", source=source_id, **fields)
    return outcomes


def _process(
    store: Store,
    sources: Sequence[SourceConfig],
    book: _Book,
    *,
    now: datetime,
    reuse: bool,
    prepared: Callable[[], Mapping[str, Tags]] | None = None,
    ahead: ReadAhead | None = None,
    forms: FormsAhead | None = None,
) -> ProcessReport | None:
    """None: skipped, since nothing a process would read has changed (with ``reuse``)."""
    processed: ProcessReport | None = None
    with book.timed("process"):
        signature = process_signature(sources)
        if (
            reuse
            and store.meta("process_pending") == "0"
            and store.meta("process_signature") == signature
            and store.latest_processed() is not None
        ):
            book.counts["process"] = {"skipped": "no source changed since the last run"}
            if ahead is not None:
                ahead.cancel()
        else:
            # Incremental (only what changed records touch) when the rules and the sources'
            # settings are those of the last process; ``famcal process`` redoes everything.
            processed = process_stage(
                store,
                sources,
                now=now,
                run_id=book.run_id,
                incremental=reuse and store.meta("process_signature") == signature,
                prepared=prepared,
                ahead=ahead,
                on_tracked=forms.start if forms is not None else None,
            )
            store.set_meta("process_signature", signature)
            store.set_meta("process_pending", "0")
            problems = record_problems(store, processed)
            book.counts["process"] = {
                "records": processed.records,
                "events": processed.events,
                "merged": processed.merged,
                "rejected": dict(processed.rejected),
                "new": processed.new,
                "changed": processed.changed,
                "cancelled_missing": processed.cancelled_missing,
            }
            book.counts["problems"] = problems
            for source_id, found in problems.items():
                book.write("rejected", source=source_id, **found)
    book.write("process", **book.counts["process"])
    return processed


def _publish(
    store: Store,
    book: _Book,
    *,
    now: datetime,
    out_dir: Path,
    base_url: str | None,
    reuse: bool,
    processed: ProcessReport | None,
    forms: FormsAhead | None = None,
) -> PublishReport:
    with book.timed("publish"):
        # No ``processed``: publish reads the last processed events (and, with ``reuse``,
        # may find that its inputs did not change at all).
        published = publish_stage(
            store,
            now=now,
            out_dir=out_dir,
            base_url=base_url,
            reuse=reuse,
            events=processed.canonical if processed else None,
            stored_digests=processed.stored_digests if processed else None,
            ahead=forms,
        )
    book.counts["publish"] = {
        "feeds": len(published.feeds),
        "written": len(published.written),
        "familie": published.feeds.get("familie", 0),
        "alle": published.feeds.get("alle", 0),
    }
    book.write("publish", **book.counts["publish"])
    return published


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
    hooks: Hooks = Hooks(),
    max_seconds: float | None = None,
) -> int:
    with _booked(store, now=now, stage="run", sources=sources, log_dir=log_dir) as book:
        # While the crawl child parses, this process warms up, a helper tags the records of
        # the sources already written (famcal.prepare) and a thread reads the stored events
        # back (famcal.read_ahead); each is exact whatever happens, and each only uses the
        # core the crawl child leaves idle.
        known = store.tag_keys()  # what the tag cache has is not tagged again
        ahead = ReadAhead(
            store,
            over=crawl_over(work_dir, len(sources)),
            start=False,  # with the crawl (_crawl_window)
        )
        try:
            with Preparer(work_dir, sources, since=records_since(now), known=known) as preparer:
                status = _stages(
                    store, sources, book, preparer, ahead, now=now, out_dir=out_dir,
                    work_dir=work_dir, settings=settings, base_url=base_url, progress=progress,
                    hooks=hooks, max_seconds=max_seconds,
                )  # fmt: skip
        finally:
            ahead.cancel()
        book.status = status
    return book.status


def _stages(
    store: Store,
    sources: Sequence[SourceConfig],
    book: _Book,
    preparer: Preparer,
    ahead: ReadAhead,
    *,
    now: datetime,
    out_dir: Path,
    work_dir: Path,
    settings: dict[str, Any] | None,
    base_url: str | None,
    progress: Progress,
    hooks: Hooks,
    max_seconds: float | None,
) -> int:
    outcomes = _crawl(
        store,
        sources,
        book,
        now=now,
        work_dir=work_dir,
        settings=settings,
        progress=progress,
        max_seconds=max_seconds,
        during=_crawl_window(preparer, ahead),
    )
    # The new and changed events are serialized for the publish while the process stage
    # writes the store (one core's work).
    with progress.bar("process and publish", 2) as advance, FormsAhead(now) as forms:
        hooks.before_stage("process")
        processed = _process(
            store,
            sources,
            book,
            now=now,
            reuse=True,
            prepared=preparer.tags,
            ahead=ahead,
            forms=forms,
        )
        preparer.close()  # the process stage took its tags, or did not need them
        advance(f"{processed.events} events" if processed else "unchanged")
        hooks.before_stage("publish")
        published = _publish(
            store,
            book,
            now=now,
            out_dir=out_dir,
            base_url=base_url,
            reuse=True,
            processed=processed,
            forms=forms,
        )
        advance(f"{len(published.feeds)} feeds")
    return exit_status(outcomes)


@contextmanager
def _crawl_window(preparer: Preparer, ahead: ReadAhead) -> Iterator[None]:
    """Around the crawl child's run: the preparation, then the read-ahead thread (after the
    helper forked: this process forks only while no other thread runs)."""
    with preparer.running():
        ahead.start()
        yield


def crawl(
    store: Store,
    sources: Sequence[SourceConfig],
    *,
    now: datetime,
    work_dir: Path,
    settings: dict[str, Any] | None = None,
) -> dict[str, SourceOutcome]:
    with _booked(store, now=now, stage="crawl", sources=sources) as book:
        outcomes = _crawl(
            store, sources, book, now=now, work_dir=work_dir, settings=settings, progress=QUIET
        )
        book.status = exit_status(outcomes)
    return outcomes


def process(store: Store, sources: Sequence[SourceConfig], *, now: datetime) -> ProcessReport:
    with _booked(store, now=now, stage="process", sources=sources) as book:
        report = _process(store, sources, book, now=now, reuse=False)
        assert report is not None  # without reuse, it always processes
        book.status = EXIT_OK
    return report


def publish(
    store: Store, *, now: datetime, out_dir: Path, base_url: str | None = None
) -> PublishReport:
    with _booked(store, now=now, stage="publish") as book:
        report = _publish(
            store, book, now=now, out_dir=out_dir, base_url=base_url, reuse=False, processed=None
        )
        book.status = EXIT_OK
    return report
