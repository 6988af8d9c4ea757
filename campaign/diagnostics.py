"""Problems found in a user's files, each pinned to a file, line and column.

Every rule reports through :class:`Diagnostic` so the command line can print them
all at once, as text for people, JSON for tools or annotations for GitHub.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import NamedTuple

from campaign.text_patterns import visible

#: At most this many problems are listed for one file; the rest are counted.
MAX_PER_FILE = 100


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
            f"{visible(str(self.path))}:{self.position.line}:{self.position.column}: "
            f"{self.severity}: {self.message}"
        )

    @property
    def sort_key(self) -> tuple[str, int, int, str]:
        return (str(self.path), self.position.line, self.position.column, self.code)


class DiagnosticSink:
    """Collects the diagnostics of one file, so rules need not repeat the path.

    Messages quote what people wrote, so every invisible or control character in them
    is made visible (``\\x1b``, ``\\u202e``): no terminal, log or annotation acts on
    it. After :data:`MAX_PER_FILE` problems the rest are only counted, in a last one.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.items: list[Diagnostic] = []
        self.left_out = 0
        self._errors = 0

    def error(self, position: Position, code: str, message: str) -> None:
        self._errors += 1
        self._add(position, Severity.ERROR, code, message)

    def warning(self, position: Position, code: str, message: str) -> None:
        self._add(position, Severity.WARNING, code, message)

    def _add(self, position: Position, severity: Severity, code: str, message: str) -> None:
        if len(self.items) >= MAX_PER_FILE:
            self.left_out += 1
            if self.left_out == 1:
                self.items.append(self._summary(position))
            else:
                self.items[-1] = self._summary(self.items[-1].position)
            return
        self.items.append(Diagnostic(self.path, position, severity, code, visible(message)))

    def _summary(self, position: Position) -> Diagnostic:
        return Diagnostic(
            self.path,
            position,
            Severity.ERROR if self._errors else Severity.WARNING,
            "too-many-problems",
            f"{self.left_out:,} more problems in this file are not listed (the first of them "
            "is here): fix the ones listed and check again.",
        )

    @property
    def has_errors(self) -> bool:
        return self._errors > 0

    @property
    def full(self) -> bool:
        """Whether further problems would only be counted."""
        return len(self.items) >= MAX_PER_FILE
