"""`campaign check` on what config.toml names: the brand's files, a zone that is no place,
and a config written for a newer release that this one cannot load."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from campaign import __version__
from campaign.release import version_key
from scheduler.cli.app import app
from tests.conftest import GOOD_POST, Campaign


def _run(campaign: Campaign, *args: str):
    return CliRunner().invoke(app, ["--config", str(campaign.config_path), *args])


def _newer() -> str:
    major, minor, patch = version_key(__version__) or (0, 0, 0)
    return f"{major}.{minor + 1}.{patch}"


def _line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text("utf-8").splitlines(), 1) if text in line)


def test_a_missing_logo_is_an_error_at_its_line(campaign: Campaign) -> None:
    campaign.post("2030-09-15-bra", GOOD_POST)
    campaign.config('[brand]\nlogo = "assets/nothere.png"\n')
    result = _run(campaign, "check")
    assert result.exit_code == 1
    line = _line_of(campaign.config_path, "nothere.png")
    assert re.search(
        rf"config\.toml:{line}:1: error: \[brand\] logo = \"assets/nothere\.png\": "
        r"there is no such file\.",
        result.stdout,
    ), result.stdout


def test_a_logo_that_is_no_image_or_a_folder_is_an_error(campaign: Campaign) -> None:
    campaign.post("2030-09-15-bra", GOOD_POST)
    (campaign.root / "assets" / "mark.png").write_text("not a picture", "utf-8")
    campaign.config('[brand]\nlogo = "assets/mark.png"\n')
    result = _run(campaign, "check", "--format", "json")
    assert result.exit_code == 1
    assert "brand-logo" in result.stdout and "cannot be used as an image" in result.stdout
    campaign.config('[brand]\nlogo = "assets"\n')
    result = _run(campaign, "check")
    assert result.exit_code == 1 and "this is not a file" in result.stdout


def test_a_font_file_that_does_not_exist_is_an_error(campaign: Campaign) -> None:
    campaign.post("2030-09-15-bra", GOOD_POST)
    campaign.config('[brand]\nfont = "fonts/nothere.ttf"\n')
    result = _run(campaign, "check", "--format", "github")
    assert result.exit_code == 1
    assert re.search(
        r"^::error file=.*config\.toml,line=\d+,col=1,title=campaign check%3A "
        r"brand-font::",
        result.stdout,
        re.M,
    ), result.stdout


def test_the_brand_files_of_the_sample_pass(campaign: Campaign) -> None:
    campaign.post("2030-09-15-bra", GOOD_POST)
    campaign.config()
    result = _run(campaign, "check")
    assert result.exit_code == 0, result.stdout


def test_localtime_is_no_place_for_a_campaign(campaign: Campaign) -> None:
    campaign.config_text = campaign.config_text.replace("Europe/Stockholm", "localtime")
    campaign.config_path.write_text(campaign.config_text, "utf-8")
    result = _run(campaign, "check")
    assert result.exit_code == 2
    assert 'timezone "localtime" is not a known time zone' in result.stderr
    assert "Did you mean `localtime`" not in result.stderr


def test_a_newer_releases_config_says_which_release_it_needs(campaign: Campaign) -> None:
    newer = _newer()
    campaign.config_text = campaign.config_text.replace(
        "[campaign]\n", f'[campaign]\ntool_version = "{newer}"\nkey_of_a_newer_release = 1\n'
    )
    campaign.config_path.write_text(campaign.config_text, "utf-8")
    result = _run(campaign, "check")
    assert result.exit_code == 2
    assert f"set up for campaign {newer}" in result.stderr
    assert "unknown key `key_of_a_newer_release`" in result.stderr
    github = _run(campaign, "check", "--format", "github")
    assert github.exit_code == 2
    lines = github.stdout.splitlines()
    assert lines[0].startswith("::error file=") and "key_of_a_newer_release" in lines[0]
    assert lines[1].startswith("::warning file=") and f"v{newer}" in lines[1]
    assert "line=2," in lines[1]
    assert lines[-1].startswith("✗ The settings file cannot be used (1 error)")


def test_an_older_or_equal_tool_version_says_nothing(campaign: Campaign) -> None:
    campaign.config_text = campaign.config_text.replace(
        "[campaign]\n", f'[campaign]\ntool_version = "{__version__}"\nunknown_key = 1\n'
    )
    campaign.config_path.write_text(campaign.config_text, "utf-8")
    result = _run(campaign, "check")
    assert result.exit_code == 2
    assert "set up for campaign" not in result.stderr


def test_posts_outside_the_campaign_folder_are_refused(campaign: Campaign, tmp_path: Path) -> None:
    outside = tmp_path.parent / f"{tmp_path.name}-elsewhere"
    outside.mkdir()
    (campaign.root / "linked").symlink_to(outside, target_is_directory=True)
    for written, words in [
        ("../", "inside the campaign's folder"),
        (str(outside), "inside the campaign's folder"),
        ("~", "inside the campaign's folder"),
        ("linked", "linked is a symbolic link"),
    ]:
        campaign.config_text = f'[campaign]\nposts = "{written}"\n'
        campaign.config_path.write_text(campaign.config_text, "utf-8")
        result = _run(campaign, "check", "--format", "github")
        assert result.exit_code == 2, (written, result.stdout)
        assert "config-posts-folder" in result.stdout and words in result.stdout, result.stdout
