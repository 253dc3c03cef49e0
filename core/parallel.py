"""Use every core for the CPU-bound parts of a run (tagging, serialization).

Contract: ``map_chunks(func, items)`` returns ``[func(item) for item in items]`` in order.
For large inputs on a machine with several cores it forks worker processes that inherit
``func`` and ``items`` (nothing is pickled on the way in; only results come back), one
contiguous chunk each. It stays serial when the input is small, when there is one core,
when ``fork`` is unavailable, or when other threads are running (forking a threaded process
can deadlock) — so the result never depends on whether it ran in parallel. ``func`` must be
pure: a worker's side effects are lost with it.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

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


def map_chunks(
    func: Callable[[T], R], items: Sequence[T], *, min_items: int = MIN_PARALLEL
) -> list[R]:
    count = workers()
    if (
        len(items) < min_items
        or count < 2
        or "fork" not in multiprocessing.get_all_start_methods()
        or threading.active_count() > 1
    ):
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
