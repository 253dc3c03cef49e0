"""Run the crawl of many sources and collect what each one gave.

Contract: ``crawl(sources, window_start=…, window_end=…, work_dir=…, settings=…)`` runs all
spiders in one Scrapy process — a *child* process, because Twisted's reactor cannot be
restarted and a crashing crawl must not take the caller down — and returns one
``CrawlResult`` per source: its health (ok, degraded or failed, ``spiders.worker``), the
first error, problem and skip counts, and the ``RawEvent`` records it yielded (read back
from the JSON lines the worker wrote). ``deadline_seconds`` bounds the crawl: every source
stops crawling by then (degraded, the run's time budget named); a worker still running
``KILL_GRACE`` seconds later is killed, and the sources it had not finished are degraded
the same way, their stored events untouched. A source
for which the worker left no result (the worker died) is failed with the worker's last words;
the result files of an earlier (perhaps killed) crawl are removed first, so they cannot be
taken for this one's. ``echo``, when given, receives Scrapy's periodic stats lines
("Crawled N pages …") as they come, for the progress shown on a terminal.
Inside ``prestarted()`` the worker is started at the block's start and loads Scrapy (about
a second) while the caller opens its store; the block's first ``crawl`` hands it the job,
and a worker no crawl took is killed when the block ends (it has written nothing). A
worker that died meanwhile is replaced by a new one: the crawl is the same either way.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from core.config import BUDGET_KEYS, SourceConfig
from core.model import Health, RawEvent

KILL_GRACE = 20.0  # seconds a worker gets past the deadline to close its spiders


@dataclass(frozen=True, kw_only=True)
class CrawlResult:
    source_id: str
    status: Health
    error: str | None
    records_path: Path | None
    count: int
    skipped: dict[str, int] = field(default_factory=dict)
    problems: dict[str, int] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    # The source sent exactly what its last healthy crawl read (no records were written:
    # the stored ones stand), and the digests of what was read this time.
    unchanged: bool = False
    digests: dict[str, str] = field(default_factory=dict)

    def lines(self) -> Iterator[str]:
        """The records as the worker wrote them: one JSON object per line."""
        if self.records_path is None or not self.records_path.exists():
            return
        with self.records_path.open(encoding="utf-8") as lines:
            yield from lines

    def records(self) -> Iterator[RawEvent]:
        if self.records_path is None or not self.records_path.exists():
            return
        with self.records_path.open(encoding="utf-8") as lines:
            for line in lines:
                yield RawEvent.from_dict(json.loads(line))


# The worker ``prestarted`` started, until a crawl takes it.
_spare: list[subprocess.Popen[bytes]] = []
# What the worker is told instead of a job's path: read the path from stdin (spiders.worker).
FROM_STDIN = "-"


def _worker(job: str, **pipes: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "spiders.worker", job],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        **pipes,
    )


@contextmanager
def prestarted() -> Iterator[None]:
    """The worker started now, for this block's first ``crawl`` (see the module contract)."""
    child = _worker(FROM_STDIN, stdin=subprocess.PIPE)
    _spare.append(child)
    try:
        yield
    finally:
        if child in _spare:  # no crawl took it: it has written nothing, so it is killed
            _spare.remove(child)
            _kill(child)


def _hand(child: subprocess.Popen[bytes], job: str) -> bool:
    """Give a started worker its job's path; False if it is gone."""
    assert child.stdin is not None
    try:
        child.stdin.write(f"{job}\n".encode())
        child.stdin.close()
    except OSError:  # it died before reading (broken pipe)
        return False
    return True


def _take_worker(job_path: Path) -> subprocess.Popen[bytes]:
    """The started worker with this job, or a new one when there is none or it died."""
    while _spare:
        child = _spare.pop()
        if child.poll() is None and _hand(child, str(job_path)):
            return child
        _kill(child)
    return _worker(str(job_path))


