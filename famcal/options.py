"""The options every pipeline command of ``famcal.cli`` shares, and their value types.

Contract: ``shared_options`` adds ``--sources --db --out --now --base-url --set --wait -v``
(``sources_option``, ``db_option`` and ``out_option`` are its first three, for commands that
take only those);
``--now`` reads ISO 8601 (a naive time is Europe/Berlin's); ``parse_setting("KEY=VALUE")``
reads a ``--set`` value as JSON when it is JSON, else as text.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from core.model import BERLIN

F = TypeVar("F", bound=Callable[..., Any])


class NowType(click.ParamType):  # type: ignore[type-arg] # generic only in newer click stubs
    name = "ISO8601"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            self.fail(f"{value!r} is not an ISO 8601 date and time", param, ctx)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=BERLIN)


def parse_setting(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise click.BadParameter(f"{text!r} is not KEY=VALUE")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


# The sources file and the database, as every command that reads them takes them.
sources_option = click.option(
    "--sources",
    "sources_path",
    type=click.Path(path_type=Path),
    default=Path("data/sources.toml"),
    show_default=True,
    help="Sources file (TOML).",
)
db_option = click.option(
    "--db",
    "db_path",
    type=click.Path(path_type=Path),
    default=Path("data/events.db"),
    show_default=True,
    help="SQLite database.",
)


def out_option(help: str = "Published folder.") -> Callable[[F], F]:
    """The published folder, as the pipeline commands and ``famcal serve`` take it."""
    return click.option(
        "--out",
        "out_dir",
        type=click.Path(path_type=Path),
        default=Path("public"),
        show_default=True,
        help=help,
    )


def shared_options(func: F) -> F:
    """--sources --db --out --now (and --set for crawl settings) on every pipeline command."""

    @sources_option
    @db_option
    @out_option()
    @click.option(
        "--now",
        type=NowType(),
        default=None,
        help="The moment every date decision uses (default: the current time).",
    )
    @click.option(
        "--base-url",
        default=None,
        help="Public https address of the published folder (for subscribe links).",
    )
    @click.option(
        "--set",
        "settings",
        multiple=True,
        metavar="KEY=VALUE",
        help="Override a Scrapy setting for this run (e.g. DOWNLOAD_TIMEOUT=10).",
    )
    @click.option(
        "--wait",
        type=click.FloatRange(min=0),
        default=0.0,
        show_default=True,
        metavar="SECONDS",
        help="When another famcal run holds the database's lock, wait this long for it.",
    )
    @click.option("-v", "--verbose", is_flag=True, help="Log progress to stderr.")
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
