"""The family site (contract.md, "The family site"): every page and file of it, in memory.

Contract: ``site_files(events, report, now=…, base_url=…, health=…, vevents=…)`` yields
(path, bytes) for the published folder, no I/O besides reading the bundled templates,
catalogues and static files; the caller writes them with ``feeds.publish.write_staged``
(``prune=PRUNED``: pages of events that left the window are removed).
- ``index.html`` (German) and ``<lang>/index.html`` (``feeds.site.i18n.LANGUAGES``);
- ``site/index.json`` (the first load): ``{"declaration": feeds.filters.site_declaration(),
  "events": [...], "until": "YYYY-MM-DD", "months": [{"m": "YYYY-MM", "n": count}, ...]}`` —
  the family events of the window that have not ended at ``now`` and whose first local day
  is at most ``until`` (``NEAR_DAYS`` after ``now``) as ``feeds.site.entries.index_entry``,
  which the page's script filters by the declaration; ``site/words.json``: their search words,
  in the same order, loaded by the script only for a search; the later events, by the month
  of their first day, in ``site/index-YYYY-MM.json`` (``{"events": [...], "words": [...]}``,
  one per entry of ``months``), which the script fetches only when a query's days reach them
  or the visitor asks for more. Each event is in exactly one of these files, in feed order;
  ``site/famcal.js``, ``site/site.css``;
- ``bezirk/<district>.html`` and ``alter/<group>.html``: the events of one facet value at
  ``now`` (the pages the index links to for visitors without JavaScript);
- ``termine/<key>.html`` and ``termine/<key>.ics`` (one VEVENT, the feeds' bytes from
  ``vevents`` where given) for every family event of the window — with ``pages``
  (``feeds.site.pagekeys.EventPages``) only for those whose page inputs changed since the
  pages the folder holds (the others are named in ``pages.kept``). ``plan_event_files``
  makes that plan ahead (``site_files(..., event_files=…)`` then takes its pages); its
  ``start(out_dir)``, called inside the ``write_staged`` of ``out_dir``, renders and stages
  them in forked workers (``core.parallel.start_chunks``, ``feeds.staging.stage_file``)
  while the caller produces the feeds and the index, and ``site_files`` yields them as
  ``Staged`` — the same files, bytes and order as rendered in memory; leaving its ``with``
  stops the workers;
- ``health.html`` from the ``health.json`` document.
With ``marks`` (``feeds.publish.FeedMarks``, the publish stage's), the index files, the
language pages and the list pages are marked as the feeds are — each by the render keys of
the events it shows, in order, and what else it shows (the horizon and month counts; the
feed counts, ``base_url`` and templates of a page) — and one whose mark the folder holds is
yielded as unchanged without being made; which events a file shows is found from their
dates (``feeds.jsonfeed.event_span``), so only the files made cost their entries.
Only the list pages and the index depend on ``now``; an event page changes only with its
event, its series or the templates.
"""

from __future__ import annotations

import functools
import json
import os
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

from core.model import BERLIN, Event
from core.parallel import MIN_PARALLEL, Started, map_chunks, start_chunks, workers
from core.paths import data_file
from feeds import ics
from feeds.filters import BY_PARAM, end_instant, local_dates, site_declaration
from feeds.jsonfeed import event_object, event_span
from feeds.labels import labels
from feeds.publish import (
    Content,
    FeedMarks,
    PublishReport,
    TagViews,
    feed_specs,
    window_events,
)
from feeds.site.entries import (
    FoldedWords,
    card,
    event_key,
    index_entry,
    search_words,
    series_key,
)
from feeds.site.i18n import LANGUAGES, SOURCE_LANGUAGE, translations
from feeds.site.pagekeys import EventPages, page_digest, series_digest, site_digest
from feeds.site.pages import DirectoryFeed, event_page, health_page, index_page, list_page
from feeds.staging import Staged, stage_file

# Folders the site owns whole: event pages and month files that left the window are removed.
PRUNED = ("termine", "site")
STATIC = ("famcal.js", "site.css")
# Cards in the page itself (the script shows the rest from the index): a first screen and
# some more for a visitor without JavaScript, who has the district and age pages for all.
STATIC_CARDS = 40
# A district's or age group's page lists its next events up to this many (the feeds hold all).
LIST_CARDS = 300
# The first load's horizon: the days of "heute" to "woche" (contract.md "Days") for a visitor
# up to a week after the publish; 20,000 events a year put some 800 into it.
NEAR_DAYS = 14
BATCH = 8000  # event pages rendered together (over every core, core.parallel)
PARALLEL_PAGES = MIN_PARALLEL  # from this many pages to render, workers stage them
PAGE_CHUNK = 64  # pages handed out at a time to the page workers and the publish itself
# Facets with a page per value, linked from the index for visitors without JavaScript.
LIST_PAGES = ("bezirk", "alter")


