"""Load on ``famcal serve`` (uvicorn) against ``python -m http.server`` and nginx on the
same folder.

Usage: python benchmarks/bench_serve.py [--folder PUBLISHED] [--requests N] [--memory N]
Without ``--folder`` it publishes the bundled demo first (``famcal demo``, about 20 s) into a
temporary folder. The servers run as separate processes on 127.0.0.1 (nginx when installed,
with a config in a temporary folder); an asyncio client (httpx) sends N requests per case at
1, 10 and 100 concurrent clients, plain and gzip, and prints requests/s, p50/p99 latency and
failures per case, with famcal's ratio to http.server and to nginx for the static files (they
cannot answer the filtered or change feed). Then robustness: the latency of a fresh client
while 150 half-open connections (a partial request line, then nothing) hang, per server; and
famcal's RSS sampled over ``--memory`` (100,000) requests of filtered and change feeds. Not a
test: the figures depend on the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
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


NGINX_CONF = """
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi; uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
    types {{
        text/calendar ics; application/feed+json json; application/ld+json jsonld;
        text/html html; text/javascript js; text/css css; text/csv csv; text/plain txt;
    }}
    charset utf-8;
    charset_types text/calendar application/feed+json text/csv text/plain;
    gzip on; gzip_min_length 1024; gzip_types text/calendar application/feed+json;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        add_header Access-Control-Allow-Origin *;
    }}
}}
"""


def nginx_command(tmp: Path, root: Path, port: int) -> list[str] | None:
    binary = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if binary is None:
        return None
    conf = tmp / "nginx.conf"
    conf.write_text(NGINX_CONF.format(tmp=tmp, root=root, port=port))
    return [binary, "-p", str(tmp), "-c", str(conf), "-e", str(tmp / "error.log")]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@contextmanager
def running(command: list[str], port: int) -> Iterator[tuple[str, int]]:
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
        yield base, proc.pid
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


def half_open(base: str, path: str, *, hanging: int = 150, probes: int = 5) -> dict[str, float]:
    """The slowest of ``probes`` fresh requests while ``hanging`` sockets sit on a partial
    request line; and how many of the hanging sockets the server had closed by then."""
    port = int(base.rsplit(":", 1)[1])
    stalled = []
    for _ in range(hanging):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(b"GET /alle.json HTTP/1.1\r\nHost: 127.0.0.1")  # no end of headers
        stalled.append(sock)
    time.sleep(0.5)
    worst, failed = 0.0, 0
    try:
        for _ in range(probes):
            started = time.perf_counter()
            try:
                if httpx.get(base + path, timeout=10).status_code != 200:
                    failed += 1
            except httpx.HTTPError:
                failed += 1
            worst = max(worst, time.perf_counter() - started)
    finally:
        for sock in stalled:
            sock.close()
    return {"worst_s": worst, "failed": failed}


async def memory(base: str, pid: int, *, total: int, clients: int = 50) -> list[tuple[int, float]]:
    """famcal's RSS after every tenth of ``total`` requests of filtered and change feeds
    (many distinct queries, so the kept bodies reach their bound)."""
    districts = ["mitte", "linden-limmer", "vahrenwald-list", "misburg-anderten", "nord"]
    paths = [f"/feed.json?bezirk={d}&alter={a}" for d in districts for a in range(0, 18)] + [
        f"/feed.json?since=2000-01-01T00:00:00Z&limit={n}" for n in range(1, 60)
    ]
    samples = [(0, rss_mib(pid))]
    done = failed = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        step = total // 10

        async def worker(start: int, count: int) -> None:
            nonlocal failed
            for n in range(start, start + count):
                try:
                    if (await client.get(paths[n % len(paths)])).status_code != 200:
                        failed += 1
                except httpx.HTTPError:
                    failed += 1

        while done < total:
            share = step // clients
            await asyncio.gather(*(worker(done + i * share, share) for i in range(clients)))
            done += share * clients
            samples.append((done, rss_mib(pid)))
    print(f"memory run: {failed} of {done} requests failed", flush=True)
    return samples


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
    parser.add_argument("--memory", type=int, default=100_000, help="requests for the RSS run")
    args = parser.parse_args()
    results: dict[tuple[str, str, str, int], dict[str, float]] = {}
    robust: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        folder = (args.folder or publish_demo(Path(scratch))).resolve()
        famcal = [sys.executable, "-m", "famcal", "serve", "--out", str(folder), "--port"]
        stdlib = [sys.executable, "-m", "http.server", "-d", str(folder), "-b", "127.0.0.1"]
        servers: dict[str, Callable[[int], list[str] | None]] = {
            "famcal": lambda port: [*famcal, str(port)],
            "http.server": lambda port: [*stdlib, str(port)],
            "nginx": lambda port: nginx_command(Path(scratch), folder, port),
        }
        samples: list[tuple[int, float]] = []
        for server, command_of in servers.items():
            port = free_port()
            command = command_of(port)
            if command is None:
                print(f"{server}: not installed, left out")
                continue
            with running(command, port) as (base, pid):
                for encoding in ("identity", "gzip"):
                    if server == "http.server" and encoding == "gzip":
                        continue  # it never compresses
                    for name, path in CASES.items():
                        if server != "famcal" and not name.startswith("static"):
                            continue
                        for clients in CONCURRENCY:
                            total = args.requests if clients > 1 else args.requests // 5
                            r = asyncio.run(
                                load(base, path, clients=clients, total=total, encoding=encoding)
                            )
                            results[server, encoding, name, clients] = r
                            print(  # as it goes: a long run shows its figures early
                                f"  {server} {encoding} {name} c={clients}: {r['rps']:.0f}/s "
                                f"p99 {r['p99_ms']:.1f} ms, {r['failed']:.0f} failed",
                                flush=True,
                            )
                robust[server] = half_open(base, "/familie.ics")
                print(f"  {server} half-open: {robust[server]}", flush=True)
                if server == "famcal" and args.memory:
                    samples = asyncio.run(memory(base, pid, total=args.memory))
                    print(f"  famcal RSS: {samples}", flush=True)
    print(
        f"{'server':12} {'enc':8} {'case':34} {'c':>4} {'req/s':>8} {'p50 ms':>8} "
        f"{'p99 ms':>8} {'failed':>6} {'÷http.s':>7} {'÷nginx':>7}"
    )
    for (server, encoding, name, clients), r in results.items():
        ratios = []
        for other in ("http.server", "nginx"):
            theirs = results.get((other, encoding, name, clients))
            ok = server == "famcal" and theirs
            ratios.append(f"{r['rps'] / theirs['rps']:.2f}" if ok and theirs else "")
        print(
            f"{server:12} {encoding:8} {name:34} {clients:>4} {r['rps']:>8.0f} "
            f"{r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f} {r['failed']:>6.0f} "
            f"{ratios[0]:>7} {ratios[1]:>7}"
        )
    print("\n150 half-open connections hanging; a fresh client's slowest of 5 requests:")
    for server, r in robust.items():
        print(f"  {server:12} {r['worst_s'] * 1000:8.1f} ms  failed {r['failed']:.0f}")
    if samples:
        print(f"\nfamcal RSS over {args.memory} filtered/change-feed requests (MiB):")
        print("  " + "  ".join(f"{n // 1000}k:{mib:.1f}" for n, mib in samples))
    failed = any(r["failed"] for (s, _, _, c), r in results.items() if s == "famcal")
    slow = robust.get("famcal", {}).get("worst_s", 0) >= 1 or robust.get("famcal", {}).get("failed")
    return 1 if failed or slow else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
