"""``famcal serve``: the published folder over HTTP, filtered feeds and the change feed
computed on request.

Why Starlette under uvicorn (and not the standard library's ``ThreadingHTTPServer``): an ASGI
stack that is maintained and used widely, whose static-file part already does ETag,
Last-Modified, 304, HEAD and traversal checks, with gzip (``GZipMiddleware``) and CORS
(``CORSMiddleware``) built in; uvicorn serves many clients from one event loop (a slow or
half-open client holds a socket, not a thread) and closes idle keep-alive connections after a
timeout. The hand-written server failed requests at 100 concurrent clients and answered
``OPTIONS`` with 501.

Contract:
- Files under the folder only: no path traversal, no hidden files (the ``.NAME.tmp`` files
  of an atomic write), 404 otherwise. ``/`` is ``index.html``. GET and HEAD; ETag and
  Last-Modified with 304 (If-None-Match wins over If-Modified-Since).
- Media types by file (``media_type``): ``.ics`` ``text/calendar; charset=utf-8`` (inline),
  the JSON feeds ``application/feed+json``, ``health.json`` (and other non-feed JSON)
  ``application/json``, ``.jsonld`` ``application/ld+json``, html/js/css/svg/csv/txt theirs.
- Every answer carries ``Access-Control-Allow-Origin: *`` (also without an ``Origin``
  header, so a shared cache never keeps a copy without it); ``OPTIONS`` is answered (a CORS
  preflight by ``CORSMiddleware``, any other with 204 and ``Allow``). gzip only when the
  request's ``Accept-Encoding`` names it (some Outlook versions fail on unasked gzip).
- ETags are content-based (a digest of the bytes), ``"<digest>"`` plain and
  ``"<digest>-gzip"`` compressed, with ``Vary: Accept-Encoding``; each body is compressed
  once per ETag and kept (``Encoded``, bounded), not on every request. Files over
  ``CACHED_FILE_BYTES`` are streamed as they are, uncompressed.
- ``/feed.ics`` and ``/feed.json``: the family events of ``alle`` that match every filter of
  ``feeds.filters`` (the one declaration; tracking parameters ignored, a wrong value a 400
  with a German message naming the allowed values), computed from the published
  ``alle.json`` (the ``_event`` objects) and ``alle.ics`` (each VEVENT as published).
- ``/feed.json?since=<ISO 8601>`` (contract.md, "Changes for apps", ``famcal.changes``):
  every event of ``alle`` changed after ``since`` (as filtered, when filters are given),
  oldest change first, ``limit`` per page, ``next_url`` for the rest; tombstones for UIDs
  gone for good.
- ``/embed.js``: the script partner sites paste (``famcal/static/embed.js``, README).
- "now" (for ``zeit=``) comes from the ``clock`` the caller passes.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import socket
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any

import icalendar
import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from famcal.changes import CHANGE_PARAMS, ChangeEntry, change_page, entries_of, read_change_params
from feeds import ics, jsonfeed
from feeds.filters import FACETS, BadRequest, Match, Query, parse_query
from feeds.labels import labels

MEDIA_TYPES = {
    ".ics": "text/calendar; charset=utf-8",
    ".json": "application/feed+json; charset=utf-8",
    ".jsonld": "application/ld+json; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".csv": "text/csv; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".png": "image/png",
    ".webmanifest": "application/manifest+json",
}
# JSON files of the folder that are not JSON Feeds.
PLAIN_JSON = frozenset({"health.json", "filters.json", "schema.json", "aenderungen.json"})
GONE_FILE = "aenderungen.json"  # the UIDs gone for good (famcal.publish_stage)
CACHE_CONTROL = "public, max-age=300"
STATIC = Path(__file__).parent / "static"  # embed.js: the partner sites' list (README)
GZIP_MIN_BYTES = 1024  # below this, the gzip header costs more than it saves
CACHED_FILE_BYTES = 16 << 20  # larger files are streamed, not held (nor compressed)
CACHE_BUDGET = 96 << 20  # bytes of plain and compressed bodies kept in memory


class Encoded:
    """Bodies by key with their content digest, and their gzip by digest: each body is
    read and digested once per change of its file, compressed once per digest (compressing
    400 KB on every request is what failed requests at 100 clients). Least recently used
    first out past ``budget`` bytes. Thread-safe (filtered feeds render in a thread pool)."""

    def __init__(self, budget: int = CACHE_BUDGET) -> None:
        self.budget = budget
        self._lock = threading.Lock()
        self._kept: OrderedDict[object, tuple[bytes, str]] = OrderedDict()
        self._size = 0

    def _get(self, key: object) -> tuple[bytes, str] | None:
        with self._lock:
            if (found := self._kept.get(key)) is not None:
                self._kept.move_to_end(key)
            return found

    def _put(self, key: object, value: tuple[bytes, str]) -> None:
        with self._lock:
            if key in self._kept:
                return
            self._kept[key] = value
            self._size += len(value[0])
            while self._size > self.budget and len(self._kept) > 1:
                self._size -= len(self._kept.popitem(last=False)[1][0])

    def file(self, path: Path, stat: os.stat_result) -> tuple[bytes, str]:
        key = ("file", str(path), stat.st_mtime_ns, stat.st_size)
        if (found := self._get(key)) is None:
            data = path.read_bytes()
            found = data, hashlib.sha256(data).hexdigest()[:32]
            self._put(key, found)
        return found

    def digest(self, data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()[:32]

    def gzipped(self, tag: str, data: bytes) -> bytes:
        key = ("gzip", tag)
        if (found := self._get(key)) is None:
            found = gzip.compress(data, compresslevel=6, mtime=0), tag
            self._put(key, found)
        return found[0]


def wants_gzip(request: Request) -> bool:
    """True when ``Accept-Encoding`` names gzip (or ``*``) with a q above 0."""
    for part in request.headers.get("accept-encoding", "").split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() not in ("gzip", "x-gzip", "*"):
            continue
        q = params.strip().removeprefix("q=") if params.strip().startswith("q=") else "1"
        try:
            return float(q) > 0
        except ValueError:
            return False
    return False


def encoded_response(
    request: Request,
    encoded: Encoded,
    data: bytes,
    tag: str,
    *,
    media: str,
    modified: datetime,
    status_code: int = 200,
) -> Response:
    """``data`` (or its gzip, when asked) with its content ETag, or a 304 for a match."""
    packed = wants_gzip(request) and len(data) >= GZIP_MIN_BYTES
    etag = f'"{tag}-gzip"' if packed else f'"{tag}"'
    headers = {
        "ETag": etag,
        "Last-Modified": format_datetime(modified, usegmt=True),
        "Cache-Control": CACHE_CONTROL,
        "Vary": "Accept-Encoding",
    }
    if status_code == 200 and _not_modified(request, etag, modified):
        return Response(status_code=304, headers=headers)
    if packed:
        headers["Content-Encoding"] = "gzip"
        data = encoded.gzipped(tag, data)
    return Response(data, status_code=status_code, headers=headers, media_type=media)


def media_type(path: Path) -> str:
    if path.suffix == ".json" and (path.name in PLAIN_JSON or path.parent.name == "schema"):
        return "application/json; charset=utf-8"
    return MEDIA_TYPES.get(path.suffix, "application/octet-stream")


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


@dataclass(frozen=True, kw_only=True)
class Published:
    """``alle`` as published: per event its ``_event`` object, JSON item text and VEVENT,
    and the change feed's entries ordered by (updated, uid)."""

    stamp: tuple[int, ...]
    modified: datetime
    events: list[tuple[dict[str, Any], str, bytes]]
    changes: list[ChangeEntry]

    @classmethod
    def load(cls, root: Path, stamp: tuple[int, ...], modified: datetime) -> Published:
        items = json.loads((root / "alle.json").read_bytes())["items"]
        gone_file = root / GONE_FILE
        # A folder published before the file existed: no tombstones, not an error.
        gone = json.loads(gone_file.read_bytes()) if gone_file.is_file() else []
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
            changes=entries_of(items, gone),
        )


