"""Free entry and status as real announcements phrase them (#18): a free side offer, free hours
or free children are not a free event; "Spenden" as the price is; an earlier postponement is
history."""

from __future__ import annotations

from pipeline.tag import tag_record


def _free(description: str, price: str = "") -> bool | None:
    value = tag_record({"title": "Fest", "description": description, "price": price})["free"]
    return None if value is None else bool(value)


def test_a_free_side_offer_is_not_a_free_event() -> None:
    assert _free("Um 18 Uhr gibt es eine kostenlose Einführung ins Stück.") is None
    assert _free("Ein kostenloser Busshuttle fährt zwischen den Spielorten.") is None
    assert _free("Kinderpunsch ist für die kleinen Gäste gratis.") is None
    assert _free("Es gibt viele kostenlose Angebote wie Ponyreiten.") is None


def test_free_at_some_hours_is_not_free() -> None:
    assert _free("Ab 17 Uhr ist der Eintritt kostenlos, vorher gelten die Tagespreise.") is None


def test_free_children_are_a_price_rule() -> None:
    assert _free("Kinder bis 12 Jahre haben freien Eintritt.") is None


def test_the_free_event_still_is() -> None:
    assert _free("Der Eintritt ist frei, Spenden sind willkommen.") is True
    assert _free("Benefizkonzert mit drei Chören.", price="Spenden") is True


def test_an_earlier_postponement_is_history_not_status() -> None:
    text = "Das Konzert war schon zum 25-jährigen Jubiläum geplant und musste verschoben werden."
    assert tag_record({"title": "Chorkonzert", "description": text})["status"] == "scheduled"
    text = "Das Konzert wird auf einen späteren Termin verschoben."
    assert tag_record({"title": "Chorkonzert", "description": text})["status"] == "postponed"
