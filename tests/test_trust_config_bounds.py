"""config.toml values that parse but would end a command in a traceback later (issue 10,
item 12): inf, nan and durations too long for a timer are messages with the key and line,
and every limit is written as people write numbers (never 1.67772e+07)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from campaign.config import ConfigError, ConfigFile, parse_config

INTERNAL_WORDING = ("Input should", "finite_number", "None", "Value error", "e+0", "e+1")

DURATIONS = [
    ("check", "min_gap_minutes"),
    ("publishing", "retry_after_seconds"),
    ("publishing", "retry_max_seconds"),
    ("publishing", "rate_limit_cooldown_minutes"),
    ("publishing", "reconcile_after_seconds"),
    ("publishing", "auth_check_minutes"),
    ("scheduler", "misfire_grace_minutes"),
    ("scheduler", "rescan_seconds"),
    ("scheduler", "git_pull_minutes"),
    ("scheduler", "heartbeat_seconds"),
    ("scheduler", "prepare_hours_ahead"),
    ("engagement", "check_minutes"),
]


def problem(text: str, folder: Path) -> str:
    (folder / "posts").mkdir(exist_ok=True)
    with pytest.raises(ConfigError) as caught:
        parse_config(text, folder / "config.toml")
    [message] = [str(d) for d in caught.value.diagnostics]
    assert not [w for w in INTERNAL_WORDING if w in message], message
    return message


@pytest.mark.parametrize(("table", "key"), DURATIONS)
@pytest.mark.parametrize("value", ["inf", "nan", "1e300", "99999999999999999999"])
def test_a_duration_that_no_timer_can_hold_is_a_message(
    table: str, key: str, value: str, tmp_path: Path
) -> None:
    field = ConfigFile.model_fields[table].annotation.model_fields[key]  # type: ignore[union-attr]
    message = problem(f"[{table}]\n{key} = {value}\n", tmp_path)
    assert ":2:1:" in message and f"`{key}` in [{table}]" in message, message
    if field.annotation is int and value in ("inf", "nan", "1e300"):
        assert "whole number" in message, message  # refused as a float, in plain words


def test_every_float_key_refuses_inf(tmp_path: Path) -> None:
    for table, section in ConfigFile.model_fields.items():
        model = section.annotation
        for key, field in getattr(model, "model_fields", {}).items():
            if field.annotation is float:
                assert "must be a number" in problem(f"[{table}]\n{key} = inf\n", tmp_path)


def test_ages_beyond_ten_years_are_a_message(tmp_path: Path) -> None:
    message = problem("[engagement]\nages_hours = [1, 24, 1e300]\n", tmp_path)
    assert "`ages_hours` in [engagement]" in message and "ten years" in message


def test_a_limit_is_written_as_people_write_numbers(tmp_path: Path) -> None:
    message = problem("[check]\nmax_post_bytes = 99999999\n", tmp_path)
    assert "at most 16,777,216" in message, message


def test_campaign_check_with_a_huge_gap_is_exit_2_without_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "posts").mkdir()
    config = tmp_path / "config.toml"
    config.write_text("[check]\nmin_gap_minutes = 99999999999999999999\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "CAMPAIGN_CONFIG"}
    done = subprocess.run(
        [sys.executable, "-m", "scheduler.cli", "--config", str(config), "check"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert "min_gap_minutes" in done.stdout + done.stderr
