"""Display names and the plain-text event description shared by the feed writers.

Contract: label tables come from ``data/labels.toml``; ``describe_event(event)`` is the
plain-text body used in ICS DESCRIPTION and JSON ``content_text``: the source's text, then
ages, price, place, a short "Warum hier" line from the tag reasons, source and link.
Every writer publishes links only through ``core.urls.safe_url`` (normalize already drops
other schemes; the writers do not rely on that, since a ``javascript:`` link in a feed is a
link in someone's calendar app).
"""

from __future__ import annotations

import tomllib
from functools import cache

from core.model import Event, Registration
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


def ages_text(event: Event) -> str:
    tags = event.tags
    if not tags:
        return ""
    if tags.age_min is not None and tags.age_max is not None:
        return f"{tags.age_min} bis {tags.age_max} Jahre"
    if tags.age_min is not None:
        return f"ab {tags.age_min} Jahren"
    if tags.age_max is not None:
        return f"bis {tags.age_max} Jahre"
    return ""


def price_text(event: Event) -> str:
    tags = event.tags
    if event.price:
        return event.price
    if tags and tags.free:
        return "kostenlos"
    return ""


def describe_event(event: Event) -> str:
    parts: list[str] = []
    if event.description:
        parts.append(event.description)
    facts = []
    if ages := ages_text(event):
        facts.append(f"Alter: {ages}")
    if price := price_text(event):
        facts.append(f"Preis: {price}")
    if event.tags and event.tags.aktivpass:
        facts.append("Ermäßigt mit HannoverAktivPass")
    if event.tags and event.tags.booked_out:
        facts.append("Ausgebucht.")
    if event.tags and event.tags.registration is not None:
        required = event.tags.registration is Registration.REQUIRED
        facts.append("Anmeldung erforderlich." if required else "Ohne Anmeldung.")
    if facts:
        parts.append("\n".join(facts))
    if event.tags and event.tags.reasons:
        parts.append("Warum hier: " + "; ".join(event.tags.reasons[:4]))
    sources = ", ".join(s.id for s in event.sources)
    url = safe_url(event.url)
    link = f"\n{url}" if url else ""
    parts.append(f"Quelle: {sources}{link}")
    return "\n\n".join(parts)
