"""Which feeds show which event (issue #20): ``feeds.publish.memberships`` against each feed's
own test.

Over N realistic events (``benchmarks/synth_real.py``: every text distinct, as real calendars
have; read by ``parse_ics``, normalized and tagged as a run does) it prints the median and
spread of 5 timings of ``memberships(feed_specs(), views)`` — what every publish computes for
its 95 feeds — next to the same memberships found by calling each feed's ``spec.accepts`` on
every event (the reference, whose answer it checks ``memberships`` gives), and how many
distinct readings (``Facet.reads``) the events' facets have.

Usage: python benchmarks/bench_memberships.py [--n 20000] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.synth_real import realistic_events  # noqa: E402
from core.model import BERLIN  # noqa: E402
from feeds.filters import FACETS  # noqa: E402
from feeds.publish import feed_specs, memberships  # noqa: E402

NOW = datetime(2026, 12, 1, 8, tzinfo=BERLIN)


def tag_views(n: int) -> list[dict[str, Any]]:
    """The tag views of ``n`` realistic events (``Tags.to_dict``, as the publish reads)."""
    from pipeline.tag import tag_event

    return [tag_event(event).to_dict() for event in realistic_events(n, start=NOW)]


def timed(runs: int, work: Any) -> tuple[float, float, float, Any]:
    seconds, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = work()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), min(seconds), max(seconds), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    views = tag_views(args.n)
    specs = feed_specs()
    family = [v for v in views if v.get("family")]
    readings = {f.param: len({f.reads(v) for v in family}) for f in FACETS}
    shown = ", ".join(f"{k} {v}" for k, v in readings.items())
    print(f"{len(views)} events ({len(family)} for families), {len(specs)} feeds; distinct")
    print(f"  readings of the family events' facets: {shown}")
    fast = timed(args.runs, lambda: memberships(specs, views))
    slow = timed(
        args.runs,
        lambda: [[n for n, view in enumerate(views) if spec.accepts(view)] for spec in specs],
    )
    assert fast[3] == slow[3], "memberships differ from the feeds' own tests"
    for label, (median, low, high, _) in (("memberships", fast), ("each feed's accepts", slow)):
        print(f"  {label}: median {median:.3f} s (spread {low:.3f}–{high:.3f}, {args.runs} runs)")
    print(f"  ratio memberships / each feed's accepts: {fast[0] / slow[0]:.3f}")


if __name__ == "__main__":
    main()
