"""The fast ICS reader on the real calendar files of the shared corpus (issue #20).

For every ``*.ics`` under ``../shared/corpora/ics-real`` and ``../shared/corpora/partners``
it prints, per window (the tests' wide one and famcal's feed window): how many occurrences
the whole corpus gives, how many of them the fast reader (``spiders.ics_fast``) takes, and
how many VEVENTs it leaves to the reference; then the CPU seconds (user+sys of this
process, median of ``--repeat`` runs) of ``parse_ics`` over the whole corpus with the fast
reader and without it (``plain=False``, the reference alone).

Usage: python benchmarks/bench_ics_corpus.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.model import BERLIN  # noqa: E402
from spiders.ics_fast import read_plain  # noqa: E402
from spiders.ics_parse import NotACalendar, decode, parse_ics  # noqa: E402

CORPORA = ROOT.parent / "shared" / "corpora"
WINDOWS = {
    "wide": (datetime(1990, 1, 1, tzinfo=UTC), datetime(2035, 1, 1, tzinfo=UTC)),
    "feed": (datetime(2026, 10, 26, 8, tzinfo=BERLIN), datetime(2027, 11, 25, 8, tzinfo=BERLIN)),
}


def cpu() -> float:
    times = os.times()
    return times.user + times.system


def _calendar(body: bytes) -> bool:
    try:
        list(
            parse_ics(
                body,
                workers=1,
                plain=False,
                window_start=WINDOWS["feed"][0],
                window_end=WINDOWS["feed"][1],
            )
        )
    except NotACalendar:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    files = sorted((CORPORA / "ics-real").rglob("*.ics")) + sorted(
        (CORPORA / "partners").glob("*.ics")
    )
    bodies = [path.read_bytes() for path in files]
    bodies = [body for body in bodies if _calendar(body)]  # the corpus holds non-calendars too
    events = sum(decode(body).count("BEGIN:VEVENT") for body in bodies)
    print(f"{len(bodies)} calendar files of {len(files)}, {events} VEVENTs")
    for name, (start, end) in WINDOWS.items():
        total = fast = rest_events = whole = 0
        for body in bodies:
            text = decode(body)
            total += sum(
                1
                for item in parse_ics(
                    body, workers=1, plain=False, window_start=start, window_end=end
                )
                if isinstance(item, dict)
            )
            found = read_plain(text, start, end, "Europe/Berlin", None)
            if found is None:
                whole += 1
                rest_events += text.count("BEGIN:VEVENT")
                continue
            fast += len(found[0])
            rest_events += found[1].count("BEGIN:VEVENT")
        print(
            f"{name:5} window: {fast} of {total} occurrences by the fast reader; "
            f"{rest_events} VEVENTs by the reference ({whole} files whole)"
        )
    start, end = WINDOWS["feed"]
    for plain in (True, False):
        seconds = []
        for _ in range(args.repeat):
            before = cpu()
            for body in bodies:
                for _item in parse_ics(
                    body, workers=1, plain=plain, window_start=start, window_end=end
                ):
                    pass
            seconds.append(cpu() - before)
        label = "fast reader + reference" if plain else "reference alone"
        print(
            f"parse_ics CPU, feed window, {label:24}: {statistics.median(seconds):.3f} s "
            f"({min(seconds):.3f}–{max(seconds):.3f})"
        )


if __name__ == "__main__":
    main()
