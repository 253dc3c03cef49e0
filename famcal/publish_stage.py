"""The publish stage: the feeds, ``index.html``, the reports for the city (``feeds.reports``)
and ``health.json`` from the processed events.

Contract: ``publish_stage(store, now=…, out_dir=…)`` writes every file of the published
folder (staged, so a killed publish leaves the previous files). With ``reuse``, a publish
whose inputs are those of the last one rewrites only health.json, health.html and
aenderungen.json. Each shown event's serialized forms come from the last publish where
neither the event nor the code that serializes it changed; an event page is rendered only
when its inputs changed since the page the folder holds (``feeds.site.pagekeys``), so a
publish after one event changed rewrites that event's two files and the feeds, lists and
index that show it; a feed file whose inputs and size on disk are those of the last publish
is not even joined (``feeds.publish.FeedMarks``, meta ``publish_feed_marks``), nor is a site
index file, language page or list page whose marks match (``feeds.site.site_files``). The
event pages are rendered and staged by forked workers (``feeds.site.EventFiles.start``)
while this process joins the feeds and builds the index; a failure anywhere stops them
before the staging folder goes. The render cache is saved while the page workers finish
(keyed, it is valid whether or not the publish completes); the page cache and the feed marks
after the renames (the feed marks, and the marks of the pages being rewritten, are cleared
before them). The reports compare with the history the last publish stored (meta
``report_history``).
``aenderungen.json`` (always written, ``[]`` when none) lists the UIDs gone for good of the
last ``GONE_DAYS`` (``pipeline.lifecycle.gone_for_good``, from the store), for the change feed:
``[{"id", "date_modified", "_replaced_by"}]``.
``FormsAhead`` serializes a process stage's new and changed events in the background from
the moment they are final (``famcal.process_stage``'s ``on_tracked``), on the cores the
process stage's store writes leave idle; given as ``ahead``, the publish takes those forms
for the events it would serialize (the same event objects, so the same bytes).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.model import BERLIN, Event
from core.parallel import MIN_PARALLEL, Started, map_chunks, start_chunks
from core.paths import data_digest
from core.store import Store
from core.window import window
from famcal import __version__
from feeds.health import health_document
from feeds.publish import (
    Content,
    FeedMark,
    FeedMarks,
    PublishReport,
    Serialized,
    TagViews,
    feed_specs,
    in_window,
    iter_rendered,
    json_bytes,
    render_key,
    serialize,
    window_events,
    write_files,
    write_staged,
)
from feeds.reports import REPORT_FILES, Reports, build_reports, report_files
from feeds.site import PRUNED, health_html, plan_event_files, site_files
from feeds.site.entries import event_key
from feeds.site.pagekeys import EventPages, PageMark
from pipeline.lifecycle import gone_for_good


def publish_stage(
    store: Store,
    *,
    now: datetime,
    out_dir: Path,
    base_url: str | None = None,
    reuse: bool = False,
    events: Sequence[Event] | None = None,
    stored_digests: Mapping[str, str] | None = None,
    ahead: FormsAhead | None = None,
) -> PublishReport:
    """Write the feeds, the page and health.json. With ``reuse``, a publish whose inputs
    (the processed events in the window, the next family events, the address, the rules)
    are those of the last one rewrites only health.json. ``events`` (and their stored JSON
    by uid) are the ones the process stage just saved, if it ran (``ProcessReport``)."""
    processed = store.latest_processed()
    signature = _publish_signature(store, processed, now=now, base_url=base_url)
    health_doc = health_document(store.all_source_health(), now=now)
    health = json_bytes(health_doc)
    # Small and dependent on "now" (its entries age out): written on every publish, and
    # left untouched by the staging when its bytes are the same.
    gone = _gone_bytes(store, now=now)
    if reuse and signature == store.meta("publish_signature") and _all_published(out_dir):
        report = PublishReport(feeds=json.loads(store.meta("publish_feeds") or "{}"))
        again = {"health.json": health, "health.html": health_html(health_doc), GONE_FILE: gone}
        write_files(out_dir, again, report)
        return report
    if events is None:
        events = store.events(processed=processed) if processed is not None else []
    # Sorted once: every writer below takes the window's events (``WindowEvents``).
    events = window_events(events, now)
    report = PublishReport()
    known, keys, made = _serialized_forms(
        store, events, now=now, stored_digests=stored_digests or {}, ahead=ahead
    )
    pages = EventPages(
        keys=keys, published=_published_pages(store, out_dir), salt=str(out_dir.resolve())
    )

    feeds = FeedMarks(keys=keys, published=_published_feeds(store, out_dir), salt=pages.salt)
    # Forgotten until this publish's are saved: a publish that fails after some renames
    # must not leave marks that name inputs its files no longer have (a later publish of
    # those inputs would keep a file of the same size but other bytes).
    store.set_meta(FEED_MARKS, "{}")
    vevents = {uid: form.vevent for uid, form in known.items()}
    event_files = plan_event_files(events, now=now, health=health_doc, vevents=vevents, pages=pages)
    # The same for the pages about to be rewritten: a publish that fails after their renames
    # must not leave the last publish's marks on them (a later publish of that publish's
    # inputs would keep a page of the same size but other bytes); saved anew after the renames.
    store.forget_pages(e.uid for e in event_files.todo)

    saved: list[bool] = []
    views = TagViews()  # the events' tag views, for the feeds and then the site
    history = store.meta("report_history")
    reports: Reports | None = None  # built in files(), once the page workers run

    def save_forms() -> None:
        # The render cache is keyed (equal keys, equal forms): valid whether or not this
        # publish completes, so it is saved while the page workers finish, not after.
        if not saved:
            store.save_forms({uid: (keys[uid], f.forms()) for uid, f in made.items()}, keep=keys)
            saved.append(True)

    def files() -> Iterator[tuple[str, Content]]:
        nonlocal reports
        # The event pages are rendered and staged by workers from here on (inside the
        # staging: it cleared a killed publish's leftovers), while this process joins the
        # feeds and builds the index; leaving (a failure too) stops the workers.
        with event_files.start(out_dir, meanwhile=save_forms):
            # The city's reports are this process's work alone (a core idled while it built
            # them before the page workers started, issue #20).
            reports = build_reports(events, now=now, history=history)
            yield from iter_rendered(
                events,
                now=now,
                base_url=base_url,
                report=report,
                known=known,
                marks=feeds,
                views=views,
            )
            # After the feeds: the site shows their counts.
            yield from site_files(
                events,
                report,
                now=now,
                base_url=base_url,
                health=health_doc,
                vevents=vevents,
                pages=pages,
                event_files=event_files,
                marks=feeds,
                views=views,
            )
        yield from report_files(reports, base_url=base_url)
        # health.json carries the run's time ("generated"), so it is the one file that
        # changes on every run; the feeds and index.html change only with the events.
        yield "health.json", health
        yield GONE_FILE, gone

    write_staged(out_dir, files(), report, prune=PRUNED, kept=pages.kept)
    # The page cache and the feed marks after the renames: a page or feed is recorded as
    # published only once it is.
    store.save_pages(pages.made)
    store.set_meta(FEED_MARKS, json.dumps(feeds.made, sort_keys=True))
    save_forms()  # (done already, unless the site had no page step)
    store.set_meta("publish_signature", signature)
    store.set_meta("publish_feeds", json.dumps(report.feeds, sort_keys=True))
    assert reports is not None  # files() ran to its end
    store.set_meta("report_history", reports.history_json())
    return report


def _serialized_forms(
    store: Store,
    events: Sequence[Event],
    *,
    now: datetime,
    stored_digests: Mapping[str, str],
    ahead: FormsAhead | None = None,
) -> tuple[dict[str, Serialized], dict[str, str], dict[str, Serialized]]:
    """Each shown event's serialized forms, its render key and the forms made now: from the
    last publish where the event (and the code and labels that serialize it) did not
    change, from ``ahead`` where it made them, freshly made over every core for the rest
    (stored by the caller for the next publish)."""
    shown = window_events(events, now)
    keys = {event.uid: render_key(event, stored_digests.get(event.uid)) for event in shown}
    forms: dict[str, Serialized] = {}
    for uid, (key, cached) in store.cached_forms().items():
        if keys.get(uid) == key:
            forms[uid] = Serialized.from_forms(cached)
    todo = [event for event in shown if event.uid not in forms]
    made = ahead.take(todo) if ahead is not None else {}
    todo = [event for event in todo if event.uid not in made]
    made.update(zip((e.uid for e in todo), map_chunks(serialize, todo), strict=True))
    forms.update(made)
    return forms, keys, made


class FormsAhead:
    """Serialization begun before the publish (the module's contract). ``start`` forks the
    workers (at low priority, so the process stage's own work keeps its cores; not at all
    for fewer events than pay for workers); ``take`` waits for them, or stops them when the
    publish needs less than half of their forms (and serializes those itself); leaving
    ``with`` stops them."""

    def __init__(self, now: datetime, *, min_items: int = MIN_PARALLEL) -> None:
        self.now, self.min_items = now, min_items
        self._events: dict[str, Event] = {}
        self._pending: Started[Serialized] | None = None

    def start(self, events: Sequence[Event]) -> None:
        shown = [event for event in events if in_window(event, self.now)]
        pending = start_chunks(
            serialize, shown, min_items=self.min_items, chunk=AHEAD_CHUNK, nice=AHEAD_NICE
        )
        if not pending.in_background:  # serial: the publish serializes what it needs itself
            pending.cancel()
            return
        self.cancel()
        self._events, self._pending = {event.uid: event for event in shown}, pending

    def take(self, todo: Sequence[Event]) -> dict[str, Serialized]:
        """The forms made ahead of those of ``todo`` they were made for (the same event
        objects: an event made again since has other ones)."""
        wanted = [event.uid for event in todo if self._events.get(event.uid) is event]
        # Taking waits for all the workers' work: worth it only for most of it.
        if self._pending is None or 2 * len(wanted) < len(self._events):
            self.cancel()
            return {}
        made = dict(zip(self._events, self._pending.results(), strict=True))
        self._events, self._pending = {}, None
        return {uid: made[uid] for uid in wanted}

    def cancel(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
        self._events, self._pending = {}, None

    def __enter__(self) -> FormsAhead:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cancel()


# Handed out a few hundred at a time: the publish, if it comes before the workers are done,
# takes the chunks they have not begun. Niceness 10: a weight of about a tenth of the
# process stage's own processes while they run, the whole core once they wait.
AHEAD_CHUNK = 400
AHEAD_NICE = 10


def _published_pages(store: Store, out_dir: Path) -> dict[str, PageMark]:
    """The event pages of the last publish that the folder holds as written (both files
    there, of the sizes written: one listing of the folder, no stat per page)."""
    folder = out_dir / "termine"  # where feeds.site puts the event pages
    try:
        with os.scandir(folder) as listing:
            sizes = {entry.name: entry.stat().st_size for entry in listing if entry.is_file()}
    except OSError:
        return {}
    return {
        uid: mark
        for uid, mark in store.published_pages().items()
        if sizes.get(f"{event_key(uid)}.html") == mark[1]
        and sizes.get(f"{event_key(uid)}.ics") == mark[2]
    }


def _published_feeds(store: Store, out_dir: Path) -> dict[str, FeedMark]:
    """The feed files of the last publish that the folder holds as written (their marks,
    ``feeds.publish.FeedMarks``; the sizes checked as the event pages' are)."""
    marks: dict[str, list[Any]] = json.loads(store.meta(FEED_MARKS) or "{}")
    held = {}
    for name, (key, size) in marks.items():
        try:
            if (out_dir / name).stat().st_size == size:
                held[name] = (str(key), int(size))
        except OSError:
            continue
    return held


FEED_MARKS = "publish_feed_marks"
GONE_FILE = "aenderungen.json"


def _gone_bytes(store: Store, *, now: datetime) -> bytes:
    gone = gone_for_good(store.cancelled_rows(), now=now)
    return (json.dumps(gone, ensure_ascii=False, indent=1) + "\n").encode()


def _publish_signature(
    store: Store, processed: int | None, *, now: datetime, base_url: str | None
) -> str:
    lo, hi = window(now)
    shown, upcoming = (
        store.window_keys(
            processed,
            start_from=lo.astimezone(UTC).isoformat(),
            start_to=hi.astimezone(UTC).isoformat(),
            upcoming_from=now.astimezone(UTC).isoformat(),
        )
        if processed is not None
        else ([], [])
    )
    # The local date too: the reports' weeks and weekend move with it.
    day = now.astimezone(BERLIN).date().isoformat()
    parts = [__version__, data_digest(), base_url or "", day, str(processed), *shown, "|"]
    parts += upcoming
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _all_published(out_dir: Path) -> bool:
    names = [f"{spec.path}.{ext}" for spec in feed_specs() for ext in ("ics", "json")]
    names = [*names, "index.html", *REPORT_FILES, GONE_FILE]
    return all((out_dir / name).is_file() for name in names)
