"""Which records a process must redo: the records that changed since the last process, and
every record dedupe could judge differently because of them (issue #20).

Contract: ``plan(rows, memo, identities, normalize_one)`` takes this process's records
``(source id, record id, stored JSON, missing runs)`` in store order, the last process's
memo (``core.store.MemoRow`` by record; empty for a full process) and the identities, and
returns a ``Plan``: ``dirty`` (the records to normalize, tag, dedupe, track and save again, in
store order), ``clean`` (the records whose canonical events stand as stored), ``removed``
(memo rows no longer read), and the normalizations done while planning.

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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from core.model import Event
from core.store import MemoRow
from pipeline.dedupe import block_key, new_uid
from pipeline.lifecycle import is_gone

RecordKey = tuple[str, str]
Row = tuple[str, str, str, int]  # source id, record id, stored JSON, missing runs


def record_state(data: str, missing_runs: int) -> str:
    """What a record's processing depends on: its stored JSON and whether it is gone."""
    gone = "1" if is_gone(missing_runs) else "0"
    return hashlib.sha256(f"{gone}\x1f{data}".encode()).hexdigest()


@dataclass(kw_only=True)
class Plan:
    dirty: list[int] = field(default_factory=list)  # indexes into rows, in store order
    clean: list[int] = field(default_factory=list)
    removed: list[RecordKey] = field(default_factory=list)
    states: list[str] = field(default_factory=list)  # by row index
    # Normalized while planning (the changed records): row index -> event or rejection.
    done: dict[int, Event | str] = field(default_factory=dict)


def plan(
    rows: Sequence[Row],
    memo: Mapping[RecordKey, MemoRow],
    identities: Mapping[RecordKey, str],
    normalize_one: Callable[[int], Event | str],
) -> Plan:
    """See the module's contract. ``normalize_one(index)``: the normalized event of
    ``rows[index]``, or the reason it is rejected."""
    out = Plan(states=[record_state(data, missing) for _, _, data, missing in rows])
    keys = [(s, r) for s, r, _, _ in rows]
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
    changed: set[int] = set()
    for index, key in enumerate(keys):
        before = memo.get(key)
        if before is not None and before.state == out.states[index]:
            block_of.append(before.block)
            continue
        changed.add(index)
        if before is not None and before.block is not None:
            dirty_blocks.add(before.block)
        made = out.done[index] = normalize_one(index)
        block = block_key(made) if isinstance(made, Event) else None
        block_of.append(block)
        if block is not None:
            dirty_blocks.add(block)
    if not changed and not out.removed:
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
        if index in changed or (block is not None and block in dirty_blocks):
            out.dirty.append(index)
        else:
            out.clean.append(index)
    return out


_NONE = MemoRow(state="")
