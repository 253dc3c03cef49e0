"""Large ICS files read on every core (issue #9): read in parts by worker processes, a file
gives exactly the records and skip counts of the whole-file read — on every file of the
shared corpus, on synthetic calendars with series, on hand-written cases (folded UIDs,
overrides far from their series, duplicate and missing UIDs, X-WR-TIMEZONE, late
VTIMEZONEs) — and falls back to the whole-file read where the parts would differ. The
cutting refuses structures it cannot cut safely; the workers end with their reader, even a
killed one; and a real crawl reads a large file in parts."""

from __future__ import annotations

import logging
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from benchmarks.synth import ics_calendar
from core.config import SourceConfig
from core.model import SourceType
from spiders.common import Skip
from spiders.crawl import crawl
from spiders.ics_chunks import ChunkWorkers, Unsplittable, WorkerDied, split_calendar
from spiders.ics_parse import PARALLEL_FROM, NotACalendar, parse_ics
from tests.conftest import ROOT, LocalSite
from tests.test_ics import CORPUS_FILES, WIDE, WINDOW, corpus_id

YEAR = {
    "window_start": datetime(2026, 11, 1, tzinfo=UTC),
    "window_end": datetime(2028, 1, 1, tzinfo=UTC),
}
IN_PARTS = re.compile(r"iCalendar file read in \d parts")
WHOLE = "iCalendar file read as a whole"

Outcome = tuple[dict[str, dict[str, Any]], Counter[str]] | str


def outcome(body: bytes, **kwargs: Any) -> Outcome:
    """The records by id (asserted distinct) and the skip counts, or NotACalendar's text."""
    try:
        found = list(parse_ics(body, plain=False, **kwargs))
    except NotACalendar as exc:
        return f"NotACalendar: {exc}"
    items = [f for f in found if isinstance(f, dict)]
    records = {item["record_id"]: item for item in items}
    assert len(records) == len(items)
    return records, Counter(f.reason for f in found if isinstance(f, Skip))


def compare(
    body: bytes, caplog: pytest.LogCaptureFixture, parts: int = 2, **window: Any
) -> tuple[Outcome, str]:
    """Reads ``body`` whole (one worker) and in ``parts``, asserts the same outcome, and
    returns it with what the parallel read logged about how it went."""
    window = window or YEAR
    whole = outcome(body, workers=1, **window)
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="spiders.ics_parse"):
        in_parts = outcome(body, workers=parts, parallel_from=1, **window)
    assert in_parts == whole
    said = [r.getMessage() for r in caplog.records if r.name == "spiders.ics_parse"]
    return whole, said[-1] if said else ""


def records(result: Outcome) -> dict[str, dict[str, Any]]:
    assert not isinstance(result, str)
    return result[0]


def skips(result: Outcome) -> Counter[str]:
    assert not isinstance(result, str)
    return result[1]


def calendar(*parts: str, head: str = "", tail: str = "") -> bytes:
    body = "".join(parts)
    text = f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//famcal tests//DE\r\n{head}{body}{tail}"
    return (text + "END:VCALENDAR\r\n").encode()


def event(uid: str | None, start: str, *lines: str, summary: str = "Termin") -> str:
    uid_line = [f"UID:{uid}"] if uid is not None else []
    body = [*uid_line, f"DTSTART{start}", f"SUMMARY:{summary}", *lines]
    return "BEGIN:VEVENT\r\n" + "".join(f"{line}\r\n" for line in body) + "END:VEVENT\r\n"


def with_line(block: str, line: str) -> str:
    """The VEVENT block with ``line`` (CRLF inside for a folded one) first."""
    return block.replace("BEGIN:VEVENT\r\n", f"BEGIN:VEVENT\r\n{line}\r\n", 1)


def fillers(prefix: str, count: int = 12) -> str:
    """Plain events of their own UIDs, so that the file has something to cut between."""
    return "".join(
        event(f"{prefix}-{i}@test", f";TZID=Europe/Berlin:202612{i % 28 + 1:02d}T1{i % 10}0000")
        for i in range(count)
    )


# --- the shared corpus -----------------------------------------------------------------

