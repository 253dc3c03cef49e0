"""Manual corrections (data/overrides.toml)."""

from pathlib import Path

import pytest

from core.model import Tags, Topic
from pipeline.overrides import OverrideError, apply_overrides, load_overrides
from pipeline.tag import tag_record

SAMPLE = """
[overrides."hannover-de:42"]
note = "Veranstalter: ab 6"
set = { family = true, age_min = 6, district = "mitte" }
unset = ["age_max"]
add = { topics = ["bildung"] }
remove = { topics = ["feste"] }

[overrides."uid-7"]
set = { status = "cancelled" }
"""


@pytest.fixture
def overrides(tmp_path: Path):
    path = tmp_path / "overrides.toml"
    path.write_text(SAMPLE, encoding="utf-8")
    return load_overrides(path)


def test_override_sets_and_removes_tags_with_a_reason(overrides) -> None:
    tags = Tags(
        family=False, age_min=16, age_max=18, topics=(Topic.FESTE,), reasons=("family: no",)
    )
    got = apply_overrides(tags, uid="other", record_ids=["hannover-de:42"], overrides=overrides)
    assert got.family is True
    assert (got.age_min, got.age_max) == (6, None)
    assert [g.value for g in got.age_groups] == ["6-9", "10-13"]  # "ab 6" serves 6 to 11
    assert got.district is not None and got.district.value == "mitte"
    assert got.topics == (Topic.BILDUNG,)
    assert any(
        r.startswith("override: hannover-de:42") and "Veranstalter" in r for r in got.reasons
    )


def test_override_by_uid_and_idempotent(overrides) -> None:
    once = apply_overrides(Tags(), uid="uid-7", record_ids=[], overrides=overrides)
    twice = apply_overrides(once, uid="uid-7", record_ids=[], overrides=overrides)
    assert once.status.value == "cancelled"
    assert once == twice


def test_no_matching_key_changes_nothing(overrides) -> None:
    tags = Tags(family=True)
    assert apply_overrides(tags, uid="x", record_ids=["y"], overrides=overrides) is tags


@pytest.mark.parametrize(
    "bad",
    [
        '[overrides."a"]\nset = { colour = "blue" }',
        '[overrides."a"]\nset = { district = "atlantis" }',
        '[overrides."a"]\nadd = { topics = ["cooking"] }',
        '[overrides."a"]\nunset = ["topics"]',
        "[overrides\n",
    ],
)
def test_bad_file_names_file_and_key(tmp_path: Path, bad: str) -> None:
    path = tmp_path / "overrides.toml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(OverrideError, match=r"overrides\.toml"):
        load_overrides(path)


def test_project_file_is_valid_and_empty() -> None:
    from core.paths import data_file

    assert load_overrides(data_file("overrides.toml")).entries == {}


def test_missing_file_means_no_overrides(tmp_path: Path) -> None:
    assert load_overrides(tmp_path / "absent.toml").entries == {}


def test_tag_record_output_is_json_safe_and_keeps_input() -> None:
    import json

    record = {"id": "x1", "title": "Kindertheater", "url": "https://example.org", "extra": 1}
    got = tag_record(record)
    assert got["extra"] == 1 and got["url"] == record["url"]
    assert "family" not in record  # a new dict
    json.dumps(got)
    for key in (
        "family",
        "age_min",
        "age_max",
        "age_groups",
        "free",
        "aktivpass",
        "district",
        "municipality",
        "status",
        "topics",
        "audiences",
        "reasons",
    ):
        assert key in got


def test_tag_record_survives_missing_and_null_fields() -> None:
    got = tag_record(
        {"title": None, "description": None, "location": None, "categories": None, "price": None}
    )
    assert got["family"] is False and got["status"] == "scheduled"
