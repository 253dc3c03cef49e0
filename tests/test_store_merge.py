"""The store's side of issue #6: identities saved with the events, last merge decisions."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from core.model import Event
from core.store import Store
from tests.conftest import NOW


def test_identities_and_decisions_saved_with_the_events(tmp_path: Path) -> None:
    store = Store(tmp_path / "events.db")
    event = Event(uid="u1", title="Pippi", start=NOW, end=NOW + timedelta(hours=1), all_day=False)
    row = {"uid": "u1", "source_id": "b", "record_id": "2", "decision": "merged", "reason": "r"}
    store.save_events(
        [(event, "f", NOW.isoformat())],
        processed=1,
        merge_log=[row],
        identities={("a", "1"): "u1", ("b", "2"): "u1"},
    )
    assert store.identities() == {("a", "1"): "u1", ("b", "2"): "u1"}
    assert store.latest_merge_decisions() == {("b", "2"): {("u1", "merged", "r")}}

    split = {**row, "decision": "split", "reason": "no longer grouped under u1", "uid": "u2"}
    store.save_events([(event, "f", NOW.isoformat())], processed=2, merge_log=[split])
    assert store.latest_merge_decisions() == {
        ("b", "2"): {("u2", "split", "no longer grouped under u1")}
    }
    assert len(list(store.db.table("merge_log").rows)) == 2
