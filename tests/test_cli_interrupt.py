"""Ctrl-C in any command: exit 130 and one line that says so, never a traceback; a
command that handles Ctrl-C itself (a rehearsal) has said what happened and gets no
second line."""

from __future__ import annotations

import sys

import pytest
import typer

from campaign import post_loader
from scheduler.cli import app as cli
from tests.conftest import GOOD_POST, Campaign

STOPPED = "Stopped (Ctrl-C)."


def run_main(campaign: Campaign, monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    campaign.config()
    monkeypatch.setattr(sys, "argv", ["campaign", "--config", str(campaign.config_path), *args])
    with pytest.raises(SystemExit) as stop:
        cli.main()
    return int(stop.value.code or 0)


def test_ctrl_c_in_a_command_exits_130_and_says_so(
    campaign: Campaign, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    campaign.post("2030-09-15-bra", GOOD_POST)

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(post_loader, "load_campaign", interrupted)

    assert run_main(campaign, monkeypatch, "check") == 130
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        f"{STOPPED} What was finished is kept; run the command again."
    ]
    assert "Traceback" not in err and "Aborted" not in err


def test_a_command_that_exits_130_by_itself_gets_no_second_line(
    campaign: Campaign, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    campaign.post("2030-09-15-bra", GOOD_POST)

    def stops_by_itself(*args: object, **kwargs: object) -> None:
        raise typer.Exit(130)  # as a rehearsal does after printing its own account

    monkeypatch.setattr(post_loader, "load_campaign", stops_by_itself)

    assert run_main(campaign, monkeypatch, "check") == 130
    assert STOPPED not in capsys.readouterr().err
