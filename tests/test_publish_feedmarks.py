"""A feed file whose inputs did not change since the last publish is not joined again
(issue #20, ``feeds.publish.FeedMarks``): after one event changed only the feeds that hold
it are joined, the folder equals a full publish from nothing, and a feed file left short on
disk (or a mark from another folder) is joined and written again."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from core.model import evolve
from core.store import Store
from famcal import publish_stage
from feeds.site.i18n import LANGUAGES
from feeds.staging import Staged, Staging
from tests.conftest import NOW
from tests.test_caches import crawl_and_process
from tests.test_publish_incremental import files, records


def contents(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """name -> the content ``Staging.put`` is given, from now on."""
    seen: dict[str, Any] = {}
    real = Staging.put

    def noted(self: Staging, name: str, data: Any) -> None:
        seen[name] = data
        real(self, name, data)

    monkeypatch.setattr(Staging, "put", noted)
    return seen


def test_only_the_feeds_that_show_a_changed_event_are_joined(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(tmp_path / "e.db")
    out = tmp_path / "out"
    report = crawl_and_process(store, records("Bilderbuchkino für Kinder ab 4"), 1)
    publish_stage.publish_stage(store, now=NOW, out_dir=out, events=report.canonical)
    report = crawl_and_process(store, records("Bilderbuchkino für Kinder ab 5"), 2)
    with monkeypatch.context() as patch:
        seen = contents(patch)
        published = publish_stage.publish_stage(
            store, now=NOW, out_dir=out, events=report.canonical
        )
    skipped = {n for n, data in seen.items() if isinstance(data, Staged) and data.tmp is None}
    skipped = {n for n in skipped if not n.startswith("termine/")}
    joined = {
        n
        for n, data in seen.items()
        if not isinstance(data, (Staged, bytes)) and not n.startswith("termine/")
    }
    assert skipped and joined
    # The joined feeds are exactly those that show the changed event (and were rewritten).
    assert {n for n in joined if n in published.written} == joined
    for name in joined:
        assert "kinder ab 5" in (out / name).read_text(encoding="utf-8").casefold(), name
    for name in skipped:
        assert "kinder ab 5" not in (out / name).read_text(encoding="utf-8").casefold()

    # A feed left short on disk is joined and written again; the rest stay marked.
    short = out / "alle.json"
    short.write_bytes(b"")
    with monkeypatch.context() as patch:
        seen = contents(patch)
        again = publish_stage.publish_stage(store, now=NOW, out_dir=out, events=report.canonical)
    assert not isinstance(seen["alle.json"], Staged)
    assert "alle.json" in again.written
    assert isinstance(seen["alle.ics"], Staged)

    # Byte for byte a full publish from nothing (no caches, no marks, no files).
    for table in ("render_cache", "page_cache"):
        store.db.execute(f"delete from {table}")
    store.db.execute("delete from meta where key = ?", [publish_stage.FEED_MARKS])
    store.db.conn.commit()
    fresh = tmp_path / "fresh"
    publish_stage.publish_stage(store, now=NOW, out_dir=fresh, events=report.canonical)
    assert files(out) == files(fresh)

    # The marks are of the folder last published (``fresh`` now): one into ``out`` joins
    # every feed again.
    with monkeypatch.context() as patch:
        seen = contents(patch)
        publish_stage.publish_stage(store, now=NOW, out_dir=out, events=report.canonical)
    assert not any(
        isinstance(data, Staged) for n, data in seen.items() if not n.startswith("termine/")
    )
    assert files(out) == files(fresh)


def test_marks_of_a_publish_that_failed_after_its_renames_are_not_trusted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(tmp_path / "e.db")
    out = tmp_path / "out"
    events = crawl_and_process(store, records("Bilderbuchkino für Kinder ab 4"), 1).canonical
    first, other = "https://a.example", "https://b.example"  # the same length: same sizes
    publish_stage.publish_stage(store, now=NOW, out_dir=out, events=events, base_url=first)
    expected = files(out)

    def lost(*args: Any, **kwargs: Any) -> None:
        raise OSError("killed after the renames")

    with monkeypatch.context() as patch:
        patch.setattr(Store, "save_pages", lost)
        with pytest.raises(OSError):
            publish_stage.publish_stage(store, now=NOW, out_dir=out, events=events, base_url=other)
    assert other in (out / "alle.json").read_text(encoding="utf-8")
    # The first inputs again: no feed file is taken for current by the first publish's marks.
    publish_stage.publish_stage(store, now=NOW, out_dir=out, events=events, base_url=first)
    assert files(out) == expected


def test_page_marks_of_a_publish_that_failed_after_its_renames_are_not_trusted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page cache as the feed marks: a publish that rewrote an event page and failed
    before its marks were saved leaves no mark of the page before it, so a later publish of
    the earlier inputs renders the page again instead of keeping one of the same size."""
    store = Store(tmp_path / "e.db")
    out = tmp_path / "out"
    events = crawl_and_process(store, records("Bilderbuchkino für Kinder ab 4"), 1).canonical
    publish_stage.publish_stage(store, now=NOW, out_dir=out, events=events)
    expected = files(out)
    family = next(e for e in events if e.tags and e.tags.family)
    # The same event with a title of the same length: its page changes, not its size.
    other = [
        evolve(e, title=e.title.replace("4", "5").replace("Bilder", "Bildor"))
        if e.uid == family.uid
        else e
        for e in events
    ]
    assert other != events

    def lost(*args: Any, **kwargs: Any) -> None:
        raise OSError("killed after the renames")

    with monkeypatch.context() as patch:
        patch.setattr(Store, "save_pages", lost)
        with pytest.raises(OSError):
            publish_stage.publish_stage(store, now=NOW, out_dir=out, events=other)
    changed = {n for n, data in files(out).items() if expected.get(n) != data}
    assert any(n.startswith("termine/") and n.endswith(".html") for n in changed)
    # The first inputs again: the folder is the first publish's, page for page.
    publish_stage.publish_stage(store, now=NOW, out_dir=out, events=events)
    assert files(out) == expected


