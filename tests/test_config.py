"""config.toml: typed settings, and every mistake named with its key and line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from campaign.config import (
    ConfigError,
    ConfigMissing,
    load_config,
    parse_config,
    toml_key_positions,
)
from campaign.diagnostics import Position

REPO_CONFIG = Path(__file__).parent.parent / "config.toml"


def problems(text: str, folder: Path) -> list[str]:
    (folder / "posts").mkdir(exist_ok=True)
    path = folder / "config.toml"
    with pytest.raises(ConfigError) as caught:
        parse_config(text, path)
    return [str(d) for d in caught.value.diagnostics]


def test_repository_config_loads_with_every_key_commented() -> None:
    config = load_config(REPO_CONFIG)
    assert config.zone.key == "Europe/Stockholm"
    assert config.posts_dir == (REPO_CONFIG.parent / "posts").resolve()
    assert config.enabled_channels == ("facebook", "instagram")
    lines = REPO_CONFIG.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        if "=" in line and not line.lstrip().startswith("#"):
            assert lines[number - 1].lstrip().startswith("#"), f"uncommented key: {line}"


def test_unknown_key_names_key_line_and_suggestion(tmp_path: Path) -> None:
    text = '[campaign]\nname = "x"\ntimezon = "Europe/Stockholm"\n'
    [message] = problems(text, tmp_path)
    assert message.startswith(f"{tmp_path / 'config.toml'}:3:1: error:")
    assert "unknown key `timezon`" in message
    assert "Did you mean `timezone`?" in message


def test_unknown_section_is_reported(tmp_path: Path) -> None:
    [message] = problems('[campain]\nname = "x"\n', tmp_path)
    assert ":1:1:" in message and "`campain`" in message and "`campaign`" in message


def test_bad_time_zone_suggests_the_real_one(tmp_path: Path) -> None:
    [message] = problems('[campaign]\ntimezone = "Europe/Stokholm"\n', tmp_path)
    assert ":2:1:" in message
    assert "Europe/Stockholm" in message


def test_missing_posts_folder_names_key_and_line(tmp_path: Path) -> None:
    [message] = problems('[campaign]\n\nposts = "inlagg"\n', tmp_path)
    assert ":3:1:" in message and "inlagg" in message and "no such folder" in message


def test_wrong_type_says_what_was_expected(tmp_path: Path) -> None:
    [message] = problems('[check]\nmax_lix = "high"\n', tmp_path)
    assert ":2:1:" in message and "must be a number" in message


def test_value_out_of_range_is_reported(tmp_path: Path) -> None:
    [message] = problems("[check]\nmax_lix = 5\n", tmp_path)
    assert "max_lix" in message and "must be at least 10" in message


def test_secret_in_config_is_refused_without_echoing_it(tmp_path: Path) -> None:
    text = '[channels.facebook]\npage_id = "1"\ntoken = "EAAsecretsecret"\n'
    [message] = problems(text, tmp_path)
    assert ":3:1:" in message and "environment variable" in message
    assert "EAAsecretsecret" not in message


def test_toml_syntax_error_has_line(tmp_path: Path) -> None:
    [message] = problems('[campaign]\nname = "unterminated\n', tmp_path)
    assert ":2:" in message and "not valid TOML" in message


def test_all_problems_reported_at_once(tmp_path: Path) -> None:
    text = '[campaign]\ntimezon = "x"\n[check]\nmax_lix = "x"\n'
    assert len(problems(text, tmp_path)) == 2


def test_no_file_is_an_error_that_says_where_it_was_looked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CAMPAIGN_CONFIG", raising=False)
    (tmp_path / "posts").mkdir()
    with pytest.raises(ConfigMissing, match=re.escape(f"No config.toml here ({tmp_path})")):
        load_config()
    with pytest.raises(ConfigMissing, match="no such file \\(given with --config\\)"):
        load_config(tmp_path / "nope.toml")
    monkeypatch.setenv("CAMPAIGN_CONFIG", str(tmp_path / "nope.toml"))
    with pytest.raises(ConfigMissing, match="no such file \\(named by \\$CAMPAIGN_CONFIG\\)"):
        load_config()
    assert issubclass(ConfigMissing, ConfigError)  # every command's handling of one applies


def test_disabled_channel_leaves_enabled_channels(tmp_path: Path) -> None:
    (tmp_path / "posts").mkdir()
    config = parse_config("[channels.instagram]\nenabled = false\n", tmp_path / "c.toml")
    assert config.enabled_channels == ("facebook",)


def test_key_positions_skip_multiline_strings() -> None:
    text = '[a]\nx = """\ny = 1\n"""\nz = 2\n[b.c]\n  w = 3\n'
    positions = toml_key_positions(text)
    assert positions[("a", "x")] == Position(2, 1)
    assert ("a", "y") not in positions
    assert positions[("a", "z")] == Position(5, 1)
    assert positions[("b", "c", "w")] == Position(7, 3)


def test_pixel_limit_cannot_exceed_pillows_bomb_ceiling(tmp_path: Path) -> None:
    [message] = problems("[check]\nmax_image_megapixels = 500\n", tmp_path)
    assert "max_image_megapixels" in message and "at most 178" in message
