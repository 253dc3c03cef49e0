"""Districts from a street that lies in one Stadtbezirk (data/geo/streets.csv)."""

from __future__ import annotations

from core.model import District, Location, Municipality
from pipeline.places import locate


def test_a_street_of_one_district_decides_it_in_hannover() -> None:
    place = locate(Location(name="Gemeindesaal", street="Ebellstraße 12", city="Hannover"))
    assert place.district is District.BUCHHOLZ_KLEEFELD
    assert any("street" in r for r in place.reasons)


def test_abbreviated_street_names_match() -> None:
    place = locate(Location(name="Laden", street="Limmerstr. 5", city="Hannover"))
    assert place.district is District.LINDEN_LIMMER


def test_a_street_name_in_another_town_decides_nothing() -> None:
    # Every town has a Bahnhofstraße; only in Hannover does the table apply.
    place = locate(Location(name="Bücherei", street="Bahnhofstraße 3", city="Lehrte"))
    assert place.district is None and place.municipality is Municipality.LEHRTE
    unknown = locate(Location(name="Bücherei", street="Bahnhofstraße 3"))
    assert unknown.district is None


def test_a_longer_street_is_not_the_listed_one() -> None:
    place = locate(Location(name="Treff", street="Georgstraßenpassage 1", city="Hannover"))
    assert not any("street" in r for r in place.reasons)
