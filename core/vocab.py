"""The vocabularies of the domain model: ``StrEnum``s whose values are the slugs of
``shared/spec/taxonomy.md`` (and the source types of the sources file).

Contract: the value of each member is its slug as written in the feeds, the store and the
data files; ``AgeGroup.bounds`` gives an age group's (lowest, highest) age. Plain values, no
imports beyond the standard library. ``core.model`` re-exports every vocabulary, so
``from core.model import Status`` keeps working.
"""

from __future__ import annotations

from enum import StrEnum


class SourceType(StrEnum):
    HANNOVER_DE = "hannover_de"
    ICS = "ics"
    JSONLD = "jsonld"
    TRIBE = "tribe"
    WORDPRESS = "wordpress"
    HTML = "html"


class Status(StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"
    POSTPONED = "postponed"


class District(StrEnum):
    MITTE = "mitte"
    VAHRENWALD_LIST = "vahrenwald-list"
    BOTHFELD_VAHRENHEIDE = "bothfeld-vahrenheide"
    BUCHHOLZ_KLEEFELD = "buchholz-kleefeld"
    MISBURG_ANDERTEN = "misburg-anderten"
    KIRCHRODE_BEMERODE_WUELFERODE = "kirchrode-bemerode-wuelferode"
    SUEDSTADT_BULT = "suedstadt-bult"
    DOEHREN_WUELFEL = "doehren-wuelfel"
    RICKLINGEN = "ricklingen"
    LINDEN_LIMMER = "linden-limmer"
    AHLEM_BADENSTEDT_DAVENSTEDT = "ahlem-badenstedt-davenstedt"
    HERRENHAUSEN_STOECKEN = "herrenhausen-stoecken"
    NORD = "nord"


class Municipality(StrEnum):
    HANNOVER = "hannover"
    LANGENHAGEN = "langenhagen"
    GARBSEN = "garbsen"
    LAATZEN = "laatzen"
    HEMMINGEN = "hemmingen"
    RONNENBERG = "ronnenberg"
    SEELZE = "seelze"
    BARSINGHAUSEN = "barsinghausen"
    BURGDORF = "burgdorf"
    BURGWEDEL = "burgwedel"
    GEHRDEN = "gehrden"
    ISERNHAGEN = "isernhagen"
    LEHRTE = "lehrte"
    NEUSTADT_AM_RUEBENBERGE = "neustadt-am-ruebenberge"
    PATTENSEN = "pattensen"
    SEHNDE = "sehnde"
    SPRINGE = "springe"
    UETZE = "uetze"
    WEDEMARK = "wedemark"
    WENNIGSEN = "wennigsen"
    WUNSTORF = "wunstorf"


class AgeGroup(StrEnum):
    BABY = "0-2"
    KITA = "3-5"
    GRUNDSCHULE = "6-9"
    KIDS = "10-13"
    TEENS = "14-17"

    @property
    def bounds(self) -> tuple[int, int]:
        low, high = self.value.split("-")
        return int(low), int(high)


class Topic(StrEnum):
    SPORT_BEWEGUNG = "sport-bewegung"
    GESUNDHEIT = "gesundheit"
    MEDIENKOMPETENZ = "medienkompetenz"
    BILDUNG = "bildung"
    KULTUR = "kultur"
    NATUR = "natur"
    FERIEN = "ferien"
    BERATUNG = "beratung"
    FESTE = "feste"


class Audience(StrEnum):
    ELTERN = "eltern"
    ALLEINERZIEHENDE = "alleinerziehende"
    MIGRATION = "migration"
    INKLUSION = "inklusion"
    JUGENDLICHE = "jugendliche"


class Registration(StrEnum):
    REQUIRED = "required"
    NOT_REQUIRED = "not_required"


class Health(StrEnum):
    OK = "ok"
    DEGRADED = "degraded"
    FAILED = "failed"
