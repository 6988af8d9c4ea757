"""Plain lines to a pipe or a file, rich in a terminal (scheduler/cli/plain.py)."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from scheduler.cli.app import _LazyConsole
from scheduler.cli.plain import plain_stream, say, would_be_terminal


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _no_colour_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)


def test_a_terminal_is_told_as_rich_tells_it(monkeypatch: pytest.MonkeyPatch) -> None:
    assert would_be_terminal(_Terminal()) and not would_be_terminal(io.StringIO())
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert would_be_terminal(io.StringIO())
    monkeypatch.setenv("TTY_COMPATIBLE", "0")
    assert not would_be_terminal(_Terminal())
    for stream in (io.StringIO(), _Terminal()):
        assert would_be_terminal(stream) == Console(file=stream).is_terminal


def test_to_a_pipe_the_text_goes_as_it_is() -> None:
    pipe = io.StringIO()
    console = Console(file=pipe)

    say(console, "Total: [not markup] 12 345", "[bold]Total[/]")

    assert plain_stream(console) is pipe
    assert pipe.getvalue() == "Total: [not markup] 12 345\n"


def test_to_a_terminal_the_markup_goes_through_rich() -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, color_system="standard")

    say(console, "Total", "[bold]Total[/]")
    say(console, "[red]stays text[/]")

    assert plain_stream(console) is None
    assert "\x1b[1mTotal" in screen.getvalue()
    assert "[red]stays text[/]" in screen.getvalue()


def test_a_recording_console_prints_everything_itself() -> None:
    console = Console(file=io.StringIO(), record=True)
    say(console, "kept")
    assert "kept" in console.export_text()


def test_the_command_lines_console_is_not_made_for_a_pipe(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pipe = io.StringIO()
    monkeypatch.setattr("sys.stdout", pipe)
    lazy = _LazyConsole(highlight=False, soft_wrap=True)

    say(lazy, "plain")  # type: ignore[arg-type]

    assert pipe.getvalue() == "plain\n"
    assert object.__getattribute__(lazy, "_console") is None
