"""The fast reader for plain VEVENTs (issue #20) against the reference path (icalendar +
recurring-ical-events): on every real file of the shared corpus, on the own fixtures, on the
benchmarks' sources and on generated calendars, ``parse_ics`` with and without the fast
reader gives the same records (same ids, same fields) and the same skips; what the reader
does not take exactly goes to the reference."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from icalendar.parser import Contentline
from icalendar.parser.property import unescape_backslash

from benchmarks.synth import ics_calendar
from benchmarks.synth_real import realistic_sources
from core.model import BERLIN
from spiders.common import Skip
from spiders.ics_fast import _split, read_plain
from spiders.ics_parse import NotACalendar, decode, parse_ics
from tests.test_ics import CORPORA, CORPUS_FILES, FIXTURES, WIDE, WINDOW, corpus_id

FILES = [*CORPUS_FILES, *sorted((CORPORA / "partners").glob("*.ics"))]
OWN = sorted(FIXTURES.glob("*.ics"))
FEED = {  # famcal's feed window around a morning of the benchmarks
    "window_start": datetime(2026, 10, 26, 8, tzinfo=BERLIN),
    "window_end": datetime(2027, 11, 25, 8, tzinfo=BERLIN),
}


def outcome(body: bytes, plain: bool, **kwargs: Any) -> tuple[list[Any], Counter[str]] | str:
    """The records sorted by id and start, and the skip counts; or NotACalendar's text."""
    try:
        found = list(parse_ics(body, workers=1, plain=plain, **kwargs))
    except NotACalendar as exc:
        return f"NotACalendar: {exc}"
    records = sorted(
        (f for f in found if isinstance(f, dict)), key=lambda r: (r["record_id"], r["start"])
    )
    return records, Counter(f.reason for f in found if isinstance(f, Skip))


def plain_count(body: bytes, **window: Any) -> int:
    found = read_plain(decode(body), *window.values(), "Europe/Berlin", None)
    return 0 if found is None else len(found[0])


@pytest.mark.skipif(not CORPUS_FILES, reason="shared corpus ics-real/ not present")
@pytest.mark.parametrize("window", [WIDE, WINDOW, FEED], ids=["wide", "half-year", "feed"])
def test_every_real_file_reads_the_same_with_the_fast_reader(window: dict[str, Any]) -> None:
    taken = 0
    for path in [*FILES, *OWN]:
        body = path.read_bytes()
        count = plain_count(body, **window)
        # Without plain occurrences parse_ics takes the reference path itself.
        if count:
            assert outcome(body, True, **window) == outcome(body, False, **window), corpus_id(path)
        taken += count
    # Not vacuous: the holidays of Germany.ics and the partner's matches take it (most other
    # files are adversarial or Google exports with X-WR-TIMEZONE: the reference's).
    assert taken > (150 if window is WIDE else 5)


@pytest.mark.skipif(not CORPUS_FILES, reason="shared corpus ics-real/ not present")
def test_lines_split_as_icalendar_splits_them() -> None:
    seen = 0
    for path in FILES:
        text = decode(path.read_bytes())
        for line in _lines(text):
            split = _split(line)
            if split is None:
                continue
            name, params, raw = split
            theirs = Contentline(line).parts()
            assert (name, params, unescape_backslash(raw)) == (
                theirs[0].upper(),
                {k.upper(): v for k, v in theirs[1].items()},
                theirs[2],
            ), line
            seen += 1
    assert seen > 8000


def _lines(text: str) -> list[str]:
    from icalendar.parser.content_line import Contentlines

    return [str(line) for line in Contentlines.from_ical(text) if line]


def test_benchmark_sources_read_the_same() -> None:
    sources = realistic_sources(600, start=datetime(2026, 11, 25, 8, tzinfo=BERLIN))
    for body in [*sources.values(), ics_calendar(400)]:
        assert outcome(body, True, **FEED) == outcome(body, False, **FEED)
        found = read_plain(decode(body), *FEED.values(), "Europe/Berlin", None)
        assert found is not None
        assert "BEGIN:VEVENT" not in found[1]  # every event of theirs is plain


# --- the decision "plain or not" -------------------------------------------------------

HEAD = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//DE\r\n"


def calendar(*events: str, head: str = HEAD) -> str:
    return head + "".join(events) + "END:VCALENDAR\r\n"


