"""publish: write every feed of contract.md, atomically and deterministically.

Contract:
- ``render(events, now=…, base_url=…) -> Rendered``: every file's bytes in memory, no I/O.
  Feeds: ``alle``, ``familie``, ``kostenlos``, ``bezirk/<13>``, ``alter/<5>``, ``thema/<9>``,
  ``bezirk/<district>/<group>`` (13 × 5, for the site's subscription builder), each as
  ``.ics`` and ``.json``, always present (empty when nothing matches), plus
  ``familie.jsonld`` (schema.org Events of the family feed, for websites).
- The window: events starting from 30 days before ``now`` to 365 days after.
- Each event is serialized once per format (VEVENT bytes, JSON item text, JSON-LD text) and
  that text is reused by every feed that holds the event: the feed matrix costs joins, not
  serializations.
- ``write_staged(out_dir, files, report)`` (``feeds.staging``): the one way files are
  written — staged, only when their bytes change, renamed into place together; memory holds
  one feed at a time. ``write_files`` does it for a dict of files.
- ``iter_rendered(...)``: the feed files one at a time; ``publish(...)`` renders and writes.
  With ``marks`` (``FeedMarks``), a feed file whose inputs have the digest of the mark the
  last publish stored for it, in a folder that holds it at the size written, is yielded as
  unchanged without being joined.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import operator
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import Any

from core.model import Event, json_digest
from core.parallel import map_chunks
from core.paths import code_digest, data_digest
from core.window import WINDOW_AFTER, WINDOW_BEFORE  # the feed window
from feeds import ics, jsonfeed, jsonld
from feeds.filters import FACETS, Facet, Match
from feeds.labels import labels
from feeds.staging import Staged
from feeds.staging import write_staged as write_staged  # the one way files are written

# A published file's content: its bytes, or its bytes in pieces (streamed to disk), or the
# file staged already (``feeds.staging.stage_file``, by a worker).
Content = bytes | Iterable[bytes] | Staged


@dataclass(frozen=True, kw_only=True)
class FeedSpec:
    path: str  # without extension, relative to the published folder
    title: str
    description: str
    group: str
    accepts: Callable[[Mapping[str, Any]], bool]  # on the event's tags (``_tag_view``)
    # The same test for a facet feed as data: family events that each facet accepts for its
    # chosen values (``Facet.accepts``), so ``memberships`` asks each facet once per event.
    terms: tuple[tuple[Facet, frozenset[str]], ...] = ()


@dataclass(kw_only=True)
class PublishReport:
    feeds: dict[str, int] = field(default_factory=dict)  # path -> event count
    written: list[str] = field(default_factory=list)
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)


def _family(e: Event) -> bool:
    return bool(e.tags and e.tags.family)


def _tag_view(e: Event) -> Mapping[str, Any]:
    """What the filters read of an event: its tags as the JSON writes them."""
    return e.tags.to_dict() if e.tags is not None else {}


class TagViews(dict[str, Mapping[str, Any]]):
    """Each event's ``_tag_view`` by uid, made once for a publish's feeds and its site's
    list pages (``feeds.site.site_files``): 20,000 of them were 0.4 s each time."""

    def of(self, event: Event) -> Mapping[str, Any]:
        view = self.get(event.uid)
        if view is None:
            view = self[event.uid] = _tag_view(event)
        return view


def _everything(view: Mapping[str, Any]) -> bool:
    return True


def _family_view(view: Mapping[str, Any]) -> bool:
    return bool(view.get("family"))


def _faceted(facet: Facet, chosen: frozenset[str], view: Mapping[str, Any]) -> bool:
    return bool(view.get("family")) and facet.accepts(view, chosen)


def feed_specs() -> list[FeedSpec]:
    """``alle`` and ``familie``, then the feeds of the facets (``feeds.filters.FACETS``):
    a flag facet's one feed first (``kostenlos``), then a feed per value of the others."""
    names = labels()
    specs = [
        FeedSpec(
            path="alle",
            title="Hannover: alle Veranstaltungen",
            group="Überblick",
            description="Alle gesammelten Veranstaltungen in Hannover und der Region.",
            accepts=_everything,
        ),
        FeedSpec(
            path="familie",
            title="Familienkalender Hannover",
            group="Überblick",
            description="Veranstaltungen für Kinder, Jugendliche und Familien.",
            accepts=_family_view,
        ),
    ]
    flags = [f for f in FACETS if f.feeds and f.match is Match.FLAG]
    others = [f for f in FACETS if f.feeds and f.match is not Match.FLAG]
    for facet in flags:
        assert facet.feeds is not None
        specs.append(
            FeedSpec(
                path=facet.feeds.folder,
                title=facet.feeds.title,
                group=facet.feeds.group,
                description=facet.feeds.description,
                accepts=functools.partial(_faceted, facet, frozenset(facet.values)),
                terms=((facet, frozenset(facet.values)),),
            )
        )
    for facet in others:
        assert facet.feeds is not None
        for value in facet.values:
            label = names[facet.labels][value]
            specs.append(
                FeedSpec(
                    path=f"{facet.feeds.folder}/{value}",
                    title=facet.feeds.title.format(label=label),
                    group=facet.feeds.group,
                    description=facet.feeds.description.format(label=label),
                    accepts=functools.partial(_faceted, facet, frozenset((value,))),
                    terms=((facet, frozenset((value,))),),
                )
            )
    specs.extend(_combined_specs())
    return specs


