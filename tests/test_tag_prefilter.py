"""The fast rule matching tags exactly as trying every rule does (issue #9).

``pipeline.rules`` tries only the rules whose prefilter keys a text holds (one Aho-Corasick
scan per text), ``pipeline.ages`` skips patterns whose required literals or fast gate a text
lacks, ``pipeline.places`` looks up place names the same way, and ``pipeline.text.fold`` skips
steps with nothing to do. The reference is ``reference_matching()``: every rule's regex tried
on its own, in data order, without needles, keys or gates. Every listing of the gold and
holdout sets, the real partner listings and a few thousand recombined and synthetic ones is
tagged both ways and must come out the same, reasons and their order included.
"""

from __future__ import annotations

import importlib.util
import json
import random
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline import ages
from pipeline.places import gazetteer
from pipeline.rules import (
    _SCANNER,
    KeyedTuple,
    Rule,
    RuleList,
    keys_in,
    prefilter,
    rules,
)
from pipeline.tag import tag_record
from pipeline.text import (
    compile_keyword,
    fast_gate,
    fold,
    required_clauses,
    required_literals,
)
from tests.rules_reference import reference_matching

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
SHARED = ROOT.parent / "shared"


def _jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _partner_listings() -> list[dict[str, Any]]:
    path = SHARED / "corpora" / "partners" / "fami-app-regional-events.json"
    if not path.exists():
        return []
    events = json.loads(path.read_text(encoding="utf-8"))["events"]
    return [
        {
            "id": f"fami-{i}",
            "title": event.get("title"),
            "description": event.get("description"),
            "categories": [event["category"]] if event.get("category") else [],
            "location": {"name": event.get("venue") or ""},
        }
        for i, event in enumerate(events)
    ]


@cache
def base_listings() -> tuple[dict[str, Any], ...]:
    """Hand-written and real listings: the holdout sets, gold-dev and the partner app's."""
    out = []
    for name in ("gold-holdout-a.jsonl", "gold-holdout-b.jsonl", "gold-holdout-c.jsonl"):
        out += _jsonl(FIXTURES / name)
    gold = SHARED / "data" / "gold-dev.jsonl"
    if gold.exists():
        out += _jsonl(gold)
    out += _partner_listings()
    for item in out:
        item.pop("gold", None)
    return tuple(out)


def _sentences(text: str | None) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text or "") if s]


def recombined(n: int, seed: int = 9) -> list[dict[str, Any]]:
    """Listings stitched from the parts of different base listings: title, sentences, price,
    categories, place and source hints each from another, so rules meet in new company."""
    base = base_listings()
    rng = random.Random(seed)
    sentences = [s for item in base for s in _sentences(item.get("description"))]
    hints: list[dict[str, Any]] = [
        {},
        {"status": "EventCancelled"},
        {"free": True},
        {"age_range": "6-12"},
        {"free": False, "age_range": "3+"},
    ]
    out = []
    for i in range(n):
        out.append(
            {
                "id": f"mix-{i}",
                "title": rng.choice(base).get("title"),
                "description": " ".join(rng.sample(sentences, rng.randint(1, 4))),
                "price": rng.choice(base).get("price"),
                "categories": rng.choice(base).get("categories"),
                "location": rng.choice(base).get("location"),
                "hints": rng.choice(hints),
            }
        )
    return out


