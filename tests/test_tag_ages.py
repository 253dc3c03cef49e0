"""Ages and age groups (taxonomy.md: age_min / age_max / age_groups)."""

import pytest

from pipeline.tag import tag_record


def tag(text: str, title: str = "Veranstaltung") -> dict:
    return tag_record({"id": "t", "title": title, "description": text})


@pytest.mark.parametrize(
    ("text", "age_min", "age_max"),
    [
        ("Für Kinder ab 4 Jahren.", 4, None),
        ("Für Kinder von 6 bis 12 Jahren.", 6, 12),
        ("Geeignet für 6–12 J.", 6, 12),
        ("Mitmachen können 6- bis 11-Jährige.", 6, 11),
        ("Für Kinder bis 10 Jahre.", None, 10),
        ("Für Kinder bis 10.", None, 10),
        ("Für 0–3 Jahre.", 0, 3),
        ("Für Kinder unter drei (U3) und ihre Eltern.", 0, 2),
        ("Eine Gruppe für U3-Kinder.", 0, 2),
        ("Teilnahme ab 18 Jahren.", 18, None),
        ("Babys ab 6 Monaten.", 0, None),
        ("Für Babys von 4 bis 12 Monate.", 0, 1),
        ("Babys im Alter von 6 Wochen bis 6 Monaten.", 0, 0),
        ("Babys ab 6 Monaten bis 2 Jahre planschen.", 0, 2),
        ("Für Jugendliche ab 14.", 14, None),
        ("FSK 6, empfohlen ab 8 Jahren.", 8, None),
        ("Der Film ist FSK 12.", 12, None),
        ("Für Kids von 9–13.", 9, 13),
        ("Für Kinder zwischen 8 und 12, bitte Schürze mitbringen.", 8, 12),
        ("Ihre Kleinen von 0 bis 3 sind willkommen.", 0, 3),
        ("Suitable for children aged 5 and up.", 5, None),
        ("Türkçe kukla tiyatrosu – 4 yaş ve üzeri çocuklar için.", 4, None),
        ("قصص للأطفال من ٣ إلى ٦ سنوات", 3, 6),
        ("Die Party ist Ü30.", 30, None),
        ("The show is 18+ only.", 18, None),
        ("Für Schüler ab dem 3. Lebensjahr", 3, None),
        ("Für drei- bis sechsjährige Kinder: für Kinder von drei bis sechs Jahren.", 3, 6),
    ],
)
def test_ages_from_text(text: str, age_min: int | None, age_max: int | None) -> None:
    got = tag(text)
    assert (got["age_min"], got["age_max"]) == (age_min, age_max)


@pytest.mark.parametrize(
    "text",
    [
        "Ab 16 Uhr gibt es Kaffee und Kuchen.",
        "Betreuung von 8 bis 14 Uhr.",
        "Karten ab 18 € an der Abendkasse.",
        "Geeignet für die 3. Klasse.",
        "Kinder unter 18 frei.",
        "Kleidung bis Größe 176, Spielzeug und Bücher.",
        "Der Chor besteht seit 40 Jahren.",
        "Ehrungen für 25 Jahre Mitgliedschaft.",
        "Teams von zwei bis sechs Personen, Anmeldung ab 19 Uhr.",
        "Anmeldung ab 10. März im Büro.",
        "Die 1000-Meter-Strecke, Laufzeit 76 Minuten.",
        "Anträge bitte bis zwei Wochen vorher einreichen.",
        "Ein Kurs über 6 bis 8 Wochen.",
        "Tickets ab 12 an der Kasse.",
        "Alle unter einem Dach.",
    ],
)
def test_numbers_that_are_not_ages(text: str) -> None:
    got = tag(text)
    assert (got["age_min"], got["age_max"]) == (None, None)


@pytest.mark.parametrize(
    ("text", "groups"),
    [
        ("Für Kinder ab 6 Jahren.", ["6-9", "10-13"]),  # "ab N" serves N to N+5
        ("Eine Lesung ab 16 Jahren.", ["14-17"]),
        ("Teilnahme ab 18 Jahren.", []),
        ("Singles zwischen 35 und 50 Jahren.", []),
        ("Kinder bis 10 Jahre.", ["0-2", "3-5", "6-9", "10-13"]),
        ("Für Kinder von 3 bis 6 Jahren.", ["3-5", "6-9"]),
        ("Für Babys und Krabbelkinder mit ihren Eltern.", ["0-2"]),
        ("Ein Mitspieltheater für Vorschulkinder.", ["3-5"]),
        ("Eine Ferienwoche für Grundschulkinder.", ["6-9"]),
        ("Lernhilfe für Jugendliche.", ["14-17"]),
        ("Ein Projekt für die 3. Klasse.", ["6-9"]),
        ("Eine Schreibwerkstatt für Klasse 7 bis 8.", ["10-13"]),
        ("Eine Lesung.", []),
    ],
)
def test_age_groups(text: str, groups: list[str]) -> None:
    assert tag(text)["age_groups"] == groups


def test_source_age_range_hint_counts_when_text_is_silent() -> None:
    got = tag_record({"title": "Bastelnachmittag", "hints": {"age_range": "6-12"}})
    assert (got["age_min"], got["age_max"], got["age_groups"]) == (6, 12, ["6-9", "10-13"])
    assert any("source age range" in r for r in got["reasons"])


@pytest.mark.parametrize(
    ("text", "age_min", "age_max"),
    [
        ("Tickets: Erwachsene 12 €, Kinder (4–14 Jahre) 8 €.", None, None),
        ("Für Kinder ab 3 Jahren in Begleitung eines Erwachsenen.", 3, None),
        ("Altersempfehlung: 8+", 8, None),
        ("Bastelspaß für Kinder (6-10).", 6, 10),
        ("Alter: 8-12", 8, 12),
        ("Für Babys bis 6 Monate.", None, 0),
        ("Für Babys ab 12 Monaten.", 1, None),
        ("Altersempfehlung: ab 5", 5, None),
        ("Für 6-10-Jährige.", 6, 10),
        ("Kinder im Alter zwischen 4 und 8.", 4, 8),
        ("Für Kinder im Alter von 3 bis 6 Jahren.", 3, 6),
    ],
)
def test_price_context_and_recommendations(
    text: str, age_min: int | None, age_max: int | None
) -> None:
    got = tag(text)
    assert (got["age_min"], got["age_max"]) == (age_min, age_max)


@pytest.mark.parametrize(
    "text",
    ["Die 3-jährige Ausbildung zur Erzieherin.", "Für Jahrgänge 2014 bis 2016.", "50 Jahre Kita"],
)
def test_durations_and_years_are_not_ages(text: str) -> None:
    got = tag(text)
    assert (got["age_min"], got["age_max"]) == (None, None)
