"""The crawl window's preparation (famcal.prepare, issue #20) and the process stage's tagging in
the background change nothing: a process given what the preparer made of the crawl's lines —
all of them, some, lines that differ from the stored records (a source that failed and kept
its records), a cut line, garbage, an earlier crawl's file — stores the same events,
identities, memo and tag cache and reports the same counts as one without; the warm-up
changes no result; a run whose crawl has a failing source during the hand-over stores and
publishes what a run without the preparer does."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from core import parallel
from core.config import SourceConfig, load_sources
from core.model import Health, RawEvent
from core.store import RecordRow, Store
from famcal import prepare, process_stage, run
from famcal.prepare import Prepared, Preparer
from famcal.process_stage import records_since
from tests.conftest import FIXTURES, NOW, ROOT, LocalSite
from tests.test_process_incremental import SOURCES, files, steps
from tests.test_process_incremental import state as events_state

Found = dict[str, list[RawEvent]]


def line(record: RawEvent) -> str:
    # As spiders.worker writes a record.
    return json.dumps(record.to_dict(), ensure_ascii=False) + "\n"


def write_lines(work: Path, found: Found) -> None:
    work.mkdir(parents=True, exist_ok=True)
    for source_id, records in found.items():
        (work / f"{source_id}.jsonl").write_text("".join(map(line, records)), encoding="utf-8")


def save_lines(store: Store, found: Found, run_id: int) -> None:
    # As famcal.crawl_stage stores a crawl's lines.
    for source_id, records in found.items():
        store.save_crawl(
            run_id=run_id, source_id=source_id, name=source_id, type="ics", status=Health.OK,
            error=None, records=(RecordRow.from_json_line(line(r)) for r in records),
            count=len(records), at=NOW, window_start=NOW,
        )  # fmt: skip


def prepared_from(work: Path, sources: list[SourceConfig], *, expect: int) -> Prepared:
    """Run the preparer over the lines in ``work`` (written after it began) until it has
    read ``expect`` records."""
    preparer = Preparer(work, sources, since=records_since(NOW))
    with preparer.running():
        deadline = time.monotonic() + 30
        while len(preparer.result().normalized) < expect and time.monotonic() < deadline:
            time.sleep(0.01)
    return preparer.result()


def full_state(store: Store) -> tuple[object, ...]:
    memo = store.db.execute("select * from process_memo order by source_id, record_id")
    tags = store.db.execute("select key, tags from tag_cache order by key")
    return events_state(store), memo.fetchall(), tags.fetchall()


def counts(report: process_stage.ProcessReport) -> tuple[object, ...]:
    return (
        report.records, report.events, report.merged, dict(report.rejected),
        dict(report.repaired_by_source), report.new, report.changed, report.cancelled_missing,
        [e for e in report.canonical], report.stored_digests,
    )  # fmt: skip


def test_prepared_process_equals_a_plain_one_step_by_step(tmp_path: Path) -> None:
    with_prep, plain = Store(tmp_path / "a.db"), Store(tmp_path / "b.db")
    taken = 0
    for run_id, found in enumerate(steps(), start=1):
        work = tmp_path / f"work{run_id}"
        preparer = Preparer(work, SOURCES, since=records_since(NOW))
        with preparer.running():
            write_lines(work, found)  # the crawl child writes while the preparer runs
            deadline = time.monotonic() + 30
            total = sum(map(len, found.values()))
            while len(preparer.result().normalized) < total and time.monotonic() < deadline:
                time.sleep(0.01)
        prepared = preparer.result()
        assert len(prepared.normalized) == sum(map(len, found.values()))
        assert any(isinstance(made, str) for _, made in prepared.normalized.values())  # "leer"
        before = len(prepared.normalized)
        save_lines(with_prep, found, run_id)
        save_lines(plain, found, run_id)
        a = process_stage.process_stage(
            with_prep, SOURCES, now=NOW, run_id=run_id, incremental=True, prepared=prepared
        )
        taken += before - len(prepared.normalized)
        b = process_stage.process_stage(plain, SOURCES, now=NOW, run_id=run_id, incremental=True)
        assert counts(a) == counts(b), run_id
        assert full_state(with_prep) == full_state(plain), run_id
    assert taken > 0  # the stage did take prepared normalizations


def test_lines_that_are_not_the_stored_records_change_nothing(tmp_path: Path) -> None:
    found = steps()[0]
    stale = tmp_path / "work"
    write_lines(stale, {"u": found["u"]})
    old = time.time() - 3600
    os.utime(stale / "u.jsonl", (old, old))  # an earlier crawl's file: not read
    preparer = Preparer(stale, SOURCES, since=records_since(NOW))
    with preparer.running():
        sent = {k: list(v) for k, v in found.items() if k != "u"}
        # "t" failed after sending other texts: its stored records stay the earlier ones.
        sent["t"] = [RawEvent(**{**r.__dict__, "title": r.title + " (neu)"}) for r in sent["t"]]
        for source_id, records in sent.items():
            text = "".join(map(line, records))
            if source_id == "s":  # garbage and a line cut off mid-way
                text = "{not json\n" + text + line(records[0])[:25]
            (stale / f"{source_id}.jsonl").write_text(text, encoding="utf-8")
        deadline = time.monotonic() + 30
        while len(preparer.result().normalized) < 12 and time.monotonic() < deadline:
            time.sleep(0.01)
    prepared = preparer.result()
    assert ("t", "hexe") in prepared.normalized and ("u", "hexe") not in prepared.normalized
    with_prep, plain = Store(tmp_path / "a.db"), Store(tmp_path / "b.db")
    for store in (with_prep, plain):
        save_lines(store, found, 1)
    a = process_stage.process_stage(with_prep, SOURCES, now=NOW, run_id=1, prepared=prepared)
    b = process_stage.process_stage(plain, SOURCES, now=NOW, run_id=1)
    assert counts(a) == counts(b)  # "t"'s lines were not taken: not the stored records
    assert full_state(with_prep) == full_state(plain)


def test_background_tagging_equals_serial_tagging(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = []
    for name, least in (("parallel", 1), ("serial", 10**9)):

        def start(func: Any, items: Any, least: int = least) -> Any:
            return parallel.start_chunks(func, items, min_items=least)

        monkeypatch.setattr(process_stage, "start_chunks", start)
        store = Store(tmp_path / f"{name}.db")
        save_lines(store, steps()[0], 1)
        report = process_stage.process_stage(store, SOURCES, now=NOW, run_id=1)
        results.append((counts(report), full_state(store)))
    assert results[0] == results[1]


WARM = """
import json, sys
from famcal import prepare
from pipeline.normalize import Rejected, normalize
from pipeline.tag import rule_key, tag_event
from tests.test_process_incremental import steps
if sys.argv[1] == "warm":
    prepare.warm_up()
