"""Progress for a person at a terminal; nothing at all for cron.

Contract: ``Progress(enabled)`` — the command line passes ``sys.stderr.isatty()``. When
enabled, ``note(text)`` prints a line to stderr (Scrapy's periodic stats during the crawl,
each source's outcome) and ``bar(label, steps)`` shows a click progress bar whose
``advance(label)`` moves it one step (processing, then publishing). When disabled every
call does nothing, so a cron job mails only what goes wrong (warnings and errors).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click


class Progress:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def note(self, text: str) -> None:
        if self.enabled:
            click.echo(text, err=True)

    @contextmanager
    def bar(self, label: str, steps: int) -> Iterator[Callable[[str], None]]:
        done = 0

        def draw(step: str) -> None:
            width = 30
            filled = width * done // max(steps, 1)
            line = f"\r{label} [{'#' * filled}{'-' * (width - filled)}] {done}/{steps} {step}"
            click.echo(line.ljust(79), err=True, nl=False)

        def advance(step: str) -> None:
            nonlocal done
            done += 1
            if self.enabled:
                draw(step)

        if self.enabled:
            draw("")
        try:
            yield advance
        finally:
            if self.enabled:
                click.echo("", err=True)


QUIET = Progress(enabled=False)
