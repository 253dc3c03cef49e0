"""The structured log of one run: JSON lines in ``<db dir>/logs/run-<id>.jsonl``.

Contract: ``RunLog.open(logs_dir, run_id)`` creates the file (and prunes the oldest, with
their ``run-<id>.crawl.log``, so that at most ``KEEP`` run logs stay);
``write(event, **fields)`` appends one JSON object
``{"at": wall-clock ISO, "run": id, "event": name, …}``; ``capture(logger)`` is a context
manager that also appends that logger's records at INFO and above as ``"event": "log"``
lines. Events a run writes: ``start``, ``source`` (status, events, error, skipped),
``rejected`` (per source and reason), ``process``, ``publish``, ``finish`` (exit status),
``error``. The wall clock stamps lines only; no date decision reads it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

KEEP = 200


class RunLog:
    def __init__(self, path: Path, run_id: int, stream: IO[str]) -> None:
        self.path = path
        self.run_id = run_id
        self._stream = stream

    @classmethod
    def open(cls, logs_dir: Path, run_id: int) -> RunLog:
        logs_dir.mkdir(parents=True, exist_ok=True)
        _prune(logs_dir)
        path = logs_dir / f"run-{run_id}.jsonl"
        # Line-buffered: what a killed run managed to say stays on disk.
        return cls(path, run_id, path.open("a", encoding="utf-8", buffering=1))

    def write(self, event: str, **fields: Any) -> None:
        line = {"at": datetime.now(UTC).isoformat(), "run": self.run_id, "event": event, **fields}
        self._stream.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")

    @contextmanager
    def capture(self, logger: logging.Logger) -> Iterator[None]:
        handler = _Handler(self)
        handler.setLevel(logging.INFO)
        previous = logger.level
        if logger.getEffectiveLevel() > logging.INFO:
            logger.setLevel(logging.INFO)
        logger.addHandler(handler)
        try:
            yield
        finally:
            logger.removeHandler(handler)
            logger.setLevel(previous)

    def close(self) -> None:
        self._stream.close()


class _Handler(logging.Handler):
    def __init__(self, log: RunLog) -> None:
        super().__init__()
        self.log = log

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.log.write(
                "log", level=record.levelname, logger=record.name, message=record.getMessage()
            )
        except Exception:  # a log line must never end the run
            self.handleError(record)


def _prune(logs_dir: Path) -> None:
    logs = sorted(
        logs_dir.glob("run-*.jsonl"),
        key=lambda p: int(p.stem.removeprefix("run-")) if p.stem[4:].isdigit() else 0,
    )
    for old in logs[: max(len(logs) - KEEP + 1, 0)]:
        old.unlink(missing_ok=True)
        old.with_suffix(".crawl.log").unlink(missing_ok=True)
