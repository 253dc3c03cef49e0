"""VEVENT serialization throughput: the direct writer against the icalendar reference (#9).

Builds N events (default 20,000) with the synthetic source's German titles, places and
prices (``benchmarks/synth.py``) and tags as the tagger leaves them (ages, topics, reasons,
coordinates, some all-day, some cancelled), or takes every event of a famcal database
(``--db``, e.g. the one ``famcal demo`` fills, repeated up to N). Serializes all of them
with ``feeds.ics.vevent`` and with the icalendar-built reference of
``tests/ics_reference.py`` (what the publish used before), checks that both give the same
bytes, and prints events/s of each (median of ``--runs``, with min–max) and their ratio.
With ``--publish`` it also times the whole publish stage (``feeds.publish.publish`` of the N
events into a temporary folder, on one core as in the profile of #9) with each writer in
``feeds.ics.vevent``'s place, and checks that both publish the same files byte for byte.

    python benchmarks/bench_vevent.py [--n 20000] [--runs 5] [--db data/demo.db] [--publish]
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# After the path set-up above.
from benchmarks.synth import AUDIENCE, KINDS, PLACES, PRICES, SUBJECTS  # noqa: E402
from core import parallel  # noqa: E402
from core.model import (  # noqa: E402
    BERLIN,
    AgeGroup,
    District,
    Event,
    Location,
    SourceRef,
    Status,
    Tags,
    Topic,
)
from feeds import ics, publish  # noqa: E402
from feeds.ics import vevent  # noqa: E402
from tests.ics_reference import icalendar_vevent  # noqa: E402

UPDATED = datetime(2026, 11, 20, 9, 30, tzinfo=BERLIN)
NOW = datetime(2026, 11, 25, 8, 0, tzinfo=BERLIN)  # the synthetic events' feed window
STORY = (
    "Ein Nachmittag voller Geschichten, Musik und Spiel für Groß und Klein.",
    "Anmeldung nicht erforderlich; bitte bequeme Kleidung mitbringen.",
    "Die Veranstaltung findet bei jedem Wetter statt, im Winter im Saal.",
    "Barrierefreier Zugang über den Seiteneingang (Rampe, Aufzug).",
)


def synthetic(n: int, *, seed: int = 1) -> list[Event]:
    rng = random.Random(seed)
    origin = datetime(2026, 12, 1, tzinfo=BERLIN)
    events = []
    for i in range(n):
        kind, subject = rng.choice(KINDS), rng.choice(SUBJECTS)
        place, street, code = rng.choice(PLACES)
        start: date | datetime = (
            origin + timedelta(days=rng.randrange(330), hours=rng.randrange(8, 20))
        ).replace(minute=rng.choice((0, 15, 30)))
        end: date | datetime = start + timedelta(minutes=rng.choice((60, 90, 120)))
        if i % 25 == 0:
            start = start.date()
            end = start + timedelta(days=1)
        low = rng.randrange(0, 12)
        group = next(g for g in AgeGroup if g.bounds[1] >= low)
        topics = tuple(rng.sample(list(Topic), rng.randrange(0, 3)))
        events.append(
            Event(
                uid=f"{i:024x}@famcal-hannover",
                title=f"{kind}: {subject}",
                start=start,
                end=end,
                all_day=isinstance(start, date) and not isinstance(start, datetime),
                description=" ".join(
                    [f"{kind} {rng.choice(AUDIENCE)}.", *rng.sample(STORY, rng.randrange(4))]
                ),
                url=f"https://partner.example/events/{i}",
                location=Location(
                    name=place,
                    street=street,
                    postal_code=code,
                    city="Hannover",
                    lat=52.3 + rng.random() / 10 if i % 3 else None,
                    lon=9.7 + rng.random() / 10 if i % 3 else None,
                ),
                categories=("Kinder & Jugendliche",) if i % 2 else (),
                price=rng.choice(PRICES),
                sources=(SourceRef(id="partner-ics", url=f"https://partner.example/{i}"),),
                tags=Tags(
                    family=True,
                    age_min=low,
                    age_max=low + 4,
                    age_groups=(group,),
                    free=i % 4 == 0,
                    district=rng.choice(list(District)),
                    status=Status.CANCELLED if i % 40 == 0 else Status.SCHEDULED,
                    topics=topics,
                    reasons=(
                        f"age: «ab {low} jahren» → {low}–",
                        f"family: keyword «{kind.lower()}» (+3)",
                    ),
                ),
                sequence=i % 3,
                updated=UPDATED,
            )
        )
    return events


def from_database(path: Path, n: int) -> list[Event]:
    from core.store import Store

    stored = Store(path).events()
    if not stored:
        raise SystemExit(f"{path}: no events")
    return [stored[i % len(stored)] for i in range(n)]


def rates(write: Callable[[Event], bytes], events: list[Event], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        for event in events:
            write(event)
        out.append(len(events) / (time.perf_counter() - started))
    return out


def publish_once(write: Callable[[Event], bytes], events: list[Event]) -> tuple[float, str]:
    """Seconds of one serial publish with ``write`` as the VEVENT writer, and a digest of
    every file it wrote (health.json aside: it holds the time of the run)."""
    original, workers = ics.vevent, parallel.workers
    ics.vevent, parallel.workers = write, lambda: 1
    try:
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder)
            started = time.perf_counter()
            publish.publish(events, out_dir=out, now=NOW)
            seconds = time.perf_counter() - started
            digest = hashlib.sha256()
            for path in sorted(out.rglob("*")):
                if path.is_file() and path.name != "health.json":
                    digest.update(str(path.relative_to(out)).encode() + path.read_bytes())
    finally:
        ics.vevent, parallel.workers = original, workers
    return seconds, digest.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--db", type=Path, help="take the events of this famcal database")
    parser.add_argument("--publish", action="store_true", help="time the publish stage too")
    args = parser.parse_args()
    events = from_database(args.db, args.n) if args.db else synthetic(args.n)
    different = sum(vevent(e) != icalendar_vevent(e) for e in events)
    if different:
        raise SystemExit(f"{different} of {len(events)} events serialize differently")
    size = sum(len(vevent(e)) for e in events) / len(events)
    print(f"{len(events)} events, {size:.0f} bytes per VEVENT, identical bytes from both writers")
    medians = {}
    for name, write in (("icalendar", icalendar_vevent), ("direct", vevent)):
        measured = rates(write, events, args.runs)
        medians[name] = statistics.median(measured)
        print(
            f"{name:>9}: median {medians[name]:>9,.0f} events/s "
            f"(min {min(measured):,.0f}, max {max(measured):,.0f}; {args.runs} runs) "
            f"= {1e6 / medians[name]:6.1f} µs/event"
        )
    print(f"ratio direct/icalendar: {medians['direct'] / medians['icalendar']:.1f}x")
    if not args.publish:
        return
    seconds: dict[str, list[float]] = {"icalendar": [], "direct": []}
    digests = set()
    for _ in range(args.runs):
        for name, write in (("icalendar", icalendar_vevent), ("direct", vevent)):
            took, digest = publish_once(write, events)
            seconds[name].append(took)
            digests.add(digest)
    if len(digests) != 1:
        raise SystemExit("the two writers published different files")
    shown = sum(publish.in_window(e, NOW) for e in events)
    print(f"publish of {shown} events in the window (one core), identical files from both:")
    for name, measured in seconds.items():
        print(
            f"{name:>9}: median {statistics.median(measured):6.2f} s "
            f"(min {min(measured):.2f}, max {max(measured):.2f}; {args.runs} runs)"
        )


if __name__ == "__main__":
    main()
