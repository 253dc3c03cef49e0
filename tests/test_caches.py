"""Work reused across runs (issue #9): the rules run once per distinct listing text, not again
for texts an earlier run tagged; an event's feed forms are serialized again only when the
event changed. Reuse never changes a byte of the output."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.config import SourceConfig
from core.model import Event, Health, Location, RawEvent, SourceType, json_digest
from core.store import Store
from famcal import process_stage, publish_stage
from tests.conftest import NOW

SOURCE = SourceConfig(id="s", type=SourceType.ICS, name="S", start_urls=("http://x/",))


def records(title_b: str = "Bilderbuchkino für Kinder ab 4") -> list[RawEvent]:
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
        RawEvent(source_id="s", record_id="b", title=title_b, start="2026-12-06T11:00:00"),
    ]


def crawl_and_process(
    store: Store, raws: list[RawEvent], run_id: int, **process: Any
) -> process_stage.ProcessReport:
    store.save_crawl(
        run_id=run_id,
        source_id="s",
        name="S",
        type="ics",
        status=Health.OK,
        error=None,
        records=raws,
        count=len(raws),
        at=NOW,
        window_start=NOW,
    )
    return process_stage.process_stage(store, [SOURCE], now=NOW, run_id=run_id, **process)


def titles_called(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[str]:
    """The titles of the events ``<module>.<name>`` is called with from now on."""
    titles: list[str] = []
    real = getattr(module, name)

    def counting(event: Event) -> Any:
        titles.append(event.title)
        return real(event)

    monkeypatch.setattr(module, name, counting)
    return titles


def test_rules_run_once_per_text_and_not_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(tmp_path / "e.db")
    calls = titles_called(monkeypatch, process_stage, "rule_tags")
    first = crawl_and_process(store, records(), 1)
    assert sorted(calls) == ["Bilderbuchkino für Kinder ab 4", "Krabbelgruppe für Babys"]
    calls.clear()
    second = crawl_and_process(store, records("Bilderbuchkino für Kinder ab 5"), 2)
    assert calls == ["Bilderbuchkino für Kinder ab 5"]  # only the changed text
    tags = {e.title: e.tags for e in second.canonical}
    assert tags["Bilderbuchkino für Kinder ab 5"].age_min == 5  # type: ignore[union-attr]
    assert {e.uid: e.tags for e in first.canonical if "Krabbel" in e.title} == {
        e.uid: e.tags for e in second.canonical if "Krabbel" in e.title
    }


def test_feed_forms_are_reused_only_for_unchanged_events(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(tmp_path / "e.db")
    report = crawl_and_process(store, records(), 1)
    publish_stage.publish_stage(store, now=NOW, out_dir=tmp_path / "a", events=report.canonical)

    made = titles_called(monkeypatch, publish_stage, "serialize")
    report = crawl_and_process(store, records("Bilderbuchkino für Kinder ab 5"), 2)
    publish_stage.publish_stage(store, now=NOW, out_dir=tmp_path / "b", events=report.canonical)
    assert made == ["Bilderbuchkino für Kinder ab 5"]

    # The reused forms give the same bytes as serializing everything afresh.
    store.db.execute("delete from render_cache")
    store.db.conn.commit()
    publish_stage.publish_stage(store, now=NOW, out_dir=tmp_path / "c", events=report.canonical)
    for path in sorted((tmp_path / "b").rglob("*")):
        if path.is_file():
            assert (
                path.read_bytes()
                == (tmp_path / "c" / path.relative_to(tmp_path / "b")).read_bytes()
            ), path


def test_forms_keyed_from_the_stored_json_serve_a_later_publish_from_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # famcal run keys the forms by the digests of the JSON process saved; famcal publish reads the
    # events back from the database and must find the same keys (no serialization).
    store = Store(tmp_path / "e.db")
    report = crawl_and_process(store, records(), 1)
    assert report.stored_digests == {e.uid: json_digest(e.to_json()) for e in report.canonical}
    publish_stage.publish_stage(
        store,
        now=NOW,
        out_dir=tmp_path / "a",
        events=report.canonical,
        stored_digests=report.stored_digests,
    )
    made = titles_called(monkeypatch, publish_stage, "serialize")
    publish_stage.publish_stage(store, now=NOW, out_dir=tmp_path / "b")
    assert made == []
    assert sorted(p.name for p in (tmp_path / "b").rglob("*.ics")) == sorted(
        p.name for p in (tmp_path / "a").rglob("*.ics")
    )


def test_merged_events_tags_come_from_the_cache_and_equal_fresh_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A listing two sources carry merges and is tagged again (issue #20: through the tag
    cache); the tags equal a fresh ``retag_merged`` and a later run tags nothing again."""
    from pipeline.lifecycle import retag_merged
    from pipeline.tag import tag_event

    other = SourceConfig(id="t", type=SourceType.ICS, name="T", start_urls=("http://y/",))
    store = Store(tmp_path / "e.db")

    def run(run_id: int) -> process_stage.ProcessReport:
        for source_id, title, text in (
            ("s", "Kindertheater: Die kleine Hexe", "Für Kinder ab 5 Jahren."),
            ("t", "KINDERTHEATER: DIE KLEINE HEXE", "Eintritt frei, für Kinder ab 5."),
        ):
            raw = RawEvent(
                source_id=source_id,
                record_id="hexe",
                title=title,
                description=text,
                start="2026-12-06T11:00:00",
                location=Location(name="Freizeitheim Linden"),
            )
            store.save_crawl(
                run_id=run_id, source_id=source_id, name=source_id, type="ics",
                status=Health.OK, error=None, records=[raw], count=1, at=NOW, window_start=NOW,
            )  # fmt: skip
        return process_stage.process_stage(store, [SOURCE, other], now=NOW, run_id=run_id)

    first = run(1)
    merged = [e for e in first.canonical if len(e.sources) > 1]
    assert len(merged) == 1
    assert merged[0].tags == tag_event(merged[0])
    members = {(r.id, r.record_id): merged[0] for r in merged[0].sources}
    assert retag_merged(merged[0], members).tags == merged[0].tags
    import pipeline.tag

    calls: list[str] = []
    real = pipeline.tag.tag_fields

    def counting(**fields: Any) -> Any:  # every rules pass goes through it, retags too
        calls.append(fields["title"])
        return real(**fields)

    monkeypatch.setattr(pipeline.tag, "tag_fields", counting)
    second = run(2)
    assert calls == []
    assert [e.tags for e in second.canonical] == [e.tags for e in first.canonical]
