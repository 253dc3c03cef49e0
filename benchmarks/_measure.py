"""Run one command and print its wall time and the peak memory of it and its children.

Usage: python benchmarks/_measure.py CMD [ARGS…]  → prints one JSON line
{"seconds": float, "cpu_seconds": float, "peak_rss_mb": float, "returncode": int}
(cpu_seconds: user + system time of the command and every descendant it waited for — steadier
than wall time on a loaded machine). A separate process per
measurement, because RUSAGE_CHILDREN keeps the maximum over everything already waited for.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time


def main() -> int:
    started = time.perf_counter()
    proc = subprocess.run(
        sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
    )
    seconds = time.perf_counter() - started
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
