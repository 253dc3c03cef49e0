"""The child process of ``spiders.crawl``: runs every source's spider in one Scrapy process.

Contract: ``python -m spiders.worker JOB.json``, or ``python -m spiders.worker -``: started
ahead (``spiders.crawl.prestarted``), it loads Scrapy, then reads the job's path from stdin
(an empty stdin: it leaves, exit 0). For each source it writes
``<out_dir>/<id>.jsonl`` (one ``RawEvent`` per line, in the order yielded, alone or in a
``RecordBatch``) and, when the spider closes, ``<out_dir>/<id>.result.json`` with status
(failed: an error; degraded: a page not fetched or a budget hit; else ok), first error,
count, ``problems`` and skip counts and a few download statistics. Each source crawls for at
most ``min(max_seconds, the job's deadline_seconds)`` (Scrapy's ``CLOSESPIDER_TIMEOUT``);
running out is the ``max_seconds`` budget (or the run's, when that was the shorter). One
spider's exception is that source's error, not the run's. When its parent (the famcal run)
dies — even by SIGKILL — the worker ends within a second instead of crawling on as an
orphan that would write into the next run's folder. Spiders get ``<out_dir>/plain`` as
``memo_dir``, where the ics spider keeps what it read of each document (``spiders.ics``).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import IO, Any

# The HTTP download handler is imported here, near the top of the stack, not by the first
# crawler deep inside Twisted's callbacks: its module makes deprecated aliases that walk the
# caller's stack (``inspect.stack``), which cost 0.3 s of each crawl's start from there.
import scrapy.core.downloader.handlers.http11  # noqa: F401
from scrapy import signals
from scrapy.crawler import CrawlerProcess

from core.config import BUDGET_KEYS, SourceConfig
from core.gctune import tune_gc
from core.model import Health, RawEvent, SourceType
from spiders.base import RecordBatch, SourceSpider
from spiders.crawl import FROM_STDIN
from spiders.registry import source_spider
from spiders.settings import crawl_settings

_STATS = (
    "downloader/request_count",
    "downloader/response_count",
    "downloader/response_bytes",
    "httpcache/hit",
    "httpcache/miss",
    "httpcache/revalidate",
    "httpcache/store",
    "downloader/response_status_count/304",
    "robotstxt/forbidden",
)


class _SourceRecorder:
    """Writes one source's items and, at close, its result."""

    def __init__(self, source: SourceConfig, out_dir: Path, *, seconds: float) -> None:
        self.source = source
        self.out_dir = out_dir
        self.seconds = seconds
        self.file: IO[str] = (out_dir / f"{source.id}.jsonl").open("w", encoding="utf-8")
        self.count = 0
        self.exceptions: list[str] = []

    def item_scraped(self, item: Any) -> None:
        events = item.events if isinstance(item, RecordBatch) else (item,)
        for event in events:
            if isinstance(event, RawEvent):
                self.file.write(json.dumps(event.to_dict(), ensure_ascii=False) + "\n")
                self.count += 1

    def spider_error(self, failure: Any, response: Any) -> None:
        url = getattr(response, "url", "?")
        self.exceptions.append(f"{failure.type.__name__}: {failure.getErrorMessage()} ({url})")

    def spider_closed(self, spider: SourceSpider, reason: str) -> None:
        self.file.close()
        if reason == "closespider_timeout":
            spider.budget(spider.seconds_budget, f"{self.seconds:g} s of crawling")
        errors = list(spider.errors) + self.exceptions
        if reason not in ("finished", "closespider_timeout") and not errors:
            errors.append(f"crawl ended early: {reason}")
        stats = spider.crawler.stats.get_stats() if spider.crawler.stats else {}
        # Errors fail the source; an incomplete answer (degradations) only degrades it.
        status = Health.FAILED if errors else Health.DEGRADED if spider.degradations else Health.OK
        messages = errors or spider.degradations
        result = {
            "status": status.value,
            "error": messages[0] if messages else None,
            "errors": errors[:20],
            "degradations": spider.degradations[:20],
            "count": self.count,
            "unchanged": spider.all_unchanged,
            "digests": spider.digests,
            "problems": dict(spider.problems),
            "skipped": dict(spider.skipped),
            "stats": {k: stats[k] for k in _STATS if k in stats},
        }
        path = self.out_dir / f"{self.source.id}.result.json"
        path.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")


def _exit_with_parent() -> None:
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(1)
            if os.getppid() != parent:
                os._exit(70)  # no cleanup: the parent that would read our files is gone

    threading.Thread(target=watch, name="famcal-parent-watch", daemon=True).start()


def run(job: dict[str, Any]) -> None:
    out_dir = Path(job["out_dir"])
    window_start = datetime.fromisoformat(job["window_start"])
    window_end = datetime.fromisoformat(job["window_end"])
    overrides = job.get("settings") or {}
    deadline = job.get("deadline_seconds")
    process = CrawlerProcess(crawl_settings(overrides))
    recorders: list[_SourceRecorder] = []  # signals hold receivers weakly: keep them alive
    for data in job["sources"]:
        source = SourceConfig(
            id=data["id"],
            type=SourceType(data["type"]),
            name=data["name"],
            start_urls=tuple(data["start_urls"]),
            download_delay=float(data["download_delay"]),
            priority=int(data["priority"]),
            categories=tuple(data["categories"]),
            options=dict(data["options"]),
            **{key: int(data[key]) for key in BUDGET_KEYS if key in data},
        )
        seconds = float(source.max_seconds)
        run_bound = deadline is not None and float(deadline) < seconds
        if deadline is not None and run_bound:
            seconds = max(1.0, float(deadline))
        # Per-source politeness; an explicit run-wide override (tests, demo) wins.
        per_source = source_spider(source, delay=overrides.get("DOWNLOAD_DELAY"), seconds=seconds)
        crawler = process.create_crawler(per_source)
        recorder = _SourceRecorder(source, out_dir, seconds=seconds)
        recorders.append(recorder)
        crawler.signals.connect(recorder.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(recorder.spider_error, signal=signals.spider_error)
        crawler.signals.connect(recorder.spider_closed, signal=signals.spider_closed)
        process.crawl(
            crawler,
            source=source,
            window_start=window_start,
            window_end=window_end,
            previous_digests=dict(data.get("digests") or {}),
            seconds=seconds,
            seconds_budget="run max_seconds" if run_bound else "max_seconds",
            memo_dir=str(out_dir / "plain"),  # what the ics spider read last (spiders.ics)
        )
    process.start()


def main(argv: list[str]) -> int:
    _exit_with_parent()
    tune_gc()
    job_file = argv[1]
    if job_file == FROM_STDIN:  # started ahead (spiders.crawl.prestarted)
        job_file = sys.stdin.readline().strip()
        if not job_file:  # its stdin closed without a job: nothing to crawl
            return 0
    job = json.loads(Path(job_file).read_text(encoding="utf-8"))
    run(job)
    return 0


if __name__ == "__main__":
    code = main(sys.argv)
    # Everything the parent reads is written and closed (each source's files at its
    # spider's close): leave without the interpreter's teardown, which frees the crawl's
    # heap object by object and took ~0.5 s of every crawl the parent waits for. A failure
    # raises out of main and exits the usual way, with its traceback.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