# The corpus files with events of several UIDs: they are read in parts; every other file
# (one event or one UID, several calendars, a broken or truncated structure) is read whole.
CUT = {
    "Germany.ics",
    "Germany_Holidays.ics",
    "daylight_saving_time.ics",
    "discourse_no_dtend.ics",
    "duration.ics",
    "fablab_cottbus.ics",
    "issue_48_dst.ics",
    "issue_722_missing_timezones.ics",
    "machbar_16_feb_2019.ics",
    "multiple_timezones.ics",
    "rdate.ics",
    "recurring_events_moved.ics",
    "x_wr_timezone_simple_events_issue_59.ics",
}


@pytest.mark.skipif(not CORPUS_FILES, reason="shared corpus ics-real/ not present")
@pytest.mark.parametrize("parts", [2, 3])
@pytest.mark.parametrize("path", CORPUS_FILES, ids=corpus_id)
def test_corpus_file_reads_the_same_in_parts(
    path: Path, parts: int, caplog: pytest.LogCaptureFixture
) -> None:
    _, said = compare(path.read_bytes(), caplog, parts, **WIDE)
    if path.name in CUT:
        assert IN_PARTS.fullmatch(said), said
    else:  # said nothing: truncated, not even considered
        assert said.startswith(WHOLE) or said == "", said


# --- synthetic calendars -----------------------------------------------------------------


@pytest.mark.parametrize(("size", "seed", "parts"), [(700, 1, 2), (700, 2, 3), (2600, 3, 2)])
def test_synthetic_calendar_with_series_reads_the_same_in_parts(
    size: int, seed: int, parts: int, caplog: pytest.LogCaptureFixture
) -> None:
    result, said = compare(ics_calendar(size, seed=seed), caplog, parts)
    assert IN_PARTS.fullmatch(said), said
    assert len(records(result)) == size
    assert any("#" in record_id for record_id in records(result))  # series were expanded


# --- hand-written cases ----------------------------------------------------------------

BERLIN = ";TZID=Europe/Berlin:"
SERIES = f"{BERLIN}20261202T100000"


def test_uid_folded_over_two_lines_keeps_its_override_in_the_same_part(
    caplog: pytest.LogCaptureFixture,
) -> None:
    uid = "040000008200E00074C5B7101A82E00800000000" * 2 + "@exchange.example.org"
    master = event(None, SERIES, "RRULE:FREQ=WEEKLY;COUNT=4", summary="Krabbelgruppe")
    master = with_line(master, f"UID:{uid[:50]}\r\n {uid[50:]}")
    moved = event(
        None,
        f"{BERLIN}20261210T150000",
        f"RECURRENCE-ID{BERLIN}20261209T100000",
        summary="Krabbelgruppe (verlegt)",
    )
    moved = with_line(moved, f"UID:{uid[:30]}\r\n\t{uid[30:]}")  # folded elsewhere, by a tab
    body = calendar(master, fillers("a"), fillers("b"), moved)
    chunks = split_calendar(body.decode(), 2, min_events=1)
    assert [("RRULE" in c, "RECURRENCE-ID" in c) for c in chunks] == [(True, True), (False, False)]
    result, said = compare(body, caplog)
    assert IN_PARTS.fullmatch(said), said
    found = records(result)[f"{uid}#2026-12-09T10:00:00+01:00"]
    assert (found["title"], found["start"]) == (
        "Krabbelgruppe (verlegt)",
        "2026-12-10T15:00:00+01:00",
    )


def test_override_and_cancellation_far_from_their_series(caplog: pytest.LogCaptureFixture) -> None:
    body = calendar(
        fillers("a"),
        event("kurs@test", SERIES, "RRULE:FREQ=WEEKLY;COUNT=6", f"EXDATE{BERLIN}20261216T100000"),
        fillers("b", 30),
        event("kurs@test", f"{BERLIN}20261223T100000", "STATUS:CANCELLED",
              f"RECURRENCE-ID{BERLIN}20261223T100000"),
        event("kurs@test", f"{BERLIN}20261231T120000",
              f"RECURRENCE-ID{BERLIN}20261230T100000", summary="Silvester-Kurs"),
    )  # fmt: skip
    result, said = compare(body, caplog, 3)
    assert IN_PARTS.fullmatch(said), said
    series = {k: v for k, v in records(result).items() if k.startswith("kurs@test#")}
    assert len(series) == 5  # six weeks less the EXDATE
    assert series["kurs@test#2026-12-23T10:00:00+01:00"]["status"] == "CANCELLED"
    assert series["kurs@test#2026-12-30T10:00:00+01:00"]["title"] == "Silvester-Kurs"


