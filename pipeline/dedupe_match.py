"""When two events are the same one: the comparisons of ``pipeline.dedupe``, as pure functions.

Contract:
- ``DedupeConfig`` holds the thresholds and title prefixes; ``default_config()`` reads them
  once from ``data/dedupe.toml``.
- ``title_key(title, prefixes)``: a title's comparable form (NFKC, casefold, umlauts spelled
  out, other accents dropped, punctuation and dashes dropped, known prefixes like
  "Kindertheater:" removed, repeatedly). ``Title.of`` keeps that key, the key without
  bracketed text and its words; ``title_similarity(a, b, config, floor)`` is 0..1 (1 for
  equal keys, ``containment_similarity`` when the shorter title's words are all in the
  longer one, else the edit-distance ratio; below ``floor`` it may say 0);
  ``alike(a, b, config, floor)`` whether it reaches ``floor``, without making the score.
- ``place_conflict(a, b, config)`` says why two ``Location``s cannot be one place (postal
  codes differ, coordinates over ``max_distance_km`` apart, venue names too different) or
  None: missing information never conflicts, the same street settles it.
  ``place_evidence`` names what made two compatible places agree, for the log.
Pure: no clock, no I/O beyond reading the config file once.
"""

from __future__ import annotations

import math
import re
import tomllib
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import cache, lru_cache
from pathlib import Path

from rapidfuzz import fuzz

from core.model import Location
from core.paths import data_file


@dataclass(frozen=True, kw_only=True)
class DedupeConfig:
    start_tolerance: timedelta = timedelta(minutes=15)
    title_similarity: float = 0.85
    near_miss_similarity: float = 0.6
    containment_similarity: float = 0.9
    containment_min_chars: int = 10
    venue_similarity: float = 0.6
    max_distance_km: float = 1.0
    prefixes: tuple[str, ...] = ()

    @classmethod
    def from_file(cls, path: str | Path) -> DedupeConfig:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
        return cls(
            start_tolerance=timedelta(minutes=float(data.get("start_tolerance_minutes", 15))),
            title_similarity=float(data.get("title_similarity", 0.85)),
            near_miss_similarity=float(data.get("near_miss_similarity", 0.6)),
            containment_similarity=float(data.get("containment_similarity", 0.9)),
            containment_min_chars=int(data.get("containment_min_chars", 10)),
            venue_similarity=float(data.get("venue_similarity", 0.6)),
            max_distance_km=float(data.get("max_distance_km", 1.0)),
            prefixes=tuple(str(p) for p in data.get("prefixes", ())),
        )


@cache
def default_config() -> DedupeConfig:
    return DedupeConfig.from_file(data_file("dedupe.toml"))


# --- comparing two events ---------------------------------------------------------------------

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"})
_PARENS = re.compile(r"\([^)]*\)|\[[^]]*\]")
_NON_WORD = re.compile(r"[\W_]+")
_SEPARATOR = r"\s*(?::|!|\||–|—|-\s)\s*"


@cache
def _prefix_pattern(prefixes: tuple[str, ...]) -> re.Pattern[str] | None:
    if not prefixes:
        return None
    names = sorted((_fold(p) for p in prefixes), key=len, reverse=True)
    return re.compile(r"^\s*(?:" + "|".join(re.escape(n) for n in names) + ")" + _SEPARATOR)


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold().translate(_UMLAUTS)
    # Remaining accents (é, ñ) compare as their base letter: sources disagree on them.
    decomposed = unicodedata.normalize("NFKD", text)
    if decomposed.isascii():  # no combining mark is ASCII: nothing to drop (most titles)
        return decomposed
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _words(text: str) -> str:
    return " ".join(_NON_WORD.sub(" ", text).split())


def title_key(title: str, prefixes: Sequence[str] | None = None) -> str:
    """Comparable form: 'Kindertheater: Pippi – Langstrumpf!' → 'pippi langstrumpf'."""
    return _title_key(title, tuple(default_config().prefixes if prefixes is None else prefixes))


@lru_cache(maxsize=65536)
def _title_key(title: str, prefixes: tuple[str, ...]) -> str:
    # Cached: the occurrences of a series share their title.
    text = _fold(title)
    pattern = _prefix_pattern(prefixes)
    if pattern is not None:
        # Repeatedly: "Abgesagt: Kindertheater: Pippi".
        while True:
            stripped = pattern.sub("", text, count=1)
            if stripped == text or not _words(stripped):
                break
            text = stripped
    return _words(text)


