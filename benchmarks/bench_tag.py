"""Tagging throughput: events per second over a generated set (issue #5).

Builds N listings (default 20,000) by repeating and varying the gold listings of
``../shared/data/gold-dev.jsonl`` (or a small built-in sample when that file is absent), tags
them with ``pipeline.tag.tag_record`` and prints the median of 5 runs.

    python benchmarks/bench_tag.py [--n 20000] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    data = listings(args.n)
    tag_record(data[0])  # load the rules once, outside the timing
    rates = []
    for _ in range(args.runs):
        start = time.perf_counter()
        for item in data:
            tag_record(item)
        rates.append(len(data) / (time.perf_counter() - start))
    print(
        f"tagged {len(data)} events x {args.runs} runs: median {statistics.median(rates):,.0f} "
        f"events/s (min {min(rates):,.0f}, max {max(rates):,.0f})"
    )


if __name__ == "__main__":
    main()
