"""Synthetic sources for the benchmarks: N events with realistic German titles and places.

Contract: ``ics_calendar(n, seed=…, start=…)`` returns the bytes of one ICS file whose
events expand to about ``n`` occurrences inside famcal's feed window (one in ten is a
weekly series of four, written as an RRULE); deterministic for a seed. Written with
icalendar, as a partner's export would be.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import icalendar

from core.model import BERLIN

KINDS = [
    "Kindertheater",
    "Bilderbuchkino",
    "Vorlesestunde",
    "Familienführung",
    "Krabbelgruppe",
    "Eltern-Kind-Turnen",
    "Ferienprogramm",
    "Lesung",
    "Konzert",
    "Vortrag",
    "Flohmarkt",
    "Workshop",
    "Stadtteilfest",
    "Schwimmkurs",
    "Experimentierwerkstatt",
    "Sprachcafé",
]
SUBJECTS = [
    "Der Grüffelo",
    "Pippi Langstrumpf",
    "Die kleine Hexe",
    "Jim Knopf",
    "Räuber Hotzenplotz",
    "Sterne und Planeten",
    "Tiere im Winter",
    "Musik aus aller Welt",
    "Programmieren mit Scratch",
    "Gesunde Ernährung",
    "Erste Hilfe am Kind",
    "Wald und Wiese",
    "Jazz am Abend",
    "Stadtgeschichte",
    "Laternen basteln",
    "Tanzen für alle",
]
AUDIENCE = [
    "für Kinder ab 4 Jahren",
    "für Kinder von 6 bis 10 Jahren",
    "für die ganze Familie",
    "für Jugendliche ab 14",
    "für Eltern mit Babys",
    "für Erwachsene",
    "ab 18 Jahren",
    "",
]
PLACES = [
    ("Stadtbibliothek Hannover", "Hildesheimer Straße 12", "30169"),
    ("Freizeitheim Linden", "Windheimstraße 4", "30451"),
    ("Kulturtreff Plantage", "Kurt-Schumacher-Allee 25", "30659"),
    ("Familienzentrum Vahrenwald", "Vahrenwalder Straße 92", "30165"),
    ("Stadtteilzentrum Ricklingen", "Anne-Stache-Allee 7", "30459"),
    ("Bürgerhaus Misburg", "Seckbruchstraße 20", "30629"),
    ("Theater an der Glocksee", "Glockseestraße 35", "30169"),
    ("Stadtteilzentrum Stöcken", "Eichsfelder Straße 101", "30419"),
    ("Freizeitheim Döhren", "Peiner Straße 5", "30519"),
    ("Kulturzentrum Faust", "Zur Bettfedernfabrik 3", "30451"),
]
PRICES = ["Eintritt frei", "5 €, ermäßigt 3 €", "kostenlos", "8 €", "Spenden erbeten", "12 €"]


def ics_calendar(n: int, *, seed: int = 1, start: datetime | None = None) -> bytes:
    rng = random.Random(seed)
    origin = start or datetime(2026, 12, 1, tzinfo=BERLIN)
    cal = icalendar.Calendar.new(prodid="-//famcal benchmarks//DE", uid="bench@famcal")
    produced = i = 0
    while produced < n:
        i += 1
        kind, subject = rng.choice(KINDS), rng.choice(SUBJECTS)
        place, street, code = rng.choice(PLACES)
        begin = (origin + timedelta(days=rng.randrange(330), hours=rng.randrange(8, 20))).replace(
            minute=rng.choice((0, 15, 30)), second=0, microsecond=0
        )
        event = icalendar.Event.new(
            uid=f"bench-{seed}-{i}@famcal",
            stamp=datetime(2026, 11, 1, tzinfo=BERLIN),
            start=begin,
            end=begin + timedelta(minutes=rng.choice((60, 90, 120))),
            summary=f"{kind}: {subject}",
            description=f"{kind} {rng.choice(AUDIENCE)}. {rng.choice(PRICES)}.",
            location=f"{place}, {street}, {code} Hannover",
            url=f"https://partner.example/events/{i}",
        )
        if i % 10 == 0 and produced + 4 <= n:
            event.add("RRULE", {"FREQ": "WEEKLY", "COUNT": 4})
            produced += 4
        else:
            produced += 1
        cal.add_component(event)
    cal.add_missing_timezones()
    data: bytes = cal.to_ical()
    return data
