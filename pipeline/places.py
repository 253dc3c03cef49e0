"""District (Stadtbezirk) and municipality of an event's location (taxonomy.md).

Contract: ``locate(location, title="") -> Place`` decides, in order of strength:
1. online events (location says "Online", "Zoom" … and gives no address): both None;
2. the town: the city field (a Stadtteil name there, e.g. "Isernhagen-Süd", means Hannover;
   otherwise a Region town or Ortsteil of ``data/geo/towns.toml``) or else the postal code
   (``data/geo/plz.csv``); a town outside the city ends the search for a district;
3. coordinates: point in polygon when ``data/geo/*.geojson`` boundary files exist (features
   with a ``district`` slug, a ``stadtbezirk`` or a ``stadtteil`` name), else the nearest
   gazetteer venue within 250 m;
4. Stadtteil and quarter names in the location name/street/city (``data/geo/stadtteile.csv``),
   longest first, so "Isernhagen-Süd" is not "Isernhagen" and "Linden-Süd" is not "Linden";
5. a venue of the gazetteer ``data/venues.toml`` (a venue spanning districts, like the
   Eilenriede, gives the municipality only);
6. the adjective form of a Stadtteil in the venue name ("Döhrener Turm"), not before a street
   word ("Kirchröder Straße" lies in Kleefeld);
7. a street of ``data/geo/streets.csv`` (one lying in a single Stadtbezirk) in the street or
   name field, only when the town is Hannover (every town has a "Bahnhofstraße");
8. the postal code where it lies in a single Stadtbezirk;
9. a (non-ambiguous) Stadtteil name in the title.
A district always implies municipality ``hannover``. Every decision adds a reason.
Names are tried in their order (longest first), but only those whose folded form the text
holds (one scan finds them: ``pipeline.rules.KeyedTuple``); the result is the same.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import re
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from core.model import District, Location, Municipality
from core.paths import data_dir, data_file
from pipeline.rules import KeyedTuple
from pipeline.text import fold_place

_NEAR_METRES = 250.0


@dataclass(frozen=True, kw_only=True)
class Place:
    district: District | None = None
    municipality: Municipality | None = None
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class _Name:
    name: str
    pattern: re.Pattern[str]
    district: District | None
    municipality: Municipality | None
    weak: bool = False
    needle: str = ""  # the folded name: a substring test before the regex
    lat: float | None = None
    lon: float | None = None

    @property
    def keys(self) -> tuple[str, ...]:
        """The prefilter keys (``pipeline.rules.KeyedTuple``): the folded name."""
        return (self.needle,) if self.needle else ()

    @property
    def gate(self) -> re.Pattern[str] | None:
        return None  # place texts are short: the key is enough


class _Names(KeyedTuple[_Name]):
    """Names, longest first, indexed by their folded form (one scan finds those in a text)."""


Ring = list[tuple[float, float]]


@dataclass(frozen=True, kw_only=True)
class _Area:
    district: District
    label: str
    polygons: tuple[tuple[Ring, ...], ...]  # each polygon: outer ring then holes (lon, lat)


@dataclass(frozen=True, kw_only=True)
class Gazetteer:
    stadtteile: _Names
    adjectives: _Names
    venues: _Names
    towns: _Names
    streets: _Names
    plz: dict[str, tuple[Municipality, District | None]]
    online: re.Pattern[str]
    areas: tuple[_Area, ...]


def _word(name: str, *, weak: bool = False) -> re.Pattern[str]:
    guard = ""
    if weak:
        # A weak name after an article or adjective is a street or another place
        # ("Hinter der Alten Burg", "Neue Bult"), not the Stadtteil.
        guard = "".join(f"(?<!{w} )" for w in _NOT_BEFORE_WEAK)
    return re.compile(r"(?<!\w)" + guard + re.escape(fold_place(name)) + r"(?!\w)")


def _street_stem(street: str) -> str:
    folded = fold_place(street)
    return folded[: -len("strasse")] if folded.endswith("strasse") else folded


def _street(street: str) -> re.Pattern[str]:
    """A street name as written on signs, also as "…str." or "… Str." (not as a prefix of a
    longer name: "Königstraße" is not "Königstraßenbrücke")."""
    folded = fold_place(street)
    if folded.endswith("strasse"):
        body = re.escape(_street_stem(street)) + r"\s?(?:strasse|str\.|str\b)"
    else:
        body = re.escape(folded)
    return re.compile(r"(?<!\w)" + body + r"(?!\w)")


# Street words after an adjective form: "Kirchröder Straße" lies in Kleefeld, not Kirchrode.
_STREET = r"(?:strasse|str\.|str\b|weg|damm|allee|chaussee|platz|ring|markt\s*\d|berg\b|tor\b)"

_NOT_BEFORE_WEAK = (
    "der",
    "die",
    "das",
    "den",
    "dem",
    "des",
    "alte",
    "alten",
    "alter",
    "neue",
    "neuen",
    "neuer",
    "zur",
    "zum",
    "am",
    "an",
    "auf",
    "hinter",
    "vor",
    "unter",
    "ueber",
    "bei",
    "grosse",
    "grossen",
    "kleine",
    "kleinen",
    "mein",
    "meine",
    "unsere",
)


def _rows(path: Path) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        yield from csv.DictReader(line for line in handle if not line.startswith("#"))


@cache
def gazetteer() -> Gazetteer:
    stadtteile = [
        _Name(
            name=row["name"],
            pattern=_word(row["name"], weak=row.get("weak") == "1"),
            needle=fold_place(row["name"]),
            district=District(row["district"]),
            municipality=Municipality.HANNOVER,
            weak=row.get("weak") == "1",
        )
        for row in _rows(data_file("geo", "stadtteile.csv"))
    ]
    adjectives = [
        _Name(
            name=row["adjective"],
            pattern=re.compile(
                r"(?<!\w)"
                + re.escape(fold_place(row["adjective"]))
                + r"(?!\w)(?!\s*"
                + _STREET
                + ")"
            ),
            needle=fold_place(row["adjective"]),
            district=District(row["district"]),
            municipality=Municipality.HANNOVER,
        )
        for row in _rows(data_file("geo", "stadtteile.csv"))
        if row.get("adjective")
    ]
    plz: dict[str, tuple[Municipality, District | None]] = {}
    for row in _rows(data_file("geo", "plz.csv")):
        plz[row["plz"]] = (
            Municipality(row["municipality"]),
            District(row["district"]) if row["district"] else None,
        )
    towns_doc = tomllib.loads(data_file("geo", "towns.toml").read_text(encoding="utf-8"))
    towns = [
        _Name(
            name=alias,
            pattern=_word(alias),
            needle=fold_place(alias),
            district=None,
            municipality=Municipality(slug),
        )
        for slug, aliases in towns_doc["towns"].items()
        for alias in aliases
    ]
    online_words = towns_doc.get("online", {}).get("words", [])
    venues_doc = tomllib.loads(data_file("venues.toml").read_text(encoding="utf-8"))
    venues: list[_Name] = []
    for entry in venues_doc.get("venue", []):
        district = District(entry["district"]) if entry.get("district") else None
        municipality = Municipality(entry.get("municipality") or "hannover")
        for alias in [entry["name"], *entry.get("aliases", [])]:
            venues.append(
                _Name(
                    name=entry["name"],
                    pattern=_word(alias),
                    needle=fold_place(alias),
                    district=district,
                    municipality=municipality,
                    lat=entry.get("lat"),
                    lon=entry.get("lon"),
                )
            )

    streets = [
        _Name(
            name=row["street"],
            pattern=_street(row["street"]),
            needle=_street_stem(row["street"]),
            district=District(row["district"]),
            municipality=Municipality.HANNOVER,
        )
        for row in _rows(data_file("geo", "streets.csv"))
    ]

    def longest_first(names: list[_Name]) -> _Names:
        return _Names(sorted(names, key=lambda n: -len(n.pattern.pattern)))

    return Gazetteer(
        stadtteile=longest_first(stadtteile),
        adjectives=longest_first(adjectives),
        venues=longest_first(venues),
        towns=longest_first(towns),
        streets=longest_first(streets),
        plz=plz,
        online=re.compile(
            r"(?<!\w)(?:" + "|".join(re.escape(w) for w in online_words) + r")(?!\w)"
        ),
        areas=load_areas(data_dir() / "geo", stadtteile),
    )


def load_areas(folder: Path, stadtteile: Iterable[_Name] = ()) -> tuple[_Area, ...]:
    """Boundary polygons from ``folder/*.geojson``; none are bundled, so usually empty.

    A feature names its Stadtbezirk by a ``district`` slug, a ``stadtbezirk`` name or a
    ``stadtteil`` name (looked up in ``stadtteile``); other features are skipped.
    """
    by_name = {fold_place(n.name): n.district for n in stadtteile}
    by_bezirk = {fold_place(d.value): d for d in District}
    areas: list[_Area] = []
    for path in sorted(folder.glob("*.geojson")):
        document = json.loads(path.read_text(encoding="utf-8"))
        for feature in document.get("features", []):
            props: dict[str, Any] = feature.get("properties") or {}
            district: District | None = None
            if props.get("district") in {d.value for d in District}:
                district = District(props["district"])
            elif props.get("stadtbezirk"):
                district = by_bezirk.get(fold_place(str(props["stadtbezirk"])).replace(" ", ""))
            elif props.get("stadtteil"):
                district = by_name.get(fold_place(str(props["stadtteil"])))
            geometry = feature.get("geometry") or {}
            if district is None or geometry.get("type") not in ("Polygon", "MultiPolygon"):
                continue
            coords = geometry["coordinates"]
            polys = coords if geometry["type"] == "MultiPolygon" else [coords]
            areas.append(
                _Area(
                    district=district,
                    label=str(props.get("stadtteil") or props.get("stadtbezirk") or district),
                    polygons=tuple(
                        tuple([(float(x), float(y)) for x, y, *_ in ring] for ring in poly)
                        for poly in polys
                    ),
                )
            )
    return tuple(areas)


def area_at(areas: Iterable[_Area], lon: float, lat: float) -> _Area | None:
    for area in areas:
        if any(point_in_polygon(lon, lat, polygon) for polygon in area.polygons):
            return area
    return None


def point_in_ring(lon: float, lat: float, ring: Ring) -> bool:
    """Even-odd ray casting; the ring is a list of (lon, lat)."""
    inside = False
    j = len(ring) - 1
    for i, (xi, yi) in enumerate(ring):
        xj, yj = ring[j]
        if (yi > lat) != (yj > lat) and lon < (xj - xi) * (lat - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def point_in_polygon(lon: float, lat: float, polygon: tuple[Ring, ...]) -> bool:
    outer, *holes = polygon
    return point_in_ring(lon, lat, outer) and not any(point_in_ring(lon, lat, h) for h in holes)


def _metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    if not all(map(math.isfinite, (lat1, lon1, lat2, lon2))):
        return math.inf  # a source's infinite or NaN coordinate is near nothing
    x = math.radians(lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    y = math.radians(lat2 - lat1)
    return 6_371_000.0 * math.hypot(x, y)


def _first(names: _Names, text: str, *, weak_ok: bool = True) -> tuple[_Name, str] | None:
    for name in names.candidates_in(text):
        if name.weak and not weak_ok:
            continue
        m = name.pattern.search(text)
        if m:
            return name, m.group(0)
    return None


def _districts_named(names: _Names, text: str) -> set[District | None]:
    """The districts of every (non-overlapping, longest first) name in ``text``."""
    taken: list[tuple[int, int]] = []
    districts: set[District | None] = set()
    found = names.candidates_in(text)
    if len(found) < 2:  # most locations: one name or none, nothing to compare
        return districts
    for name in found:
        for m in name.pattern.finditer(text):
            if not any(m.start() < b and a < m.end() for a, b in taken):
                taken.append(m.span())
                districts.add(name.district)
    return districts


# A location naming several venues ("Christuskirche und weitere Spielorte") spans districts.
_SEVERAL = re.compile(
    r"\b(?:und|sowie|&)\s+(?:weitere|andere|mehrere)\b|\b(?:verschiedene|mehrere|diverse)\s+(?:orte|spielorte|standorte|stadtteile)\b"
)

_CITY_PREFIX = re.compile(r"\bhannover\s*-\s*", re.IGNORECASE)


def _place(text: str) -> str:
    """Folded place text; "Hannover-Linden" is read as "Hannover Linden" (city, Stadtteil)."""
    return fold_place(_CITY_PREFIX.sub("Hannover ", text))


def _town(g: Gazetteer, location: Location) -> tuple[Municipality | None, str]:
    city = location.city.strip()
    if city:
        folded = _place(city)
        hit = _first(g.stadtteile, folded, weak_ok=False)
        town_hit: tuple[_Name, str] | None = None
        if hit:
            town_hit = max(
                (
                    t
                    for p in (folded, *(fold_place(p) for p in re.split(r"[-/,]", city)))
                    if (t := _first(g.towns, p))
                ),
                key=lambda t: len(t[1]),
                default=None,
            )
            # "Garbsen-Schloß Ricklingen": a longer town name beats the Stadtteil inside it
            # ("Isernhagen-Süd" stays the Stadtteil: it is longer than the town "Isernhagen").
        if hit and not (town_hit and len(town_hit[1]) > len(hit[1])):
            return Municipality.HANNOVER, f"municipality: Stadtteil «{city}» as town"
        # "Garbsen-Berenbostel": try the whole name, then each part.
        code = location.postal_code.strip()
        parts = (fold_place(p) for p in re.split(r"[-/,]", city))  # folded only if needed
        for candidate in itertools.chain((folded,), parts):
            hit = _first(g.towns, candidate)
            if hit:
                town = hit[0].municipality
                # "Hannover" as the town of an address in another Region town (the airport
                # 30669, "Region Hannover"): the postal code is the more precise statement.
                if town is Municipality.HANNOVER and code in g.plz and g.plz[code][0] is not town:
                    return g.plz[code][0], f"municipality: postal code {code} (town «{city}»)"
                return town, f"municipality: town «{city}»"
    code = location.postal_code.strip()
    if code in g.plz:
        return g.plz[code][0], f"municipality: postal code {code}"
    if not city and location.name:
        # No address at all: a town named in the venue ("Wasserwelt Langenhagen").
        hit = _first(g.towns, fold_place(f"{location.name} , {location.street}"))
        if hit:
            return hit[0].municipality, f"municipality: town «{hit[1]}» in the location"
    return None, ""


def locate(location: Location, title: str = "") -> Place:
    g = gazetteer()
    name_street = _place(f"{location.name} , {location.street}")
    name = fold_place(location.name)
    if (
        g.online.search(name)
        and not location.street
        and not location.postal_code
        and location.lat is None
    ):
        return Place(reasons=(f"place: online «{location.name}»",))
    municipality, town_reason = _town(g, location)
    reasons = [town_reason] if town_reason else []
    if municipality is not None and municipality is not Municipality.HANNOVER:
        return Place(municipality=municipality, reasons=tuple(reasons))

    def found(district: District | None, muni: Municipality | None, why: str) -> Place:
        if muni is not None and muni is not Municipality.HANNOVER:
            return Place(municipality=muni, reasons=(*reasons, why))
        return Place(district=district, municipality=Municipality.HANNOVER, reasons=(*reasons, why))

    if location.lat is not None and location.lon is not None:
        area = area_at(g.areas, location.lon, location.lat)
        if area is not None:
            why = f"district: coordinates in «{area.label}»"
            return found(area.district, Municipality.HANNOVER, why)
        near = [
            (d, v)
            for v in g.venues
            if v.lat is not None
            and v.lon is not None
            and (d := _metres(location.lat, location.lon, v.lat, v.lon)) <= _NEAR_METRES
        ]
        if near:
            _, venue = min(near, key=lambda pair: pair[0])
            return found(
                venue.district, venue.municipality, f"district: coordinates at «{venue.name}»"
            )
    location_text = f"{name_street} , {_place(location.city)}"
    if _SEVERAL.search(name) or len(_districts_named(g.stadtteile, _place(location.name))) > 1:
        # "Höfe in List und Oststadt": Stadtteile of two districts, the city only.
        why = f"district: none, «{location.name}» spans districts"
        return Place(municipality=Municipality.HANNOVER, reasons=(*reasons, why))
    hit = _first(g.stadtteile, location_text)
    if hit:
        return found(hit[0].district, Municipality.HANNOVER, f"district: Stadtteil «{hit[1]}»")
    hit = _first(g.venues, name_street)
    if hit:
        venue = hit[0]
        return found(venue.district, venue.municipality, f"district: venue «{venue.name}»")
    hit = _first(g.adjectives, name)
    if hit:
        return found(hit[0].district, Municipality.HANNOVER, f"district: venue name «{hit[1]}»")
    if municipality is Municipality.HANNOVER:
        hit = _first(g.streets, name_street)
        if hit:
            return found(hit[0].district, Municipality.HANNOVER, f"district: street «{hit[1]}»")
    code = location.postal_code.strip()
    if code in g.plz and g.plz[code][1] is not None:
        return found(g.plz[code][1], Municipality.HANNOVER, f"district: postal code {code}")
    hit = _first(g.stadtteile, fold_place(title), weak_ok=False)
    if (
        hit
        and municipality in (None, Municipality.HANNOVER)
        and (municipality or not location.city)
    ):
        return found(
            hit[0].district, Municipality.HANNOVER, f"district: Stadtteil «{hit[1]}» in title"
        )
    return Place(municipality=municipality, reasons=tuple(reasons))
