"""Text folding and keyword compilation for German listings.

Contract:
- ``fold(text)`` is the one form every rule is matched against: Unicode NFC, soft hyphens
  removed, all dashes made "-", casefolded (so "ß" becomes "ss"; Turkish "İ" becomes a plain
  "i"), hyphens *between two letters*
  dropped ("Kinder-Theater" → "kindertheater", "Eltern-Kind-Turnen" → "elternkindturnen") and
  whitespace collapsed. Digits and punctuation stay, so ages and prices can still be read.
- ``fold_place(text)`` additionally spells umlauts out (ä → ae …), because place names arrive
  both ways ("Döhren", "Doehren").
- ``compile_keyword(spec)`` turns a data-file keyword into a regex over folded text:
  a leading ``*`` allows any word prefix (compound tail: "*theater" finds "Kindertheater"),
  a trailing ``*`` any word suffix ("kinder*" finds "Kinderprogramm"); without a star the
  word must stand alone. Spaces match any run of spaces. A spec starting with ``re:`` is a raw
  regular expression over folded text.
- ``required_clauses(pattern)``: sets of literals such that every match of the regex holds one
  literal of each set, read soundly from its parse tree (``required_literals``: the most
  selective set). ``fast_gate(pattern)``: a regex that matches in every text ``pattern``
  matches in, and that Python's engine searches fast (or None). Both serve as prefilters.
"""

from __future__ import annotations

import re
import re._compiler as _sre_compile  # type: ignore[import-not-found]  # re's own compiler
import re._parser as _sre  # type: ignore[import-not-found]  # and parser
import unicodedata
from functools import lru_cache
from typing import Any

_DASHES = {ord(c): "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\uff0d"}
_SOFT = {0x00AD: None, 0x200B: None, 0x200C: None, 0x200D: None, 0xFEFF: None}
# Arabic-Indic and Persian digits read as ASCII so "٣ إلى ٦" still holds numbers.
_DIGITS = {0x0660 + i: str(i) for i in range(10)} | {0x06F0 + i: str(i) for i in range(10)}
# One table for the three (their keys differ and no value is another's key, so one pass is the
# same as three); translate runs only when one of its characters is there, as it rarely is:
# on a German text translate is slow (every character looked up).
_SPECIAL = _SOFT | _DASHES | _DIGITS
_HAS_SPECIAL = re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(_SPECIAL)) + "]")
# Casefolding the Turkish capital "İ" leaves "i" plus a combining dot (U+0307), which is not a
# word character: "İki" would read as "i ki" and "ki" (KI, AI) would match inside it.
_COMBINING_DOT = {0x0307: None}
# A hyphen inside a word joins compound parts; one with a space after it ("Ahnen- und") is an
# elision and stays, as does a hyphen next to a digit ("6-Jährige"). The hyphen comes first in
# the pattern (the letter before it is checked behind): a literal start is searched fast.
_INNER_HYPHEN = re.compile(r"-(?<=[^\W\d_]-)(?=[^\W\d_])")


def fold(text: str | None) -> str:
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text)
    if _HAS_SPECIAL.search(text):
        text = text.translate(_SPECIAL)
    text = text.casefold()
    if "\u0307" in text:
        text = text.translate(_COMBINING_DOT)
    if "-" in text:
        text = _INNER_HYPHEN.sub("", text)
    # Whitespace runs become one space, none at the ends (str.split's whitespace is re's \s).
    return " ".join(text.split())


def fold_place(text: str | None) -> str:
    # str.replace, not translate: many times faster on non-ASCII text.
    return fold(text).replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")


