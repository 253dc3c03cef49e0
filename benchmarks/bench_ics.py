"""The ICS crawl on every core (issue #9): ``parse_ics`` serial vs parallel, and the crawl.

For each size N (``--sizes``, default 2,000 and 20,000 occurrences of ``benchmarks/synth.py``;
with ``--case realistic`` the largest source of ``benchmarks/synth_real.py`` at that N, about
half of its occurrences, every text distinct) it prints, as medians of ``--repeat`` runs
(default 3) with their spread:
- ``parse_ics`` seconds, serial (``workers=1``, wall and CPU) and parallel (every usable
  core, wall), in this process — the two results are compared item for item, so the
  figure is for the same work;
- the crawl alone (``spiders.crawl.crawl`` of one source served on 127.0.0.1: Scrapy's
  start, download, parse, items written), wall seconds and the CPU seconds of the crawl's
  processes, with the peak RSS of the crawl child and the largest peak RSS among its children
  (forkserver, parse workers), sampled from /proc every 20 ms.
The machine may be shared: before and after, it prints how many cores' worth of work it
does at the moment (``cores`` busy processes against one) — parallel figures mean little
when that is near 1.

For the whole run (crawl, process, publish stages) use
``python benchmarks/run_all.py --sizes 20000 --repeat 1``, which prints per-stage timings.

Usage: python benchmarks/bench_ics.py [--sizes 2000,20000] [--repeat 3] [--no-crawl]
       [--case repeated|realistic]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.synth import ics_calendar  # noqa: E402
from benchmarks.synth_real import realistic_sources  # noqa: E402
from core.config import SourceConfig  # noqa: E402
from core.model import BERLIN, SourceType  # noqa: E402

NOW = datetime(2026, 11, 25, 8, tzinfo=BERLIN)
# famcal's feed window around NOW (famcal.window.window)
START, END = NOW - timedelta(days=30), NOW + timedelta(days=365)


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):6.2f} ({min(values):.2f}–{max(values):.2f})"


def parse_seconds(body: bytes, workers: int | None) -> tuple[float, float, list[Any]]:
    """Wall and CPU seconds of this process (the parallel parse's workers not counted)."""
    from spiders.ics_parse import parse_ics

    started, cpu = time.perf_counter(), time.process_time()
    items = list(parse_ics(body, workers=workers, window_start=START, window_end=END))
    return time.perf_counter() - started, time.process_time() - cpu, items


class Sampler:
    """Samples, every 20 ms, the RSS and the CPU time of the crawl child (``spiders.worker``)
    and of its descendants (the forkserver and the parse workers): the peak RSS of the child,
    the largest peak among the descendants, and the CPU seconds of all of them (each
    process's last sample, so a few ms short)."""

    TICK = os.sysconf("SC_CLK_TCK")

    def __init__(self) -> None:
        self.child = 0.0
        self.descendants = 0.0
        self._cpu: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def cpu(self) -> float:
        return sum(self._cpu.values())

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            parents: dict[int, int] = {}
            rss: dict[int, float] = {}
            cpu: dict[int, float] = {}
            child = 0
            for entry in os.listdir("/proc"):
                if not entry.isdigit():
                    continue
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
                    cmd = Path(f"/proc/{entry}/cmdline").read_bytes()
                except (OSError, IndexError):
                    continue
                pid = int(entry)
                # fields after the name: state ppid … utime(12) stime(13) … rss pages(22)
                parents[pid] = int(stat[1])
                cpu[pid] = (int(stat[11]) + int(stat[12])) / self.TICK
                rss[pid] = int(stat[21]) * os.sysconf("SC_PAGE_SIZE") / 2**20
                if b"spiders.worker" in cmd and parents[pid] == os.getpid():
                    child = pid
            if not child:
                continue
            self.child = max(self.child, rss.get(child, 0.0))
            self._cpu[child] = cpu.get(child, 0.0)
            for pid, value in rss.items():
                ancestor, hops = parents.get(pid, 0), 0
                while ancestor not in (0, 1, child) and hops < 10:
                    ancestor, hops = parents.get(ancestor, 0), hops + 1
                if ancestor == child:
                    self.descendants = max(self.descendants, value)
                    self._cpu[pid] = cpu[pid]


def crawl_once(folder: Path, port: int) -> tuple[float, float, float, int, float]:
    from spiders.crawl import crawl

    source = SourceConfig(
        id="bench",
        type=SourceType.ICS,
        name="Benchmark",
        start_urls=(f"http://127.0.0.1:{port}/source.ics",),
        download_delay=0,
    )
    work = folder / "crawl"
    shutil.rmtree(work, ignore_errors=True)
    settings = {
        "DOWNLOAD_DELAY": 0,
        "AUTOTHROTTLE_ENABLED": False,
        "HTTPCACHE_ENABLED": False,
        "LOG_LEVEL": "WARNING",
    }
    with Sampler() as sampled:
        started = time.perf_counter()
        result = crawl(
            [source], work_dir=work, settings=settings, window_start=START, window_end=END
        )["bench"]
        seconds = time.perf_counter() - started
    if result.error:
        raise SystemExit(f"crawl failed: {result.error}")
    return seconds, sampled.child, sampled.descendants, result.count, sampled.cpu


def spin(count: int) -> None:
    total = 0
    for i in range(count):
        total += i


def capacity(cores: int) -> float:
    """How many cores' worth of work this machine does now (others share it): the speed of
    ``cores`` busy processes relative to one. Taken before and after to judge the figures."""
    count = 20_000_000
    started = time.perf_counter()
    spin(count)
    one = time.perf_counter() - started
    context = multiprocessing.get_context("forkserver")
    with context.Pool(cores) as pool:
        pool.map(spin, [1])  # started before the clock runs
        started = time.perf_counter()
        pool.map(spin, [count] * cores, chunksize=1)
        many = time.perf_counter() - started
    return cores * one / many


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="2000,20000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-crawl", action="store_true", help="only parse_ics")
    parser.add_argument("--case", choices=("repeated", "realistic"), default="repeated")
    args = parser.parse_args()
    from spiders.ics_chunks import usable_cores

    cores = usable_cores()
    print(f"usable cores: {cores}; {capacity(cores):.2f} of them free now", flush=True)
    work = Path(tempfile.mkdtemp(prefix="famcal-bench-ics-"))
    try:
        for n in (int(s) for s in args.sizes.split(",")):
            body = (
                realistic_sources(n, start=NOW)["stadt"]
                if args.case == "realistic"
                else ics_calendar(n)
            )
            serial, serial_cpu, parallel = [], [], []
            for _ in range(args.repeat):
                seconds, cpu, expected = parse_seconds(body, workers=1)
                serial.append(seconds)
                serial_cpu.append(cpu)
                seconds, _, found = parse_seconds(body, workers=None)
                parallel.append(seconds)
                if found != expected:
                    raise SystemExit(f"N={n}: the parallel parse differs from the serial one")
            events = sum(1 for item in expected if isinstance(item, dict))
            print(
                f"N={n:>6} ({events} occurrences): parse_ics serial {spread(serial)} s "
                f"(CPU {spread(serial_cpu)} s), "
                f"parallel {spread(parallel)} s, "
                f"speed-up {statistics.median(serial) / statistics.median(parallel):.2f}×"
            )
            if args.no_crawl:
                continue
            folder = work / f"n{n}"
            folder.mkdir()
            (folder / "source.ics").write_bytes(body)
            port = free_port()
            server = subprocess.Popen(
                [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
                cwd=folder,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                time.sleep(0.5)
                runs = [crawl_once(folder, port) for _ in range(args.repeat)]
            finally:
                server.terminate()
                server.wait()
            print(
                f"N={n:>6}: crawl {spread([r[0] for r in runs])} s "
                f"({runs[0][3]} events), CPU of the crawl's processes "
                f"{spread([r[4] for r in runs])} s; peak RSS crawl child "
                f"{statistics.median(r[1] for r in runs):.0f} MB, largest of its children "
                "(forkserver, parse workers) "
                f"{statistics.median(r[2] for r in runs):.0f} MB"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{capacity(cores):.2f} of {cores} cores free at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