def test_duplicate_uids_without_recurrence_id(caplog: pytest.LogCaptureFixture) -> None:
    body = calendar(
        event("dup@test", ";TZID=Europe/Berlin:20261201T100000", summary="Erster"),
        fillers("a"),
        event("dup@test", ";TZID=Europe/Berlin:20261208T100000", summary="Zweiter"),
        fillers("b"),
        event("dup@test", ";TZID=Europe/Berlin:20261215T100000", summary="Dritter"),
    )
    assert [
        [title in chunk for title in ("Erster", "Zweiter", "Dritter")]
        for chunk in split_calendar(body.decode(), 3, min_events=1)
    ] == [[True, True, True], [False, False, False], [False, False, False]]
    result, said = compare(body, caplog, 3)
    assert IN_PARTS.fullmatch(said), said
    # recurring-ical-events keeps one event of a UID (here the first), whole or in parts.
    titles = {k: v["title"] for k, v in records(result).items() if k.startswith("dup@test")}
    assert titles == {"dup@test": "Erster"}


@pytest.mark.parametrize("where", ["head", "tail"])
def test_x_wr_timezone_with_floating_times(where: str, caplog: pytest.LogCaptureFixture) -> None:
    zone = "X-WR-TIMEZONE:America/New_York\r\n"
    events = [event(f"f{i}@test", f":202612{i + 1:02d}T100000") for i in range(20)]
    body = calendar(*events, **{where: zone})
    result, said = compare(body, caplog)
    assert IN_PARTS.fullmatch(said), said
    assert records(result)["f0@test"]["start"] == "2026-12-01T10:00:00-05:00"


def test_vtimezone_after_the_events(caplog: pytest.LogCaptureFixture) -> None:
    zone = (
        "BEGIN:VTIMEZONE\r\nTZID:Custom/Hannover-Test\r\nBEGIN:STANDARD\r\n"
        "DTSTART:19700101T000000\r\nTZOFFSETFROM:+0300\r\nTZOFFSETTO:+0300\r\n"
        "TZNAME:HTT\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
    )
    start = ";TZID=Custom/Hannover-Test:202612{:02d}T100000"
    events = [event(f"z{i}@test", start.format(i + 1)) for i in range(20)]
    body = calendar(*events, tail=zone)
    result, said = compare(body, caplog)
    assert IN_PARTS.fullmatch(said), said
    assert records(result)["z0@test"]["start"] == "2026-12-01T10:00:00+03:00"


def test_events_without_uid(caplog: pytest.LogCaptureFixture) -> None:
    twin = event(None, ";TZID=Europe/Berlin:20261205T150000", summary="Zwilling")
    body = calendar(
        twin,
        event(None, f"{BERLIN}20261206T150000", "RRULE:FREQ=DAILY;COUNT=3", summary="Serie"),
        fillers("a"),
        event(None, ";TZID=Europe/Berlin:20261205T150000", summary="Anders"),
        fillers("b"),
        twin,  # the same content again, far from the first
        event(None, ";TZID=Europe/Berlin:20261207T150000", summary="Einzeln"),
    )  # fmt: skip
    result, said = compare(body, caplog, 3)
    assert IN_PARTS.fullmatch(said), said
    nouid = [v["title"] for k, v in records(result).items() if k.startswith("nouid-")]
    # The twins have the same content, so the same id: one event of that id is kept.
    assert sorted(nouid) == ["Anders", "Einzeln", "Serie", "Serie", "Serie", "Zwilling"]


def test_bad_x_wr_timezone_is_counted_once(caplog: pytest.LogCaptureFixture) -> None:
    events = [event(f"f{i}@test", f":202612{i + 1:02d}T100000") for i in range(20)]
    result, said = compare(calendar(*events, head="X-WR-TIMEZONE:Mars/Olympus_Mons\r\n"), caplog)
    assert IN_PARTS.fullmatch(said), said
    assert skips(result)["bad X-WR-TIMEZONE"] == 1


def test_bad_series_in_one_part(caplog: pytest.LogCaptureFixture) -> None:
    bad = event("bad-rule@test", ":20261201T100000", "RRULE:FREQ=SOMETIMES")
    result, said = compare(calendar(fillers("a"), bad, fillers("b")), caplog)
    assert IN_PARTS.fullmatch(said), said
    assert skips(result)["bad series"] == 1
    assert len(records(result)) == 24


