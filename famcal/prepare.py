"""What a run's process stage can do while the crawl runs (issue #20): while the crawl child
parses, the parent only waits and one core is free.

Contract: ``with Preparer(work_dir, sources, since=…) as preparer:`` around a run's stages;
``with preparer.running():`` around the crawl child's run forks one helper process (when
this process may fork: no other thread) and, once a source has written records, warms this
process up in a thread joined on leaving (the tagging rules compiled, the learned model and
dedupe's configuration loaded, the code and data digests made: what the process stage's
forked workers then inherit; a crawl that writes no record costs no warm-up). The helper
reads each source's record lines as the crawl child writes
them (``spiders.worker``'s ``<work_dir>/<id>.jsonl``, only files written after it began,
complete lines only), normalizes each record (placeholder uid) and tags each distinct rule
input (``pipeline.tag.rule_tags``), at a lower priority (it is to use an idle core, not to
slow the crawl child or the run) — through the crawl stage's storing and the process
stage's normalizing, until ``preparer.tags()`` stops it and takes its rule tags by
``pipeline.tag.rule_key`` (the process stage calls it just before it forks its tagging
workers). ``known``: the rule keys the tag cache holds (``Store.tag_keys``), which it does
not tag again. Leaving the ``Preparer`` ends a helper whose tags nobody took; a helper
whose run died ends by itself. ``warm_up()`` is the warm-up alone.

Why it cannot change a result: a rule tag is a pure function of its key (the rules' input
and the rules' digest), so the process stage may take it for any event with that key,
whatever record the helper read it from — lines of a source that then fails, is degraded or
cut by a budget, keeps its stored records, or sent a cut line. A line that cannot be read
or tagged unexpectedly is skipped (the process stage meets it as it would without this); a
helper that dies leaves no tags (a warning), and the process stage tags everything.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import threading
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from time import time_ns
from typing import BinaryIO

from core.config import SourceConfig
from core.model import BERLIN, Location, RawEvent, Tags
from core.paths import code_digest, data_digest
from pipeline.dedupe import title_key
from pipeline.normalize import Rejected, normalize
from pipeline.tag import rule_key, rule_tags

log = logging.getLogger("famcal")

PLACEHOLDER_UID = "prepared@famcal-hannover"  # replaced by the record's own before any use
POLL_SECONDS = 0.05
MTIME_MARGIN_NS = 50_000_000
HELPER_NICENESS = 10


def warm_up() -> None:
    """Load and compile what processing uses, once per process (all of it cached by the
    modules themselves): the results of processing do not depend on whether this ran."""
    code_digest("core", "pipeline", "famcal")
    data_digest()
    sample = normalize(
        RawEvent(
            source_id="warm-up",
            record_id="warm-up",
            title="Kindertheater für Kinder ab 4 Jahren",
            start="2026-12-06T11:00:00",
            description="<p>Eintritt frei</p>",
            location=Location(name="Freizeitheim Linden", postal_code="30449"),
        ),
        uid=PLACEHOLDER_UID,
    )
    rule_key(sample)
    rule_tags(sample)
    title_key(sample.title)
    datetime(2026, 12, 6, tzinfo=BERLIN).isoformat()


class Preparer:
    """See the module's contract. A context manager: leaving it ends the helper process."""

    def __init__(
        self,
        work_dir: Path,
        sources: Sequence[SourceConfig],
        *,
        since: str | None = None,
        known: Collection[str] = frozenset(),
    ) -> None:
        self.work_dir = work_dir
        self.source_ids = [s.id for s in sources]
        self.since = since
        self.known = known  # rule keys the tag cache has: not tagged again
        self._helper: BaseProcess | None = None
        self._conn: Connection | None = None
        self._tags: dict[str, Tags] | None = None

    @contextmanager
    def running(self) -> Iterator[None]:
        """Around the crawl child's run: starts the helper (when a process may fork) and
        warms this process up in a thread that is joined on leaving."""
        if self._helper is None and self._tags is None and _may_fork():
            context = multiprocessing.get_context("fork")
            mine, theirs = context.Pipe()
            self._helper = context.Process(
                target=_help,
                args=(theirs, self, time_ns(), os.getpid()),
                name="famcal-prepare",
                daemon=True,
            )
            self._helper.start()
            theirs.close()
            self._conn = mine
        crawled = threading.Event()
        warming = threading.Thread(
            target=self._warm_when_written,
            args=(time_ns(), crawled),
            name="famcal-warm-up",
            daemon=True,
        )
        warming.start()
        try:
            yield
        finally:
            crawled.set()
            warming.join()

    def _warm_when_written(self, started_ns: int, crawled: threading.Event) -> None:
        """Warm up once a source has written records (a crawl that finds every source
        unchanged writes none, and its run processes nothing)."""
        while not crawled.is_set():
            for source_id in self.source_ids:
                try:
                    found = (self.work_dir / f"{source_id}.jsonl").stat()
                except OSError:
                    continue
                if found.st_size and found.st_mtime_ns >= started_ns - MTIME_MARGIN_NS:
                    _warm_quietly()
                    return
            crawled.wait(POLL_SECONDS)

    def tags(self, *, drain: bool = False) -> dict[str, Tags]:
        """Stop the helper and take its rule tags by rule key (once; empty when there is no
        helper or it failed). ``drain``: after it has prepared every complete line written
        so far (for tests; a run takes what is ready)."""
        if self._tags is None:
            self._tags = {}
            if self._conn is not None:
                try:
                    self._conn.send("drain" if drain else "stop")
                    self._tags = self._conn.recv()
                    log.info("the crawl window prepared %d rule tags", len(self._tags))
                except (EOFError, OSError):  # it died: nothing prepared
                    log.warning("the crawl window's preparation was lost")
            self.close()
        return self._tags

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._helper is not None:
            # Done after sending its tags; else no longer wanted (nothing of it is kept).
            self._helper.join(timeout=0 if self._tags is None else 5)
            if self._helper.is_alive():
                self._helper.kill()
                self._helper.join()
            self._helper = None

    def __enter__(self) -> Preparer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _may_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def _warm_quietly() -> None:
    try:
        warm_up()
    except Exception:  # the process stage loads the same and reports what fails
        log.debug("warm-up failed", exc_info=True)


