"""The run lock (issue #8): one famcal pipeline command per database at a time; the second
says who holds the lock and exits 1, or waits up to --wait seconds."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from core.lock import LockBusy, lock_path, run_lock
from tests.conftest import famcal


def test_second_holder_is_refused_with_the_holders_pid(tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    with run_lock(db, since="2026-11-25T08:00:00+01:00", command="famcal run") as path:
        assert path == lock_path(db) == tmp_path / "events.db.lock"
        with (
            pytest.raises(LockBusy, match=rf"\(pid {os.getpid()} since 2026-11-25T08:00"),
            run_lock(db, since="later", command="famcal run"),
        ):
            pass
    with run_lock(db, since="later", command="famcal run"):
        pass  # released: free again


def test_waiting_holder_gets_the_lock_when_it_is_released(tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    first = run_lock(db, since="t0", command="famcal run")
    first.__enter__()
    threading.Timer(0.5, first.__exit__, args=(None, None, None)).start()
    with run_lock(db, wait=10, since="t1", command="famcal run"):
        assert "since t1" in lock_path(db).read_text()


@pytest.mark.parametrize("command", ["run", "crawl", "process", "publish"])
def test_cli_refuses_while_another_run_holds_the_lock(tmp_path: Path, command: str) -> None:
    db = tmp_path / "events.db"
    sources = tmp_path / "sources.toml"
    sources.write_text(
        '[sources.a]\ntype = "ics"\nname = "a"\nstart_urls = ["http://127.0.0.1:9/"]\n'
    )
    with run_lock(db, since="2026-11-25T08:00:00+01:00", command="famcal run"):
        result = famcal(
            command,
            *("--sources", str(sources), "--db", str(db), "--out", str(tmp_path / "out")),
            *("--wait", "0.5"),
        )
    assert result.returncode == 1
    assert "another famcal run holds the lock" in result.stderr
    assert f"pid {os.getpid()} since 2026-11-25T08:00:00+01:00" in result.stderr
    assert "after waiting 0.5 s" in result.stderr
    assert not (tmp_path / "out").exists()


def test_cli_waits_for_the_lock(tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    held = run_lock(db, since="t0", command="famcal run")
    held.__enter__()
    threading.Timer(1.0, held.__exit__, args=(None, None, None)).start()
    result = famcal("publish", "--db", str(db), "--out", str(tmp_path / "out"), "--wait", "30")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "health.json").is_file()
