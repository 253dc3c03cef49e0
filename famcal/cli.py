"""The ``famcal`` command line (contract.md): a thin layer over ``famcal.run``.

Contract: commands run, crawl, process, publish, tag, demo, serve, sources; shared options
``--sources --db --out --now``; exit status 0 (all healthy), 3 (published, a source failed
or was degraded), 1 (nothing could be published), 2 (bad usage or configuration, with one
line naming the file and key). ``sources`` is in ``famcal.cli_sources``.

run, crawl, process, publish and demo hold the run lock (``core.lock``) on ``<db>.lock``:
with another holder they wait up to ``--wait`` seconds (default 0), then say who holds it
and exit 1 (``famcal.cli_support``). The clock is read in the command line (here and in
``famcal.cli_support``) and nowhere below. ``run`` writes its
structured log to ``<db dir>/logs/run-<id>.jsonl`` and, on a terminal only, shows progress;
otherwise only warnings and errors reach stderr (cron mails).
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from core.gctune import tune_gc
from famcal import __version__
from famcal.cli_sources import sources
from famcal.cli_support import (
    crawl_settings,
    locked,
    now_or_clock,
    opened,
    read_sources,
    setup_logging,
)
from famcal.options import out_option, parse_setting, shared_options


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="famcal")
def main() -> None:
    """famcal: the Familienkalender Hannover pipeline.

    Crawls the sources of a sources file, tags and merges their events and publishes
    calendar feeds (ICS, JSON Feed), the family site, reports for the city and a health report.

    Example: famcal run --sources data/sources.toml --out public/
    """
    tune_gc()  # a batch process of many long-lived objects: see core.gctune


@main.command()
@shared_options
@click.option(
    "--max-seconds",
    type=click.FloatRange(min=1),
    default=1800,
    show_default=True,
    help="Bound on the whole run; sources still crawling then are cut (degraded).",
)
@click.pass_context
def run(
    ctx: click.Context,
    sources_path: Path,
    db_path: Path,
    out_dir: Path,
    now: datetime | None,
    base_url: str | None,
    settings: tuple[str, ...],
    wait: float,
    verbose: bool,
    max_seconds: float,
) -> None:
    """Crawl every source, process and publish (exit 0, 3, 1 or 2; see README).

    Holds the lock <db>.lock (see --wait); logs to <db dir>/logs/run-<id>.jsonl.

    Example: famcal run --wait 600 --now 2026-12-01T08:00:00+01:00
    """
    from spiders.crawl import prestarted

    # The crawl child loads Scrapy (about a second) while this process loads the stages
    # and opens the store: it is started first, and killed if no crawl comes.
    with prestarted():
        from famcal import run as runner
        from famcal.progress import Progress

        setup_logging(verbose)
        sources = read_sources(sources_path)
        with opened(db_path, wait, "famcal run") as store:
            try:
                status = runner.run(
                    store,
                    sources,
                    now=now_or_clock(now),
                    out_dir=out_dir,
                    work_dir=db_path.parent / "crawl",
                    settings=crawl_settings(db_path, settings),
                    base_url=base_url,
                    log_dir=db_path.parent / "logs",
                    progress=Progress(sys.stderr.isatty()),
                    # A program that embeds the command passes its hooks as the context object.
                    hooks=ctx.find_object(runner.Hooks) or runner.Hooks(),
                    max_seconds=max_seconds,
                )
            except Exception as exc:
                logging.getLogger("famcal").exception("run failed")
                click.echo(f"famcal: error: nothing published: {exc}", err=True)
                sys.exit(1)
    sys.exit(status)


@main.command()
@click.argument("source_ids", nargs=-1)
@shared_options
def crawl(
    source_ids: tuple[str, ...],
    sources_path: Path,
    db_path: Path,
    out_dir: Path,
    now: datetime | None,
    base_url: str | None,
    settings: tuple[str, ...],
    wait: float,
    verbose: bool,
) -> None:
    """Crawl the sources (all, or the ids given) and store their records.

    Example: famcal crawl hannover-de
    """
    from famcal import run as runner

    setup_logging(verbose)
    sources = read_sources(sources_path)
    unknown = set(source_ids) - {s.id for s in sources}
    if unknown:
        click.echo(f"famcal: error: {sources_path}: no source {sorted(unknown)[0]!r}", err=True)
        sys.exit(2)
    chosen = [s for s in sources if not source_ids or s.id in source_ids]
    with opened(db_path, wait, "famcal crawl") as store:
        outcomes = runner.crawl(
            store,
            chosen,
            now=now_or_clock(now),
            work_dir=db_path.parent / "crawl",
            settings=crawl_settings(db_path, settings),
        )
    status = runner.exit_status(outcomes)
    for outcome in outcomes.values():
        click.echo(
            f"{outcome.id}: {outcome.status.value}, {outcome.events} events"
            + (f" — {outcome.error}" if outcome.error else "")
        )
    sys.exit(status)


@main.command()
@shared_options
def process(
    sources_path: Path,
    db_path: Path,
    out_dir: Path,
    now: datetime | None,
    base_url: str | None,
    settings: tuple[str, ...],
    wait: float,
    verbose: bool,
) -> None:
    """Normalize, tag, merge and track the stored records.

    Example: famcal process --now 2026-12-01T08:00:00+01:00
    """
    from famcal import run as runner

    setup_logging(verbose)
    sources = read_sources(sources_path)
    with opened(db_path, wait, "famcal process") as store:
        report = runner.process(store, sources, now=now_or_clock(now))
    click.echo(
        f"{report.records} records → {report.events} events "
        f"({report.merged} merged, {sum(report.rejected.values())} rejected)"
    )


@main.command()
@shared_options
def publish(
    sources_path: Path,
    db_path: Path,
    out_dir: Path,
    now: datetime | None,
    base_url: str | None,
    settings: tuple[str, ...],
    wait: float,
    verbose: bool,
) -> None:
    """Write the feeds, the family site, the reports and health.json from the events.

    Example: famcal publish --out public/
    """
    from famcal import run as runner

    setup_logging(verbose)
    with opened(db_path, wait, "famcal publish") as store:
        report = runner.publish(store, now=now_or_clock(now), out_dir=out_dir, base_url=base_url)
    click.echo(
        f"{len(report.feeds)} feeds, {len(report.written)} files written, "
        f"{report.feeds.get('familie', 0)} family events"
    )


@main.command()
@click.argument("file", type=click.File("r", encoding="utf-8"), default="-")
def tag(file: Any) -> None:
    """Tag JSON lines (docs/tags.md) from FILE or stdin; write JSON lines to stdout.

    Pure: no database, no network. A line that is not valid JSON gives an error on stderr
    naming its line number, and the rest goes on.

    Example: echo '{"title": "Kindertheater ab 4"}' | famcal tag
    """
    from pipeline.tag import tag_record

    failures = 0
    for number, line in enumerate(file, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise ValueError("not a JSON object")
        except ValueError as exc:
            failures += 1
            click.echo(f"famcal tag: line {number}: invalid JSON: {exc}", err=True)
            continue
        click.echo(json.dumps(tag_record(record), ensure_ascii=False))
    sys.exit(1 if failures else 0)


@main.command(name="eval")
@click.argument("gold", type=click.File("r", encoding="utf-8"))
def eval_(gold: Any) -> None:
    """Measure the tagger on a hand-labelled gold set (JSON lines with a "gold" object).

    Prints precision, recall and F1 per tag (accuracy for single-valued tags) and lists
    every disagreement with the reasons the tagger gave. Pure: no database, no network.

    Example: famcal eval ../shared/data/gold-dev.jsonl
    """
    from pipeline.evaluate import evaluate, format_report

    lines = []
    for number, line in enumerate(gold, start=1):
        if not line.strip():
            continue
        try:
            lines.append(json.loads(line))
        except ValueError as exc:
            click.echo(f"famcal eval: line {number}: invalid JSON: {exc}", err=True)
            sys.exit(2)
    click.echo(format_report(evaluate(lines)))


@main.command()
@shared_options
@click.option(
    "--port",
    type=int,
    default=8739,
    show_default=True,
    help="Port the snapshot is served on (its URLs, and so the events' UIDs, contain it).",
)
@click.option(
    "--keep-serving",
    is_flag=True,
    help="After the run, serve the published folder on http://127.0.0.1:8080/ until Ctrl-C.",
)
def demo(
    sources_path: Path,
    db_path: Path,
    out_dir: Path,
    now: datetime | None,
    base_url: str | None,
    settings: tuple[str, ...],
    wait: float,
    verbose: bool,
    port: int,
    keep_serving: bool,
) -> None:
    """Run the pipeline over the bundled recorded snapshot, offline.

    Serves data/demo/site on 127.0.0.1 for the length of the run, crawls it with the real
    spiders and publishes to --out. --now defaults to the snapshot's recording time.

    Example: famcal demo --out public/
    """
    from famcal import demo as demo_module

    setup_logging(verbose)
    with locked(db_path, wait, "famcal demo"):
        status = demo_module.run_demo(
            db_path=db_path,
            out_dir=out_dir,
            now=now,
            base_url=base_url,
            settings=dict(parse_setting(s) for s in settings),
            sources_path=None if sources_path == Path("data/sources.toml") else sources_path,
            port=port,
        )
    if keep_serving and status in (0, 3):
        from famcal.serve import serve_forever

        # zeit= answers at the demo's --now (when given), the day its events are on.
        clock = (lambda: now) if now else (lambda: datetime.now(UTC))
        serve_forever(out_dir, host="127.0.0.1", port=8080, clock=clock)
    sys.exit(status)


@main.command()
@out_option("Published folder to serve.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
def serve(out_dir: Path, host: str, port: int) -> None:
    """Serve the published folder over HTTP (ETag/304, text/calendar; charset=utf-8).

    Example: famcal serve --port 8080
    """
    from famcal.serve import serve_forever

    serve_forever(out_dir, host=host, port=port, clock=lambda: datetime.now(UTC))


main.add_command(sources)
