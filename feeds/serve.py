"""``famcal serve``: the published folder over HTTP.

Contract: files under the folder only (no path traversal), ``.ics`` as
``text/calendar; charset=utf-8`` (inline), ``.json`` as ``application/feed+json``,
strong ETag from the content and Last-Modified from the file, 304 for a matching
If-None-Match or If-Modified-Since.
"""

from __future__ import annotations

import email.utils
import hashlib
import posixpath
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

CONTENT_TYPES = {
    ".ics": "text/calendar; charset=utf-8",
    ".json": "application/feed+json; charset=utf-8",
    ".html": "text/html; charset=utf-8",
}


def make_handler(root: Path) -> type[BaseHTTPRequestHandler]:
    root = root.resolve()

    class Handler(BaseHTTPRequestHandler):
        server_version = "famcal"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_HEAD(self) -> None:
            self._send(head=True)

        def do_GET(self) -> None:
            self._send(head=False)

        def _resolve(self) -> Path | None:
            path = posixpath.normpath(unquote(urlsplit(self.path).path))
            if path in ("/", "."):
                path = "/index.html"
            target = (root / path.lstrip("/")).resolve()
            if not target.is_relative_to(root) or not target.is_file():
                return None
            return target

        def _send(self, *, head: bool) -> None:
            target = self._resolve()
            if target is None:
                self.send_error(404, "Not Found")
                return
            data = target.read_bytes()
            etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
            modified = datetime.fromtimestamp(int(target.stat().st_mtime), tz=UTC)
            if self._not_modified(etag, modified):
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header(
                "Content-Type", CONTENT_TYPES.get(target.suffix, "application/octet-stream")
            )
            self.send_header("Content-Length", str(len(data)))
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", email.utils.format_datetime(modified, usegmt=True))
            self.send_header("Cache-Control", "public, max-age=3600")
            self.end_headers()
            if not head:
                self.wfile.write(data)

        def _not_modified(self, etag: str, modified: datetime) -> bool:
            match = self.headers.get("If-None-Match")
            if match is not None:
                return etag in [m.strip() for m in match.split(",")] or match.strip() == "*"
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


def serve_forever(root: Path, *, host: str, port: int) -> None:
    server = make_server(root, host=host, port=port)
    print(f"famcal serve: {root}/ on http://{host}:{server.server_address[1]}/")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
