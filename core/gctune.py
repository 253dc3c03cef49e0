"""Garbage-collector settings for famcal's batch processes (issue #9).

Contract: ``tune_gc()`` raises CPython's generation-0 threshold from 700 to 100,000 container
allocations. Call it once at the start of a process that builds many long-lived objects: the
run and its stages, the crawl child, the ICS parse workers.

Why: a run allocates hundreds of thousands of containers that survive (events, tags, parsed
icalendar components). With the default threshold the collector runs every 700 allocations and
keeps re-traversing that growing heap, and almost never finds a cycle to free (reference
counting frees nearly everything). Measured on 20,000 events: the parent of ``famcal run``
16.8 s → 14.4 s, the crawl 5.0 s → 4.5 s, the same peak memory. Cycles are still collected,
only less often.
"""

from __future__ import annotations

import gc

GEN0_THRESHOLD = 100_000


def tune_gc() -> None:
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, gen1, gen2)
