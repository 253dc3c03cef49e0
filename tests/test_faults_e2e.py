"""Faults end to end (issue #8): one source breaks in each way the issue names; the run
finishes with exit 3, the healthy source is published, the broken one is failed (or
degraded) in health.json with a clear error, and its events from the previous good run stay
published, not cancelled, with no absence counted against them.

A module fixture runs one good baseline (sources ``partner`` and ``other``); each test
copies its database and published folder and points ``other`` at a broken answer."""

from __future__ import annotations

import json
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import FAST_CRAWL, FIXTURES, NOW, ROOT, LocalSite, famcal

pytestmark = pytest.mark.e2e

OTHER = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//famcal tests//other//DE\r
BEGIN:VEVENT\r
UID:other-1@test\r
DTSTAMP:20261101T000000Z\r
DTSTART;TZID=Europe/Berlin:20261210T150000\r
DTEND;TZID=Europe/Berlin:20261210T170000\r
SUMMARY:Laternenbasteln für Kinder\r
LOCATION:Stadtteilzentrum Ricklingen\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:other-2@test\r
DTSTAMP:20261101T000000Z\r
DTSTART;TZID=Europe/Berlin:20261212T100000\r
DTEND;TZID=Europe/Berlin:20261212T120000\r
SUMMARY:Eltern-Kind-Turnen\r
LOCATION:Sporthalle Linden\r
END:VEVENT\r
END:VCALENDAR\r
"""
OTHER_TITLES = {"Laternenbasteln für Kinder", "Eltern-Kind-Turnen"}
PARTNER_EVENTS = 7


@dataclass
class Baseline:
    site: LocalSite
    root: Path


def write_sources(path: Path, **urls: str) -> Path:
    path.write_text(
        "".join(
            f'[sources.{sid}]\ntype = "ics"\nname = "{sid}"\nstart_urls = ["{url}"]\n\n'
            for sid, url in urls.items()
        )
    )
    return path


def famcal_run(root: Path, sources: Path, *extra: str) -> tuple[int, str]:
    result = famcal(
        "run",
        "--sources",
        str(sources),
        "--db",
        str(root / "events.db"),
        "--out",
        str(root / "out"),
        "--now",
        NOW.isoformat(),
        *FAST_CRAWL,
        *extra,
    )
    return result.returncode, result.stderr


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Baseline]:
    site = LocalSite()
    root = tmp_path_factory.mktemp("baseline")
    site.put("/partner.ics", (FIXTURES / "ics" / "family.ics").read_bytes())
    site.put("/other.ics", OTHER)
    sources = write_sources(
        root / "sources.toml", partner=site.url("/partner.ics"), other=site.url("/other.ics")
    )
    code, err = famcal_run(root, sources)
    assert code == 0, err
    assert len(items(root)) == PARTNER_EVENTS + 2
    yield Baseline(site, root)
    site.close()


def items(root: Path) -> list[dict[str, object]]:
    feed = json.loads((root / "out" / "alle.json").read_text(encoding="utf-8"))
    return list(feed["items"])


def copy_of(baseline: Baseline, tmp_path: Path) -> Path:
    root = tmp_path / "run"
    shutil.copytree(baseline.root, root)
    return root


Fault = Callable[[LocalSite], str]


def _status(status: int) -> Fault:
    return lambda site: site.put(f"/f/{status}.ics", b"Fehler", status=status)


FAULTS: dict[str, tuple[Fault, tuple[str, ...], str, str]] = {
    # name: (make the broken URL, extra CLI options, expected status, expected error text)
    "http-500": (_status(500), (), "failed", "HTTP 500"),
    "http-404": (lambda site: site.url("/f/missing.ics"), (), "failed", "HTTP 404"),
    "timeout": (
        lambda site: site.put("/f/slow.ics", OTHER, delay=8),
        ("--set", "DOWNLOAD_TIMEOUT=2"),
        "failed",
        "timed out",
    ),
    "random-bytes": (
        lambda site: site.put("/f/random.ics", random.Random(8).randbytes(4096)),
        (),
        "failed",
        "not an iCalendar file",
    ),
    "html": (
        lambda site: site.put(
            "/f/page.ics", "<!doctype html><h1>Wartung</h1>", content_type="text/html"
        ),
        (),
        "failed",
        "sent HTML where a calendar was expected",
    ),
    "truncated": (
        # Cut inside the second VEVENT: the first is read, the cut is reported.
        lambda site: site.put("/f/cut.ics", OTHER[: OTHER.index("SUMMARY:Eltern")]),
        (),
        "failed",
        "truncated iCalendar file (no END:VCALENDAR)",
    ),
    "enormous": (
        lambda site: site.put("/f/huge.ics", "BEGIN:VCALENDAR\r\n" + "X" * 300_000),
        ("--set", "DOWNLOAD_MAXSIZE=100000"),
        "failed",
        "too large",
    ),
    "redirect-loop": (
        lambda site: site.put("/f/loop.ics", b"", status=301, Location=site.url("/f/loop.ics")),
        (),
        "failed",
        "redirect loop",
    ),
    "zero-events": (
        lambda site: site.put(
            "/f/empty.ics", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nEND:VCALENDAR\r\n"
        ),
        (),
        "degraded",
        "no events (the last healthy run had 2)",
    ),
}


@pytest.mark.parametrize("name", list(FAULTS))
def test_fault_is_reported_and_nothing_is_lost(
    name: str, baseline: Baseline, tmp_path: Path
) -> None:
    make_url, extra, expected_status, expected_error = FAULTS[name]
    root = copy_of(baseline, tmp_path)
    sources = write_sources(
        root / "sources.toml",
        partner=baseline.site.url("/partner.ics"),
        other=make_url(baseline.site),
    )
    code, err = famcal_run(root, sources, *extra)
    assert code == 3, err

    health = json.loads((root / "out" / "health.json").read_text())["sources"]
    assert health["partner"]["status"] == "ok"
    assert health["other"]["status"] == expected_status
    assert expected_error in health["other"]["error"]
    assert health["other"]["last_success"] == NOW.isoformat()  # the baseline run's
    assert [r["events"] for r in health["other"]["recent"]][-1] == 2
    assert expected_error in err  # cron mails this

    published = items(root)
    assert len(published) == PARTNER_EVENTS + 2
    other = [i for i in published if i["title"] in OTHER_TITLES]
    assert {i["title"] for i in other} == OTHER_TITLES
    assert all(i["_event"]["status"] == "scheduled" for i in other)  # type: ignore[index]

    with sqlite3.connect(root / "events.db") as db:
        missing = db.execute(
            "select max(missing_runs) from records where source_id = 'other'"
        ).fetchone()[0]
        assert missing == 0  # a broken crawl counts no absences
        assert db.execute("pragma integrity_check").fetchone()[0] == "ok"

    log = root / "logs" / "run-2.jsonl"
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    source_line = next(x for x in lines if x["event"] == "source" and x["source"] == "other")
    assert source_line["status"] == expected_status
    assert lines[-1] == {**lines[-1], "event": "finish", "exit_status": 3}


def snapshot(out: Path) -> dict[str, tuple[int, bytes]]:
    return {
        str(p.relative_to(out)): (p.stat().st_mtime_ns, p.read_bytes())
        for p in sorted(out.rglob("*"))
        if p.is_file()
    }


def start_run(root: Path, sources: Path, pause_at: str | None = None) -> subprocess.Popen[str]:
    """``famcal run`` in a child process; with ``pause_at``, one that waits before that stage."""
    entry = ("-m", "tests.paused_run", pause_at) if pause_at else ("-m", "famcal")
    return subprocess.Popen(
        [
            *(sys.executable, *entry, "run", "--sources", str(sources)),
            *("--db", str(root / "events.db"), "--out", str(root / "out")),
            *("--now", NOW.isoformat(), *FAST_CRAWL),
        ],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )


def workers_of(root: Path) -> list[int]:
    """Crawl workers still running on this test's folder (none may outlive their run)."""
    job = str(root / "crawl" / "job.json").encode()
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and job in (proc / "cmdline").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def assert_killed_run_left_no_trace(root: Path, before: dict[str, tuple[int, bytes]]) -> None:
    deadline = time.monotonic() + 10
    while workers_of(root) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert workers_of(root) == []
    with sqlite3.connect(root / "events.db") as db:
        assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
    assert snapshot(root / "out") == before  # the previous feeds, byte for byte, untouched


