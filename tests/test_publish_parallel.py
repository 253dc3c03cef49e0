"""The event pages staged by forked workers while the parent writes the feeds (issue #20):
the same files, bytes and page-cache marks as rendered in the publishing process; a worker
that fails or dies, or a parent that fails while they run, leaves the published folder as
it was, no staging folder and no worker behind."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

import feeds.site
import feeds.staging
from core import parallel
from core.config import SourceConfig
from core.model import Event, RawEvent, SourceType, evolve
from core.parallel import WorkerError
from core.store import Store
from famcal import publish_stage, run
from feeds.publish import PublishReport, Serialized, in_window, serialize
from feeds.site import site_files
from tests.conftest import FIXTURES, NOW, LocalSite
from tests.test_caches import crawl_and_process, titles_called

HEALTH: dict[str, Any] = {"sources": {"s": {"name": "S"}}}


def records(title: str = "Bilderbuchkino für Kinder ab 4") -> list[RawEvent]:
    family = [
        RawEvent(
            source_id="s",
            record_id=f"krabbel#{day}",
            title="Krabbelgruppe für Babys",
            start=f"2026-12-{day:02d}T10:00:00",
        )
        for day in range(1, 15)
    ]
    return [
        *family,
        RawEvent(source_id="s", record_id="b", title=title, start="2026-12-06T11:00:00"),
        RawEvent(
            source_id="s",
            record_id="c",
            title="Kinderturnen für Kinder von 3 bis 6 Jahren",
            start="2026-12-09T15:00:00",
        ),
        RawEvent(
            source_id="s", record_id="d", title="Vortrag zur Steuer", start="2026-12-10T19:00:00"
        ),
    ]


def files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def pids_of_pages(monkeypatch: pytest.MonkeyPatch, log: Path, fail: str = "") -> None:
    """From now on every event page notes the pid that renders it in ``log`` (workers are
    forked: the patch is theirs too); ``fail`` = "raise" or "die" makes each page a worker
    renders fail (the publish takes its share of the pages too, and must not die here)."""
    real = feeds.site._event_files
    publisher = os.getpid()

    def noted(event: Event, **kwargs: Any) -> tuple[bytes, bytes]:
        with log.open("a") as handle:
            handle.write(f"{os.getpid()}\n")
        if fail == "raise" and os.getpid() != publisher:
            raise ValueError("a page that cannot be rendered")
        if fail == "die" and os.getpid() != publisher:
            os._exit(9)
        if fail == "slow":
            time.sleep(0.05)
        return real(event, **kwargs)

    monkeypatch.setattr(feeds.site, "_event_files", noted)


def parallel_pages(monkeypatch: pytest.MonkeyPatch, on: bool) -> None:
    monkeypatch.setattr(feeds.site, "PARALLEL_PAGES", 1 if on else 10**9)
    monkeypatch.setattr(parallel, "workers", lambda: 3)
    monkeypatch.setattr(feeds.site, "workers", lambda: 3)  # two page workers
    monkeypatch.setattr(feeds.site, "PAGE_CHUNK", 2)  # a few pages each, of the test's few


def renderers(log: Path) -> set[int]:
    return {int(line) for line in log.read_text().split()}


def test_pages_staged_by_workers_equal_those_made_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"  # the same folder for both: the page marks are salted with it
    published: dict[bool, tuple[dict[str, bytes], dict[str, Any], list[str]]] = {}
    for on in (True, False):
        store = Store(tmp_path / f"{on}.db")
        report = crawl_and_process(store, records(), 1)
        log = tmp_path / f"pids-{on}"
        with monkeypatch.context() as patch:
            parallel_pages(patch, on)
            pids_of_pages(patch, log)
            done = publish_stage.publish_stage(store, now=NOW, out_dir=out, events=report.canonical)
        if on:
            # By the workers, and the publish itself once it was done with the rest.
            assert renderers(log) - {os.getpid()}, "the pages were rendered by workers"
            assert len(renderers(log) - {os.getpid()}) <= 2
        else:
            assert renderers(log) == {os.getpid()}
        published[on] = (files(out), store.published_pages(), done.written)
        assert not (out / ".staging").exists()
        shutil.rmtree(out)
        store.close()
    assert published[True] == published[False]
    site, marks, _ = published[True]
    pages = [name for name in site if name.startswith("termine/")]
    assert len(pages) == 2 * len(marks) > 20
    for uid, (_, html, ics) in marks.items():  # the sizes of the files on disk
        key = feeds.site.event_key(uid)
        assert (len(site[f"termine/{key}.html"]), len(site[f"termine/{key}.ics"])) == (html, ics)
    # And the pages of ``site_files`` alone, in memory.
    store = Store(tmp_path / "memory.db")
    events = crawl_and_process(store, records(), 1).canonical
    memory = dict(site_files(events, PublishReport(), now=NOW, base_url=None, health=HEALTH))
    assert {n: b for n, b in memory.items() if n.startswith("termine/")} == {
        n: site[n] for n in pages
    }


@pytest.mark.parametrize("fail", ["raise", "die"])
def test_a_failed_worker_leaves_the_published_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail: str
) -> None:
    store = Store(tmp_path / "e.db")
    out = tmp_path / "out"
    report = crawl_and_process(store, records(), 1)
    publish_stage.publish_stage(store, now=NOW, out_dir=out, events=report.canonical)
    before, marks = files(out), store.published_pages()

    # Every page's inputs change (the source's name is on each), so the workers render all.
    report = crawl_and_process(store, records("Bilderbuchkino für Kinder ab 5"), 2)
    store.db.execute("delete from page_cache")
    store.db.conn.commit()
    with monkeypatch.context() as patch:
        parallel_pages(patch, True)
        pids_of_pages(patch, tmp_path / "pids", fail=fail)
        with pytest.raises(WorkerError):
            publish_stage.publish_stage(store, now=NOW, out_dir=out, events=report.canonical)
    assert renderers(tmp_path / "pids") - {os.getpid()}
    assert files(out) == before
    assert not (out / ".staging").exists()
    assert not multiprocessing.active_children()
    assert store.published_pages() == {}  # nothing recorded for pages never published
    del marks


def test_a_failure_in_the_parent_stops_the_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(tmp_path / "e.db")
    out = tmp_path / "out"
    report = crawl_and_process(store, records(), 1)
    publish_stage.publish_stage(store, now=NOW, out_dir=out, events=report.canonical)
    before = files(out)
    report = crawl_and_process(store, records("Bilderbuchkino für Kinder ab 5"), 2)
    store.db.execute("delete from page_cache")
    store.db.conn.commit()

    def failing(pieces: Any, size: int = 0) -> Iterator[bytes]:
        time.sleep(0.2)  # the workers are rendering
        raise OSError("disk full")
        yield b""

    with monkeypatch.context() as patch:
        parallel_pages(patch, True)
        pids_of_pages(patch, tmp_path / "pids", fail="slow")
        patch.setattr(feeds.staging, "_batched", failing)  # the first feed's write fails
        with pytest.raises(OSError, match="disk full") as caught:
            publish_stage.publish_stage(store, now=NOW, out_dir=out, events=report.canonical)
    # Checked while the traceback (and so the publish's generator) is alive: the workers
    # stopped before the staging folder went, not when the generator was collected.
    assert caught.traceback
    assert not multiprocessing.active_children()
    time.sleep(0.3)  # a worker left running would stage more pages now
    assert files(out) == before
    assert not (out / ".staging").exists()


@pytest.mark.parametrize("published", [False, True])
def test_files_staged_at_their_own_path_are_renamed_whole_or_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, published: bool
) -> None:
    out = tmp_path / "out"
    if published:
        (out / "termine").mkdir(parents=True)
        (out / "termine" / "old.html").write_bytes(b"old")
        (out / "termine" / "b.html").write_bytes(b"B")
    renames: list[str] = []
    real = os.rename

    def noted(source: Any, target: Any) -> None:
        renames.append(Path(target).relative_to(out).as_posix())
        real(source, target)

    monkeypatch.setattr(os, "rename", noted)

    def produced() -> Iterator[tuple[str, Any]]:
        yield "alle.ics", b"feed"
        for key, data in (("a", b"A"), ("b", b"B"), ("c", b"C")):
            name = f"termine/{key}.html"
            yield name, feeds.staging.stage_file(out, name, data, tmp=name)
        yield "index.html", b"index"

    report = PublishReport()
    feeds.staging.write_staged(out, produced(), report, prune=("termine",))
    assert files(out) == {
        "alle.ics": b"feed",
        "index.html": b"index",
        "termine/a.html": b"A",
        "termine/b.html": b"B",
        "termine/c.html": b"C",
    }
    assert not (out / ".staging").exists()
    if published:  # each new file by itself, the unchanged one left, the stale one pruned
        assert report.written == ["termine/a.html", "termine/c.html", "alle.ics", "index.html"]
        assert report.removed == ["termine/old.html"]
        assert renames == []  # os.replace, file by file
    else:
        assert report.written == [
            "termine/a.html", "termine/b.html", "termine/c.html", "alle.ics", "index.html"
        ]  # fmt: skip
        assert renames == ["termine"]  # the folder at once


def test_forms_made_ahead_are_taken_and_publish_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The serialization a run begins as the events are tracked (``FormsAhead``, forked
    workers): the publish serializes none of those events itself, and writes the same files
    and render cache as a publish that serializes every event."""
    out = tmp_path / "out"
    published: dict[bool, tuple[dict[str, bytes], dict[str, Any]]] = {}
    for ahead in (True, False):
        store = Store(tmp_path / f"{ahead}.db")
        here = titles_called(monkeypatch, publish_stage, "serialize")  # in this process only
        with publish_stage.FormsAhead(NOW, min_items=1) as forms:
            started = forms.start if ahead else None
            report = crawl_and_process(store, records(), 1, on_tracked=started)
            publish_stage.publish_stage(
                store, now=NOW, out_dir=out, events=report.canonical, ahead=forms
            )
        assert not multiprocessing.active_children()
        shown = [e for e in report.canonical if in_window(e, NOW)]
        assert sorted(here) == ([] if ahead else sorted(e.title for e in shown))
        published[ahead] = (files(out), store.cached_forms())
        shutil.rmtree(out)
        store.close()
    assert published[True] == published[False]
    assert len(published[True][1]) == len(shown) > 15


