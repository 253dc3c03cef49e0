"""What the commands of ``famcal.cli`` share: their logging, the run lock and the store, the
clock, the sources file and the crawl's settings.

Contract: ``setup_logging(verbose)`` sends warnings and errors (with ``verbose``, INFO too) to
stderr and INFO to the loggers; ``opened(db, wait, command)`` is the store under the run lock
(``core.lock``; another holder after ``wait`` seconds: its holder is named and the command
exits 1), closed at the end; ``locked`` is the lock alone and ``open_store`` the store alone;
``now_or_clock(--now)`` is the moment given, else the clock's; ``read_sources(path)`` exits
2 with the file and key named on a bad sources file; ``crawl_settings(db, --set …)`` puts the
HTTP cache next to the database and takes ``FAMCAL_USER_AGENT``.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from core.config import ConfigError, SourceConfig, load_sources
from core.model import BERLIN
from famcal.options import parse_setting


def setup_logging(verbose: bool) -> None:
    # The handler decides what reaches stderr (cron mails only warnings and errors); the
    # loggers pass INFO on, for the run's structured log.
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.INFO if verbose else logging.WARNING)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler])


@contextmanager
def locked(db_path: Path, wait: float, command: str) -> Iterator[None]:
    from core.lock import LockBusy, run_lock

    since = datetime.now(BERLIN).isoformat(timespec="seconds")
    with ExitStack() as stack:
        try:
            stack.enter_context(run_lock(db_path, wait=wait, since=since, command=command))
        except LockBusy as exc:
            click.echo(f"famcal: {exc}", err=True)
            sys.exit(1)
        yield


def now_or_clock(value: datetime | None) -> datetime:
    return value if value is not None else datetime.now(BERLIN)


def read_sources(path: Path) -> list[SourceConfig]:
    try:
        return load_sources(path)
    except ConfigError as exc:
        click.echo(f"famcal: error: {exc}", err=True)
        sys.exit(2)


def crawl_settings(db_path: Path, settings: tuple[str, ...]) -> dict[str, Any]:
    import os

    result: dict[str, Any] = {"HTTPCACHE_DIR": str((db_path.parent / "httpcache").resolve())}
    if agent := os.environ.get("FAMCAL_USER_AGENT"):
        result["USER_AGENT"] = agent
    result.update(dict(parse_setting(s) for s in settings))
    return result


@contextmanager
def opened(db_path: Path, wait: float, command: str) -> Iterator[Any]:
    """The store, under the run lock, closed at the end."""
    with locked(db_path, wait, command):
        store = open_store(db_path)
        try:
            yield store
        finally:
            store.close()


def open_store(db_path: Path) -> Any:
    from core.store import Store

    return Store(db_path)
