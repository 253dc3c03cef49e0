"""The lifecycle rules alone (pipeline.lifecycle): absences → cancellation, a stated
cancellation kept through a merge, tombstones of absorbed UIDs, merge-log diffing. No store."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from core.model import BERLIN, Event, SourceRef, Status, Tags
from pipeline.lifecycle import (
    MERGED_NOTE,
    cancel_if_unlisted,
    decisions_to_log,
    gone_for_good,
    is_gone,
    keep_stated_cancellation,
    merge_tombstones,
)

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=BERLIN)
WINDOW_START = NOW - timedelta(days=1)


def event(uid: str = "u1", *refs: tuple[str, str], start: datetime | None = None) -> Event:
    return Event(
        uid=uid,
        title="Bilderbuchkino",
        start=start or NOW + timedelta(days=3),
        end=None,
        all_day=False,
        sources=tuple(SourceRef(id=s, record_id=r) for s, r in refs or (("a", "1"),)),
        tags=Tags(family=True),
    )


def test_one_absence_is_not_gone_two_are() -> None:
    assert not is_gone(0) and not is_gone(1)
    assert is_gone(2) and is_gone(5)


def test_cancelled_only_when_every_listing_source_stopped() -> None:
    merged = event("u1", ("a", "1"), ("b", "9"))
    assert cancel_if_unlisted(merged, {("a", "1"): 2, ("b", "9"): 1}) is None
    gone = cancel_if_unlisted(merged, {("a", "1"): 2, ("b", "9"): 3})
    assert gone is not None and gone.status is Status.CANCELLED
    assert gone.tags is not None
    assert gone.tags.reasons[-1] == "status: no longer listed by a, b for 2 runs"


def test_an_untagged_event_is_not_cancelled() -> None:
    assert cancel_if_unlisted(replace(event(), tags=None), {("a", "1"): 2}) is None


def test_a_stated_cancellation_holds_through_a_merge() -> None:
    merged = event("u1", ("a", "1"), ("b", "9"))
    member = replace(event("x", ("b", "9")), tags=Tags(status=Status.CANCELLED))
    fresh = Tags(family=True)
    kept = keep_stated_cancellation(fresh, merged, {("b", "9"): member, ("a", "1"): event()})
    assert kept.status is Status.CANCELLED
    assert kept.reasons == ("status: cancelled per b",)
    assert keep_stated_cancellation(fresh, merged, {("a", "1"): event()}) is fresh


def stored(status: Status, start: datetime) -> dict[str, Any]:
    return {"status": status.value, "start": start.astimezone(UTC).isoformat()}


def test_an_absorbed_uid_becomes_a_tombstone_until_thirty_days_after_its_end() -> None:
    old = event("old", start=NOW - timedelta(days=10))
    data = {"old": old.to_dict(), "past": event("past", start=NOW - timedelta(days=31)).to_dict()}
    rows = {uid: stored(Status.SCHEDULED, NOW) for uid in ("old", "past", "kept")}
    out = merge_tombstones(
        {"old": "new", "past": "new"},
        rows,
        {"kept", "new"},
        now=NOW,
        window_start=WINDOW_START,
        load=data.get,
    )
    assert [e.uid for e in out] == ["old"]
    tomb = out[0]
    assert tomb.status is Status.CANCELLED
    assert tomb.hints["merged_into"] == "new"
    assert tomb.description.startswith(MERGED_NOTE)


def test_a_stored_merge_tombstone_is_carried_unchanged() -> None:
    carried = replace(event("t"), hints={"merged_into": "new"}, tags=Tags(status=Status.CANCELLED))
    plain = replace(event("c"), tags=Tags(status=Status.CANCELLED))
    rows = {
        "t": stored(Status.CANCELLED, NOW + timedelta(days=3)),
        "c": stored(Status.CANCELLED, NOW + timedelta(days=3)),  # cancelled, not merged
    }
    data = {"t": carried.to_dict(), "c": plain.to_dict()}
    out = merge_tombstones({}, rows, set(), now=NOW, window_start=WINDOW_START, load=data.get)
    assert out == [Event.from_dict(carried.to_dict())]


def decision(uid: str, record: str, kind: str, reason: str) -> dict[str, Any]:
    return {"uid": uid, "source_id": "a", "record_id": record, "decision": kind, "reason": reason}


def test_only_changed_decisions_are_logged() -> None:
    rows = [decision("u1", "1", "kept", "alone"), decision("u2", "2", "merged", "same title")]
    latest = {("a", "1"): {("u1", "kept", "alone")}}
    assert decisions_to_log(rows, {}, {}, set(), latest) == [rows[1]]


def test_a_record_that_changed_uid_is_logged_as_merged_or_split() -> None:
    identities = {("a", "1"): "old1", ("a", "2"): "old2"}
    new = {("a", "1"): "u9", ("a", "2"): "u8"}
    out = decisions_to_log([], identities, new, {("a", "1")}, {})
    assert out == [
        decision("u9", "1", "merged", "now under u9 (was old1)"),
        decision("u8", "2", "split", "no longer grouped under old2"),
    ]


def test_gone_for_good_from_the_stores_rows() -> None:
    def row(uid: str, updated: datetime, **more: Any) -> dict[str, Any]:
        base = {"uid": uid, "start": "2026-12-03T16:00:00+00:00", "end": None, "records": 1}
        base |= {"updated": updated.isoformat(), "merged_into": None, "least_missing": 0}
        return base | more

    rows = [
        row("a", NOW - timedelta(days=1), merged_into="b", records=0),
        row("b", NOW - timedelta(hours=1), merged_into="c", records=0),  # merged on again
        row("gone", NOW - timedelta(hours=2), least_missing=2),
        row("abgesagt", NOW, least_missing=0),  # cancelled by its source, still listed
        row("old", NOW - timedelta(days=91), merged_into="c", records=0),
        row("happened", NOW, least_missing=3, start="2026-11-01T10:00:00+00:00"),
    ]
    assert gone_for_good(rows, now=NOW) == [
        {"id": "a", "date_modified": rows[0]["updated"], "_replaced_by": "c"},
        {"id": "gone", "date_modified": rows[2]["updated"], "_replaced_by": None},
        {"id": "b", "date_modified": rows[1]["updated"], "_replaced_by": "c"},
    ]
