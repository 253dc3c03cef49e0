"""Hand-built events for the feed tests: every district, age group and topic, summer and
winter times (around both DST switches), all-day, cancelled, free, hostile text."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from core.model import (
    BERLIN,
    AgeGroup,
    District,
    Event,
    Location,
    SourceRef,
    Status,
    Tags,
    Topic,
)

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=BERLIN)
UPDATED = datetime(2026, 11, 20, 9, 30, tzinfo=BERLIN)
HOSTILE = '<script>alert("x")</script> & </style><b>fett</b>'


def event(n: int, **fields: object) -> Event:
    start = fields.pop("start", datetime(2026, 12, 1, 10, tzinfo=BERLIN) + timedelta(days=n))
    values: dict[str, object] = {
        "uid": f"ev{n:03d}@famcal-hannover",
        "title": f"Termin {n}",
        "start": start,
        "end": start + timedelta(hours=2) if isinstance(start, datetime) else None,
        "all_day": not isinstance(start, datetime),
        "location": Location(
            name=f"Ort {n}", street="Str. 1", postal_code="30159", city="Hannover"
        ),
        "url": f"https://example.org/e/{n}",
        "updated": UPDATED,
        "sources": (SourceRef(id="src", url=f"https://example.org/e/{n}", record_id=str(n)),),
        "tags": Tags(family=True),
    }
    values.update(fields)
    return Event(**values)  # type: ignore[arg-type]


def sample_events() -> list[Event]:
    events: list[Event] = []
    districts, groups, topics = list(District), list(AgeGroup), list(Topic)
    for n in range(26):
        events.append(
            event(
                n,
                tags=Tags(
                    family=n % 5 != 4,
                    district=districts[n % len(districts)],
                    age_groups=(groups[n % len(groups)],),
                    age_min=groups[n % len(groups)].bounds[0],
                    age_max=groups[n % len(groups)].bounds[1],
                    topics=(topics[n % len(topics)],),
                    free=n % 3 == 0,
                ),
            )
        )
    # Around the DST switches of 2027 (28 March, 31 October) and deep summer.
    for n, start in enumerate(
        [
            datetime(2027, 3, 28, 1, 30, tzinfo=BERLIN),
            datetime(2027, 3, 28, 3, 30, tzinfo=BERLIN),
            datetime(2027, 7, 15, 10, 0, tzinfo=BERLIN),
            datetime(2027, 10, 31, 1, 30, tzinfo=BERLIN),
            datetime(2027, 10, 31, 3, 30, tzinfo=BERLIN),
        ],
        start=100,
    ):
        events.append(event(n, start=start, tags=Tags(family=True, topics=(Topic.NATUR,))))
    events.append(event(110, start=date(2027, 6, 1), end=date(2027, 6, 4), all_day=True))
    events.append(
        event(
            111,
            title="Laternenfest (abgesagt)",
            tags=Tags(family=True, status=Status.CANCELLED, district=District.LINDEN_LIMMER),
        )
    )
    events.append(
        event(
            112,
            title=HOSTILE,
            description=HOSTILE,
            url="javascript:alert(1)",
            location=Location(name='"><img src=x onerror=alert(1)>', lat=52.37, lon=9.73),
            tags=Tags(family=True, free=True, district=District.LINDEN_LIMMER),
        )
    )
    # Outside the window: 31 days before now and 366 days after.
    events.append(event(120, start=NOW - timedelta(days=31)))
    events.append(event(121, start=NOW + timedelta(days=366)))
    return events
