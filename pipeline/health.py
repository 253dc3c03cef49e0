"""health: a source's status for one run, from what its crawl reported — pure rules.

Contract (contract.md "health.json"): ``judge(crawled, last_healthy=…)`` returns the source's
``Verdict`` (status and the error an operator reads):
- ``failed`` when the crawl itself failed (any fetch or content error; its message stands);
- ``degraded`` when an otherwise fine crawl found no event although the last healthy run had
  some ("no events (the last healthy run had N)"), or fewer than half of that run's count;
- ``ok`` otherwise (also for a first crawl, with nothing to compare to).
``is_unchanged(crawled, seen_before=…)``: a fine crawl that read exactly what the last healthy
crawl read, of a source seen before — its stored records stand as they are.
A failed or degraded source's records are kept and none of its events is taken for deleted
(the store counts absences only for ok crawls).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.model import Health


@dataclass(frozen=True, kw_only=True)
class Crawled:
    """What the crawl of one source reported."""

    status: Health  # ok, or failed on a fetch or content error (the spider's decision)
    error: str | None
    count: int  # events read
    unchanged: bool = False  # every start document as the last healthy crawl read it


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
