"""Reading the stored events back while the crawl child runs (issue #20): a run after one
event changed needs the ≈ 19,000 kept events as ``Event`` objects, and the parent idles on
one core while the crawl child parses on the other.

Contract: ``ReadAhead(store, over=…, start=…)`` reads the latest process run's stored
events on a thread of its own (``start()``; the run starts it with the crawl, after any
fork) — by uid, the ``json_digest`` of the stored JSON and its ``Event``. ``result(wanted)``
stops the thread and reads what of ``wanted`` it had not read, so the caller never waits for
a thread a busy machine gives less than a core; ``cancel()`` drops it all. With ``over`` it
stops once that says so. ``kept_event(text, digest, ahead)`` is the process stage's use: the
event read ahead only under the digest of the JSON the stage read itself, so the events are
the same with or without it. ``crawl_over(work_dir, count)`` is the run's ``over``: it
watches the crawl's work folder (``spiders.worker``'s result files).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Container
from pathlib import Path

from core.model import Event, json_digest
from core.store import Store

log = logging.getLogger("famcal")

OVER_EVERY = 400  # events read between two looks at its ``over`` (≈ 15 ms)
_READ = ("", "")


class ReadAhead:
    """The latest process run's stored events, read on a thread of its own (the module's
    contract): by uid, the ``json_digest`` of the stored JSON and its ``Event``. ``result``
    stops the thread and reads what it had not read yet itself: the caller does not wait for
    a thread that a busy machine gives less than a core."""

    def __init__(
        self,
        store: Store,
        *,
        over: Callable[[], bool] | None = None,
        start: bool = True,
    ) -> None:
        # ``over``: polled while reading, true stops it (the run's: the crawl child is done,
        # and this process's main thread works again, which a thread holding the GIL would
        # slow). The thread starts with the crawl, not once a changed document is read: the
        # changed document is known only late in the crawl, and starting then read 4,000-9,000
        # of 18,858 stored events ahead against 13,000-18,000 from the start (a changed run
        # ≈ 1 s faster); a run with nothing changed pays ≈ 0.3 s of the idle core's time for it
        # (measured in session 10, benchmarks/PROFILE.md).
        self._over = over
        self._store = store
        self._rows: list[tuple[str, str]] | None = None  # None: not read from the store yet
        self._done = 0  # rows read so far
        # uid -> (json_digest of the stored JSON, its Event); the JSON itself is not kept
        # (the stage holds its own copy: two would cost ≈ 60 MB at 20,000 events).
        self._found: dict[str, tuple[str, Event]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._read, args=(store,), name="famcal-read-ahead", daemon=True
        )
        if start:
            self.start()

    def start(self) -> None:
        """Start the thread (a caller that forks does so before: no fork while it runs)."""
        if not self._stop.is_set() and self._thread.ident is None:
            self._thread.start()

    def _read(self, store: Store) -> None:
        try:
            self._rows = store.latest_event_texts_apart()
            self._step(self._stopping)
        except Exception as exc:  # the process stage reads what is missing itself
            log.warning("reading the stored events ahead failed: %s", exc)
            self._rows = []

    def _stopping(self) -> bool:
        if self._stop.is_set():
            return True
        if self._over is not None and self._done % OVER_EVERY == 0 and self._over():
            self._stop.set()
        return self._stop.is_set()

    def _step(self, stop: Callable[[], bool], wanted: Container[str] | None = None) -> None:
        if self._rows is None:
            self._rows = self._store.latest_event_texts_apart()
        rows, found = self._rows, self._found
        while self._done < len(rows) and not stop():
            uid, text = rows[self._done]
            if wanted is None or uid in wanted:
                found[uid] = (json_digest(text), Event.from_dict(json.loads(text)))
            rows[self._done] = _READ  # its text is not needed any more
            self._done += 1

    def stop(self) -> None:
        """Stop the thread (before the stage forks its workers), keeping what it read."""
        self._stop.set()
        if self._thread.ident is not None:  # started
            self._thread.join()

    def result(self, wanted: Container[str]) -> dict[str, tuple[str, Event]]:
        """What was read, and of ``wanted`` what was not read yet, read now (once: the
        caller holds it from now on)."""
        self.stop()
        self._step(lambda: False, wanted)
        found, self._found, self._rows = self._found, {}, []
        _trim_heap()
        return found

    def cancel(self) -> None:
        """Stop reading (a run that does not process) and drop what was read."""
        self.stop()
        self._found, self._rows = {}, []


def _trim_heap() -> None:
    """Give the C heap's free memory back (glibc's ``malloc_trim``, where there is one): the
    thread's texts were allocated in a malloc arena of its own, which the main thread does
    not reuse, so without this a changed run's peak grew by their size."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        pass


def kept_event(text: str, digest: str, ahead: tuple[str, Event] | None) -> Event:
    """The kept event of stored JSON ``text`` (``digest``): the one read ahead under the same
    digest, else read now."""
    # The digest stands for the JSON, as everywhere the render cache keys an event by it.
    if ahead is not None and ahead[0] == digest:
        return ahead[1]
    return Event.from_dict(json.loads(text))


def crawl_over(work_dir: Path, count: int) -> Callable[[], bool]:
    """True once every source's spider closed (its ``<source>.result.json`` in
    ``work_dir``, spiders.worker, newer than this call): then the crawl stage's own work
    in this process starts."""
    since = time.time() - 1.0

    def over() -> bool:
        closed = 0
        try:
            with os.scandir(work_dir) as listing:
                for entry in listing:
                    if entry.name.endswith(".result.json") and entry.stat().st_mtime >= since:
                        closed += 1
        except OSError:
            return False
        return closed >= count

    return over
