"""The crawl stage: crawl the sources, judge each one's health, store the records.

Contract: ``crawl_stage(store, sources, now=…, run_id=…, work_dir=…)`` crawls the sources
(``spiders.crawl``, over ``crawl_window(now)``), decides each source's health
(``pipeline.health``: failed on any fetch/content error of its start URLs; degraded when
the crawl was partial — a page not fetched, a budget hit — or an otherwise fine crawl's
event count fell by more than half since the last healthy run, or to zero) and
stores the records — a failed or degraded source's records are kept and none of its events
is taken for deleted. A source that sent exactly what its last healthy crawl read keeps its
stored records. Returns a ``SourceOutcome`` per source id; ``exit_status`` turns them into
contract.md's exit status (0 all ok, 3 otherwise). ``deadline_seconds`` bounds the crawl
(``spiders.crawl``); ``crawl_seconds(max_seconds)`` is the part of a run's time budget the
crawl may use. ``during`` is entered for the crawl child's run only (a run's
``famcal.prepare``: it is left before the records are stored).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from core.config import SourceConfig
from core.model import Health
from core.store import RecordRow, Store
from core.window import crawl_window
from famcal.progress import QUIET, Progress
from pipeline.health import Crawled, is_unchanged, judge, problem_counts

log = logging.getLogger("famcal")

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
    deadline_seconds: float | None = None,
    during: AbstractContextManager[object] | None = None,
) -> dict[str, SourceOutcome]:
    from spiders.crawl import crawl  # Scrapy loads only for the stages that crawl

    start, end = crawl_window(now)
    previous_digests = store.digests()
    with during if during is not None else nullcontext():
        results = crawl(
            sources,
            previous_digests=previous_digests,
            window_start=start,
            window_end=end,
            work_dir=work_dir,
            settings=settings,
            log_file=log_file,
            echo=progress.note if progress.enabled else None,
            deadline_seconds=deadline_seconds,
        )
    outcomes: dict[str, SourceOutcome] = {}
    for source in sources:
        result = results[source.id]
        crawled = Crawled(
            status=result.status,
            error=result.error,
            count=result.count,
            unchanged=result.unchanged,
            skipped=result.skipped,
            problems=result.problems,
        )
        previous = store.source_health(source.id)
        if is_unchanged(crawled, seen_before=previous is not None):
            assert previous is not None
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
        verdict = judge(crawled, last_healthy=previous.last_healthy_count if previous else None)
        status, error = verdict.status, verdict.error
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
            skipped=problem_counts(crawled),
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


def crawl_seconds(max_seconds: float | None) -> float | None:
    """The crawl's part of a run's time budget: the rest (a fifth, at most five minutes) is
    kept for processing and publishing."""
    if max_seconds is None:
        return None
    return max(1.0, max_seconds - min(300.0, max_seconds / 5))


def exit_status(outcomes: dict[str, SourceOutcome]) -> int:
    if all(o.status is Health.OK for o in outcomes.values()):
        return EXIT_OK
    return EXIT_DEGRADED
