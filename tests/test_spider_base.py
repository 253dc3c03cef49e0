"""The spider base: events reach Scrapy in batches, in order, with requests in between."""

from __future__ import annotations

from typing import Any

from scrapy.http import Request

from core.config import SourceConfig
from core.model import RawEvent, SourceType
from spiders import base
from tests.conftest import NOW


def spider(**budgets: Any) -> base.SourceSpider:
    source = SourceConfig(
        id="s", type=SourceType.ICS, name="S", start_urls=("http://x/",), **budgets
    )
    return base.SourceSpider(source=source, window_start=NOW, window_end=NOW)


def raw(n: int) -> RawEvent:
    return RawEvent(source_id="s", record_id=str(n), title=f"T{n}", start="2026-12-06")


def test_events_are_batched_in_order_around_requests(monkeypatch: Any) -> None:
    monkeypatch.setattr(base, "BATCH_SIZE", 2)
    follow = Request("http://x/next")

    def callback(response: Any) -> Any:
        yield from (raw(1), raw(2), raw(3))
        yield follow
        yield raw(4)

    out = list(base._batching(callback, spider())(None))
    assert [type(o).__name__ for o in out] == [
        "RecordBatch",
        "RecordBatch",
        "Request",
        "RecordBatch",
    ]
    flat = [e.record_id for o in out if isinstance(o, base.RecordBatch) for e in o.events]
    assert flat == ["1", "2", "3", "4"]
    assert out[2] is follow
    assert [len(o.events) for o in out if isinstance(o, base.RecordBatch)] == [2, 1, 1]


def test_a_callback_without_output_yields_nothing() -> None:
    assert list(base._batching(lambda response: None, spider())(None)) == []


def test_reading_stops_at_max_occurrences() -> None:
    read: list[int] = []

    def endless(response: Any) -> Any:
        n = 0
        while True:
            n += 1
            read.append(n)
            yield raw(n)

    capped = spider(max_occurrences=3)
    out = list(base._batching(endless, capped)(None))
    assert [e.record_id for o in out for e in o.events] == ["1", "2", "3"]
    assert read == [1, 2, 3, 4]  # the generator is closed right after the cap
    assert capped.problems == {"budget max_occurrences": 1}
    assert capped.degradations and capped.degradations[0].startswith("budget max_occurrences")
