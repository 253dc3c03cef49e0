"""map_chunks and start_chunks: the same results in the same order, in parallel or not; a
dead worker is an error, never a short list."""

from __future__ import annotations

import os
import threading
from concurrent.futures.process import BrokenProcessPool

import pytest

from core import parallel
from core.parallel import map_chunks, start_chunks, stream_chunks


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


def test_started_chunks_equal_serial_while_the_caller_works() -> None:
    items = list(range(1001))
    with start_chunks(square, items, min_items=1) as pending:
        meanwhile = sum(items)  # the caller goes on while the workers run
        assert pending.result() == [n * n for n in items]
    assert meanwhile == 500500
    with pytest.raises(RuntimeError):
        pending.result()  # handed over once


def test_started_chunks_stay_serial_when_small_or_threaded(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_pool(*args: object, **kwargs: object) -> None:
        raise AssertionError("no worker processes")

    monkeypatch.setattr(parallel, "ProcessPoolExecutor", no_pool)
    assert start_chunks(square, [1, 2, 3]).result() == [1, 4, 9]
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert start_chunks(square, list(range(10)), min_items=1).result() == [
            n * n for n in range(10)
        ]
    finally:
        stop.set()
        thread.join()


def die_on_seven(n: int) -> int:
    if n == 7:
        os._exit(9)  # a worker killed mid-way
    return n


def test_a_dead_worker_raises_at_result() -> None:
    pending = start_chunks(die_on_seven, list(range(20)), min_items=1)
    with pytest.raises(BrokenProcessPool):
        pending.result()


def test_streamed_chunks_equal_serial_and_end_their_workers() -> None:
    items = list(range(5001))
    streamed = stream_chunks(square, items, size=300, min_items=1)
    assert next(streamed) == 0
    assert [0, *streamed] == [n * n for n in items]
    assert threading.active_count() == 1  # the pool's thread is gone: others may fork again
    early = stream_chunks(square, items, size=300, min_items=1)
    next(early)
    early.close()  # closed before the end: the workers are ended too
    assert threading.active_count() == 1
    assert list(stream_chunks(square, [1, 2, 3])) == [1, 4, 9]
