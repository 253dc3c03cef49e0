"""publish: write every feed of contract.md, atomically and deterministically.

Contract: ``publish(events, out_dir=…, now=…, base_url=…) -> PublishReport``.
- Feeds: ``alle``, ``familie``, ``kostenlos``, ``bezirk/<13>``, ``alter/<5>``, ``thema/<9>``,
  each as ``.ics`` and ``.json``, always present (empty when nothing matches).
- The window: events starting from 30 days before ``now`` to 365 days after.
- Each event is serialized once (VEVENT bytes and JSON item) and reused by all its feeds.
- A file is written only when its bytes change (temporary file + rename), so a run with no
  changes rewrites nothing and a failed publish leaves the previous files in place.
"""

from __future__ import annotations

import functools
import json
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from famcal.model import AgeGroup, District, Event, Topic
from feeds import ics, jsonfeed
from feeds.labels import labels

WINDOW_BEFORE = timedelta(days=30)
WINDOW_AFTER = timedelta(days=365)


@dataclass(frozen=True, kw_only=True)
class FeedSpec:
    path: str  # without extension, relative to the published folder
    title: str
    description: str
    group: str
    accepts: Callable[[Event], bool]


@dataclass(kw_only=True)
class PublishReport:
    feeds: dict[str, int] = field(default_factory=dict)  # path -> event count
    written: list[str] = field(default_factory=list)
    unchanged: int = 0


def _family(e: Event) -> bool:
    return bool(e.tags and e.tags.family)


def _in_district(district: District, e: Event) -> bool:
    return _family(e) and e.tags is not None and e.tags.district == district


def _in_age_group(group: AgeGroup, e: Event) -> bool:
    return _family(e) and e.tags is not None and group in e.tags.age_groups


def _on_topic(topic: Topic, e: Event) -> bool:
    return _family(e) and e.tags is not None and topic in e.tags.topics


def feed_specs() -> list[FeedSpec]:
    names = labels()
    specs = [
        FeedSpec(
            path="alle",
            title="Hannover: alle Veranstaltungen",
            group="Überblick",
            description="Alle gesammelten Veranstaltungen in Hannover und der Region.",
            accepts=lambda e: True,
        ),
        FeedSpec(
            path="familie",
            title="Familienkalender Hannover",
            group="Überblick",
            description="Veranstaltungen für Kinder, Jugendliche und Familien.",
            accepts=_family,
        ),
        FeedSpec(
            path="kostenlos",
            title="Familienkalender Hannover: kostenlos",
            group="Überblick",
            description="Kostenlose Veranstaltungen für Familien.",
            accepts=lambda e: _family(e) and bool(e.tags and e.tags.free),
        ),
    ]
    for district in District:
        label = names["districts"][district.value]
        specs.append(
            FeedSpec(
                path=f"bezirk/{district.value}",
                title=f"Familienkalender Hannover: {label}",
                group="Stadtbezirke",
                description=f"Familienveranstaltungen im Stadtbezirk {label}.",
                accepts=functools.partial(_in_district, district),
            )
        )
    for group in AgeGroup:
        label = names["age_groups"][group.value]
        specs.append(
            FeedSpec(
                path=f"alter/{group.value}",
                title=f"Familienkalender Hannover: {label}",
                group="Alter",
                description=f"Familienveranstaltungen für Kinder von {label}.",
                accepts=functools.partial(_in_age_group, group),
            )
        )
    for topic in Topic:
        label = names["topics"][topic.value]
        specs.append(
            FeedSpec(
                path=f"thema/{topic.value}",
                title=f"Familienkalender Hannover: {label}",
                group="Themen",
                description=f"Familienveranstaltungen zum Thema {label}.",
                accepts=functools.partial(_on_topic, topic),
            )
        )
    return specs


def in_window(event: Event, now: datetime) -> bool:
    start = event.start_datetime()
    return now - WINDOW_BEFORE <= start <= now + WINDOW_AFTER


def write_if_changed(path: Path, data: bytes) -> bool:
    """Atomically replace ``path`` with ``data``; False (and no write) when already equal."""
    try:
        if path.read_bytes() == data:
            return False
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def publish(
    events: Sequence[Event],
    *,
    out_dir: Path,
    now: datetime,
    base_url: str | None = None,
) -> PublishReport:
    report = PublishReport()
    shown = sorted(
        (e for e in events if in_window(e, now)),
        key=lambda e: (e.start_datetime(), e.uid),
    )
    vevents = {e.uid: ics.vevent(e) for e in shown}
    items = {e.uid: jsonfeed.item(e) for e in shown}
    for spec in feed_specs():
        members = [e for e in shown if spec.accepts(e)]
        report.feeds[spec.path] = len(members)
        url = f"{base_url.rstrip('/')}/{spec.path}.json" if base_url else None
        outputs = {
            f"{spec.path}.ics": ics.calendar(
                uid=f"famcal-{spec.path.replace('/', '-')}@famcal-hannover",
                name=spec.title,
                description=spec.description,
                vevents=(vevents[e.uid] for e in members),
            ),
            f"{spec.path}.json": jsonfeed.feed(
                title=spec.title,
                description=spec.description,
                items=(items[e.uid] for e in members),
                feed_url=url,
                home_page_url=base_url,
            ),
        }
        for name, data in outputs.items():
            if write_if_changed(out_dir / name, data):
                report.written.append(name)
            else:
                report.unchanged += 1
    return report


def write_json(path: Path, document: dict[str, Any]) -> bool:
    data = (json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode()
    return write_if_changed(path, data)
