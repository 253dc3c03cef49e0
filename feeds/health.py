"""health.json: the operators' view of each source (contract.md, "Published folder").

Contract: ``health_document(sources, now=…)`` returns
``{"generated": ISO, "sources": {id: {"status", "events", "error", "last_success",
"recent": [{"at", "status", "events"}…], "skipped", "rejected", "repaired"}}}`` —
``recent`` extends the contract with the event counts of the last runs, newest first;
``skipped`` (components the spider passed over), ``rejected`` (records the normalizer
refused) and ``repaired`` (records it fixed) count the source's problems by reason (#8);
``problems`` is contract.md's one count per reason of all of them (``problems``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from core.store import SourceHealth


def problems(source: SourceHealth) -> dict[str, int]:
    """contract.md's ``problems``: the crawl's reasons (skips, pages not fetched, budgets,
    repairs) as they are, the normalizer's rejections as ``rejected: <reason>``, and every
    repair (crawl and normalizer) under ``repaired``."""
    counts = Counter(source.skipped)
    for reason, count in source.rejected.items():
        counts[f"rejected: {reason}"] += count
    repaired = sum(source.repaired.values())
    if repaired:
        counts["repaired"] += repaired
    return dict(sorted(counts.items()))


def health_document(sources: Sequence[SourceHealth], *, now: datetime) -> dict[str, Any]:
    return {
        "generated": now.isoformat(),
        "sources": {
            s.id: {
                "name": s.name,
                "status": s.status.value if s.status else "failed",
                "events": s.events,
                "error": s.error,
                "last_success": s.last_success,
                "recent": [
                    {"at": h.get("at"), "status": h.get("status"), "events": h.get("events")}
                    for h in s.history
                ],
                "problems": problems(s),
                "skipped": s.skipped,
                "rejected": s.rejected,
                "repaired": s.repaired,
            }
            for s in sources
        },
    }
