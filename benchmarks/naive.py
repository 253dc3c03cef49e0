"""The baseline of issue #9: a naive script that only parses an ICS file with icalendar,
expands it with recurring-ical-events and writes one ICS and one JSON file.

Usage: python benchmarks/naive.py INPUT.ics [INPUT.ics …] OUT_DIR NOW_ISO (several inputs: each
parsed and expanded, all occurrences written to the same two files)
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta
from pathlib import Path

import icalendar
import recurring_ical_events


def main(argv: list[str]) -> int:
    sources, out, now = argv[1:-2], Path(argv[-2]), datetime.fromisoformat(argv[-1])
    occurrences = []
    for source in sources:
        calendar = icalendar.Calendar.from_ical(Path(source).read_bytes())
        occurrences += recurring_ical_events.of(calendar).between(
            now - timedelta(days=30), now + timedelta(days=365)
        )
    result = icalendar.Calendar.new(prodid="-//naive//DE", uid="naive@bench")
    items = []
    for occurrence in occurrences:
        result.add_component(occurrence)
        items.append(
            {
                "id": f"{occurrence.get('UID')}#{occurrence.start.isoformat()}",
                "title": str(occurrence.get("SUMMARY", "")),
                "start": occurrence.start.isoformat(),
                "end": occurrence.end.isoformat() if occurrence.end else None,
                "location": str(occurrence.get("LOCATION", "")),
                "description": str(occurrence.get("DESCRIPTION", "")),
            }
        )
    result.add_missing_timezones()
    out.mkdir(parents=True, exist_ok=True)
    (out / "naive.ics").write_bytes(result.to_ical())
    (out / "naive.json").write_text(json.dumps({"items": items}, ensure_ascii=False))
    print(len(items))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
