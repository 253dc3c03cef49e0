"""The family decision (taxonomy.md: family)."""

import pytest

from pipeline.tag import tag_record


def tag(title: str, description: str = "", categories: list[str] | None = None) -> dict:
    return tag_record({"title": title, "description": description, "categories": categories or []})


@pytest.mark.parametrize(
    ("title", "description", "categories"),
    [
        ("Kindertheater: Der kleine Drache", "Ein Stück mit Musik.", []),
        ("Kinder-Theater im Park", "", []),
        ("Familienführung im Museum", "Für Familien mit Kindern ab 6 Jahren.", []),
        ("Zoo-Sonntag", "Ein Tag für die ganze Familie.", []),
        ("Adventsmarkt", "Buden, Glühwein und ein Karussell. Mit Kinderprogramm.", []),
        ("Laternenumzug durch Linden", "Mit Spielmannszug und Punsch.", []),
        ("Müttertreff", "Austausch für Mütter.", []),
        ("Elternabend online", "Regeln für Handy und Tablet.", []),
        ("Graffiti-Workshop", "Für Jugendliche ab 14.", []),
        ("Teens-Disco", "Einlass ab 12 Jahren.", []),
        ("Bastelnachmittag", "Basteln mit Papier.", ["Kinder & Jugendliche"]),
        ("Gaming-Nachmittag", "Für Kids von 9–13.", []),
        ("Çocuk Tiyatrosu", "4 yaş ve üzeri çocuklar için.", []),
        ("Storytime", "Suitable for children aged 5 and up.", []),
        ("Frühstück für Alleinerziehende", "Austausch und Kontakte.", []),
        ("Spielplatzfest", "Mit Hüpfburg und Schminkstand.", []),
        ("Babyschwimmen", "Wassergewöhnung mit Mama oder Papa.", []),
        ("Großes Kürbisfest", "Hoffest mit regionalem Familienprogramm.", []),
        ("Offene Sprechstunde der Erziehungsberatung", "Fragen zu Trennung und Scheidung.", []),
        ("Kasperletheater", "Der Kasper und das Krokodil.", []),
        ("Tanzabend", "Für Erwachsene und Kinder ab 10.", []),
    ],
)
def test_family_events(title: str, description: str, categories: list[str]) -> None:
    got = tag(title, description, categories)
    assert got["family"] is True, got["reasons"]


@pytest.mark.parametrize(
    ("title", "description", "categories"),
    [
        ("Krimiabend: Lesung", "Wegen drastischer Schilderungen erst ab 16 Jahren geeignet.", []),
        ("Weinprobe", "Teilnahme ab 18 Jahren.", []),
        ("Ü30-Party", "Die Hits der 90er.", []),
        ("Nachtkino (FSK 18)", "Ein Horrorthriller.", []),
        ("Familienaufstellung – Tagesseminar", "Systemische Aufstellungsarbeit.", []),
        ("Ahnen- und Familienforschung für Einsteiger", "Alte Kirchenbücher lesen.", []),
        ("Kinderwunsch-Infoabend", "Ärztinnen informieren Paare.", []),
        (
            "Fachtag für Kita-Leitungen",
            "Sprachbildung in Kindertagesstätten.",
            ["Kinder & Jugendliche"],
        ),
        ("Fortbildung Kinderschutz", "Für Kindertagespflegepersonen.", ["Kinder & Jugendliche"]),
        (
            "Sitzung des Stadtbezirksrats",
            "Sanierung eines Spielplatzes, Kita-Plätze.",
            ["Politik & Verwaltung"],
        ),
        ("Vortrag: Kinderarmut in Deutschland", "Jedes fünfte Kind wächst in Armut auf.", []),
        ("Netzwerkabend: Nachfolge im Familienunternehmen", "Get-together.", []),
        ("Weihnachtsmarkt in der Altstadt", "Buden mit Kunsthandwerk und Glühwein.", []),
        ("Flohmarkt am Hohen Ufer", "Trödel und Schallplatten.", []),
        ("Töpferkurs für Erwachsene", "Schalen und Becher.", []),
        ("Sprachcafé Deutsch", "Das Angebot richtet sich an Erwachsene.", []),
        ("Tanzkurs für Menschen ab 60", "Discofox und Walzer.", []),
        ("Zoo after Work", "Zutritt ab 18 Jahren, auch wenn Kinder gern kämen.", []),
        ("Kabarett", "Ein Soloabend.", []),
    ],
)
def test_not_family_events(title: str, description: str, categories: list[str]) -> None:
    got = tag(title, description, categories)
    assert got["family"] is False, got["reasons"]


