"""Findings of one kind, together: so that 22 posts in the past are one line, not 22.

A kind is a severity and a code (``warning``, ``in-the-past``). `campaign check` shows a
kind found in many files once, with a count, so that the one error to fix is never lost
among warnings that repeat; ``--verbose`` and ``--format json`` still list every finding.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from campaign.diagnostics import Diagnostic, Severity
from campaign.text_patterns import visible

#: Text output folds the warnings of one kind into one line when they are in more files.
FOLD_OVER_FILES = 3

#: GitHub shows at most 10 error and 10 warning annotations of a step (50 of a job).
ANNOTATIONS_PER_SEVERITY = 10

_ACRONYMS = {"yaml": "YAML", "utf": "UTF", "smtp": "SMTP", "url": "URL", "id": "ID"}


def kind_label(code: str) -> str:
    """A code as words for people: ``in-the-past`` → ``in the past``."""
    return " ".join(_ACRONYMS.get(word, word) for word in visible(code).split("-"))


@dataclass(slots=True)
class FindingGroup:
    """Every finding of one severity and code, in the order they were found."""

    severity: Severity
    code: str
    findings: list[Diagnostic] = field(default_factory=list)

    @property
    def first(self) -> Diagnostic:
        return self.findings[0]

    @property
    def files(self) -> int:
        return len({d.path for d in self.findings})

    @property
    def label(self) -> str:
        return kind_label(self.code)


def group_by_kind(diagnostics: Iterable[Diagnostic]) -> list[FindingGroup]:
    """The findings grouped by severity and code, groups in the order of their first finding."""
    groups: dict[tuple[Severity, str], FindingGroup] = {}
    for d in diagnostics:
        key = (d.severity, d.code)
        group = groups.get(key)
        if group is None:
            group = groups[key] = FindingGroup(d.severity, d.code)
        group.findings.append(d)
    return list(groups.values())


def folded_in_text(diagnostics: Sequence[Diagnostic]) -> dict[int, FindingGroup]:
    """Which findings text output shows as one line: ``{index of the first: its group}``.

    Only warnings are folded, and only a kind found in more than :data:`FOLD_OVER_FILES`
    files; an error is always its own line, on the line to fix."""
    folded = {}
    for group in group_by_kind(d for d in diagnostics if d.severity is Severity.WARNING):
        if group.files > FOLD_OVER_FILES:
            folded[id(group.first)] = group
    return folded


# GitHub's runner reads `::command::` at the start of a line (after any white space) and
# the legacy `##[command]` anywhere in a line that is not a `::` command.
_LEGACY_COMMAND = re.compile(r"##\[")
_SAFE_START = re.compile(r"[\w./~-]")


class ShownPaths:
    """Each file's name as shown, worked out once per file rather than once per finding."""

    def __init__(self) -> None:
        try:
            self._cwd: Path | None = Path.cwd().resolve()
        except OSError:
            self._cwd = None
        self._shown: dict[Path, str] = {}
        self._in_log: dict[Path, str] = {}
        self._folders: dict[Path, Path | None] = {}

    def __call__(self, path: Path) -> str:
        """As :func:`scheduler.cli.check_output.display_path` shows it (JSON, annotations)."""
        shown = self._shown.get(path)
        if shown is None:
            shown = self._shown[path] = _display(path, self._cwd, self._folder(path.parent))
        return shown

    def _folder(self, folder: Path) -> Path | None:
        """``folder`` resolved (None if it cannot be), once for all the files in it."""
        if folder not in self._folders:
            try:
                self._folders[folder] = folder.resolve()
            except (OSError, RuntimeError):
                self._folders[folder] = None
        return self._folders[folder]

    def in_log(self, path: Path) -> str:
        """For the start of a log line: never the start of a workflow command."""
        shown = self._in_log.get(path)
        if shown is None:
            shown = self(path)
            if not _SAFE_START.match(shown):  # `::error::x.yaml`, ` ::x`, `#…`
                shown = "./" + shown
            shown = self._in_log[path] = log_safe(shown)
        return shown


def _display(path: Path, cwd: Path | None, folder: Path | None) -> str:
    """``path`` as shown; ``folder`` is its folder resolved (None if that failed)."""
    try:  # the folder resolved, the name as it is: a linked file is named, never its target
        if cwd is None or folder is None:
            raise ValueError
        shown = str((folder / path.name).relative_to(cwd))
    except ValueError:
        shown = str(path)
    return visible(shown)


def log_safe(text: str) -> str:
    """``text`` (already :func:`visible`) that no CI log reads as a legacy ``##[command]``:
    the second ``#`` written as ``\\x23``, the way control characters are shown."""
    if "##[" not in text:
        return text
    return _LEGACY_COMMAND.sub(r"#\\x23[", text)