def test_forms_ahead_of_other_event_objects_are_not_taken(tmp_path: Path) -> None:
    """Forms are taken only for the very events they were made from: a copy, even an equal
    one, is serialized by the publish; a publish that needs none of them stops the workers."""
    store = Store(tmp_path / "events.db")
    events = [e for e in crawl_and_process(store, records(), 1).canonical if in_window(e, NOW)]
    with publish_stage.FormsAhead(NOW, min_items=1) as forms:
        forms.start(events)
        assert multiprocessing.active_children()
        copies = [evolve(e) for e in events]
        assert forms.take(copies) == {}
        assert not multiprocessing.active_children()
    with publish_stage.FormsAhead(NOW, min_items=1) as forms:
        forms.start(events)
        taken = forms.take(events[1:])
    assert taken == {e.uid: serialize(e) for e in events[1:]}
    assert not multiprocessing.active_children()
    with publish_stage.FormsAhead(NOW, min_items=1) as forms:
        forms.start(events)  # taking waits for all of it: not for a few
        assert forms.take(events[:3]) == {} and not multiprocessing.active_children()
    with publish_stage.FormsAhead(NOW) as forms:  # too few events to fork workers for
        forms.start(events)
        assert not multiprocessing.active_children() and forms.take(events) == {}
    store.close()


