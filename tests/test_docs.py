"""The documentation keeps up with the command line: every command is in the README, and
every command's help ends with an example."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from famcal.cli import main

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
COMMANDS = sorted(main.commands)


@pytest.mark.parametrize("name", COMMANDS)
def test_command_is_in_the_readme(name: str) -> None:
    assert f"famcal {name}" in README


@pytest.mark.parametrize("name", COMMANDS)
def test_help_ends_with_an_example(name: str) -> None:
    result = CliRunner().invoke(main, [name, "--help"])
    assert result.exit_code == 0
    description = result.output.split("Options:")[0].strip()
    example = description.splitlines()[-1].strip()
    assert example.startswith("Example: ") and f"famcal {name}" in example


def test_quickstart_is_exactly_the_two_commands() -> None:
    quickstart = README.split("## Quickstart", 1)[1].split("##", 1)[0]
    commands = [line.strip() for line in quickstart.splitlines() if line.startswith("    ")]
    assert commands == ["make demo", "make test"]