def test_all_cases_at_once_in_a_large_file(caplog: pytest.LogCaptureFixture) -> None:
    # Parts of more than a few hundred events are expanded and sent piece by piece.
    uid = "040000008200E00074C5B7101A82E00800000000" * 2 + "@exchange.example.org"
    folded = f"UID:{uid[:50]}\r\n {uid[50:]}"
    twin = event(None, ":20261205T150000", summary="Zwilling")
    special = [
        with_line(event(None, ":20261202T100000", "RRULE:FREQ=WEEKLY;COUNT=4"), folded),
        event("dup@test", ":20261201T100000", summary="Erster"),
        twin,
        event("bad-rule@test", ":20261201T100000", "RRULE:FREQ=SOMETIMES"),
        event("dup@test", ":20261208T100000", summary="Zweiter"),
        twin,
        with_line(event(None, ":20261210T150000", "RECURRENCE-ID:20261209T100000"), folded),
    ]
    plain = [
        event(f"p{i}@test", f":2026{i % 12 + 1:02d}{i % 28 + 1:02d}T100000") for i in range(1400)
    ]
    events = plain[:1]
    for number, extra in enumerate(special):
        events += [extra, *plain[1 + 200 * number : 1 + 200 * (number + 1)]]
    body = calendar(*events, head="X-WR-TIMEZONE:Europe/Berlin\r\n")
    result, said = compare(body, caplog, 3)
    assert IN_PARTS.fullmatch(said), said
    assert skips(result)["bad series"] == 1
    moved = records(result)[f"{uid}#2026-12-09T10:00:00+01:00"]
    assert moved["start"] == "2026-12-10T15:00:00+01:00"


def test_calendar_the_expander_refuses_whole(caplog: pytest.LogCaptureFixture) -> None:
    # A non-Gregorian CALSCALE makes recurring-ical-events refuse every calendar: the reader
    # expands series by series, in the whole file as in every part and piece.
    series = event("serie@test", ":20261201T100000", "RRULE:FREQ=WEEKLY;COUNT=3")
    body = calendar(fillers("a", 300), series, fillers("b", 300), head="CALSCALE:JULIAN\r\n")
    result, said = compare(body, caplog)
    assert IN_PARTS.fullmatch(said), said
    assert len(records(result)) == 603


# When the parts could differ from the whole, the file is read whole after all.


def test_x_wr_timezone_failing_in_one_part_only(caplog: pytest.LogCaptureFixture) -> None:
    # A UTC time of the year 1 cannot be moved into New York: x-wr-timezone gives up on the
    # whole calendar, which only the part with that event sees.
    events = [event(f"f{i}@test", f":202612{i + 1:02d}T100000") for i in range(20)]
    events.append(event("year-one@test", ":00010101T000000Z"))
    result, said = compare(calendar(*events, head="X-WR-TIMEZONE:America/New_York\r\n"), caplog)
    assert said == f"{WHOLE} after all: X-WR-TIMEZONE fails in some parts only"
    assert skips(result)["bad X-WR-TIMEZONE"] == 1
    assert records(result)["f0@test"]["start"] == "2026-12-01T10:00:00"  # floating, as whole


def test_part_that_icalendar_cannot_read_whole(caplog: pytest.LogCaptureFixture) -> None:
    # A broken line in a VALARM breaks the whole file's reading: it is salvaged event by
    # event, which the parts must not pre-empt.
    alarm = "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:garbage\r\nEND:VALARM"
    broken = event("alarm@test", ":20261201T100000", alarm)
    result, said = compare(calendar(fillers("a"), fillers("b"), broken), caplog)
    assert said == f"{WHOLE} after all: a part is not readable as a calendar of its own"
    assert skips(result)["broken file structure"] == 1


def test_uid_written_unusually_in_two_parts(caplog: pytest.LogCaptureFixture) -> None:
    # "U ID" is read as UID (icalendar drops blanks in names); the cutting takes it for an
    # event without UID. The workers' UIDs show the overlap.
    odd = with_line(event(None, f"{BERLIN}20261210T150000"), "U ID:twice@test")
    body = calendar(event("twice@test", ":20261201T100000"), fillers("a"), fillers("b"), odd)
    result, said = compare(body, caplog)
    assert said == f"{WHOLE} after all: a UID in two parts"
    assert records(result)["twice@test"]["start"] == "2026-12-01T10:00:00"


