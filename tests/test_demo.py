"""``famcal demo`` publishes a real calendar from the bundled snapshot, offline."""

from __future__ import annotations

import json
from pathlib import Path

import icalendar
import pytest

from tests.conftest import famcal

pytestmark = pytest.mark.e2e


def test_demo_publishes_the_snapshot(tmp_path: Path) -> None:
    result = famcal("demo", "--db", str(tmp_path / "demo.db"), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out"
    familie = icalendar.Calendar.from_ical((out / "familie.ics").read_bytes())
    assert familie.get_missing_tzids() == set()
    alle = json.loads((out / "alle.json").read_text())["items"]
    assert len(alle) >= 40
    events = [i["_event"] for i in alle]
    assert any(e["status"] == "cancelled" for e in events)
    assert any(not e["family"] for e in events) and any(e["family"] for e in events)
    # A recurring source event is expanded into occurrences sharing its title.
    titles = [e["title"] for e in events]
    assert max(titles.count(t) for t in set(titles)) >= 4
    health = json.loads((out / "health.json").read_text())
    assert all(s["status"] == "ok" for s in health["sources"].values())
    assert "famcal demo:" in result.stdout
