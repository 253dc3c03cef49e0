"""Audiences as real announcements phrase them (#18): family roles only on family events,
teenagers from the ages, prices, beneficiaries and organisations are no audience."""

from __future__ import annotations

from typing import Any

from pipeline.tag import tag_record


def _tags(title: str, description: str, price: str = "") -> dict[str, Any]:
    return tag_record({"title": title, "description": description, "price": price})


def test_teenagers_from_the_ages_of_a_family_event() -> None:
    tags = _tags("Kanutour auf der Leine", "Für 13- bis 16-Jährige, mit Picknick am Ufer.")
    assert tags["family"] is True and "jugendliche" in tags["audiences"]


def test_stated_ages_under_fourteen_beat_the_word() -> None:
    text = "Kinder und Jugendliche von 6 bis 11 Jahren proben ein Musical für das Gemeindefest."
    assert "jugendliche" not in _tags("Musicalwerkstatt", text)["audiences"]


def test_family_roles_need_a_family_event() -> None:
    text = "Abendkonzert mit Orgel. Der Erlös geht an ein Wohnprojekt für Jugendliche und Mütter."
    tags = _tags("Orgelnacht in der Kirche", text)
    assert tags["family"] is False
    assert tags["audiences"] == []


def test_a_price_for_teenagers_is_no_teenage_audience() -> None:
    text = "Puppentheater für Kinder ab 4. Erwachsene 8 Euro, Jugendliche zahlen 5 Euro."
    assert "jugendliche" not in _tags("Kasper im Park", text)["audiences"]


def test_international_alone_is_no_migration_audience() -> None:
    text = "Sommerfest mit Hüpfburg für Kinder, Kinderschminken und internationalen Speisen."
    assert "migration" not in _tags("Nachbarschaftsfest", text)["audiences"]
    text = "Menschen mit Zuwanderungsgeschichte stellen ihr Herkunftsland vor, mit Kinderecke."
    assert "migration" in _tags("Länderabend im Stadtteiltreff", text)["audiences"]


def test_parents_associations_and_choir_mothers_are_not_parents() -> None:
    text = "Kinderchorkonzert zum Mitsingen für Kinder; in der Pause Kuchen der Chormütter."
    assert "eltern" not in _tags("Frühlingssingen", text)["audiences"]


def test_step_free_access_is_inclusion() -> None:
    text = "Spielenachmittag für Kinder im ersten Stock, ein Aufzug ist vorhanden."
    assert "inklusion" in _tags("Spielenachmittag", text)["audiences"]