def event(uid: str, *lines: str, start: str = "DTSTART;TZID=Europe/Berlin:20261203T100000") -> str:
    body = [f"UID:{uid}", start, "DTSTAMP:20261101T000000Z", "SUMMARY:Basteln", *lines]
    return "BEGIN:VEVENT\r\n" + "".join(f"{line}\r\n" for line in body) + "END:VEVENT\r\n"


def taken(text: str) -> set[str]:
    """The UIDs the fast reader took."""
    found = read_plain(text, *WINDOW.values(), "Europe/Berlin", None)
    assert found is not None
    return {r["record_id"].split("#")[0] for r in found[0]}


@pytest.mark.parametrize(
    "lines",
    [
        ["DURATION:PT1H"],  # hours to a date: a datetime in recurring-ical-events
        ["DURATION:-P1D"],
        ["DURATION:P1D", "DTEND;TZID=Europe/Berlin:20261203T110000"],
        ["RDATE;TZID=Europe/Berlin:20261210T100000"],
        ["EXDATE;TZID=Europe/Berlin:20261203T100000"],  # no RRULE
        ["RRULE:FREQ=WEEKLY;COUNT=3", "EXDATE:20261210T100000"],  # floating, to a zoned start
        ["RRULE:FREQ=WEEKLY;COUNT=3", "EXDATE;VALUE=DATE:20261210"],
        ["RECURRENCE-ID;TZID=Europe/Berlin:20261203T100000"],
        ["RRULE:FREQ=YEARLY;COUNT=3"],
        ["RRULE:FREQ=WEEKLY;BYDAY=1MO;COUNT=3"],  # an ordinal outside MONTHLY
        ["RRULE:FREQ=DAILY;BYHOUR=9,10;COUNT=4"],
        ["RRULE:FREQ=MONTHLY;BYMONTHDAY=3;COUNT=4"],
        ["RRULE:FREQ=WEEKLY;COUNT=2000"],
        # A floating UNTIL to a zoned start: dateutil refuses, the reference rewrites it.
        ["RRULE:FREQ=WEEKLY;UNTIL=20270101T000000"],
        ["RRULE:FREQ=WEEKLY;COUNT=3", "RRULE:FREQ=DAILY;COUNT=2"],
        ["BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT15M", "END:VALARM"],
        ["DTEND:20261203T110000"],  # floating end to a zoned start
        ["DTEND;VALUE=DATE:20261204"],
        ["DTEND;TZID=Europe/Berlin:20261203T090000"],  # before the start
        ["DTSTAMP:20261301T000000Z"],  # a second, broken DTSTAMP
        ["SEQUENCE:one"],
        ['LOCATION;ALTREP="http://example.com/":Saal'],
        ["URL:https://a.example/x\\nb"],  # no line break in a URI (icalendar's vUri)
    ],
)
def test_what_the_fast_reader_leaves_to_the_reference(lines: list[str]) -> None:
    start = "DTSTART;VALUE=DATE:20261203" if lines == ["DURATION:PT1H"] else None
    odd = event("odd@test", *lines) if start is None else event("odd@test", *lines, start=start)
    text = calendar(odd, event("plain@test"))
    assert taken(text) == {"plain@test"}
    assert outcome(text.encode(), True, **WINDOW) == outcome(text.encode(), False, **WINDOW)


@pytest.mark.parametrize(
    "lines",
    [
        ["SUMMARY:twice"],  # the first counts, as in the reference
        ["X-ODD;X=1,2:value"],  # icalendar's line parser splits it; an unused property
        ['ORGANIZER;CN="Anna, Verein":mailto:anna@example.com'],
        ["CATEGORIES:Kinder\\,Familie,Musik", "CATEGORIES:Draußen"],
        ["DTEND;TZID=America/New_York:20261203T100000"],  # another zone, not earlier
        ["RRULE:INTERVAL=2;COUNT=3;FREQ=WEEKLY", "TRANSP:OPAQUE", "SEQUENCE:2"],
        ["DURATION:PT1H30M", "RRULE:FREQ=DAILY;COUNT=3"],
        ["RRULE:FREQ=WEEKLY;BYDAY=MO,TU;COUNT=4"],
        ["RRULE:FREQ=WEEKLY;UNTIL=20270101T000000Z"],
        ["RRULE:UNTIL=20270101T000000Z;FREQ=WEEKLY;BYDAY=TH,SA"],  # UNTIL first
        ["RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=WE;WKST=SU"],  # no end: the window bounds it
        ["RRULE:FREQ=MONTHLY;COUNT=3"],
        ["RRULE:FREQ=MONTHLY;BYDAY=-1FR;UNTIL=20270601T000000Z"],
        ["RRULE:FREQ=WEEKLY;COUNT=3", "EXDATE;TZID=Europe/Berlin:20261210T100000"],
        ["RRULE:FREQ=DAILY;COUNT=9", "EXDATE:20261204T090000Z,20261206T090000Z"],  # as UTC
        ["RRULE:FREQ=DAILY;COUNT=9", "EXDATE;TZID=Europe/Berlin:20261205T100000,20261207T110000"],
        ["RRULE:FREQ=WEEKLY;COUNT=3", "EXDATE;TZID=America/New_York:20261210T040000"],
        ["RRULE:FREQ=DAILY;UNTIL=20261203T090000Z"],  # until before the start: the start only
    ],
)
def test_what_the_fast_reader_takes(lines: list[str]) -> None:
    text = calendar(event("more@test", *lines), event("plain@test"))
    assert taken(text) == {"more@test", "plain@test"}
    assert outcome(text.encode(), True, **WINDOW) == outcome(text.encode(), False, **WINDOW)