def _directory(
    report: PublishReport, lang: str
) -> list[tuple[str, list[DirectoryFeed]]]:
    gettext = translations(lang).gettext
    groups: dict[str, list[DirectoryFeed]] = {}
    for spec in feed_specs():
        if spec.path.count("/") > 1:
            continue  # district × age: the builder makes those links
        kind, _, slug = spec.path.partition("/")
        facet = BY_PARAM.get(kind)
        if slug and facet is not None:
            label = gettext(labels()[facet.labels][slug])
        else:
            label = gettext(spec.title)
        groups.setdefault(gettext(spec.group), []).append(
            DirectoryFeed(path=spec.path, label=label, count=report.feeds.get(spec.path, 0))
        )
    return list(groups.items())


def live_events(family: Sequence[Event], now: datetime) -> list[int]:
    """The indexes of the events that have not ended at ``now`` (no visitor's list shows
    the others), found from their dates alone."""
    return [i for i, e in enumerate(family) if end_instant(event_span(e)) > now]


def index_files(
    family: Sequence[Event],
    *,
    now: datetime,
    marks: FeedMarks | None = None,
    live: Sequence[int] | None = None,
) -> Iterator[tuple[str, Content]]:
    """``site/index.json``, ``site/words.json`` and the month files (the module's contract).
    Which file an event goes to is found from its dates alone (``live``: ``live_events``
    where the caller has it); with ``marks`` (``feeds.publish.FeedMarks``), a file whose
    inputs are those of its published mark is not made again, and only the events of the
    files made are turned into entries."""
    until = (now.astimezone(BERLIN).date() + timedelta(days=NEAR_DAYS)).isoformat()
    near: list[int] = []
    months: dict[str, list[int]] = {}
    for i in live_events(family, now) if live is None else live:
        first = local_dates(event_span(family[i]))[0].isoformat()  # an entry's "d0"
        (near if first <= until else months.setdefault(first[:7], [])).append(i)
    order = sorted(months)
    objects: dict[int, dict[str, Any]] = {}
    folded = FoldedWords()  # the events' words, each folded once

    def obj(i: int) -> dict[str, Any]:
        if (found := objects.get(i)) is None:
            found = objects[i] = event_object(family[i])
        return found

    def entries(indexes: list[int]) -> list[dict[str, Any]]:
        return [index_entry(family[i], obj(i)) for i in indexes]

    def words(indexes: list[int]) -> list[str]:
        return [search_words(obj(i), folded) for i in indexes]

    def near_index() -> bytes:
        return _compact({
            "declaration": site_declaration(),
            "events": entries(near),
            "until": until,
            "months": [{"m": m, "n": len(months[m])} for m in order],
        })  # fmt: skip

    counts = json.dumps([until, [(m, len(months[m])) for m in order]]).encode()
    yield "site/index.json", _marked(marks, "site/index.json", counts, family, near, near_index)
    yield "site/words.json", _marked(
        marks, "site/words.json", b"", family, near, lambda: _compact({"words": words(near)})
    )
    for m in order:
        name = f"site/index-{m}.json"
        members = months[m]
        yield name, _marked(
            marks,
            name,
            b"",
            family,
            members,
            functools.partial(_month_file, entries, words, members),
        )


def _month_file(
    entries: Callable[[list[int]], list[dict[str, Any]]],
    words: Callable[[list[int]], list[str]],
    members: list[int],
) -> bytes:
    return _compact({"events": entries(members), "words": words(members)})


def _marked(
    marks: FeedMarks | None,
    name: str,
    head: bytes,
    family: Sequence[Event],
    indexes: Sequence[int],
    make: Callable[[], bytes],
) -> Content:
    """A site file made by ``make`` from the events at ``indexes`` and ``head`` (what else
    it shows: counts, dates, the page's templates): with ``marks``, not made when its mark
    says the folder holds it already."""
    if marks is None:
        return make()
    return marks.content(name, head, [family[i].uid for i in indexes], _later(make))


def _later(make: Callable[[], bytes]) -> Iterator[bytes]:
    yield make()


def _compact(document: Mapping[str, Any]) -> bytes:
    text = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return (text + "\n").encode()


