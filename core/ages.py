"""Which ages an event serves: taxonomy.md's exact-age rule, shared by the tagger's age
groups, the feeds' and the server's ``alter`` filter and the site.

Contract: ``served_range(age_min, age_max)`` is the span of ages a listing realistically
serves — a closed range as given, "bis N" from 0, an open "ab N" from N to N + ``OPEN_SPAN``
(capped at 17), no number: None. ``serves_age(age, age_min=, age_max=, age_groups=,
family=)`` is the filter by one child's age: inside the served range where the text gives a
number; else by the age groups from words; a family event with neither serves every age.
"""

from __future__ import annotations

from collections.abc import Iterable

from core.model import AgeGroup

OPEN_SPAN = 5  # "ab 4" serves 4 to 9: what a listing for 4-year-olds realistically serves
OLDEST = 17


def served_range(age_min: int | None, age_max: int | None) -> tuple[int, int] | None:
    if age_min is None and age_max is None:
        return None
    low = 0 if age_min is None else age_min
    high = age_max if age_max is not None else min(max(low, 0) + OPEN_SPAN, OLDEST)
    return low, max(low, high)


def serves_age(
    age: int,
    *,
    age_min: int | None,
    age_max: int | None,
    age_groups: Iterable[str],
) -> bool:
    span = served_range(age_min, age_max)
    if span is not None:
        return span[0] <= age <= span[1]
    groups = [AgeGroup(g) for g in age_groups]
    if not groups:
        return True
    return any(g.bounds[0] <= age <= g.bounds[1] for g in groups)
