"""A publish rewrites only what changed (issue #20): after one event changed, that event's two
files of the site and the feeds, lists and index that show it; its pages equal those of a
full publish into an empty folder; a page left short on disk is rewritten."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from core.model import AgeGroup, District, RawEvent, Topic
from core.store import Store
from famcal import publish_stage
from feeds.publish import feed_specs, memberships
from feeds.site.entries import event_key
from tests.conftest import NOW
from tests.feed_samples import sample_events
from tests.test_caches import crawl_and_process

# Files that show the run itself, not only the events (the sources' health, the reports).
RUN_FILES = ("health.json", "health.html", "bericht/")


def records(title: str) -> list[RawEvent]:
    series = [
        RawEvent(
            source_id="s",
            record_id=f"krabbel#{day}",
            title="Krabbelgruppe für Babys",
            start=f"2026-12-{day:02d}T10:00:00",
        )
        for day in (1, 8, 15, 22)
    ]
    return [
        *series,
        RawEvent(source_id="s", record_id="b", title=title, start="2026-12-06T11:00:00"),
        RawEvent(
            source_id="s",
            record_id="c",
            title="Kinderturnen für Kinder von 3 bis 6 Jahren",
            start="2026-12-09T15:00:00",
        ),
        RawEvent(
            source_id="s",
            record_id="d",
            title="Vortrag zur Steuererklärung",
            start="2026-12-10T19:00:00",
        ),
    ]


def files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_one_changed_event_rewrites_only_its_files(tmp_path: Path) -> None:
    store = Store(tmp_path / "e.db")
    out = tmp_path / "out"
    report = crawl_and_process(store, records("Bilderbuchkino für Kinder ab 4"), 1)
    publish_stage.publish_stage(store, now=NOW, out_dir=out, events=report.canonical)
    uid = next(e.uid for e in report.canonical if e.title.startswith("Bilderbuchkino"))
    key = event_key(uid)
    assert (out / "termine" / f"{key}.html").is_file()
    pages_before = len(list((out / "termine").iterdir()))

    new_title = "Bilderbuchkino für Kinder ab 5"
    report = crawl_and_process(store, records(new_title), 2)
    published = publish_stage.publish_stage(store, now=NOW, out_dir=out, events=report.canonical)
    site_pages = sorted(n for n in published.written if n.startswith("termine/"))
    assert site_pages == [f"termine/{key}.html", f"termine/{key}.ics"]
    others = [n for n in published.written if not n.startswith(("termine/", *RUN_FILES))]
    assert others, published.written
    for name in others:  # every other rewritten file shows the changed event (words.json folded)
        assert "kinder ab 5" in (out / name).read_text(encoding="utf-8").casefold(), name
    assert len(list((out / "termine").iterdir())) == pages_before
    assert not (out / ".staging").exists()

    # Byte for byte the folder a full publish makes from nothing (no caches, no files).
    store.db.execute("delete from render_cache")
    store.db.execute("delete from page_cache")
    store.db.conn.commit()
    fresh = tmp_path / "fresh"
    publish_stage.publish_stage(store, now=NOW, out_dir=fresh, events=report.canonical)
    assert files(out) == files(fresh)

    # A page left short on disk (a power loss after the rename) is rewritten, the rest kept.
    short = next(p for p in sorted((out / "termine").glob("*.html")) if p.stem != key)
    short.write_bytes(b"")
    again = publish_stage.publish_stage(store, now=NOW, out_dir=out, events=report.canonical)
    assert [n for n in again.written if n.startswith("termine/")] == [f"termine/{short.name}"]
    assert files(out) == files(fresh)


def test_feed_members_found_by_facet_equal_each_feeds_own_test() -> None:
    specs = feed_specs()
    views = [e.tags.to_dict() if e.tags else {} for e in sample_events()]
    expected = [[n for n, view in enumerate(views) if spec.accepts(view)] for spec in specs]
    assert memberships(specs, views) == expected
    assert any(len(m) for spec, m in zip(specs, expected, strict=True) if spec.path.count("/") > 1)


AGES = st.one_of(st.none(), st.integers(min_value=0, max_value=20))


@st.composite
def tag_views(draw: st.DrawFn) -> dict[str, Any]:
    """A tag view as ``Tags.to_dict`` gives it, of the fields the facets read."""
    return {
        "family": draw(st.booleans()),
        "district": draw(st.one_of(st.none(), st.sampled_from([d.value for d in District]))),
        "age_min": draw(AGES),
        "age_max": draw(AGES),
        "age_groups": draw(st.lists(st.sampled_from([g.value for g in AgeGroup]), unique=True)),
        "topics": draw(st.lists(st.sampled_from([t.value for t in Topic]), unique=True)),
        "free": draw(st.sampled_from([True, False, None])),
    }


@settings(max_examples=60, deadline=None)
@given(st.lists(tag_views(), max_size=40))
def test_feed_members_of_any_tags_equal_each_feeds_own_test(views: list[dict[str, Any]]) -> None:
    # Many views share readings (memberships tests each reading once): the repeats check
    # that a reading's cached answer is that of every view reading the same.
    views = views + views[::-1]
    specs = feed_specs()
    expected = [[n for n, view in enumerate(views) if spec.accepts(view)] for spec in specs]
    assert memberships(specs, views) == expected
