"""map_chunks, start_chunks and stream_chunks: the same results in the same order, in
parallel or not; a started map's failed worker raises, and no worker outlives ``results`` or
``cancel``; a stream's pool ends with the stream."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from core import parallel
from core.parallel import WorkerError, map_chunks, start_chunks, stream_chunks


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


def test_started_chunks_equal_serial_and_let_the_caller_work() -> None:
    items = list(range(1001))
    with start_chunks(square, items, min_items=1) as started:
        meanwhile = sum(items)  # the caller's own work while the workers run
        assert started.results() == [n * n for n in items]
    assert meanwhile == 500500
    assert not multiprocessing.active_children()
    for processes in (1, 3, 0):  # 0: serial
        assert start_chunks(square, items, min_items=1, processes=processes).results() == [
            n * n for n in items
        ]


def test_started_chunks_stay_serial_for_small_inputs_and_under_threads() -> None:
    calls: list[int] = []

    def noted(n: int) -> int:
        calls.append(n)  # in this process: the serial fallback
        return n * n

    started = start_chunks(noted, [1, 2, 3])
    assert calls == []  # run by ``results``, where the parallel path waits
    assert started.results() == [1, 4, 9] and calls == [1, 2, 3]
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert start_chunks(noted, list(range(10)), min_items=1).results() == [
            n * n for n in range(10)
        ]
    finally:
        stop.set()
        thread.join()
    assert calls[3:] == list(range(10))


def niceness(_n: int) -> int:
    return os.nice(0)


def test_workers_run_at_the_niceness_asked() -> None:
    """``nice`` lowers the workers' priority, not the caller's (``in_background``: forked)."""
    base = os.nice(0)
    lowered = min(base + 5, 19)
    with start_chunks(niceness, list(range(40)), min_items=1, nice=5) as job:
        assert job.in_background
        assert job.results() == [lowered] * 40  # every item by a worker
    with start_chunks(niceness, list(range(40)), min_items=1, nice=5, chunk=4) as job:
        assert set(job.results()) <= {base, lowered}  # the caller helps at its own priority
    assert os.nice(0) == base
    small = start_chunks(niceness, [1, 2, 3], nice=5)
    assert not small.in_background and small.results() == [base] * 3


def fails_on_seven(n: int) -> int:
    if n == 7:
        raise ValueError("seven")
    return n


def dies_on_seven(n: int) -> int:
    if n == 7:
        os._exit(3)
    return n


@pytest.mark.parametrize(
    ("func", "message"), [(fails_on_seven, "ValueError: seven"), (dies_on_seven, "exit code 3")]
)
def test_a_failed_worker_raises_after_all_stopped(func: Any, message: str) -> None:
    with pytest.raises(WorkerError, match=message):
        start_chunks(func, list(range(10)), min_items=1).results()
    assert not multiprocessing.active_children()


def sleeps(n: int) -> int:
    time.sleep(5)
    return n


def test_cancel_stops_the_workers() -> None:
    begin = time.monotonic()
    with start_chunks(sleeps, list(range(4)), min_items=1):
        pass
    assert not multiprocessing.active_children()
    assert time.monotonic() - begin < 4


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


def marked(folder: Path, n: int) -> tuple[int, int]:
    """n², and who did it; a file per item, made only once (a second time raises)."""
    time.sleep(0.002)
    (folder / str(n)).open("x").close()
    return n * n, os.getpid()


def test_shared_chunks_equal_serial_and_the_caller_takes_its_share(tmp_path: Path) -> None:
    """With ``chunk``, the worker and the caller (in ``results()``) take chunks from one
    handout: every item is done once, by one of them, and the results are in order."""
    items = list(range(301))  # not a multiple of the chunk
    with start_chunks(partial(marked, tmp_path), items, min_items=1, processes=1, chunk=8) as job:
        results = job.results()
    assert [square for square, _ in results] == [n * n for n in items]
    assert sorted(int(p.name) for p in tmp_path.iterdir()) == items
    doers = {pid for _, pid in results}
    assert os.getpid() in doers and len(doers) == 2  # the caller helped the worker
    assert not multiprocessing.active_children()


def fails_in_a_worker(parent: int, n: int) -> int:
    if os.getpid() != parent and n % 10 == 7:
        raise ValueError("seven")
    time.sleep(0.002)
    return n


def dies_in_a_worker(parent: int, n: int) -> int:
    if os.getpid() != parent and n % 10 == 7:
        os._exit(3)
    time.sleep(0.002)
    return n


@pytest.mark.parametrize(
    ("func", "message"),
    [(fails_in_a_worker, "ValueError: seven"), (dies_in_a_worker, "exit code 3")],
)
def test_a_failed_worker_of_a_shared_map_raises(func: Any, message: str) -> None:
    job = start_chunks(partial(func, os.getpid()), list(range(200)), min_items=1, chunk=4)
    with pytest.raises(WorkerError, match=message):
        job.results()
    assert not multiprocessing.active_children()