def test_only_new_and_changed_events_are_serialized_ahead(tmp_path: Path) -> None:
    """A process stage hands ``on_tracked`` the events it made or changed, not those it
    redid unchanged (their forms are most likely in the render cache)."""
    store = Store(tmp_path / "events.db")
    handed: list[list[str]] = []

    def noted(events: list[Event]) -> None:
        handed.append(sorted(e.title for e in events))

    first = crawl_and_process(store, records(), 1, on_tracked=noted)
    assert handed[0] == sorted(e.title for e in first.canonical)
    crawl_and_process(store, records(title="Bilderbuchkino für Kinder ab 5"), 2, on_tracked=noted)
    assert handed[1] == ["Bilderbuchkino für Kinder ab 5"]
    store.close()


def test_a_run_begins_the_serialization_while_it_processes(
    tmp_path: Path, site: LocalSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``famcal run`` hands the process stage's tracked events to its ``FormsAhead`` and the
    same object to the publish."""
    noted: list[tuple[str, int]] = []

    class Noted(publish_stage.FormsAhead):
        def start(self, events: Sequence[Event]) -> None:
            noted.append(("start", len(events)))
            super().start(events)

        def take(self, todo: Sequence[Event]) -> dict[str, Serialized]:
            noted.append(("take", len(todo)))
            return super().take(todo)

    monkeypatch.setattr(run, "FormsAhead", Noted)
    url = site.put("/family.ics", (FIXTURES / "ics" / "family.ics").read_bytes())
    sources = [SourceConfig(id="s", type=SourceType.ICS, name="S", start_urls=(url,))]
    store = Store(tmp_path / "events.db")
    status = run.run(
        store, sources, now=NOW, out_dir=tmp_path / "out", work_dir=tmp_path / "work",
        settings={"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "LOG_LEVEL": "WARNING"},
    )  # fmt: skip
    assert status == 0
    events = len(store.events(processed=store.latest_processed()))
    assert noted[0] == ("start", events) and events > 0
    assert noted[1][0] == "take" and 0 < noted[1][1] <= events
    store.close()
