"""The direct VEVENT writer (issue #9) against the icalendar-built reference it replaced.

Contract under test: ``feeds.ics.vevent`` gives the same bytes as
``tests.ics_reference.icalendar_vevent`` (``icalendar.Event.new(...).to_ical()``) for every
event the model holds — generated ones full of TEXT specials, CR/LF, multi-byte characters
at fold boundaries, very long and empty values, None fields, all-day and timed, every
status, with and without GEO — raises where the reference raised, equals it for every event
of a demo run, and icalendar reads its output back to the event's values."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import icalendar
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from core.model import BERLIN, Event, Location, SourceRef, Status, Tags, Topic
from core.store import Store
from core.urls import safe_url
from feeds import ics
from feeds.labels import CATEGORY_LABELS, describe_event, summary
from tests.ics_reference import icalendar_vevent

GENERATED = settings(
    max_examples=400,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Text made of the pieces that matter to escaping and folding: TEXT specials, every line
# break form, icalendar's ``\N``, the folding's own escape starts (``\`` and ``^``), 2-, 3-
# and 4-octet characters, and runs of ASCII whose lengths put those anywhere around the 74
# octets of a folded line; plus arbitrary characters.
PIECES = [
    "\\", ";", ",", ":", "^", '"', "\n", "\r", "\r\n", "\t", "\\N", "\\n", " ", "",
    "ä", "ß", "€", "→", "😀", "𝄞", "\u2028", "\x85", "\x00",
]  # fmt: skip
texts = st.lists(
    st.one_of(
        st.sampled_from(PIECES),
        st.integers(0, 160).map(lambda n: "x" * n),
        st.characters(codec="utf-8"),
        st.text(max_size=20),
    ),
    max_size=40,
).map("".join)
short_texts = st.one_of(st.just(""), texts.map(lambda t: t[:30]))

berlin_times = st.datetimes(
    min_value=datetime(1900, 1, 1),  # noqa: DTZ001 - bounds of an aware strategy
    max_value=datetime(2199, 12, 31),  # noqa: DTZ001
    timezones=st.just(BERLIN),
)
dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2199, 12, 31))
durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400))


@st.composite
def spans(draw: st.DrawFn) -> tuple[date, date | None, bool]:
    """(start, end, all_day): mostly as normalize makes them, sometimes an end before the
    start or of the other kind (the reference raises on both)."""
    all_day = draw(st.booleans())
    start: date = draw(dates if all_day else berlin_times)
    end: date | None = draw(
        st.one_of(
            st.none(),
            durations.map(lambda d: start + (timedelta(days=max(d.days, 1)) if all_day else d)),
        )
    )
    if draw(st.integers(0, 19)) == 0:
        end = start - timedelta(days=1, seconds=draw(st.integers(0, 3600)))
    if draw(st.integers(0, 19)) == 0:
        end = draw(berlin_times if all_day else dates)
    return start, end, all_day


urls = st.one_of(
    st.none(),
    st.just("https://example.org/e?a=1,2;b=3&c=%20#x"),
    short_texts.map(lambda t: "https://example.org/" + t),
    texts.map(lambda t: "http://" + "h" * 60 + ".example/" + t),
    st.sampled_from(["javascript:alert(1)", "data:text/html,x", " https://x.de/a ", ""]),
)
# normalize keeps coordinates finite and in range; the writers print any float the same way.
coordinates = st.one_of(st.none(), st.floats(-90, 90), st.floats())
valid_coordinates = st.one_of(st.none(), st.floats(-90, 90))


@st.composite
def events(draw: st.DrawFn, coordinates: st.SearchStrategy[float | None] = coordinates) -> Event:
    start, end, all_day = draw(spans())
    tags = draw(
        st.one_of(
            st.none(),
            st.builds(
                Tags,
                family=st.booleans(),
                age_min=st.one_of(st.none(), st.integers(0, 99)),
                age_max=st.one_of(st.none(), st.integers(0, 99)),
                free=st.one_of(st.none(), st.booleans()),
                aktivpass=st.booleans(),
                status=st.sampled_from(Status),
                topics=st.lists(st.sampled_from(Topic), unique=True, max_size=4).map(tuple),
                reasons=st.lists(texts, max_size=5).map(tuple),
            ),
        )
    )
    return Event(
        uid=draw(st.one_of(st.just("abc@famcal-hannover"), texts)),
        title=draw(texts),
        start=start,
        end=end,
        all_day=all_day,
        description=draw(texts),
        url=draw(urls),
        location=Location(
            name=draw(short_texts),
            street=draw(short_texts),
            postal_code=draw(st.sampled_from(["", "30159", "3,1;"])),
            city=draw(short_texts),
            lat=draw(coordinates),
            lon=draw(coordinates),
        ),
        categories=tuple(
            draw(
                st.lists(st.one_of(short_texts, st.sampled_from(list(CATEGORY_LABELS))), max_size=4)
            )
        ),
        price=draw(st.one_of(st.none(), short_texts)),
        sources=tuple(SourceRef(id=i) for i in draw(st.lists(short_texts, min_size=1, max_size=3))),
        tags=tags,
        sequence=draw(st.one_of(st.integers(0, 3), st.integers(-3, 10**9))),
        updated=draw(
            st.one_of(
                st.none(),
                berlin_times,
                st.datetimes(
                    min_value=datetime(1901, 1, 1),  # noqa: DTZ001 - bounds of an aware strategy
                    max_value=datetime(2198, 1, 1),  # noqa: DTZ001
                    timezones=st.just(UTC),
                ),
            )
        ),
    )


def outcome(write: Any, event: Event) -> bytes | str:
    """The bytes, or the kind of error (icalendar's InvalidCalendar is a ValueError)."""
    try:
        data: bytes = write(event)
    except ValueError:
        return "ValueError"
    except TypeError:
        return "TypeError"
    return data


def base(**fields: Any) -> Event:
    values: dict[str, Any] = {
        "uid": "abc@famcal-hannover",
        "title": "Kindertheater",
        "start": datetime(2026, 7, 1, 10, tzinfo=BERLIN),
        "end": datetime(2026, 7, 1, 11, tzinfo=BERLIN),
        "all_day": False,
        "sources": (SourceRef(id="src"),),
        "updated": datetime(2026, 11, 20, 9, 30, tzinfo=BERLIN),
    }
    values.update(fields)
    return Event(**values)


@GENERATED
@given(events())
@example(base(title="x" * 64 + "😀" * 3))  # the emoji straddles octet 74
@example(base(title="x" * 65 + "\\"))  # an escape start at the end of a full line
@example(base(title="x" * 65 + "^" + "y" * 80))
@example(base(title="x" * 64 + "\\\\" + "y" * 80))  # "\\\\" escaped: the pair split?
@example(base(title="", description="", location=Location(), url=None, end=None))
@example(base(title="a\r\nb\rc\nd\\Ne\\nf", sequence=0, tags=Tags(status=Status.CANCELLED)))
@example(base(start=date(2026, 6, 1), end=None, all_day=True, updated=None))
@example(base(description="Grüße; 😀, \\ €^ " * 700))  # as long as normalize lets it be
def test_same_bytes_as_icalendar(event: Event) -> None:
    assert outcome(ics.vevent, event) == outcome(icalendar_vevent, event)


@pytest.mark.parametrize("width", range(60, 80))
@pytest.mark.parametrize("char", ["ä", "€", "😀", "\\", "^", ";", "\n"])
def test_every_fold_position(width: int, char: str) -> None:
    # Each special character at each position around the first and second fold.
    for title in ("x" * width + char * 3 + "y" * 90, "x" * (width + 74) + char + "y" * 10):
        event = base(title=title)
        assert ics.vevent(event) == icalendar_vevent(event)
        assert all(len(line) <= 75 for line in ics.vevent(event).split(b"\r\n"))


def test_every_event_of_the_demo_run(demo_out: Path) -> None:
    # conftest's demo_out runs `famcal demo --db <dir>/demo.db --out <dir>/out`.
    store = Store(demo_out.parent / "demo.db")
    stored = store.events()
    assert len(stored) > 100
    assert any(e.all_day for e in stored) and any(not e.all_day for e in stored)
    for event in stored:
        assert ics.vevent(event) == icalendar_vevent(event), event.uid
    # And the published feed is made of exactly these blocks.
    published = (demo_out / "alle.ics").read_bytes()
    shown = published.count(b"BEGIN:VEVENT")
    assert shown > 100
    assert sum(ics.vevent(e) in published for e in stored) == shown


def unescaped(text: str) -> str:
    """What a reader gets back from TEXT: icalendar's writer turns ``\\N``, CRLF and a lone
    CR into line breaks."""
    return text.replace("\\N", "\n").replace("\r\n", "\n").replace("\r", "\n")


@GENERATED
@given(events(coordinates=valid_coordinates))
def test_icalendar_reads_the_values_back(event: Event) -> None:
    try:
        data = ics.vevent(event)
    except (ValueError, TypeError):
        return
    cal = icalendar.Calendar.from_ical(
        ics.calendar(uid="u@x", name="N", description="D", vevents=[data])
    )
    (ev,) = cal.events

    def text(name: str) -> str | None:
        value = ev.get(name)
        return None if value is None else str(value)

    # icalendar's reader unescapes in passes that misread a literal "\n" or "\N" (backslash
    # and letter) as a line break; the byte-equality test covers those texts.
    for name, value in [
        ("SUMMARY", summary(event)),
        ("UID", event.uid),
        ("DESCRIPTION", describe_event(event)),
        ("LOCATION", event.location.one_line() or None),
    ]:
        if value is not None and "\\n" in value.lower():
            continue
        assert text(name) == (None if value is None else unescaped(value)), name
    assert ev.start == strip(event.start)
    if event.end is None and event.all_day:
        assert "DTEND" not in ev
    elif event.end is None:
        # A timed event without an end lasts the default duration in calendars.
        assert ev.end == strip(event.start + ics.DEFAULT_DURATION)
    else:
        assert ev.end == strip(event.end)
    if not event.all_day:
        assert ev["DTSTART"].params["TZID"] == "Europe/Berlin"
    stamp = (event.updated or event.start_datetime()).astimezone(UTC).replace(microsecond=0)
    assert ev.decoded("DTSTAMP") == stamp == ev.decoded("LAST-MODIFIED")
    assert ev["SEQUENCE"] == event.sequence
    status = {"scheduled": "CONFIRMED", "cancelled": "CANCELLED", "postponed": "TENTATIVE"}
    assert str(ev["STATUS"]) == status[event.status.value]
    assert (text("TRANSP") == "TRANSPARENT") == (event.status is Status.CANCELLED)
    url = safe_url(event.url)
    if url is None or "\\" not in url:  # its reader unescapes "\\" in a URI value too
        assert text("URL") == url
    labels = [CATEGORY_LABELS.get(c, c) for c in ics.feed_categories(event)]
    if not any("\\n" in c.lower() for c in labels):
        # No categories: no CATEGORIES property at all (never an empty one).
        assert ev.categories == [unescaped(c) for c in labels]
    lat, lon = event.location.lat, event.location.lon
    if lat is None or lon is None:
        assert "GEO" not in ev
    else:
        assert (ev["GEO"].latitude, ev["GEO"].longitude) == (lat, lon)


def strip(value: date) -> date:
    """ICS times have whole seconds."""
    return value.replace(microsecond=0) if isinstance(value, datetime) else value


def test_times_are_written_in_berlin_and_must_be_aware() -> None:
    # The model holds Europe/Berlin times only (normalize, Event.from_dict); another zone
    # is written as the same instant in Europe/Berlin, the feed's one VTIMEZONE — where
    # icalendar wrote a TZID the feed does not define.
    utc = base(start=datetime(2026, 7, 1, 8, tzinfo=UTC), end=None)
    assert b"DTSTART;TZID=Europe/Berlin:20260701T100000\r\n" in ics.vevent(utc)
    naive = base(start=datetime(2026, 7, 1, 8), end=None)  # noqa: DTZ001 - the error case
    with pytest.raises(ValueError, match="naive"):
        ics.vevent(naive)
