"""The cost of a run (issues #9, #20), measured side by side with the naive baseline.

Two cases of synthetic sources, each at several sizes N (occurrences in the feed window):
- ``realistic`` (``benchmarks/synth_real.py``): three sources, every text distinct, the demo's
  mix of family and other, one-off, weekly and multi-day events, ≈ 6 % of events twice;
- ``repeated`` (``benchmarks/synth.py``, issue #9's case): one source repeating a few texts.
The sources are served on 127.0.0.1 by Python's http.server (Last-Modified /
If-Modified-Since → 304); their mtime is set to the moment before each first run, so
Scrapy's RFC 2616 heuristic freshness is ≈ 0 and every later run revalidates. Measured
``--repeat`` times (≤ 20,000; once above) in fresh child processes, naive and famcal
interleaved under the same load:
- naive: ``benchmarks/naive.py`` — parse with icalendar, expand with recurring-ical-events,
  write one ICS and one JSON file, over the same sources;
- first: ``famcal run`` on an empty database;
- changed: one event of the largest source retitled (``synth_real.change_one``), then a
  run; reports whether the new title reached alle.json and how many files were rewritten;
- nothing: ``famcal run`` again with nothing changed.
Prints medians with their spread (min–max) of wall and CPU seconds (user + system of the
whole process tree; steadier than wall time while other work runs), the ratios issue #20
sets targets for (first/naive ≤ 1.3, changed/first ≤ 0.3, nothing/first ≤ 0.1, memory
≤ 1.5× naive), the first/naive and changed/first of each repetition (its runs follow each
other), the per-stage seconds from the run log, and seconds per 1,000 events.
Every run keeps its folder until the end (``remove_runs`` says why): the default sizes need
about 8 GB of disk meanwhile.

Usage: python benchmarks/run_all.py [--sizes 2000,20000,100000] [--repeat 3]
       [--cases realistic,repeated] [--repeated-max 20000] [--work DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.synth import ics_calendar  # noqa: E402
from benchmarks.synth_real import change_one, realistic_sources  # noqa: E402

NOW = "2026-11-25T08:00:00+01:00"
FAST = [
    "--set",
    "DOWNLOAD_DELAY=0",
    "--set",
    "AUTOTHROTTLE_ENABLED=false",
    "--set",
    'LOG_LEVEL="WARNING"',
]


def measure(*cmd: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "_measure.py"), *cmd],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(out.stdout)
    # A line per measurement, so a long benchmark shows its progress (and partial figures).
    print(
        f"  {Path(cmd[1]).name if len(cmd) > 1 else cmd[0]} {cmd[3] if len(cmd) > 3 else ''}"
        f" {result['seconds']:.2f}s wall {result['cpu_seconds']:.2f}s CPU "
        f"{result['peak_rss_mb']:.0f}MB",
        flush=True,
    )
    if result["returncode"] not in (0, 3):
        raise SystemExit(f"{' '.join(cmd)} failed: {result['stderr']}")
    return result


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def stage_timings(db: Path) -> dict[str, float]:
    with sqlite3.connect(db) as conn:
        row = conn.execute("select counts from runs order by id desc limit 1").fetchone()
    counts = json.loads(row[0]) if row and row[0] else {}
    timings: dict[str, float] = counts.get("timings", {})
    return timings


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):7.2f} ({min(values):.2f}–{max(values):.2f})"


def write_sources(case: str, n: int, folder: Path) -> dict[str, Path]:
    names = ("stadt", "partner", "verein") if case == "realistic" else ("bench",)
    paths = {name: folder / f"{name}.ics" for name in names}
    if not all(p.exists() for p in paths.values()):
        data = realistic_sources(n) if case == "realistic" else {"bench": ics_calendar(n)}
        for name, body in data.items():
            paths[name].write_bytes(body)
    return paths


def published_written(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        row = conn.execute("select counts from runs order by id desc limit 1").fetchone()
    counts = json.loads(row[0]) if row and row[0] else {}
    return int(counts.get("publish", {}).get("written", -1))


def bench_size(case: str, n: int, repeat: int, work: Path, runs: list[Path]) -> dict[str, Any]:
    folder = work / f"{case}-n{n}"
    folder.mkdir(parents=True, exist_ok=True)
    paths = write_sources(case, n, folder)
    largest = max(paths.values(), key=lambda p: p.stat().st_size)
    original = largest.read_bytes()
    changed_body, changed_title = change_one(
        original, others=[p.read_bytes() for p in paths.values() if p != largest]
    )
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "http.server",
            str(port),
            "--bind",
            "127.0.0.1",
            "--directory",
            str(folder),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.5)
    sources = folder / "sources.toml"
    sources.write_text(
        "".join(
            f'[sources.{name}]\ntype = "ics"\nname = "Benchmark {name}"\n'
            f'start_urls = ["http://127.0.0.1:{port}/{path.name}"]\ndownload_delay = 0\n\n'
            for name, path in paths.items()
        )
    )
    famcal = [sys.executable, "-m", "famcal", "run", "--sources", str(sources), "--now", NOW, *FAST]
    result: dict[str, Any] = {
        "case": case,
        "n": n,
        "naive": [],
        "first": [],
        "nothing": [],
        "changed": [],
        "stages": [],
        "written": [],
        "fetched": [],
    }
    try:
        for i in range(repeat):
            largest.write_bytes(original)
            stamp = time.time()
            for path in paths.values():
                os.utime(path, (stamp, stamp))
            result["naive"].append(
                measure(
                    sys.executable,
                    str(ROOT / "benchmarks" / "naive.py"),
                    *map(str, paths.values()),
                    str(folder / "naive-out"),
                    NOW,
                )
            )
            # A folder of its own, never one just emptied: see ``remove_runs``.
            run_dir = folder / f"run-{os.getpid()}-{i}"
            runs.append(run_dir)
            db = run_dir / "events.db"
            args = ["--db", str(db), "--out", str(run_dir / "public")]
            result["first"].append(measure(*famcal, *args))
            result["stages"].append(stage_timings(db))
            # The changed run before the unchanged one: a 304 refreshes the cached copy's
            # Date, and Scrapy's heuristic freshness (a tenth of the time since
            # Last-Modified) may then serve the stale copy without asking (issue #14).
            largest.write_bytes(changed_body)
            result["changed"].append(measure(*famcal, *args))
            written = [published_written(db)]
            alle = (run_dir / "public" / "alle.json").read_text(encoding="utf-8")
            result["fetched"].append(changed_title in alle)
            result["nothing"].append(measure(*famcal, *args))
            written.append(published_written(db))
            result["written"].append(written)
    finally:
        largest.write_bytes(original)
        server.terminate()
        server.wait()
    return result


def med(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(m[key] for m in runs)


def report(results: list[dict[str, Any]]) -> None:
    print("\nseconds: median (min–max) of wall | CPU (user+system of the process tree);")
    print("memory: median peak RSS of the largest process of the tree")
    for key in ("seconds", "cpu_seconds"):
        label = "wall" if key == "seconds" else "CPU"
        print(
            f"\n{label:>4} {'case':>9} {'N':>7} | {'naive':>19} | {'first':>19} | "
            f"{'nothing':>19} | {'changed':>19} | first/naive | changed/first | nothing/first"
        )
        for r in results:
            cols = [
                spread([m[key] for m in r[k]]) for k in ("naive", "first", "nothing", "changed")
            ]
            nv, fs = med(r["naive"], key), med(r["first"], key)
            print(
                f"{label:>4} {r['case']:>9} {r['n']:>7} | "
                + " | ".join(cols)
                + f" | {fs / nv:11.2f} | {med(r['changed'], key) / fs:13.2f} | "
                f"{med(r['nothing'], key) / fs:13.2f}"
            )
    print(
        f"\n{'case':>9} {'N':>7} | mem naive | mem first | ratio | files written "
        "(changed, nothing) | change fetched"
    )
    for r in results:
        mn, mf = med(r["naive"], "peak_rss_mb"), med(r["first"], "peak_rss_mb")
        print(
            f"{r['case']:>9} {r['n']:>7} | {mn:7.0f}MB | {mf:7.0f}MB | {mf / mn:5.2f} | "
            f"{r['written']} | {r['fetched']}"
        )
    # A repetition's naive script and famcal runs follow each other: its ratios share the
    # machine's state of those minutes, which the medians of each column do not.
    print("\nper repetition (wall): first/naive, changed/first")
    for r in results:
        pairs = [
            f"{f['seconds'] / n['seconds']:.2f}, {c['seconds'] / f['seconds']:.2f}"
            for n, f, c in zip(r["naive"], r["first"], r["changed"], strict=True)
        ]
        print(f"{r['case']:>9} {r['n']:>7}: " + " | ".join(pairs))
    print("\nper stage (first run, median seconds and events per second)")
    for r in results:
        stages = [s for s in r["stages"] if s]
        if not stages:
            print(f"{r['case']:>9} {r['n']:>7}: no stage timings in the run log")
            continue
        parts = []
        for name in stages[0]:
            secs = statistics.median(s.get(name, 0.0) for s in stages)
            rate = r["n"] / secs if secs else float("inf")
            parts.append(f"{name} {secs:.2f}s ({rate:,.0f}/s)")
        print(f"{r['case']:>9} {r['n']:>7}: " + ", ".join(parts))
    print("\nlinearity: famcal first run, seconds per 1,000 events (wall, CPU)")
    for r in results:
        print(
            f"{r['case']:>9} {r['n']:>7}: {1000 * med(r['first'], 'seconds') / r['n']:.3f}, "
            f"{1000 * med(r['first'], 'cpu_seconds') / r['n']:.3f}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="2000,20000,100000")
    parser.add_argument("--repeat", type=int, default=3, help="repeats up to 20,000 (1 above)")
    parser.add_argument("--cases", default="realistic,repeated")
    parser.add_argument(
        "--repeated-max",
        type=int,
        default=20000,
        help="the repeated-text case only up to this size",
    )
    parser.add_argument(
        "--work",
        type=Path,
        default=None,
        help="folder for sources and runs (default: a temporary folder)",
    )
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="famcal-bench-"))
    results = []
    runs: list[Path] = []
    try:
        for n in (int(s) for s in args.sizes.split(",")):
            for case in args.cases.split(","):
                if case == "repeated" and n > args.repeated_max:
                    continue
                repeat = args.repeat if n <= 20000 else 1
                print(f"{case} N = {n}: {repeat} × (naive, first, changed, nothing) …", flush=True)
                results.append(bench_size(case, n, repeat, work, runs))
    finally:
        remove_runs(runs)
    report(results)
    return 0


def remove_runs(runs: list[Path]) -> None:
    """The run folders go at the end, not after each repetition. Measured with ``perf
    record`` on this project's ext4 (no journal): after a repetition's 21,000 published
    files were deleted, ext4's inode allocator checks every candidate inode for a recent
    deletion (``recently_deleted``: within 60 s, or 6 min while its block is unwritten),
    and the next first run spent 11 % of its samples creating files (3 % without the
    deletion) — a cost of the benchmark's own cleanup, not of a famcal run."""
    for run_dir in runs:
        shutil.rmtree(run_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
