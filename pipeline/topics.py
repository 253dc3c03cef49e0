"""Topics and audiences (taxonomy.md) from folded text and source categories.

Contract:
- ``decide_topics(text, categories, book) -> (topics, reasons)``: a topic is set by a source
  category of its lexicon or a keyword in title, description or categories (its ``exclude``
  phrases blanked first; street addresses of ``mask`` blanked for all). Keywords below weight 1
  count only together (``pipeline.rules.match_lexicon``). A meeting ("Sitzung",
  "Jahreshauptversammlung") gets no topic: it is *about* something, and topics follow the
  subject of the event, not its format.
- ``decide_audiences(text, categories, book) -> (audiences, reasons)``: the same over title
  and description; categories count only through the lexicon's own list (hannover.de's
  "Kinder & Jugendliche" names a section, not teenagers). Single parents are parents.
- ``revise_with_model(topics, reasons, vote, learned)``: the topics after the trained
  models' votes (``pipeline.learned.revise_topics``): a model may add its topic or remove one a
  keyword set, never one a source category set, and a meeting keeps no topic.
Results follow the order of the taxonomy's enums; each slug has one reason.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from core.model import Audience, Topic
from pipeline.learned import LinearModel, Vote, revise_topics
from pipeline.rules import RuleBook, first_hit, mask, match_lexicon


def decide_topics(
    text: str, categories: Sequence[str], book: RuleBook
) -> tuple[tuple[Topic, ...], tuple[str, ...]]:
    suppressed = first_hit(book.topic_suppress, text)
    if suppressed:
        return (), (f"topics: none, a meeting «{suppressed[1]}»",)
    # Addresses name a place, not a subject ("Treffpunkt Gartenstraße 12").
    with_categories = f"{mask(text, book.topic_mask)} . {' . '.join(categories)}"
    topics: list[Topic] = []
    reasons: list[str] = []
    for topic, lexicon in book.topics.items():
        why = match_lexicon(lexicon, with_categories, categories)
        if why:
            topics.append(topic)
            reasons.append(f"topic {topic.value}: {why}")
    return tuple(t for t in Topic if t in topics), tuple(reasons)


def decide_audiences(
    text: str, categories: Sequence[str], book: RuleBook
) -> tuple[tuple[Audience, ...], tuple[str, ...]]:
    audiences: list[Audience] = []
    reasons: list[str] = []
    for audience, lexicon in book.audiences.items():
        why = match_lexicon(lexicon, text, categories)
        if why:
            audiences.append(audience)
            reasons.append(f"audience {audience.value}: {why}")
    if Audience.ALLEINERZIEHENDE in audiences and Audience.ELTERN not in audiences:
        audiences.append(Audience.ELTERN)
        reasons.append("audience eltern: single parents are parents")
    return tuple(a for a in Audience if a in audiences), tuple(reasons)


def revise_with_model(
    topics: Sequence[Topic],
    reasons: Sequence[str],
    vote: Callable[[str], Vote],
    learned: LinearModel,
) -> tuple[tuple[Topic, ...], tuple[str, ...]]:
    """``decide_topics``'s result after the trained models' votes (``pipeline.learned``).

    A topic a source category set stays; a meeting stays without topics. Reasons of removed
    topics are dropped; the model's own reasons are added.
    """
    # A topic's reason is "topic <slug>: category «…»" when a source category set it.
    by_category = [
        r.split(":", 1)[0].removeprefix("topic ") for r in reasons if ": category «" in r
    ]
    suppressed = bool(reasons) and reasons[0].startswith("topics: none")
    slugs, _, why = revise_topics(
        [t.value for t in topics],
        by_category,
        suppressed=suppressed,
        vote=vote,
        model_=learned,
    )
    if not why:
        return tuple(topics), tuple(reasons)
    kept = [
        r
        for r in reasons
        if not r.startswith("topic ") or r.split(":", 1)[0].removeprefix("topic ") in slugs
    ]
    return tuple(t for t in Topic if t.value in slugs), (*kept, *why)