def test_sigkill_during_crawl_keeps_feeds_and_next_run_recovers(
    baseline: Baseline, tmp_path: Path
) -> None:
    root = copy_of(baseline, tmp_path)
    before = snapshot(root / "out")
    slow = baseline.site.put("/kill/slow.ics", OTHER, delay=60)
    sources = write_sources(
        root / "sources.toml", partner=baseline.site.url("/partner.ics"), other=slow
    )
    proc = start_run(root, sources)
    deadline = time.monotonic() + 60
    while "/kill/slow.ics" not in baseline.site.requests and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "/kill/slow.ics" in baseline.site.requests, "the crawl never reached the source"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.stderr is not None
    proc.stderr.close()
    assert_killed_run_left_no_trace(root, before)

    # The lock died with the run; the next run takes it and publishes normally.
    sources = write_sources(
        root / "sources.toml",
        partner=baseline.site.url("/partner.ics"),
        other=baseline.site.url("/other.ics"),
    )
    code, err = famcal_run(root, sources)
    assert code == 0, err
    assert len(items(root)) == PARTNER_EVENTS + 2


@pytest.mark.parametrize("stage", ["process", "publish"])
def test_sigkill_between_stages_keeps_feeds_and_next_run_recovers(
    stage: str, baseline: Baseline, tmp_path: Path
) -> None:
    root = copy_of(baseline, tmp_path)
    before = snapshot(root / "out")
    renamed = OTHER.replace("Laternenbasteln für Kinder", "Laternenbasteln für Familien")
    changed = baseline.site.put(f"/kill/{stage}.ics", renamed)
    sources = write_sources(
        root / "sources.toml", partner=baseline.site.url("/partner.ics"), other=changed
    )
    proc = start_run(root, sources, pause_at=stage)
    assert proc.stderr is not None
    for line in proc.stderr:
        if f"test pause before {stage}" in line:
            break
    else:
        pytest.fail(f"the run never paused before {stage}")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stderr.close()
    assert_killed_run_left_no_trace(root, before)

    code, err = famcal_run(root, sources)
    assert code == 0, err
    titles = {i["title"] for i in items(root)}
    assert "Laternenbasteln für Familien" in titles
    assert len(titles) == PARTNER_EVENTS + 2 - 3  # the weekly group is one title, 4 dates
