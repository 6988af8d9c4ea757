"""Problems found in a user's files, each pinned to a file, line and column.

Every rule reports through :class:`Diagnostic` so the command line can print them
all at once, as text for people, JSON for tools or annotations for GitHub.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import NamedTuple


class Severity(StrEnum):
    """How bad a problem is: errors always fail a check, warnings only with ``--strict``."""

    ERROR = "error"
    WARNING = "warning"


class Position(NamedTuple):
    """A 1-based line and column in a file."""

    line: int
    column: int


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem: where it is, how bad, what is wrong and how to fix it."""

    path: Path
    position: Position
    severity: Severity
    code: str
    message: str

    def __str__(self) -> str:
        return (
            f"{self.path}:{self.position.line}:{self.position.column}: "
            f"{self.severity}: {self.message}"
        )

    @property
    def sort_key(self) -> tuple[str, int, int, str]:
        return (str(self.path), self.position.line, self.position.column, self.code)


class DiagnosticSink:
    """Collects the diagnostics of one file, so rules need not repeat the path."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.items: list[Diagnostic] = []

    def error(self, position: Position, code: str, message: str) -> None:
        self.items.append(Diagnostic(self.path, position, Severity.ERROR, code, message))

    def warning(self, position: Position, code: str, message: str) -> None:
        self.items.append(Diagnostic(self.path, position, Severity.WARNING, code, message))

    @property
    def has_errors(self) -> bool:
        return any(d.severity is Severity.ERROR for d in self.items)
