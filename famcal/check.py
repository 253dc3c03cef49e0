"""``famcal sources check``: what the pipeline would make of one source, before it goes live.

Contract:
- ``candidate(type, url, options)`` builds a ``SourceConfig`` (id ``candidate``) from
  ``--type``/``--url``/``--option KEY=VALUE`` (``select.item=…`` for a key of a table; a
  value is read as TOML when it parses, as text otherwise) through the same checks as the
  sources file (``core.config``): a bad one raises ``ConfigError``.
- ``check_source(source, now=…, work_dir=…, settings=…)`` crawls the source once with the
  normal crawl machinery (``spiders.crawl``: robots.txt, politeness, budgets) in
  ``work_dir`` (a scratch folder the caller owns), normalizes and tags what it yielded
  (``pipeline``), and returns a ``CheckReport``: the events sorted by start, the skip and
  rejection counts by reason, and the health the source would get (as ``crawl_stage``
  decides it for a source without history). No database, no published folder.
- ``report_lines(report)`` is its text for a terminal; ``exit_status(report)``: 0 when it
  yields events and is healthy, 3 when it yields none or would be degraded or failed.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from core.config import ConfigError, SourceConfig, parse_sources
from core.model import Event, Health, as_datetime, evolve
from core.window import crawl_window
from famcal.crawl_stage import EXIT_DEGRADED, EXIT_OK
from pipeline.dedupe import new_uid
from pipeline.normalize import Rejected, normalize
from pipeline.tag import tag_event

# A check reads the source as it is now: no HTTP cache of earlier runs stands in for it.
CHECK_SETTINGS: dict[str, Any] = {"HTTPCACHE_ENABLED": False, "LOG_LEVEL": "WARNING"}


@dataclass(frozen=True, kw_only=True)
class CheckReport:
    source: SourceConfig
    status: Health
    error: str | None
    events: list[Event] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    rejected: dict[str, int] = field(default_factory=dict)


def _option_value(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def candidate(kind: str, url: str, options: Sequence[str]) -> SourceConfig:
    entry: dict[str, Any] = {"type": kind, "name": f"candidate {url}", "start_urls": [url]}
    for option in options:
        key, sep, text = option.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--option: {option!r} is not KEY=VALUE")
        *tables, name = key.strip().split(".")
        target = entry
        for table in tables:
            target = target.setdefault(table, {})
        target[name] = _option_value(text.strip())
    return parse_sources({"sources": {"candidate": entry}}, "--option")[0]


def check_source(
    source: SourceConfig,
    *,
    now: datetime,
    work_dir: Path,
    settings: dict[str, Any] | None = None,
) -> CheckReport:
    from spiders.crawl import crawl  # Scrapy loads only when a check runs

    start, end = crawl_window(now)
    result = crawl(
        [source],
        window_start=start,
        window_end=end,
        work_dir=work_dir,
        settings={**CHECK_SETTINGS, **(settings or {})},
    )[source.id]
    events: list[Event] = []
    rejected: Counter[str] = Counter()
    for raw in result.records():
        try:
            event = normalize(raw, uid=new_uid(raw.source_id, raw.record_id))
        except Rejected as exc:
            rejected[str(exc)] += 1
            continue
        events.append(evolve(event, tags=tag_event(event)))
    events.sort(key=lambda e: (as_datetime(e.start), e.title))
    status, error = result.status, result.error
    if status is Health.OK and not events:
        error = "no events"
    return CheckReport(
        source=source,
        status=status,
        error=error,
        events=events,
        # The crawl's problems (pages not fetched, budgets, repairs) with its skips (#14).
        skipped=dict(Counter(result.skipped) + Counter(result.problems)),
        rejected=dict(rejected),
    )


def _when(event: Event) -> str:
    if event.all_day:
        return f"{event.start.isoformat()[:10]} ganztägig"
    return as_datetime(event.start).strftime("%Y-%m-%d %H:%M")


def _tags(event: Event) -> str:
    tags = event.tags
    if tags is None:
        return ""
    words = ["familie" if tags.family else "nicht familie"]
    words += [g.value for g in tags.age_groups]
    words += [t.value for t in tags.topics] + [a.value for a in tags.audiences]
    if tags.free:
        words.append("kostenlos")
    if tags.status.value != "scheduled":
        words.append(tags.status.value)
    return ", ".join(words)


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{reason} ({n})" for reason, n in sorted(counts.items()))


def report_lines(report: CheckReport) -> Iterator[str]:
    source = report.source
    yield f"{source.id} ({source.type.value}): {', '.join(source.start_urls)}"
    for event in report.events:
        district = event.tags.district.value if event.tags and event.tags.district else "-"
        place = event.location.one_line() or "-"
        yield f"  {_when(event)}  {event.title}"
        yield f"      place: {place} · district: {district} · tags: {_tags(event)}"
    if report.skipped:
        yield f"skipped: {_counts(report.skipped)}"
    if report.rejected:
        yield f"rejected: {_counts(report.rejected)}"
    yield f"{len(report.events)} events"
    yield f"health: {report.status.value}" + (f" — {report.error}" if report.error else "")


def exit_status(report: CheckReport) -> int:
    return EXIT_OK if report.events and report.status is Health.OK else EXIT_DEGRADED