def site_files(
    events: Sequence[Event],
    report: PublishReport,
    *,
    now: datetime,
    base_url: str | None,
    health: Mapping[str, Any],
    vevents: Mapping[str, bytes] | None = None,
    pages: EventPages | None = None,
    event_files: EventFiles | None = None,
    marks: FeedMarks | None = None,
    views: TagViews | None = None,
) -> Iterator[tuple[str, Content]]:
    """With ``marks``, the index files, the language pages and the list pages whose inputs
    are those of their published marks are yielded as unchanged (``feeds.staging.Staged``)
    instead of made again (``index_files``, ``_marked``); ``views``: the events' tag views
    the feeds made (``feeds.publish.iter_rendered``)."""
    if event_files is None:
        event_files = plan_event_files(events, now=now, health=health, vevents=vevents, pages=pages)
    family = event_files.family
    for name in STATIC:
        yield f"site/{name}", data_file("site", "static", name).read_bytes()
    live = live_events(family, now)
    yield from index_files(family, now=now, marks=marks, live=live)
    shown = live[:STATIC_CARDS]
    more = len(live) > STATIC_CARDS
    # What a language page shows besides its cards: the feed directory's counts.
    counts = json.dumps([site_digest(), more, base_url, report.feeds], sort_keys=True).encode()
    for lang in LANGUAGES:
        path = "index.html" if lang.code == SOURCE_LANGUAGE else f"{lang.code}/index.html"
        yield path, _marked(
            marks,
            path,
            lang.code.encode() + b"\x1f" + counts,
            family,
            shown,
            functools.partial(_index_html, lang.code, family, shown, more, report, base_url),
        )
    made_views = TagViews() if views is None else views
    live_views = [made_views.of(family[i]) for i in live]
    for param in LIST_PAGES:
        facet = BY_PARAM[param]
        assert facet.feeds is not None
        for value in facet.values:
            chosen = frozenset((value,))
            members = [i for i, v in zip(live, live_views, strict=True) if facet.accepts(v, chosen)]
            heading = labels()[facet.labels][value]
            feed = f"{facet.feeds.folder}/{value}"
            listed = members[:LIST_CARDS]
            extra = len(members) > LIST_CARDS
            yield f"{feed}.html", _marked(
                marks,
                f"{feed}.html",
                json.dumps([site_digest(), heading, extra]).encode(),
                family,
                listed,
                functools.partial(_list_html, heading, feed, family, listed, extra),
            )
    yield from event_files.files()
    yield "health.html", health_html(health)


def _index_html(
    lang: str,
    family: Sequence[Event],
    shown: Sequence[int],
    more: bool,
    report: PublishReport,
    base_url: str | None,
) -> bytes:
    html = index_page(
        lang,
        [card(family[i]) for i in shown],
        more=more,
        directory=_directory(report, lang),
        base_url=base_url,
    )
    return html.encode()


def _list_html(
    heading: str, feed: str, family: Sequence[Event], listed: Sequence[int], more: bool
) -> bytes:
    return list_page(heading, feed, [card(family[i]) for i in listed], more=more).encode()


@dataclass(kw_only=True)
class EventFiles:
    """The event pages of a publish (``plan_event_files``): ``todo`` to render, the rest
    kept (``pages``); rendered in memory by ``files()``, or staged by workers once
    ``start``ed."""

    family: list[Event]
    todo: list[Event]
    render: Callable[[Event], tuple[bytes, bytes]]
    digests: dict[str, str]
    pages: EventPages | None
    job: Started[tuple[Staged, Staged]] | None = field(default=None, repr=False)
    meanwhile: Callable[[], None] | None = field(default=None, repr=False)

    def start(self, out_dir: Path, *, meanwhile: Callable[[], None] | None = None) -> EventFiles:
        """Render and stage the pages in workers, from now on (``core.parallel``);
        ``meanwhile`` runs in this process just before it waits for them."""
        self.meanwhile = meanwhile
        _one_event_frame()  # made before the workers fork
        stage = functools.partial(
            _stage_event, render=self.render, out_dir=out_dir, publisher=os.getpid()
        )
        # One core is left to this process, which joins the feeds meanwhile: on two cores
        # one worker (two made the three processes' files and copied pages cost more
        # system time than the wall time they saved). Handed out in chunks: this process
        # takes its share of the pages once the feeds and the index are done (on a first
        # publish it used to wait seconds for the worker).
        self.job = start_chunks(
            stage,
            self.todo,
            min_items=PARALLEL_PAGES,
            processes=max(1, workers() - 1),
            chunk=PAGE_CHUNK,
        )
        return self

    def files(self) -> Iterator[tuple[str, Content]]:
        """Each page's two files as (path, content), in ``todo``'s order; notes the marks."""
        if self.job is not None:
            if self.meanwhile is not None:
                self.meanwhile()
            for e, (page, calendar) in zip(self.todo, self.job.results(), strict=True):
                key = event_key(e.uid)
                yield f"termine/{key}.html", page
                yield f"termine/{key}.ics", calendar
                self._mark(e, page.size, calendar.size)
            return
        _one_event_frame()  # made before the workers fork
        # In batches over every core: memory holds one batch of pages, not 20,000.
        for begin in range(0, len(self.todo), BATCH):
            batch = self.todo[begin : begin + BATCH]
            for e, (html, ics_file) in zip(batch, map_chunks(self.render, batch), strict=True):
                key = event_key(e.uid)
                yield f"termine/{key}.html", html
                yield f"termine/{key}.ics", ics_file
                self._mark(e, len(html), len(ics_file))

    def _mark(self, event: Event, html: int, calendar: int) -> None:
        if self.pages is not None and (digest := self.digests.get(event.uid)):
            self.pages.made[event.uid] = (digest, html, calendar)

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def __enter__(self) -> EventFiles:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.cancel()


