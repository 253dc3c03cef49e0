"""What a famcal process imports: the store loads sqlite-utils without pandas and numpy
(``core.store.backend``), even where they are installed; the reports count without them; and
numpy (installed with the dev tools) stays importable as usual throughout."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def python(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_store_and_the_stages_load_without_pandas(tmp_path: Path) -> None:
    out = python(
        f"""
        import sys
        import famcal.run  # every stage, the store and the reports
        from core.store import Store
        loaded = [name for name in ("pandas", "numpy") if name in sys.modules]
        store = Store({str(tmp_path / "events.db")!r})  # sqlite-utils works as before
        store.set_meta("k", "v")
        assert store.meta("k") == "v"
        import sqlite_utils.db
        assert sqlite_utils.db.pd is None and sqlite_utils.db.np is None
        import numpy  # not hidden from anyone else
        print(loaded, numpy.__name__)
        """
    )
    assert out == "[] numpy"


def test_the_reports_count_without_pandas() -> None:
    out = python(
        """
        import sys
        from datetime import datetime, timezone
        from feeds.reports import build_reports
        build_reports([], now=datetime(2026, 12, 1, 8, tzinfo=timezone.utc), history=None)
        print([name for name in ("pandas", "numpy") if name in sys.modules])
        """
    )
    assert out == "[]"
