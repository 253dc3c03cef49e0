"""Regression guard on the blind holdout sets (issue #5) — floors, not targets.

``gold-holdout-a.jsonl`` and ``gold-holdout-b.jsonl`` served error analysis (A in the first
round, B in the second, so both are tuned on now). ``gold-holdout-c.jsonl`` was written blind
afterwards and evaluated once, after the rules were final: it is the honest estimate of the
hidden acceptance test. Each floor sits a little below the figure measured (in the comment),
so that a rule change which makes the tagger generalise worse fails here. Do not tune rules
to raise C's numbers; a new blind set is needed for the next estimate.
"""

import json
from pathlib import Path

import pytest

from pipeline.evaluate import evaluate

FIXTURES = Path(__file__).parent / "fixtures"

# (tag, measure, floor): measured on 2026-11-25 after the context rules of #5.
FLOORS = {
    "gold-holdout-a.jsonl": [
        ("family", "f1", 0.97),  # 1.000
        ("age", "accuracy", 0.97),  # 1.000
        ("free", "accuracy", 0.97),  # 1.000
        ("district", "accuracy", 0.97),  # 1.000
        ("municipality", "accuracy", 0.97),  # 1.000
        ("status", "accuracy", 0.97),  # 1.000
        ("topics", "f1", 0.95),  # 0.986
        ("audiences", "f1", 0.97),  # 1.000
    ],
    "gold-holdout-b.jsonl": [
        ("family", "f1", 0.97),  # 1.000
        ("age", "accuracy", 0.97),  # 1.000
        ("free", "accuracy", 0.97),  # 1.000
        ("district", "accuracy", 0.97),  # 1.000
        ("municipality", "accuracy", 0.97),  # 1.000
        ("status", "accuracy", 0.97),  # 1.000
        ("topics", "f1", 0.95),  # 0.987
        ("audiences", "f1", 0.97),  # 1.000
    ],
    "gold-holdout-c.jsonl": [
        ("family", "f1", 0.96),  # 0.982
        ("age", "accuracy", 0.94),  # 0.960
        ("free", "accuracy", 0.97),  # 1.000
        ("district", "accuracy", 0.96),  # 0.980
        ("municipality", "accuracy", 0.97),  # 1.000
        ("status", "accuracy", 0.97),  # 1.000
        ("topics", "f1", 0.85),  # 0.873
        ("audiences", "f1", 0.95),  # 0.970
    ],
}
SIZES = {"gold-holdout-a.jsonl": 40, "gold-holdout-b.jsonl": 40, "gold-holdout-c.jsonl": 50}


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_holdout_floors(name: str) -> None:
    with (FIXTURES / name).open(encoding="utf-8") as handle:
        report = evaluate(json.loads(line) for line in handle if line.strip())
    assert report.listings == SIZES[name]
    below = [
        f"{tag} {measure} {getattr(report.tags[tag], measure):.3f} < {floor}"
        for tag, measure, floor in FLOORS[name]
        if getattr(report.tags[tag], measure) < floor
    ]
    assert not below, f"{name}: " + "; ".join(below)