def test_site_files_are_made_only_when_what_they_show_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The site's index files, language pages and list pages carry marks as the feeds do:
    after a change to an event of the first two weeks, the later month's index file and
    the list pages that do not show it are not made again; a later ``now`` (an event has
    ended, the first load's horizon moved) remakes what shows that; and every folder is
    byte for byte a full publish from nothing."""
    store = Store(tmp_path / "e.db")
    out = tmp_path / "out"
    report = crawl_and_process(store, records("Bilderbuchkino für Kinder ab 4"), 1)
    publish_stage.publish_stage(store, now=NOW, out_dir=out, events=report.canonical)
    month = "site/index-2026-12.json"  # the series' dates after the first two weeks
    assert (out / month).is_file()
    report = crawl_and_process(store, records("Bilderbuchkino für Kinder ab 5"), 2)
    with monkeypatch.context() as patch:
        seen = contents(patch)
        publish_stage.publish_stage(store, now=NOW, out_dir=out, events=report.canonical)
    site = {n: d for n, d in seen.items() if n.startswith(("site/", "bezirk/", "alter/"))}
    languages = {"index.html", *(f"{lang.code}/index.html" for lang in LANGUAGES)}
    site.update({n: d for n, d in seen.items() if n in languages})
    kept = {n for n, d in site.items() if isinstance(d, Staged) and d.tmp is None}
    made = set(site) - kept
    assert month in kept
    assert {"site/index.json", "site/words.json", "index.html", "en/index.html"} <= made
    assert any(n.startswith("alter/") for n in kept), sorted(kept)
    for name in made - {"site/famcal.js", "site/site.css", "site/words.json"}:
        assert "ab 5" in (out / name).read_text(encoding="utf-8"), name

    def fresh_publish(now: Any, folder: Path) -> dict[str, bytes]:
        for table in ("render_cache", "page_cache"):
            store.db.execute(f"delete from {table}")
        store.db.execute("delete from meta where key = ?", [publish_stage.FEED_MARKS])
        store.db.conn.commit()
        publish_stage.publish_stage(store, now=now, out_dir=folder, events=report.canonical)
        return files(folder)

    assert files(out) == fresh_publish(NOW, tmp_path / "fresh")
    # Into ``out`` again (the marks are now of ``fresh``), then a week later.
    publish_stage.publish_stage(store, now=NOW, out_dir=out, events=report.canonical)
    later = NOW + timedelta(days=8)
    with monkeypatch.context() as patch:
        seen = contents(patch)
        publish_stage.publish_stage(store, now=later, out_dir=out, events=report.canonical)
    assert not isinstance(seen["site/index.json"], Staged)
    expected = fresh_publish(later, tmp_path / "fresh-later")
    assert files(out) == expected
