"""``famcal sources``: the sources and their last health, and ``sources check`` (try one
source once: what the pipeline would make of it, nothing stored or published)."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click

from core.config import ConfigError, load_sources
from famcal.cli_support import crawl_settings, now_or_clock, open_store, read_sources
from famcal.options import NowType, db_option, sources_option


@click.group(invoke_without_command=True)
@sources_option
@db_option
@click.pass_context
def sources(ctx: click.Context, sources_path: Path, db_path: Path) -> None:
    """List the sources and their last health (or: sources check, to try one).

    Example: famcal sources --db data/events.db
    """
    ctx.obj = sources_path
    if ctx.invoked_subcommand is not None:
        return
    configured = read_sources(sources_path)
    store = open_store(db_path)
    for source in configured:
        health = store.source_health(source.id)
        if health is None or health.status is None:
            click.echo(f"{source.id:24} {source.type.value:12} never run    {source.name}")
            continue
        recent = ",".join(str(h.get("events")) for h in health.history[:5])
        problems = "".join(
            f"  {label} {_counted(counts)}"
            for label, counts in (
                ("skipped", health.skipped),
                ("rejected", health.rejected),
                ("repaired", health.repaired),
            )
            if counts
        )
        click.echo(
            f"{source.id:24} {source.type.value:12} {health.status.value:8} "
            f"{health.events:6} events  last success {health.last_success or '-'}  "
            f"recent [{recent}]" + problems + (f"  error: {health.error}" if health.error else "")
        )


def _counted(counts: dict[str, int]) -> str:
    return "{" + ", ".join(f"{reason}: {n}" for reason, n in sorted(counts.items())) + "}"


@sources.command("check")
@click.argument("source_id", required=False)
@click.option("--type", "kind", default=None, help="Source type of a candidate (with --url).")
@click.option("--url", default=None, help="Start URL of a candidate.")
@click.option("--option", "options", multiple=True, metavar="KEY=VALUE", help="select.item=…")
@click.option("--now", type=NowType(), default=None, help="The moment (default: now).")
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE", help="Scrapy setting.")
@click.option("--sources", "own_sources", type=click.Path(path_type=Path), default=None)
@click.pass_obj
def sources_check(
    sources_path: Path,
    own_sources: Path | None,
    source_id: str | None,
    kind: str | None,
    url: str | None,
    options: tuple[str, ...],
    now: datetime | None,
    settings: tuple[str, ...],
) -> None:
    """Fetch one source once and show what the pipeline would make of it (exit 0, 3 or 2).

    Nothing is stored or published. Example: famcal sources check --type html
    --url https://fz.example.org/termine/ --option select.item=article.termin
    --option select.title=h3 --option select.start=time::attr(datetime)
    """
    import tempfile

    from famcal import check

    sources_path = own_sources or sources_path
    if (source_id is None) == (kind is None or url is None) or (source_id and (kind or url)):
        click.echo("famcal: error: give SOURCE_ID, or --type and --url", err=True)
        sys.exit(2)
    try:
        source = (
            check.candidate(kind or "", url or "", options)
            if source_id is None
            else next(s for s in load_sources(sources_path) if s.id == source_id)
        )
    except ConfigError as exc:
        click.echo(f"famcal: error: {exc}", err=True)
        sys.exit(2)
    except StopIteration:
        click.echo(f"famcal: error: {sources_path}: no source {source_id!r}", err=True)
        sys.exit(2)
    with tempfile.TemporaryDirectory(prefix="famcal-check-") as scratch:
        report = check.check_source(
            source,
            now=now_or_clock(now),
            work_dir=Path(scratch),
            # The crawl's own settings (User-Agent…), its scratch in the temporary folder.
            settings=crawl_settings(Path(scratch) / "check.db", settings),
        )
    for line in check.report_lines(report):
        click.echo(line)
    sys.exit(check.exit_status(report))
