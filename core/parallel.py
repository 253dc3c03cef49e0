"""Use every core for the CPU-bound parts of a run (tagging, serialization).

Contract: ``map_chunks(func, items)`` returns ``[func(item) for item in items]`` in order.
For large inputs on a machine with several cores it forks worker processes that inherit
``func`` and ``items`` (nothing is pickled on the way in; only results come back), one
contiguous chunk each. It stays serial when the input is small, when there is one core,
when ``fork`` is unavailable, or when other threads are running (forking a threaded process
can deadlock) — so the result never depends on whether it ran in parallel. ``func`` must be
pure: a worker's side effects are lost with it.

``start_chunks(func, items)`` is the same map started without waiting: it forks the workers
(under the same conditions) and returns at once a ``Started`` whose ``results()`` waits and
returns ``[func(item) for item in items]`` in order, so the caller works while they run. A
worker's side effects in memory are lost with it; its files stay, so ``func`` may write files
that no other item writes (the serial fallback runs it in the caller's process, in
``results()``, with the same effect). A worker's exception, or a worker that dies, makes
``results()`` raise ``WorkerError`` after every worker has stopped; ``cancel()`` (also on
leaving ``with``) stops those still running — after either, no worker writes anything more.
Threads are not started, so the caller may fork again while the workers run. With
``chunk``, the items are handed out ``chunk`` at a time to whoever is free — the workers from
the start, and the caller too once it calls ``results()`` — so a caller that is done with its
own work sooner than the workers helps them instead of waiting (the results are the same,
in order; each item is still done exactly once, by one process). With ``nice``, the workers
run at that niceness (``os.nice``): background work that takes only what the caller's own
processes leave of the cores (``Started.in_background`` says whether workers were forked).

``stream_chunks(func, items, size=…)`` is the same map as an iterator for results too large
to hold at once: the workers are forked at the call and work through chunks of ``size``
items, and the results are yielded in order as their chunks come back (lazily, item by
item, when ``map_chunks`` would stay serial); the workers are ended when the iterator is
exhausted or closed. Its pool keeps a thread while it runs: nothing else forks meanwhile.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import traceback
from collections import deque
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import islice
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from types import TracebackType
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


def _parallel(items: Sequence[Any], min_items: int) -> bool:
    return (
        len(items) >= min_items
        and workers() >= 2
        and "fork" in multiprocessing.get_all_start_methods()
        and threading.active_count() == 1
    )


def _bounds(length: int, count: int) -> list[tuple[int, int]]:
    size = -(-length // count)
    return [(i, min(i + size, length)) for i in range(0, length, size)]


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


class WorkerError(RuntimeError):
    """A worker of ``start_chunks`` raised (its traceback is the message) or died."""


def _started_chunk(
    func: Callable[[Any], Any],
    items: Sequence[Any],
    bounds: tuple[int, int],
    out: Connection,
    nice: int = 0,
) -> None:
    """A forked worker: its chunk's results (or its traceback) back through ``out``."""
    try:
        if nice:
            os.nice(nice)
        message: tuple[str, Any] = ("ok", [func(item) for item in items[bounds[0] : bounds[1]]])
    except BaseException:
        message = ("error", traceback.format_exc())
    out.send(message)
    out.close()


