"""``famcal demo``: the whole pipeline over the bundled recorded snapshot, offline.

Contract: ``run_demo(...)`` serves ``data/demo/site`` on 127.0.0.1 for the length of the
run — on port 8739 when it is free, so URLs and the UIDs derived from them stay the same
between demo runs — reads ``data/demo/sources.toml`` with ``{demo}`` replaced by the
server's base URL, and runs crawl → process → publish with the real spiders. ``now``
defaults to the snapshot's ``recorded_at`` (``data/demo/snapshot.toml``), so the demo shows the same
calendar on every machine and every day. Returns the run's exit status.
"""

from __future__ import annotations

import functools
import threading
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from core.config import ConfigError, load_sources
from core.paths import data_file
from core.store import Store
from famcal import run as runner

DEMO_PORT = 8739


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve_folder(root: Path, port: int = 0) -> Iterator[str]:
    """Serve ``root`` on 127.0.0.1 at ``port`` (0 or taken: a free one); yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(root))
    try:
        server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    except OSError:
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def recorded_at() -> datetime:
    with data_file("demo", "snapshot.toml").open("rb") as handle:
        value = tomllib.load(handle)["recorded_at"]
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def run_demo(
    *,
    db_path: Path,
    out_dir: Path,
    now: datetime | None = None,
    base_url: str | None = None,
    settings: dict[str, Any] | None = None,
    sources_path: Path | None = None,
    port: int = DEMO_PORT,
) -> int:
    sources_file = sources_path or data_file("demo", "sources.toml")
    site = data_file("demo", "site")
    # A fixed port keeps the snapshot's URLs — and the UIDs derived from page URLs — the
    # same from one demo run to the next; only when it is taken does a free port stand in.
    with serve_folder(site, port) as origin:
        try:
            sources = [
                source.with_urls(tuple(u.replace("{demo}", origin) for u in source.start_urls))
                for source in load_sources(sources_file)
            ]
        except ConfigError as exc:
            print(f"famcal: error: {exc}")
            return runner.EXIT_USAGE
        crawl_settings = {
            # The snapshot is local: no politeness delay, no cache between demo runs.
            "DOWNLOAD_DELAY": 0,
            "AUTOTHROTTLE_ENABLED": False,
            "HTTPCACHE_ENABLED": False,
            "LOG_LEVEL": "WARNING",
            **(settings or {}),
        }
        store = Store(db_path)
        try:
            moment = now or recorded_at()
            status = runner.run(
                store,
                sources,
                now=moment,
                out_dir=out_dir,
                work_dir=db_path.parent / "crawl-demo",
                settings=crawl_settings,
                base_url=base_url,
            )
            published = store.events(processed=store.latest_processed())
        finally:
            store.close()
    family = sum(1 for e in published if e.tags and e.tags.family)
    print(
        f"famcal demo: {len(sources)} sources crawled from the recorded snapshot, "
        f"{len(published)} events ({family} for families) published to {out_dir}/ "
        f"— open {out_dir}/index.html, subscribe to {out_dir}/familie.ics "
        f"(exit status {status})"
    )
    return status