def plan_event_files(
    events: Sequence[Event],
    *,
    now: datetime,
    health: Mapping[str, Any],
    vevents: Mapping[str, bytes] | None = None,
    pages: EventPages | None = None,
) -> EventFiles:
    """The event pages ``site_files`` yields: those of the family events of the window, with
    ``pages`` only those not current in the folder (noted in ``pages.kept``)."""
    family = [e for e in window_events(events, now) if e.tags and e.tags.family]
    series: dict[str, list[Event]] = defaultdict(list)
    for e in family:
        series[series_key(e)].append(e)
    names = {sid: str(s.get("name") or sid) for sid, s in health.get("sources", {}).items()}
    digests = _page_digests(family, series, names, pages) if pages is not None else {}
    todo = family
    if pages is not None:
        todo = [e for e in family if not _kept(e, digests.get(e.uid), pages)]
    render = functools.partial(_event_files, series=series, names=names, vevents=vevents or {})
    return EventFiles(family=family, todo=todo, render=render, digests=digests, pages=pages)


def _stage_event(
    event: Event,
    *,
    render: Callable[[Event], tuple[bytes, bytes]],
    out_dir: Path,
    publisher: int,
) -> tuple[Staged, Staged]:
    """A worker's part: one event's two files rendered and staged."""
    if os.getpid() != publisher and os.getppid() != publisher:
        # The publish that forked this worker is gone (killed): stage nothing for it.
        raise SystemExit("famcal: the publish of these pages ended")
    page, calendar = render(event)
    key = event_key(event.uid)
    return (
        # Staged at their own path: a first publish renames the staged folder whole.
        stage_file(out_dir, f"termine/{key}.html", page, tmp=f"termine/{key}.html"),
        stage_file(out_dir, f"termine/{key}.ics", calendar, tmp=f"termine/{key}.ics"),
    )


def _page_digests(
    family: Sequence[Event],
    series: Mapping[str, Sequence[Event]],
    names: Mapping[str, str],
    pages: EventPages,
) -> dict[str, str]:
    """uid -> page digest, for the events whose render key the caller gave."""
    dates = {sid: series_digest(members) for sid, members in series.items()}
    return {
        e.uid: page_digest(
            key,
            dates[series_key(e)],
            [names.get(ref.id, ref.id) for ref in e.sources],
            salt=pages.salt,
        )
        for e in family
        if (key := pages.keys.get(e.uid))
    }


def _kept(event: Event, digest: str | None, pages: EventPages) -> bool:
    """Whether the folder holds the event's current pages (then noted as kept)."""
    if not pages.current(event.uid, digest):
        return False
    key = event_key(event.uid)
    pages.kept.extend((f"termine/{key}.html", f"termine/{key}.ics"))
    pages.made[event.uid] = pages.published[event.uid]
    return True


def _event_files(
    event: Event,
    *,
    series: Mapping[str, Sequence[Event]],
    names: Mapping[str, str],
    vevents: Mapping[str, bytes],
) -> tuple[bytes, bytes]:
    """An event's page and its one-event calendar file."""
    page = event_page(event, series=series[series_key(event)], source_names=names)
    head, end = _one_event_frame()
    return page.encode(), head + (vevents.get(event.uid) or ics.vevent(event)) + end


@functools.cache
def _one_event_frame() -> tuple[bytes, bytes]:
    """The VCALENDAR around a one-event file, made once: the same for every event (making
    it costs milliseconds, which 20,000 event files would multiply)."""
    head, end = ics.calendar_chunks(
        uid="famcal-termin@famcal-hannover",
        name="Familienkalender Hannover",
        description="Ein Termin aus dem Familienkalender Hannover.",
        vevents=[],
    )
    return head, end


def health_html(health: Mapping[str, Any]) -> bytes:
    return health_page(health).encode()