# Facet pairs published together (contract.md: ``bezirk/<district>/<group>``): the feed a
# family subscribes to through the site's builder, with no server to filter.
COMBINED = (("bezirk", "alter"),)


def _combined_specs() -> list[FeedSpec]:
    names = labels()
    by_param = {f.param: f for f in FACETS}
    specs = []
    for first_param, second_param in COMBINED:
        first, second = by_param[first_param], by_param[second_param]
        assert first.feeds is not None
        for one in first.values:
            for two in second.values:
                label = f"{names[first.labels][one]}, {names[second.labels][two]}"
                specs.append(
                    FeedSpec(
                        path=f"{first.feeds.folder}/{one}/{two}",
                        title=f"Familienkalender Hannover: {label}",
                        group=f"{first.label} und {second.label}",
                        description=f"Familienveranstaltungen: {label}.",
                        accepts=functools.partial(
                            _both, first, frozenset((one,)), second, frozenset((two,))
                        ),
                        terms=((first, frozenset((one,))), (second, frozenset((two,)))),
                    )
                )
    return specs


def _both(
    first: Facet,
    one: frozenset[str],
    second: Facet,
    two: frozenset[str],
    view: Mapping[str, Any],
) -> bool:
    return _faceted(first, one, view) and second.accepts(view, two)


def memberships(specs: Sequence[FeedSpec], views: Sequence[Mapping[str, Any]]) -> list[list[int]]:
    """For each spec, the indexes of the views it accepts — ``spec.accepts`` of each, but a
    facet feed's members found from what each family event's facets read
    (``Facet.reads``): each facet's accepted choices once per reading, and each combination
    of facets' feeds once per combination of readings (the matrix has 95 feeds; 20,000
    events share a few hundred readings)."""
    members: list[list[int]] = [[] for _ in specs]
    plain = [(i, spec.accepts) for i, spec in enumerate(specs) if not spec.terms]
    # Facets by position, not as dict keys: hashing the Facet dataclass was the cost.
    facets: list[Facet] = []
    options: list[list[frozenset[str]]] = []  # per position: the choices feeds make
    shapes: dict[tuple[int, ...], dict[tuple[frozenset[str], ...], int]] = {}
    for i, spec in enumerate(specs):
        if not spec.terms:
            continue
        shape: list[int] = []
        for facet, chosen in spec.terms:
            k = next((k for k, known in enumerate(facets) if known is facet), len(facets))
            if k == len(facets):
                facets.append(facet)
                options.append([])
            if chosen not in options[k]:
                options[k].append(chosen)
            shape.append(k)
        shapes.setdefault(tuple(shape), {})[tuple(chosen for _, chosen in spec.terms)] = i
    # Per position: a reading -> the choices its facet accepts for it.
    accepted: list[dict[Hashable, list[frozenset[str]]]] = [{} for _ in facets]
    # Per shape: its readings' getter, its positions, its feeds by choices, and the feeds
    # found for each combination of readings.
    Plan = tuple[
        Callable[[Sequence[Hashable]], Hashable],
        tuple[int, ...],
        dict[tuple[frozenset[str], ...], int],
        dict[Hashable, list[int]],
    ]
    plans: list[Plan] = [
        (operator.itemgetter(*shape), shape, index, {}) for shape, index in shapes.items()
    ]
    for n, view in enumerate(views):
        for i, accepts in plain:
            if accepts(view):
                members[i].append(n)
        if not view.get("family"):
            continue
        readings = [facet.reads(view) for facet in facets]
        for get, positions, index, found in plans:
            key = get(readings)
            feeds = found.get(key)
            if feeds is None:
                lists = []
                for k in positions:
                    seen = accepted[k]
                    if (choices := seen.get(readings[k])) is None:
                        choices = seen[readings[k]] = [
                            chosen for chosen in options[k] if facets[k].accepts(view, chosen)
                        ]
                    lists.append(choices)
                feeds = found[key] = [
                    index[combination]
                    for combination in itertools.product(*lists)
                    if combination in index
                ]
            for i in feeds:
                members[i].append(n)
    return members  # each in the views' order, as ``spec.accepts`` over them gives


