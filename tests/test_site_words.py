"""The site's search words folded word by word (``feeds.site.entries.search_words`` with one
``FoldedWords`` for many events) are the words of the whole folded text, in the same order."""

from __future__ import annotations

import random
import sys
import unicodedata

from feeds.filters import fold_words
from feeds.jsonfeed import event_object
from feeds.site.entries import FoldedWords, search_words
from tests.feed_samples import sample_events


def _tricky() -> list[str]:
    """Whitespace, combining marks, and the characters whose folding holds whitespace or
    combining marks (¨, ´, the Greek tonos, ligatures, compatibility forms)."""
    chars = []
    for code in range(sys.maxunicode + 1):
        ch = chr(code)
        if ch.isspace() or unicodedata.combining(ch):
            chars.append(ch)
            continue
        folded = unicodedata.normalize("NFKD", ch.casefold())
        if folded != ch and any(c.isspace() or unicodedata.combining(c) for c in folded):
            chars.append(ch)
    return chars


def test_folding_a_whitespace_character_gives_whitespace() -> None:
    # What the word-by-word folding relies on: no word joins the next.
    for code in range(sys.maxunicode + 1):
        if chr(code).isspace():
            folded = fold_words(chr(code))
            assert folded and folded.isspace(), hex(code)


def test_the_sample_calendar_gives_the_same_words() -> None:
    folded = FoldedWords()
    for event in sample_events():
        obj = event_object(event)
        assert search_words(obj, folded) == search_words(obj)


def test_random_texts_of_tricky_characters_give_the_same_words() -> None:
    rng = random.Random(20)
    pool = [*_tricky(), *"aAeEßẞäÄöÖüÜéÉıİΣσς ﬁﬀ½ǅ", *" \t\n", "Straße", "GRÜN", "x"]
    folded = FoldedWords()  # shared, as index_files shares it: earlier words are reused
    for _ in range(3000):
        def text() -> str:
            return "".join(rng.choice(pool) for _ in range(rng.randint(0, 24)))

        obj = {
            "title": text(),
            "description": text(),
            "location": {"name": text(), "street": text(), "lat": rng.choice([None, 52.37, 0.0])},
        }
        assert search_words(obj, folded) == search_words(obj), obj
