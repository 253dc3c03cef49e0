"""Realistic synthetic sources for the benchmarks (issue #20): no two events share a text.

Contract: ``realistic_sources(n, seed=…, start=…)`` returns ``{name: ics bytes}`` for three
sources (a city calendar, a partner's file, a club's) whose events together expand to about
``n`` occurrences inside famcal's feed window; deterministic for a seed. Every event's
title, place and description is distinct: titles, venues, prices, ages, names and dates are
drawn at random from the lists of ``synth_words.toml``; descriptions are five or six German
sentences (ages, prices, registration notes, what to bring). The mix follows the demo: about
55 % family events and 45 % others, about 3 % weekly series (4–8 dates), about 5 % multi-day
events (all-day spans of 2–5 days, or a timed holiday programme over several days), the rest
one-off. About one event in eight of the city calendar appears again in another source under
a different UID, with a reworded title and description, the same start and venue — work for
the dedupe. ``change_one(data, seed)`` rewrites one event's title and description in an ICS
document (the "one event changed" case). Written with icalendar, as a partner's export would be.
``realistic_events(n, start=…)``: those sources read by ``parse_ics`` over famcal's window
and normalized as a run does (one ``Event`` per occurrence, before dedupe and tagging), for
the benchmarks of a single stage.
"""

from __future__ import annotations

import random
import re
import tomllib
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from pathlib import Path

import icalendar

from core.model import BERLIN, Event

WORDS = tomllib.loads((Path(__file__).parent / "synth_words.toml").read_text(encoding="utf-8"))
FAMILY_KINDS: list[str] = WORDS["family_kinds"]
OTHER_KINDS: list[str] = WORDS["other_kinds"]
ADJECTIVES: list[str] = WORDS["adjectives"]
NOUNS: list[str] = WORDS["nouns"]
TOPICS: list[str] = WORDS["topics"]
FIRST: list[str] = WORDS["first"]
LAST: list[str] = WORDS["last"]
VENUE_TYPES: list[str] = WORDS["venue_types"]
DISTRICTS: list[tuple[str, str]] = [tuple(d) for d in WORDS["districts"]]
STREETS: list[str] = WORDS["streets"]
ROOMS: list[str] = WORDS["rooms"]
BRING: list[str] = WORDS["bring"]
MONTHS: list[str] = WORDS["months"]


def _euros(rng: random.Random) -> str:
    return f"{rng.randrange(2, 25)},{rng.choice(('00', '50'))}"


def _sentences(rng: random.Random, kind: str, family: bool, day: date) -> list[str]:
    lo = rng.randrange(1, 10)
    hi = lo + rng.randrange(2, 7)
    deadline = day - timedelta(days=rng.randrange(2, 14))
    who = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    phone = f"0511 {rng.randrange(100, 999)} {rng.randrange(10, 99)} {rng.randrange(10, 99)}"
    pool = [
        f"Die Veranstaltung dauert etwa {rng.choice((45, 60, 75, 90, 120))} Minuten und findet "
        f"im {rng.choice(ROOMS)} statt.",
        rng.choice(
            (
                f"Der Eintritt kostet {_euros(rng)} €, ermäßigt {_euros(rng)} €.",
                "Der Eintritt ist frei, um eine Spende wird gebeten.",
                f"Teilnahmebeitrag {_euros(rng)} € inklusive Material.",
                f"Karten gibt es für {_euros(rng)} € an der Abendkasse.",
            )
        ),
        rng.choice(
            (
                f"Anmeldung bis zum {deadline.day}. {MONTHS[deadline.month - 1]} unter {phone}.",
                f"Um Anmeldung wird gebeten, die Plätze sind auf {rng.randrange(8, 40)} begrenzt.",
                "Eine Anmeldung ist nicht nötig, einfach vorbeikommen.",
                f"Bitte meldet euch per E-Mail bei {who} an.",
            )
        ),
        f"Bitte {rng.choice(BRING)} mitbringen.",
        f"Es leitet {who}, die seit {rng.randrange(3, 25)} Jahren dabei ist.",
        f"Treffpunkt ist {rng.randrange(5, 20)} Minuten vor Beginn am Eingang.",
        rng.choice(
            (
                "Der Raum ist barrierefrei erreichbar.",
                f"Die Haltestelle der Linie {rng.randrange(1, 13)} liegt direkt vor der Tür.",
                "Fahrräder können im Hof abgestellt werden.",
            )
        ),
    ]
    if family:
        pool.append(
            rng.choice(
                (
                    f"Geeignet für Kinder von {lo} bis {hi} Jahren.",
                    f"Für Kinder ab {lo} Jahren in Begleitung eines Erwachsenen.",
                    f"Kinder unter {lo} Jahren zahlen nichts.",
                )
            )
        )
    else:
        pool.append(rng.choice(("Für Erwachsene.", "Ab 18 Jahren.", f"Ab {14 + lo} Jahren.")))
    chosen = rng.sample(pool, rng.choice((4, 5)))
    intro = f"{kind} für die ganze Familie im Stadtteil." if family else f"{kind} für Erwachsene."
    return [intro, *chosen]


