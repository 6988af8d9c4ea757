"""The documentation tells the truth: every command documented, CI runs README's tests."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import typer.main

from scheduler.cli.app import app

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def quick_start_commands() -> list[str]:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section)


def test_quick_start_is_exactly_two_commands_installing_and_running() -> None:
    run, test = quick_start_commands()
    assert "pip install" in run and "campaign check" in run
    assert "pip install" in test and "pytest" in test


def test_ci_runs_readmes_test_command() -> None:
    _, test = quick_start_commands()
    ci_lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert test in ci_lines


def test_every_command_is_documented_with_help() -> None:
    group = typer.main.get_command(app)
    assert group.commands, "no commands found"
    for name, command in group.commands.items():
        assert command.help and command.help.strip(), f"`campaign {name}` has no help text"
        assert f"`campaign {name}" in README, f"`campaign {name}` is not in README.md"
        first_line = command.help.strip().splitlines()[0]
        assert first_line in README, f"README's line for `campaign {name}` differs from --help"


def test_content_side_never_imports_the_runtime_side() -> None:
    """campaign/ has no network and no database; only the command line wires both sides."""
    for path in (ROOT / "campaign").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not any(n.split(".")[0] == "scheduler" for n in names), path
