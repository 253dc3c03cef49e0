"""tag: the taxonomy's tags for an event, each with the evidence that set it.

Contract: ``tag_event(event) -> Tags`` and ``tag_record(dict) -> dict`` (the ``famcal tag``
line format of contract.md). Pure: no database, no network, no clock.
This first version decides family, status and free from a few keywords; the rules-based
tagger of issue #5 replaces it.
"""

from __future__ import annotations

import re
from typing import Any

from famcal.model import Event, Location, Status, Tags

_FAMILY = re.compile(r"(?i)\b(kinder\w*|famili\w*|eltern\w*|jugendliche\w*|baby\w*|kita\w*)")
_ADULT = re.compile(r"(?i)\b(ab 18|ü ?30|fsk 18)\b")
_CANCELLED = re.compile(r"(?i)\b(abgesagt|entfällt|fällt aus|ausgefallen)\b")
_POSTPONED = re.compile(r"(?i)\b(verschoben|neuer termin folgt)\b")
_FREE = re.compile(r"(?i)\b(eintritt frei|kostenlos|kostenfrei|gratis|ohne eintritt)\b")


def _tags(
    title: str, description: str, categories: list[str], price: str, hints: dict[str, Any]
) -> Tags:
    text = " ".join([title, description, " ".join(categories)])
    reasons: list[str] = []
    family = False
    if adult := _ADULT.search(text):
        reasons.append(f"family: adult-only «{adult.group(0)}»")
    elif match := _FAMILY.search(text):
        family = True
        reasons.append(f"family: keyword «{match.group(0)}»")
    status = Status.SCHEDULED
    hint = str(hints.get("status") or "").lower()
    if "cancel" in hint or _CANCELLED.search(title):
        status = Status.CANCELLED
        reasons.append(f"status: {'source says ' + hint if 'cancel' in hint else 'text'}")
    elif "postpone" in hint or _POSTPONED.search(title):
        status = Status.POSTPONED
        reasons.append("status: postponed")
    free: bool | None = None
    if hints.get("free") is True or _FREE.search(price + " " + text):
        free = True
        reasons.append("free: source or keyword")
    elif re.search(r"\d+([,.]\d+)?\s*(€|euro)", price, re.I):
        free = False
        reasons.append(f"free: price «{price}»")
    return Tags(family=family, free=free, status=status, reasons=tuple(reasons))


def tag_event(event: Event) -> Tags:
    return _tags(
        event.title, event.description, list(event.categories), event.price or "", event.hints
    )


def tag_record(record: dict[str, Any]) -> dict[str, Any]:
    tags = _tags(
        str(record.get("title") or ""),
        str(record.get("description") or ""),
        [str(c) for c in record.get("categories") or []],
        str(record.get("price") or ""),
        {},
    )
    Location.from_dict(record.get("location"))
    out = dict(record)
    out.update({k: v for k, v in tags.to_dict().items()})
    return out
