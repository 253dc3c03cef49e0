"""Every form of hannover.de's "Termine" lines (spiders.termine), including DST changes."""

from __future__ import annotations

from datetime import date, time

import pytest

from spiders.termine import Occurrence, parse_exclusions, parse_line, parse_termine, weekdays_of


def _o(day: str, start: str | None = None, end: str | None = None) -> Occurrence:
    return Occurrence(
        day=date.fromisoformat(day),
        start=time.fromisoformat(start) if start else None,
        end=time.fromisoformat(end) if end else None,
    )


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # A date without a time: all day.
        ("06.12.2026", [_o("2026-12-06")]),
        # ab HH:MM Uhr: a start, no end.
        ("22.10.2026 ab 19:00 Uhr", [_o("2026-10-22", "19:00")]),
        # ab HH:MM bis HH:MM Uhr.
        ("18.10.2026 ab 11:00 bis 17:00 Uhr", [_o("2026-10-18", "11:00", "17:00")]),
        # Range without weekday words and without time: every day, all day.
        ("24.12.2026 bis 26.12.2026", [_o("2026-12-24"), _o("2026-12-25"), _o("2026-12-26")]),
        # Range with times but no weekday words: every day with those daily hours.
        (
            "30.10.2026 bis 31.10.2026 ab 11:00 bis 21:00 Uhr",
            [_o("2026-10-30", "11:00", "21:00"), _o("2026-10-31", "11:00", "21:00")],
        ),
        (
            "08.10.2026 bis 10.10.2026 ab 15:00 Uhr",
            [_o("2026-10-08", "15:00"), _o("2026-10-09", "15:00"), _o("2026-10-10", "15:00")],
        ),
        # Range with one weekday word.
        (
            "11.10.2026 bis 25.10.2026 ab 08:00 bis 17:00 Uhr sonntags",
            [
                _o("2026-10-11", "08:00", "17:00"),
                _o("2026-10-18", "08:00", "17:00"),
                _o("2026-10-25", "08:00", "17:00"),
            ],
        ),
        # Several weekday words.
        (
            "01.12.2026 bis 08.12.2026 ab 10:00 Uhr dienstags und samstags",
            [_o("2026-12-01", "10:00"), _o("2026-12-05", "10:00"), _o("2026-12-08", "10:00")],
        ),
        (
            "01.12.2026 bis 06.12.2026 samstags, sonntags",
            [_o("2026-12-05"), _o("2026-12-06")],
        ),
        # A weekday range.
        (
            "03.12.2026 bis 08.12.2026 montags bis freitags",
            [_o("2026-12-03"), _o("2026-12-04"), _o("2026-12-07"), _o("2026-12-08")],
        ),
        # täglich: every day.
        (
            "05.12.2026 bis 07.12.2026 täglich",
            [_o("2026-12-05"), _o("2026-12-06"), _o("2026-12-07")],
        ),
        # werktags: Monday to Saturday.
        (
            "04.12.2026 bis 08.12.2026 ab 09:00 bis 12:00 Uhr werktags",
            [
                _o("2026-12-04", "09:00", "12:00"),
                _o("2026-12-05", "09:00", "12:00"),
                _o("2026-12-07", "09:00", "12:00"),
                _o("2026-12-08", "09:00", "12:00"),
            ],
        ),
        # A single date is that date, whatever weekday word follows it.
        ("06.12.2026 ab 11:00 Uhr samstags", [_o("2026-12-06", "11:00")]),
        # Over midnight: the end time is on the next day (see end_text).
        ("31.12.2026 ab 20:00 bis 02:00 Uhr", [_o("2026-12-31", "20:00", "02:00")]),
        # Tolerated spellings: one-digit day and month, "HH.MM", "-" for "bis", "um".
        ("6.1.2027 um 15.30 Uhr", [_o("2027-01-06", "15:30")]),
        ("02.01.2027 - 03.01.2027", [_o("2027-01-02"), _o("2027-01-03")]),
    ],
)
def test_line_forms(line: str, expected: list[Occurrence]) -> None:
    assert parse_termine([line]) == expected


@pytest.mark.parametrize(
    "line",
    [
        "nach Vereinbarung",
        "",
        "31.02.2027 ab 10:00 Uhr",  # no such day
        "10.12.2026 bis 01.12.2026",  # reversed range
        "01.01.2026 bis 31.12.2062",  # a typo, not a 36-year schedule
        "06.12.2026 ab 25:00 Uhr",  # no such time
    ],
)
def test_lines_that_are_not_termine(line: str) -> None:
    assert parse_line(line) is None
    assert parse_termine([line]) == []


