"""General rules of the #18 topics/family pass: venues, frames and performers are not subjects."""

import pytest

from pipeline.tag import tag_record


def tag(title: str, description: str = "", categories: list[str] | None = None) -> dict:
    return tag_record({"title": title, "description": description, "categories": categories or []})


@pytest.mark.parametrize(
    ("title", "description", "absent"),
    [
        # A park or garden named as the venue is a place, not nature as a subject.
        ("Drachenbasteln im Stadtgarten", "Wir kleben bunte Drachen aus Papier.", "natur"),
        ("Feuerwerk in den Schlossgärten", "Ein Abend im Alten Garten mit Feuerwerk.", "natur"),
        # Pandemic entry rules name who may come in, not a health subject.
        ("Rockkonzert im Keller", "Zutritt nur für Geimpfte, es gilt die 2G-Regel.", "gesundheit"),
        ("Jazzabend", "Bitte eine medizinische Maske tragen.", "gesundheit"),
        # Police crime prevention is not health; "sucht" as a verb is not addiction.
        (
            "Puppenspiel",
            "Die Polizei zeigt ein Stück zur Prävention von Trickbetrug.",
            "gesundheit",
        ),
        ("Bilderbuchkino", "Der Bär packt seinen Koffer und sucht einen Freund.", "gesundheit"),
        # A dress code is not a sport.
        ("Ballnacht im Kurhaus", "Wir bitten um sportlich-elegante Kleidung.", "sport-bewegung"),
        # Music that frames a service or a parade is not a concert.
        ("Laternenlauf durch die Siedlung", "Musikalisch umrahmt vom Spielmannszug.", "kultur"),
        ("Nachbarschaftsfest", "Ein DJ spielt Discomusik nach Musikwünschen.", "kultur"),
        # A festival of an art is a series of performances, not a celebration.
        ("Kleinkunstreihe", "Das Comedy-Festival zeigt fünf Abende Stand-up.", "feste"),
        (
            "Krimifest: Lesung im Straßenbahndepot",
            "Eine Autorin liest aus ihrem Thriller.",
            "feste",
        ),
    ],
)
def test_venues_and_frames_set_no_topic(title: str, description: str, absent: str) -> None:
    assert absent not in tag(title, description)["topics"]


@pytest.mark.parametrize(
    ("title", "description", "topic"),
    [
        # A walk through a garden is about it; a concert with a programme is a concert.
        ("Rundgang durch die Herrenhäuser Gärten", "Frühblüher und alte Bäume erklärt.", "natur"),
        ("Sommerkonzert im Stadtgarten", "Das Orchester spielt Mozart.", "kultur"),
        ("Suchtprävention für Eltern", "Wie Kinder stark gegen Sucht werden.", "gesundheit"),
        ("Straßenfest in der Nordstadt", "Mit Flohmarkt und Kuchen.", "feste"),
    ],
)
def test_subjects_still_set_their_topic(title: str, description: str, topic: str) -> None:
    assert topic in tag(title, description)["topics"]


@pytest.mark.parametrize(
    ("title", "description", "family"),
    [
        # Children singing on stage are performers: the compound name of a choir, a choir
        # festival or a choir centre does not make the audience children.
        (
            "Jubiläumskonzert",
            "Zum 30. Geburtstag des Lindener Kinderchors singen Gastchöre.",
            False,
        ),
        ("Internationales Jugendchorfestival", "Chöre aus sechs Ländern in drei Kirchen.", False),
        # The quoted title of an exhibition names what is shown.
        (
            "Ausstellung „Kinderspielzeug aus Blech“",
            "Der Sammlerverein zeigt seine Schätze.",
            False,
        ),
        # A concert or party in a youth centre is for its young regulars.
        (
            "Unplugged-Abend",
            "Im Jugendtreff Nordlicht spielen drei Bands ein Weihnachtskonzert.",
            True,
        ),
        ("Konzertnacht mit vier Bands", "Ab 19 Uhr im Jugendhaus Süd, Eintritt drei Euro.", True),
        # A repair café in a youth centre is not a youth event.
        ("Repair-Café", "Im Jugendzentrum werden Toaster und Fahrräder repariert.", False),
        # A bouncy castle is put up for children.
        (
            "Frühlingsmeile im Einkaufszentrum",
            "Aussteller, Glücksrad und eine Riesenhüpfburg.",
            True,
        ),
        # Kitas inviting to a fest.
        ("Osterhasenfest am Rathaus", "Die Kitas des Stadtteils laden zum Eierlaufen ein.", True),
    ],
)
def test_family_performers_venues_and_signs(title: str, description: str, family: bool) -> None:
    assert tag(title, description)["family"] is family


def test_a_childrens_choir_offer_still_counts_by_its_age() -> None:
    got = tag("Kinderchor", "Neue Sängerinnen und Sänger von 6 bis 10 Jahren willkommen.")
    assert got["family"] is True


def test_a_working_garden_is_still_nature() -> None:
    got = tag("Ernte im Schulgarten", "Kartoffeln ausgraben und Beete für den Winter vorbereiten.")
    assert "natur" in got["topics"]
