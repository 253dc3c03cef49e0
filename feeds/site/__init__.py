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
from feeds.filters import BY_PARAM, end_instant, site_declaration
from feeds.jsonfeed import event_object
from feeds.labels import labels
from feeds.publish import Content, PublishReport, feed_specs, window_events
from feeds.site.entries import (
    FoldedWords,
    card,
    event_key,
    index_entry,
    search_words,
    series_key,
)
from feeds.site.i18n import LANGUAGES, SOURCE_LANGUAGE, translations
from feeds.site.pagekeys import EventPages, page_digest, series_digest
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


def index_files(
    family: Sequence[Event], objects: Sequence[Mapping[str, Any]], *, now: datetime
) -> Iterator[tuple[str, bytes]]:
    """``site/index.json``, ``site/words.json`` and the month files (the module's contract)."""
    until = (now.astimezone(BERLIN).date() + timedelta(days=NEAR_DAYS)).isoformat()
    near: tuple[list[dict[str, Any]], list[str]] = ([], [])
    months: dict[str, tuple[list[dict[str, Any]], list[str]]] = {}
    folded = FoldedWords()  # the events' words, each folded once
    for event, obj in zip(family, objects, strict=True):
        if end_instant(obj) <= now:
            continue  # ended before the publish: no visitor's list shows it
        entry = index_entry(event, obj)
        part = near if entry["d0"] <= until else months.setdefault(entry["d0"][:7], ([], []))
        part[0].append(entry)
        part[1].append(search_words(obj, folded))
    order = sorted(months)
    yield "site/index.json", _compact({
        "declaration": site_declaration(),
        "events": near[0],
        "until": until,
        "months": [{"m": m, "n": len(months[m][0])} for m in order],
    })  # fmt: skip
    yield "site/words.json", _compact({"words": near[1]})
    for m in order:
        yield f"site/index-{m}.json", _compact({"events": months[m][0], "words": months[m][1]})


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
) -> Iterator[tuple[str, Content]]:
    if event_files is None:
        event_files = plan_event_files(events, now=now, health=health, vevents=vevents, pages=pages)
    family = event_files.family
    for name in STATIC:
        yield f"site/{name}", data_file("site", "static", name).read_bytes()
    objects = [event_object(e) for e in family]
    yield from index_files(family, objects, now=now)
    upcoming = [e for e, obj in zip(family, objects, strict=True) if end_instant(obj) > now]
    views = [e.tags.to_dict() if e.tags else {} for e in upcoming]
    for lang in LANGUAGES:
        html = index_page(
            lang.code,
            [card(e) for e in upcoming[:STATIC_CARDS]],
            more=len(upcoming) > STATIC_CARDS,
            directory=_directory(report, lang.code),
            base_url=base_url,
        )
        path = "index.html" if lang.code == SOURCE_LANGUAGE else f"{lang.code}/index.html"
        yield path, html.encode()
    for param in LIST_PAGES:
        facet = BY_PARAM[param]
        assert facet.feeds is not None
        for value in facet.values:
            chosen = frozenset((value,))
            members = [e for e, v in zip(upcoming, views, strict=True) if facet.accepts(v, chosen)]
            heading = labels()[facet.labels][value]
            feed = f"{facet.feeds.folder}/{value}"
            cards = [card(e) for e in members[:LIST_CARDS]]
            listing = list_page(heading, feed, cards, more=len(members) > LIST_CARDS)
            yield f"{feed}.html", listing.encode()
    yield from event_files.files()
    yield "health.html", health_html(health)


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
        # system time than the wall time they saved).
        self.job = start_chunks(
            stage, self.todo, min_items=PARALLEL_PAGES, processes=max(1, workers() - 1)
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
