"""How `campaign check` shows what it found: text for people, JSON, GitHub annotations."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

from rich.console import Console, ConsoleOptions, RenderResult
from rich.markup import escape
from rich.segment import Segment
from rich.style import Style

from campaign.diagnostics import Diagnostic, Severity
from campaign.finding_groups import (
    ANNOTATIONS_PER_SEVERITY,
    FindingGroup,
    ShownPaths,
    folded_in_text,
    group_by_kind,
    log_safe,
)
from campaign.text_patterns import visible

_T = TypeVar("_T")


def literal(text: str) -> str:
    """``text`` for a rich markup string, shown as written: ``[red]`` or ``[/]`` from a
    file name, a setting or a post is never read as markup (nor breaks it), and control
    and invisible characters are made visible."""
    return escape(visible(text))


def display_path(path: Path) -> str:
    """The path relative to the working folder when it is inside it (shorter, clickable),
    with any control or invisible character in a file name made visible."""
    return ShownPaths()(path)


def print_text(
    console: Console,
    diagnostics: Sequence[Diagnostic],
    files: int,
    strict: bool,
    verbose: bool = False,
) -> None:
    """``path:line:col: error: message`` lines, then a one-line summary.

    Warnings of one kind found in many files are one line with a count, the first of
    them in full (its advice says how to fix them all); ``verbose`` lists every one.
    Errors always have a line each."""
    paths = ShownPaths()
    folded = {} if verbose else folded_in_text(diagnostics)
    folded_away = {id(d) for group in folded.values() for d in group.findings[1:]}
    # Printed once, as text: no markup is read in a name or message, and a thousand
    # findings cost one call to the console rather than a thousand.
    shown = _StyledLines()
    for d in diagnostics:
        if id(d) in folded_away:
            continue
        place = f"{paths.in_log(d.path)}:{d.position.line}:{d.position.column}"
        message = log_safe(visible(d.message))
        group = folded.get(id(d))
        if group is None:
            shown.add(f"{place}: ")
            shown.add(str(d.severity), _RED if d.severity is Severity.ERROR else _YELLOW)
            shown.add(f": {message}\n")
            continue
        shown.add(str(d.severity), _YELLOW)
        shown.add(": ")
        shown.add(f"{len(group.findings)} × {log_safe(group.label)}", _BOLD)
        shown.add(
            f", first in {place}: {message} ({len(group.findings) - 1} more like this: "
            "add --verbose to list them all.)\n"
        )
    shown.add(summary_line(diagnostics, files, strict))
    console.print(shown, highlight=False, soft_wrap=True)


class _StyledLines:
    """Pieces of text, some styled, printed as they are: what one :class:`Text` of them
    prints with ``soft_wrap`` (nothing wrapped or cropped), without its work per piece
    and per line. Every piece was made visible (:func:`visible`), so none holds a control
    character that Text would have removed."""

    def __init__(self) -> None:
        self._segments: list[Segment] = []

    def add(self, piece: str, style: Style | None = None) -> None:
        self._segments.append(Segment(piece, style))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from self._segments
        yield Segment.line()


_RED = Style(color="red", bold=True)
_YELLOW = Style(color="yellow", bold=True)
_BOLD = Style(bold=True)


def summary_line(diagnostics: Sequence[Diagnostic], files: int, strict: bool) -> str:
    errors = sum(1 for d in diagnostics if d.severity is Severity.ERROR)
    warnings = len(diagnostics) - errors
    counted = f"{_plural(files, 'post file')}: {_plural(errors, 'error')}, "
    counted += _plural(warnings, "warning")
    if errors or (strict and warnings):
        fix = "errors and warnings" if strict else "errors"
        return f"✗ {counted}. Fix the {fix} above, then check again."
    return f"✓ {counted}. All good."


def config_summary_line(diagnostics: Sequence[Diagnostic]) -> str:
    """The last line when the config file cannot be used, so no post was read."""
    errors = sum(1 for d in diagnostics if d.severity is Severity.ERROR)
    return (
        f"✗ The settings file cannot be used ({_plural(errors, 'error')}), so no post was "
        "checked. Fix it, then check again."
    )


def as_json(diagnostics: Sequence[Diagnostic], files: int) -> str:
    """A JSON document with every diagnostic and the counts, for tools."""
    paths = ShownPaths()
    return json.dumps(
        {
            "files": files,
            "errors": sum(1 for d in diagnostics if d.severity is Severity.ERROR),
            "warnings": sum(1 for d in diagnostics if d.severity is Severity.WARNING),
            "diagnostics": [
                {
                    "path": paths(d.path),
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
    """GitHub Actions workflow commands: each problem shows on its line of the pull request.

    GitHub shows at most 10 error and 10 warning annotations of a step, so errors come
    first, each on its own line up to the tenth, which counts the rest; warnings of one
    kind are one annotation, on the first of them. Every finding is then listed in the
    step's log, in a folded group. ``verbose`` changes nothing here: the log has them all.
    """
    paths = ShownPaths()
    everything = f"All findings ({len(diagnostics)})"
    errors = [d for d in diagnostics if d.severity is Severity.ERROR]
    warnings = [d for d in diagnostics if d.severity is not Severity.ERROR]
    lines = []

    for d in _budgeted(errors):
        lines.append(_annotation(paths, d, d.code, visible(d.message)))
    if len(errors) > ANNOTATIONS_PER_SEVERITY:
        rest = errors[ANNOTATIONS_PER_SEVERITY - 1 :]
        lines.append(_overflow(paths, rest, "error", everything))

    groups = group_by_kind(warnings)
    for group in _budgeted(groups):
        d = group.first
        lines.append(_annotation(paths, d, d.code, _grouped_message(group, everything)))
    if len(groups) > ANNOTATIONS_PER_SEVERITY:
        rest_groups = groups[ANNOTATIONS_PER_SEVERITY - 1 :]
        rest = [d for group in rest_groups for d in group.findings]
        lines.append(_overflow(paths, rest, "warning", everything, kinds=rest_groups))

    lines.append(f"::group::{everything}")
    for d in diagnostics:
        place = f"{paths.in_log(d.path)}:{d.position.line}:{d.position.column}"
        lines.append(f"{place}: {d.severity}: {log_safe(visible(d.message))}")
    lines.append("::endgroup::")
    return "\n".join(lines)


def github_error(message: str) -> str:
    """A workflow command for an error that is on no line of a file (no config.toml)."""
    return f"::error title=campaign check::{_escape_data(visible(message))}"


def _budgeted(items: Sequence[_T]) -> Sequence[_T]:
    """All of ``items`` when they fit GitHub's annotations, else room for a last that counts."""
    if len(items) <= ANNOTATIONS_PER_SEVERITY:
        return items
    return items[: ANNOTATIONS_PER_SEVERITY - 1]


