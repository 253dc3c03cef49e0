"""Price tags (taxonomy.md: free, aktivpass) from the price field, description and hints.

Contract: ``decide_free(price, description, hint, rules) -> (bool | None, reasons)``:
the price field speaks first (an amount above 0 → False, even beside "Kinder frei"; a free
phrase or "Spenden erbeten" → True), then the description, then the source's own statement
(``hint``, e.g. schema.org isAccessibleForFree); nothing said → None.
``decide_aktivpass(text, rules) -> (bool, reasons)``: HannoverAktivPass named (and not denied).
All texts are folded (``pipeline.text.fold``).
"""

from __future__ import annotations

from pipeline.rules import PriceRules, first_hit, mask


def _free_in(text: str, rules: PriceRules, where: str) -> tuple[bool | None, str]:
    if not text:
        return None, ""
    paid = first_hit(rules.paid, text)
    if paid:
        return False, f"free: no, amount «{paid[1]}» in {where}"
    clean = mask(text, rules.not_free)
    hit = first_hit(rules.free, clean)
    if hit:
        return True, f"free: «{hit[1]}» in {where}"
    hit = first_hit(rules.donation, clean)
    if hit:
        return True, f"free: donation «{hit[1]}» in {where}"
    return None, ""


def decide_free(
    price: str, description: str, hint: bool | None, rules: PriceRules
) -> tuple[bool | None, tuple[str, ...]]:
    for text, where in ((price, "price"), (description, "description")):
        value, why = _free_in(text, rules, where)
        if value is not None:
            return value, (why,)
    if hint is not None:
        return hint, (f"free: source says {'free' if hint else 'not free'}",)
    return None, ()


def decide_aktivpass(text: str, rules: PriceRules) -> tuple[bool, tuple[str, ...]]:
    hit = first_hit(rules.aktivpass, text)
    if hit is None:
        return False, ()
    denied = first_hit(rules.aktivpass_not, text)
    if denied:
        return False, (f"aktivpass: no, «{denied[1]}»",)
    return True, (f"aktivpass: «{hit[1]}»",)
