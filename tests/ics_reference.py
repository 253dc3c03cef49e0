"""The icalendar-built VEVENT that ``feeds.ics.vevent`` must equal byte for byte (issue #9).

Contract: ``icalendar_vevent(event) -> bytes`` is the publish code of ``feeds/ics.py`` as it
was before the direct writer replaced it (``icalendar.Event.new`` + ``to_ical``), kept
verbatim apart from its name. It is the reference of the equality tests and of
``benchmarks/bench_vevent.py``, nothing else: production has one writer. It shares with the
writer only what decides *what* is published (``describe_event``, ``summary``,
``feed_categories``, ``DEFAULT_DURATION``, ``CATEGORY_LABELS``, ``safe_url``), never how it
is serialized.
"""

from __future__ import annotations

from datetime import UTC, datetime

import icalendar
from icalendar.enums import STATUS

from core.model import Event, Status
from core.urls import safe_url
from feeds.ics import DEFAULT_DURATION, feed_categories
from feeds.labels import CATEGORY_LABELS, describe_event, summary

_STATUS: dict[Status, STATUS] = {
    Status.SCHEDULED: STATUS.CONFIRMED,
    Status.CANCELLED: STATUS.CANCELLED,
    Status.POSTPONED: STATUS.TENTATIVE,
}


def icalendar_vevent(event: Event) -> bytes:
    end = event.end
    if end is None and isinstance(event.start, datetime):
        end = event.start + DEFAULT_DURATION
    stamp = (event.updated or event.start_datetime()).astimezone(UTC).replace(microsecond=0)
    component = icalendar.Event.new(
        uid=event.uid,
        stamp=stamp,
        last_modified=stamp,
        sequence=event.sequence,
        summary=summary(event),
        start=event.start,
        end=end,
        description=describe_event(event),
        location=event.location.one_line() or None,
        url=safe_url(event.url),
        status=_STATUS[event.status],
        categories=[CATEGORY_LABELS.get(c, c) for c in feed_categories(event)] or None,
    )
    if event.location.lat is not None and event.location.lon is not None:
        component.add("GEO", (event.location.lat, event.location.lon))
    if event.status is Status.CANCELLED:
        # Some clients hide cancelled entries only when they are also transparent.
        component.add("TRANSP", "TRANSPARENT")
    data: bytes = component.to_ical()
    return data