def _annotation(paths: ShownPaths, d: Diagnostic, title: str, message: str) -> str:
    """One workflow command on ``d``'s line; ``message`` already made visible."""
    properties = ",".join(
        f"{key}={_escape_property(value)}"
        for key, value in (
            ("file", paths(d.path)),
            ("line", str(d.position.line)),
            ("col", str(d.position.column)),
            ("title", f"campaign check: {visible(title)}"),
        )
    )
    return f"::{d.severity} {properties}::{_escape_data(message)}"


def _grouped_message(group: FindingGroup, everything: str) -> str:
    first = visible(group.first.message)
    if len(group.findings) == 1:
        return first
    others = group.findings[1:]
    listed = ", ".join(_short_place(d) for d in others[:_PLACES_LISTED])
    if len(others) > _PLACES_LISTED:
        listed += f" and {len(others) - _PLACES_LISTED} more"
    return (
        f"{len(group.findings)} × {group.label}, here and in {len(others)} more "
        f"{_places(others)}: {first} Also at: {listed}. All are in this step's log, "
        f'under "{everything}".'
    )


def _overflow(
    paths: ShownPaths,
    rest: Sequence[Diagnostic],
    severity: str,
    everything: str,
    kinds: Sequence[FindingGroup] = (),
) -> str:
    """The last annotation GitHub shows: on the first finding not shown, counting the rest."""
    first = rest[0]
    what = _plural(len(rest), f"more {severity}")
    of_kinds = ""
    if kinds:
        labels = ", ".join(group.label for group in kinds[:_PLACES_LISTED])
        if len(kinds) > _PLACES_LISTED:
            labels += ", …"
        of_kinds = f" of {len(kinds)} kinds ({labels})"
    message = (
        f"{what}{of_kinds}: GitHub shows only {ANNOTATIONS_PER_SEVERITY} {severity}s of a "
        f'step, so see them all in this step\'s log, under "{everything}". This one: '
        f"{visible(first.message)}"
    )
    return _annotation(paths, first, what, message)


_PLACES_LISTED = 3


def _short_place(d: Diagnostic) -> str:
    return f"{visible(d.path.name)}:{d.position.line}"


def _places(findings: Sequence[Diagnostic]) -> str:
    return "place" if len(findings) == 1 else "places"


def _escape_data(value: str) -> str:
    """GitHub's escaping of a command's message: a line break can never start a command."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"
