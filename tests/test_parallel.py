"""map_chunks: the same results in the same order, in parallel or not."""

from __future__ import annotations

import threading

import pytest

from core import parallel
from core.parallel import map_chunks


def square(n: int) -> int:
    return n * n


def test_parallel_equals_serial() -> None:
    items = list(range(1001))
    assert map_chunks(square, items, min_items=1) == [n * n for n in items]


def test_small_inputs_stay_serial(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_pool(*args: object, **kwargs: object) -> None:
        raise AssertionError("no worker processes for small inputs")

    monkeypatch.setattr(parallel, "ProcessPoolExecutor", no_pool)
    assert map_chunks(square, [1, 2, 3]) == [1, 4, 9]


def test_no_fork_while_other_threads_run(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_pool(*args: object, **kwargs: object) -> None:
        raise AssertionError("forking a threaded process can deadlock")

    monkeypatch.setattr(parallel, "ProcessPoolExecutor", no_pool)
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert map_chunks(square, list(range(10)), min_items=1) == [n * n for n in range(10)]
    finally:
        stop.set()
        thread.join()


def test_tagging_in_parallel_matches_serial() -> None:
    from datetime import datetime

    from core.model import BERLIN, Event, Location
    from pipeline.tag import tag_event

    titles = ["Kindertheater ab 4 Jahren", "Vortrag: Rente", "Krabbelgruppe", "Flohmarkt"]
    events = [
        Event(
            uid=f"u{i}",
            title=titles[i % 4],
            start=datetime(2026, 12, 1, 10, tzinfo=BERLIN),
            end=None,
            all_day=False,
            location=Location(city="Hannover"),
        )
        for i in range(40)
    ]
    assert map_chunks(tag_event, events, min_items=1) == [tag_event(e) for e in events]
