"""The cost of a run (issue #9), measured side by side with the naive baseline.

For each size N it writes a synthetic ICS source (``benchmarks/synth.py``), serves it on
127.0.0.1 with Python's http.server (Last-Modified / If-Modified-Since → 304), and measures,
each ``--repeat`` times in fresh child processes:
- naive: ``benchmarks/naive.py`` — parse with icalendar, expand with recurring-ical-events,
  write one ICS and one JSON file;
- first: ``famcal run`` on an empty database;
- second: ``famcal run`` again with nothing changed.
It prints medians with their spread (min–max), the ratios the issue sets targets for
(first/naive ≤ 1.5, second/first ≤ 0.2, memory ≤ 2× naive), the per-stage throughput from
the run log, and the seconds per 1,000 events across sizes (linear growth: flat).

Usage: python benchmarks/run_all.py [--sizes 2000,20000,100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
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


def bench_size(n: int, repeat: int, work: Path) -> dict[str, Any]:
    folder = work / f"n{n}"
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "source.ics"
    if not source.exists():
        source.write_bytes(ics_calendar(n))
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
        f'[sources.bench]\ntype = "ics"\nname = "Benchmark"\n'
        f'start_urls = ["http://127.0.0.1:{port}/source.ics"]\ndownload_delay = 0\n'
    )
    famcal = [sys.executable, "-m", "famcal", "run", "--sources", str(sources), "--now", NOW, *FAST]
    naive, first, second, stages = [], [], [], []
    try:
        for i in range(repeat):
            naive.append(
                measure(
                    sys.executable,
                    str(ROOT / "benchmarks" / "naive.py"),
                    str(source),
                    str(folder / "naive-out"),
                    NOW,
                )
            )
            run_dir = folder / f"run{i}"
            shutil.rmtree(run_dir, ignore_errors=True)
            args = ["--db", str(run_dir / "events.db"), "--out", str(run_dir / "public")]
            first.append(measure(*famcal, *args))
            stages.append(stage_timings(run_dir / "events.db"))
            second.append(measure(*famcal, *args))
    finally:
        server.terminate()
        server.wait()
    return {"n": n, "naive": naive, "first": first, "second": second, "stages": stages}


def report(results: list[dict[str, Any]]) -> None:
    print("\nseconds: median (min–max); memory: median peak RSS of the process tree")
    print(
        f"{'N':>7} | {'naive s':>19} | {'famcal first s':>19} | {'second s':>19} | "
        f"{'first/naive':>11} | {'second/first':>12} | {'mem naive':>9} | "
        f"{'mem first':>9} | {'mem ratio':>9}"
    )
    for r in results:
        nv = [m["seconds"] for m in r["naive"]]
        fs = [m["seconds"] for m in r["first"]]
        sc = [m["seconds"] for m in r["second"]]
        mn = statistics.median(m["peak_rss_mb"] for m in r["naive"])
        mf = statistics.median(m["peak_rss_mb"] for m in r["first"])
        print(
            f"{r['n']:>7} | {spread(nv)} | {spread(fs)} | {spread(sc)} | "
            f"{statistics.median(fs) / statistics.median(nv):11.2f} | "
            f"{statistics.median(sc) / statistics.median(fs):12.2f} | "
            f"{mn:7.0f}MB | {mf:7.0f}MB | {mf / mn:9.2f}"
        )
    print("\nper stage (first run, median seconds and events per second)")
    for r in results:
        stages = [s for s in r["stages"] if s]
        if not stages:
            print(f"{r['n']:>7}: no stage timings in the run log")
            continue
        parts = []
        for name in stages[0]:
            secs = statistics.median(s.get(name, 0.0) for s in stages)
            rate = r["n"] / secs if secs else float("inf")
            parts.append(f"{name} {secs:.2f}s ({rate:,.0f}/s)")
        print(f"{r['n']:>7}: " + ", ".join(parts))
    print("\nlinearity: famcal first run, seconds per 1,000 events")
    for r in results:
        fs = statistics.median(m["seconds"] for m in r["first"])
        print(f"{r['n']:>7}: {1000 * fs / r['n']:.3f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="2000,20000,100000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--work",
        type=Path,
        default=None,
        help="folder for sources and runs (default: a temporary folder)",
    )
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="famcal-bench-"))
    results = []
    for n in (int(s) for s in args.sizes.split(",")):
        print(f"N = {n}: {args.repeat} × (naive, famcal first, famcal second) …", flush=True)
        results.append(bench_size(n, args.repeat, work))
    report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
