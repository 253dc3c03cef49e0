"""Status (taxonomy.md: scheduled, cancelled, postponed) from text and source statements.

Contract: ``decide_status(title, description, hint, rules) -> (Status, reasons)``. The title
speaks first ("ABGESAGT:", "Verschoben –"), then the description; the source's own statement
(ICS STATUS, schema.org eventStatus) counts when the text says nothing. Phrases of
``not_status`` (no registration needed, "bei Regen …", "die ausgefallene Vorstellung") are
blanked first. Texts are folded.
"""

from __future__ import annotations

from famcal.model import Status
from pipeline.rules import StatusRules, first_hit, mask
from pipeline.text import fold


def decide_status(
    title: str, description: str, hint: object, rules: StatusRules
) -> tuple[Status, tuple[str, ...]]:
    for text, where in ((title, "title"), (description, "description")):
        clean = mask(text, rules.not_status)
        hit = first_hit(rules.cancelled, clean)
        if hit:
            return Status.CANCELLED, (f"status: cancelled, «{hit[1]}» in {where}",)
        hit = first_hit(rules.postponed, clean)
        if hit:
            return Status.POSTPONED, (f"status: postponed, «{hit[1]}» in {where}",)
    if isinstance(hint, str) and hint:
        mapped = rules.hints.get(fold(hint).rsplit("/", 1)[-1]) or rules.hints.get(fold(hint))
        if mapped and mapped != Status.SCHEDULED.value:
            return Status(mapped), (f"status: {mapped}, source says «{hint}»",)
    return Status.SCHEDULED, ()
