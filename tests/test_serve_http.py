"""``famcal serve`` under uvicorn, end to end on 127.0.0.1: CORS on every answer, OPTIONS,
gzip only when asked, media types per file, tracking parameters, 400s, 304s, and the change
feed of contract.md ("Changes for apps") read page by page."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from core.model import Status, Tags
from feeds.publish import render, write_files
from tests.feed_samples import NOW, sample_events
from tests.test_feeds_serve import RunningServer, get

Server = tuple[str, int, Path]


def changed_events() -> list:  # type: ignore[type-arg]
    """The samples with distinct ``updated`` stamps (two share one, for the cursor's uid), one
    cancelled by its source, and two cancelled that ``GONE`` lists as gone for good."""
    events = []
    for n, event in enumerate(sample_events()):
        stamp = NOW - timedelta(hours=40 - n // 2 * 2)  # pairs share a stamp
        tags = event.tags or Tags()
        if n == 3:
            tags = replace(
                tags, status=Status.CANCELLED, reasons=(*tags.reasons, "status: abgesagt")
            )
        if n in (5, 7):
            tags = replace(tags, status=Status.CANCELLED)
        events.append(replace(event, updated=stamp, tags=tags))
    return events


def gone() -> list[dict[str, object]]:
    """aenderungen.json as the publish stage writes it: two UIDs still in alle.json (their
    tombstones replace their items) and one that has left it."""
    stamp = {n: (NOW - timedelta(hours=40 - n // 2 * 2)).isoformat() for n in (5, 7)}
    return [
        {
            "id": "merged-long-ago@famcal-hannover",
            "date_modified": (NOW - timedelta(hours=38, minutes=30)).isoformat(),
            "_replaced_by": "ev002@famcal-hannover",
        },
        {
            "id": "ev005@famcal-hannover",
            "date_modified": stamp[5],
            "_replaced_by": "ev001@famcal-hannover",
        },
        {"id": "ev007@famcal-hannover", "date_modified": stamp[7], "_replaced_by": None},
    ]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    out = tmp_path_factory.mktemp("serve_http") / "out"
    rendered = render(changed_events(), now=NOW)
    write_files(out, rendered.files, rendered.report)
    (out / "index.html").write_text("<!doctype html><title>x</title>" + "x" * 2000)
    (out / "health.json").write_text('{"status": "ok"}')
    (out / "aenderungen.json").write_text(json.dumps(gone()))
    for name in ("site.js", "site.css", "logo.svg", "wochenende.txt", "bericht.csv"):
        (out / name).write_text("x\n")
    with RunningServer(out, clock=lambda: NOW) as running:
        yield "127.0.0.1", running.port, out


def test_cors_on_every_answer(server: Server) -> None:
    for path in ("/familie.ics", "/alle.json", "/feed.json?bezirk=mitte", "/nope", "/"):
        assert get(server, path)[1]["Access-Control-Allow-Origin"] == "*", path
    headers = get(server, "/alle.json", Origin="https://fz-linden.example")[1]
    assert headers["Access-Control-Allow-Origin"] == "*"


def test_options_answered(server: Server) -> None:
    status, headers, _ = get(
        server,
        "/feed.json",
        "OPTIONS",
        Origin="https://fz-linden.example",
        Access_Control_Request_Method="GET",
        Access_Control_Request_Headers="if-none-match",
    )
    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in headers["Access-Control-Allow-Methods"]
    assert "if-none-match" in headers["Access-Control-Allow-Headers"].lower()
    status, headers, _ = get(server, "/familie.ics", "OPTIONS")
    assert status == 204 and "GET" in headers["Allow"]


@pytest.mark.parametrize("path", ["/alle.json", "/familie.ics", "/feed.ics?thema=kultur"])
def test_gzip_only_when_asked(server: Server, path: str) -> None:
    status, headers, plain = get(server, path)
    assert status == 200 and "Content-Encoding" not in headers
    status, headers, packed = get(server, path, Accept_Encoding="gzip, deflate")
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed) == plain and len(packed) < len(plain)
    # Content-based ETags, one per representation; each answers its own If-None-Match.
    etag = get(server, path)[1]["ETag"]
    assert headers["ETag"] == etag[:-1] + '-gzip"' and "Accept-Encoding" in headers["Vary"]
    assert get(server, path, Accept_Encoding="gzip", If_None_Match=headers["ETag"])[0] == 304
    assert get(server, path, If_None_Match=headers["ETag"])[0] == 200
    assert get(server, path, Accept_Encoding="gzip;q=0")[1].get("Content-Encoding") is None
    assert "Content-Encoding" not in get(server, path, Accept_Encoding="identity")[1]


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/health.json", "application/json"),
        ("/alle.json", "application/feed+json"),
        ("/bezirk/mitte.json", "application/feed+json"),
        ("/familie.jsonld", "application/ld+json"),
        ("/familie.ics", "text/calendar; charset=utf-8"),
        ("/", "text/html; charset=utf-8"),
        ("/site.js", "text/javascript"),
        ("/embed.js", "text/javascript"),
        ("/site.css", "text/css"),
        ("/logo.svg", "image/svg+xml"),
        ("/bericht.csv", "text/csv"),
        ("/wochenende.txt", "text/plain"),
    ],
)
def test_media_types(server: Server, path: str, media_type: str) -> None:
    status, headers, _ = get(server, path)
    assert status == 200 and headers["Content-Type"].startswith(media_type)
    assert "inline" in headers.get("Content-Disposition", "inline")


def test_tracking_parameters_ignored(server: Server) -> None:
    plain = get(server, "/feed.ics?bezirk=linden-limmer")
    shared = get(server, "/feed.ics?bezirk=linden-limmer&utm_source=newsletter&fbclid=abc")
    assert shared[0] == 200 and shared[2] == plain[2]
    assert get(server, "/familie.ics?utm_medium=social")[0] == 200


def test_wrong_values_name_the_allowed_ones(server: Server) -> None:
    status, _, body = get(server, "/feed.json?alter=hundert")
    assert status == 400 and "Erlaubt:" in body.decode() and "6-9" in body.decode()
    status, _, body = get(server, "/feed.json?since=gestern")
    assert status == 400 and "ISO 8601" in body.decode()
    status, _, body = get(server, "/feed.json?since=2026-01-01T00:00:00Z&limit=9999")
    assert status == 400 and "5000" in body.decode()
    assert get(server, "/feed.ics?since=2026-01-01T00:00:00Z")[0] == 400


def test_not_modified_for_files_and_filtered_feeds(server: Server) -> None:
    for path in ("/health.json", "/feed.json?alter=7", "/feed.json?since=2026-01-01T00:00:00Z"):
        status, headers, _ = get(server, path)
        assert status == 200
        assert get(server, path, If_None_Match=headers["ETag"])[0] == 304, path
        assert get(server, path, If_Modified_Since=headers["Last-Modified"])[0] == 304, path


@pytest.mark.parametrize("path", ["/../alle.json", "/%2e%2e/etc/passwd", "/.hidden", "/a/.b"])
def test_no_traversal(server: Server, path: str) -> None:
    assert get(server, path)[0] == 404


def read_changes(server: Server, first: str) -> list[list[dict]]:  # type: ignore[type-arg]
    pages = []
    path: str | None = first
    while path:
        status, _, body = get(server, path)
        assert status == 200, body
        page = json.loads(body)
        pages.append(page["items"])
        next_url = page.get("next_url")
        path = (
            None if next_url is None else urlsplit(next_url)._replace(scheme="", netloc="").geturl()
        )
    return pages


def test_change_feed_page_by_page(server: Server) -> None:
    alle = json.loads((server[2] / "alle.json").read_text())["items"]
    since = NOW - timedelta(hours=39)
    want = sorted(
        [
            *((i["_event"]["updated"], i["id"]) for i in alle),
            *(
                (g["date_modified"], g["id"])
                for g in gone()
                if g["id"] not in {i["id"] for i in alle}
            ),
        ]
    )
    want = sorted(
        (datetime.fromisoformat(t), u) for t, u in want if datetime.fromisoformat(t) > since
    )
    assert len(want) > 8
    pages = read_changes(
        server, f"/feed.json?since={since.isoformat()}&limit=3".replace("+", "%2B")
    )
    # limit 3 ends pages between two events of one stamp: the cursor holds the uid too
    assert [len(p) for p in pages[:-1]] == [3] * (len(pages) - 1) and 1 <= len(pages[-1]) <= 3
    items = [item for page in pages for item in page]
    assert [i["id"] for i in items] == [uid for _, uid in want]  # oldest first, none twice
    by_id = {i["id"]: i for i in items}
    assert by_id["ev003@famcal-hannover"]["_event"]["status"] == "cancelled"  # still an item
    assert by_id["ev005@famcal-hannover"] == {
        "id": "ev005@famcal-hannover",
        "date_modified": by_id["ev005@famcal-hannover"]["date_modified"],
        "_deleted": True,
        "_replaced_by": "ev001@famcal-hannover",
    }
    assert by_id["ev007@famcal-hannover"]["_deleted"] is True
    assert by_id["ev007@famcal-hannover"]["_replaced_by"] is None
    # A UID gone from alle.json altogether is still reported, from aenderungen.json.
    assert by_id["merged-long-ago@famcal-hannover"]["_replaced_by"] == "ev002@famcal-hannover"
    # Caught up: the last date_modified gives an empty page without next_url.
    last = items[-1]["date_modified"].replace("+", "%2B")
    assert read_changes(server, f"/feed.json?since={last}") == [[]]


def test_change_feed_with_filters(server: Server) -> None:
    pages = read_changes(server, "/feed.json?since=2000-01-01T00:00:00Z&thema=kultur&limit=2")
    items = [item for page in pages for item in page]
    assert items and all(i.get("_deleted") or "kultur" in i["_event"]["topics"] for i in items)
    gone_ids = {g["id"] for g in gone()}
    expected = [
        i["id"]
        for i in json.loads((server[2] / "alle.json").read_text())["items"]
        if i["_event"]["family"] and "kultur" in i["_event"]["topics"] and i["id"] not in gone_ids
    ] + sorted(gone_ids)  # tombstones pass every filter: an app may hold the event
    assert sorted(i["id"] for i in items) == sorted(expected)


def test_embed_script_served(server: Server) -> None:
    status, headers, body = get(server, "/embed.js")
    assert status == 200 and b"data-famcal" in body and b"feed.json?" in body
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert get(server, "/embed.js", If_None_Match=headers["ETag"])[0] == 304