@pytest.mark.parametrize(
    "start",
    [
        "DTSTART;TZID=Custom/Zone:20261203T100000",
        "DTSTART;TZID=W. Europe Standard Time:20261203T100000",
        "DTSTART;TZID=/Europe/Berlin:20261203T100000",
        "DTSTART;TZID=Europe/Berlin:20261203T100000Z",
        "DTSTART:18991203T100000",
        "DTSTART;VALUE=PERIOD:20261203T100000/PT1H",
        "DTSTART:2026-12-03",
    ],
)
def test_unusual_starts_go_to_the_reference(start: str) -> None:
    text = calendar(event("odd@test", start=start), event("plain@test"))
    assert taken(text) == {"plain@test"}
    assert outcome(text.encode(), True, **WIDE) == outcome(text.encode(), False, **WIDE)


def plain_read(text: str) -> tuple[list[dict[str, Any]], str] | None:
    return read_plain(text, *WINDOW.values(), "Europe/Berlin", None)


def test_whole_file_cases() -> None:
    for odd in (
        "X-WR-TIMEZONE:Mars/Olympus\r\n",
        "X-WR-TIMEZONE;VALUE=TEXT:Europe/Berlin\r\n",
        "X-WR-TIMEZONE:Europe/Berlin\r\nX-WR-TIMEZONE:Europe/Paris\r\n",
        "X-WR-TIMEZONE:Europe/Berlin\r\nX-WR-TIMEZ ONE:Europe/Paris\r\n",  # one, blanked
        "BEGIN:X-OWN\r\nX-WR-TIMEZONE:Europe/Berlin\r\nEND:X-OWN\r\n",  # not the calendar's
    ):
        assert plain_read(calendar(event("a@test"), head=HEAD + odd)) is None, odd
    twice = calendar(event("a@test")) + calendar(event("b@test"))
    assert plain_read(twice) is None
    # A UID the scanner cannot see could be a plain event's: icalendar reads "U ID" as UID.
    odd_uid = event("a@test").replace("UID:a@test", "U ID:b@test")
    assert plain_read(calendar(event("b@test", "RRULE:FREQ=DAILY;COUNT=2"), odd_uid)) is None
    body = calendar(event("b@test"), odd_uid).encode()
    assert outcome(body, True, **WINDOW) == outcome(body, False, **WINDOW)


def test_events_without_uid_go_to_the_reference() -> None:
    # The reference gives it a "nouid-…" id of its own; a UID of that form stays with it.
    no_uid = event("a@test").replace("UID:a@test\r\n", "")
    lookalike = event("nouid-0123456789abcdef", "RRULE:FREQ=DAILY;COUNT=2")
    text = calendar(event("b@test", "RRULE:FREQ=DAILY;COUNT=2"), no_uid, no_uid, lookalike)
    assert taken(text) == {"b@test"}
    assert outcome(text.encode(), True, **WINDOW) == outcome(text.encode(), False, **WINDOW)


