"""``python -m tests.paused_run STAGE ARGS…``: the command ``famcal ARGS…`` with a hook
(``famcal.run.Hooks``) that announces itself on stderr and waits before STAGE, so that a test
can kill the run exactly there."""

from __future__ import annotations

import sys
import time

from famcal.cli import main
from famcal.run import Hooks


def entry(argv: list[str]) -> None:
    stage, *args = argv

    def pause(name: str) -> None:
        if name == stage:
            print(f"famcal: test pause before {stage}", file=sys.stderr, flush=True)
            time.sleep(120)  # the test kills the run long before

    main.main(args, prog_name="famcal", obj=Hooks(before_stage=pause))


if __name__ == "__main__":
    entry(sys.argv[1:])