def test_small_files_and_one_worker_read_whole(caplog: pytest.LogCaptureFixture) -> None:
    body = calendar(fillers("a"))
    with caplog.at_level(logging.DEBUG, logger="spiders.ics_parse"):
        list(parse_ics(body, workers=2, plain=False, **WINDOW))
        # one core: no cutting
        list(parse_ics(body, workers=1, parallel_from=1, plain=False, **WINDOW))
    said = [r.getMessage() for r in caplog.records if r.name == "spiders.ics_parse"]
    assert said == [f"{WHOLE}: 12 VEVENTs"]


@pytest.mark.parametrize("newline", ["\r\n", "\n"])
def test_line_endings_folds_and_blank_lines(newline: str, caplog: pytest.LogCaptureFixture) -> None:
    text = calendar(fillers("a"), fillers("b")).decode().replace("\r\n", newline)
    # A fold across a blank line, a folded SUMMARY and a lone CR inside a value.
    text = text.replace(f"UID:b-3@test{newline}", f"UID:b-3@t{newline}{newline} est{newline}")
    text = text.replace(f"SUMMARY:Termin{newline}", f"SUMMARY:Ter{newline}\tmin\rx{newline}", 1)
    result, said = compare(text.encode(), caplog)
    assert IN_PARTS.fullmatch(said), said
    assert "b-3@test" in records(result)


# --- cutting ---------------------------------------------------------------------------


def test_parts_are_the_file_less_the_other_parts_events() -> None:
    zone = "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nEND:VTIMEZONE\r\n"
    todo = "BEGIN:VTODO\r\nUID:todo@test\r\nEND:VTODO\r\n"
    text = calendar(fillers("a"), todo, fillers("b"), head="X-WR-CALNAME:Test\r\n" + zone).decode()
    chunks = split_calendar(text, 3, min_events=1)
    assert len(chunks) == 3
    blocks = re.findall(r"BEGIN:VEVENT\r\n.*?END:VEVENT\r\n", text, re.DOTALL)
    outside = re.sub(r"BEGIN:VEVENT\r\n.*?END:VEVENT\r\n", "", text, flags=re.DOTALL)
    for chunk in chunks:
        mine = re.findall(r"BEGIN:VEVENT\r\n.*?END:VEVENT\r\n", chunk, re.DOTALL)
        assert re.sub(r"BEGIN:VEVENT\r\n.*?END:VEVENT\r\n", "", chunk, flags=re.DOTALL) == outside
        assert mine == [b for b in blocks if b in mine]  # in file order
    spread = [
        b for chunk in chunks for b in re.findall(r"BEGIN:VEVENT.*?END:VEVENT\r\n", chunk, re.S)
    ]
    assert sorted(spread) == sorted(blocks)  # each event in exactly one part
    assert all(7 <= len(re.findall("BEGIN:VEVENT", c)) <= 9 for c in chunks)  # balanced


GOOD = "BEGIN:VEVENT\r\nUID:x@test\r\nDTSTART:20261201T100000\r\nEND:VEVENT\r\n"


def good_and(old: str, new: str) -> str:
    """Two events of different UIDs (a file that can be cut) with one change in the second."""
    return calendar(GOOD, GOOD.replace("x@", "y@").replace(old, new)).decode()


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (good_and("", "") + "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "content after"),
        ("X-COMMENT:vorab\r\n" + good_and("", ""), "a property outside"),
        (good_and("", "")[:-15], "no END:VCALENDAR"),
        (good_and("END:VEVENT", "END:VTODO"), "unbalanced"),
        (good_and("BEGIN:VEVENT", "BEGIN;X=1:VEVENT"), "an unusual BEGIN"),
        (good_and("BEGIN:VEVENT", "BEGIN:VEVENT "), "an unusual BEGIN"),
        (good_and("BEGIN:VEVENT", "Begin : VEVENT"), "an unusual BEGIN"),
        (good_and("UID:y@test", "UID;X=1:y@test"), "UID parameters"),
        (good_and("UID:y@test", "UID:y@test\r\nUID:z@test"), "several UIDs"),
        (good_and("UID:y@test", "UID: \\n"), "an empty UID"),
        (good_and("BEGIN:VEVENT", "BEGIN:X-THING\r\nBEGIN:VEVENT"), "a VEVENT inside"),
        (calendar(GOOD, GOOD).decode(), "one share"),
        (good_and("BEGIN:VEVENT", "BEG\r\n IN:VEVENT"), None),  # folded, still a BEGIN
        (good_and("", ""), None),
    ],
)
def test_what_is_not_cut(text: str, why: str | None) -> None:
    if why is None:  # the control: this one is cut (a folded BEGIN is still a BEGIN)
        assert len(split_calendar(text, 2, min_events=1)) == 2
        return
    with pytest.raises(Unsplittable, match=why):
        split_calendar(text, 2, min_events=1)


