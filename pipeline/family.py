"""The family decision (taxonomy.md: family) from folded text, categories and ages.

Contract: ``decide_family(text, categories, ages, word_groups, rules) -> (bool, reasons, score)``.
``text`` is the folded title and description, ``categories`` the folded source categories.
An explicit adult age decides alone ("an explicit age beats a keyword"); otherwise the weights
of ``data/tagging/family.toml`` are summed and compared with its threshold. Reasons name each
rule and phrase that counted, with its weight. ``score`` is the sum (None when an explicit age
decided), so ``pipeline.learned.revise_family`` can tell a weak verdict from a clear one.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.model import AgeGroup
from pipeline.ages import AgeFinding
from pipeline.rules import FamilyRules, blank, candidates, first_hit
from pipeline.text import phrase, whole_words


def _fmt(weight: float) -> str:
    return f"{weight:+g}"


def decide_family(
    text: str,
    categories: Sequence[str],
    ages: AgeFinding | None,
    word_groups: Sequence[AgeGroup],
    rules: FamilyRules,
) -> tuple[bool, tuple[str, ...], float | None]:
    if ages is not None and ages.min is not None and not ages.rating_only:
        said = ", ".join(ages.phrases)
        if ages.min >= rules.adult_age:
            return False, (f"family: no, adult age «{said}» beats keywords",), None
        if ages.min >= rules.late_teen_age and first_hit(rules.youth_words, text) is None:
            return False, (f"family: no, age «{said}» without a youth word",), None
    if (
        ages is not None
        and ages.rating_only
        and ages.min is not None
        and ages.min >= rules.adult_age
    ):
        return False, (f"family: no, film rating «{', '.join(ages.phrases)}»",), None

    score = 0.0
    reasons: list[str] = []
    spans: list[tuple[int, int]] = []
    for rule in candidates(rules.false_friends, text):
        # Every occurrence is masked (a second "Kinderwunsch" must not count as "Kinder"),
        # the weight counts once.
        counted = False
        for m in rule.pattern.finditer(text):
            spans.append(whole_words(text, *m.span()))
            if rule.weight and not counted:
                counted = True
                score += rule.weight
                reasons.append(f"family: false friend «{phrase(text, m)}» ({_fmt(rule.weight)})")
    clean = blank(text, spans) if spans else text
    for rule in (*candidates(rules.positive, clean), *candidates(rules.negative, clean)):
        found = rule.pattern.search(clean)
        if found and rule.weight:
            score += rule.weight
            reasons.append(f"family: keyword «{phrase(clean, found)}» ({_fmt(rule.weight)})")
    for category in categories:
        weight = rules.categories.get(category)
        if weight:
            score += weight
            reasons.append(f"family: category «{category}» ({_fmt(weight)})")
    if ages is not None and not ages.rating_only:
        childish = (ages.max is not None and ages.max <= 17) or (
            ages.min is not None and ages.min < rules.late_teen_age
        )
        if childish:
            score += rules.child_age_weight
            reasons.append(
                f"family: child age «{', '.join(ages.phrases)}» ({_fmt(rules.child_age_weight)})"
            )
    elif word_groups:
        score += rules.word_group_weight
        groups = ", ".join(g.value for g in word_groups)
        reasons.append(f"family: age-group words ({groups}) ({_fmt(rules.word_group_weight)})")
    verdict = score >= rules.threshold
    reasons.append(
        f"family: {'yes' if verdict else 'no'}, score {score:g} (threshold {rules.threshold:g})"
    )
    return verdict, tuple(reasons), score
