"""How `campaign check` shows what it found: text for people, JSON, GitHub annotations."""

from __future__ import annotations

import json
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from campaign.diagnostics import Diagnostic, Severity
from campaign.text_patterns import visible


class OutputFormat(StrEnum):
    text = "text"
    json = "json"
    github = "github"


def literal(text: str) -> str:
    """``text`` for a rich markup string, shown as written: ``[red]`` or ``[/]`` from a
    file name, a setting or a post is never read as markup (nor breaks it), and control
    and invisible characters are made visible."""
    return escape(visible(text))


def display_path(path: Path) -> str:
    """The path relative to the working folder when it is inside it (shorter, clickable),
    with any control or invisible character in a file name made visible."""
    try:  # the folder resolved, the name as it is: a linked file is named, never its target
        shown = str((path.parent.resolve() / path.name).relative_to(Path.cwd().resolve()))
    except (ValueError, OSError, RuntimeError):
        shown = str(path)
    return visible(shown)


def print_text(
    console: Console,
    diagnostics: Sequence[Diagnostic],
    files: int,
    strict: bool,
    verbose: bool = False,
) -> None:
    """``path:line:col: error: message`` lines, then a one-line summary."""
    for d in diagnostics:
        colour = "red" if d.severity is Severity.ERROR else "yellow"
        where = f"{display_path(d.path)}:{d.position.line}:{d.position.column}"
        console.print(
            f"{escape(where)}: [bold {colour}]{d.severity}[/]: {escape(visible(d.message))}",
            highlight=False,
            soft_wrap=True,
        )
    console.print(summary_line(diagnostics, files, strict), highlight=False)


def summary_line(diagnostics: Sequence[Diagnostic], files: int, strict: bool) -> str:
    errors = sum(1 for d in diagnostics if d.severity is Severity.ERROR)
    warnings = len(diagnostics) - errors
    counted = f"{_plural(files, 'post file')}: {_plural(errors, 'error')}, "
    counted += _plural(warnings, "warning")
    if errors or (strict and warnings):
        fix = "errors and warnings" if strict else "errors"
        return f"✗ {counted}. Fix the {fix} above, then check again."
    return f"✓ {counted}. All good."


def as_json(diagnostics: Sequence[Diagnostic], files: int) -> str:
    """A JSON document with every diagnostic and the counts, for tools."""
    return json.dumps(
        {
            "files": files,
            "errors": sum(1 for d in diagnostics if d.severity is Severity.ERROR),
            "warnings": sum(1 for d in diagnostics if d.severity is Severity.WARNING),
            "diagnostics": [
                {
                    "path": display_path(d.path),
                    "line": d.position.line,
                    "column": d.position.column,
                    "severity": str(d.severity),
                    "code": d.code,
                    "message": d.message,
                }
                for d in diagnostics
            ],
        },
        ensure_ascii=False,
        indent=2,
    )


def as_github(diagnostics: Sequence[Diagnostic], verbose: bool = False) -> str:
    """GitHub Actions workflow commands: each problem shows on its line of the pull request."""
    lines = []
    for d in diagnostics:
        properties = ",".join(
            f"{key}={_escape_property(value)}"
            for key, value in (
                ("file", display_path(d.path)),
                ("line", str(d.position.line)),
                ("col", str(d.position.column)),
                ("title", f"campaign check: {d.code}"),
            )
        )
        lines.append(f"::{d.severity} {properties}::{_escape_data(visible(d.message))}")
    return "\n".join(lines)


def _escape_data(value: str) -> str:
    """GitHub's escaping of a command's message: a line break can never start a command."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"