@lru_cache(maxsize=4096)
def compile_keyword(spec: str, *, place: bool = False) -> re.Pattern[str]:
    if spec.startswith("re:"):
        return re.compile(spec[3:])
    folded = fold_place(spec) if place else fold(spec)
    prefix = folded.startswith("*")
    suffix = folded.endswith("*")
    core = folded.strip("*")
    # "Erste Hilfe" also finds "Erste-Hilfe-Kurs", folded to "erstehilfekurs".
    body = r"\s*".join(re.escape(part) for part in core.split(" "))
    # A star side has no boundary rather than "\w*": a literal search is many times faster,
    # and ``whole_words`` recovers the full word for reasons and masks.
    start = "" if prefix else r"(?<!\w)"
    end = "" if suffix else r"(?!\w)"
    return re.compile(start + body + end)


Clause = frozenset[str]
# An any-of set larger than this (a wide character range) filters too little to pay its checks.
_MAX_ANY_OF = 32
_ZERO_WIDTH = (_sre.AT, _sre.ASSERT, _sre.ASSERT_NOT)
_REPEATS = (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT)


def required_literals(pattern: re.Pattern[str]) -> tuple[str, ...]:
    """Literals of which every match of ``pattern`` contains at least one; () if none is known.

    The most selective of ``required_clauses``.
    """
    clauses = required_clauses(pattern)
    return min(clauses, key=_cost) if clauses else ()


def required_clauses(pattern: re.Pattern[str]) -> tuple[tuple[str, ...], ...]:
    """Sets of literals such that every match of ``pattern`` contains one literal of each set.

    Read from the regex's parse tree, so it holds for any text: literal runs of the top-level
    sequence (groups inlined; zero-width assertions keep the characters around them adjacent),
    the items of a repeat with a minimum of one or more, one literal per alternative of an
    alternation, a small character class. Optional parts, repeats that may be empty, classes
    with categories or negation and anything under IGNORECASE give nothing. No literal holds
    whitespace (runs are cut there).
    """
    if pattern.flags & re.IGNORECASE:
        return ()
    parsed = _sre.parse(pattern.pattern, pattern.flags)
    clauses = _clauses(parsed.data, int(parsed.state.flags))
    return tuple(dict.fromkeys(tuple(sorted(clause)) for clause in clauses))


# A gate starts with an item of at most this many first characters: Python's engine then
# skips ahead to them instead of trying every position.
_FEW_FIRST = 6


def fast_gate(pattern: re.Pattern[str]) -> re.Pattern[str] | None:
    r"""A regex that finds a match in every text ``pattern`` finds one in, and fast; or None.

    It is ``pattern``'s top-level sequence from the first item after the start that begins
    with one of a few characters (a literal, an alternation of words), up to the end: a match
    of ``pattern`` holds a match of that tail at the same place of the same text, so
    assertions in it see what they saw. None where there is no such item, the pattern starts
    with one (it is fast already), the tail is a plain literal (``required_clauses`` has it) or
    backtracking could not find every match (atomic groups, possessive repeats, back
    references). ``(?<!\w)kind(?!\w)`` gives ``kind(?!\w)``: the engine jumps from one "kind"
    to the next instead of trying the lookbehind at every position.
    """
    if pattern.flags & re.IGNORECASE:
        return None
    parsed = _sre.parse(pattern.pattern, pattern.flags)
    items = list(parsed.data)
    for i, item in enumerate(items):
        first = _first_chars(item)
        if first is not None and len(first) <= _FEW_FIRST:
            if i == 0 or not _plain(items[i:]):
                return None
            if all(op is _sre.LITERAL for op, _ in items[i:]):
                return None  # a mere substring: the required literals test that already
            gate: re.Pattern[str] = _sre_compile.compile(
                _sre.SubPattern(parsed.state, items[i:]), pattern.flags
            )
            return gate
    return None


def _first_chars(item: Any) -> frozenset[str] | None:
    """The characters a match of ``item`` can start with, where it is a literal choice."""
    op, av = item
    if op is _sre.LITERAL:
        return frozenset(chr(av))
    if op is _sre.IN:
        return _class_chars(av) or None
    if op is _sre.BRANCH:
        chars: set[str] = set()
        for branch in av[1]:
            first = _first_chars(branch.data[0]) if branch.data else None
            if first is None:
                return None
            chars |= first
        return frozenset(chars)
    if op is _sre.SUBPATTERN and av[3].data:
        return _first_chars(av[3].data[0])
    return None


