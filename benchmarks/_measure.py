"""Run one command and print its wall time and the peak memory of it and its children.

Usage: python benchmarks/_measure.py CMD [ARGS…]  → prints one JSON line
{"seconds": float, "cpu_seconds": float, "peak_rss_mb": float, "returncode": int}
(cpu_seconds: user + system time of the command and every descendant it waited for — steadier
than wall time on a loaded machine). This process makes itself the child subreaper of the
command's tree (Linux prctl), so descendants orphaned before they end — the forkserver of the
crawl's parallel ICS parse and its workers — are reaped here and their CPU time counted
too. A separate process per measurement, because RUSAGE_CHILDREN keeps the maximum over
everything already waited for.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import resource
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36


def reap_orphans() -> None:
    while True:
        try:
            os.wait()
        except ChildProcessError:
            return


def main() -> int:
    # Not Linux: orphaned descendants' CPU is not counted.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    started = time.perf_counter()
    proc = subprocess.run(
        sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
    )
    seconds = time.perf_counter() - started
    reap_orphans()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak_kb = usage.ru_maxrss
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu_seconds": usage.ru_utime + usage.ru_stime,
                "peak_rss_mb": peak_kb / 1024,
                "returncode": proc.returncode,
                "stderr": proc.stderr.decode(errors="replace")[-500:],
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