class FeedSource:
    """Loads ``alle`` once per change of its files (by mtime and size), thread-safe, and
    keeps the last rendered bodies (a partner site's widget asks the same query often)."""

    def __init__(self, root: Path, *, clock: Callable[[], datetime], keep: int = 256) -> None:
        self.root = root
        self.clock = clock
        self.keep = keep
        self._lock = threading.Lock()
        self._cached: Published | None = None
        self._bodies: OrderedDict[tuple[object, ...], bytes] = OrderedDict()

    def get(self) -> Published:
        paths = [self.root / "alle.json", self.root / "alle.ics"]
        stats = [p.stat() for p in paths]
        if (gone := self.root / GONE_FILE).is_file():
            stats.append(gone.stat())
        stamp = tuple(v for s in stats for v in (s.st_mtime_ns, s.st_size))
        modified = datetime.fromtimestamp(int(max(s.st_mtime for s in stats)), tz=UTC)
        with self._lock:
            if self._cached is None or self._cached.stamp != stamp:
                self._cached = Published.load(self.root, stamp, modified)
                self._bodies.clear()
            return self._cached

    def _remember(self, key: tuple[object, ...], make: Callable[[], bytes]) -> bytes:
        with self._lock:
            if (body := self._bodies.get(key)) is not None:
                self._bodies.move_to_end(key)
                return body
        body = make()
        with self._lock:
            self._bodies[key] = body
            while len(self._bodies) > self.keep:
                self._bodies.popitem(last=False)
        return body

    def render(self, query: Query, suffix: str) -> tuple[bytes, datetime]:
        published = self.get()
        now = self.clock()
        # A time word's answer changes with the day (and with events ending): key it by hour.
        when = now.strftime("%Y-%m-%dT%H") if query.days else ""
        key = (published.stamp, suffix, query.key(), when)
        return self._remember(key, lambda: self._render(published, query, suffix, now)), (
            published.modified
        )

    def _render(self, published: Published, query: Query, suffix: str, now: datetime) -> bytes:
        chosen = [
            (item, vevent) for obj, item, vevent in published.events if query.accepts(obj, now=now)
        ]
        title = query_title(query)
        description = f"Familienveranstaltungen in Hannover, gefiltert: {query.key()}"
        if suffix == ".ics":
            return ics.calendar(
                uid=f"famcal-feed-{hashlib.sha256(query.key().encode()).hexdigest()[:16]}"
                "@famcal-hannover",
                name=title,
                description=description,
                vevents=(vevent for _, vevent in chosen),
            )
        return jsonfeed.feed(
            title=title, description=description, items=(item for item, _ in chosen)
        )

    def changes(
        self, query: Query, pairs: Sequence[tuple[str, str]], base_url: str
    ) -> tuple[bytes, datetime]:
        published = self.get()
        params = read_change_params(pairs)
        body = change_page(
            published.changes, query, params, pairs=pairs, base_url=base_url, now=self.clock()
        )
        return body, published.modified