def _ratio(a: str, b: str, floor: float = 0.0) -> float:
    """Normalized Indel similarity 2·LCS/(len a + len b) (difflib's ratio, computed by
    rapidfuzz in C++: on 100,000 events difflib spent most of dedupe's time here); 0 when
    below ``floor``."""
    if a == b:
        return 1.0
    if not a or not b:
        return 0.0
    return float(fuzz.ratio(a, b, score_cutoff=floor * 100)) / 100


@dataclass(frozen=True, kw_only=True)
class Title:
    key: str
    bare: str  # without bracketed text: "(ab 6 Jahren)"
    tokens: frozenset[str]

    @classmethod
    def of(cls, title: str, config: DedupeConfig) -> Title:
        key = title_key(title, config.prefixes)
        bare = title_key(_PARENS.sub(" ", title), config.prefixes) or key
        return cls(key=key, bare=bare, tokens=frozenset(key.split()))


def title_similarity(a: Title, b: Title, config: DedupeConfig, floor: float = 0.0) -> float:
    """0..1; a value below ``floor`` may be reported as 0 (cheap, and enough to say "no")."""
    if a.key == b.key or a.bare == b.bare:
        return 1.0
    score = config.containment_similarity if _contained(a, b, config) else 0.0
    floor = max(floor, score)
    for x, y in ((a.key, b.key), (a.bare, b.bare)):
        score = max(score, _ratio(x, y, floor))
    return score


def alike(a: Title, b: Title, config: DedupeConfig, floor: float) -> bool:
    """Whether ``title_similarity(a, b, config) >= floor``, the same answer found sooner: no
    score is made, and a ratio is asked only whether it reaches ``floor`` (dedupe asks it of
    every pair of starts within the tolerance, which grows with the square of a day's events:
    888,000 pairs for 100,000 events over a year, nearly all of them titles that differ)."""
    if floor <= 0 or a.key == b.key or a.bare == b.bare:
        return True
    # rapidfuzz with ``_ratio``'s cutoff, not ``_ratio`` itself: its checks are settled here
    # (equal texts above, an empty one scores 0 either way), and this runs for every pair of
    # starts within the tolerance (a call each cost 16 % more).
    cutoff = floor * 100
    if fuzz.ratio(a.key, b.key, score_cutoff=cutoff) or fuzz.ratio(
        a.bare, b.bare, score_cutoff=cutoff
    ):
        return True
    return config.containment_similarity >= floor and _contained(a, b, config)


def _contained(a: Title, b: Title, config: DedupeConfig) -> bool:
    """Whether the shorter title (by key; ``a`` of two as long) is long enough to say which
    event it is and all its words are in the other."""
    short, long = (a, b) if len(a.key) <= len(b.key) else (b, a)
    return len(short.key) >= config.containment_min_chars and short.tokens <= long.tokens


@lru_cache(maxsize=65536)
def _place_key(text: str) -> str:
    # Venue names and streets repeat from event to event: fold each once.
    return _words(_fold(text))


def _venue_similar(a: str, b: str, config: DedupeConfig) -> bool:
    ka, kb = _place_key(a), _place_key(b)
    if not ka or not kb:
        return True
    if ka in kb or kb in ka:
        return True
    return _ratio(ka, kb) >= config.venue_similarity


def _distance_km(a: Location, b: Location) -> float | None:
    if None in (a.lat, a.lon, b.lat, b.lon):
        return None
    assert a.lat is not None and a.lon is not None and b.lat is not None and b.lon is not None
    lat = math.radians((a.lat + b.lat) / 2)
    dx = math.radians(b.lon - a.lon) * math.cos(lat)
    dy = math.radians(b.lat - a.lat)
    return 6371.0 * math.hypot(dx, dy)


def place_conflict(a: Location, b: Location, config: DedupeConfig) -> str | None:
    """Why two places cannot be the same one, or None when they are compatible.

    Missing information never conflicts: a source that names no place may still describe
    the same event. Same street (with number) settles it; otherwise venue names must agree.
    """
    if a.postal_code and b.postal_code and a.postal_code != b.postal_code:
        return f"postal codes differ ({a.postal_code} ≠ {b.postal_code})"
    distance = _distance_km(a, b)
    if distance is not None and distance > config.max_distance_km:
        return f"places {distance:.1f} km apart"
    if a.street and b.street and _place_key(a.street) == _place_key(b.street):
        return None
    if a.name and b.name and not _venue_similar(a.name, b.name, config):
        return f"venues differ ({a.name!r} ≠ {b.name!r})"
    return None


def place_evidence(a: Location, b: Location) -> str:
    if a.postal_code and a.postal_code == b.postal_code:
        return f"same postal code {a.postal_code}"
    if a.name and b.name:
        return "similar venue"
    if a.is_empty() or b.is_empty():
        return "place missing on one side"
    return "no conflicting place"