def test_exclusions_remove_dates() -> None:
    # The flea market of the capture: sundays 11.–18.10., "findet nicht statt am" 18.10. and
    # 25.10. (outside the range: no effect).
    excluded = parse_exclusions(["18.10.2026", "25.10.2026"])
    assert parse_termine(
        ["11.10.2026 bis 18.10.2026 ab 08:00 bis 17:00 Uhr sonntags"], excluded
    ) == [_o("2026-10-11", "08:00", "17:00")]


def test_exclusion_ranges_and_free_text() -> None:
    assert parse_exclusions(["23.12.2026 bis 25.12.2026", "sowie am 01.01.2027"]) == {
        date(2026, 12, 23),
        date(2026, 12, 24),
        date(2026, 12, 25),
        date(2027, 1, 1),
    }


def test_several_lines_are_merged_sorted_and_deduplicated() -> None:
    lines = [
        "05.02.2027 ab 14:00 Uhr",
        "01.02.2027 bis 02.02.2027 ab 10:00 bis 13:00 Uhr",
        "05.02.2027 ab 10:00 Uhr",
        "05.02.2027 ab 10:00 Uhr",
    ]
    assert parse_termine(lines) == [
        _o("2027-02-01", "10:00", "13:00"),
        _o("2027-02-02", "10:00", "13:00"),
        _o("2027-02-05", "10:00"),
        _o("2027-02-05", "14:00"),
    ]


@pytest.mark.parametrize(
    ("occurrence", "start", "end"),
    [
        (_o("2026-12-06"), "2026-12-06", "2026-12-07"),
        (_o("2026-12-31"), "2026-12-31", "2027-01-01"),
        (_o("2026-12-06", "11:00"), "2026-12-06T11:00:00", None),
        (_o("2026-12-06", "11:00", "12:30"), "2026-12-06T11:00:00", "2026-12-06T12:30:00"),
        (_o("2026-12-31", "20:00", "02:00"), "2026-12-31T20:00:00", "2027-01-01T02:00:00"),
        (_o("2026-12-31", "20:00", "00:00"), "2026-12-31T20:00:00", "2027-01-01T00:00:00"),
    ],
)
def test_rawevent_texts(occurrence: Occurrence, start: str, end: str | None) -> None:
    assert (occurrence.start_text(), occurrence.end_text()) == (start, end)


@pytest.mark.parametrize(
    ("line", "offsets"),
    [
        # Summer time ends on Sunday 25 October 2026 (03:00 CEST → 02:00 CET).
        (
            "24.10.2026 bis 25.10.2026 ab 10:00 Uhr",
            ["2026-10-24T10:00:00+02:00", "2026-10-25T10:00:00+01:00"],
        ),
        # Summer time begins on Sunday 28 March 2027 (02:00 CET → 03:00 CEST).
        (
            "27.03.2027 bis 29.03.2027 ab 09:30 bis 11:00 Uhr",
            [
                "2027-03-27T09:30:00+01:00",
                "2027-03-28T09:30:00+02:00",
                "2027-03-29T09:30:00+02:00",
            ],
        ),
        # An all-day occurrence starts at local midnight, CET or CEST alike.
        ("28.03.2027", ["2027-03-28T00:00:00+01:00"]),
        ("29.03.2027", ["2027-03-29T00:00:00+02:00"]),
        # The market of the capture: Saturdays across the change keep 08:00 local time.
        (
            "24.10.2026 bis 07.11.2026 ab 08:00 bis 15:00 Uhr samstags",
            ["2026-10-24T08:00:00+02:00", "2026-10-31T08:00:00+01:00", "2026-11-07T08:00:00+01:00"],
        ),
    ],
)
def test_local_times_across_dst(line: str, offsets: list[str]) -> None:
    assert [o.starts_at().isoformat() for o in parse_termine([line])] == offsets


def test_weekday_words() -> None:
    assert weekdays_of("") is None
    assert weekdays_of("außer an Feiertagen") is None
    assert weekdays_of("freitags bis montags") == {4, 5, 6, 0}
    assert weekdays_of("Sonnabends und sonntags") == {5, 6}
