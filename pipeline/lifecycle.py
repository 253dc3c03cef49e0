"""lifecycle: when an event is cancelled, kept as a tombstone, or logged as merged — pure rules.

Contract (no store, no clock: ``now`` and the stored rows are passed in):
- ``is_gone(missing_runs)``: a record its source stopped listing for ``MISSING_RUNS_TO_CANCEL``
  healthy runs is gone (only healthy runs count absences; the store counts them).
- ``cancel_if_unlisted(event, missing)``: a tagged event whose every listing record is gone
  becomes cancelled (a tombstone with a reason naming the sources), else ``None``.
- ``keep_stated_cancellation(tags, event, members)``: a merged event's fresh tags, cancelled if
  any member source states a cancellation (``retag_merged`` tags a merged event afresh with it).
- ``merge_tombstones(absorbed, stored_rows, produced, now=…, window_start=…, load=…)``: a
  cancelled entry, with a note and ``hints["merged_into"]``, for each published UID a merge
  absorbed; carried unchanged from run to run until ``TOMBSTONE_DAYS`` after its end.
- ``gone_for_good(rows, now=…)``: the tombstones of the UIDs gone for good (contract.md,
  "Changes for apps"): cancelled and merged into another UID (``_replaced_by`` it, followed
  along later merges), or cancelled before their end with every record of the UID gone
  (``_replaced_by`` null); those whose ``updated`` is at most ``GONE_DAYS`` old, oldest
  first. ``rows``: ``Store.cancelled_rows``.
- ``decisions_to_log(rows, identities, new_identities, grouped, latest)``: the merge decisions
  of this run that differ from the last logged for each record (merge-log diffing).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from core.model import BERLIN, Event, Status, Tags, as_datetime
from pipeline.tag import rule_tags, with_overrides

MISSING_RUNS_TO_CANCEL = 2
TOMBSTONE_DAYS = timedelta(days=30)  # a cancelled entry stays this long after its end
GONE_DAYS = timedelta(days=90)  # a UID gone for good is reported this long
MERGED_NOTE = (
    "Doppelter Eintrag: diese Veranstaltung steht jetzt unter einem anderen Eintrag "
    "im Kalender; dieser hier entfällt."
)

RecordKey = tuple[str, str]  # (source id, record id)


def is_gone(missing_runs: int) -> bool:
    """True when the record's source has not listed it for enough healthy runs."""
    return missing_runs >= MISSING_RUNS_TO_CANCEL


def cancel_if_unlisted(event: Event, missing: Mapping[RecordKey, int]) -> Event | None:
    """The event as a tombstone when every source that listed it has stopped, else None."""
    gone = [ref for ref in event.sources if is_gone(missing.get((ref.id, ref.record_id), 0))]
    if not event.tags or not gone or len(gone) != len(event.sources):
        return None
    names = ", ".join(sorted({ref.id for ref in gone}))
    reason = f"status: no longer listed by {names} for {MISSING_RUNS_TO_CANCEL} runs"
    tags = replace(event.tags, status=Status.CANCELLED, reasons=(*event.tags.reasons, reason))
    # Marked, so that going out of every source is a change of its own (pipeline.track):
    # an event its source had cancelled before gets a new ``updated``, and its tombstone a
    # date_modified later than an app's last sync.
    return replace(event, tags=tags, hints={**event.hints, "unlisted": True})


def keep_stated_cancellation(tags: Tags, event: Event, members: Mapping[RecordKey, Event]) -> Tags:
    """``tags`` cancelled when any member of the merged ``event`` states a cancellation.

    A source that writes "Abgesagt" is more likely right than one that has not caught up,
    and a cancelled entry is visible (a tombstone), a wrongly scheduled one sends families
    to a closed door.
    """
    if tags.status is Status.CANCELLED:
        return tags
    saying = sorted(
        ref.id
        for ref in event.sources
        if (member := members.get((ref.id, ref.record_id))) is not None
        and member.status is Status.CANCELLED
    )
    if not saying:
        return tags
    reason = f"status: cancelled per {', '.join(saying)}"
    return replace(tags, status=Status.CANCELLED, reasons=(*tags.reasons, reason))


def retag_merged(
    event: Event,
    members: Mapping[RecordKey, Event],
    *,
    rule_tags_of: Callable[[Event], Tags] = rule_tags,
    recurring: frozenset[tuple[str, str]] = frozenset(),
) -> Event:
    """The merged fields tagged afresh; a cancellation any member source states still holds.
    ``rule_tags_of``: ``pipeline.tag.rule_tags`` or a cache of it (keyed by ``rule_key``);
    ``recurring``: ``pipeline.tag.recurring_keys`` of the run's records (the source's
    recurrences)."""
    tags = with_overrides(event, rule_tags_of(event), recurring=recurring)
    return replace(event, tags=keep_stated_cancellation(tags, event, members))


def ends(event: Event) -> datetime:
    """When the event ends (its start when it states no end)."""
    return as_datetime(event.end) if event.end is not None else event.start_datetime()