def in_window(event: Event, now: datetime) -> bool:
    start = event.start_datetime()
    return now - WINDOW_BEFORE <= start <= now + WINDOW_AFTER


@dataclass(kw_only=True)
class Rendered:
    files: dict[str, bytes]  # path relative to the published folder -> bytes
    report: PublishReport


class WindowEvents(list[Event]):
    """What ``window_events`` returns: the events of one ``now``'s window in feed order,
    which that function hands back as they are when given again for the same ``now`` (a
    publish passes them to every writer; sorting 20,000 events by their start cost 0.1–0.2 s
    each time)."""

    def __init__(self, events: Iterable[Event], now: datetime) -> None:
        super().__init__(events)
        self.now = now


def window_events(events: Sequence[Event], now: datetime) -> WindowEvents:
    """The events of the window in feed order: by start, then UID (deterministic)."""
    if isinstance(events, WindowEvents) and events.now == now:
        return events
    ordered = sorted(
        (e for e in events if in_window(e, now)),
        key=lambda e: (e.start_datetime(), e.uid),
    )
    return WindowEvents(ordered, now)


@dataclass(frozen=True)
class Serialized:
    """One event in every published form: VEVENT bytes, JSON Feed item text, JSON-LD text
    (family events only, for ``familie.jsonld``) — the texts as UTF-8, the bytes the feeds
    join (encoded once per event, not once per feed; a third smaller in memory than ``str``
    of German text)."""

    vevent: bytes
    item: bytes
    jsonld: bytes | None

    def forms(self) -> dict[str, bytes | str | None]:
        """The forms by format name, as the store's render cache keeps them."""
        return {name: getattr(self, name) for name in _form_names()}

    @classmethod
    def from_forms(cls, forms: Mapping[str, bytes | str]) -> Serialized:
        """The inverse of ``forms`` (a form the event lacks is absent; a text is encoded)."""
        values: dict[str, Any] = {name: _utf8(forms.get(name)) for name in _form_names()}
        return cls(**values)


@functools.cache
def _form_names() -> tuple[str, ...]:
    # Listed once: ``dataclasses.fields`` for each of 20,000 events was 0.5 s of a publish.
    return tuple(f.name for f in fields(Serialized))


def _utf8(form: bytes | str | None) -> bytes | None:
    return form.encode() if isinstance(form, str) else form


def render_key(event: Event, stored_digest: str | None = None) -> str:
    """Equal keys, equal ``serialize`` output: the event's full JSON, the label data and the
    feed writers' code (so a cached form never outlives what made it). ``stored_digest`` is
    the ``json_digest`` of the event's JSON where the caller has it already."""
    digest = stored_digest or json_digest(event.to_json())
    salt = data_digest() + code_digest("feeds")
    return hashlib.sha256((salt + digest).encode()).hexdigest()


def serialize(event: Event) -> Serialized:
    return Serialized(
        vevent=ics.vevent(event),
        item=jsonfeed.dump_item(jsonfeed.item(event)).encode(),
        jsonld=jsonld.dump(jsonld.event_jsonld(event)).encode() if _family(event) else None,
    )


# (digest of a feed file's inputs, bytes written): the size lets the caller check that the
# file on disk is the one written, as for the event pages (``feeds.site.pagekeys``).
FeedMark = tuple[str, int]


@dataclass(kw_only=True)
class FeedMarks:
    """What a publish knows of the feed files the folder holds (``iter_rendered``): the
    render key of each event (``render_key``), the marks of the last publish's files that
    the folder holds as written (``published``) and ``salt`` (the folder). A feed file whose
    inputs — its head bytes (title, description, addresses, the writers' code and
    libraries), the writers' code and label data, and its members' render keys in order —
    have the digest of its published mark is not joined again: it is yielded as unchanged
    (``feeds.staging.Staged``). ``made`` gets every feed file's mark of this publish."""

    keys: Mapping[str, str]
    published: Mapping[str, FeedMark]
    salt: str = ""
    made: dict[str, FeedMark] = field(default_factory=dict)

    def content(
        self, name: str, head: bytes, members: Sequence[str], pieces: Iterable[bytes]
    ) -> Content:
        found = [self.keys.get(uid) for uid in members]
        keys = [key for key in found if key is not None]
        if len(keys) != len(found):  # an event without a key: no mark, joined every time
            return pieces
        text = "\x1e".join((data_digest(), code_digest("feeds"), self.salt, name))
        digest = hashlib.sha256(text.encode() + b"\x1e" + head + b"\x1e")
        digest.update("\n".join(keys).encode())
        key = digest.hexdigest()
        mark = self.published.get(name)
        if mark is not None and mark[0] == key:
            self.made[name] = mark
            return Staged(None, mark[1])
        return self._noted(name, key, pieces)

    def _noted(self, name: str, key: str, pieces: Iterable[bytes]) -> Iterator[bytes]:
        size = 0
        for piece in pieces:
            size += len(piece)
            yield piece
        self.made[name] = (key, size)  # only once the consumer took every piece