@pytest.mark.parametrize(
    "zone_line",
    [
        "X-WR-TIMEZONE:America/New_York",
        "X-WR-TIMEZONE:Etc/GMT",
        "X-WR-TIMEZONE:UTC",
        "x-wr-timezone:Europe/Berlin",
        "X-WR-TIME\r\n ZONE:Australia/Sydney",  # folded: the same property
    ],
)
def test_x_wr_timezone_as_the_reference_applies_it(zone_line: str) -> None:
    """Floating and UTC times take the calendar's zone (x_wr_timezone), the rest stays."""
    starts = {
        "floating": "DTSTART:20261203T100000",
        "utc": "DTSTART:20261203T100000Z",
        "utc-zone": "DTSTART;TZID=UTC:20261203T100000",
        "london": "DTSTART;TZID=Europe/London:20261203T100000",
        "date": "DTSTART;VALUE=DATE:20261203",
    }
    timed = [
        "",
        "DURATION:PT2H",
        "DTEND:20261203T230000Z",
        "RRULE:FREQ=DAILY;UNTIL=20261210T100000Z",
    ]
    dated = ["", "DURATION:P2D", "DTEND;VALUE=DATE:20261205", "RRULE:FREQ=DAILY;UNTIL=20261210"]
    events = [
        event(f"{name}-{number}@test", *([end] if end else []), start=start)
        for name, start in starts.items()
        for number, end in enumerate(dated if name == "date" else timed)
        if not (name == "london" and end.startswith("DTEND"))  # a zoned start, a UTC end
    ]
    text = calendar(*events, head=HEAD + zone_line + "\r\n")
    found = plain_read(text)
    assert found is not None
    assert "BEGIN:VEVENT" not in found[1]
    body = text.encode()
    for window in (WINDOW, WIDE, FEED):
        assert outcome(body, True, **window) == outcome(body, False, **window)


def test_uids_as_icalendar_reads_them() -> None:
    same_uid = calendar(event("a@test"), event("a@test"), event("b@test"))
    assert taken(same_uid) == {"b@test"}
    escaped = calendar(event("a\\,b@test"), event("a\\;b @test"), event(" a,b@test"))
    assert taken(escaped) == {"a;b @test".strip()}  # "a\,b" and " a,b" are one UID
    assert outcome(escaped.encode(), True, **WINDOW) == outcome(escaped.encode(), False, **WINDOW)


def test_series_budget_goes_to_the_reference() -> None:
    text = calendar(event("many@test", "RRULE:FREQ=DAILY;COUNT=30"), event("plain@test"))
    found = read_plain(text, *WINDOW.values(), "Europe/Berlin", 10)
    assert found is not None and {r["record_id"].split("#")[0] for r in found[0]} == {"plain@test"}
    body = text.encode()
    assert outcome(body, True, max_series=10, **WINDOW) == outcome(
        body, False, max_series=10, **WINDOW
    )


# --- generated calendars ---------------------------------------------------------------

ZONES = ["Europe/Berlin", "America/New_York", "Australia/Sydney", "UTC"]
# Around the transitions of 2026/27 (Berlin: 29 March, 25 October) and a plain day.
# Naive: the generator writes them as floating, UTC or zoned times.
DAYS = [
    datetime(2026, 3, 29),  # noqa: DTZ001
    datetime(2026, 10, 25),  # noqa: DTZ001
    datetime(2026, 11, 1),  # noqa: DTZ001
    datetime(2027, 3, 28),  # noqa: DTZ001
]
TEXT = st.text(st.sampled_from(list('ab ,;:\\"\n\täöß€')), max_size=12)


def _escape(value: str) -> str:
    out = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return out.replace("\n", "\\n").replace("\t", " ")


WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


@st.composite
def rules(draw: st.DrawFn, begins: datetime, kind: str) -> str:
    """An RRULE of the kinds the fast reader takes, now and then one it leaves."""
    freq = draw(st.sampled_from(["DAILY", "WEEKLY", "MONTHLY"]))
    parts = [f"FREQ={freq}"]
    if draw(st.booleans()):
        parts.append(f"INTERVAL={draw(st.integers(1, 3))}")
    if draw(st.booleans()):
        days = draw(st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=3, unique=True))
        if freq == "MONTHLY" and draw(st.booleans()):
            days = [f"{draw(st.sampled_from(['1', '2', '-1']))}{day}" for day in days]
        parts.append("BYDAY=" + ",".join(days))
    ending = draw(st.sampled_from(["count", "until", "until", "none"]))
    if ending == "count":
        parts.append(f"COUNT={draw(st.integers(1, 12))}")
    elif ending == "until":
        # Across the transitions: UNTIL a few weeks on, at a time of day around the start's.
        until = begins + timedelta(days=draw(st.integers(-2, 60)), hours=draw(st.integers(-3, 3)))
        form = {"date": "%Y%m%d", "floating": "%Y%m%dT%H%M%S"}.get(kind, "%Y%m%dT%H%M%SZ")
        if draw(st.integers(0, 9)) == 0:  # now and then the other form: the reference's
            form = draw(st.sampled_from(["%Y%m%d", "%Y%m%dT%H%M%S", "%Y%m%dT%H%M%SZ"]))
        parts.append(f"UNTIL={until.strftime(form)}")
    if draw(st.booleans()):
        parts.append(f"WKST={draw(st.sampled_from(['MO', 'SU']))}")
    order = draw(st.permutations(parts))
    return "RRULE:" + ";".join(order)


