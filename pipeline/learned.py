"""The trained component of the tagger: linear models over folded words, shipped as data.

Contract:
- ``features(text, categories) -> frozenset[str]``: what the models read. ``text`` is the
  folded title and description (``pipeline.text.fold``), ``categories`` the folded source
  categories. Features are the words (runs of letters, two or more), each adjacent pair of
  words "a b" within one sentence-like run, the five-letter pieces "#<kinde" of each word of
  six letters or more (with "<" and ">" marking its ends: German compounds share their parts,
  "Kindertheater" and "Kinderlesung" both hold "#kinde"), and each category as
  "c:<category>". Binary: a
  word counts once however often it occurs. ``scripts/train_tagger.py`` trains on exactly
  this function, so training and inference cannot drift apart.
- ``model() -> LinearModel`` loads ``data/tagging/model.json`` once (cached): per label
  ("family", "topic:<slug>") an intercept, a decision threshold and combination settings, and
  per feature its weights for the labels it matters to. A missing or malformed file raises
  ``ModelError``.
- ``LinearModel.score(feats) -> dict[label, Vote]``: logistic regression — the probability
  ``1 / (1 + exp(-(intercept + Σ weights)))`` — with the features that contributed most (the
  largest absolute weights), so a reason can name the words behind a decision.
- ``Vote.why(limit)``: "0.81 (wald +1.2, garten +0.7)" for ``reasons``.
Pure: no clock, network or randomness; the same file and text give the same votes.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from core.paths import data_file

MODEL_FILE = "model.json"
# Words are runs of letters (any script); digits and punctuation split them. A sentence mark or
# a bracket ends a run, so no bigram spans "…Uhr. Kinder…".
_RUN = re.compile(r"[^.!?;:()\[\]|]+")
_WORD = re.compile(r"[^\W\d_]{2,}")
_PIECE = 5


class ModelError(ValueError):
    """The model file is missing or malformed."""


def features(text: str, categories: Iterable[str] = ()) -> frozenset[str]:
    out: set[str] = set()
    for run in _RUN.findall(text):
        words = _WORD.findall(run)
        out.update(words)
        for word in words:
            if len(word) >= _PIECE + 1:
                marked = f"<{word}>"
                out.update("#" + marked[i : i + _PIECE] for i in range(len(marked) - _PIECE + 1))
        out.update(f"{a} {b}" for a, b in zip(words, words[1:], strict=False))
    out.update(f"c:{c}" for c in categories if c)
    return frozenset(out)


@dataclass(frozen=True, kw_only=True)
class Vote:
    label: str
    probability: float
    contributions: tuple[tuple[str, float], ...]  # strongest first

    def why(self, limit: int = 3) -> str:
        words = ", ".join(f"{f} {w:+.1f}" for f, w in self.contributions[:limit])
        return f"{self.probability:.2f} ({words})" if words else f"{self.probability:.2f}"


@dataclass(frozen=True, kw_only=True)
class Label:
    name: str
    intercept: float
    settings: Mapping[str, float]  # how the tagger combines this vote with the rules


@dataclass(frozen=True, kw_only=True)
class LinearModel:
    labels: tuple[Label, ...]
    # feature -> ((label index, weight), …): only the labels the feature has a weight for.
    weights: Mapping[str, tuple[tuple[int, float], ...]]
    trained_on: tuple[str, ...] = ()

    def label(self, name: str) -> Label | None:
        return next((lab for lab in self.labels if lab.name == name), None)

    def score(self, feats: Iterable[str]) -> dict[str, Vote]:
        sums = [lab.intercept for lab in self.labels]
        parts: list[list[tuple[str, float]]] = [[] for _ in self.labels]
        weights = self.weights
        for feat in feats:
            row = weights.get(feat)
            if row is None:
                continue
            for index, weight in row:
                sums[index] += weight
                parts[index].append((feat, weight))
        votes = {}
        for lab, total, contrib in zip(self.labels, sums, parts, strict=True):
            # Ties broken by the feature so the reason is the same on every run.
            contrib.sort(key=lambda fw: (-abs(fw[1]), fw[0]))
            votes[lab.name] = Vote(
                label=lab.name,
                probability=1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, total)))),
                contributions=tuple(contrib),
            )
        return votes


def parse_model(raw: Mapping[str, Any], where: str = MODEL_FILE) -> LinearModel:
    try:
        labels = tuple(
            Label(
                name=str(entry["name"]),
                intercept=float(entry["intercept"]),
                settings={str(k): float(v) for k, v in entry.get("settings", {}).items()},
            )
            for entry in raw["labels"]
        )
        index = {lab.name: i for i, lab in enumerate(labels)}
        weights: dict[str, list[tuple[int, float]]] = {}
        for name, table in raw["weights"].items():
            for feat, weight in table.items():
                weights.setdefault(str(feat), []).append((index[name], float(weight)))
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"{where}: {exc!r}") from exc
    return LinearModel(
        labels=labels,
        weights={f: tuple(sorted(row)) for f, row in weights.items()},
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
    votes: Mapping[str, Vote],
    model_: LinearModel,
) -> tuple[list[str], list[str], list[str]]:
    """(topics, added, reasons): the rules' topic slugs after the models' votes.

    A model adds its topic when its probability reaches ``add_at`` and removes one the rules
    set by a keyword (never a source category) when it is below ``veto_below``; a meeting
    (``suppressed``) gets no topic either way. Only decisions the model changed get a reason.
    """
    out = list(topics)
    added: list[str] = []
    reasons: list[str] = []
    if suppressed:
        return out, added, reasons
    for lab in model_.labels:
        if not lab.name.startswith("topic:"):
            continue
        slug, vote = lab.name[6:], votes[lab.name]
        s = lab.settings
        if slug not in out and vote.probability >= s.get("add_at", OFF):
            out.append(slug)
            added.append(slug)
            reasons.append(f"topic {slug}: model {vote.why()}")
        elif (
            slug in out
            and slug not in set_by_category
            and vote.probability < s.get("veto_below", -1.0)
        ):
            out.remove(slug)
            reasons.append(f"topic {slug}: removed, model {vote.why()}")
    return out, added, reasons