def iter_rendered(
    events: Sequence[Event],
    *,
    now: datetime,
    base_url: str | None,
    report: PublishReport,
    known: Mapping[str, Serialized] | None = None,
    marks: FeedMarks | None = None,
    views: TagViews | None = None,
) -> Iterator[tuple[str, Content]]:
    """Each published feed file as (path, bytes), one at a time; fills ``report.feeds``.
    ``known`` holds serialized forms by uid that are current for their events; with
    ``marks``, a feed file whose inputs are those of its published mark is not joined;
    ``views`` gets the tag views it made (for the site's list pages)."""
    shown = window_events(events, now)
    # One serialization per event and format (spread over the cores for large feeds; taken
    # from ``known`` where the caller has it already); the feeds below only join these.
    known = known or {}
    todo = [e for e in shown if e.uid not in known]
    made = dict(zip((e.uid for e in todo), map_chunks(serialize, todo), strict=True))
    forms = [known.get(e.uid) or made[e.uid] for e in shown]
    vevents = {e.uid: form.vevent for e, form in zip(shown, forms, strict=True)}
    items = {e.uid: form.item for e, form in zip(shown, forms, strict=True)}
    base = base_url.rstrip("/") if base_url else None
    made_views = TagViews() if views is None else views
    tag_views = [made_views.of(e) for e in shown]
    uids = [e.uid for e in shown]
    specs = feed_specs()

    def feed_file(name: str, head: bytes, members: list[str], pieces: Iterable[bytes]) -> Content:
        return marks.content(name, head, members, pieces) if marks is not None else pieces

    for spec, indexes in zip(specs, memberships(specs, tag_views), strict=True):
        members = [uids[n] for n in indexes]
        report.feeds[spec.path] = len(members)
        # In pieces: the consumer streams them to disk, so no whole feed is held in memory.
        # The heads first (the same bytes as the writers' own), for the feed's mark.
        calendar_head, calendar_end = ics.calendar_chunks(
            uid=f"famcal-{spec.path.replace('/', '-')}@famcal-hannover",
            name=spec.title,
            description=spec.description,
            vevents=[],
        )
        calendar = itertools.chain(
            (calendar_head,), (vevents[uid] for uid in members), (calendar_end,)
        )
        yield f"{spec.path}.ics", feed_file(f"{spec.path}.ics", calendar_head, members, calendar)
        document = jsonfeed.feed_chunks(
            title=spec.title,
            description=spec.description,
            items=(items[uid] for uid in members),
            feed_url=f"{base}/{spec.path}.json" if base else None,
            home_page_url=f"{base}/" if base else None,
        )
        document_head = next(document)
        document = itertools.chain((document_head,), document)
        yield f"{spec.path}.json", feed_file(f"{spec.path}.json", document_head, members, document)
    # In pieces too: the family events' JSON-LD is some 10 MB (held three times if joined).
    family = [e.uid for e, f in zip(shown, forms, strict=True) if f.jsonld]
    graph = jsonld.document_chunks(f.jsonld for f in forms if f.jsonld)
    yield "familie.jsonld", feed_file("familie.jsonld", b"", family, graph)


def render(
    events: Sequence[Event],
    *,
    now: datetime,
    base_url: str | None = None,
) -> Rendered:
    report = PublishReport()
    files = {
        name: as_bytes(data)
        for name, data in iter_rendered(events, now=now, base_url=base_url, report=report)
    }
    return Rendered(files=files, report=report)


def as_bytes(data: Content) -> bytes:
    if isinstance(data, Staged):
        raise TypeError("a staged file has no bytes in memory")
    return data if isinstance(data, bytes) else b"".join(data)


def write_files(out_dir: Path, files: dict[str, bytes], report: PublishReport) -> None:
    write_staged(out_dir, sorted(files.items()), report)


def publish(
    events: Sequence[Event],
    *,
    out_dir: Path,
    now: datetime,
    base_url: str | None = None,
) -> PublishReport:
    report = PublishReport()
    write_staged(out_dir, iter_rendered(events, now=now, base_url=base_url, report=report), report)
    return report


def json_bytes(document: dict[str, Any]) -> bytes:
    return (json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode()
