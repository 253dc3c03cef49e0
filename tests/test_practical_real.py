"""Registration, series and languages phrased as real announcements phrase them (#18)."""

from __future__ import annotations

from pipeline.practical import Practical, decide_practical, practical_rules
from pipeline.text import fold


def _practical(text: str) -> Practical:
    return decide_practical(fold(text), practical_rules())


def test_registration_said_with_words_between() -> None:
    assert (
        _practical("Die Teilnahme ist frei, eine Anmeldung ist erforderlich.").registration
        == "required"
    )
    assert _practical("Anmeldung mit Wunschtermin erforderlich.").registration == "required"
    assert _practical("Wer mitmachen will, muss sich vorher anmelden.").registration == "required"
    assert _practical("Angemeldete Kinder zahlen 3 Euro.").registration == "required"


def test_registration_that_is_not_the_audiences() -> None:
    press = "Lesung für Seniorinnen. Journalisten werden um Anmeldung bei der Pressestelle gebeten."
    assert _practical(press).registration is None
    discount = "Eintritt 7 Euro, mit Gutschein oder Voranmeldung 6 Euro."
    assert _practical(discount).registration is None
    latecomers = "Auch noch nicht Angemeldete können mitlaufen."
    assert _practical(latecomers).registration == "not_required"


def test_series_cues_of_monthly_and_further_dates() -> None:
    assert _practical("An jedem zweiten Samstag im Monat öffnet die Werkstatt.").series_cue
    assert _practical("Das monatliche Erzählcafé lädt wieder ein.").series_cue
    assert _practical("Weiterer Termin am 4. Mai.").series_cue
    assert _practical("Die Reihe kommt sechsmal im Jahr zusammen.").series_cue


def test_someone_elses_rhythm_is_no_series() -> None:
    assert not _practical("Konzert des Kinderchors, der wöchentlich dienstags probt.").series_cue
    text = "Der Erlös geht an die Tafel, die wöchentlich Brot an Bedürftige verteilt."
    assert not _practical(text).series_cue


def test_languages_of_other_dates_are_not_this_ones() -> None:
    text = "Lesung auf Polnisch. Weitere Termine folgen u. a. auf Russisch und Arabisch."
    assert _practical(text).languages == ("pl",)
    text = "Um 10 Uhr Bilderbuchkino auf Spanisch, um 11 Uhr folgt eine Vorstellung auf Türkisch."
    assert _practical(text).languages == ("es",)
