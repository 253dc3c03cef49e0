"""Shared test fixtures: a real local HTTP server whose answers tests can change between runs,
the shared corpora folder (tests skip when it is absent), and a fixed "now"."""

from __future__ import annotations

import contextlib
import functools
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from core.model import BERLIN

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
NOW = datetime(2026, 11, 25, 8, 0, tzinfo=BERLIN)


def shared_path(*parts: str) -> Path:
    """A path under ../shared/; skips the test when the folder is absent (a user's clone)."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent")
    return path


@dataclass
class Answer:
    body: bytes
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    # "reset": the connection is reset instead of answered; "drip": the body comes a byte
    # at a time; "endless": a body without length that never ends.
    fault: str = ""


class LocalSite:
    """A real HTTP server on 127.0.0.1: ``site.put(path, body)`` sets what a path answers;
    ``delay=`` seconds makes it answer late (a hung source); ``close()`` ends the waits.

    Like nginx or Apache it answers a conditional GET whose ``If-None-Match`` /
    ``If-Modified-Since`` matches the answer's ``ETag`` / ``Last-Modified`` with a 304.
    ``site.headers`` holds each request's headers; ``site.queue(path, …)`` serves answers
    in turn (the last one stays); ``fault=`` breaks the answer (see ``Answer.fault``)."""

    def __init__(self) -> None:
        self.answers: dict[str, Answer] = {"/robots.txt": Answer(b"User-agent: *\nAllow: /\n")}
        self.requests: list[str] = []
        self.agents: list[str] = []  # the User-Agent of each request
        self.headers: list[tuple[str, dict[str, str]]] = []
        self.queues: dict[str, list[Answer]] = {}
        self.closing = threading.Event()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                site.requests.append(self.path)
                site.agents.append(self.headers.get("User-Agent", ""))
                site.headers.append((self.path, dict(self.headers.items())))
                queued = site.queues.get(self.path)
                if queued and len(queued) > 1:
                    site.answers[self.path] = queued.pop(0)
                elif queued:
                    site.answers[self.path] = queued[0]
                # The exact path with its query first, then the path alone.
                answer = site.answers.get(self.path) or site.answers.get(self.path.split("?")[0])
                if answer is None:
                    self.send_error(404)
                    return
                if answer.delay and site.closing.wait(answer.delay):
                    return
                if answer.fault == "reset":
                    # RST instead of an answer: linger 0, then close.
                    self.connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
                    self.close_connection = True
                    self.connection.close()
                    return
                try:
                    if answer.status == 200 and self._not_modified(answer.headers):
                        self.send_response(304)
                        self.end_headers()
                        return
                    self.send_response(answer.status)
                    for key, value in answer.headers.items():
                        self.send_header(key, value)
                    if answer.fault != "endless":
                        self.send_header("Content-Length", str(len(answer.body)))
                    self.end_headers()
                    if answer.fault == "drip":
                        for byte in answer.body:
                            if site.closing.wait(0.2):
                                return
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                    elif answer.fault == "endless":
                        self.close_connection = True
                        while not site.closing.is_set():
                            self.wfile.write(answer.body)
                    else:
                        self.wfile.write(answer.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout under test): nothing to answer

            def finish(self) -> None:
                with contextlib.suppress(OSError, ValueError):  # a socket reset on purpose
                    super().finish()

            def _not_modified(self, headers: dict[str, str]) -> bool:
                etag, modified = headers.get("ETag"), headers.get("Last-Modified")
                if etag and self.headers.get("If-None-Match") == etag:
                    return True
                return bool(modified) and self.headers.get("If-Modified-Since") == modified

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def put(
        self,
        path: str,
        body: bytes | str,
        status: int = 200,
        content_type: str = "text/calendar; charset=utf-8",
        delay: float = 0.0,
        fault: str = "",
        **headers: str,
    ) -> str:
        self.queues.pop(path, None)
        self.answers[path] = answer(body, status, content_type, delay, fault, **headers)
        return self.base + path

    def queue(self, path: str, *answers: Answer) -> str:
        """Serve ``answers`` to successive requests of ``path``; the last one stays."""
        self.queues[path] = list(answers)
        return self.base + path

    def url(self, path: str) -> str:
        return self.base + path

    def close(self) -> None:
        self.closing.set()
        self.server.shutdown()
        self.server.server_close()


def answer(
    body: bytes | str,
    status: int = 200,
    content_type: str = "text/calendar; charset=utf-8",
    delay: float = 0.0,
    fault: str = "",
    **headers: str,
) -> Answer:
    """An ``Answer``; keyword headers use ``_`` for ``-`` (``Last_Modified=…``)."""
    data = body.encode() if isinstance(body, str) else body
    named = {key.replace("_", "-"): value for key, value in headers.items()}
    return Answer(data, status, {"Content-Type": content_type, **named}, delay, fault)


@pytest.fixture
def site() -> Iterator[LocalSite]:
    server = LocalSite()
    yield server
    server.close()


FAST_CRAWL = [
    "--set",
    "DOWNLOAD_DELAY=0",
    "--set",
    "AUTOTHROTTLE_ENABLED=false",
    "--set",
    "HTTPCACHE_ENABLED=false",
    "--set",
    "DOWNLOAD_TIMEOUT=10",
    "--set",
    "RETRY_TIMES=0",
    "--set",
    'LOG_LEVEL="WARNING"',
]


def famcal(
    *args: str,
    cwd: Path | None = None,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the real ``famcal`` command line in a child process."""
    return subprocess.run(
        [sys.executable, "-m", "famcal", *args],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        input=input,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="session")
def sample_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The feeds of the sample calendar (``tests.feed_samples``), rendered once for the
    readers' tests (they only read it)."""
    from feeds.publish import render, write_files
    from tests.feed_samples import NOW as SAMPLE_NOW
    from tests.feed_samples import sample_events

    out = tmp_path_factory.mktemp("sample") / "out"
    rendered = render(
        sample_events(), now=SAMPLE_NOW, base_url="https://familie.example.de/kalender"
    )
    write_files(out, rendered.files, rendered.report)
    return out


@pytest.fixture(scope="session")
def demo_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The published folder of one ``famcal demo`` run, shared by the readers' tests."""
    work = tmp_path_factory.mktemp("demo")
    result = famcal("demo", "--db", str(work / "demo.db"), "--out", str(work / "out"))
    assert result.returncode == 0, result.stderr
    return work / "out"


# --- the published demo in a real browser (pip playwright driving the machine's chromium) ---

CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "tests" / "js" / "node_modules" / "axe-core" / "axe.min.js"
TEST_OUTPUT = ROOT / "test-output"
# Without the background-networking flags chromium keeps dialling out on this closed network.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class _QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def served(demo_out: Path) -> Iterator[str]:
    """The demo's published folder on a static server on 127.0.0.1 (its base URL)."""
    handler = functools.partial(_QuietFiles, directory=str(demo_out))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless /usr/bin/chromium through playwright; skips (saying why) without either."""
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is absent")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def site_context(browser: Any, served: str) -> Iterator[Any]:
    """Makes browser contexts (``site_context(viewport=…, …)``, German locale) whose requests
    may go to the served site only; after the test, asserts that none tried to leave it."""
    made: list[Any] = []
    outside: list[str] = []

    def guard(route: Any) -> None:
        if route.request.url.startswith(served + "/"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    def make(**options: Any) -> Any:
        ctx = browser.new_context(locale="de-DE", **options)
        ctx.route("**/*", guard)
        made.append(ctx)
        return ctx

    yield make
    for ctx in made:
        ctx.close()
    assert outside == [], f"requests left the site: {outside}"
