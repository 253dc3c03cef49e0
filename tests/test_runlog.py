"""The structured run log (issue #8): JSON lines per run, famcal's log records captured,
old logs pruned."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from core import runlog
from core.runlog import RunLog


def test_run_log_writes_json_lines_and_captures_log_records(tmp_path: Path) -> None:
    log = RunLog.open(tmp_path / "logs", 7)
    logger = logging.getLogger("famcal.test-runlog")
    with log.capture(logger):
        log.write("start", now="2026-11-25T08:00:00+01:00")
        logger.info("source %s: %s", "a", "failed")
        logger.debug("not written")
    logger.warning("after the run: not written")
    log.write("finish", exit_status=3)
    log.close()
    lines = [json.loads(x) for x in (tmp_path / "logs" / "run-7.jsonl").read_text().splitlines()]
    assert [x["event"] for x in lines] == ["start", "log", "finish"]
    assert lines[1]["message"] == "source a: failed" and lines[1]["level"] == "INFO"
    assert all(x["run"] == 7 and x["at"] for x in lines)


def test_old_run_logs_are_pruned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    for i in range(1, 6):
        (logs / f"run-{i}.jsonl").write_text("{}\n")
        (logs / f"run-{i}.crawl.log").write_text("")
    monkeypatch.setattr(runlog, "KEEP", 3)
    RunLog.open(logs, 6).close()
    assert sorted(p.name for p in logs.glob("*.jsonl")) == [
        "run-4.jsonl",
        "run-5.jsonl",
        "run-6.jsonl",
    ]
    assert sorted(p.name for p in logs.glob("*.crawl.log")) == [
        "run-4.crawl.log",
        "run-5.crawl.log",
    ]
