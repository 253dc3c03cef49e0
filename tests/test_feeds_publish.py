"""publish: the feed matrix always complete, deterministic, one serialization per event,
nothing rewritten when nothing changed, and a failed publish leaves the previous files."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from core.model import AgeGroup, District, Event, Tags, Topic
from feeds import ics, jsonfeed, jsonld, publish, staging
from tests.feed_samples import HOSTILE, NOW, event, sample_events

# alle, familie, kostenlos, the facets' feeds and district × age group (the site's builder).
FEED_COUNT = 3 + len(District) + len(AgeGroup) + len(Topic) + len(District) * len(AgeGroup)


def snapshot(out: Path) -> dict[str, tuple[int, bytes]]:
    return {
        str(p.relative_to(out)): (p.stat().st_mtime_ns, p.read_bytes())
        for p in sorted(out.rglob("*"))
        if p.is_file()
    }


def test_every_feed_exists_even_when_empty(tmp_path: Path) -> None:
    report = publish.publish([], out_dir=tmp_path, now=NOW)
    assert len(report.feeds) == FEED_COUNT and set(report.feeds.values()) == {0}
    for spec in publish.feed_specs():
        assert json.loads((tmp_path / f"{spec.path}.json").read_text())["items"] == []
        assert b"BEGIN:VCALENDAR" in (tmp_path / f"{spec.path}.ics").read_bytes()
    assert json.loads((tmp_path / "familie.jsonld").read_text())["@graph"] == []


def test_feed_membership_and_window() -> None:
    events = sample_events()
    rendered = publish.render(events, now=NOW)
    feeds = rendered.report.feeds
    in_window = [e for e in events if publish.in_window(e, NOW)]
    assert len(in_window) == len(events) - 2
    assert feeds["alle"] == len(in_window)
    assert feeds["familie"] == sum(1 for e in in_window if e.tags and e.tags.family)
    assert feeds["bezirk/linden-limmer"] >= 2
    alle = json.loads(rendered.files["alle.json"])["items"]
    assert "ev120@famcal-hannover" not in {i["id"] for i in alle}
    starts = [i["_event"]["start"] for i in alle]
    assert len(starts) == len(in_window)


def test_same_data_same_bytes_whatever_the_order() -> None:
    events = sample_events()
    first = publish.render(events, now=NOW).files
    random.Random(7).shuffle(events)
    assert publish.render(events, now=NOW).files == first


def counting(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[int]:
    calls: list[int] = []
    original: Callable[..., Any] = getattr(module, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapper)
    return calls


@pytest.mark.parametrize("copies", [1, 3])
def test_one_serialization_per_event_however_many_feeds(
    monkeypatch: pytest.MonkeyPatch, copies: int
) -> None:
    # Every event is family, free, with a district, an age group and a topic: 7 feeds each
    # (alle, familie, kostenlos, its district, its group, its topic, district × group).
    events = [
        event(
            n + 20 * c,
            tags=Tags(
                family=True,
                free=True,
                district=list(District)[n],
                age_groups=(AgeGroup.KITA,),
                topics=(Topic.KULTUR,),
            ),
        )
        for c in range(copies)
        for n in range(len(District))
    ]
    vevents = counting(monkeypatch, ics, "vevent")
    items = counting(monkeypatch, jsonfeed, "item")
    dumps = counting(monkeypatch, jsonfeed, "dump_item")
    ld = counting(monkeypatch, jsonld, "event_jsonld")
    rendered = publish.render(events, now=NOW)
    shown = rendered.report.feeds["alle"]
    # Each family event sits in alle, familie and more; still one serialization per format.
    assert shown == len(events)
    assert len(vevents) == len(items) == len(dumps) == len(ld) == shown
    assert sum(rendered.report.feeds.values()) == 7 * shown


def test_second_publish_rewrites_nothing(tmp_path: Path) -> None:
    events = sample_events()
    first = publish.publish(events, out_dir=tmp_path, now=NOW)
    assert len(first.written) == 2 * FEED_COUNT + 1
    before = snapshot(tmp_path)
    second = publish.publish(events, out_dir=tmp_path, now=NOW)
    assert second.written == [] and second.unchanged == 2 * FEED_COUNT + 1
    assert snapshot(tmp_path) == before


def test_a_changed_event_rewrites_only_its_feeds(tmp_path: Path) -> None:
    events = sample_events()
    publish.publish(events, out_dir=tmp_path, now=NOW)
    changed = [e if e.uid != "ev112@famcal-hannover" else event(112, title="Neu") for e in events]
    written = publish.publish(changed, out_dir=tmp_path, now=NOW).written
    assert "alle.ics" in written and "bezirk/mitte.ics" not in written


def test_failed_publish_leaves_the_previous_feeds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish.publish(sample_events(), out_dir=tmp_path, now=NOW)
    before = snapshot(tmp_path)
    calls: list[int] = []
    original = ics.calendar_chunks

    def failing(**kwargs: Any) -> Iterator[bytes]:
        calls.append(1)
        pieces = original(**kwargs)
        if len(calls) == 10:
            # Half a feed is already in its staging file when the failure comes.
            yield next(pieces)
            raise RuntimeError("serialization failed mid-way")
        yield from pieces

    monkeypatch.setattr(ics, "calendar_chunks", failing)
    newer = [event(300 + n, title=f"Neu {n}") for n in range(5)]
    with pytest.raises(RuntimeError):
        publish.publish(newer, out_dir=tmp_path, now=NOW)
    assert snapshot(tmp_path) == before
    assert not [p for p in tmp_path.rglob(".*") if p.is_file()]  # no temporary files left


def test_failed_write_leaves_whole_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    publish.publish(sample_events(), out_dir=tmp_path, now=NOW)
    before = snapshot(tmp_path)
    newer = publish.render([event(300, title="Neu")], now=NOW)
    replaced: list[int] = []
    real_replace = staging.os.replace

    def flaky(src: Any, dst: Any) -> None:
        replaced.append(1)
        if len(replaced) == 5:
            raise OSError("disk full")
        real_replace(src, dst)

    monkeypatch.setattr(staging.os, "replace", flaky)
    with pytest.raises(OSError):
        publish.write_files(tmp_path, newer.files, newer.report)
    after = snapshot(tmp_path)
    for name, (_, data) in after.items():
        assert data in (before[name][1], newer.files[name])  # old or new, never partial
    assert not [p for p in tmp_path.rglob(".*") if p.is_file()]


def test_staged_publish_is_all_or_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    publish.publish(out_dir=tmp_path, now=NOW, events=sample_events())
    before = snapshot(tmp_path)
    calls: list[int] = []
    original = ics.calendar_chunks

    def failing(**kwargs: Any) -> Iterator[bytes]:
        calls.append(1)
        if len(calls) == 20:
            raise RuntimeError("serialization failed after some files were staged")
        yield from original(**kwargs)

    monkeypatch.setattr(ics, "calendar_chunks", failing)
    with pytest.raises(RuntimeError):
        publish.publish(
            out_dir=tmp_path, now=NOW, events=[event(300 + n, title=f"Neu {n}") for n in range(5)]
        )
    assert snapshot(tmp_path) == before
    assert not (tmp_path / staging.STAGING).exists()

    # A publish killed before its renames leaves staging files: the next one removes them.
    monkeypatch.undo()
    (tmp_path / staging.STAGING).mkdir()
    (tmp_path / staging.STAGING / "0").write_bytes(b"BEGIN:VCAL")
    publish.publish(out_dir=tmp_path, now=NOW, events=sample_events())
    assert not (tmp_path / staging.STAGING).exists()
    assert snapshot(tmp_path) == before


def test_json_feed_splices_items_into_valid_json() -> None:
    events = sample_events()
    rendered = publish.render(events, now=NOW, base_url="https://familie.example.de/kalender/")
    document = json.loads(rendered.files["familie.json"])
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    assert document["feed_url"] == "https://familie.example.de/kalender/familie.json"
    assert document["home_page_url"] == "https://familie.example.de/kalender/"
    first = document["items"][0]
    assert set(first) >= {"id", "title", "content_text", "date_modified", "tags", "_event"}
    assert "url" not in next(i for i in document["items"] if i["id"].startswith("ev112"))


def test_json_ld_events() -> None:
    rendered = publish.render(sample_events(), now=NOW)
    graph = json.loads(rendered.files["familie.jsonld"])
    assert graph["@context"] == "https://schema.org"
    by_id = {e["identifier"]: e for e in graph["@graph"]}
    assert all(e["@type"] == "Event" for e in by_id.values())
    first = by_id["ev000@famcal-hannover"]
    assert first["startDate"] == "2026-12-01T10:00:00+01:00"
    assert first["typicalAgeRange"] == "0-2"
    assert first["isAccessibleForFree"] is True
    assert first["offers"] == {"@type": "Offer", "price": 0, "priceCurrency": "EUR"}
    assert first["eventStatus"] == "https://schema.org/EventScheduled"
    assert first["location"]["address"] == {
        "@type": "PostalAddress",
        "streetAddress": "Str. 1",
        "postalCode": "30159",
        "addressLocality": "Hannover",
        "addressCountry": "DE",
    }
    hostile = by_id["ev112@famcal-hannover"]
    assert hostile["location"]["geo"] == {
        "@type": "GeoCoordinates",
        "latitude": 52.37,
        "longitude": 9.73,
    }
    assert "url" not in hostile  # javascript: is never published
    assert by_id["ev111@famcal-hannover"]["eventStatus"] == "https://schema.org/EventCancelled"
    all_day = by_id["ev110@famcal-hannover"]
    assert (all_day["startDate"], all_day["endDate"]) == ("2027-06-01", "2027-06-03")


def test_json_ld_script_tag_cannot_be_closed_by_source_text() -> None:
    tag = jsonld.script_tag([jsonld.event_jsonld(event(1, title=HOSTILE))])
    inner = tag.removeprefix('<script type="application/ld+json">').removesuffix("</script>")
    assert "<" not in inner and ">" not in inner
    assert json.loads(inner)[0]["name"] == HOSTILE


def test_ics_calendar_metadata_of_a_feed() -> None:
    import icalendar

    rendered = publish.render(sample_events(), now=NOW)
    cal = icalendar.Calendar.from_ical(rendered.files["bezirk/linden-limmer.ics"])
    assert str(cal["X-WR-CALNAME"]) == "Familienkalender Hannover: Linden-Limmer"
    assert "Linden-Limmer" in str(cal["DESCRIPTION"])
    assert cal["REFRESH-INTERVAL"].params["VALUE"] == "DURATION"
    assert cal["X-PUBLISHED-TTL"].to_ical() == b"PT6H"
    ev = next(e for e in cal.events if str(e["UID"]).startswith("ev112"))
    assert "URL" not in ev
    assert "Preis: kostenlos" in str(ev["DESCRIPTION"]) and "Quelle: src" in str(ev["DESCRIPTION"])
    themed: Event = event(5, tags=sample_events()[5].tags)
    assert ics.feed_categories(themed)


@pytest.mark.parametrize("count", [0, 1, 3])
def test_json_feed_written_in_pieces_is_one_valid_document(count: int, tmp_path: Path) -> None:
    items = [jsonfeed.dump_item({"id": f"e{n}", "title": f"Ä {n}"}) for n in range(count)]
    report = publish.PublishReport()
    publish.write_staged(
        tmp_path,
        [("f.json", jsonfeed.feed_chunks(title="T", description="D", items=items))],
        report,
    )
    document = json.loads((tmp_path / "f.json").read_text(encoding="utf-8"))
    assert [i["id"] for i in document["items"]] == [f"e{n}" for n in range(count)]
    assert (tmp_path / "f.json").read_bytes() == jsonfeed.feed(
        title="T", description="D", items=items
    )
    # The same pieces again: the published file is left alone.
    again = publish.PublishReport()
    publish.write_staged(
        tmp_path, [("f.json", jsonfeed.feed_chunks(title="T", description="D", items=items))], again
    )
    assert (again.written, again.unchanged) == ([], 1)
    assert not [p for p in tmp_path.rglob(".*") if p.is_file()]