class _Handout:
    """The next chunk to do, shared by the forked workers and their caller (``chunk``)."""

    def __init__(self, context: Any, items: int, chunk: int) -> None:
        self.chunk = chunk
        self.count = -(-items // chunk)
        self.next = context.Value("q", 0)  # in shared memory, with its lock

    def claim(self, alive: Callable[[], bool] = lambda: True) -> int | None:
        """The index of a chunk nobody has taken, or None when all are taken. ``alive``:
        whether every worker still runs, asked while the lock is not to be had (a worker
        killed while it held it would hold it for good)."""
        lock = self.next.get_lock()
        while not lock.acquire(timeout=1.0):
            if not alive():
                raise WorkerError("a worker died while it handed out work")
        try:
            index = int(self.next.value)
            if index >= self.count:
                return None
            self.next.value = index + 1
            return index
        finally:
            lock.release()

    def run(self, func: Callable[[Any], Any], items: Sequence[Any], index: int) -> list[Any]:
        """``func`` of each item of chunk ``index``."""
        begin = index * self.chunk
        return [func(item) for item in items[begin : begin + self.chunk]]


def _shared_chunks(
    func: Callable[[Any], Any],
    items: Sequence[Any],
    handout: _Handout,
    out: Connection,
    nice: int = 0,
) -> None:
    """A forked worker of a shared map: chunks until none is left, then its results by
    chunk index (or its traceback) back through ``out``, once."""
    done: list[tuple[int, list[Any]]] = []
    try:
        if nice:
            os.nice(nice)
        while (index := handout.claim()) is not None:
            done.append((index, handout.run(func, items, index)))
        message: tuple[str, Any] = ("ok", done)
    except BaseException:
        message = ("error", traceback.format_exc())
    out.send(message)
    out.close()


class Started(Generic[R]):
    """The workers ``start_chunks`` forked (none when it stays serial)."""

    def __init__(
        self,
        func: Callable[[T], R],
        items: Sequence[T],
        min_items: int,
        processes: int,
        chunk: int | None = None,
        nice: int = 0,
    ) -> None:
        self._serial: tuple[Callable[[T], R], Sequence[T]] | None = None
        self._workers: list[tuple[BaseProcess, Connection]] = []
        self._shared: tuple[Callable[[T], R], Sequence[T], _Handout] | None = None
        if not _parallel(items, min_items) or processes < 1:
            self._serial = (func, items)
            return
        context = multiprocessing.get_context("fork")
        try:
            if chunk is not None:
                handout = _Handout(context, len(items), max(1, chunk))
                self._shared = (func, items, handout)
            for bounds in _bounds(len(items), processes):
                receive, send = context.Pipe(duplex=False)
                # Forked: the worker inherits ``func`` and ``items``; nothing is pickled in.
                process = context.Process(
                    target=_started_chunk if chunk is None else _shared_chunks,
                    args=(func, items, bounds if chunk is None else handout, send, nice),
                    daemon=True,
                )
                process.start()
                send.close()  # the worker's end: its exit then reads as EOF here
                self._workers.append((process, receive))
        except BaseException:
            self.cancel()
            raise

    @property
    def in_background(self) -> bool:
        """Whether workers were forked (if not, ``results()`` does all the work)."""
        return bool(self._workers)

    def results(self) -> list[R]:
        """Every result in order (waits for the workers; with ``chunk``, works with them)."""
        if self._serial is not None:
            func, items = self._serial
            self._serial = None
            return [func(item) for item in items]
        results: list[R] = []
        try:
            if self._shared is not None:
                return self._share()
            for process, receive in self._workers:
                kind, value = self._message(process, receive)
                if kind != "ok":
                    raise WorkerError(value)
                results.extend(value)
        except BaseException:
            self.cancel()  # the others too: none writes anything after this
            raise
        self._close()
        return results

    def _share(self) -> list[R]:
        """The caller's part of a shared map: chunks until none is left, then the workers'."""
        assert self._shared is not None
        func, items, handout = self._shared
        parts: dict[int, list[R]] = {}

        def alive() -> bool:
            return all(process.exitcode is None for process, _ in self._workers)

        while (index := handout.claim(alive)) is not None:
            parts[index] = handout.run(func, items, index)
        for process, receive in self._workers:
            kind, value = self._message(process, receive)
            if kind != "ok":
                raise WorkerError(value)
            parts.update(value)
        if len(parts) != handout.count:  # cannot happen unless a chunk went missing
            raise WorkerError(f"{handout.count - len(parts)} chunks of work were not done")
        self._close()
        return [result for index in range(handout.count) for result in parts[index]]

    @staticmethod
    def _message(process: BaseProcess, receive: Connection) -> tuple[str, Any]:
        try:
            message: tuple[str, Any] = receive.recv()
        except EOFError:
            process.join()
            raise WorkerError(f"a worker died (exit code {process.exitcode})") from None
        return message

    def _close(self) -> None:
        for process, receive in self._workers:
            process.join()  # each has sent its last result: it is exiting
            receive.close()
        self._workers = []
        self._shared = None

    def cancel(self) -> None:
        """Stop the workers still running and wait for them (no effect once collected)."""
        for process, receive in self._workers:
            if process.exitcode is None:
                process.terminate()
            process.join()
            receive.close()
        self._workers = []
        self._serial = None
        self._shared = None

    def __enter__(self) -> Started[R]:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.cancel()


def start_chunks(
    func: Callable[[T], R],
    items: Sequence[T],
    *,
    min_items: int = MIN_PARALLEL,
    processes: int | None = None,
    chunk: int | None = None,
    nice: int = 0,
) -> Started[R]:
    """``processes``: how many workers (default ``workers()``; fewer leave cores to the
    caller's own work meanwhile; below 1, serial). ``chunk``: items handed out at a time to
    the workers and, in ``results()``, to the caller; ``nice``: the workers' niceness (the
    module's contract)."""
    count = workers() if processes is None else processes
    return Started(func, items, min_items, count, chunk, nice)


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
    if not _parallel(items, min_items):
        return (func(item) for item in items)
    bounds = iter([(i, min(i + size, len(items))) for i in range(0, len(items), size)])
    context = multiprocessing.get_context("fork")
    count = workers()
    # The job reaches each worker as its initializer's argument, which a forked worker
    # inherits (not pickled), whenever the pool forks it.
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
