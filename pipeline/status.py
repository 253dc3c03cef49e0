"""Status (taxonomy.md: scheduled, cancelled, postponed) from text and source statements.

Contract: ``decide_status(title, description, hint, rules) -> (Status, reasons)``. The title
speaks first ("ABGESAGT:", "Verschoben –"), then the description; the source's own statement
(ICS STATUS, schema.org eventStatus) counts when the text says nothing. Phrases of
``not_status`` (no registration needed, "bei Regen …", "die ausgefallene Vorstellung") are
blanked first. Texts are folded.
A make-up date ("Nachholtermin: …" in the title, "wird heute nachgeholt") is the new date and
so scheduled: the description's "verschoben"/"abgesagt" tell of the earlier one, and only the
title can still call the make-up date off ("ABGESAGT – Nachholtermin …").
"""

from __future__ import annotations

from core.model import Status
from pipeline.rules import StatusRules, first_hit, mask
from pipeline.text import fold


def decide_status(
    title: str, description: str, hint: object, rules: StatusRules
) -> tuple[Status, tuple[str, ...]]:
    makeup = first_hit(rules.makeup_title, title) or first_hit(rules.makeup, description)
    for text, where in ((title, "title"), (description, "description")):
        if makeup and where == "description":
            return Status.SCHEDULED, (f"status: scheduled, a make-up date «{makeup[1]}»",)
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