out = []
for records in steps()[0].values():
    for raw in records:
        try:
            event = normalize(raw, uid="u")
        except Rejected as exc:
            out.append(str(exc))
            continue
        out.append([rule_key(event), tag_event(event).to_dict()])
print(json.dumps(out))
"""


def test_warm_up_changes_no_result() -> None:
    made = [
        subprocess.run(
            [sys.executable, "-c", WARM, how], capture_output=True, text=True, cwd=ROOT, check=True
        ).stdout
        for how in ("warm", "cold")
    ]
    assert made[0] == made[1] and len(json.loads(made[0])) == 14


@pytest.mark.e2e
def test_run_with_a_failing_source_during_the_hand_over_loses_nothing(
    tmp_path: Path, site: LocalSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = site.put("/cal.ics", (FIXTURES / "ics" / "run_e2e.ics").read_bytes())
    broken = site.put("/broken.ics", b"oops", status=500)
    cut = site.put("/cut.ics", (FIXTURES / "ics" / "family.ics").read_bytes()[:700])
    (tmp_path / "sources.toml").write_text(
        "".join(
            f'[sources.{sid}]\ntype = "ics"\nname = "{sid}"\nstart_urls = ["{url}"]\n\n'
            for sid, url in (("partner", good), ("kaputt", broken), ("halb", cut))
        )
    )
    sources = load_sources(tmp_path / "sources.toml")
    settings = {
        "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "HTTPCACHE_ENABLED": False,
        "DOWNLOAD_TIMEOUT": 10, "RETRY_TIMES": 0, "LOG_LEVEL": "WARNING",
    }  # fmt: skip
    made: list[Preparer] = []

    class Watched(Preparer):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    class Idle(Preparer):
        def _run(self) -> None:  # prepares nothing
            pass

    outcome = {}
    for name, kind in (("with", Watched), ("without", Idle)):
        monkeypatch.setattr(run, "Preparer", kind)
        store = Store(tmp_path / name / "events.db")
        status = run.run(
            store, sources, now=NOW, out_dir=tmp_path / name / "out",
            work_dir=tmp_path / name / "work", settings=settings,
        )  # fmt: skip
        outcome[name] = (status, full_state(store), files(tmp_path / name / "out"))
        store.close()
    assert made and made[0].result().tags  # the good source was prepared
    assert outcome["with"][0] == 3  # the broken source failed
    health = json.loads(outcome["with"][2]["health.json"])
    assert health["sources"]["kaputt"]["status"] == "failed"
    assert outcome["with"] == outcome["without"]
    shutil.rmtree(tmp_path / "with"), shutil.rmtree(tmp_path / "without")


def test_warm_up_is_what_the_preparer_runs_first(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(prepare, "warm_up", lambda: calls.append("warm"))
    preparer = Preparer(Path("/nonexistent-famcal-work"), SOURCES)
    with preparer.running():
        deadline = time.monotonic() + 10
        while not calls and time.monotonic() < deadline:
            time.sleep(0.01)
    assert calls == ["warm"] and preparer.result() == Prepared()
