"""Fuzzing the hannover.de "Termine" grammar and detail-page reader with hypothesis (#8):
any text gives occurrences that are real dates inside what the line says, or none — never
an exception. Derandomized, modest example counts."""

from __future__ import annotations

import contextlib
from datetime import date

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from spiders.hannover_de_parse import LoadMoreError, parse_detail, parse_load_more
from spiders.termine import parse_exclusions, parse_line, parse_termine

FUZZ = settings(
    max_examples=200,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

day = st.integers(0, 40).map(lambda n: f"{n:02d}")
month = st.integers(0, 14).map(lambda n: f"{n:02d}")
year = st.sampled_from(["2026", "2027", "0000", "9999", "26"])
clock = st.tuples(st.integers(0, 30), st.integers(0, 70)).map(lambda t: f"{t[0]:02d}:{t[1]:02d}")
words = st.sampled_from(
    [
        "",
        " montags",
        " dienstags und donnerstags",
        " täglich",
        " werktags",
        " sonntags",
        " Uhr",
        " bis",
        " ab",
        ",",
        " samstags, sonntags",
    ]
)
line = st.one_of(
    st.text(max_size=80),
    st.builds(
        lambda d1, m1, y1, d2, m2, y2, t1, t2, w, shape: {
            0: f"{d1}.{m1}.{y1}",
            1: f"{d1}.{m1}.{y1} bis {d2}.{m2}.{y2}{w}",
            2: f"{d1}.{m1}.{y1} ab {t1} Uhr",
            3: f"{d1}.{m1}.{y1} bis {d2}.{m2}.{y2} ab {t1} bis {t2} Uhr{w}",
            4: f"{d1}.{m1}.{y1} ab {t1} bis {t2} Uhr{w}",
        }[shape],
        day,
        month,
        year,
        day,
        month,
        year,
        clock,
        clock,
        words,
        st.integers(0, 4),
    ),
)


@FUZZ
@given(st.lists(line, max_size=6), st.lists(line, max_size=3))
@example(["31.12.2026 bis 01.01.2027 ab 23:00 bis 01:00 Uhr täglich"], [])
@example(["29.02.2027"], [])
@example(["01.01.2026 bis 31.12.2099 täglich"], [])
def test_termine_never_crash_and_stay_inside_their_lines(
    lines: list[str], excluded: list[str]
) -> None:
    exclusions = parse_exclusions(excluded)
    occurrences = parse_termine(lines, exclusions)
    parsed = [p for p in (parse_line(text) for text in lines) if p is not None]
    for occurrence in occurrences:
        assert isinstance(occurrence.day, date)
        assert occurrence.day not in exclusions
        assert any(p.first <= occurrence.day <= p.last for p in parsed)
        occurrence.starts_at()  # a real local time, DST gaps included
        assert occurrence.start_text() and (occurrence.end_text() or occurrence.start)


html = st.one_of(
    st.text(max_size=300),
    st.lists(
        st.sampled_from(
            [
                "<h1>",
                "Abgesagt: Fest",
                "</h1>",
                "<table>",
                "<tr><th>Termine</th><td>",
                "<p>01.12.2026 ab 10:00 Uhr</p>",
                "<p>31.02.2026</p>",
                "</td></tr>",
                "<tr><th>Ort</th><td>",
                "<a>Haus</a><br>Straße 1<br>30159 Hannover",
                "<span class='react-ical' data-location-id='x'></span>",
                "</table>",
                "Die Veranstaltung findet nicht statt am:",
                "&shy;",
                "<script>x</script>",
            ]
        ),
        max_size=25,
    ).map("".join),
)


@FUZZ
@given(html)
def test_detail_reader_never_crashes(page: str) -> None:
    # A ValueError is the documented refusal of a page that is not an event page.
    with contextlib.suppress(ValueError):
        parse_detail(page, "https://www.hannover.de/Veranstaltungskalender/x/")


@FUZZ
@given(st.text(max_size=200))
def test_load_more_reader_refuses_garbage_cleanly(text: str) -> None:
    with contextlib.suppress(LoadMoreError):
        parse_load_more(text, "https://www.hannover.de/api/v1/view/1/10/10/line")
