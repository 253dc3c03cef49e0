"""core.gctune: the collector runs less often in famcal's batch processes, never not at all."""

from __future__ import annotations

import gc
import subprocess
import sys

from core.gctune import GEN0_THRESHOLD, tune_gc


def test_tune_gc_raises_only_the_first_threshold() -> None:
    before = gc.get_threshold()
    try:
        tune_gc()
        assert gc.get_threshold() == (GEN0_THRESHOLD, before[1], before[2])
        assert gc.isenabled()
    finally:
        gc.set_threshold(*before)


def test_the_famcal_command_runs_with_it() -> None:
    code = (
        "import gc, sys; from famcal.cli import main; sys.argv=['famcal', 'sources', '--help'];"
        "\ntry: main()\nexcept SystemExit: print(gc.get_threshold()[0])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == str(GEN0_THRESHOLD)


def test_the_heap_is_frozen_when_the_process_exits() -> None:
    """The interpreter's last collection would traverse a run's whole heap to find nothing:
    a process that tuned its collector freezes the heap at exit (an exit hook registered
    before ``tune_gc`` runs after its own)."""
    code = (
        "import atexit, gc\n"
        "atexit.register(lambda: print('frozen', gc.get_freeze_count()))\n"
        "from core.gctune import tune_gc\n"
        "tune_gc()\n"
        "kept = [[i] for i in range(10_000)]\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    word, count = out.stdout.split()
    assert word == "frozen" and int(count) >= 10_000