def merge_tombstones(
    absorbed: Mapping[str, str],
    stored_rows: Mapping[str, Mapping[str, Any]],
    produced: set[str],
    *,
    now: datetime,
    window_start: datetime,
    load: Callable[[str], dict[str, Any] | None],
) -> list[Event]:
    """Cancelled entries for UIDs a merge absorbed, so they do not silently vanish.

    A published UID whose event merged into an older one becomes STATUS:CANCELLED (with a
    note and ``hints["merged_into"]``) and is carried from run to run unchanged until 30
    days after its end; if its records split off again, it is scheduled again under it.
    ``stored_rows``: the stored events by uid (``status``, ``start`` as UTC ISO text);
    ``window_start``: the start of the feed window; ``load``: a stored event's JSON.
    """
    first_window_start = window_start.astimezone(UTC).isoformat()
    out: list[Event] = []
    for uid, row in stored_rows.items():
        if uid in produced:
            continue
        if uid in absorbed:
            data = load(uid)
            if data is None:
                continue
            event = Event.from_dict(data)
            tags = event.tags or Tags()
            reason = f"status: merged into {absorbed[uid]}"
            event = replace(
                event,
                description="\n\n".join(p for p in (MERGED_NOTE, event.description) if p),
                hints={**event.hints, "merged_into": absorbed[uid]},
                tags=replace(tags, status=Status.CANCELLED, reasons=(*tags.reasons, reason)),
            )
        elif row["status"] == Status.CANCELLED.value and row["start"] >= first_window_start:
            data = load(uid)
            if data is None or "merged_into" not in (data.get("hints") or {}):
                continue
            event = Event.from_dict(data)
        else:
            continue
        if ends(event) + TOMBSTONE_DAYS >= now:
            out.append(event)
    return out


def gone_for_good(rows: Iterable[Mapping[str, Any]], *, now: datetime) -> list[dict[str, Any]]:
    """``{"id", "date_modified", "_replaced_by"}`` per UID gone for good, by (date_modified, id).

    Read from the store's state, not from reason texts: a merge leaves ``merged_into`` in the
    absorbed event's hints (and a split schedules it again, so it is no longer cancelled); an
    event is out of every source when each record of its UID is gone (``is_gone``). One that
    ended before it was cancelled simply took place: apps keep it as history, not a deletion.
    """
    rows = list(rows)
    merged = {row["uid"]: row["merged_into"] for row in rows if row["merged_into"]}
    out: list[dict[str, Any]] = []
    for row in rows:
        if not row["updated"]:
            continue
        stamp = datetime.fromisoformat(row["updated"])
        if stamp + GONE_DAYS < now:
            continue
        if row["merged_into"]:
            target, seen = row["merged_into"], {row["uid"]}
            while target in merged and target not in seen:  # merged on again later
                seen.add(target)
                target = merged[target]
            out.append({"id": row["uid"], "date_modified": row["updated"], "_replaced_by": target})
            continue
        ended = datetime.fromisoformat(row["end"] or row["start"])
        if ended.tzinfo is None:  # an all-day event's end is a local date
            ended = ended.replace(tzinfo=BERLIN)
        if row["records"] and is_gone(row["least_missing"] or 0) and ended > stamp:
            out.append({"id": row["uid"], "date_modified": row["updated"], "_replaced_by": None})
    out.sort(key=lambda g: (datetime.fromisoformat(g["date_modified"]), g["id"]))
    return out


def decisions_to_log(
    rows: list[dict[str, Any]],
    identities: Mapping[RecordKey, str],
    new_identities: Mapping[RecordKey, str],
    grouped: set[RecordKey],
    latest: Mapping[RecordKey, set[tuple[str, str, str]]],
) -> list[dict[str, Any]]:
    """This run's merge decisions that differ from the last ones logged for each record.

    Every run decides afresh; logging only changes keeps ``merge_log`` a history of what
    merged, split or was kept apart and why, not a copy of every run. ``rows``: the dedupe's
    decisions; ``identities``/``new_identities``: record → UID before and where changed now;
    ``grouped``: the records in a merged group; ``latest``: the last logged decisions.
    """
    by_record: dict[RecordKey, list[dict[str, Any]]] = {}
    for row in rows:
        by_record.setdefault((row["source_id"], row["record_id"]), []).append(row)
    for key, uid in new_identities.items():
        previous = identities.get(key)
        if previous is None or any(r["decision"] == "merged" for r in by_record.get(key, ())):
            continue
        # A record whose UID changed without a merge row of its own: the other side of a
        # merge (its event was absorbed), or a record that left its group.
        decision = "merged" if key in grouped else "split"
        reason = f"now under {uid}" if key in grouped else f"no longer grouped under {previous}"
        by_record.setdefault(key, []).append(
            {
                "uid": uid,
                "source_id": key[0],
                "record_id": key[1],
                "decision": decision,
                "reason": f"{reason} (was {previous})" if key in grouped else reason,
            }
        )
    out: list[dict[str, Any]] = []
    for key in sorted(by_record):
        found = by_record[key]
        if {(r["uid"], r["decision"], r["reason"]) for r in found} != latest.get(key, set()):
            out.extend(found)
    return out
