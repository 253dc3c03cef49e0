"""District and municipality (taxonomy.md) from coordinates, names, venues, postal codes, towns."""

import pytest

from core.model import Location
from pipeline.places import locate, point_in_polygon
from pipeline.tag import tag_record


def place(**location: object) -> tuple[str | None, str | None]:
    got = tag_record({"title": "Veranstaltung", "location": location})
    return got["district"], got["municipality"]


@pytest.mark.parametrize(
    ("location", "district", "municipality"),
    [
        (
            {"name": "Gemeindehaus Isernhagen-Süd", "postal_code": "30657", "city": "Hannover"},
            "bothfeld-vahrenheide",
            "hannover",
        ),
        (
            {"name": "Isernhagen-Hof", "postal_code": "30916", "city": "Isernhagen"},
            None,
            "isernhagen",
        ),
        (
            {"name": "Kulturtreff Roderbruch", "postal_code": "30627", "city": "Hannover"},
            "buchholz-kleefeld",
            "hannover",
        ),
        (
            {
                "name": "Stadtteilzentrum KroKuS (Kronsberg)",
                "postal_code": "30539",
                "city": "Hannover",
            },
            "kirchrode-bemerode-wuelferode",
            "hannover",
        ),
        (
            {"name": "Spielplatz Wasserstadt Limmer", "city": "Hannover"},
            "linden-limmer",
            "hannover",
        ),
        (
            {
                "name": "Stadtbibliothek Linden im Lindener Rathaus",
                "postal_code": "30449",
                "city": "Hannover",
            },
            "linden-limmer",
            "hannover",
        ),
        (
            {"name": "Spielplatz Allerweg (Linden-Süd)", "city": "Hannover"},
            "linden-limmer",
            "hannover",
        ),
        ({"name": "Familienzentrum Doehren", "city": "Hannover"}, "doehren-wuelfel", "hannover"),
        (
            {"name": "Staatsoper Hannover", "postal_code": "30159", "city": "Hannover"},
            "mitte",
            "hannover",
        ),
        (
            {"name": "Kino im Sprengel", "postal_code": "30167", "city": "Hannover"},
            "nord",
            "hannover",
        ),
        (
            {"name": "Vahrenwalder Bad", "postal_code": "30165", "city": "Hannover"},
            "vahrenwald-list",
            "hannover",
        ),
        (
            {"name": "Irgendein Saal", "postal_code": "30449", "city": "Hannover"},
            "linden-limmer",
            "hannover",
        ),
        ({"name": "Irgendein Saal", "postal_code": "30161", "city": "Hannover"}, None, "hannover"),
        ({"name": "Eilenriede", "city": "Hannover"}, None, "hannover"),
        ({"name": "Maschsee", "city": "Hannover"}, None, "hannover"),
        ({"name": "Online (Zoom)"}, None, None),
        ({"name": "Schloss Celle", "postal_code": "29221", "city": "Celle"}, None, None),
        ({"name": "Rathaus", "postal_code": "30823", "city": "Garbsen"}, None, "garbsen"),
        ({"name": "Halle", "city": "Garbsen-Berenbostel"}, None, "garbsen"),
        ({"name": "Halle", "city": "Hannover-Misburg"}, "misburg-anderten", "hannover"),
        ({"name": "Stadtteilzentrum Hannover-Linden"}, "linden-limmer", "hannover"),
        (
            {"name": "Sporthalle Seelze-Letter", "postal_code": "30926", "city": "Seelze"},
            None,
            "seelze",
        ),
        ({"name": "Schloß Ricklingen", "city": "Garbsen"}, None, "garbsen"),
        (
            {"name": "Schloss Landestrost", "city": "Neustadt a. Rbge."},
            None,
            "neustadt-am-ruebenberge",
        ),
        ({"name": "Wasserwelt Langenhagen"}, None, "langenhagen"),
        ({"name": "Terminal", "postal_code": "30669", "city": ""}, None, "langenhagen"),
        ({"name": "Terminal", "postal_code": "30669", "city": "Hannover"}, None, "langenhagen"),
        ({"name": "Halle", "postal_code": "30880", "city": "Region Hannover"}, None, "laatzen"),
        (
            {
                "name": "Markt",
                "street": "Hinter der Alten Burg",
                "postal_code": "30629",
                "city": "Hannover",
            },
            "misburg-anderten",
            "hannover",
        ),
        ({"name": "Pferderennbahn Neue Bult", "city": "Langenhagen"}, None, "langenhagen"),
        (
            {
                "name": "Altstadt rund um die Marktkirche",
                "lat": 52.3718,
                "lon": 9.7355,
                "city": "Hannover",
            },
            "mitte",
            "hannover",
        ),
        ({"name": "Veranstaltungsort", "lat": 52.3839, "lon": 9.7712}, "mitte", "hannover"),
        (
            {"name": "Am Döhrener Turm", "postal_code": "30519", "city": "Hannover"},
            "doehren-wuelfel",
            "hannover",
        ),
        (
            {
                "name": "Saal",
                "street": "Kirchröder Straße",
                "postal_code": "30625",
                "city": "Hannover",
            },
            "buchholz-kleefeld",
            "hannover",
        ),
        (
            {"name": "Kirchröder Straße 5", "postal_code": "30559", "city": "Hannover"},
            None,
            "hannover",
        ),
        # Colloquial quarters and the idiom "in der List" a Hannoveraner would use.
        (
            {"name": "Galerie im Zooviertel", "postal_code": "30175", "city": "Hannover"},
            "mitte",
            "hannover",
        ),
        (
            {"name": "Kulturcafé in der List", "postal_code": "30161", "city": "Hannover"},
            "vahrenwald-list",
            "hannover",
        ),
        # The main building of the university, by name or by its coordinates.
        ({"name": "Welfenschloss, Raum F 102", "city": "Hannover"}, "nord", "hannover"),
        (
            {"name": "Hörsaal", "city": "Hannover", "lat": 52.3823, "lon": 9.7172},
            "nord",
            "hannover",
        ),
    ],
)
def test_places(location: dict, district: str | None, municipality: str | None) -> None:
    assert place(**location) == (district, municipality)