def synthetic(n: int) -> list[dict[str, Any]]:
    """The run benchmark's listings (``benchmarks/bench_tag.py --synthetic``)."""
    spec = importlib.util.spec_from_file_location("bench_tag", ROOT / "benchmarks" / "bench_tag.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    listings: list[dict[str, Any]] = module.synthetic(n)
    return listings


def all_listings() -> Iterator[dict[str, Any]]:
    yield from base_listings()
    yield from recombined(2500)
    yield from synthetic(800)


def test_fast_tags_equal_reference() -> None:
    count = 0
    for record in all_listings():
        fast = tag_record(record)
        with reference_matching():
            reference = tag_record(record)
        assert fast == reference, record.get("id")
        count += 1
    assert count >= 3300 + 130


def corpus_texts() -> list[str]:
    """The folded texts the rules read: title, description, price, categories, their joins."""
    texts: list[str] = []
    for record in [*base_listings(), *recombined(400, seed=3)]:
        title, description = fold(record.get("title")), fold(record.get("description"))
        price = fold(record.get("price"))
        categories = " . ".join(fold(c) for c in record.get("categories") or [])
        texts += [title, description, price, f"{title} . {description} . {price} . {categories}"]
    return [t for t in dict.fromkeys(texts) if t]


def book_rules() -> list[Rule]:
    book = rules()
    lists: list[tuple[Rule, ...]] = [
        book.family.false_friends,
        book.family.positive,
        book.family.negative,
        book.family.youth_words,
        *book.ages.word_groups.values(),
        *(getattr(book.price, f) for f in ("free", "donation", "paid", "aktivpass")),
        *(getattr(book.price, f) for f in ("aktivpass_not", "not_free")),
        *(getattr(book.status, f) for f in ("cancelled", "postponed", "not_status")),
        book.status.makeup_title,
        book.status.makeup,
        book.topic_suppress,
        book.topic_mask,
        *(lexicon.keywords for lexicon in book.topics.values()),
        *(lexicon.exclude for lexicon in book.topics.values()),
        *(lexicon.keywords for lexicon in book.audiences.values()),
        *(lexicon.exclude for lexicon in book.audiences.values()),
    ]
    assert all(isinstance(rule_list, RuleList) for rule_list in lists)
    return list({id(rule): rule for rule_list in lists for rule in rule_list}.values())


def test_every_match_holds_a_derived_key() -> None:
    """The keys the code derives (a plain keyword's word, a regex's required literals) are in
    every match over the corpus. A data file's own ``needle`` is the data's statement and is
    kept as it was: the rule runs only on texts that hold it, key or not."""
    texts = corpus_texts()
    checked = 0
    for rule in book_rules():
        if not rule.keys or (rule.spec.startswith("re:") and rule.needle):
            continue
        for text in texts:
            for m in rule.pattern.finditer(text):
                assert any(key in m.group(0) for key in rule.keys), (rule.spec, m.group(0))
                checked += 1
    assert checked > 1000


def test_rule_gates_match_where_the_rules_do() -> None:
    texts = corpus_texts()
    gated = [rule for rule in book_rules() if rule.gate is not None]
    assert len(gated) > 100  # every plain keyword without a leading star, most regexes
    for rule in gated:
        assert rule.gate is not None
        for text in texts:
            if rule.pattern.search(text):
                assert rule.gate.search(text), (rule.spec, text)


def test_regex_rules_get_derived_keys() -> None:
    derived = [r for r in book_rules() if r.spec.startswith("re:") and not r.needle]
    assert derived
    with_keys = [r for r in derived if r.keys]
    # All but the few without a literal every match needs ("[\u0600-\u06ff]{3,}").
    assert len(with_keys) >= len(derived) - 3
    by_spec = {r.spec: r.keys for r in derived}
    assert by_spec["re:\\bfsk\\s*(?:ab\\s*)?18\\b"] == ("fsk",)


def assert_prefilters_hold(pattern: re.Pattern[str], texts: list[str]) -> None:
    """Every match holds a literal of each required clause; the gate finds every matched text."""
    clauses = required_clauses(pattern)
    gate = fast_gate(pattern)
    for text in texts:
        found = list(pattern.finditer(text))
        for m in found:
            for clause in clauses:
                assert any(literal in m.group(0) for literal in clause), (pattern.pattern, text)
        if found and gate is not None:
            assert gate.search(text), (pattern.pattern, text)


def test_age_patterns_prefilters_hold_on_the_corpus() -> None:
    texts = corpus_texts()
    for _, pattern, _ in ages._PATTERNS:
        assert_prefilters_hold(pattern, texts)


def test_keys_in_finds_exactly_the_keys_a_text_holds() -> None:
    gazetteer()  # its place names are keys too
    for text in corpus_texts()[:600]:
        assert keys_in(text) == {key for key in _SCANNER.keys if key in text}, text


def test_place_lookups_equal_reference() -> None:
    from core.model import Location
    from pipeline.places import locate

    places = [r.get("location") or {} for r in base_listings()]
    for i, place in enumerate(places):
        location = Location.from_dict(place)
        title = base_listings()[(i * 7) % len(base_listings())].get("title") or ""
        fast = locate(location, title)
        with reference_matching():
            assert locate(location, title) == fast


# --- the literal derivation on made-up patterns -------------------------------------------

_ATOMS = ["ab", "kind", "er", "ü", "x", "-", ".", " ", "[ab]", "[ğış]", r"\w", r"\d", r"\s", "."]


def _regex(depth: int = 3) -> st.SearchStrategy[str]:
    atom = st.sampled_from(_ATOMS).map(lambda a: re.escape(a) if a in "-. " else a)
    if depth == 0:
        return atom

    def more(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.lists(inner, min_size=1, max_size=4).map("".join),
            st.lists(inner, min_size=2, max_size=3).map(lambda xs: "(?:" + "|".join(xs) + ")"),
            st.tuples(inner, st.sampled_from(["?", "*", "+", "{1,2}", "{0,2}", "{2}", "??"])).map(
                lambda t: f"(?:{t[0]}){t[1]}"
            ),
            inner.map(lambda x: f"({x})"),
            inner.map(lambda x: f"(?i:{x})"),
            inner.map(lambda x: f"(?>{x})"),
            inner.map(lambda x: f"(?:{x})++"),
            st.sampled_from([r"\b", r"(?<!\w)", r"(?!\d)", "(?=k)", "^"]),
        )

    return st.recursive(atom, more, max_leaves=8)


# Pieces of texts, upper case among them: a literal under IGNORECASE matches those too.
_PIECES = ["ab", "kind", "kinder", "er", "ü", "x", "-", ".", " ", "a", "b", "ğ", "ş", "7"]
_TEXT = st.lists(st.sampled_from([*_PIECES, "AB", "KIND", "Ü"]), max_size=20).map("".join)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_regex(), st.lists(_TEXT, min_size=1, max_size=5))
def test_derived_literals_are_in_every_match(source: str, texts: list[str]) -> None:
    assert_prefilters_hold(re.compile(source), texts)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_derived_literals_are_in_generated_matches(data: st.DataObject) -> None:
    """Strings made to match a pattern (hypothesis' from_regex) hold a literal of each set."""
    source = data.draw(
        st.recursive(
            st.sampled_from(["ab", "kind", "er", "ü", "x", r"\-", "[ab]", r"\d", r"\w"]),
            lambda inner: st.one_of(
                st.lists(inner, min_size=1, max_size=4).map("".join),
                st.lists(inner, min_size=2, max_size=3).map(lambda xs: "(?:" + "|".join(xs) + ")"),
                st.tuples(inner, st.sampled_from(["?", "*", "+", "{1,3}"])).map(
                    lambda t: f"(?:{t[0]}){t[1]}"
                ),
            ),
            max_leaves=8,
        )
    )
    pattern = re.compile(source)
    text = data.draw(st.from_regex(pattern, fullmatch=True))
    for clause in required_clauses(pattern):
        assert any(literal in text for literal in clause), (source, text)


