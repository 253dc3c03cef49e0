"""Display names and the plain-text event description shared by the feed writers.

Contract: label tables come from ``data/labels.toml``; ``describe_event(event)`` is the
plain-text body used in ICS DESCRIPTION and JSON ``content_text``: German sentences a
person would write (status, the source's text, for whom, price, AktivPass, a missing end),
then the source's name and link — never rule evidence. ``summary(event)`` is the title with
"Abgesagt: " / "Verschoben: " in front for events that are not on as planned.
Every writer publishes links only through ``core.urls.safe_url`` (normalize already drops
other schemes; the writers do not rely on that, since a ``javascript:`` link in a feed is a
link in someone's calendar app).
"""

from __future__ import annotations

import tomllib
from functools import cache

from core.model import Event, Registration, Status
from core.paths import data_file
from core.urls import safe_url


@cache
def labels() -> dict[str, dict[str, str]]:
    with data_file("labels.toml").open("rb") as handle:
        return tomllib.load(handle)


def _flat() -> dict[str, str]:
    table = labels()
    return {**table["topics"]}


CATEGORY_LABELS: dict[str, str] = _flat()


def _upto(age: int) -> str:
    # "bis 1 Jahr", "bis 3 Jahre": the singular for one year, as parents say it.
    return "bis 1 Jahr" if age == 1 else f"bis {age} Jahre"


def ages_text(event: Event) -> str:
    tags = event.tags
    if not tags:
        return ""
    lo, hi = tags.age_min, tags.age_max
    if lo is not None and hi is not None and lo > 0:
        return f"{lo} bis {hi} Jahre"
    if hi is not None:  # "0 bis 1 Jahre" reads oddly: from birth is "bis 1 Jahr"
        return _upto(hi)
    if lo is not None:
        return f"ab {lo} Jahren"
    return ""


def price_text(event: Event) -> str:
    tags = event.tags
    if event.price:
        return event.price
    if tags and tags.free:
        return "kostenlos"
    return ""


STATUS_PREFIX: dict[Status, str] = {
    Status.CANCELLED: "Abgesagt: ",
    Status.POSTPONED: "Verschoben: ",
}
_STATUS_LINE: dict[Status, str] = {
    Status.CANCELLED: "Abgesagt: Diese Veranstaltung fällt aus.",
    Status.POSTPONED: "Verschoben: Der Termin ist verschoben, ein neuer folgt.",
}
NO_END = "Ende nicht angegeben."


def summary(event: Event) -> str:
    """The title a calendar app shows: "Abgesagt: …" / "Verschoben: …" in front where the
    event is not on as planned (Google shows cancelled entries like any other)."""
    return STATUS_PREFIX.get(event.status, "") + event.title


def why_listed(event: Event) -> str:
    """One short line why a family event is in the family feeds; empty for the others."""
    tags = event.tags
    if not tags or not tags.family:
        return ""
    lo, hi = tags.age_min, tags.age_max
    if lo is not None and hi is not None and lo > 0:
        return f"Für Kinder von {lo} bis {hi} Jahren."
    if hi is not None:
        return f"Für Kinder {_upto(hi)}."
    if lo is not None:
        return f"Für Kinder ab {lo} Jahren."
    return "Familienangebot."


def source_line(event: Event) -> str:
    names = ", ".join(dict.fromkeys(s.name or s.id for s in event.sources))
    return f"Quelle: {names}" if names else ""


def describe_event(event: Event) -> str:
    """What a parent reads in the calendar app's notes: plain German sentences — the
    status, the source's text, for whom, price, AktivPass, a missing end, then the source's
    name and link. The rule evidence stays in the JSON's ``reasons``."""
    parts: list[str] = []
    if line := _STATUS_LINE.get(event.status):
        parts.append(line)
    if event.description:
        parts.append(event.description)
    facts = []
    if why := why_listed(event):
        facts.append(why)
    if price := price_text(event):
        facts.append(f"Preis: {price}")
    if event.tags and event.tags.aktivpass:
        facts.append("Ermäßigt mit dem HannoverAktivPass.")
    if event.tags and event.tags.booked_out:
        facts.append("Ausgebucht.")
    if event.tags and event.tags.registration is not None:
        required = event.tags.registration is Registration.REQUIRED
        facts.append("Anmeldung erforderlich." if required else "Ohne Anmeldung.")
    if not event.all_day and event.end is None:
        facts.append(NO_END)
    if facts:
        parts.append("\n".join(facts))
    url = safe_url(event.url)
    source = "\n".join(x for x in (source_line(event), url) if x)
    if source:
        parts.append(source)
    return "\n\n".join(parts)