def _title(rng: random.Random, kind: str, family: bool) -> str:
    what = f"Die {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}" if family else rng.choice(TOPICS)
    extra = rng.random()
    if extra < 0.4:
        return f"{kind}: {what} mit {rng.choice(FIRST)} {rng.choice(LAST)}"
    if extra < 0.7:
        return f"{kind}: {what} ({rng.choice(('Teil', 'Folge', 'Runde'))} {rng.randrange(1, 40)})"
    return f"{kind}: {what}"


def _venue(rng: random.Random) -> str:
    district, code = rng.choice(DISTRICTS)
    return (
        f"{rng.choice(VENUE_TYPES)} {district}, {rng.choice(STREETS)} {rng.randrange(1, 140)}, "
        f"{code} Hannover"
    )


def _draw(rng: random.Random, titles: set[str], origin: datetime) -> dict[str, object]:
    family = rng.random() < 0.55
    kind = rng.choice(FAMILY_KINDS if family else OTHER_KINDS)
    title = _title(rng, kind, family)
    while title in titles:  # distinct texts are the point of this case
        title = f"{title} {rng.randrange(2, 99)}"
    titles.add(title)
    begin = (origin + timedelta(days=rng.randrange(330), hours=rng.randrange(8, 20))).replace(
        minute=rng.choice((0, 15, 30, 45)), second=0, microsecond=0
    )
    shape = rng.random()
    fields: dict[str, object] = {"summary": title, "location": _venue(rng), "family": family}
    if shape < 0.03:  # a weekly series
        fields.update(start=begin, end=begin + timedelta(minutes=90), weekly=rng.randrange(4, 9))
    elif shape < 0.055:  # all-day over several days (a market, a festival)
        day = begin.date()
        fields.update(start=day, end=day + timedelta(days=rng.randrange(2, 6)))
    elif shape < 0.08:  # a timed holiday programme over several days
        fields.update(start=begin, end=begin + timedelta(days=rng.randrange(1, 5), hours=5))
    else:
        fields.update(start=begin, end=begin + timedelta(minutes=rng.choice((60, 90, 120, 180))))
    sentences = _sentences(rng, kind, family, begin.date())
    fields["description"] = " ".join(sentences)
    fields["sentences"] = sentences
    return fields


def _reworded(rng: random.Random, fields: dict[str, object]) -> dict[str, object]:
    """The same event as another source writes it: other title case, shorter text."""
    sentences = list(fields["sentences"])  # type: ignore[call-overload]
    rng.shuffle(sentences)
    title = str(fields["summary"])
    return {
        **fields,
        "summary": title.upper() if rng.random() < 0.3 else title.replace(": ", " – "),
        "description": " ".join(sentences[:-1]),
    }


