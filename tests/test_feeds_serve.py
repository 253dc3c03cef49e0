"""``famcal serve`` over a real socket: content types, ETag/Last-Modified/304, HEAD, no path
traversal, and filtered feeds computed on request with 400 for bad parameters."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from http.client import HTTPMessage
from pathlib import Path

import icalendar
import pytest

from famcal.serve import bind, make_app, make_server
from feeds.publish import render, write_files
from tests.feed_samples import NOW, sample_events


class RunningServer:
    """The app under uvicorn in a thread, on a random port of 127.0.0.1."""

    def __init__(self, root: Path, *, clock: Callable[[], datetime]) -> None:
        self.sock = bind("127.0.0.1", 0)
        self.port = self.sock.getsockname()[1]
        self.server = make_server(make_app(root, clock=clock))
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def __enter__(self) -> RunningServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        assert self.server.started
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, Path]]:
    root = tmp_path_factory.mktemp("serve")
    out = root / "out"
    rendered = render(sample_events(), now=NOW)
    write_files(out, rendered.files, rendered.report)
    (out / "index.html").write_text("<!doctype html><title>x</title>")
    (out / ".alle.ics.123.tmp").write_text("half written")
    (root / "secret.txt").write_text("not for you")
    with RunningServer(out, clock=lambda: NOW) as running:
        yield "127.0.0.1", running.port, out


def get(
    server: tuple[str, int, Path], path: str, method: str = "GET", **headers: str
) -> tuple[int, HTTPMessage, bytes]:
    host, port, _ = server
    conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.request(method, path, headers={k.replace("_", "-"): v for k, v in headers.items()})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, response.headers, body  # case-insensitive: uvicorn writes lower case


def test_calendar_file_headers_and_304(server: tuple[str, int, Path]) -> None:
    status, headers, body = get(server, "/familie.ics")
    assert status == 200
    assert headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert body == (server[2] / "familie.ics").read_bytes()
    assert headers["Content-Length"] == str(len(body))
    etag, modified = headers["ETag"], headers["Last-Modified"]
    assert get(server, "/familie.ics", If_None_Match=etag)[0] == 304
    assert get(server, "/familie.ics", If_None_Match=f'W/{etag}, "x"')[0] == 304
    assert get(server, "/familie.ics", If_None_Match='"other"')[0] == 200
    assert get(server, "/familie.ics", If_Modified_Since=modified)[0] == 304
    status, headers, body = get(server, "/familie.ics", "HEAD")
    assert status == 200 and body == b"" and headers["ETag"] == etag


def test_other_types_and_index(server: tuple[str, int, Path]) -> None:
    assert get(server, "/alter/6-9.json")[1]["Content-Type"].startswith("application/feed+json")
    assert get(server, "/familie.jsonld")[1]["Content-Type"].startswith("application/ld+json")
    status, headers, _ = get(server, "/")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"


@pytest.mark.parametrize(
    "path",
    [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/bezirk/../../secret.txt",
        "//etc/passwd",
        "/..%2fsecret.txt",
        "/.alle.ics.123.tmp",
        "/bezirk",
        "/nope.ics",
    ],
)
def test_nothing_outside_the_folder(server: tuple[str, int, Path], path: str) -> None:
    status, _, body = get(server, path)
    assert status == 404 and b"not for you" not in body


def expected_uids(server: tuple[str, int, Path], **want: object) -> list[str]:
    items = json.loads((server[2] / "alle.json").read_text())["items"]
    result = []
    for item in items:
        e = item["_event"]
        if not e["family"]:
            continue
        if "bezirk" in want and e["district"] not in want["bezirk"]:  # type: ignore[operator]
            continue
        if "alter" in want and not set(want["alter"]) & set(e["age_groups"]):  # type: ignore[call-overload]
            continue
        if "thema" in want and not set(want["thema"]) & set(e["topics"]):  # type: ignore[call-overload]
            continue
        if want.get("kostenlos") and e["free"] is not True:
            continue
        result.append(item["id"])
    return result


@pytest.mark.parametrize(
    ("query", "want"),
    [
        ("", {}),
        ("bezirk=linden-limmer", {"bezirk": ["linden-limmer"]}),
        ("bezirk=linden-limmer&kostenlos=1", {"bezirk": ["linden-limmer"], "kostenlos": True}),
        ("alter=6-9&thema=kultur", {"alter": ["6-9"], "thema": ["kultur"]}),
        ("thema=kultur,natur", {"thema": ["kultur", "natur"]}),
        ("thema=kultur&thema=natur&kostenlos=0", {"thema": ["kultur", "natur"]}),
        (
            "bezirk=linden-limmer&alter=6-9&thema=kultur&kostenlos=1",
            {"bezirk": ["linden-limmer"], "alter": ["6-9"], "thema": ["kultur"], "kostenlos": 1},
        ),
    ],
)
def test_filtered_feeds(server: tuple[str, int, Path], query: str, want: dict[str, object]) -> None:
    uids = expected_uids(server, **want)
    status, headers, body = get(server, f"/feed.ics?{query}")
    assert status == 200 and headers["Content-Type"] == "text/calendar; charset=utf-8"
    cal = icalendar.Calendar.from_ical(body)
    assert cal.get_missing_tzids() == set()
    assert [str(e["UID"]) for e in cal.events] == uids
    status, headers, body = get(server, f"/feed.json?{query}")
    assert status == 200 and headers["Content-Type"].startswith("application/feed+json")
    assert [i["id"] for i in json.loads(body)["items"]] == uids


def test_a_combination_has_events_and_a_title(server: tuple[str, int, Path]) -> None:
    _, _, body = get(server, "/feed.ics?bezirk=linden-limmer&kostenlos=1")
    cal = icalendar.Calendar.from_ical(body)
    assert cal.events
    assert str(cal["X-WR-CALNAME"]) == "Familienkalender Hannover: Linden-Limmer, kostenlos"


def test_filtered_feed_etag_and_304(server: tuple[str, int, Path]) -> None:
    path = "/feed.ics?thema=natur"
    status, headers, first = get(server, path)
    assert status == 200
    assert get(server, path)[2] == first  # deterministic: same bytes, same ETag
    assert get(server, path, If_None_Match=headers["ETag"])[0] == 304
    assert get(server, path, "HEAD")[2] == b""


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("bezirk=atlantis", "bezirk"),
        ("alter=7-8", "0-2"),
        ("thema=", "thema"),
        ("kostenlos=vielleicht", "kostenlos"),
        ("ort=linden", "Unbekannter Parameter"),
        ("bezirk", "Erlaubt: mitte"),  # no "=": an empty value, named as such
    ],
)
def test_bad_parameters_get_400(server: tuple[str, int, Path], query: str, message: str) -> None:
    status, headers, body = get(server, f"/feed.ics?{query}")
    assert status == 400
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    assert message in body.decode()
