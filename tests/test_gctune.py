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
