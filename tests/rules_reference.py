"""The tagger's reference matching: every rule tried in data order, without prefilter keys or
gates — what ``pipeline.rules`` did before it indexed the rules (issue #9).

Contract: inside ``reference_matching()``, ``KeyedTuple.none_in`` never rules a text out,
``KeyedTuple.candidates_in`` gives every item whose needle the text holds, and
``Prefilter.admits`` admits every text. It swaps those three methods for the plain ones and
restores them after, so production code carries no test switch on its hot path.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from pipeline.rules import KeyedTuple, Prefilter


def _none_in(self: KeyedTuple[Any], text: str) -> bool:
    return False


def _candidates_in(self: KeyedTuple[Any], text: str) -> Sequence[Any]:
    return [item for item in self if not item.needle or item.needle in text]


def _admits(self: Prefilter, text: str, keys: Any = None) -> bool:
    return True


@contextmanager
def reference_matching() -> Iterator[None]:
    saved = (KeyedTuple.none_in, KeyedTuple.candidates_in, Prefilter.admits)
    KeyedTuple.none_in = _none_in  # type: ignore[method-assign]
    KeyedTuple.candidates_in = _candidates_in  # type: ignore[method-assign]
    Prefilter.admits = _admits  # type: ignore[method-assign]
    try:
        yield
    finally:
        KeyedTuple.none_in, KeyedTuple.candidates_in, Prefilter.admits = saved  # type: ignore[method-assign]
