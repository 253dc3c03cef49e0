"""Ages and age groups from listing text (taxonomy.md: age_min / age_max / age_groups).

Contract:
- ``find_ages(folded_text, rules)`` reads explicit ages only: ranges ("6 bis 12 Jahre",
  "6–12 J.", "6- bis 11-Jährige", "Kinder von 2 bis 4", "zwischen 8 und 12"), "ab 4 (Jahren)",
  "Kinder bis 10", "unter 3"/"U3" (→ 0/2), "Ü30", "18+", "4-Jährige", English "aged 5 and up",
  Turkish "4 yaş ve üzeri", months and weeks (rounded down to whole years), and film ratings
  (FSK), which any other age statement beats ("FSK 6, empfohlen ab 8" → 8).
  Numbers that are times, prices, sizes, dates or counts are not ages: the guards
  ``not_age_after``/``not_age_before`` of ``data/tagging/ages.toml`` veto them.
  Returns an ``AgeFinding`` (min, max, the phrases) or None.
- ``groups_for_range(lo, hi)`` gives every group the served range overlaps (an open "ab N"
  serves N to N+5, ``core.ages``);
  ages of 18 and more give none.
- ``groups_from_words(folded_text, rules)`` gives groups from words (Babys, Vorschulkinder,
  Grundschulkinder, Jugendliche, "3. Klasse") for listings without numbers.
- ``decide_ages(folded_text, hint, rules)`` puts it together: the text's ages, else the
  source's typicalAgeRange (``hint``, "6-12", "6+", "8"); groups from the numbers whenever a
  number is given (so "ab 16" gives 14-17 even on an adult event), else from words for all
  ages (every group, beating a single group word beside them), else from group words; the
  phrases of ``not_group_words`` (prices, exemptions) are blanked before the words.
  Returns (finding, groups, word_groups, reasons).
Each pattern runs only on texts that hold the literals it requires and a match of its fast
gate (``pipeline.rules.prefilter``): the same findings as running every pattern, for less.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from core.ages import served_range
from core.model import AgeGroup
from pipeline.rules import AgeRules, candidates, keys_in, mask, prefilter
from pipeline.text import phrase

_WORDS = {
    "null": 0,
    "zwei": 2,
    "drei": 3,
    "vier": 4,
    "fünf": 5,
    "sechs": 6,
    "sieben": 7,
    "acht": 8,
    "neun": 9,
    "zehn": 10,
    "elf": 11,
    "zwölf": 12,
    "dreizehn": 13,
    "vierzehn": 14,
    "fünfzehn": 15,
    "sechzehn": 16,
    "siebzehn": 17,
    "achtzehn": 18,
}
# "im ersten Lebensjahr" = age 0 (taxonomy.md: ages in whole years).
_ORDINALS = {"erste": 0, "zweite": 1, "dritte": 2}
_WORD = r"(" + "|".join(sorted(_WORDS, key=len, reverse=True)) + r")"
_NUM = r"(\d{1,2}|" + "|".join(sorted(_WORDS, key=len, reverse=True)) + r")"
_DIGIT = r"(\d{1,2})"
_YEARS = r"(?:jahren|jahre|jahr|j\.|j\b|lebensjahr\w*|-?jährige\w*|years?|yrs|yaş\w*|yas\w*|سنوات)"
_MONTHS = r"(?:monaten|monate|monat|mon\.)"
_WEEKS = r"(?:wochen|woche)"
_UNIT = rf"({_YEARS}|{_MONTHS}|{_WEEKS})"
_PERSON = (
    r"(?:kindern|kinder|kind|kids|jugendlichen?|kleinen|mädchen|jungen|jungs|schüler\w*"
    r"|teilnehmende\w*|teilnehmer\w*|singles|menschen|babys|children|erwachsene\w*|frauen"
    r"|männer|senior\w*|alle|teens|für|personen|leute|geschwister\w*)"
)
# Text before a week/month range that makes it an age ("Babys im Alter von 6 Wochen …")
# rather than a duration ("ein Kurs über 6 bis 8 Wochen").
_INFANT_CONTEXT = re.compile(r"(alter|baby|säugling|kind|krabbel|\balt\b)")


@dataclass(frozen=True, kw_only=True)
class AgeFinding:
    min: int | None
    max: int | None
    phrases: tuple[str, ...]
    rating_only: bool = False


@dataclass(frozen=True)
class _Candidate:
    rank: int  # 0: an age statement, 1: a film rating (any statement beats it)
    lo: int | None
    hi: int | None
    phrase: str


def _num(token: str) -> int:
    return int(token) if token.isdigit() else _WORDS[token]


def _years(value: int, unit: str | None) -> int:
    if unit and re.match(_MONTHS, unit):
        return value // 12
    if unit and re.match(_WEEKS, unit):
        return value // 52
    return value


def _is_small_unit(unit: str | None) -> bool:
    return bool(unit) and not re.match(_YEARS, unit or "")


_Handler = Callable[[re.Match[str], str], tuple[int | None, int | None] | None]


def _range_units(m: re.Match[str], text: str) -> tuple[int | None, int | None] | None:
    lo_unit = m.group(2) or m.group(4)
    hi_unit = m.group(4)
    if _is_small_unit(lo_unit) or _is_small_unit(hi_unit):
        before = text[max(0, m.start() - 40) : m.start() + 12]
        if not _INFANT_CONTEXT.search(before):
            return None  # a duration, not an age
    lo, hi = _years(_num(m.group(1)), lo_unit), _years(_num(m.group(3)), hi_unit)
    return (lo, hi) if lo <= hi else None


def _range_person(m: re.Match[str], _: str) -> tuple[int | None, int | None] | None:
    lo, hi = int(m.group(1)), int(m.group(2))
    return (lo, hi) if lo < hi else None


def _from(m: re.Match[str], _: str) -> tuple[int | None, int | None]:
    return _years(_num(m.group(1)), m.group(2)), None


def _from_word(m: re.Match[str], _: str) -> tuple[int | None, int | None]:
    return _num(m.group(1)), None


def _from_plain(m: re.Match[str], _: str) -> tuple[int | None, int | None]:
    return int(m.group(1)), None


def _until(m: re.Match[str], _: str) -> tuple[int | None, int | None]:
    unit = m.group(2) if (m.re.groups or 0) >= 2 else None
    return None, _years(_num(m.group(1)), unit)


def _under(m: re.Match[str], _: str) -> tuple[int | None, int | None] | None:
    value = _num(m.group(1))
    return (0, value - 1) if value > 0 else None


# A singular article before "15-jährige" names one person ("die 15-jährige Antonia liest",
# "zur 80-jährigen Seniorin"), a performer or a character, not the audience ("für 4-Jährige").
_ONE_PERSON = re.compile(
    r"\b(?:(?:der|die|ein|eine)\s+$)|\b(?:dem|des|zur|zum|vom|einer|eines|einem)\s+$"
)


def _exact(m: re.Match[str], text: str) -> tuple[int | None, int | None] | None:
    before = _ONE_PERSON.search(text[max(0, m.start() - 8) : m.start()])
    if before and (
        not m.group(0).endswith("n") or not before.group(0).startswith(("der", "die", "ein"))
    ):
        return None
    value = int(m.group(1))
    return value, value


def _first_years(m: re.Match[str], _: str) -> tuple[int | None, int | None]:
    year = _ORDINALS[m.group(1)]
    return year, year


def _english_range(m: re.Match[str], _: str) -> tuple[int | None, int | None]:
    lo = int(m.group(1))
    hi = m.group(2) if (m.re.groups or 0) >= 2 else None
    return lo, int(hi) if hi and hi.isdigit() else None


# Order matters: earlier patterns claim their text first, so "6- bis 11-Jährige" is one range
# and not also a "11-Jährige".
_PATTERNS: tuple[tuple[int, re.Pattern[str], _Handler], ...] = (
    (
        0,
        re.compile(
            rf"(?:\bab|\bvon|zwischen|\bfrom)?\s*\b{_NUM}(?:\s*-)?\s*{_UNIT}?\s*(?:-|bis|und|to|إلى)\s*{_NUM}\s*-?\s*{_UNIT}"
        ),
        _range_units,
    ),
    (
        0,
        re.compile(
            rf"\b{_PERSON}\s+(?:im alter\s+)?(?:von|zwischen|from)\s+"
            rf"{_DIGIT}\s*(?:-|bis|und|to)\s*{_DIGIT}\b"
        ),
        _range_person,
    ),
    (
        0,
        re.compile(rf"\b{_PERSON}\s*\(\s*{_DIGIT}\s*(?:-|bis)\s*{_DIGIT}\s*(?:j\.|jahre)?\s*\)"),
        _range_person,
    ),
    (
        0,
        re.compile(
            rf"\b(?:alter|altersgruppe|altersempfehlung|empfohlenes alter|zielgruppe)\s*:\s*"
            rf"(?:von\s+)?{_DIGIT}\s*(?:-|bis)\s*{_DIGIT}\b"
        ),
        _range_person,
    ),
    (
        0,
        re.compile(rf"\b(?:alter|altersempfehlung|empfohlenes alter)\s*:\s*(?:ab\s+)?{_DIGIT}\b"),
        _from_plain,
    ),
    # "Das Mindestalter liegt bei 18 Jahren", "Mindestalter: 16".
    (
        0,
        re.compile(rf"\bmindestalter\s*(?::|liegt\s+bei|beträgt|ist|von)?\s*{_DIGIT}\b"),
        _from_plain,
    ),
    (0, re.compile(rf"\bages?d?\s+{_DIGIT}(?:\s*(?:-|to)\s*{_DIGIT})?\b"), _english_range),
    (0, re.compile(rf"\b{_DIGIT}\s*{_YEARS}?\s*(?:and|&)\s*(?:up|older|over)\b"), _english_range),
    (0, re.compile(rf"\b{_DIGIT}\s*yaş\w*\s+ve\s+üzeri"), _english_range),
    (0, re.compile(rf"(?:\bab|\bfrom)\s+(?:dem\s+)?{_DIGIT}\.?\s*{_UNIT}?"), _from),
    (0, re.compile(rf"(?:\bab|\bfrom)\s+(?:dem\s+)?{_WORD}\s*{_UNIT}"), _from),
    (0, re.compile(rf"\b{_PERSON}\s+ab\s+{_WORD}\b"), _from_word),
    (0, re.compile(r"\b(erste|zweite|dritte)[nms]?\s+lebensjahr\w*"), _first_years),
    (0, re.compile(rf"ü\s?-?{_DIGIT}(?!\d)"), _from_plain),
    (0, re.compile(rf"(?<![\w+€]){_DIGIT}\s?\+(?![\d+])"), _from_plain),
    (
        0,
        re.compile(
            rf"\b{_PERSON}\s+bis\s+(?:zum alter von\s+|einschließlich\s+)?{_NUM}\b(?:\s*{_UNIT})?"
        ),
        _until,
    ),
    (0, re.compile(rf"\bbis\s+(?:einschließlich\s+)?{_NUM}\s*(jahren|jahre|j\.)"), _until),
    (0, re.compile(rf"\b{_PERSON}\s+unter\s+{_NUM}\b(?:\s*jahren|\s*jahre)?"), _under),
    (0, re.compile(r"(?<!\w)u(\d{1,2})(?!\w)"), _under),
    (0, re.compile(r"(?<![\d-])(\d{1,2})-?jährige[n]?\b"), _exact),
    (1, re.compile(rf"\bfsk\s*(?:ab\s*)?{_DIGIT}\b"), _from_plain),
)


# What a text must hold for each pattern to match (``pipeline.rules.prefilter``): most texts
# lack it for most patterns, and the test is far cheaper than a scan with the pattern.
_PREFILTERS = tuple(prefilter(pattern) for _, pattern, _ in _PATTERNS)


def find_ages(text: str, rules: AgeRules) -> AgeFinding | None:
    taken: list[tuple[int, int]] = []
    found: list[_Candidate] = []
    keys = keys_in(text)
    for (rank, pattern, handler), worth in zip(_PATTERNS, _PREFILTERS, strict=True):
        if not worth.admits(text, keys):
            continue
        for m in pattern.finditer(text):
            start, end = m.span()
            if any(start < b and a < end for a, b in taken):
                continue
            if rules.not_age_after.match(text, end) or rules.not_age_before.search(
                text[max(0, start - 25) : start]
            ):
                continue
            value = handler(m, text)
            if value is None:
                continue
            lo, hi = value
            if (lo is not None and lo > 99) or (hi is not None and hi > 99):
                continue
            taken.append((start, end))
            found.append(_Candidate(rank, lo, hi, m.group(0).strip()))
    if not found:
        return None
    best = min(c.rank for c in found)
    chosen = [c for c in found if c.rank == best]
    lows = [c.lo for c in chosen if c.lo is not None]
    highs = [c.hi for c in chosen if c.hi is not None]
    lo = min(lows) if lows else None
    # An open upper end in any statement ("ab 4") keeps the range open.
    hi = max(highs) if highs and all(c.hi is not None for c in chosen) else None
    return AgeFinding(
        min=lo, max=hi, phrases=tuple(c.phrase for c in chosen), rating_only=best == 1
    )


def groups_for_range(lo: int | None, hi: int | None) -> tuple[AgeGroup, ...]:
    """The groups the served range overlaps (``core.ages.served_range``: "ab N" serves N
    to N+5, "bis N" from 0)."""
    span = served_range(lo, hi)
    if span is None:
        return tuple(AgeGroup)
    low, high = span
    return tuple(g for g in AgeGroup if g.bounds[0] <= high and g.bounds[1] >= low)


_GRADE = re.compile(
    r"\b(\d{1,2})\.?\s*(?:-|bis)?\s*(?:(\d{1,2})\.\s*)?klassen?\b|\bklassen?\s*(\d{1,2})(?:\s*(?:-|bis)\s*(\d{1,2}))?\b"
)


_GRADE_PREFILTER = prefilter(_GRADE)


def _grade_group(grade: int) -> AgeGroup | None:
    if 1 <= grade <= 4:
        return AgeGroup.GRUNDSCHULE
    if 5 <= grade <= 8:
        return AgeGroup.KIDS
    if 9 <= grade <= 13:
        return AgeGroup.TEENS
    return None


def groups_from_words(text: str, rules: AgeRules) -> tuple[tuple[AgeGroup, ...], tuple[str, ...]]:
    groups: set[AgeGroup] = set()
    phrases: list[str] = []
    for group, words in rules.word_groups.items():
        for rule in candidates(words, text):
            m = rule.pattern.search(text)
            if m:
                groups.add(group)
                phrases.append(phrase(text, m))
                break
    for m in _GRADE.finditer(text) if _GRADE_PREFILTER.admits(text) else ():
        numbers = [int(g) for g in m.groups() if g]
        if len(numbers) == 2:
            numbers = list(range(numbers[0], numbers[1] + 1))
        hits = {g for n in numbers if (g := _grade_group(n))}
        if hits:
            groups |= hits
            phrases.append(m.group(0))
    return tuple(g for g in AgeGroup if g in groups), tuple(phrases)


_HINT_RANGE = re.compile(r"^\s*(\d{1,2})?\s*(?:-|–|bis)?\s*(\d{1,2})?\s*\+?\s*$")


def hint_ages(value: object) -> AgeFinding | None:
    """A source's typicalAgeRange: "6-12", "6-", "-12", "6+", "8"."""
    if not isinstance(value, str):
        return None
    m = _HINT_RANGE.match(value)
    if not m or not (m.group(1) or m.group(2)):
        return None
    lo = int(m.group(1)) if m.group(1) else None
    hi = int(m.group(2)) if m.group(2) else None
    if lo is not None and hi is None and "-" not in value and "+" not in value:
        hi = lo  # a single number is an exact age
    return AgeFinding(min=lo, max=hi, phrases=(f"source age range {value}",))


