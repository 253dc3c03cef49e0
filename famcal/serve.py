"""``famcal serve``: the published folder over HTTP, and filtered feeds computed on request.

Contract:
- Files under the folder only: no path traversal (the resolved path must stay inside the
  folder), no hidden files (the ``.NAME.tmp`` files of an atomic write), 404 otherwise.
  ``/`` is ``index.html``.
- ``.ics`` as ``text/calendar; charset=utf-8`` (inline), ``.json`` as
  ``application/feed+json``, ``.jsonld`` as ``application/ld+json``; strong ETag from the
  content, Last-Modified from the file; 304 for a matching If-None-Match (or, without it,
  If-Modified-Since). GET and HEAD.
- ``/feed.ics`` and ``/feed.json``: the family events of ``alle`` that match every given
  filter, computed on request from the published ``alle.json`` (the ``_event`` objects) and
  ``alle.ics`` (each event's VEVENT as published), so no combination is precomputed.
  Filters: ``bezirk`` (district slug), ``alter`` (age group), ``thema`` (topic slug), each
  also comma-separated or repeated for "any of"; ``kostenlos=1`` (free only; ``0`` = no
  filter). An unknown parameter or value is a 400 with a German message naming the allowed
  values. ETag/Last-Modified/304 as for files (the ETag is the filtered body's hash).
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import posixpath
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import icalendar

from feeds import ics, jsonfeed
from feeds.filters import FACETS, BadRequest, Match, Query, parse_query
from feeds.labels import labels

CONTENT_TYPES = {
    ".ics": "text/calendar; charset=utf-8",
    ".json": "application/feed+json; charset=utf-8",
    ".jsonld": "application/ld+json; charset=utf-8",
    ".html": "text/html; charset=utf-8",
}


def query_title(query: Query) -> str:
    """'Familienkalender Hannover: Linden-Limmer, 3 bis 5 Jahre, kostenlos'."""
    names = labels()
    parts: list[str] = []
    for facet in FACETS:
        chosen = query.facets.get(facet.param, frozenset())
        if facet.match is Match.FLAG:
            parts += [facet.label] if chosen else []
            continue
        table = names.get(facet.labels, {})
        parts += [table.get(v, f"{v} Jahre") for v in facet.allowed() if v in chosen]
    return "Familienkalender Hannover" + (": " + ", ".join(parts) if parts else "")


def read_query(text: str) -> Query:
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text))
    except ValueError as exc:
        raise BadRequest(f"Die Anfrage ist nicht lesbar: {exc}") from None
    return parse_query(pairs)


@dataclass(frozen=True, kw_only=True)
class Published:
    """``alle`` as published: per event its ``_event`` object, JSON item text and VEVENT."""

    stamp: tuple[int, ...]
    modified: datetime
    events: list[tuple[dict[str, Any], str, bytes]]

    @classmethod
    def load(cls, root: Path, stamp: tuple[int, ...], modified: datetime) -> Published:
        items = json.loads((root / "alle.json").read_bytes())["items"]
        calendar = icalendar.Calendar.from_ical((root / "alle.ics").read_bytes())
        vevents = {str(e["UID"]): e.to_ical() for e in calendar.events}
        return cls(
            stamp=stamp,
            modified=modified,
            events=[
                (i["_event"], jsonfeed.dump_item(i), vevents[i["id"]])
                for i in items
                if i["id"] in vevents
            ],
        )


class FeedSource:
    """Loads ``alle`` once per change of its files (by mtime and size), thread-safe."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._cached: Published | None = None

    def get(self) -> Published:
        paths = [self.root / "alle.json", self.root / "alle.ics"]
        stats = [p.stat() for p in paths]
        stamp = tuple(v for s in stats for v in (s.st_mtime_ns, s.st_size))
        modified = datetime.fromtimestamp(int(max(s.st_mtime for s in stats)), tz=UTC)
        with self._lock:
            if self._cached is None or self._cached.stamp != stamp:
                self._cached = Published.load(self.root, stamp, modified)
            return self._cached

    def render(self, query: Query, suffix: str) -> tuple[bytes, datetime]:
        published = self.get()
        now = datetime.now(UTC)  # the visitor's "today" for zeit=; the server's clock
        chosen = [
            (item, vevent) for obj, item, vevent in published.events if query.accepts(obj, now=now)
        ]
        title = query_title(query)
        description = f"Familienveranstaltungen in Hannover, gefiltert: {query.key()}"
        if suffix == ".ics":
            body = ics.calendar(
                uid=f"famcal-feed-{hashlib.sha256(query.key().encode()).hexdigest()[:16]}"
                "@famcal-hannover",
                name=title,
                description=description,
                vevents=(vevent for _, vevent in chosen),
            )
        else:
            body = jsonfeed.feed(
                title=title, description=description, items=(item for item, _ in chosen)
            )
        return body, published.modified


