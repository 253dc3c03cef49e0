"""The trained component of the tagger: linear models over folded words, shipped as data.

Contract:
- ``features(text, categories) -> frozenset[str]``: what the models read. ``text`` is the
  folded title and description (``pipeline.text.fold``), ``categories`` the folded source
  categories. Features are the words (runs of letters, two or more), each adjacent pair of
  words "a b" (digits and punctuation between them do not count), the five-letter pieces
  ("#<kind", "#kinde", …; "<" and ">" mark the ends) of each word of six letters or more —
  German compounds share their parts: "Kindertheater" and "Kinderlesung" both hold "#kinde"
  — and each category as "c:<category>". Binary: a word counts once however often it occurs.
  ``scripts/train_tagger.py`` trains on exactly this function, so training and inference
  cannot drift apart.
- ``model() -> LinearModel`` loads ``data/tagging/model.json`` once (cached): per label
  ("family", "topic:<slug>") an intercept, a decision threshold and combination settings, and
  per feature its weights for the labels it matters to. A missing or malformed file raises
  ``ModelError``.
- ``LinearModel.known(text, categories)``: the features of the text the model has weights
  for (the same as ``vocabulary & features(…)``, faster);
  ``LinearModel.vote(label, known) -> Vote``: logistic regression — the probability
  ``1 / (1 + exp(-(intercept + Σ weights)))``. ``Vote.contributions()`` lists the features
  behind it, largest absolute weight first; ``Vote.why(limit)`` is "0.81 (wald +1.2, garten
  +0.7)" for ``reasons``.
- ``revise_family``/``revise_topics``: how a vote changes the rules' decision (below).
Pure: no clock, network or randomness; the same file and text give the same votes.
"""

from __future__ import annotations

import heapq
import json
import math
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from itertools import pairwise
from typing import Any

from core.paths import data_file

MODEL_FILE = "model.json"
# Words are runs of letters (any script); digits and punctuation split them.
_WORD = re.compile(r"[^\W\d_]{2,}")
_PIECE = 5
_WORD_CACHE = 1 << 16


class ModelError(ValueError):
    """The model file is missing or malformed."""


def features(text: str, categories: Iterable[str] = ()) -> frozenset[str]:
    words = _WORD.findall(text)
    out: set[str] = set(words)
    for word in words:
        if len(word) > _PIECE:
            out.update(_pieces(word))
    out.update(f"{a} {b}" for a, b in pairwise(words))
    out.update(f"c:{c}" for c in categories if c)
    return frozenset(out)


def _pieces(word: str) -> tuple[str, ...]:
    marked = f"<{word}>"
    return tuple("#" + marked[i : i + _PIECE] for i in range(len(marked) - _PIECE + 1))


@dataclass(frozen=True, kw_only=True)
class Vote:
    label: str
    probability: float
    found: frozenset[str] = frozenset()  # the label's features in the text
    weights: Mapping[str, float] = field(default_factory=dict)  # the label's weights

    rank: Mapping[str, int] = field(default_factory=dict)  # the label's features, strongest 0

    def contributions(self, limit: int | None = None) -> list[tuple[str, float]]:
        """Strongest first (largest absolute weight; ties by the feature, so a reason reads
        the same on every run)."""
        if limit is None:
            top = sorted(self.found, key=self.rank.__getitem__)
        else:
            top = heapq.nsmallest(limit, self.found, key=self.rank.__getitem__)
        return [(f, self.weights[f]) for f in top]

    def why(self, limit: int = 3) -> str:
        words = ", ".join(f"{f} {w:+.1f}" for f, w in self.contributions(limit))
        return f"{self.probability:.2f} ({words})" if words else f"{self.probability:.2f}"


@dataclass(frozen=True, kw_only=True)
class Label:
    name: str
    intercept: float
    settings: Mapping[str, float]  # how the tagger combines this vote with the rules
    weights: Mapping[str, float] = field(default_factory=dict)
    features: frozenset[str] = frozenset()  # the keys of ``weights``, as a set to intersect
    rank: Mapping[str, int] = field(default_factory=dict)  # by strength, for ``Vote.why``


def _label(
    name: str, intercept: float, settings: Mapping[str, float], weights: dict[str, float]
) -> Label:
    order = sorted(weights, key=lambda f: (-abs(weights[f]), f))
    return Label(
        name=name,
        intercept=intercept,
        settings=settings,
        weights=weights,
        features=frozenset(weights),
        rank={f: i for i, f in enumerate(order)},
    )


