"""Which records a process must redo: the records that changed since the last process, and
every record dedupe could judge differently because of them (issue #20).

Contract: ``plan(rows, memo, identities, done)`` takes this process's records ``(source id,
record id, record_state)`` in store order, the last process's memo (``core.store.MemoRow``
by record; empty for a full process), the identities and the normalizations of the records
``is_changed`` (the caller makes them while it streams the records), and returns a ``Plan``:
``dirty`` (the records to normalize, tag, dedupe, track and save again, in store order),
``clean`` (the records whose canonical events stand as stored) and ``removed`` (memo rows no
longer read).

Why this is exact: dedupe only compares events of one block (``pipeline.dedupe.block_key``),
so a block's groups depend on its own events; a group's UID depends on the groups claiming
the same UIDs, i.e. on the records that share a UID token (the stored identity or the
record's own ``new_uid``). A record is dirty when its state changed (``record_state``: the
stored JSON and whether it is gone), when it was or is now in the block of a changed or
removed record, or when it shares a UID token with a dirty record (transitively). Every other
record's inputs are those of the last process, whose output is a fixed point: its records'
identities already name their group's UID, so its events, tracked against themselves, are
stored unchanged. Pure; the caller reads and writes the store.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from core.model import Event
from core.store import MemoRow
from pipeline.dedupe import block_key, new_uid
from pipeline.lifecycle import is_gone

RecordKey = tuple[str, str]
Row = tuple[str, str, str]  # source id, record id, record_state


def record_state(data: str, missing_runs: int) -> str:
    """What a record's processing depends on: its stored JSON and whether it is gone."""
    gone = "1" if is_gone(missing_runs) else "0"
    return hashlib.sha256(f"{gone}\x1f{data}".encode()).hexdigest()


@dataclass(kw_only=True)
class Plan:
    dirty: list[int] = field(default_factory=list)  # indexes into rows, in store order
    clean: list[int] = field(default_factory=list)
    removed: list[RecordKey] = field(default_factory=list)


def with_recurrence(state: str, recurring: bool) -> str:
    """The state with the mark whether the record is one of several dates of its source
    record (``pipeline.tag.is_recurring``: its series key depends on its siblings)."""
    return state + ("R" if recurring else "-")


def is_changed(
    memo: Mapping[RecordKey, MemoRow], key: RecordKey, state: str, *, unmarked: bool = False
) -> bool:
    """True when the record must be normalized again (new, or its state moved).
    ``unmarked``: ``state`` is still without ``with_recurrence``'s mark; compare without it."""
    before = memo.get(key)
    if before is None:
        return True
    return (before.state[:-1] if unmarked else before.state) != state


def plan(
    rows: Sequence[Row],
    memo: Mapping[RecordKey, MemoRow],
    identities: Mapping[RecordKey, str],
    done: Mapping[int, Event | str],
) -> Plan:
    """See the module's contract. ``done``: by row index, the normalized event (or the
    reason it is rejected) of every row ``is_changed`` — all rows when there is no memo."""
    out = Plan()
    keys = [(s, r) for s, r, _ in rows]
    if not memo:  # a full process
        out.dirty = list(range(len(rows)))
        return out
    present = set(keys)
    out.removed = [key for key in memo if key not in present]
    dirty_blocks: set[str] = set()
    for key in out.removed:
        if (block := memo[key].block) is not None:
            dirty_blocks.add(block)
    block_of: list[str | None] = []
    for index, key in enumerate(keys):
        before = memo.get(key)
        if index not in done:
            block_of.append(before.block if before is not None else None)
            continue
        if before is not None and before.block is not None:
            dirty_blocks.add(before.block)
        made = done[index]
        block = block_key(made) if isinstance(made, Event) else None
        block_of.append(block)
        if block is not None:
            dirty_blocks.add(block)
    if not done and not out.removed:
        out.clean = list(range(len(rows)))
        return out
    # Close the dirty blocks over shared UID tokens.
    members: defaultdict[str, list[int]] = defaultdict(list)
    holders: defaultdict[str, set[str]] = defaultdict(set)
    tokens: list[tuple[str, ...]] = []
    for index, key in enumerate(keys):
        own = new_uid(*key)
        mine = tuple({own, identities.get(key) or own, (memo.get(key) or _NONE).uid or own})
        tokens.append(mine)
        if (block := block_of[index]) is not None:
            members[block].append(index)
            for token in mine:
                holders[token].add(block)
    queue = list(dirty_blocks)
    while queue:
        block = queue.pop()
        for index in members.get(block, ()):
            for token in tokens[index]:
                for other in holders[token]:
                    if other not in dirty_blocks:
                        dirty_blocks.add(other)
                        queue.append(other)
    for index in range(len(rows)):
        block = block_of[index]
        if index in done or (block is not None and block in dirty_blocks):
            out.dirty.append(index)
        else:
            out.clean.append(index)
    return out


_NONE = MemoRow(state="")