def _plain(items: Any) -> bool:
    """No atomic group, possessive repeat or back reference anywhere in ``items``."""
    for op, av in items:
        if op in (_sre.ATOMIC_GROUP, _sre.POSSESSIVE_REPEAT, _sre.GROUPREF, _sre.GROUPREF_EXISTS):
            return False
        subs: list[Any] = []
        if op is _sre.SUBPATTERN:
            subs = [av[3]]
        elif op is _sre.BRANCH:
            subs = list(av[1])
        elif op in _REPEATS:
            subs = [av[2]]
        elif op in (_sre.ASSERT, _sre.ASSERT_NOT):
            subs = [av[1]]
        if not all(_plain(sub.data) for sub in subs):
            return False
    return True


def _cost(clause: Clause | tuple[str, ...]) -> tuple[float, int]:
    """Smaller is more selective: few and long literals (a guess at how often one occurs)."""
    return sum(4.0 ** -len(literal) for literal in clause), len(clause)


def _any_of(literals: Clause) -> Clause | None:
    """The set without literals that contain another (that one occurs whenever they do)."""
    if (
        not literals
        or len(literals) > _MAX_ANY_OF
        or any(not s or s != "".join(s.split()) for s in literals)
    ):
        return None
    return frozenset(s for s in literals if not any(o != s and o in s for o in literals))


def _clauses(items: Any, flags: int) -> list[Clause]:
    """Every match of the sequence ``items`` contains a literal of each returned set."""
    clauses: list[Clause] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            clauses.extend(frozenset((piece,)) for piece in "".join(run).split())
            run.clear()

    def walk(items: Any, flags: int) -> None:
        for op, av in items:
            if op is _sre.LITERAL and not flags & re.IGNORECASE:
                run.append(chr(av))
            elif op in _ZERO_WIDTH:
                continue  # consumes nothing: the characters around it stay adjacent
            elif op is _sre.SUBPATTERN:
                _group, add, delete, sub = av
                walk(sub.data, (flags | add) & ~delete)
            elif op is _sre.ATOMIC_GROUP:
                walk(av.data, flags)
            else:
                flush()
                clause: Clause | None = None
                if flags & re.IGNORECASE:
                    pass
                elif op is _sre.BRANCH:
                    best = [_clauses(branch.data, flags) for branch in av[1]]
                    if all(best):
                        clause = _any_of(frozenset().union(*(min(b, key=_cost) for b in best)))
                elif op in _REPEATS and av[0] >= 1:
                    clauses.extend(_clauses(av[2].data, flags))
                elif op is _sre.IN:
                    clause = _any_of(_class_chars(av))
                if clause:
                    clauses.append(clause)

    walk(items, flags)
    flush()
    return clauses


def _class_chars(items: Any) -> frozenset[str]:
    """The characters of a class of literals and ranges; empty for any other class."""
    chars: set[str] = set()
    for op, av in items:
        if op is _sre.LITERAL:
            chars.add(chr(av))
        elif op is _sre.RANGE and av[1] - av[0] < _MAX_ANY_OF:
            chars.update(chr(c) for c in range(av[0], av[1] + 1))
        else:
            return frozenset()  # NEGATE, CATEGORY, a wide range
    return frozenset(chars)


def whole_words(text: str, start: int, end: int) -> tuple[int, int]:
    """The span widened to the words it touches ("kinder" in "Vorschulkinder")."""
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
        start -= 1
    while end < len(text) and (text[end].isalnum() or text[end] == "_"):
        end += 1
    return start, end


def phrase(text: str, match: re.Match[str]) -> str:
    """The matched words, for a reason line."""
    start, end = whole_words(text, *match.span())
    return text[start:end].strip()
