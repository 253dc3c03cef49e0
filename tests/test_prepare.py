"""The crawl window's preparation (famcal.prepare, issue #20) and the process stage's tagging in
the background change nothing: a process given the helper's tags of the crawl's lines — of
every step, of lines that differ from the stored records (a source that failed and kept its
records), with a cut line, garbage, an earlier crawl's file — stores the same events,
identities, memo and tag cache and reports the same counts as one without; a helper that
dies leaves no tags; the warm-up changes no result; a run whose crawl has a failing and a
cut source during the hand-over stores and publishes what a run without the helper does."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest

from core import parallel
from core.config import load_sources
from core.model import Health, RawEvent
from core.store import RecordRow, Store
from famcal import process_stage, run
from famcal.prepare import Preparer
from famcal.process_stage import records_since
from pipeline.normalize import Rejected, normalize
from pipeline.tag import rule_key
from tests.conftest import FAST_CRAWL, FIXTURES, NOW, ROOT, LocalSite, famcal
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


def prepared(work: Path, found: Found, *, before: Found | None = None) -> dict[str, Any]:
    """The helper's tags for ``found`` written to ``work`` while it runs (``before``: files
    already there when it starts, as an earlier crawl leaves them)."""
    if before is not None:
        write_lines(work, before)
        old = time.time() - 3600
        for path in work.glob("*.jsonl"):
            os.utime(path, (old, old))
    with Preparer(work, SOURCES, since=records_since(NOW)) as preparer:
        with preparer.running():
            write_lines(work, found)  # the crawl child writes while the helper runs
        return preparer.tags(drain=True)


def rule_keys(found: Found) -> set[str]:
    keys = set()
    for records in found.values():
        for record in records:
            with suppress(Rejected):
                keys.add(rule_key(normalize(record, uid="u")))
    return keys


def test_prepared_process_equals_a_plain_one_step_by_step(tmp_path: Path) -> None:
    with_prep, plain = Store(tmp_path / "a.db"), Store(tmp_path / "b.db")
    for run_id, found in enumerate(steps(), start=1):
        tags = prepared(tmp_path / f"work{run_id}", found)
        assert set(tags) == rule_keys(found)  # every distinct rule input, and only those
        taken: list[int] = []

        def take(tags: dict[str, Any] = tags, taken: list[int] = taken) -> dict[str, Any]:
            taken.append(len(tags))
            return tags

        save_lines(with_prep, found, run_id)
        save_lines(plain, found, run_id)
        a = process_stage.process_stage(
            with_prep, SOURCES, now=NOW, run_id=run_id, incremental=True, prepared=take
        )
        b = process_stage.process_stage(plain, SOURCES, now=NOW, run_id=run_id, incremental=True)
        assert taken or run_id > 1  # the first (full) process takes them
        assert counts(a) == counts(b), run_id
        assert full_state(with_prep) == full_state(plain), run_id


def test_lines_that_are_not_the_stored_records_change_nothing(tmp_path: Path) -> None:
    found = steps()[0]
    sent = {k: list(v) for k, v in found.items() if k != "u"}
    # "t" failed after sending other texts: its stored records stay the earlier ones.
    sent["t"] = [RawEvent(**{**r.__dict__, "title": r.title + " (neu)"}) for r in sent["t"]]
    work = tmp_path / "work"
    # "u"'s file is an earlier crawl's: not read.
    tags = prepared(
        work, sent, before={"u": [RawEvent(**{**found["u"][1].__dict__, "title": "x"})]}
    )
    text = (work / "s.jsonl").read_text(encoding="utf-8")
    assert tags
    # Garbage and a line cut off mid-way in "s": skipped, the rest prepared.
    work2 = tmp_path / "work2"
    with Preparer(work2, SOURCES, since=records_since(NOW)) as preparer:
        with preparer.running():
            work2.mkdir()
            (work2 / "s.jsonl").write_text("{not json\n" + text + text[:25], encoding="utf-8")
        tags.update(preparer.tags(drain=True))
    with_prep, plain = Store(tmp_path / "a.db"), Store(tmp_path / "b.db")
    for store in (with_prep, plain):
        save_lines(store, found, 1)
    a = process_stage.process_stage(with_prep, SOURCES, now=NOW, run_id=1, prepared=lambda: tags)
    b = process_stage.process_stage(plain, SOURCES, now=NOW, run_id=1)
    assert counts(a) == counts(b)
    assert full_state(with_prep) == full_state(plain)


def test_a_helper_that_dies_leaves_no_tags(tmp_path: Path) -> None:
    with Preparer(tmp_path, SOURCES) as preparer:
        with preparer.running():
            pass
        assert preparer._helper is not None
        preparer._helper.kill()
        preparer._helper.join()
        assert preparer.tags() == {}
    with Preparer(tmp_path, SOURCES) as unused, unused.running():  # its tags not taken
        helper = unused._helper
    assert helper is not None and not helper.is_alive()


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
    # The broken source answers late: the helper prepares the partner's records while it
    # fails (a crawl of three small files is over before the helper has loaded its rules,
    # now that the crawl child is started ahead: spiders.crawl.prestarted).
    broken = site.put("/broken.ics", b"oops", status=500, delay=2.0)
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

    class Idle(Preparer):
        @contextmanager
        def running(self) -> Iterator[None]:  # no helper: prepares nothing
            yield

    # With the helper: the command line in a child process (this one runs the site's
    # thread, and a process with other threads does not fork).
    sources_path = tmp_path / "sources.toml"
    cli = famcal(
        "run", "--sources", str(sources_path), "--db", str(tmp_path / "with" / "events.db"),
        "--out", str(tmp_path / "with" / "out"), "--now", NOW.isoformat(), "-v", *FAST_CRAWL,
    )  # fmt: skip
    assert cli.returncode == 3, cli.stderr  # the broken source failed
    prepared = re.search(r"the crawl window prepared (\d+) rule tags", cli.stderr)
    assert prepared and int(prepared[1]) > 0, cli.stderr
    monkeypatch.setattr(run, "Preparer", Idle)
    store = Store(tmp_path / "without" / "events.db")
    status = run.run(
        store, sources, now=NOW, out_dir=tmp_path / "without" / "out",
        work_dir=tmp_path / "without" / "work", settings=settings,
    )  # fmt: skip
    assert status == 3
    with_store = Store(tmp_path / "with" / "events.db")
    assert full_state(with_store) == full_state(store)
    published = files(tmp_path / "with" / "out")
    assert published == files(tmp_path / "without" / "out")
    health = json.loads(published["health.json"])
    assert health["sources"]["kaputt"]["status"] == "failed"
    store.close(), with_store.close()
    shutil.rmtree(tmp_path / "with"), shutil.rmtree(tmp_path / "without")


def test_what_the_tag_cache_has_is_not_tagged_again(tmp_path: Path) -> None:
    found = steps()[0]
    known = rule_keys({"s": found["s"]})
    with Preparer(tmp_path, SOURCES, since=records_since(NOW), known=known) as preparer:
        with preparer.running():
            write_lines(tmp_path, found)
        tags = preparer.tags(drain=True)
    assert set(tags) == rule_keys(found) - known and tags


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_the_helper_keeps_nothing_of_the_run_open(tmp_path: Path) -> None:
    held = os.open(tmp_path / "events.db.lock", os.O_RDWR | os.O_CREAT)  # like the run's lock
    try:
        with Preparer(tmp_path, SOURCES) as preparer, preparer.running():
            assert preparer._helper is not None and preparer._helper.pid is not None
            fds = Path(f"/proc/{preparer._helper.pid}/fd")
            deadline = time.monotonic() + 10
            while len(list(fds.iterdir())) > 4 and time.monotonic() < deadline:
                time.sleep(0.01)
            # stdin, stdout, stderr and its pipe to the run
            assert len(list(fds.iterdir())) <= 4
    finally:
        os.close(held)