def _kill(child: subprocess.Popen[bytes]) -> None:
    """End a started worker no crawl has (it has written nothing) and close its pipes."""
    child.kill()
    child.wait()
    for pipe in (child.stdin, child.stdout):
        if pipe is not None:
            # OSError: its unwritten bytes had nowhere to go (the child is gone).
            with suppress(OSError):
                pipe.close()


def source_to_dict(source: SourceConfig) -> dict[str, Any]:
    return {
        "id": source.id,
        "type": source.type.value,
        "name": source.name,
        "start_urls": list(source.start_urls),
        "download_delay": source.download_delay,
        "priority": source.priority,
        "categories": list(source.categories),
        "options": source.options,
        **{key: getattr(source, key) for key in BUDGET_KEYS},
    }


def crawl(
    sources: Sequence[SourceConfig],
    *,
    window_start: datetime,
    window_end: datetime,
    work_dir: Path,
    settings: dict[str, Any] | None = None,
    log_file: Path | None = None,
    echo: Callable[[str], None] | None = None,
    previous_digests: dict[str, dict[str, str]] | None = None,
    deadline_seconds: float | None = None,
) -> dict[str, CrawlResult]:
    work_dir.mkdir(parents=True, exist_ok=True)
    for source in sources:
        for stale in (f"{source.id}.result.json", f"{source.id}.jsonl"):
            (work_dir / stale).unlink(missing_ok=True)
    job = {
        "sources": [
            {**source_to_dict(s), "digests": (previous_digests or {}).get(s.id, {})}
            for s in sources
        ],
        "window_start": window_start.isoformat(),
        "window_end": window_end.isoformat(),
        "out_dir": str(work_dir),
        "settings": settings or {},
        "deadline_seconds": deadline_seconds,
    }
    job_path = work_dir / "job.json"
    job_path.write_text(json.dumps(job), encoding="utf-8")
    log_path = log_file or work_dir / "crawl.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with (
        log_path.open("wb") as log,
        _take_worker(job_path) as proc,
    ):
        assert proc.stdout is not None
        killer = None
        if deadline_seconds is not None:
            # A reactor blocked by one callback cannot close its spiders on time.
            killer = threading.Timer(deadline_seconds + KILL_GRACE, proc.kill)
            killer.daemon = True
            killer.start()
        for line in proc.stdout:
            log.write(line)
            if echo is not None and b"Crawled " in line:
                echo(line.decode("utf-8", "replace").strip())
        proc.wait()
        killed = killer is not None and not killer.is_alive() and proc.returncode < 0
        if killer is not None:
            killer.cancel()
    results: dict[str, CrawlResult] = {}
    for source in sources:
        result_path = work_dir / f"{source.id}.result.json"
        if result_path.exists():
            data = json.loads(result_path.read_text(encoding="utf-8"))
            results[source.id] = CrawlResult(
                source_id=source.id,
                status=Health(data["status"]),
                error=data.get("error"),
                records_path=work_dir / f"{source.id}.jsonl",
                count=int(data.get("count", 0)),
                skipped=dict(data.get("skipped") or {}),
                problems=dict(data.get("problems") or {}),
                stats=dict(data.get("stats") or {}),
                unchanged=bool(data.get("unchanged")),
                digests=dict(data.get("digests") or {}),
            )
        elif killed:
            results[source.id] = CrawlResult(
                source_id=source.id,
                status=Health.DEGRADED,
                error=f"budget run max_seconds: crawl stopped after {deadline_seconds:g} s",
                records_path=None,
                count=0,
                problems={"budget run max_seconds": 1},
            )
        else:
            results[source.id] = CrawlResult(
                source_id=source.id,
                status=Health.FAILED,
                error=f"crawler exited with status {proc.returncode}: {_tail(log_path)}",
                records_path=None,
                count=0,
            )
    return results


def _tail(path: Path, lines: int = 3) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return "no log"
    return " | ".join(text[-lines:])[:500] or "no output"