def make_handler(root: Path) -> type[BaseHTTPRequestHandler]:
    root = root.resolve()
    source = FeedSource(root)

    class Handler(BaseHTTPRequestHandler):
        server_version = "famcal"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_HEAD(self) -> None:
            self._answer(head=True)

        def do_GET(self) -> None:
            self._answer(head=False)

        def _answer(self, *, head: bool) -> None:
            parts = urlsplit(self.path)
            path = posixpath.normpath(unquote(parts.path))
            if path in ("/feed.ics", "/feed.json"):
                self._filtered(path, parts.query, head=head)
                return
            target = self._resolve(path)
            if target is None:
                self.send_error(404, "Not Found")
                return
            modified = datetime.fromtimestamp(int(target.stat().st_mtime), tz=UTC)
            self._send(target.read_bytes(), target.suffix, modified, head=head)

        def _filtered(self, path: str, query_text: str, *, head: bool) -> None:
            try:
                query = read_query(query_text)
            except BadRequest as exc:
                self._plain(400, str(exc), head=head)
                return
            try:
                body, modified = source.render(query, posixpath.splitext(path)[1])
            except (OSError, ValueError, KeyError) as exc:
                # No published feeds yet, or a half-read folder: say so, do not crash.
                self._plain(503, f"Keine veröffentlichten Kalender: {exc}", head=head)
                return
            self._send(body, posixpath.splitext(path)[1], modified, head=head)

        def _resolve(self, path: str) -> Path | None:
            if path in ("/", "."):
                path = "/index.html"
            relative = path.lstrip("/")
            if any(part.startswith(".") for part in relative.split("/")):
                return None
            target = (root / relative).resolve()
            if not target.is_relative_to(root) or not target.is_file():
                return None
            return target

        def _plain(self, status: int, message: str, *, head: bool) -> None:
            data = (message + "\n").encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if not head:
                self.wfile.write(data)

        def _send(self, data: bytes, suffix: str, modified: datetime, *, head: bool) -> None:
            etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
            headers: dict[str, str] = {
                "ETag": etag,
                "Last-Modified": email.utils.format_datetime(modified, usegmt=True),
                "Cache-Control": "public, max-age=3600",
            }
            if self._not_modified(etag, modified):
                self.send_response(304)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", CONTENT_TYPES.get(suffix, "application/octet-stream"))
            self.send_header("Content-Length", str(len(data)))
            if suffix in (".json", ".jsonld"):
                # For websites that fetch the JSON from their own pages.
                self.send_header("Access-Control-Allow-Origin", "*")
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            if not head:
                self.wfile.write(data)

        def _not_modified(self, etag: str, modified: datetime) -> bool:
            match = self.headers.get("If-None-Match")
            if match is not None:
                # RFC 9110: If-None-Match wins over If-Modified-Since; weak comparison.
                tags = [m.strip().removeprefix("W/") for m in match.split(",")]
                return etag in tags or match.strip() == "*"
            since = self.headers.get("If-Modified-Since")
            if since:
                try:
                    return modified <= email.utils.parsedate_to_datetime(since)
                except (TypeError, ValueError):
                    return False
            return False

    return Handler


def make_server(root: Path, *, host: str = "127.0.0.1", port: int = 8080) -> ThreadingHTTPServer:
    return ThreadingHTTPServer((host, port), make_handler(root))


def _announce(message: str) -> None:
    print(message, flush=True)  # stdout may be a pipe or a log file: say it now


def serve_forever(
    root: Path, *, host: str, port: int, announce: Callable[[str], None] = _announce
) -> None:
    server = make_server(root, host=host, port=port)
    base = f"http://{host}:{server.server_address[1]}"
    announce(f"famcal serve: {root}/ on {base}/ (filtered: {base}/feed.ics?bezirk=…&alter=…)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
