"""Tagging throughput: events per second over a generated set (issues #5, #9).

Builds N listings (default 20,000) by repeating and varying the gold listings of
``../shared/data/gold-dev.jsonl`` (or a small built-in sample when that file is absent), tags
them with ``pipeline.tag.tag_record`` and prints the median of 5 runs: events per second by
the wall clock and by the process's CPU time (steadier on a machine shared with other work).
``--synthetic`` tags the short listings of the run benchmark instead (``benchmarks/synth.py``'s
words: "Kindertheater: Der Grüffelo", "Kindertheater für Kinder ab 4 Jahren. 8 €.") and also
prints the time per event.

    python benchmarks/bench_tag.py [--n 20000] [--runs 5] [--synthetic]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import synth  # noqa: E402  (after the path set-up above)
from pipeline.tag import tag_record  # noqa: E402  (after the path set-up above)

SAMPLE: list[dict[str, Any]] = [
    {
        "title": "Kindertheater: Der gestiefelte Kater (ab 4)",
        "description": "Figurentheater für die ganze Familie. Eintritt frei.",
        "location": {"name": "Freizeitheim Linden", "postal_code": "30451", "city": "Hannover"},
        "categories": ["Kinder & Jugendliche"],
        "price": "",
    },
    {
        "title": "Weinprobe",
        "description": "Teilnahme ab 18 Jahren.",
        "location": {"name": "Weinhandlung", "postal_code": "31303", "city": "Burgdorf"},
        "categories": ["Genuss"],
        "price": "39 €",
    },
]
_VARIANTS = ("", " – Zusatztermin", " (neu)", " im Stadtteil", " – Sonderveranstaltung")


def listings(n: int) -> list[dict[str, Any]]:
    gold = ROOT / ".." / "shared" / "data" / "gold-dev.jsonl"
    if not gold.exists():
        gold = ROOT / ".." / ".." / "shared" / "data" / "gold-dev.jsonl"
    base = SAMPLE
    if gold.exists():
        with gold.open(encoding="utf-8") as handle:
            base = [json.loads(line) for line in handle if line.strip()]
        for item in base:
            item.pop("gold", None)
    out = []
    for i in range(n):
        item = dict(base[i % len(base)])
        variant = _VARIANTS[(i // len(base)) % len(_VARIANTS)]
        item["id"] = f"bench-{i}"
        item["title"] = f"{item.get('title') or ''}{variant}"
        item["description"] = f"{item.get('description') or ''} Termin {i % 97}."
        out.append(item)
    return out


def synthetic(n: int, seed: int = 1) -> list[dict[str, Any]]:
    """Listings as ``synth.ics_calendar`` writes them, as records (deterministic for a seed)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        kind, subject = rng.choice(synth.KINDS), rng.choice(synth.SUBJECTS)
        place, street, code = rng.choice(synth.PLACES)
        out.append(
            {
                "id": f"synth-{i}",
                "title": f"{kind}: {subject}",
                "description": f"{kind} {rng.choice(synth.AUDIENCE)}. {rng.choice(synth.PRICES)}.",
                "location": {
                    "name": place,
                    "street": street,
                    "postal_code": code,
                    "city": "Hannover",
                },
                "categories": [],
                "price": "",
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--synthetic", action="store_true", help="the run benchmark's listings")
    args = parser.parse_args()
    data = synthetic(args.n) if args.synthetic else listings(args.n)
    tag_record(data[0])  # load the rules once, outside the timing
    rates, cpu_rates = [], []
    for _ in range(args.runs):
        start, cpu = time.perf_counter(), time.process_time()
        for item in data:
            tag_record(item)
        rates.append(len(data) / (time.perf_counter() - start))
        cpu_rates.append(len(data) / (time.process_time() - cpu))
    kind = "synthetic " if args.synthetic else ""
    print(
        f"tagged {len(data)} {kind}events x {args.runs} runs: "
        f"median {statistics.median(rates):,.0f} events/s "
        f"(min {min(rates):,.0f}, max {max(rates):,.0f}); by CPU time median "
        f"{statistics.median(cpu_rates):,.0f} events/s = "
        f"{1000 / statistics.median(cpu_rates):.3f} ms/event"
    )


if __name__ == "__main__":
    main()