def _span(lo: int | None, hi: int | None) -> str:
    return f"{'' if lo is None else lo}–{'' if hi is None else hi}"


def decide_ages(
    text: str, hint: object, rules: AgeRules
) -> tuple[AgeFinding | None, tuple[AgeGroup, ...], tuple[AgeGroup, ...], tuple[str, ...]]:
    ages = find_ages(text, rules) or hint_ages(hint)
    if ages is not None:
        reasons = [f"age: «{', '.join(ages.phrases)}» → {_span(ages.min, ages.max)}"]
        adult = ages.min is not None and ages.min > 17
        groups = () if adult else groups_for_range(ages.min, ages.max)
        if groups:
            reasons.append(f"age_groups: from the ages {_span(ages.min, ages.max)}")
        return ages, groups, (), tuple(reasons)
    # Who pays what or is exempt from a rule is not the audience ("Kinder und Jugendliche bis
    # 18 frei", "Jugendliche zahlen 9 Euro"): such phrases give no group words.
    words = mask(text, rules.not_group_words) if rules.not_group_words else text
    for rule in candidates(rules.all_ages, words):
        if m := rule.pattern.search(words):
            # Words for all ages serve every group, whatever single group a word names beside
            # them ("für Groß und Klein … Jugendliche"); they are no age-group evidence for the
            # family decision (the family rules weigh these phrases themselves).
            return None, tuple(AgeGroup), (), (f"age_groups: all ages «{phrase(words, m)}»",)
    word_groups, phrases = groups_from_words(words, rules)
    if word_groups:
        return None, word_groups, word_groups, (f"age_groups: words «{', '.join(phrases)}»",)
    return None, (), (), ()
