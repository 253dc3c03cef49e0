"""The family site's cost (issue #16): transfer weight of the index and its time in a publish.

For the demo (``famcal demo`` into a temporary folder) and for N synthetic events
(``benchmarks/synth.py`` through parse_ics → normalize → tag, as a crawl would give them),
it prints
- the gzipped bytes a visitor's first load transfers: ``index.html``, ``site/famcal.js``,
  ``site/site.css``, ``site/index.json`` (gzip -6, what a web server's compression does),
  what a search adds (``site/words.json``) and the month files (``site/index-YYYY-MM.json``,
  fetched when a query's days reach them or the visitor asks for more);
- for N events: the seconds the site's files take to render (``feeds.site.site_files``) next
  to the feeds' (``feeds.publish.iter_rendered``), the seconds to write them into an empty
  folder and into a folder that already holds them (nothing changed), and how many files.

Usage: python benchmarks/bench_site.py [--sizes 20000] [--no-demo]
"""

from __future__ import annotations

import argparse
import gzip
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.synth import ics_calendar  # noqa: E402
from core.model import BERLIN, Event, RawEvent, evolve  # noqa: E402
from core.parallel import map_chunks  # noqa: E402
from feeds.publish import (  # noqa: E402
    PublishReport,
    iter_rendered,
    serialize,
    window_events,
    write_staged,
)
from feeds.site import PRUNED, site_files  # noqa: E402

RAW_FIELDS = set(RawEvent.__dataclass_fields__)
NOW = datetime(2026, 11, 25, 8, tzinfo=BERLIN)
FIRST_LOAD = ("index.html", "site/famcal.js", "site/site.css", "site/index.json")
HEALTH = {"generated": NOW.isoformat(), "sources": {"synth": {"name": "Synth", "status": "ok"}}}


def weights(folder: Path) -> str:
    parts = []
    total = 0
    for name in FIRST_LOAD:
        data = (folder / name).read_bytes()
        packed = len(gzip.compress(data, 6))
        total += packed
        parts.append(f"{name} {len(data) / 1024:.0f} KiB → {packed / 1024:.1f} KiB")
    words = (folder / "site" / "words.json").read_bytes()
    months = [len(gzip.compress(p.read_bytes(), 6)) for p in (folder / "site").glob("index-*.json")]
    return (
        "; ".join(parts)
        + f"; first load gzipped {total / 1024:.1f} KiB"
        + f" (a search adds site/words.json: {len(gzip.compress(words, 6)) / 1024:.1f} KiB;"
        + f" later months: {len(months)} files, {sum(months) / 1024:.1f} KiB gzipped in all,"
        + f" at most {max(months, default=0) / 1024:.1f} KiB each, with their words)"
    )


def synthetic(n: int) -> list[Event]:
    from pipeline.normalize import Rejected, normalize
    from pipeline.tag import tag_event
    from spiders.ics_parse import parse_ics

    events = []
    body = ics_calendar(n)
    for i, item in enumerate(
        parse_ics(body, window_start=NOW - timedelta(days=30), window_end=NOW + timedelta(days=365))
    ):
        if not isinstance(item, dict):
            continue
        fields = {k: v for k, v in item.items() if k in RAW_FIELDS}
        raw = RawEvent(**{**fields, "source_id": "synth"})
        try:
            event = normalize(raw, uid=f"synth-{i}@famcal-hannover")
        except Rejected:
            continue
        events.append(evolve(event, tags=tag_event(event)))
    return events


def measure(n: int) -> None:
    events = synthetic(n)
    report = PublishReport()
    started = time.perf_counter()
    # As famcal.runner does: each event serialized once, the forms shared by feeds and site.
    shown = window_events(events, NOW)
    known = dict(zip((e.uid for e in shown), map_chunks(serialize, shown), strict=True))
    feeds = [(name, b"".join(data) if not isinstance(data, bytes) else data)
             for name, data in iter_rendered(events, now=NOW, base_url=None, report=report,
                                             known=known)]  # fmt: skip
    feeds_s = time.perf_counter() - started
    started = time.perf_counter()
    vevents = {uid: form.vevent for uid, form in known.items()}
    sections: dict[str, float] = {}
    site = []
    for name, data in site_files(
        events, report, now=NOW, base_url=None, health=HEALTH, vevents=vevents
    ):
        site.append((name, data))
        kind = name.split("/")[0] if name.count("/") else name
        sections[kind] = (
            sections.get(kind, 0.0) + time.perf_counter() - started - sum(sections.values())
        )
    site_s = time.perf_counter() - started
    family = sum(1 for e in events if e.tags and e.tags.family)
    print(f"{len(events)} events ({family} for families): feeds render {feeds_s:.1f} s, "
          f"site render {site_s:.1f} s, {len(site)} site files")  # fmt: skip
    print("  site render by part: " + ", ".join(f"{k} {v:.1f} s" for k, v in sections.items()))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for label in ("write (empty folder)", "write (unchanged)"):
            started = time.perf_counter()
            written = PublishReport()
            write_staged(out, iter(feeds + site), written, prune=PRUNED)
            seconds = time.perf_counter() - started
            print(f"  {label}: {seconds:.1f} s, {len(written.written)} files written, "
                  f"{written.unchanged} unchanged")  # fmt: skip
        print("  " + weights(out))


def demo() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        subprocess.run(
            [sys.executable, "-m", "famcal", "demo", "--db", f"{tmp}/demo.db", "--out", str(out)],
            check=True,
            capture_output=True,
        )
        print("demo: " + weights(out))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="20000")
    parser.add_argument("--no-demo", action="store_true")
    args = parser.parse_args()
    if not args.no_demo:
        demo()
    for n in (int(s) for s in args.sizes.split(",")):
        measure(n)


if __name__ == "__main__":
    main()
