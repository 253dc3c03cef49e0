"""Manual corrections of tags (``data/overrides.toml``), applied after the rules on every run.

Contract:
- ``load_overrides(path) -> Overrides`` reads ``[overrides."<key>"]`` tables, keyed by a
  source's event id or the uid, each with optional ``set`` (scalar tags), ``unset`` (scalar
  tags to clear), ``add`` / ``remove`` (list tags: topics, audiences, age_groups) and ``note``.
  Unknown tags or slugs raise ``OverrideError`` naming the file and key.
- ``apply_overrides(tags, *, uid, record_ids, overrides=None) -> Tags`` applies every entry
  whose key is the uid or one of the record ids (in that order), adding the reason
  "override: <key> …". Without ``overrides`` it uses the project's file (loaded once).
  Applying twice gives the same tags, so the rules can never overwrite a correction.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from core.model import Tags
from core.paths import data_file
from core.tagfields import TAG_FIELDS, TagField
from pipeline.ages import groups_for_range


class OverrideError(ValueError):
    """A bad overrides file; the message names the file and key."""


# Which tags an override may set (scalars) or add to and remove from (lists): every tag
# field but the evidence, read from its declaration (``core.tagfields``).
_SCALARS: dict[str, TagField] = {f.name: f for f in TAG_FIELDS if not f.is_list}
_LISTS: dict[str, TagField] = {f.name: f for f in TAG_FIELDS if f.is_list and f.vocabulary}


@dataclass(frozen=True, kw_only=True)
class Override:
    key: str
    set: Mapping[str, Any]
    unset: tuple[str, ...] = ()
    add: Mapping[str, tuple[Any, ...]] = dataclasses.field(default_factory=dict)
    remove: Mapping[str, tuple[Any, ...]] = dataclasses.field(default_factory=dict)
    note: str = ""

    def apply(self, tags: Tags) -> Tags:
        changes: dict[str, Any] = dict(self.set)
        for name in self.unset:
            changes[name] = _SCALARS[name].default
        ages_changed = "age_min" in changes or "age_max" in changes
        for name in _LISTS:
            current = list(changes.get(name, getattr(tags, name)))
            current += [v for v in self.add.get(name, ()) if v not in current]
            current = [v for v in current if v not in self.remove.get(name, ())]
            if current != list(getattr(tags, name)):
                changes[name] = tuple(current)
        if ages_changed and "age_groups" not in self.add and "age_groups" not in self.remove:
            lo = changes.get("age_min", tags.age_min)
            hi = changes.get("age_max", tags.age_max)
            has_age = lo is not None or hi is not None
            changes["age_groups"] = groups_for_range(lo, hi) if has_age and (lo or 0) <= 17 else ()
        summary = ", ".join(
            [f"{k}={_show(v)}" for k, v in self.set.items()]
            + [f"-{k}" for k in self.unset]
            + [f"+{k}:{','.join(_show(x) for x in v)}" for k, v in self.add.items()]
            + [f"-{k}:{','.join(_show(x) for x in v)}" for k, v in self.remove.items()]
        )
        reason = f"override: {self.key} {summary}" + (f" ({self.note})" if self.note else "")
        reasons = tags.reasons if reason in tags.reasons else (*tags.reasons, reason)
        return dataclasses.replace(tags, **changes, reasons=reasons)


def _show(value: Any) -> str:
    return str(value.value if hasattr(value, "value") else value)


@dataclass(frozen=True, kw_only=True)
class Overrides:
    entries: Mapping[str, Override]

    def apply(self, tags: Tags, *, uid: str | None, record_ids: Iterable[str] = ()) -> Tags:
        for key in dict.fromkeys([k for k in (uid, *record_ids) if k]):
            entry = self.entries.get(key)
            if entry is not None:
                tags = entry.apply(tags)
        return tags


def _parse(key: str, table: Any, where: str) -> Override:
    if not isinstance(table, dict):
        raise OverrideError(f"{where}: overrides.{key}: must be a table")
    values: dict[str, Any] = {}
    for name, value in (table.get("set") or {}).items():
        tag = _SCALARS.get(name)
        if tag is None:
            raise OverrideError(f"{where}: overrides.{key}.set.{name}: not a scalar tag")
        try:
            values[name] = tag.default if value in ("", None) else tag.parse(value)
        except ValueError as exc:
            raise OverrideError(
                f"{where}: overrides.{key}.set.{name}: bad value {value!r} ({exc})"
            ) from None
    unset = tuple(table.get("unset") or ())
    for name in unset:
        if name not in _SCALARS:
            raise OverrideError(f"{where}: overrides.{key}.unset: {name!r} is not a scalar tag")
    lists: dict[str, dict[str, tuple[Any, ...]]] = {"add": {}, "remove": {}}
    for verb in lists:
        for name, items in (table.get(verb) or {}).items():
            tag = _LISTS.get(name)
            if tag is None:
                raise OverrideError(f"{where}: overrides.{key}.{verb}.{name}: not a list tag")
            try:
                lists[verb][name] = tag.parse(items)
            except ValueError as exc:
                raise OverrideError(f"{where}: overrides.{key}.{verb}.{name}: {exc}") from None
    return Override(
        key=key,
        set=values,
        unset=unset,
        add=lists["add"],
        remove=lists["remove"],
        note=str(table.get("note") or ""),
    )


def load_overrides(path: str | Path) -> Overrides:
    path = Path(path)
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Overrides(entries={})
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise OverrideError(f"{path}: {exc}") from exc
    table = document.get("overrides") or {}
    return Overrides(entries={str(k): _parse(str(k), v, str(path)) for k, v in table.items()})


@cache
def default_overrides() -> Overrides:
    return load_overrides(data_file("overrides.toml"))


def apply_overrides(
    tags: Tags,
    *,
    uid: str | None,
    record_ids: Iterable[str] = (),
    overrides: Overrides | None = None,
) -> Tags:
    return (overrides or default_overrides()).apply(tags, uid=uid, record_ids=record_ids)