def test_title_names_the_stadtteil_when_location_cannot() -> None:
    got = tag_record(
        {
            "title": "Laternenumzug in Vahrenwald",
            "location": {"name": "Treffpunkt Kirche", "city": "Hannover"},
        }
    )
    assert got["district"] == "vahrenwald-list"


def test_reason_names_the_evidence() -> None:
    result = locate(Location(name="Familienzentrum Hainholz", postal_code="30165", city="Hannover"))
    assert any("hainholz" in r for r in result.reasons)


def test_point_in_polygon_with_a_hole() -> None:
    outer = [(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0), (0.0, 0.0)]
    hole = [(4.0, 4.0), (6.0, 4.0), (6.0, 6.0), (4.0, 6.0), (4.0, 4.0)]
    assert point_in_polygon(2.0, 2.0, (outer, hole))
    assert not point_in_polygon(5.0, 5.0, (outer, hole))
    assert not point_in_polygon(12.0, 5.0, (outer,))


def test_boundary_polygons_from_geojson(tmp_path) -> None:
    import json

    from pipeline.places import area_at, gazetteer, load_areas

    square = [[9.70, 52.36], [9.75, 52.36], [9.75, 52.39], [9.70, 52.39], [9.70, 52.36]]
    features = [
        {
            "type": "Feature",
            "properties": {"stadtteil": "Linden-Nord"},
            "geometry": {"type": "Polygon", "coordinates": [square]},
        },
        {
            "type": "Feature",
            "properties": {"name": "no district"},
            "geometry": {"type": "Point", "coordinates": [9.7, 52.3]},
        },
    ]
    (tmp_path / "stadtteile.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8"
    )
    areas = load_areas(tmp_path, gazetteer().stadtteile)
    assert len(areas) == 1
    hit = area_at(areas, 9.72, 52.37)
    assert hit is not None and hit.district.value == "linden-limmer"
    assert area_at(areas, 9.80, 52.37) is None


def test_without_boundary_files_there_are_no_areas(tmp_path) -> None:
    from pipeline.places import load_areas

    assert load_areas(tmp_path) == ()