def _event(uid: str, fields: dict[str, object], url: str) -> icalendar.Event:
    event = icalendar.Event.new(
        uid=uid,
        stamp=datetime(2026, 11, 1, tzinfo=BERLIN),
        start=fields["start"],  # type: ignore[arg-type]
        end=fields["end"],  # type: ignore[arg-type]
        summary=str(fields["summary"]),
        description=str(fields["description"]),
        location=str(fields["location"]),
        url=url,
    )
    if fields.get("weekly"):
        event.add("RRULE", {"FREQ": "WEEKLY", "COUNT": fields["weekly"]})
    return event


SOURCES = ("stadt", "partner", "verein")
SHARES = (0.5, 0.35, 0.15)


def realistic_sources(n: int, *, seed: int = 1, start: datetime | None = None) -> dict[str, bytes]:
    rng = random.Random(seed)
    origin = start or datetime(2026, 12, 1, tzinfo=BERLIN)
    cals = {
        name: icalendar.Calendar.new(prodid=f"-//famcal benchmarks {name}//DE", uid=name)
        for name in SOURCES
    }
    titles: set[str] = set()
    produced = i = 0
    while produced < n:
        i += 1
        fields = _draw(rng, titles, origin)
        name = rng.choices(SOURCES, SHARES)[0]
        count = int(fields.get("weekly") or 1)  # type: ignore[call-overload]
        cals[name].add_component(
            _event(f"{name}-{seed}-{i}@famcal", fields, f"https://{name}.example/e/{i}")
        )
        produced += count
        if name == "stadt" and rng.random() < 0.125 and produced + count <= n:
            other = rng.choice(SOURCES[1:])
            cals[other].add_component(
                _event(
                    f"{other}-{seed}-{i}-dup@famcal",
                    _reworded(rng, fields),
                    f"https://{other}.example/e/{i}",
                )
            )
            produced += count
    out = {}
    for name, cal in cals.items():
        cal.add_missing_timezones()
        out[name] = cal.to_ical()
    return out


def change_one(
    data: bytes, *, seed: int = 7, others: Iterable[bytes] = ()
) -> tuple[bytes, str]:
    """``data`` with one event (picked by ``seed``) retitled and redescribed; the new title.
    ``others``: the other sources' files; an event they list again is not picked, since the
    merged event may keep the other source's title and the change would not show."""
    cal = icalendar.Calendar.from_ical(data)
    twice = set(re.findall(rb"UID:\w+-(\d+-\d+)-dup@famcal", b"".join(others)))
    events = [
        c
        for c in cal.walk("VEVENT")
        if "RRULE" not in c and _listing(str(c["UID"])) not in twice
    ]
    event = random.Random(seed).choice(events)
    title = f"{event['SUMMARY']} – neuer Termin, Ort geändert"
    event["SUMMARY"] = icalendar.vText(title)
    event["DESCRIPTION"] = icalendar.vText(
        f"{event['DESCRIPTION']} Achtung: Die Veranstaltung wurde in den Garten verlegt."
    )
    changed: bytes = cal.to_ical()
    return changed, title


def _listing(uid: str) -> bytes:
    """The "<seed>-<i>" of a city listing's UID ("stadt-<seed>-<i>@famcal")."""
    return uid.split("@")[0].split("-", 1)[1].encode()


def realistic_events(n: int, *, seed: int = 1, start: datetime | None = None) -> list[Event]:
    """The normalized occurrences of ``realistic_sources(n, …)`` (the module's contract),
    each with the UID of a record never merged."""
    from core.model import RawEvent
    from pipeline.dedupe import new_uid
    from pipeline.normalize import Rejected, normalize
    from spiders.ics_parse import parse_ics

    origin = start or datetime(2026, 12, 1, tzinfo=BERLIN)
    window = {"window_start": origin - timedelta(days=30), "window_end": origin + timedelta(400)}
    fields = set(RawEvent.__dataclass_fields__)
    events = []
    for name, body in realistic_sources(n, seed=seed, start=origin).items():
        for i, item in enumerate(parse_ics(body, **window)):
            if not isinstance(item, dict):
                continue  # a counted skip
            raw = RawEvent(**{**{k: v for k, v in item.items() if k in fields}, "source_id": name})
            try:
                events.append(normalize(raw, uid=new_uid(name, str(raw.record_id or i))))
            except Rejected:
                continue
    return events
