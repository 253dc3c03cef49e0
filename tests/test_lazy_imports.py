"""What a famcal process imports when: the store loads sqlite-utils without pandas and numpy
(``core.store.backend``), the reports import pandas at their first count or when
``feeds.reports.load_libraries`` says so, and pandas stays importable as usual throughout."""

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
        import pandas, numpy  # not hidden from anyone else
        print(loaded, pandas.__name__, numpy.__name__)
        """
    )
    assert out == "[] pandas numpy"


def test_the_reports_load_pandas_when_they_count_or_are_told() -> None:
    out = python(
        """
        import sys
        from datetime import datetime, timezone
        from feeds.reports import build_reports
        before = "pandas" in sys.modules
        build_reports([], now=datetime(2026, 12, 1, 8, tzinfo=timezone.utc), history=None)
        counted = "pandas" in sys.modules
        print(before, counted)
        """
    )
    assert out == "False True"
    assert (
        python(
            "import sys\nfrom feeds.reports import load_libraries\nload_libraries()\n"
            "print('pandas' in sys.modules)"
        )
        == "True"
    )
