"""Fuzzing the readers with hypothesis (issue #8): whatever a source sends, the date parser,
the normalizer and the ICS reader answer with a value, a counted rejection or skip, or
``NotACalendar`` — never another exception. Derandomized, modest example counts: the suite
stays fast and CI stable."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from core.model import Location, RawEvent, as_datetime
from pipeline.normalize import MAX_DESCRIPTION, Rejected, normalize, parse_time
from spiders.ics import NotACalendar, Skip, parse_ics
from tests.conftest import FIXTURES, NOW

FUZZ = settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
WINDOW = {"window_start": NOW - timedelta(days=30), "window_end": NOW + timedelta(days=365)}
FAMILY_ICS = (FIXTURES / "ics" / "family.ics").read_bytes()

times = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.dates().map(date.isoformat),
    st.datetimes().map(datetime.isoformat),
    st.datetimes(timezones=st.timezones()).map(datetime.isoformat),
    st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.+Z-]{0,20}\Z"),
)
zones = st.one_of(st.none(), st.sampled_from(["Europe/Berlin", "UTC", "Nowhere/City", ""]))


@FUZZ
@given(times, zones)
@example("0001-01-01T00:30:00+14:00", None)  # found by this test: OverflowError
@example("9999-12-31T23:30:00Z", "Europe/Berlin")
def test_parse_time_returns_aware_values_or_rejects(text: str | None, zone: str | None) -> None:
    try:
        value = parse_time(text, zone)
    except Rejected:
        return
    if isinstance(value, datetime):
        assert value.tzinfo is not None
    else:
        assert value is None or isinstance(value, date)


html_text = st.one_of(
    st.text(max_size=300),
    st.lists(
        st.sampled_from(
            [
                "<script>alert(1)</script>",
                "<b>",
                "</p>",
                "&amp;lt;",
                "&#0;",
                "\u00ad",
                "\\n",
                "\r\n",
                "END:VEVENT",
                "<img src=x onerror=alert(1)>",
                "Kinder",
                " ",
            ]
        ),
        max_size=30,
    ).map("".join),
)
urls = st.one_of(
    st.none(),
    st.text(max_size=60),
    st.sampled_from(
        ["javascript:alert(1)", "data:text/html,x", " https://ok.example/x ", "http://", "ftp://x"]
    ),
)


@FUZZ
@given(
    title=html_text,
    description=html_text,
    start=times,
    end=times,
    zone=zones,
    url=urls,
    lat=st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
)
@example(  # an all-day end on the last representable day: its next day overflows
    title="x", description="", start="2026-12-01", end="9999-12-31", zone=None, url=None, lat=None
)
@example(title="x", description="", start="9999-12-31", end=None, zone=None, url=None, lat=None)
def test_normalize_yields_a_clean_event_or_a_reason(
    title: str,
    description: str,
    start: str | None,
    end: str | None,
    zone: str | None,
    url: str | None,
    lat: float | None,
) -> None:
    raw = RawEvent(
        source_id="fuzz",
        record_id="1",
        title=title,
        description=description,
        start=start,
        end=end,
        timezone=zone,
        url=url,
        location=Location(name=title, lat=lat),
    )
    try:
        event = normalize(raw, uid="u@test")
    except Rejected as exc:
        assert str(exc)
        return
    assert event.title and "\n" not in event.title
    assert len(event.description) <= MAX_DESCRIPTION
    assert event.url is None or event.url.startswith(("http://", "https://"))
    if event.end is not None:
        assert event.start_datetime() <= as_datetime(event.end)


def _read(body: bytes) -> None:
    try:
        for item in parse_ics(body, **WINDOW):
            assert isinstance(item, Skip | dict)
    except NotACalendar:
        pass


@FUZZ
@given(st.binary(max_size=2000))
def test_ics_reader_survives_random_bytes(body: bytes) -> None:
    _read(body)


@FUZZ
@given(st.binary(max_size=500))
def test_ics_reader_survives_random_bytes_inside_a_calendar(junk: bytes) -> None:
    _read(b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n" + junk + b"\r\nEND:VCALENDAR\r\n")


@st.composite
def mutated_calendar(draw: st.DrawFn) -> bytes:
    lines = FAMILY_ICS.splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["drop", "duplicate", "garble", "swap", "cut"]))
        if action == "drop":
            del lines[at]
        elif action == "duplicate":
            lines.insert(at, lines[at])
        elif action == "garble":
            lines[at] = draw(st.binary(max_size=40)) + b"\r\n"
        elif action == "swap":
            other = draw(st.integers(0, len(lines) - 1))
            lines[at], lines[other] = lines[other], lines[at]
        else:
            lines = lines[:at]
        if not lines:
            break
    return b"".join(lines)


@FUZZ
@given(mutated_calendar())
def test_ics_reader_survives_mutated_real_calendars(body: bytes) -> None:
    _read(body)
