"""Loading the tagging rules from ``data/tagging/*.toml`` (once; cached) and matching them.

Contract: ``rules()`` returns the whole ``RuleBook``; each file is documented in its own header.
A keyword entry is either a string (weight 1) or a table ``{ match = "...", weight = n }``
(optionally ``needle = "..."``: a substring every match of a ``re:`` pattern contains, so the
regex only runs on texts that hold it); ``match`` follows ``pipeline.text.compile_keyword``
(``*`` for compounds, ``re:`` for a regex).
A malformed file raises ``RuleError`` naming the file and key, at first use.

Matching: ``first_hit``, ``mask``, ``match_lexicon`` and ``candidates`` give what trying every
rule in data order gives (a rule with a needle only on texts holding it), but try only the
rules that can match. Each rule has prefilter ``keys``: its needle, or else the literals its
regex requires (``pipeline.text.required_literals``; none: always tried). One Aho-Corasick pass
per text finds every key it holds (``keys_in``, cached per text); a ``KeyedTuple`` (such as the
``RuleList`` that ``parse_rules`` returns) maps them to its items, in their order.
``prefilter(pattern)`` does the same for a single regex in code (the age patterns): the
literals it requires and a fast gate (``pipeline.text.fast_gate``) a text must hold first.
The tests compare this with trying every rule in order without keys or gates
(``tests/rules_reference.py``, which swaps the matching methods for the plain ones; production
code has no such switch).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Protocol, Self, TypeVar

import ahocorasick_rs

from core.model import AgeGroup, Audience, Topic
from core.paths import data_file
from pipeline.text import (
    compile_keyword,
    fast_gate,
    fold,
    phrase,
    required_clauses,
    required_literals,
    whole_words,
)


class RuleError(ValueError):
    """A tagging data file that cannot be used; the message names file and key."""


@dataclass(frozen=True, kw_only=True)
class Rule:
    spec: str
    pattern: re.Pattern[str]
    weight: float = 1.0
    needle: str = ""  # a substring every match contains: a cheap test before the regex
    # Prefilter: every match contains one of these (none: the rule is always tried).
    keys: tuple[str, ...] = ()
    # And a text with a match has a match of this (``pipeline.text.fast_gate``), found fast.
    gate: re.Pattern[str] | None = None


def needle_of(spec: str) -> str:
    """The longest word of a plain keyword (none for a regex)."""
    if spec.startswith("re:"):
        return ""
    return max(fold(spec).strip("*").split(" "), key=len)


def keys_of(needle: str, pattern: re.Pattern[str]) -> tuple[str, ...]:
    """The prefilter keys of a rule: its needle (the data's word: a text without it is not
    tried, whatever the regex), else the literals its regex requires (none: always tried)."""
    return (needle,) if needle else required_literals(pattern)


class _Scanner:
    """One Aho-Corasick automaton over the keys of every ``KeyedTuple`` and ``prefilter`` made
    so far (a new one adds its keys: the automaton is built again at the next scan)."""

    def __init__(self) -> None:
        self.keys: set[str] = set()
        self.ordered: list[str] = []
        self.automaton: ahocorasick_rs.AhoCorasick | None = None

    def add(self, keys: Iterable[str]) -> None:
        new = set(keys) - self.keys
        if new:
            self.keys |= new
            self.automaton = None
            keys_in.cache_clear()

    def scan(self, text: str) -> frozenset[str]:
        if not self.keys:
            return frozenset()
        if self.automaton is None:
            self.ordered = sorted(self.keys)
            self.automaton = ahocorasick_rs.AhoCorasick(self.ordered)
        ordered = self.ordered
        found = self.automaton.find_matches_as_indexes(text, overlapping=True)
        return frozenset([ordered[i] for i, _, _ in found])


_SCANNER = _Scanner()


@lru_cache(maxsize=64)
def keys_in(text: str) -> frozenset[str]:
    """Every prefilter key that occurs in ``text`` (cached: a listing's texts are read often)."""
    return _SCANNER.scan(text)


class Keyed(Protocol):
    @property
    def needle(self) -> str: ...  # the data's own substring test ("": none)

    @property
    def keys(self) -> tuple[str, ...]: ...  # prefilter keys: the needle or derived literals

    @property
    def gate(self) -> re.Pattern[str] | None: ...  # and a fast regex a match implies


K = TypeVar("K", bound=Keyed)


class KeyedTuple(tuple[K, ...]):
    """Items in their order (rules, place names), indexed by their prefilter keys."""

    _always: tuple[K, ...]
    _always_at: tuple[int, ...]
    _at: dict[str, tuple[int, ...]]
    _only: dict[str, tuple[K, ...]]
    _keys: frozenset[str]
    _always_gated: bool
    _gated: frozenset[str]  # keys whose ``_only`` items include one with a gate
    _blank_safe: bool

    def __new__(cls, items: Iterable[K] = ()) -> Self:
        self = super().__new__(cls, items)
        at: dict[str, list[int]] = {}
        for i, item in enumerate(self):
            for key in item.keys:
                at.setdefault(key, []).append(i)
        self._always_at = tuple(i for i, item in enumerate(self) if not item.keys)
        self._always = tuple(self[i] for i in self._always_at)
        self._at = {key: tuple(found) for key, found in at.items()}
        # The items a key alone selects, for the common case of one key found.
        self._only = {
            key: tuple(self[i] for i in sorted({*found, *self._always_at}))
            for key, found in at.items()
        }
        self._keys = frozenset(at)
        self._always_gated = any(item.gate is not None for item in self._always)
        self._gated = frozenset(
            key for key, items in self._only.items() if any(i.gate is not None for i in items)
        )
        # Blanking words (``blank``) turns characters into spaces: it can remove a key from a
        # text but add only one that holds a space.
        self._blank_safe = not self._always and all(" " not in key for key in at)
        _SCANNER.add(self._keys)
        return self

    def none_in(self, text: str) -> bool:
        """True if no item can match ``text`` nor any text made from it by ``blank``."""
        return self._blank_safe and self._keys.isdisjoint(keys_in(text))

    def candidates_in(self, text: str) -> Sequence[K]:
        """The items that may match ``text``, in order: those whose keys it holds (and the
        keyless) and whose gate, if any, matches it.
        """
        # Inlined and in one frame: this runs some 50 times per event.
        hits = self._keys.intersection(keys_in(text))
        if not hits:
            chosen: Sequence[K] = self._always
            if not self._always_gated:
                return chosen
        elif len(hits) == 1:
            for key in hits:
                chosen = self._only[key]
                if key not in self._gated:
                    return chosen
        else:
            found = set(self._always_at)
            for key in hits:
                found.update(self._at[key])
            chosen = [self[i] for i in sorted(found)]
        return [item for item in chosen if item.gate is None or item.gate.search(text)]


class RuleList(KeyedTuple[Rule]):
    """Rules in data order, indexed by their prefilter keys (what ``parse_rules`` returns)."""


def candidates(rules_: Sequence[Rule], text: str) -> Sequence[Rule]:
    """The rules of ``rules_`` worth trying on ``text``, in order."""
    if isinstance(rules_, RuleList):
        return rules_.candidates_in(text)
    return [rule for rule in rules_ if not rule.needle or rule.needle in text]


@dataclass(frozen=True)
class Prefilter:
    """What a text must hold before a regex is worth running on it (``prefilter``)."""

    musts: frozenset[str]  # prefilter keys it must hold all of
    anys: tuple[frozenset[str], ...]  # and one key of each of these
    gate: re.Pattern[str] | None  # and a match of this (``pipeline.text.fast_gate``)

    def admits(self, text: str, keys: Collection[str] | None = None) -> bool:
        """``keys``: those of ``text`` where the caller has them (``keys_in``)."""
        if self.musts or self.anys:
            if keys is None:
                keys = keys_in(text)
            if not self.musts.issubset(keys):
                return False
            for clause in self.anys:
                if clause.isdisjoint(keys):
                    return False
        return self.gate is None or self.gate.search(text) is not None


def prefilter(pattern: re.Pattern[str]) -> Prefilter:
    """The literals ``pattern`` requires and its fast gate; a text without them has no match."""
    clauses = required_clauses(pattern)
    _SCANNER.add(key for clause in clauses for key in clause)
    return Prefilter(
        musts=frozenset(c[0] for c in clauses if len(c) == 1),
        anys=tuple(frozenset(c) for c in clauses if len(c) > 1),
        gate=fast_gate(pattern),
    )


@dataclass(frozen=True, kw_only=True)
class Lexicon:
    """Keywords for one slug (a topic or an audience) and the phrases that veto them."""

    keywords: tuple[Rule, ...]
    exclude: tuple[Rule, ...] = ()
    categories: frozenset[str] = frozenset()


@dataclass(frozen=True, kw_only=True)
class FamilyRules:
    threshold: float
    false_friends: tuple[Rule, ...]
    positive: tuple[Rule, ...]
    negative: tuple[Rule, ...]
    youth_words: tuple[Rule, ...]
    categories: Mapping[str, float]
    adult_age: int
    late_teen_age: int
    child_age_weight: float
    word_group_weight: float


@dataclass(frozen=True, kw_only=True)
class PriceRules:
    free: tuple[Rule, ...]
    donation: tuple[Rule, ...]
    paid: tuple[Rule, ...]
    aktivpass: tuple[Rule, ...]
    aktivpass_not: tuple[Rule, ...]
    not_free: tuple[Rule, ...]


@dataclass(frozen=True, kw_only=True)
class StatusRules:
    cancelled: tuple[Rule, ...]
    postponed: tuple[Rule, ...]
    not_status: tuple[Rule, ...]
    hints: Mapping[str, str]
    makeup_title: tuple[Rule, ...] = ()
    makeup: tuple[Rule, ...] = ()


@dataclass(frozen=True, kw_only=True)
class AgeRules:
    word_groups: Mapping[AgeGroup, tuple[Rule, ...]]
    all_ages: tuple[Rule, ...]  # "für die ganze Familie": every group (taxonomy.md)
    not_group_words: tuple[Rule, ...] = ()  # blanked before the words: prices, exemptions
    not_age_after: re.Pattern[str]
    not_age_before: re.Pattern[str]


@dataclass(frozen=True, kw_only=True)
class RuleBook:
    family: FamilyRules
    ages: AgeRules
    price: PriceRules
    status: StatusRules
    topics: Mapping[Topic, Lexicon]
    topic_suppress: tuple[Rule, ...]
    topic_mask: tuple[Rule, ...]
    audiences: Mapping[Audience, Lexicon]


def _load(name: str) -> tuple[dict[str, Any], str]:
    path: Path = data_file("tagging", name)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8")), str(path)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RuleError(f"{path}: {exc}") from exc


def parse_rules(items: Any, where: str) -> RuleList:
    if items is None:
        return RuleList()
    if not isinstance(items, list):
        raise RuleError(f"{where}: must be a list of keywords")
    out: list[Rule] = []
    for item in items:
        needle = None
        if isinstance(item, str):
            spec, weight = item, 1.0
        elif isinstance(item, dict) and isinstance(item.get("match"), str):
            spec, weight = item["match"], float(item.get("weight", 1.0))
            if isinstance(item.get("needle"), str):
                needle = fold(item["needle"])
        else:
            raise RuleError(f"{where}: entry {item!r} is neither a string nor {{match, weight}}")
        try:
            pattern = compile_keyword(spec)
        except re.error as exc:
            raise RuleError(f"{where}: bad pattern {spec!r}: {exc}") from exc
        needle = needle_of(spec) if needle is None else needle
        out.append(
            Rule(
                spec=spec,
                pattern=pattern,
                weight=weight,
                needle=needle,
                keys=keys_of(needle, pattern),
                gate=fast_gate(pattern),
            )
        )
    return RuleList(out)


def _lexicons(
    table: dict[str, Any], enum: type[Topic] | type[Audience], where: str
) -> dict[Any, Lexicon]:
    out: dict[Any, Lexicon] = {}
    for slug, entry in table.items():
        try:
            key = enum(slug)
        except ValueError:
            raise RuleError(f"{where}: {slug}: not a slug of taxonomy.md") from None
        out[key] = Lexicon(
            keywords=parse_rules(entry.get("keywords"), f"{where}: {slug}.keywords"),
            exclude=parse_rules(entry.get("exclude"), f"{where}: {slug}.exclude"),
            categories=frozenset(fold(c) for c in entry.get("categories", [])),
        )
    return out


@cache
def rules() -> RuleBook:
    fam, where = _load("family.toml")
    family = FamilyRules(
        threshold=float(fam["threshold"]),
        false_friends=parse_rules(fam.get("false_friends"), f"{where}: false_friends"),
        positive=parse_rules(fam.get("positive"), f"{where}: positive"),
        negative=parse_rules(fam.get("negative"), f"{where}: negative"),
        youth_words=parse_rules(fam.get("youth_words"), f"{where}: youth_words"),
        categories={fold(k): float(v) for k, v in fam.get("categories", {}).items()},
        adult_age=int(fam.get("adult_age", 18)),
        late_teen_age=int(fam.get("late_teen_age", 16)),
        child_age_weight=float(fam.get("child_age_weight", 4)),
        word_group_weight=float(fam.get("word_group_weight", 3)),
    )
    ag, where = _load("ages.toml")
    word_groups = {}
    for slug, items in ag.get("word_groups", {}).items():
        try:
            word_groups[AgeGroup(slug)] = parse_rules(items, f"{where}: word_groups.{slug}")
        except ValueError:
            raise RuleError(f"{where}: word_groups.{slug}: not an age group") from None
    ages = AgeRules(
        word_groups=word_groups,
        all_ages=parse_rules(ag.get("all_ages"), f"{where}: all_ages"),
        not_group_words=parse_rules(ag.get("not_group_words"), f"{where}: not_group_words"),
        not_age_after=re.compile(ag["not_age_after"]),
        not_age_before=re.compile(ag["not_age_before"]),
    )
    pr, where = _load("price.toml")
    price = PriceRules(
        free=parse_rules(pr.get("free"), f"{where}: free"),
        donation=parse_rules(pr.get("donation"), f"{where}: donation"),
        paid=parse_rules(pr.get("paid"), f"{where}: paid"),
        aktivpass=parse_rules(pr.get("aktivpass"), f"{where}: aktivpass"),
        aktivpass_not=parse_rules(pr.get("aktivpass_not"), f"{where}: aktivpass_not"),
        not_free=parse_rules(pr.get("not_free"), f"{where}: not_free"),
    )
    st, where = _load("status.toml")
    status = StatusRules(
        cancelled=parse_rules(st.get("cancelled"), f"{where}: cancelled"),
        postponed=parse_rules(st.get("postponed"), f"{where}: postponed"),
        not_status=parse_rules(st.get("not_status"), f"{where}: not_status"),
        makeup_title=parse_rules(st.get("makeup_title"), f"{where}: makeup_title"),
        makeup=parse_rules(st.get("makeup"), f"{where}: makeup"),
        hints={fold(k): str(v) for k, v in st.get("hints", {}).items()},
    )
    tp, where = _load("topics.toml")
    au, where_au = _load("audiences.toml")
    return RuleBook(
        family=family,
        ages=ages,
        price=price,
        status=status,
        topics=_lexicons(tp.get("topics", {}), Topic, where),
        topic_suppress=parse_rules(tp.get("suppress"), f"{where}: suppress"),
        topic_mask=parse_rules(tp.get("mask"), f"{where}: mask"),
        audiences=_lexicons(au.get("audiences", {}), Audience, where_au),
    )


def blank(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """The text with the given spans replaced by spaces (offsets stay valid)."""
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def mask(text: str, excluded: Sequence[Rule]) -> str:
    """Blank the words of every phrase an exclude rule matches, so no keyword sees them."""
    spans = [
        whole_words(text, *m.span())
        for rule in candidates(excluded, text)
        for m in rule.pattern.finditer(text)
    ]
    return blank(text, spans) if spans else text


def first_hit(rules_: Sequence[Rule], text: str) -> tuple[Rule, str] | None:
    """The first rule that matches and the words it matched.

    Rule by rule (many times faster than one big alternation in Python's backtracking
    engine), and only the candidates among them.
    """
    for rule in candidates(rules_, text):
        m = rule.pattern.search(text)
        if m:
            return rule, phrase(text, m)
    return None


def match_lexicon(lexicon: Lexicon, text: str, categories: Iterable[str]) -> str | None:
    """The phrase (or 'category «…»') that sets this lexicon's slug, or None.

    A keyword of weight 1 or more decides alone; weaker keywords (a setting such as
    "Waldwege", a job title such as "Ernährungsberaterin") add up, each rule once, and set
    the slug only together with other evidence: their sum must reach 1.
    """
    for category in categories:
        if category in lexicon.categories:
            return f"category «{category}»"
    keywords = lexicon.keywords
    if isinstance(keywords, KeyedTuple) and keywords.none_in(text):
        return None  # what the excludes would blank cannot matter
    clean = mask(text, lexicon.exclude)
    score = 0.0
    found: list[str] = []
    for rule in candidates(keywords, clean):
        m = rule.pattern.search(clean)
        if m is None:
            continue
        if rule.weight >= 1.0:
            return f"keyword «{phrase(clean, m)}»"
        score += rule.weight
        found.append(phrase(clean, m))
        if score >= 1.0 - 1e-9:
            return "weak keywords " + " + ".join(f"«{f}»" for f in found)
    return None
