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
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

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
