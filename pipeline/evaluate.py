"""Measuring the tagger against a hand-labelled gold set (``famcal eval GOLD.jsonl``).

Contract:
- ``evaluate(gold_lines) -> EvalReport``: each item is a listing dict with a ``gold`` dict of
  taxonomy tags; the listing (without ``gold``) goes through ``pipeline.tag.tag_record``.
  List tags (topics, audiences, age_groups) get micro precision/recall/F1 plus per-slug counts;
  scalar tags get accuracy, and precision/recall where a positive is meaningful (family, free
  and aktivpass: True; district, municipality: a non-null value; status: not scheduled);
  ``age`` is exact when age_min AND age_max equal the gold. A tag the gold does not label is
  skipped; a bool gold for a text field (``series: true``) is measured as presence (not null).
- ``format_report(report) -> str``: a table of the figures, then every disagreement with id,
  title, expected, got and the tagger's reasons.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from core.model import TagKind
from core.tagfields import BY_NAME, TAG_FIELDS
from pipeline.tag import tag_record

# What is measured follows the tag fields' declaration: every list field as a set, every
# scalar as a value, the numbers (age_min/age_max) together as one "age".
LIST_TAGS = tuple(f.name for f in TAG_FIELDS if f.evaluated and f.is_list)
SCALAR_TAGS = tuple(
    dict.fromkeys(
        "age" if f.kind is TagKind.NUMBER else f.name
        for f in TAG_FIELDS
        if f.evaluated and not f.is_list
    )
)


@dataclass(kw_only=True)
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    correct: int = 0
    total: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 1.0


@dataclass(frozen=True, kw_only=True)
class Disagreement:
    id: str
    title: str
    tag: str
    expected: Any
    got: Any
    reasons: tuple[str, ...]


@dataclass(kw_only=True)
class EvalReport:
    listings: int = 0
    tags: dict[str, Counts] = field(default_factory=dict)
    slugs: dict[str, dict[str, Counts]] = field(default_factory=dict)
    disagreements: list[Disagreement] = field(default_factory=list)

    def f1(self, tag: str) -> float:
        return self.tags[tag].f1

    def accuracy(self, tag: str) -> float:
        return self.tags[tag].accuracy


def _positive(tag: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value  # a flag, or a text field measured as presence
    return BY_NAME[tag].positive(value) if tag in BY_NAME else value is not None


def evaluate(gold_lines: Iterable[Mapping[str, Any]]) -> EvalReport:
    report = EvalReport(
        tags={t: Counts() for t in (*SCALAR_TAGS, *LIST_TAGS)},
        slugs={t: {} for t in LIST_TAGS},
    )
    for line in gold_lines:
        gold = line.get("gold") or {}
        listing = {k: v for k, v in line.items() if k != "gold"}
        got = tag_record(listing)
        report.listings += 1
        ident, title = str(line.get("id", "")), str(line.get("title", ""))
        reasons = tuple(got.get("reasons") or ())
        for tag in SCALAR_TAGS:
            if tag == "age":
                expected: Any = (gold.get("age_min"), gold.get("age_max"))
                actual: Any = (got.get("age_min"), got.get("age_max"))
            else:
                if tag not in gold:
                    continue
                expected, actual = gold.get(tag), got.get(tag)
                if isinstance(expected, bool) and BY_NAME[tag].kind is TagKind.TEXT:
                    actual = actual is not None
            counts = report.tags[tag]
            counts.total += 1
            if expected == actual:
                counts.correct += 1
                if _positive(tag, expected):
                    counts.tp += 1
            else:
                if _positive(tag, actual):
                    counts.fp += 1
                if _positive(tag, expected):
                    counts.fn += 1
                report.disagreements.append(
                    Disagreement(
                        id=ident,
                        title=title,
                        tag=tag,
                        expected=expected,
                        got=actual,
                        reasons=reasons,
                    )
                )
        for tag in LIST_TAGS:
            if tag not in gold:
                continue
            expected_set = set(gold.get(tag) or ())
            actual_set = set(got.get(tag) or ())
            counts = report.tags[tag]
            counts.total += 1
            counts.correct += expected_set == actual_set
            for slug in expected_set | actual_set:
                per = report.slugs[tag].setdefault(slug, Counts())
                hit_tp = slug in expected_set and slug in actual_set
                for c in (counts, per):
                    c.tp += hit_tp
                    c.fp += slug in actual_set and slug not in expected_set
                    c.fn += slug in expected_set and slug not in actual_set
            if expected_set != actual_set:
                report.disagreements.append(
                    Disagreement(
                        id=ident,
                        title=title,
                        tag=tag,
                        expected=sorted(expected_set),
                        got=sorted(actual_set),
                        reasons=reasons,
                    )
                )
    return report


def format_report(report: EvalReport) -> str:
    lines = [
        f"{report.listings} listings (acc: exact per listing; list tags: micro P/R/F1)",
        "",
        f"{'tag':<30}{'P':>7}{'R':>7}{'F1':>7}{'acc':>7}",
    ]
    for tag, c in report.tags.items():
        if not c.total and tag not in ("age",):
            continue  # the gold set does not label it
        lines.append(f"{tag:<30}{c.precision:>7.3f}{c.recall:>7.3f}{c.f1:>7.3f}{c.accuracy:>7.3f}")
    for tag, per_slug in report.slugs.items():
        for slug, c in sorted(per_slug.items()):
            name = f"  {tag}:{slug}"
            lines.append(f"{name:<30}{c.precision:>7.3f}{c.recall:>7.3f}{c.f1:>7.3f}")
    lines += ["", f"{len(report.disagreements)} disagreements"]
    for d in report.disagreements:
        lines.append(f"- {d.id} [{d.tag}] {d.title}")
        lines.append(f"    expected {d.expected!r}, got {d.got!r}")
        for reason in d.reasons:
            lines.append(f"    · {reason}")
    return "\n".join(lines)
