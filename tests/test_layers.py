"""The direction of imports is a test, not a sentence in the README.

Layers, bottom to top: ``core`` (model, configuration, store, paths) → ``spiders`` /
``pipeline`` / ``feeds`` (the stages: each knows ``core`` only, never another stage) →
``famcal`` (run, CLI, demo, serve). Every import in every module is read from its syntax tree —
top-level and inside functions alike — so a deferred import cannot slip past.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# What each package may import of the project's own packages.
ALLOWED: dict[str, set[str]] = {
    "core": {"core"},
    "spiders": {"core", "spiders"},
    "pipeline": {"core", "pipeline"},
    "feeds": {"core", "feeds"},
    "famcal": {"core", "spiders", "pipeline", "feeds", "famcal"},
}


def imported_packages(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name.split(".")[0]) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            found.append((node.lineno, path.relative_to(ROOT).parts[0]))
    return [(line, name) for line, name in found if name in ALLOWED]


def modules() -> list[Path]:
    return sorted(p for package in ALLOWED for p in (ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_run_one_way(path: Path) -> None:
    package = path.relative_to(ROOT).parts[0]
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for line, name in imported_packages(path)
        if name not in ALLOWED[package]
    ]
    assert not wrong, "imports against the layers: " + "; ".join(wrong)


def test_the_walk_sees_a_violation(tmp_path: Path) -> None:
    """The checker itself catches an upward import, deferred inside a function."""
    bad = ROOT / "core" / "_layer_probe.py"
    bad.write_text("def f():\n    from famcal import runner\n", encoding="utf-8")
    try:
        assert imported_packages(bad) == [(2, "famcal")]
    finally:
        bad.unlink()


def test_every_project_package_is_in_a_layer() -> None:
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests", "benchmarks"}
    assert packages == set(ALLOWED)
