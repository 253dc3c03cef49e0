"""What the reports for the city (issue #21) add to a publish.

Builds N synthetic tagged events (default 20,000; ``benchmarks/bench_vevent.synthetic``:
German titles and places, every district, some cancelled), then times, as medians of
``--runs`` (default 5) with min–max:
- the feeds: ``feeds.publish.publish`` of the N events into a fresh temporary folder (every
  feed file, serialization spread over the cores as in a real publish);
- the reports: ``feeds.reports.build_reports`` + ``report_files`` (the coverage,
  the weekend, both pages and the text) on the window's events, bytes joined in memory;
and prints the reports' time as a share of the feeds'.

    python benchmarks/bench_reports.py [--n 20000] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# After the path set-up above.
from benchmarks.bench_vevent import synthetic  # noqa: E402
from core.model import BERLIN  # noqa: E402
from feeds.publish import publish, window_events  # noqa: E402
from feeds.reports import build_reports, report_files  # noqa: E402

# A Wednesday inside the synthetic events' span (they start from 1 December 2026): its
# weekend and its 8 weeks are full.
NOW = datetime(2026, 12, 9, 8, 0, tzinfo=BERLIN)


def timed(work: Callable[[], object], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return times


def show(name: str, times: list[float]) -> float:
    median = statistics.median(times)
    print(f"{name:<10} {median:8.3f} s  (min {min(times):.3f}, max {max(times):.3f})")
    return median


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    events = synthetic(args.n)
    shown = window_events(events, NOW)

    def feeds() -> None:
        with tempfile.TemporaryDirectory() as out:
            publish(events, out_dir=Path(out), now=NOW)

    def reports() -> int:
        built = build_reports(shown, now=NOW, history=None)
        return sum(len(data) for _, data in report_files(built, base_url=None))

    size = reports()  # warm: imports, templates
    built = build_reports(shown, now=NOW, history=None)
    print(
        f"{args.n} events, {len(shown)} in the window; the 8 weeks count "
        f"{sum(built.coverage.totals.values())}, the weekend {built.weekend.count}; "
        f"reports {size / 1024:.0f} KiB"
    )
    publish_s = show("feeds", timed(feeds, args.runs))
    reports_s = show("reports", timed(reports, args.runs))
    print(f"the reports add {reports_s:.3f} s = {100 * reports_s / publish_s:.1f} % of the feeds")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
