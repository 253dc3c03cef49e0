"""Practical tags (taxonomy.md: registration, booked_out, languages, series) from the text.

Contract: ``decide_practical(text) -> Practical`` on the folded title + description + price:
- ``registration``: ``not_required`` phrases first ("ohne Anmeldung", "Anmeldung nicht
  nötig"), then ``required`` ones ("Anmeldung erforderlich", "Anmeldung unter …", "bitte
  anmelden"), after blanking registrations that are not the participants' (``not_registration``);
  nothing said: None. Ticket sales are not registration (no rule names them).
- ``booked_out``: "ausgebucht", "ausverkauft", "keine Plätze mehr" after blanking the phrases of
  ``not_booked_out`` ("meist ausverkauft", "schnell ausverkauft sein wird").
- ``languages``: the sorted ISO 639-1 codes of the languages the text says it is held in
  (``held`` templates per language name; two names in ``bilingual``; ``translated`` adds
  German); German alone gives ``()``; the languages of other dates (``not_languages``, "danach
  folgt eine Vorstellung auf Türkisch") are blanked first.
- ``series_cue``: the phrase that says this is one date of a course or regular group, or "".
Every value that is set has a reason "tag: «phrase»". The rules are ``data/tagging/practical.toml``
(loaded once). Pure.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from core.model import Registration
from core.paths import data_file
from pipeline.rules import Rule, RuleError, candidates, first_hit, mask, parse_rules
from pipeline.text import fold, phrase


@dataclass(frozen=True, kw_only=True)
class PracticalRules:
    not_required: tuple[Rule, ...]
    required: tuple[Rule, ...]
    not_registration: tuple[Rule, ...]
    booked_out: tuple[Rule, ...]
    not_booked_out: tuple[Rule, ...]
    held: tuple[Rule, ...]  # per template and language name
    held_codes: Mapping[str, tuple[str, ...]]  # a held rule's spec -> the codes it gives
    not_languages: tuple[Rule, ...]  # other dates' languages, blanked first
    series: tuple[Rule, ...]
    not_series: tuple[Rule, ...]


@dataclass(frozen=True, kw_only=True)
class Practical:
    registration: Registration | None
    booked_out: bool
    languages: tuple[str, ...]
    series_cue: str
    reasons: tuple[str, ...]


@cache
def practical_rules() -> PracticalRules:
    path = data_file("tagging", "practical.toml")
    where = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RuleError(f"{where}: {exc}") from exc
    names = {fold(k): str(v) for k, v in data.get("language_names", {}).items()}
    other = "|".join(sorted(names, key=len, reverse=True))
    specs: list[str] = []
    codes: list[tuple[str, ...]] = []
    # Templates are expanded here, one rule per language name, so that each rule gets the
    # prefilter keys of its own literal (a text without "türkisch" tries no Turkish rule).
    for kind in ("held", "translated"):
        for template in data.get(kind, []):
            for stem, code in names.items():
                spec = template.replace("{other}", other).replace("{lang}", stem)
                specs.append(spec)
                codes.append((code, "de") if kind == "translated" else (code,))
    held = parse_rules(specs, f"{where}: held")
    return PracticalRules(
        not_required=parse_rules(data.get("not_required"), f"{where}: not_required"),
        required=parse_rules(data.get("required"), f"{where}: required"),
        not_registration=parse_rules(data.get("not_registration"), f"{where}: not_registration"),
        booked_out=parse_rules(data.get("booked_out"), f"{where}: booked_out"),
        not_booked_out=parse_rules(data.get("not_booked_out"), f"{where}: not_booked_out"),
        held=held,
        held_codes={rule.spec: code for rule, code in zip(held, codes, strict=True)},
        not_languages=parse_rules(data.get("not_languages"), f"{where}: not_languages"),
        series=parse_rules(data.get("series"), f"{where}: series"),
        not_series=parse_rules(data.get("not_series"), f"{where}: not_series"),
    )


def _languages(text: str, rules: PracticalRules) -> tuple[tuple[str, ...], list[str]]:
    found: set[str] = set()
    reasons: list[str] = []
    text = mask(text, rules.not_languages)
    for rule in candidates(rules.held, text):
        codes = rules.held_codes[rule.spec]
        if found.issuperset(codes):
            continue
        m = rule.pattern.search(text)
        if m:
            found.update(codes)
            reasons.append(f"languages: {'+'.join(codes)} «{phrase(text, m)}»")
    if found <= {"de"}:
        return (), []  # German alone is the default: [] (taxonomy.md)
    return tuple(sorted(found)), reasons


def decide_practical(text: str, rules: PracticalRules) -> Practical:
    reasons: list[str] = []
    registration: Registration | None = None
    clean = mask(text, rules.not_registration)
    if hit := first_hit(rules.not_required, clean):
        registration = Registration.NOT_REQUIRED
        reasons.append(f"registration: not required «{hit[1]}»")
    elif hit := first_hit(rules.required, clean):
        registration = Registration.REQUIRED
        reasons.append(f"registration: required «{hit[1]}»")
    booked = first_hit(rules.booked_out, mask(text, rules.not_booked_out))
    if booked:
        reasons.append(f"booked_out: «{booked[1]}»")
    languages, why = _languages(text, rules)
    reasons.extend(why)
    cue = first_hit(rules.series, mask(text, rules.not_series))
    if cue:
        reasons.append(f"series: «{cue[1]}»")
    return Practical(
        registration=registration,
        booked_out=booked is not None,
        languages=languages,
        series_cue=cue[1] if cue else "",
        reasons=tuple(reasons),
    )