class PublishedFiles(StaticFiles):
    """Starlette's static files (lookup, traversal checks, ``index.html``) without hidden
    files, with the folder's media types and the bodies of ``Encoded``."""

    def __init__(self, *, directory: Path, encoded: Encoded, html: bool = False) -> None:
        super().__init__(directory=directory, html=html)
        self.encoded = encoded

    async def get_response(self, path: str, scope: Scope) -> Response:
        if any(part.startswith(".") for part in path.split(os.sep) if part not in ("", ".")):
            raise HTTPException(status_code=404)
        return await super().get_response(path, scope)

    def file_response(
        self, full_path: Any, stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        path = Path(full_path)
        request = Request(scope)
        if stat_result.st_size > CACHED_FILE_BYTES:
            response = FileResponse(
                path,
                status_code=status_code,
                stat_result=stat_result,
                media_type=media_type(path),
                headers={"Cache-Control": CACHE_CONTROL},
            )
            if self.is_not_modified(response.headers, request.headers):
                return Response(status_code=304, headers=dict(response.headers))
            return response
        data, tag = self.encoded.file(path, stat_result)
        modified = datetime.fromtimestamp(int(stat_result.st_mtime), tz=UTC)
        return encoded_response(
            request,
            self.encoded,
            data,
            tag,
            media=media_type(path),
            modified=modified,
            status_code=status_code,
        )


def _not_modified(request: Request, etag: str, modified: datetime) -> bool:
    match = request.headers.get("if-none-match")
    if match is not None:
        tags = [m.strip().removeprefix("W/") for m in match.split(",")]
        return etag in tags or match.strip() == "*"
    since = request.headers.get("if-modified-since")
    if since:
        try:
            return modified <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False


def _filtered_endpoint(
    source: FeedSource, suffix: str, encoded: Encoded
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        pairs = list(request.query_params.multi_items())
        wants_changes = any(name in CHANGE_PARAMS for name, _ in pairs)
        try:
            query = parse_query((n, v) for n, v in pairs if n not in CHANGE_PARAMS)
            if wants_changes and suffix != ".json":
                raise BadRequest("since, limit und after gibt es nur für /feed.json.")
            if wants_changes:
                body, modified = await run_in_threadpool(
                    source.changes, query, pairs, str(request.url.replace(query=""))
                )
            else:
                body, modified = await run_in_threadpool(source.render, query, suffix)
        except BadRequest as exc:
            return PlainTextResponse(f"{exc}\n", status_code=400)
        except (OSError, ValueError, KeyError) as exc:
            # No published feeds yet, or a half-read folder: say so, do not crash.
            return PlainTextResponse(f"Keine veröffentlichten Kalender: {exc}\n", status_code=503)
        return encoded_response(
            request,
            encoded,
            body,
            encoded.digest(body),
            media=MEDIA_TYPES[suffix],
            modified=modified,
        )

    return endpoint


class PublicHeaders:
    """``Access-Control-Allow-Origin: *`` on every answer, and 204 for an ``OPTIONS`` that
    is not a CORS preflight (``CORSMiddleware`` answers those)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        names = {k.lower() for k, _ in scope["headers"]}
        preflight = b"origin" in names and b"access-control-request-method" in names
        if scope["method"] == "OPTIONS" and not preflight:
            await Response(
                status_code=204,
                headers={
                    "Allow": "GET, HEAD, OPTIONS",
                    "Access-Control-Allow-Origin": "*",
                    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
                },
            )(scope, receive, send)
            return

        async def send_public(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(k.lower() == b"access-control-allow-origin" for k, _ in headers):
                    headers.append((b"access-control-allow-origin", b"*"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_public)


def make_app(root: Path, *, clock: Callable[[], datetime]) -> Starlette:
    root = root.resolve()
    source = FeedSource(root, clock=clock)
    encoded = Encoded()
    own = PublishedFiles(directory=STATIC, encoded=encoded)

    async def embed(request: Request) -> Response:
        return await own.get_response("embed.js", request.scope)

    return Starlette(
        routes=[
            Route("/embed.js", embed, methods=["GET"]),
            Route("/feed.ics", _filtered_endpoint(source, ".ics", encoded), methods=["GET"]),
            Route("/feed.json", _filtered_endpoint(source, ".json", encoded), methods=["GET"]),
            Mount("/", PublishedFiles(directory=root, encoded=encoded, html=True)),
        ],
        middleware=[
            Middleware(PublicHeaders),
            Middleware(
                CORSMiddleware,
                allow_origins=["*"],
                allow_methods=["GET", "HEAD", "OPTIONS"],
                allow_headers=["*"],
                max_age=86400,
            ),
        ],
    )


def make_server(app: ASGIApp, *, log_level: str = "warning") -> uvicorn.Server:
    """uvicorn with timeouts for slow clients; run with ``run(sockets=[...])``."""
    return uvicorn.Server(
        uvicorn.Config(
            app,
            log_level=log_level,
            lifespan="off",
            timeout_keep_alive=5,  # an idle keep-alive connection is closed after 5 s
            access_log=False,
            server_header=False,
        )
    )


def bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


def _announce(message: str) -> None:
    print(message, flush=True)  # stdout may be a pipe or a log file: say it now


def serve_forever(
    root: Path,
    *,
    host: str,
    port: int,
    clock: Callable[[], datetime],
    announce: Callable[[str], None] = _announce,
) -> None:
    sock = bind(host, port)
    base = f"http://{host}:{sock.getsockname()[1]}"
    announce(f"famcal serve: {root}/ on {base}/ (filtered: {base}/feed.ics?bezirk=…&alter=…)")
    make_server(make_app(root, clock=clock), log_level="info").run(sockets=[sock])