def test_explicit_age_beats_keyword_and_says_so() -> None:
    got = tag("Lesung ab 16", "Für Familien mit Kindern? Nein: ab 16 Jahren.")
    assert got["family"] is False
    assert any("beats" in r or "without a youth word" in r for r in got["reasons"])


def test_teen_event_from_16_with_youth_word_stays_family() -> None:
    assert tag("Bewerbungstraining", "Für Jugendliche ab 16 Jahren.")["family"] is True


def test_reasons_name_the_phrase() -> None:
    got = tag("Kindertheater: Der Räuber", "")
    assert any("«kindertheater»" in r for r in got["reasons"])


def test_reasons_line_for_ics_is_short() -> None:
    from core.model import Tags
    from pipeline.tag import reasons_line

    got = tag("Kindertheater: Der Räuber", "Für Kinder ab 4 Jahren. Eintritt frei.")
    line = reasons_line(Tags.from_dict(got))
    assert line.startswith("Tags: ") and len(line) <= 300
    assert "family" in line and "free" in line


@pytest.mark.parametrize(
    ("title", "description"),
    [
        ("Filmabend: Babylon Berlin", ""),
        ("Ausstellung: Kindertransporte 1938", "Dokumente und Briefe."),
        ("Vortrag: Demenz und Familie", "Hilfe für pflegende Angehörige."),
        ("Jugendstil-Führung", "Fassaden der Oststadt."),
    ],
)
def test_words_about_children_are_not_for_children(title: str, description: str) -> None:
    assert tag(title, description)["family"] is False


@pytest.mark.parametrize(
    ("title", "description"),
    [
        # A family as a character in a title or plot.
        (
            "Komödie: The Smith Family",
            "Ein Abend mit der Laienspielgruppe. Die Familie ist zurück.",
        ),
        ("Schauspiel", "Ein bitterböses Stück um eine zerstrittene Familie beim Erbstreit."),
        # Employers and managers as the addressees of a parental-leave seminar.
        (
            "Workshop: Elternzeitvertretung planen",
            "Für Personalverantwortliche mittelständischer Betriebe.",
        ),
        (
            "Vortrag: Wiedereinstieg nach der Elternzeit",
            "Die Kammer informiert Führungskräfte über Teilzeitmodelle für Beschäftigte "
            "nach der Elternzeit.",
        ),
    ],
)
def test_family_words_that_do_not_address_families(title: str, description: str) -> None:
    got = tag(title, description)
    assert got["family"] is False
    assert "eltern" not in got["audiences"]


@pytest.mark.parametrize(
    ("title", "description"),
    [
        ("Musical for the whole family", "Fun for the whole family, for children from 5."),
        ("Infoabend Elterngeld und Elternzeit", "Was werdende Eltern wissen sollten."),
        ("Familientheater", "Ein Stück um eine Familie mit drei Kindern, für Kinder ab 6 Jahren."),
    ],
)
def test_family_words_that_still_address_families(title: str, description: str) -> None:
    assert tag(title, description)["family"] is True


def test_parental_leave_needs_a_second_sign_for_parents() -> None:
    assert "eltern" not in tag("Elternzeit im Betrieb", "Rechtliche Grundlagen.")["audiences"]
    assert "eltern" in tag("Elterngeld und Elternzeit", "Antworten auf Fragen.")["audiences"]
