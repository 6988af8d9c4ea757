"""Plain lines to a pipe or a file, without importing rich.

Importing rich's console costs a command about 15 ms of its start-up. Output that goes to
a pipe, a file or a CI log gets no colours and no terminal width from rich anyway, so a
command's everyday lines are written there as they are; a terminal (or a console that
records) still gets them through rich. Text given here must be plain and already made
visible (:func:`campaign.text_patterns.visible`): nothing in it is read as markup.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from rich.console import Console


def would_be_terminal(stream: Any) -> bool:
    """Whether rich takes ``stream`` for a terminal (its rules: TTY_COMPATIBLE, then
    FORCE_COLOR, then the stream's isatty)."""
    compatible = os.environ.get("TTY_COMPATIBLE", "")
    if compatible in ("0", "1"):
        return compatible == "1"
    force_color = os.environ.get("FORCE_COLOR")
    if force_color is not None:
        return force_color != ""
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def plain_stream(console: Console) -> TextIO | None:
    """The stream ``console`` writes to when it would write plain text unchanged (not a
    terminal, nothing recorded); None when it must print it itself."""
    lazy = getattr(type(console), "plain_stream", None)
    if lazy is not None:  # scheduler.cli.app's console, perhaps not made yet
        return lazy(console)  # type: ignore[no-any-return]
    if console.is_terminal or console.record:
        return None
    return console.file


def say(console: Console, text: str, markup: str | None = None) -> None:
    """One or more lines: ``text`` as it is to a pipe or a file; to a terminal, ``markup``
    (the same words with rich markup: colours) if given, else ``text`` with no markup."""
    stream = plain_stream(console)
    if stream is not None:
        stream.write(text + "\n")
    elif markup is not None:
        console.print(markup)
    else:
        console.print(text, markup=False, emoji=False, highlight=False)
