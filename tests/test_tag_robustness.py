"""tag_record takes any listing without crashing and returns JSON-safe, valid slugs."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from core.model import AgeGroup, Audience, District, Municipality, Status, Topic
from pipeline.tag import tag_record

texts = st.one_of(st.none(), st.text(max_size=200))
listings = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(st.none(), st.text(max_size=20), st.integers()),
        "title": texts,
        "description": texts,
        "price": texts,
        "categories": st.one_of(st.none(), st.lists(st.text(max_size=30), max_size=3)),
        "location": st.one_of(
            st.none(),
            st.fixed_dictionaries(
                {},
                optional={
                    "name": texts,
                    "street": texts,
                    "postal_code": st.one_of(st.none(), st.sampled_from(["30159", "30916", "1"])),
                    "city": st.one_of(texts, st.sampled_from(["Hannover", "Isernhagen"])),
                    "lat": st.one_of(st.none(), st.floats(allow_nan=True), st.text(max_size=5)),
                    "lon": st.one_of(st.none(), st.floats(allow_nan=True)),
                },
            ),
        ),
    },
)


@settings(max_examples=150, deadline=None)
@given(listings)
def test_any_listing_gives_valid_tags(record: dict) -> None:
    got = tag_record(record)
    json.dumps(got, allow_nan=True)
    assert isinstance(got["family"], bool)
    assert got["status"] in {s.value for s in Status}
    assert got["district"] is None or got["district"] in {d.value for d in District}
    assert got["municipality"] is None or got["municipality"] in {m.value for m in Municipality}
    assert set(got["age_groups"]) <= {g.value for g in AgeGroup}
    assert set(got["topics"]) <= {t.value for t in Topic}
    assert set(got["audiences"]) <= {a.value for a in Audience}
    if got["district"] is not None:
        assert got["municipality"] == "hannover"
