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
