"""The trained component of the tagger (issue #18): data file, inference, training."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from core.model import Location
from pipeline.learned import OFF, features, model, parse_model, revise_family, revise_topics
from pipeline.tag import folded_parts, tag_fields, tag_record

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "data" / "tagging" / "model.json"
REAL = ROOT / "tests" / "fixtures" / "real"


def test_model_file_is_canonical_and_names_its_training_rows() -> None:
    text = MODEL.read_text(encoding="utf-8")
    raw = json.loads(text)
    # Sorted keys, rounded weights: what the trainer's render writes.
    assert json.dumps(raw, ensure_ascii=False, sort_keys=True, indent=1) + "\n" == text
    assert all(round(w, 3) == w for table in raw["weights"].values() for w in table.values())
    trained = " ".join(raw["trained_on"])
    assert "real-tune" in trained and "gold-holdout" not in trained
    names = [lab.name for lab in model().labels]
    assert names[0] == "family" and all(n.startswith("topic:") for n in names[1:])


def test_known_features_are_the_vocabulary_of_the_training_features() -> None:
    m = model()
    with (REAL / "real-heldout.jsonl").open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    for row in rows[:60]:
        title, desc, cats = folded_parts(
            row["title"], row.get("description") or "", row.get("categories") or []
        )
        text = f"{title} . {desc}"
        assert m.known(text, cats) == m.vocabulary & features(text, cats), row["id"]


def test_features_read_compound_pieces_words_pairs_and_categories() -> None:
    got = features("kindertheater im park", ["bühne"])
    assert {"kindertheater", "im park", "#kinde", "#ater>", "c:bühne"} <= got
    assert "#<park" not in got  # words under six letters have no pieces


_TOY = {
    "labels": [
        {
            "name": "family",
            "intercept": -2.0,
            "settings": {"add_at": 0.8, "veto_below": 0.2, "weak_margin": 1.0},
        },
        {"name": "topic:natur", "intercept": -2.0, "settings": {"add_at": OFF, "veto_below": 0.3}},
    ],
    "weights": {"family": {"hüpfburg": 4.0, "spielstraße": 1.5}, "topic:natur": {"wald": 3.0}},
}


def test_votes_change_weak_decisions_and_say_why() -> None:
    toy = parse_model(_TOY)
    known = toy.known("hüpfburg und spielstraße", [])
    vote = toy.vote("family", known)
    assert vote.probability > 0.8
    assert vote.why() == f"{vote.probability:.2f} (hüpfburg +4.0, spielstraße +1.5)"
    fam = toy.label("family")
    assert fam is not None
    # The rules said no with score 0: the model adds family, with its words as the reason.
    verdict, why = revise_family(False, score=0.0, threshold=3.0, vote=vote, label=fam)
    assert verdict is True and "hüpfburg +4.0" in why
    # An explicit age decided (score None): the model has no say.
    assert revise_family(False, score=None, threshold=3.0, vote=vote, label=fam)[0] is False
    # A weak yes (score 3 < threshold 3 + margin 1) with a low vote is vetoed; a clear one not.
    low = toy.vote("family", frozenset())
    assert revise_family(True, score=3.0, threshold=3.0, vote=low, label=fam)[0] is False
    assert revise_family(True, score=6.0, threshold=3.0, vote=low, label=fam)[0] is True
    # Topics: a keyword's topic is vetoed, a category's stays, a meeting keeps none.
    asked: list[str] = []

    def ask(name: str):  # type: ignore[no-untyped-def]
        asked.append(name)
        return toy.vote(name, toy.known("gartenstraße", []))

    out, _, why = revise_topics(["natur"], [], suppressed=False, vote=ask, model_=toy)
    assert out == [] and why[0].startswith("topic natur: removed, model 0.12")
    out, _, _ = revise_topics(["natur"], ["natur"], suppressed=False, vote=ask, model_=toy)
    assert out == ["natur"]
    assert asked == ["topic:natur"]  # the category's topic needs no vote


def test_shipped_model_shows_its_veto_in_the_reasons() -> None:
    # "Garten" alone made this natur before the model (a garden party is a feast).
    got = tag_record(
        {
            "title": "Sommerfest im Pfarrgarten",
            "description": "Mit Kuchenbuffet, Tombola und Musik der Blaskapelle.",
        }
    )
    rules_only = tag_fields(
        title="Sommerfest im Pfarrgarten",
        description="Mit Kuchenbuffet, Tombola und Musik der Blaskapelle.",
        categories=[],
        price="",
        location=Location.from_dict(None),
        use_model=False,
    )
    removed = set(t.value for t in rules_only.topics) - set(got["topics"])
    for slug in removed:
        assert any(r.startswith(f"topic {slug}: removed, model") for r in got["reasons"])
    assert "feste" in got["topics"]


def test_runtime_does_not_import_scikit_learn() -> None:
    code = (
        "import sys; from pipeline.tag import tag_record; "
        "tag_record({'title': 'Waldspaziergang', 'description': 'Für Kinder ab 5.'}); "
        "print('sklearn' in sys.modules or 'numpy' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_training_is_deterministic(tmp_path: Path) -> None:
    pytest.importorskip("sklearn")
    sys.path.insert(0, str(ROOT / "scripts"))
    import train_tagger

    lines = (REAL / "real-heldout.jsonl").read_text(encoding="utf-8").splitlines()[:60]
    small = tmp_path / "rows.jsonl"
    small.write_text("\n".join(lines) + "\n", encoding="utf-8")
    files = [str(small)]
    first = train_tagger.render(train_tagger.train(files)[0])
    second = train_tagger.render(train_tagger.train(files)[0])
    assert first == second
    with pytest.raises(SystemExit):
        train_tagger.load_rows(["tests/fixtures/gold-holdout-a.jsonl"])
