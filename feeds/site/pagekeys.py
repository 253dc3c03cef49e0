"""Which event pages a publish must render: a digest of each page's inputs (issue #20).

Contract (no I/O besides reading the bundled templates and catalogues once):
- ``page_digest(render_key, series, names, salt=…)``: equal digests, equal bytes of
  ``termine/<key>.html`` and ``termine/<key>.ics``. The inputs: the event's render key
  (``feeds.publish.render_key``: its full JSON, the label data, the feed writers' code —
  ``feeds.site`` included), what the page shows of the other dates of its series
  (``series_digest``: their UIDs, starts, ends, all-day flags), the names of its sources,
  the site's templates and catalogues (``site_digest``) and the caller's ``salt`` (the
  published folder, so a page is never taken as current in a folder it was not written to).
- ``EventPages``: what the publish stage hands ``feeds.site.site_files``: the render keys
  by UID and the pages the folder holds (``published``: UID -> ``PageMark``, already checked
  against the files). ``site_files`` skips an event whose digest equals its published one
  (neither rendered nor yielded; its two file names go to ``kept``) and records every
  event page of the publish in ``made`` (the caller stores it after the renames).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache

from core.model import Event
from core.paths import data_file

# (page digest, bytes of the .html, bytes of the .ics): the sizes let the caller check that
# the files on disk are the ones written (a power loss may leave a renamed file short).
PageMark = tuple[str, int, int]


@dataclass(kw_only=True)
class EventPages:
    keys: Mapping[str, str]  # uid -> render key of the event
    published: Mapping[str, PageMark]  # uid -> the pages the folder holds now
    salt: str = ""
    made: dict[str, PageMark] = field(default_factory=dict)  # uid -> this publish's pages
    kept: list[str] = field(default_factory=list)  # names of files left as published

    def current(self, uid: str, digest: str | None) -> bool:
        mark = self.published.get(uid)
        return digest is not None and mark is not None and mark[0] == digest


@cache
def site_digest() -> str:
    """The templates and catalogues the pages are made from."""
    digest = hashlib.sha256()
    for folder in ("templates", "locale"):
        root = data_file("site", folder)
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def _stamp(value: date | datetime | None) -> str:
    return value.isoformat() if value is not None else ""


def series_digest(members: Iterable[Event]) -> str:
    """What an event page shows of its series' dates (the same for every member)."""
    text = "\n".join(
        f"{o.uid}\x1f{_stamp(o.start)}\x1f{_stamp(o.end)}\x1f{int(o.all_day)}" for o in members
    )
    return hashlib.sha256(text.encode()).hexdigest()


def page_digest(render_key: str, series: str, names: Iterable[str], *, salt: str) -> str:
    text = "\x1e".join((site_digest(), salt, render_key, series, "\x1f".join(names)))
    return hashlib.sha256(text.encode()).hexdigest()
