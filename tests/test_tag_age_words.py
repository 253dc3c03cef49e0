"""Age groups from words (taxonomy.md: age_groups): words for all ages, prices and exemptions,
group words on events that are not for families."""

from __future__ import annotations

from pipeline.tag import tag_record

ALL = ["0-2", "3-5", "6-9", "10-13", "14-17"]


def _groups(title: str, description: str, price: str = "") -> list[str]:
    groups = tag_record({"title": title, "description": description, "price": price})["age_groups"]
    return [str(g) for g in groups]


def test_words_for_all_ages_cover_every_group_even_beside_a_group_word() -> None:
    text = "Spiel und Spaß für Klein und Groß, am Abend kicken Jugendliche gegen die Feuerwehr."
    assert _groups("Sommerfest im Kinderladen", text) == ALL
    assert _groups("Erzählnachmittag", "Für Zuhörerinnen aller Altersstufen, kostenfrei.") == ALL
    assert (
        _groups("Osterwerkstatt im Zoo", "Kleine und große Gäste basteln, Kinder bekommen Saft.")
        == ALL
    )


def test_small_and_big_children_is_no_all_ages_phrase() -> None:
    # Children of every age, but no adults: no claim on the age groups from these words.
    assert _groups("Laternenbasteln", "Basteln mit kleinen und großen Kindern.") != ALL


def test_a_price_for_teenagers_is_no_teenage_audience() -> None:
    text = "Kinderprogramm mit Puppentheater. Erwachsene 12 Euro, Jugendliche zahlen 7 Euro."
    assert "14-17" not in _groups("Frühlingsmarkt", text)


def test_group_words_on_an_event_not_for_families_give_no_groups() -> None:
    text = "Benefizkonzert mit Orgel und Trompete; der Erlös geht an ein Projekt für Jugendliche."
    tags = tag_record({"title": "Adventskonzert in der Basilika", "description": text})
    assert tags["family"] is False
    assert tags["age_groups"] == []


def test_families_with_small_children_are_the_two_youngest_groups() -> None:
    text = "Eingeladen sind Familien mit kleinen Kindern, es gibt Lieder und Fingerspiele."
    assert _groups("Bilderbuchkino", text) == ["0-2", "3-5"]


def _ages(text: str) -> tuple[int | None, int | None]:
    tags = tag_record({"title": "Veranstaltung", "description": text})
    low, high = tags["age_min"], tags["age_max"]
    return (None if low is None else int(low)), (None if high is None else int(high))


def test_times_are_not_ages() -> None:
    assert _ages("Einlass ab 18.30 Uhr, Beginn ab 20 Uhr.") == (None, None)


def test_an_accompaniment_rule_is_not_the_audiences_age() -> None:
    text = "Segeltörn für Familien. Kinder unter 14 Jahren dürfen nur in Begleitung mitsegeln."
    assert _ages(text) == (None, None)


def test_a_minimum_age_is_an_age() -> None:
    assert _ages("Tanzparty mit DJ, das Mindestalter liegt bei 18 Jahren.") == (18, None)


def test_the_events_own_price_after_the_age_keeps_the_age() -> None:
    assert _ages("Figurentheater für Kinder ab 5 Jahren, 6 Euro.") == (5, None)