def test_not_cut_below_the_threshold() -> None:
    text = calendar(fillers("a")).decode()
    with pytest.raises(Unsplittable, match="12 VEVENTs"):
        split_calendar(text, 2, min_events=13)
    assert len(split_calendar(text, 2, min_events=12)) == 2


# --- the worker processes ----------------------------------------------------------------


def test_workers_give_each_chunks_values_in_order() -> None:
    with ChunkWorkers(iter, ["abc", "", "de"]) as workers:
        assert [list(workers.messages(i)) for i in (2, 0, 1)] == [["d", "e"], ["a", "b", "c"], []]


def test_a_failing_or_dying_worker_is_reported() -> None:
    with ChunkWorkers(int, ["1x"]) as workers, pytest.raises(WorkerDied, match="ValueError"):
        list(workers.messages(0))
    with ChunkWorkers(os._exit, [3]) as workers, pytest.raises(WorkerDied, match="exit code 3"):
        list(workers.messages(0))


def test_workers_end_when_the_reader_stops_early() -> None:
    items = parse_ics(ics_calendar(3000), workers=2, parallel_from=1, plain=False, **YEAR)
    next(items)
    # The first part's worker at least is still at work: nobody reads its next batches.
    running = multiprocessing.active_children()
    assert running
    items.close()
    assert multiprocessing.active_children() == []
    assert not any(process.is_alive() for process in running)


READER = """
import multiprocessing, time
from spiders.ics_chunks import ChunkWorkers

if __name__ == "__main__":
    with ChunkWorkers(time.sleep, [3600, 3600]):  # workers that would run for an hour
        print(*(p.pid for p in multiprocessing.active_children()), flush=True)
        time.sleep(3600)
"""


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")  # a zombie has ended


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc")
def test_workers_do_not_outlive_a_killed_reader(tmp_path: Path) -> None:
    script = tmp_path / "reader.py"
    script.write_text(READER)
    reader = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    assert reader.stdout is not None
    pids = [int(pid) for pid in reader.stdout.readline().split()]
    assert len(pids) == 2 and all(alive(pid) for pid in pids)
    reader.send_signal(signal.SIGKILL)  # no cleanup: only the workers themselves can notice
    reader.wait()
    reader.stdout.close()
    deadline = time.monotonic() + 30  # generous: they go within about a second
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(pid) for pid in pids)


# --- a real crawl ----------------------------------------------------------------------


@pytest.mark.e2e
def test_crawl_reads_a_large_file_in_parts(site: LocalSite, tmp_path: Path) -> None:
    # With an alarm in every event, none is plain (spiders.ics_fast): the file is cut.
    alarm = b"BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nDESCRIPTION:x\r\nEND:VALARM\r\n"
    body = ics_calendar(2700).replace(b"END:VEVENT", alarm + b"END:VEVENT")
    assert body.count(b"BEGIN:VEVENT") >= PARALLEL_FROM
    url = site.put("/gross.ics", body)
    source = SourceConfig(
        id="gross", type=SourceType.ICS, name="Groß", start_urls=(url,), download_delay=0
    )
    settings = {
        "HTTPCACHE_ENABLED": False,
        "DOWNLOAD_DELAY": 0,
        "AUTOTHROTTLE_ENABLED": False,
        "LOG_LEVEL": "INFO",
    }
    result = crawl([source], work_dir=tmp_path, settings=settings, **YEAR)["gross"]
    assert result.error is None
    expected = records(outcome(body, workers=1, **YEAR))
    found = {r.record_id: (r.title, r.start, r.end) for r in result.records()}
    assert found == {k: (v["title"], v["start"], v["end"]) for k, v in expected.items()}
    log = (tmp_path / "crawl.log").read_text(encoding="utf-8")
    if len(os.sched_getaffinity(0)) > 1:
        assert "iCalendar file read in 2 parts" in log