@st.composite
def generated(draw: st.DrawFn) -> str:
    events = []
    for number in range(draw(st.integers(1, 4))):
        day = draw(st.sampled_from(DAYS)) + timedelta(days=draw(st.integers(-3, 3)))
        begins = day + timedelta(minutes=15 * draw(st.integers(0, 95)))
        length = timedelta(minutes=15 * draw(st.integers(0, 400)))
        kind = draw(st.sampled_from(["date", "floating", "utc", "zone"]))
        zone = draw(st.sampled_from(ZONES))
        if kind == "date":
            fmt, prefix = "%Y%m%d", ";VALUE=DATE:"
            length = timedelta(days=draw(st.integers(0, 3)))
        else:
            fmt = "%Y%m%dT%H%M%S" + ("Z" if kind == "utc" else "")
            prefix = f";TZID={zone}:" if kind == "zone" else ":"
        lines = [f"DTSTART{prefix}{begins.strftime(fmt)}"]
        ending = draw(st.sampled_from(["none", "dtend", "duration"]))
        if ending == "dtend":
            lines.append(f"DTEND{prefix}{(begins + length).strftime(fmt)}")
        elif ending == "duration":
            lengths = ["PT0S", "PT45M", "PT3H", "P1D", "P2DT1H", "P1W"]
            lines.append(f"DURATION:{draw(st.sampled_from(lengths))}")
        if draw(st.booleans()):
            lines.append(draw(rules(begins, kind)))
            if draw(st.booleans()):  # EXDATEs on the series' dates, or near them
                skipped = [
                    begins
                    + timedelta(days=draw(st.integers(0, 20)), hours=draw(st.integers(-1, 1)))
                    for _ in range(draw(st.integers(1, 3)))
                ]
                if kind == "utc":
                    skipped = [value.replace(tzinfo=UTC) for value in skipped]
                lines.append(f"EXDATE{prefix}" + ",".join(value.strftime(fmt) for value in skipped))
        lines.append(f"SUMMARY:{_escape(draw(TEXT))}")
        if draw(st.booleans()):
            lines.append(f"DESCRIPTION:{_escape(draw(TEXT))}")
        if draw(st.booleans()):
            lines.append(f"CATEGORIES:{_escape(draw(TEXT))},{_escape(draw(TEXT))}")
        if draw(st.booleans()):
            lines.append(f"LOCATION;LANGUAGE=de:{_escape(draw(TEXT))}")
        if draw(st.booleans()):
            lines.append(f"GEO:52.{draw(st.integers(0, 99))};9.7")
        if draw(st.booleans()):
            lines.append(
                draw(
                    st.sampled_from(
                        ["STATUS:CANCELLED", "STATUS:confirmed", "URL:https://a.example/x"]
                    )
                )
            )
        events.append(
            "BEGIN:VEVENT\r\n"
            + f"UID:gen-{number}@test\r\nDTSTAMP:20260101T000000Z\r\n"
            + "".join(f"{line}\r\n" for line in lines)
            + "END:VEVENT\r\n"
        )
    zone = draw(st.sampled_from([None, None, *ZONES]))
    return calendar(*events, head=HEAD if zone is None else f"{HEAD}X-WR-TIMEZONE:{zone}\r\n")


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    generated(),
    st.sampled_from(DAYS),
    st.integers(-5, 5),
    st.integers(0, 30),
    st.sampled_from([UTC, BERLIN]),
)
def test_generated_calendars_read_the_same(
    text: str, day: datetime, shift: int, days: int, zone: Any
) -> None:
    start = (day + timedelta(days=shift, hours=7)).replace(tzinfo=zone)
    window = {"window_start": start, "window_end": start + timedelta(days=days)}
    body = text.encode()
    assert outcome(body, True, **window) == outcome(body, False, **window)
