"""Price (free, aktivpass) and status (taxonomy.md)."""

import pytest

from core.model import Event, Location, SourceRef
from pipeline.tag import tag_event, tag_record


def tag(price: str = "", description: str = "", title: str = "Veranstaltung") -> dict:
    return tag_record({"title": title, "description": description, "price": price})


@pytest.mark.parametrize(
    ("price", "description", "free"),
    [
        ("Eintritt frei", "", True),
        ("kostenlos, Anmeldung erforderlich", "", True),
        ("Die Teilnahme ist kostenfrei.", "", True),
        ("gratis", "", True),
        ("free of charge", "", True),
        ("Eintritt frei / Giriş ücretsiz", "", True),
        ("0 €", "", True),
        ("Spenden erbeten", "", True),
        ("", "Der Eintritt ist frei.", True),
        ("", "Zuschauen ist kostenlos.", True),
        ("Eintritt frei", "Um eine Spende am Ausgang wird gebeten.", True),
        ("Erwachsene 8 €, Kinder frei", "", False),
        ("Vereinsmitglieder frei, Gäste 3 €", "", False),
        ("30 € für 8 Abende, mit HannoverAktivPass kostenfrei", "", False),
        ("€ 9 / children € 6", "", False),
        ("39–69 € zzgl. Gebühren", "", False),
        ("Startgeld 3 €", "", False),
        ("", "Kosten: 5 Euro pro Kind.", False),
        ("", "", None),
        ("", "Mit HannoverAktivPass kostenfrei.", None),
        ("", "Kinder unter 6 Jahren frei.", None),
    ],
)
def test_free(price: str, description: str, free: bool | None) -> None:
    assert tag(price, description)["free"] is free


@pytest.mark.parametrize(
    ("price", "aktivpass"),
    [
        ("7 €, mit HannoverAktivPass 1 €", True),
        ("35 €, mit Hannover-Aktiv-Pass 50 % Ermäßigung", True),
        ("Ermäßigung mit Aktivpass", True),
        ("10 €, der HannoverAktivPass wird nicht akzeptiert", False),
        ("10 €", False),
    ],
)
def test_aktivpass(price: str, aktivpass: bool) -> None:
    assert tag(price)["aktivpass"] is aktivpass


@pytest.mark.parametrize(
    ("title", "description", "status"),
    [
        ("ABGESAGT: Jazz im Schlosshof", "", "cancelled"),
        ("Jazz", "Das Konzert fällt wegen Erkrankung aus.", "cancelled"),
        ("Fällt aus: Mitspieltheater", "", "cancelled"),
        ("Herbstfest", "Das Fest muss leider entfallen.", "cancelled"),
        ("Lesung", "Die Lesung entfällt.", "cancelled"),
        ("Lesung", "Die Lesung ist leider ausgefallen.", "cancelled"),
        ("Verschoben: Radtour", "", "postponed"),
        ("Liederabend", "Der Abend wird verschoben. Ein neuer Termin folgt.", "postponed"),
        ("Spielplatzfest", "Das Fest fällt bei Regen nicht aus.", "scheduled"),
        (
            "La Traviata",
            "Ersatztermin für die am 14. Oktober ausgefallene Vorstellung.",
            "scheduled",
        ),
        ("Offener Treff", "Eine Anmeldung entfällt.", "scheduled"),
        ("Sommerfest", "Bei Regen fällt das Fest aus.", "scheduled"),
        ("Konzert", "", "scheduled"),
    ],
)
def test_status_from_text(title: str, description: str, status: str) -> None:
    assert tag(title=title, description=description)["status"] == status


@pytest.mark.parametrize(
    ("hint", "status"),
    [
        ("CANCELLED", "cancelled"),
        ("https://schema.org/EventCancelled", "cancelled"),
        ("cancelled", "cancelled"),
        ("EventPostponed", "postponed"),
        ("CONFIRMED", "scheduled"),
        (None, "scheduled"),
    ],
)
def test_status_from_source_hint(hint: str | None, status: str) -> None:
    from datetime import date

    event = Event(
        uid="u1",
        title="Konzert",
        start=date(2026, 12, 6),
        end=None,
        all_day=True,
        location=Location(city="Hannover"),
        hints={"status": hint, "free": True},
        sources=(SourceRef(id="s", record_id="r1"),),
    )
    tags = tag_event(event)
    assert tags.status.value == status
    assert tags.free is True


