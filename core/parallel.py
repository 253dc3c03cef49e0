"""Use every core for the CPU-bound parts of a run (tagging, serialization).

Contract: ``map_chunks(func, items)`` returns ``[func(item) for item in items]`` in order.
For large inputs on a machine with several cores it forks worker processes that inherit
``func`` and ``items`` (nothing is pickled on the way in; only results come back), one
contiguous chunk each. It stays serial when the input is small, when there is one core,
when ``fork`` is unavailable, or when other threads are running (forking a threaded process
can deadlock) — so the result never depends on whether it ran in parallel. ``func`` must be
pure: a worker's side effects are lost with it.
``start_chunks(func, items)`` is the same map begun in the background: the workers are
forked at once and the caller does other work until ``Pending.result()`` (the same list as
``map_chunks``; serially, at that call, when ``map_chunks`` would stay serial). Until then
the caller must not start threads of its own; a worker that dies raises there.
``stream_chunks(func, items, size=…)`` is the same map as an iterator for results too large
to hold at once: the workers are forked at the call and work through chunks of ``size``
items, and the results are yielded in order as their chunks come back (lazily, item by
item, when ``map_chunks`` would stay serial); the workers are ended when the iterator is
exhausted or closed.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import islice
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

MIN_PARALLEL = 4000  # below this, starting workers costs more than it saves

_job: tuple[Callable[[Any], Any], Sequence[Any]] | None = None


def _run_chunk(bounds: tuple[int, int]) -> list[Any]:
    assert _job is not None  # set by the parent before the fork
    func, items = _job
    return [func(item) for item in items[bounds[0] : bounds[1]]]


def workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _serial(size: int, min_items: int, count: int) -> bool:
    return (
        size < min_items
        or count < 2
        or "fork" not in multiprocessing.get_all_start_methods()
        or threading.active_count() > 1
    )


def map_chunks(
    func: Callable[[T], R], items: Sequence[T], *, min_items: int = MIN_PARALLEL
) -> list[R]:
    count = workers()
    if _serial(len(items), min_items, count):
        return [func(item) for item in items]
    global _job
    _job = (func, items)
    try:
        size = -(-len(items) // count)
        bounds = [(i, min(i + size, len(items))) for i in range(0, len(items), size)]
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=len(bounds), mp_context=context) as pool:
            results: list[R] = []
            for part in pool.map(_run_chunk, bounds):
                results.extend(part)
            return results
    finally:
        _job = None


class Pending(Generic[R]):
    """The results of ``start_chunks``, in order, when ``result()`` is called; ``close()``
    (also on leaving a ``with`` block) waits for the workers and drops what they made."""

    def __init__(
        self,
        func: Callable[[Any], R],
        items: Sequence[Any],
        pool: ProcessPoolExecutor | None = None,
        futures: Sequence[Future[list[R]]] = (),
    ) -> None:
        self._func, self._pool, self._futures = func, pool, futures
        self._items: Sequence[Any] | None = items

    def result(self) -> list[R]:
        """The results (once: the caller owns them; a second call raises)."""
        if self._items is None:
            raise RuntimeError("the results were already taken")
        try:
            if self._pool is None:
                return [self._func(item) for item in self._items]
            return [r for future in self._futures for r in future.result()]
        finally:
            self._items, self._futures = None, ()
            self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> Pending[R]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start_chunks(
    func: Callable[[T], R], items: Sequence[T], *, min_items: int = MIN_PARALLEL
) -> Pending[R]:
    count = workers()
    if _serial(len(items), min_items, count):
        return Pending(func, items)
    size = -(-len(items) // count)
    bounds = [(i, min(i + size, len(items))) for i in range(0, len(items), size)]
    context = multiprocessing.get_context("fork")
    # The job reaches each worker as its initializer's argument, which a forked worker
    # inherits (not pickled), whenever the pool forks it.
    pool = ProcessPoolExecutor(
        max_workers=len(bounds), mp_context=context, initializer=_set_job, initargs=(func, items)
    )
    try:
        futures = [pool.submit(_run_chunk, b) for b in bounds]
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    return Pending(func, items, pool, futures)


def _set_job(func: Callable[[Any], Any], items: Sequence[Any]) -> None:
    global _job
    _job = (func, items)


def stream_chunks(
    func: Callable[[T], R],
    items: Sequence[T],
    *,
    size: int = 1000,
    min_items: int = MIN_PARALLEL,
) -> Generator[R, None, None]:
    count = workers()
    if _serial(len(items), min_items, count):
        return (func(item) for item in items)
    bounds = iter([(i, min(i + size, len(items))) for i in range(0, len(items), size)])
    context = multiprocessing.get_context("fork")
    pool = ProcessPoolExecutor(
        max_workers=count, mp_context=context, initializer=_set_job, initargs=(func, items)
    )
    try:
        # Two chunks a worker in flight, so that results wait for the caller only so far
        # (the first submit forks the workers, now).
        ahead = deque(pool.submit(_run_chunk, b) for b in islice(bounds, 2 * count))
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    return _drain(pool, ahead, bounds)


def _drain(
    pool: ProcessPoolExecutor, ahead: deque[Future[list[R]]], bounds: Iterator[tuple[int, int]]
) -> Generator[R, None, None]:
    try:
        while ahead:
            part = ahead.popleft().result()
            if (more := next(bounds, None)) is not None:
                ahead.append(pool.submit(_run_chunk, more))
            yield from part
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
