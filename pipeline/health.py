"""health: a source's status for one run, from what its crawl reported — pure rules.

Contract (contract.md "health.json"): ``judge(crawled, last_healthy=…)`` returns the source's
``Verdict`` (status and the error an operator reads):
- ``failed`` when the crawl itself failed (any fetch or content error; its message stands);
- ``degraded`` when the crawl itself was partial (a page it links to could not be fetched, a
  budget was hit: the spider's decision, its message stands), or when an otherwise fine crawl
  found no event although the last healthy run had some ("no events (the last healthy run
  had N)"), or fewer than half of that run's count;
- ``ok`` otherwise (also for a first crawl, with nothing to compare to).
``is_unchanged(crawled, seen_before=…)``: a fine crawl that read exactly what the last healthy
crawl read, of a source seen before — its stored records stand as they are.
A failed or degraded source's records are kept and none of its events is taken for deleted
(the store counts absences only for ok crawls): the events behind a page that could not be
fetched keep their last known state.
``problem_counts(crawled)``: what is kept as the source's problem counts (health.json's
``problems``): its skips and its crawl problems (``page not fetched``, ``budget <name>``,
``repaired``) by reason.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from core.model import Health


@dataclass(frozen=True, kw_only=True)
class Crawled:
    """What the crawl of one source reported."""

    status: Health  # ok, degraded (partial) or failed (the spider's decision)
    error: str | None
    count: int  # events read
    unchanged: bool = False  # every start document as the last healthy crawl read it
    skipped: Mapping[str, int] = field(default_factory=dict)
    problems: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Verdict:
    status: Health
    error: str | None


def judge(crawled: Crawled, *, last_healthy: int | None) -> Verdict:
    """The source's status this run; ``last_healthy``: its event count in the last ok run."""
    if crawled.status is Health.OK and last_healthy:
        if crawled.count == 0:
            # An answer without a single event from a source that had events is far more
            # often a broken page than an empty calendar: never "ok".
            return Verdict(
                status=Health.DEGRADED,
                error=f"no events (the last healthy run had {last_healthy})",
            )
        if crawled.count * 2 < last_healthy:
            return Verdict(
                status=Health.DEGRADED,
                error=(
                    f"event count fell from {last_healthy} to {crawled.count} "
                    "since the last healthy run"
                ),
            )
    return Verdict(status=crawled.status, error=crawled.error)


def is_unchanged(crawled: Crawled, *, seen_before: bool) -> bool:
    """True when the stored records of the source stand unchanged for this run."""
    return crawled.unchanged and crawled.status is Health.OK and seen_before


def problem_counts(crawled: Crawled) -> dict[str, int]:
    """The crawl's skips and problems by reason, as the source's health keeps them."""
    return dict(Counter(crawled.skipped) + Counter(crawled.problems))
