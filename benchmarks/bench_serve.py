"""Load on ``famcal serve`` (uvicorn) against ``python -m http.server`` on the same folder.

Usage: python benchmarks/bench_serve.py [--folder PUBLISHED] [--requests N]
Without ``--folder`` it publishes the bundled demo first (``famcal demo``, about 20 s) into a
temporary folder. Both servers run as separate processes on 127.0.0.1; an asyncio client
(httpx) sends N requests per case at 1, 10 and 100 concurrent clients and prints requests/s,
p50/p99 latency and failures per case, and for the static feed the ratio to http.server
(http.server cannot answer the filtered or change feed). Not a test: the figures depend on
the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

CASES = {
    "static /alle.json": "/alle.json",
    "static /familie.ics": "/familie.ics",
    "filtered /feed.ics?bezirk&alter": "/feed.ics?bezirk=linden-limmer&alter=6",
    "change /feed.json?since": "/feed.json?since=2000-01-01T00:00:00Z&limit=100",
}
CONCURRENCY = (1, 10, 100)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def running(command: list[str], port: int) -> Iterator[str]:
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                httpx.get(base + "/alle.json", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def load(
    base: str, path: str, *, clients: int, total: int, encoding: str
) -> dict[str, float]:
    latencies: list[float] = []
    failures = 0
    todo = iter(range(total))
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    headers = {"Accept-Encoding": encoding}
    async with httpx.AsyncClient(
        base_url=base, limits=limits, timeout=30, headers=headers
    ) as client:

        async def worker() -> None:
            nonlocal failures
            for _ in todo:
                started = time.perf_counter()
                try:
                    response = await client.get(path)
                    if response.status_code != 200:
                        failures += 1
                except httpx.HTTPError:
                    failures += 1
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        seconds = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "rps": total / seconds,
        "p50_ms": cuts[49] * 1000,
        "p99_ms": cuts[98] * 1000,
        "failed": failures,
    }


def publish_demo(into: Path) -> Path:
    out = into / "public"
    subprocess.run(
        [sys.executable, "-m", "famcal", "demo", "--out", str(out), "--db", str(into / "e.db")],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--folder", type=Path)
    parser.add_argument("--requests", type=int, default=1000)
    # httpx asks for gzip by default; http.server never compresses, so compare uncompressed.
    parser.add_argument("--encoding", default="identity", help="Accept-Encoding to send")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.folder or publish_demo(Path(scratch))
        ours, theirs = free_port(), free_port()
        famcal = [sys.executable, "-m", "famcal", "serve", "--out", str(folder)]
        stdlib = [sys.executable, "-m", "http.server", "-d", str(folder), "-b", "127.0.0.1"]
        results: dict[tuple[str, str, int], dict[str, float]] = {}
        with running([*famcal, "--port", str(ours)], ours) as base:
            for name, path in CASES.items():
                for clients in CONCURRENCY:
                    total = args.requests if clients > 1 else args.requests // 5
                    results["famcal", name, clients] = asyncio.run(
                        load(base, path, clients=clients, total=total, encoding=args.encoding)
                    )
        with running([*stdlib, str(theirs)], theirs) as base:
            for name, path in CASES.items():
                if not name.startswith("static"):
                    continue
                for clients in CONCURRENCY:
                    total = args.requests if clients > 1 else args.requests // 5
                    results["http.server", name, clients] = asyncio.run(
                        load(base, path, clients=clients, total=total, encoding=args.encoding)
                    )
    print(
        f"{'server':12} {'case':34} {'c':>4} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'failed':>6} {'ratio':>6}"
    )
    for (server, name, clients), r in results.items():
        other = results.get(("http.server", name, clients))
        ratio = f"{r['rps'] / other['rps']:.2f}" if server == "famcal" and other else ""
        print(
            f"{server:12} {name:34} {clients:>4} {r['rps']:>8.0f} {r['p50_ms']:>8.1f} "
            f"{r['p99_ms']:>8.1f} {r['failed']:>6.0f} {ratio:>6}"
        )
    return 1 if any(r["failed"] for (s, _, c), r in results.items() if s == "famcal") else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
