"""A source's health from its crawl (pipeline.health), alone: contract.md "health.json"."""

from __future__ import annotations

from core.model import Health
from pipeline.health import Crawled, Verdict, is_unchanged, judge


def ok(count: int, *, unchanged: bool = False) -> Crawled:
    return Crawled(status=Health.OK, error=None, count=count, unchanged=unchanged)


def test_a_first_crawl_is_ok_whatever_it_found() -> None:
    assert judge(ok(0), last_healthy=None) == Verdict(status=Health.OK, error=None)
    assert judge(ok(3), last_healthy=None).status is Health.OK


def test_a_failed_crawl_keeps_its_error() -> None:
    failed = Crawled(status=Health.FAILED, error="HTTP 500 for x", count=0)
    assert judge(failed, last_healthy=10) == Verdict(status=Health.FAILED, error="HTTP 500 for x")


def test_zero_events_after_events_is_degraded() -> None:
    assert judge(ok(0), last_healthy=4) == Verdict(
        status=Health.DEGRADED, error="no events (the last healthy run had 4)"
    )


def test_a_fall_by_more_than_half_is_degraded_half_is_not() -> None:
    assert judge(ok(5), last_healthy=10).status is Health.OK
    fell = judge(ok(4), last_healthy=10)
    assert fell.status is Health.DEGRADED
    assert fell.error == "event count fell from 10 to 4 since the last healthy run"


def test_unchanged_needs_a_fine_crawl_of_a_known_source() -> None:
    assert is_unchanged(ok(0, unchanged=True), seen_before=True)
    assert not is_unchanged(ok(0, unchanged=True), seen_before=False)
    assert not is_unchanged(ok(0), seen_before=True)
    failed = Crawled(status=Health.FAILED, error="x", count=0, unchanged=True)
    assert not is_unchanged(failed, seen_before=True)
