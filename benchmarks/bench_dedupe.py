"""Dedupe throughput on synthetic events: 2,000 / 20,000 / 100,000 (issue #6).

Three sources over a year of days; about half the city's events are also listed by a
partner (retitled with a prefix, start rounded by up to 10 minutes) and a quarter by a blog.
Blocking by day and start time keeps the work linear in the number of events at a given
density (events per day): the second table's events per second stay flat. Over a fixed year
(the first table) a day holds more events as the count grows, so each event has more
neighbours within the tolerance and throughput falls gently (still no all-pairs step).
The third table dedupes the realistic sources of the run benchmark
(``benchmarks/synth_real.py``: every title distinct, several dates a day at the usual hours,
an eighth of the city's events listed again, reworded, by another source), read by
``parse_ics`` and normalized as a run does: the pairs within the start tolerance grow with the
square of a day's events there, and the table prints how many were judged.
Run: ``.venv/bin/python benchmarks/bench_dedupe.py [--realistic 20000,100000]``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.synth_real import realistic_events
from core.model import BERLIN, Event, Location, SourceRef
from pipeline.dedupe import dedupe, new_uid

WORDS = [
    "Pippi",
    "Kasper",
    "Grüffelo",
    "Maus",
    "Drache",
    "Zauberer",
    "Wald",
    "Sterne",
    "Advent",
    "Laterne",
    "Yoga",
    "Basteln",
    "Theater",
    "Kino",
    "Musik",
    "Tanz",
    "Wasser",
    "Forscher",
    "Roboter",
    "Märchen",
    "Piraten",
    "Ritter",
    "Elefant",
]
VENUES = [(f"Familienzentrum {w}", f"30{159 + n:03d}") for n, w in enumerate(WORDS)]
DAY0 = datetime(2026, 12, 1, tzinfo=BERLIN)


def synthetic(count: int, days: int = 365, seed: int = 6) -> list[Event]:
    rng = random.Random(seed)
    events: list[Event] = []
    n = 0
    while len(events) < count:
        n += 1
        start = DAY0 + timedelta(
            days=rng.randrange(days), hours=rng.randrange(8, 20), minutes=15 * rng.randrange(4)
        )
        title = " ".join(rng.sample(WORDS, 3))
        name, code = rng.choice(VENUES)
        copies = [("city", title, start)]
        if rng.random() < 0.5:
            copies.append(
                (
                    "partner",
                    f"Kindertheater: {title}",
                    start + timedelta(minutes=rng.choice((0, 5, 10))),
                )
            )
        if rng.random() < 0.25:
            copies.append(("blog", title.upper(), start))
        for source, text, when in copies:
            record = f"{source}-{n}"
            events.append(
                Event(
                    uid=new_uid(source, record),
                    title=text,
                    start=when,
                    end=when + timedelta(hours=1),
                    all_day=False,
                    location=Location(name=name, postal_code=code),
                    sources=(SourceRef(id=source, record_id=record),),
                )
            )
    return events[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--realistic", default="20000,100000", help="sizes ('' for none)")
    args = parser.parse_args()
    priority = {"city": 80, "partner": 50, "blog": 20}
    for label, per_day in (("one year of days", None), ("constant density, 55/day", 55)):
        print(f"{label}:")
        print(f"{'events':>8} {'groups':>8} {'seconds':>8} {'events/s':>10}")
        for count in (2_000, 20_000, 100_000):
            days = 365 if per_day is None else max(1, count // per_day)
            events = synthetic(count, days=days)
            started = time.perf_counter()
            result = dedupe(events, priority=priority)
            elapsed = time.perf_counter() - started
            print(f"{count:>8} {len(result.events):>8} {elapsed:>8.2f} {count / elapsed:>10,.0f}")
    sizes = [int(n) for n in args.realistic.split(",") if n]
    if sizes:
        print("realistic sources (median of 3, min–max):")
        heads = ("events", 8), ("groups", 8), ("pairs", 9), ("judged", 7), ("seconds", 18)
        print(" ".join(f"{h:>{w}}" for h, w in heads) + f" {'events/s':>10}")
    for count in sizes:
        events = realistic_events(count, start=DAY0)
        seconds = []
        for _ in range(3):
            started = time.perf_counter()
            result = dedupe(events, priority={"stadt": 80, "partner": 50, "verein": 20})
            seconds.append(time.perf_counter() - started)
        median = statistics.median(seconds)
        spread = f"{median:.2f} ({min(seconds):.2f}–{max(seconds):.2f})"
        counts = f"{len(events):>8} {len(result.events):>8} {result.pairs:>9,} {result.judged:>7,}"
        print(f"{counts} {spread:>18} {len(events) / median:>10,.0f}")


if __name__ == "__main__":
    main()
