"""The evaluation of the tagger against gold sets (famcal eval)."""

import json
from pathlib import Path

import pytest

from pipeline.evaluate import evaluate, format_report

GOLD_DEV = Path(__file__).parents[1] / ".." / "shared" / "data" / "gold-dev.jsonl"
if not GOLD_DEV.exists():  # a git worktree one level deeper (wt/<name>) shares the same folder
    GOLD_DEV = Path(__file__).parents[1] / ".." / ".." / "shared" / "data" / "gold-dev.jsonl"


def line(title: str, **gold: object) -> dict:
    base = {
        "family": False,
        "age_min": None,
        "age_max": None,
        "age_groups": [],
        "free": None,
        "aktivpass": False,
        "district": None,
        "municipality": None,
        "status": "scheduled",
        "topics": [],
        "audiences": [],
    }
    return {"id": title[:8], "title": title, "gold": base | gold}


def test_counts_and_disagreements() -> None:
    report = evaluate(
        [
            line(
                "Kindertheater ab 4 Jahren",
                family=True,
                age_min=4,
                age_groups=["3-5", "6-9", "10-13", "14-17"],
                topics=["kultur"],
            ),
            line("Kabarett", family=True, topics=["kultur"]),
        ]
    )
    assert report.listings == 2
    family = report.tags["family"]
    assert (family.tp, family.fn, family.fp) == (1, 1, 0)
    assert family.precision == 1.0 and family.recall == 0.5
    assert report.tags["age"].accuracy == 1.0
    assert report.tags["topics"].f1 == 1.0
    text = format_report(report)
    assert "Kabarett" in text and "expected True, got False" in text
    assert "family: no" in text  # the reasons are listed


def test_list_tags_are_micro_averaged() -> None:
    report = evaluate([line("Elterncafé mit Beratung", family=True, topics=["beratung", "feste"])])
    topics = report.tags["topics"]
    assert (topics.tp, topics.fn) == (1, 1)
    assert topics.recall == 0.5


def test_gold_dev_meets_the_issue_thresholds() -> None:
    if not GOLD_DEV.exists():
        pytest.skip("shared gold set not present")
    with GOLD_DEV.open(encoding="utf-8") as handle:
        report = evaluate(json.loads(text) for text in handle if text.strip())
    assert report.listings == 100
    assert report.tags["family"].f1 >= 0.97
    assert report.tags["age"].accuracy >= 0.95
    assert report.tags["district"].accuracy >= 0.95
    assert report.tags["municipality"].accuracy >= 0.98
    assert report.tags["free"].accuracy >= 0.95
    assert report.tags["status"].accuracy == 1.0
    assert report.tags["topics"].f1 >= 0.85