@pytest.mark.parametrize(
    ("source", "literals"),
    [
        (r"\bkinder und jugend(?!l)", ("kinder",)),
        (r"(?:seine|ihre) (?:eigene )?kindheit", ("kindheit",)),
        (r"(?:kinder|kids)\s+frei", ("frei",)),
        (r"(?:kinder|kids|children)\s+\d", ("children", "kids", "kinder")),
        (r"a?b*(?:c|)", ()),  # nothing is required
        (r"(?i)kinder", ()),  # case-insensitive literals are not literals
        (r"(?i:kinder)x", ("x",)),
        (r"[ğış]\w+", ("ğ", "ı", "ş")),
        (r"[^ab]cd", ("cd",)),
        (r"(?:ab){2,}", ("ab",)),
    ],
)
def test_required_literals(source: str, literals: tuple[str, ...]) -> None:
    assert required_literals(re.compile(source)) == literals


def test_a_gate_starts_where_few_characters_can() -> None:
    gate = fast_gate(re.compile(r"(?<!\w)u(\d{1,2})(?!\w)"))
    assert gate is not None
    assert gate.search("für u3") and not gate.search("unter 3")
    assert fast_gate(re.compile(r"abc\w")) is None  # starts fast already
    assert fast_gate(re.compile(r"(?<!\w)kinder")) is None  # the key says as much
    assert fast_gate(re.compile(r"(?<!\w)kind(?!\w)")) is not None
    assert fast_gate(re.compile(r"\w(ab(x+)c)")) is not None
    assert fast_gate(re.compile(r"\w(ab(?>x+)c)")) is None  # atomic: not every match is found


def test_prefilter_admits_only_texts_that_can_match() -> None:
    check = prefilter(re.compile(r"\bbis\s+(\d{1,2})\s*jahre"))
    assert check.admits("kinder bis 10 jahre")
    assert not check.admits("kinder bis zehn")  # no gate match
    assert not check.admits("kinder ab 10 jahre")  # no "bis"
    with reference_matching():
        assert check.admits("kinder ab 10 jahre")


def test_a_keyed_tuple_made_later_is_scanned_too() -> None:
    """Rules built after the book (a test's own) add their keys to the one automaton."""
    spec = "*zzquuxwort*"
    made = RuleList(
        [Rule(spec=spec, pattern=compile_keyword(spec), needle="zzquuxwort", keys=("zzquuxwort",))]
    )
    assert isinstance(made, KeyedTuple)
    assert made.candidates_in("ein zzquuxwortspiel") == (made[0],)
    assert made.candidates_in("ein wortspiel") == ()


def test_data_needles_are_implied_by_their_regexes() -> None:
    """A data file's ``needle`` on a regex rule must be in every match: some clause of the
    literals every match needs has the needle in each of its alternatives. (A needle that
    one alternative lacks made the rule skip texts it matches.)"""
    unsound = []
    for rule in book_rules():
        if not (rule.spec.startswith("re:") and rule.needle):
            continue
        clauses = required_clauses(rule.pattern)
        if not any(all(rule.needle in literal for literal in clause) for clause in clauses):
            unsound.append((rule.spec, rule.needle, clauses))
    assert unsound == []