def _help(conn: Connection, preparer: Preparer, started_ns: int, parent: int) -> None:
    """The helper process: prepare lines until told to "stop" (or, told to "drain", until
    no complete line is left), then send the tags."""
    # Nothing of the run's is kept open here (its lock file above all: a flock lasts while
    # any fork holds it, and a killed run's next one must get it at once).
    keep = conn.fileno()
    os.closerange(3, keep)
    os.closerange(keep + 1, os.sysconf("SC_OPEN_MAX"))
    tags: dict[str, Tags] = {}
    draining = False
    # Only what is otherwise idle: the crawl child and the run itself come first.
    os.nice(HELPER_NICENESS)

    def told() -> bool:  # True: stop now
        nonlocal draining
        if conn.recv() == "stop":
            return True
        draining = True
        return False

    files: dict[str, _Lines] = {}  # the first line read compiles the rules here
    while True:
        found = False
        for source_id in preparer.source_ids:
            lines = files.get(source_id)
            if lines is None:
                lines = _Lines.open(preparer.work_dir / f"{source_id}.jsonl", started_ns)
                if lines is None:
                    continue
                files[source_id] = lines
            try:
                ready = lines.complete()
            except OSError:
                continue
            for line in ready:
                found = True
                if os.getppid() != parent:
                    # The run is gone: end at once (a fork shares the run's lock file).
                    os._exit(0)
                _prepare(line, tags, since=preparer.since, known=preparer.known)
                if not draining and conn.poll() and told():
                    return _send(conn, tags)
        if os.getppid() != parent:
            os._exit(0)  # the run is gone: nobody takes the tags
        if draining and not found:
            return _send(conn, tags)
        if not draining and conn.poll(0 if found else POLL_SECONDS) and told():
            return _send(conn, tags)


def _send(conn: Connection, tags: dict[str, Tags]) -> None:
    conn.send(tags)
    conn.close()


def _prepare(
    line: str, tags: dict[str, Tags], *, since: str | None, known: Collection[str]
) -> None:
    try:
        data = json.loads(line)
        if since is not None and str(data["start"])[:10] < since:
            return  # outside the window: the process stage does not read it
        try:
            event = normalize(RawEvent.from_dict(data), uid=PLACEHOLDER_UID)
        except Rejected:
            return
        key = rule_key(event)
        if key not in tags and key not in known:
            tags[key] = rule_tags(event)
    except Exception:  # left to the process stage, which meets it as it would anyway
        log.debug("not prepared: %s", line[:200], exc_info=True)


@dataclass(kw_only=True)
class _Lines:
    """The complete lines of a file another process is still writing."""

    handle: BinaryIO
    rest: bytes = b""

    @classmethod
    def open(cls, path: Path, since_ns: int) -> _Lines | None:
        try:
            handle = path.open("rb")
        except OSError:
            return None
        try:
            # An earlier crawl's file that the crawl has not removed yet (file times come
            # from a coarser clock than time_ns: a margin of a few of its ticks).
            if os.fstat(handle.fileno()).st_mtime_ns < since_ns - MTIME_MARGIN_NS:
                handle.close()
                return None
        except OSError:
            handle.close()
            return None
        return cls(handle=handle)

    def complete(self) -> list[str]:
        chunk = self.handle.read()
        if not chunk:
            return []
        data = self.rest + chunk
        end = data.rfind(b"\n")
        if end < 0:
            self.rest = data
            return []
        self.rest = data[end + 1 :]
        return [line.decode("utf-8") for line in data[:end].split(b"\n") if line]

    def close(self) -> None:
        self.handle.close()
