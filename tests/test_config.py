"""The sources file: what is accepted, and one-line errors naming file and key (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config import ConfigError, load_sources
from core.model import SourceType
from tests.conftest import famcal

GOOD = """
[sources.partner-1]
type = "ics"
name = "Partner"
start_urls = ["https://example.org/cal.ics"]
priority = 70
categories = ["Familie"]
licence = "CC BY 4.0"
"""


def test_good_file(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(GOOD)
    (source,) = load_sources(path)
    assert source.id == "partner-1"
    assert source.type is SourceType.ICS
    assert source.priority == 70
    assert source.download_delay == 1.0
    assert source.categories == ("Familie",)
    assert source.options == {"licence": "CC BY 4.0"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[sources.a]\ntype = "rss"\nstart_urls = ["u"]', "sources.a.type: unknown type 'rss'"),
        ('[sources.a]\ntype = "ics"', "sources.a.start_urls: missing"),
        ('[sources.a]\ntype = "ics"\nstart_urls = []', "sources.a.start_urls: missing"),
        ("[sources.a\ntype=", "malformed TOML"),
        ('[sources.A_b]\ntype = "ics"\nstart_urls = ["u"]', "sources.A_b: id must be"),
        ('[sources.a]\ntype = "ics"\nstart_urls = ["u"]\npriority = "high"', "a.priority"),
        ('[sources.a]\ntype = "ics"\nstart_urls = ["u"]\ndownload_delay = -1', "download_delay"),
        ("title = 'x'", "no [sources.<id>] tables"),
    ],
)
def test_bad_file(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        load_sources(path)
    assert message in str(error.value)
    assert str(path) in str(error.value)
    assert "\n" not in str(error.value)


def test_cli_bad_config_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text('[sources.a]\ntype = "rss"\nstart_urls = ["u"]')
    result = famcal(
        "run",
        "--sources",
        str(path),
        "--db",
        str(tmp_path / "e.db"),
        "--out",
        str(tmp_path / "out"),
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "sources.a.type" in result.stderr and str(path) in result.stderr


def test_missing_file_exits_2(tmp_path: Path) -> None:
    result = famcal(
        "run",
        "--sources",
        str(tmp_path / "none.toml"),
        "--db",
        str(tmp_path / "e.db"),
        "--out",
        str(tmp_path / "out"),
    )
    assert result.returncode == 2
    assert "none.toml" in result.stderr