@dataclass(frozen=True, kw_only=True)
class LinearModel:
    labels: tuple[Label, ...]
    vocabulary: frozenset[str] = frozenset()  # every feature any label has a weight for
    trained_on: tuple[str, ...] = ()

    def label(self, name: str) -> Label | None:
        return next((lab for lab in self.labels if lab.name == name), None)

    # Per distinct word, its known features (the word and its pieces): words repeat across
    # listings, so each is sliced and looked up once. Bounded; cleared when full.
    _by_word: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False, repr=False)
    # The first words of the vocabulary's bigrams: a pair is only built when it could count.
    _firsts: frozenset[str] = field(default=frozenset(), compare=False, repr=False)

    def known(self, text: str, categories: Iterable[str] = ()) -> frozenset[str]:
        """``vocabulary & features(text, categories)``, computed without building every
        feature (a text has hundreds, the model knows a few dozen of them)."""
        vocab, by_word, firsts = self.vocabulary, self._by_word, self._firsts
        words = _WORD.findall(text)
        hits = list(map(by_word.get, words))
        if None in hits:
            if len(by_word) >= _WORD_CACHE:
                by_word.clear()
            for i, word in enumerate(words):
                if hits[i] is None:
                    pieces = _pieces(word) if len(word) > _PIECE else ()
                    hits[i] = by_word[word] = tuple(f for f in (word, *pieces) if f in vocab)
        out: set[str] = set().union(*hits)  # type: ignore[arg-type]  # no None is left
        pairs = [f"{a} {b}" for a, b in pairwise(words) if a in firsts]
        out.update(vocab.intersection(pairs))
        out.update(vocab.intersection([f"c:{c}" for c in categories]))
        return frozenset(out)

    def vote(self, name: str, known: frozenset[str]) -> Vote:
        lab = self.label(name)
        if lab is None:
            raise ModelError(f"{MODEL_FILE}: no label {name!r}")
        # frozenset & frozenset walks the smaller one (a dict's keys view would copy itself).
        found = known & lab.features
        total = lab.intercept + sum(map(lab.weights.__getitem__, found))
        return Vote(
            label=name,
            probability=1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, total)))),
            found=found,
            weights=lab.weights,
            rank=lab.rank,
        )


def parse_model(raw: Mapping[str, Any], where: str = MODEL_FILE) -> LinearModel:
    try:
        labels = tuple(
            _label(
                str(entry["name"]),
                float(entry["intercept"]),
                {str(k): float(v) for k, v in entry.get("settings", {}).items()},
                {str(f): float(w) for f, w in raw["weights"].get(entry["name"], {}).items()},
            )
            for entry in raw["labels"]
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ModelError(f"{where}: {exc!r}") from exc
    vocabulary = frozenset(f for lab in labels for f in lab.weights)
    return LinearModel(
        labels=labels,
        vocabulary=vocabulary,
        _firsts=frozenset(f.split(" ", 1)[0] for f in vocabulary if " " in f and f[:2] != "c:"),
        trained_on=tuple(str(s) for s in raw.get("trained_on", ())),
    )


@cache
def model() -> LinearModel:
    path = data_file("tagging", MODEL_FILE)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path}: {exc}") from exc
    return parse_model(raw, str(path))


OFF = 2.0  # a setting no probability reaches (add_at) or goes below (-1 for veto_below)


def is_active(label: Label) -> bool:
    """Whether the label's vote can change a decision (else it is not computed at all)."""
    return label.settings.get("add_at", OFF) < OFF or label.settings.get("veto_below", -1.0) >= 0


def revise_family(
    verdict: bool, *, score: float | None, threshold: float, vote: Vote, label: Label
) -> tuple[bool, str]:
    """The rules' family verdict after the model's vote, and the reason naming the vote.

    ``score`` None means an explicit age decided: the model has no say. Otherwise the model
    sets family where the rules' score stayed below the threshold and its probability reaches
    ``add_at``, and unsets it where the score cleared the threshold by less than
    ``weak_margin`` and the probability is below ``veto_below``.
    """
    s = label.settings
    if score is not None and not verdict and vote.probability >= s.get("add_at", OFF):
        return True, f"family: yes, model {vote.why()} over the rules' score {score:g}"
    if (
        score is not None
        and verdict
        and score < threshold + s.get("weak_margin", 0.0)
        and vote.probability < s.get("veto_below", -1.0)
    ):
        return False, f"family: no, model {vote.why()} over the weak score {score:g}"
    return verdict, f"family: model {vote.why()} (advisory)"


def revise_topics(
    topics: Sequence[str],
    set_by_category: Collection[str],
    *,
    suppressed: bool,
    vote: Callable[[str], Vote],
    model_: LinearModel,
) -> tuple[list[str], list[str], list[str]]:
    """(topics, added, reasons): the rules' topic slugs after the models' votes.

    A model adds its topic when its probability reaches ``add_at`` and removes one the rules
    set by a keyword (never a source category) when it is below ``veto_below``; a meeting
    (``suppressed``) gets no topic either way. Only decisions the model changed get a reason.
    ``vote(label)`` is asked only where a setting could change the decision.
    """
    out = list(topics)
    added: list[str] = []
    reasons: list[str] = []
    if suppressed:
        return out, added, reasons
    for lab in model_.labels:
        if not lab.name.startswith("topic:"):
            continue
        slug, s = lab.name[6:], lab.settings
        add_at, veto_below = s.get("add_at", OFF), s.get("veto_below", -1.0)
        if slug not in out and add_at < OFF:
            got = vote(lab.name)
            if got.probability >= add_at:
                out.append(slug)
                added.append(slug)
                reasons.append(f"topic {slug}: model {got.why()}")
        elif slug in out and slug not in set_by_category and veto_below >= 0:
            got = vote(lab.name)
            if got.probability < veto_below:
                out.remove(slug)
                reasons.append(f"topic {slug}: removed, model {got.why()}")
    return out, added, reasons
