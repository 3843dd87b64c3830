"""The README can't drift: the field reference matches the models, and every command is documented."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")
COMMANDS = sorted(cli.commands)


def test_field_reference_is_generated_from_the_models() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cogapp", "--check", "README.md"], cwd=REPO, capture_output=True, text=True
    )
    assert result.returncode == 0, "README.md reference is stale: run `cog -r README.md`\n" + result.stdout


def test_readme_opens_with_the_two_commands() -> None:
    blocks = [b.split("```", 1)[0].strip() for b in README.split("```sh\n")[1:3]]
    assert blocks == ["pip install -e . && podcast publish", "bash scripts/test.sh"]
    assert (REPO / ".ci" / "run").read_text().strip().endswith("exec bash scripts/test.sh")


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help_with_an_example(name: str) -> None:
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output
    assert cli.commands[name].get_short_help_str(limit=200)


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_is_shown_in_the_readme_with_output(name: str) -> None:
    assert f"$ podcast {name}" in README, f"README.md has no example run of `podcast {name}`"
