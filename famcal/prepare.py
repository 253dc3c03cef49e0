"""What a run's process stage can do while the crawl runs (issue #20): while the crawl child
parses, the parent only waits and one core is free.

Contract: ``Preparer(work_dir, sources, since=…)``; ``with preparer.running():`` around the
crawl runs one thread that first warms up what the first process needs (the tagging rules
compiled, the learned model and dedupe's configuration loaded, the code and data digests
made) and then reads each source's record lines as the crawl child writes them
(``spiders.worker``'s ``<work_dir>/<id>.jsonl``, only files written after the block began),
normalizes each record (``pipeline.normalize``, with a placeholder uid) and tags each
distinct rule input (``pipeline.tag.rule_tags``). Leaving the block stops the thread between
two records and joins it, so no thread is left when the caller stores the records or forks
(``core.parallel`` forks only without other threads). ``result()`` is the ``Prepared`` the
process stage takes (``famcal.process_stage``): the rule tags by ``rule_key`` and, by
(source id, record id), the ``record_state`` of the line a record was normalized from with
the normalized event (or the rejection's reason).

Why it cannot change a result: each entry is a pure function of what it is keyed by — rule
tags of the rules' input, a normalization of the record's stored text — and the process
stage takes a normalization only when the stored record's state is the one it was made of
(the uid set afterwards is the only thing ``normalize`` takes besides the record). A source
that fails, is degraded, is cut by a budget or keeps its stored records (unchanged) only
wastes the work done on its lines. A line that cannot be read or normalized unexpectedly is
left to the process stage, which meets it as it would without this.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from time import time_ns
from typing import BinaryIO

from core.config import SourceConfig
from core.model import BERLIN, Event, Location, RawEvent, Tags
from core.paths import code_digest, data_digest
from famcal.process_plan import record_state
from pipeline.dedupe import title_key
from pipeline.normalize import Rejected, normalize
from pipeline.tag import rule_key, rule_tags

log = logging.getLogger("famcal")

PLACEHOLDER_UID = "prepared@famcal-hannover"  # replaced by the record's own before any use
POLL_SECONDS = 0.05


@dataclass(kw_only=True)
class Prepared:
    tags: dict[str, Tags] = field(default_factory=dict)
    normalized: dict[tuple[str, str], tuple[str, Event | str]] = field(default_factory=dict)


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
    def __init__(
        self, work_dir: Path, sources: Sequence[SourceConfig], *, since: str | None = None
    ) -> None:
        self.work_dir = work_dir
        self.source_ids = [s.id for s in sources]
        self.since = since
        self.prepared = Prepared()
        self._stop = threading.Event()
        self._started_ns = 0

    @contextmanager
    def running(self) -> Iterator[None]:
        self._started_ns = time_ns()
        thread = threading.Thread(target=self._run, name="famcal-prepare", daemon=True)
        thread.start()
        try:
            yield
        finally:
            self._stop.set()
            thread.join()

    def result(self) -> Prepared:
        return self.prepared

    def _run(self) -> None:
        try:
            warm_up()
        except Exception:  # the process stage loads the same and reports what fails
            log.debug("warm-up failed", exc_info=True)
            return
        files: dict[str, _Lines] = {}
        while not self._stop.is_set():
            found = False
            for source_id in self.source_ids:
                lines = files.get(source_id)
                if lines is None:
                    lines = _Lines.open(self.work_dir / f"{source_id}.jsonl", self._started_ns)
                    if lines is None:
                        continue
                    files[source_id] = lines
                for line in lines.complete():
                    found = True
                    self._prepare(source_id, line)
                    if self._stop.is_set():
                        break
                if self._stop.is_set():
                    break
            if not found:
                self._stop.wait(POLL_SECONDS)
        for lines in files.values():
            lines.close()

    def _prepare(self, source_id: str, line: str) -> None:
        try:
            data = json.loads(line)
            if self.since is not None and str(data["start"])[:10] < self.since:
                return  # outside the window: the process stage does not read it
            key = (source_id, str(data["record_id"]))
            state = record_state(line, 0)
            try:
                event = normalize(RawEvent.from_dict(data), uid=PLACEHOLDER_UID)
            except Rejected as exc:
                self.prepared.normalized[key] = (state, str(exc))
                return
            tag_key = rule_key(event)
            if tag_key not in self.prepared.tags:
                self.prepared.tags[tag_key] = rule_tags(event)
            self.prepared.normalized[key] = (state, event)
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
            # An earlier crawl's file that the crawl has not removed yet.
            if os.fstat(handle.fileno()).st_mtime_ns < since_ns:
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
