"""Topics and audiences (taxonomy.md)."""

import pytest

from pipeline.tag import tag_record


def tag(title: str, description: str = "", categories: list[str] | None = None) -> dict:
    return tag_record({"title": title, "description": description, "categories": categories or []})


@pytest.mark.parametrize(
    ("title", "description", "categories", "topics"),
    [
        ("Kinderturnen", "Rollen und Balancieren.", [], ["sport-bewegung"]),
        ("Seepferdchen-Kurs", "Schwimmen lernen.", [], ["sport-bewegung"]),
        ("Babymassage", "Sanfte Massagegriffe.", [], ["gesundheit"]),
        ("Erste-Hilfe-Kurs am Kind", "", [], ["gesundheit"]),
        ("Coding-Club", "Roboter programmieren.", [], ["medienkompetenz"]),
        ("Bilderbuchkino", "Eine Geschichte auf der Leinwand, vorgelesen.", [], ["bildung"]),
        ("Lesung: Funkstille", "Die Autorin liest aus ihrem Roman.", [], ["bildung"]),
        ("Figurentheater: Der gestiefelte Kater", "", [], ["kultur"]),
        ("Sonntagskino", "Ein Animationsfilm.", [], ["kultur"]),
        ("Taschenlampenführung im Zoo", "Nachtaktive Tiere entdecken.", [], ["natur"]),
        ("FerienCard-Aktion", "Zwei Stunden an der Kletterwand.", [], ["sport-bewegung", "ferien"]),
        ("Elternkurs", "Grenzen setzen ohne laut zu werden.", [], ["beratung"]),
        ("Laternenfest", "Umzug mit Spielmannszug.", [], ["feste"]),
        ("Kunsthandwerkermarkt", "Töpferwaren und Schmuck.", [], ["feste"]),
        ("Jahreshauptversammlung des Sportvereins", "Tagesordnung: Berichte.", [], []),
        ("Vortrag: Kinderarmut", "Ursachen und Auswege.", [], []),
        ("Waldgruppe", "Wetterfeste Kleidung ist Pflicht.", [], ["natur"]),
        ("Gaming-Nachmittag", "Wie man fair spielt.", ["Games"], ["medienkompetenz"]),
        ("Musiktheater", "Fällt wegen Krankheit im Ensemble aus.", [], ["kultur"]),
    ],
)
def test_topics(title: str, description: str, categories: list[str], topics: list[str]) -> None:
    assert tag(title, description, categories)["topics"] == topics


@pytest.mark.parametrize(
    ("title", "description", "categories", "audiences"),
    [
        ("Krabbelgruppe", "Für Babys und ihre Eltern.", [], ["eltern"]),
        ("Eltern-Kind-Turnen", "Mit einem Elternteil.", [], ["eltern"]),
        ("Frühstückstreff für Alleinerziehende", "", [], ["eltern", "alleinerziehende"]),
        (
            "Der Junge, der die Zeit anhielt",
            "Weil seine Eltern nie Zeit haben, hält Jonas die Uhren an.",
            [],
            [],
        ),
        ("Fachtag", "Zur Zusammenarbeit mit Eltern.", [], []),
        ("Müttertreff auf Arabisch", "لقاء مفتوح للأمهات", [], ["eltern", "migration"]),
        ("Little Red Riding Hood (in English)", "", [], ["migration"]),
        ("Lerncafé", "Hilfe in Mathe, Deutsch und Englisch für Jugendliche.", [], ["jugendliche"]),
        ("Sprachcafé", "Neuzugewanderte üben Deutsch.", [], ["migration"]),
        ("Fachtag", "Mehrsprachigkeit im Team.", [], []),
        ("Poetry Slam", "Der Saal ist leider nicht barrierefrei.", [], []),
        ("Museumsführung", "Das Museum ist barrierefrei zugänglich.", [], ["inklusion"]),
        ("Führung in Leichter Sprache", "", [], ["inklusion"]),
        ("Speed-Dating", "Ein Getränk ist inklusive.", [], []),
        ("Pilzwanderung", "", ["Kinder & Jugendliche"], []),
        ("Graffiti-Workshop", "", ["Jugend"], ["jugendliche"]),
        ("Kadın kahvaltısı", "Türkischsprachige Frauen frühstücken.", [], ["migration"]),
        ("Führung", "Wegen einer Verkehrsbehinderung später.", [], []),
    ],
)
def test_audiences(
    title: str, description: str, categories: list[str], audiences: list[str]
) -> None:
    assert tag(title, description, categories)["audiences"] == audiences


@pytest.mark.parametrize(
    ("title", "description", "categories", "topics"),
    [
        # Verbs in -tieren are not animals; reindeer ("Rentieren") are.
        ("Gesprächsabend", "Fachleute diskutieren und präsentieren Ergebnisse.", [], []),
        ("Weihnachtsmarkt mit Rentieren", "Streicheln erlaubt.", [], ["natur", "feste"]),
        # A garden as a metaphor; a real one.
        ("Musikgarten für Zweijährige", "Wir singen und trommeln.", [], ["kultur"]),
        (
            "Schnittkurs im Obstgarten",
            "Erziehungs- und Pflegeschnitt an jungen Bäumen.",
            [],
            ["natur"],
        ),
        # A ballet on stage is culture; a ballet class is movement.
        ("Schwanensee", "Das Staatsballett tanzt den Klassiker.", [], ["kultur"]),
        ("Kinderballett ab 4", "Wöchentlicher Kurs.", [], ["sport-bewegung"]),
        # Stage forms.
        ("Varieté-Abend", "Artistik und Chansons.", [], ["kultur"]),
        ("Jahresrückblick", "Wir lassen das Jahr Revue passieren.", [], []),
        # A funding programme names money, not a subject.
        (
            "Klettern am Turm",
            "Ein Zuschuss über Bildung und Teilhabe ist möglich.",
            [],
            ["sport-bewegung"],
        ),
        # Readings between the pieces of a concert are part of it.
        ("Adventskonzert", "Chormusik; dazwischen liest die Pastorin Gedichte.", [], ["kultur"]),
        # School start and learning a language are education.
        ("Infoabend zur Einschulung", "", [], ["bildung"]),
        (
            "Abendkurs",
            "Die Teilnehmenden lernen die Grundlagen der Gebärdensprache.",
            [],
            ["bildung"],
        ),
    ],
)
def test_kinds_of_topic_mistakes(
    title: str, description: str, categories: list[str], topics: list[str]
) -> None:
    assert sorted(tag(title, description, categories)["topics"]) == sorted(topics)


def test_a_sign_language_interpreter_is_not_a_foreign_language() -> None:
    got = tag(
        "Elternkurs für gehörlose Eltern",
        "Der Kurs ist in Gebärdensprache. Die Referentin ist gehörlos. "
        "Eine Dolmetscherin begleitet den Abend.",
    )
    assert "migration" not in got["audiences"]
    assert "inklusion" in got["audiences"]
    assert (
        "migration" in tag("Elterncafé", "Eine Dolmetscherin übersetzt ins Arabische.")["audiences"]
    )