@pytest.mark.parametrize(
    "description",
    [
        "Der Kurs fällt in den Herbstferien aus.",
        "Eine Anmeldung entfällt.",
        "Falls es regnet, fällt alles aus.",
    ],
)
def test_not_a_cancellation(description: str) -> None:
    assert tag(title="Kinderyoga", description=description)["status"] == "scheduled"


def test_child_ticket_prices_do_not_make_a_family_event() -> None:
    got = tag(title="Stadtführung", description="Eintritt: 5 €, Kinder bis 6 Jahre frei.")
    assert got["family"] is False
    assert (got["age_min"], got["age_max"]) == (None, None)
    assert got["free"] is False


@pytest.mark.parametrize(
    ("price", "description", "free"),
    [("kostenpflichtig", "", False), ("Spende erwünscht", "", True), ("Eintritt: 4", "", False)],
)
def test_more_price_phrases(price: str, description: str, free: bool) -> None:
    assert tag(price, description)["free"] is free


def test_a_possible_cancellation_is_not_one() -> None:
    text = "Bei zu wenigen Anmeldungen kann der Kurs abgesagt werden."
    assert tag(title="Töpferkurs", description=text)["status"] == "scheduled"


def test_hannover_de_phrasings() -> None:
    assert tag(description="Dies ist eine Veranstaltung mit freiem Eintritt")["free"] is True
    skipped = "Die Veranstaltung findet nicht statt am: 18.10.2026 25.10.2026"
    assert tag(title="Flohmarkt", description=skipped)["status"] == "scheduled"
    assert tag(title="Abgesagt: K-Pop Forever", description="")["status"] == "cancelled"
    prices = tag(title="Tiergartenfest", description="Erwachsene 3 € Kinder (bis 14 Jahre) 2 €")
    assert (prices["age_max"], prices["family"], prices["free"]) == (None, False, False)


@pytest.mark.parametrize(
    ("title", "description", "status"),
    [
        ("Konzert", "Das Konzert findet leider nicht statt.", "cancelled"),
        ("Absage: Lesung", "", "cancelled"),
        ("Kindertheater", "Die Vorstellung wird auf den 12. Mai verlegt.", "postponed"),
        ("Kindertheater", "Die Vorstellung wird in die Turnhalle verlegt.", "scheduled"),
        ("Kurs", "Der Kurs wird auf einen späteren Termin verschoben.", "postponed"),
        ("Lesung", "Die Lesung wird auf einen späteren Zeitpunkt verlegt.", "postponed"),
    ],
)
def test_more_status_phrases(title: str, description: str, status: str) -> None:
    assert tag(title=title, description=description)["status"] == status


@pytest.mark.parametrize(
    ("title", "description", "status"),
    [
        # A make-up date is the new date: the earlier one's "verschoben" does not count.
        (
            "Nachholtermin: Liederabend im Gemeindesaal",
            "Der für März geplante Abend wurde wegen Krankheit verschoben.",
            "scheduled",
        ),
        (
            "Puppentheater (Ersatztermin)",
            "Die Vorstellung im Mai war abgesagt worden.",
            "scheduled",
        ),
        ("Neuer Termin: Lesung mit Tanja B.", "Die Lesung musste verschoben werden.", "scheduled"),
        ("Stummfilmabend", "Der verschobene Abend wird heute nachgeholt.", "scheduled"),
        # A make-up date still to come leaves this one postponed or cancelled.
        ("Stummfilmabend", "Verschoben, ein Nachholtermin wird bekannt gegeben.", "postponed"),
        ("Verschoben – neuer Termin folgt", "", "postponed"),
        ("Lesung", "Die Lesung fällt aus und wird im Mai nachgeholt.", "cancelled"),
        ("ABGESAGT – Nachholtermin: Liederabend", "", "cancelled"),
    ],
)
def test_makeup_dates(title: str, description: str, status: str) -> None:
    assert tag(title=title, description=description)["status"] == status
