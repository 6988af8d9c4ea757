"""Commands that read well: help that shows what to type, start-up that imports only what a
command uses, and "did you mean" for a platform's name in an option."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from campaign.config import CHANNELS
from scheduler.cli.app import PLATFORMS, app
from tests.conftest import GOOD_POST, Campaign

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, (*path, name))


COMMANDS = list(_commands(typer.main.get_command(app)))

#: How a placeholder may look: NAME, PATH..., text|json|github, 'YYYY-MM-DD HH:MM'.
PLACEHOLDER = re.compile(r"[A-Z][A-Z_|]*(\.\.\.)?|[a-z]+(\|[a-z]+)+|'[A-Z][A-Z: -]*'")
#: Python's and click's type names, and typer's {required} and <type> marks.
TYPE_NAMES = re.compile(
    r"<[^>]*>|\{\w+\}|\b(TEXT|INTEGER|FLOAT|BOOLEAN|FILENAME|DIRECTORY|UUID)\b"
    r"|\b(str|int|float|bool|list|Path|None)\b(?=[\]|>.]|$)"
)


def _help(path: tuple[str, ...]) -> str:
    result = runner.invoke(app, [*path, "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("path", COMMANDS, ids=lambda path: " ".join(path) or "campaign")
def test_help_shows_what_to_type_never_a_type(path: tuple[str, ...]) -> None:
    shown = _help(path)
    usage = shown.splitlines()[0]
    assert not TYPE_NAMES.search(usage), usage
    command = typer.main.get_command(app)
    for name in path:
        command = command.commands[name]  # type: ignore[attr-defined]
    context = command.context_class(command, info_name="campaign")
    for param in command.params:
        record = param.get_help_record(context)
        assert record is not None
        shown_param = record[0]  # like "-c, --channel facebook|instagram" or "PATH..."
        where = f"campaign {' '.join(path)}: {shown_param!r}"
        assert not TYPE_NAMES.search(shown_param), where
        if getattr(param, "is_flag", False) or getattr(param, "count", False):
            assert all(w.startswith("-") for w in re.split(r"[ ,/;]+", shown_param) if w), where
            continue
        placeholder = shown_param
        if param.param_type_name == "option":  # what follows the option's long name
            placeholder = shown_param.split(max(param.opts, key=len) + " ", 1)[1]
        assert PLACEHOLDER.fullmatch(placeholder), where
    assert not TYPE_NAMES.search(shown), shown


def test_the_command_list_shows_each_first_line_whole() -> None:
    shown = " ".join(_help(()).split())
    group = typer.main.get_command(app)
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        first_line = command.help.strip().splitlines()[0]
        assert f"{name} {first_line}" in shown, name


def test_the_platforms_of_the_options_are_the_configs() -> None:
    assert PLATFORMS == CHANNELS


def _imported_by(*args: str) -> dict[str, bool]:
    """Which heavy modules `campaign ARGS` imports, in a fresh interpreter."""
    heavy = ("campaign.config", "pydantic", "sqlmodel", "PIL", "yaml", "jinja2", "rich")
    code = (
        "import sys, json\n"
        "from scheduler.cli.app import main\n"
        f"sys.argv = ['campaign', *{list(args)!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print(json.dumps({{m: m in sys.modules for m in {heavy!r}}}), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return json.loads(done.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["check", "--help"]])
def test_help_and_version_import_nothing_of_the_library(args: list[str]) -> None:
    imported = _imported_by(*args)
    if args[0] == "check":  # typer reads the options given with pydantic, not the library
        del imported["pydantic"]
    assert not any(imported.values()), imported


@pytest.mark.parametrize(
    "args",
    [
        ["publish", "2030-09-15-bra", "--channel", "instagarm"],
        ["stats", "--channel", "instagarm"],
    ],
)
def test_a_misspelt_platform_in_an_option_is_told_what_was_meant(
    campaign: Campaign, args: list[str]
) -> None:
    campaign.post("2030-09-15-bra", GOOD_POST)
    campaign.config_path.write_text(campaign.config_text, encoding="utf-8")
    result = runner.invoke(app, ["--config", str(campaign.config_path), *args])
    assert result.exit_code == 2, result.output
    assert "Did you mean instagram?" in result.output
    assert "Traceback" not in result.output


# --- The same mistake, the same exit code in every command ---------------------------------
#
#   mistake                              check render preview plan  other commands
#   a path given that does not exist       2     2      2      -      -
#   a bad option value                     2     2      2      2    2 (stats, publish …)
#   config.toml unusable / not there       2     2      2      2    2 (all that read it)
#   a post file with errors                1     1      1      1      -

#: The commands that never read config.toml.
CONFIG_FREE = {("init",), ("schema",), ("login",)}
CONFIG_COMMANDS = [path for path in COMMANDS if path and path not in CONFIG_FREE]


def _invocation(path: tuple[str, ...]) -> list[str]:
    """``campaign PATH`` with "x" for each required argument and option."""
    command = typer.main.get_command(app)
    for name in path:
        command = command.commands[name]  # type: ignore[attr-defined]
    args = list(path)
    for param in command.params:
        if param.required:
            args += ["x"] if param.param_type_name == "argument" else [param.opts[0], "x"]
    return args


def _run(campaign: Campaign | None, *args: str) -> Any:
    config = ["--config", str(campaign.config_path)] if campaign else []
    if campaign:
        campaign.config_path.write_text(campaign.config_text, encoding="utf-8")
    result = runner.invoke(app, [*config, *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result


@pytest.mark.parametrize("command", ["check", "render", "preview"])
def test_a_path_that_does_not_exist_is_exit_2(campaign: Campaign, command: str) -> None:
    campaign.post("2030-09-15-bra", GOOD_POST)
    result = _run(campaign, command, str(campaign.posts / "nope.yaml"))
    assert result.exit_code == 2, result.output
    assert "nope.yaml: no such file or folder." in result.output


@pytest.mark.parametrize("command", ["check", "render", "preview", "plan"])
def test_a_post_file_with_errors_is_exit_1(campaign: Campaign, command: str) -> None:
    campaign.post("2030-09-15-bra", GOOD_POST)
    campaign.post("2030-09-16-trasig", "publish_at: [\n", image=None)
    result = _run(campaign, command)
    assert result.exit_code == 1, result.output


@pytest.mark.parametrize(
    "args",
    [
        ["check", "--format", "xml"],
        ["render", "--jobs", "many"],
        ["preview", "--jobs", "many"],
        ["plan", "--all"],
        ["stats", "--channel", "tiktok"],
        ["publish", "2030-09-15-bra", "--channel", "tiktok"],
        ["run", "--log-format", "xml"],
    ],
)
def test_a_bad_option_is_exit_2(campaign: Campaign, args: list[str]) -> None:
    campaign.post("2030-09-15-bra", GOOD_POST)
    assert _run(campaign, *args).exit_code == 2


@pytest.mark.parametrize("path", CONFIG_COMMANDS, ids=" ".join)
def test_an_unusable_config_is_exit_2(campaign: Campaign, path: tuple[str, ...]) -> None:
    campaign.config_text += "\n[check\n"
    result = _run(campaign, *_invocation(path))
    assert result.exit_code == 2, result.output
    assert "config.toml" in result.output


@pytest.mark.parametrize("path", CONFIG_COMMANDS, ids=" ".join)
def test_no_config_toml_here_says_so_and_how_to_go_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: tuple[str, ...]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CAMPAIGN_CONFIG", raising=False)
    (tmp_path / "posts").mkdir()  # a posts folder is no campaign without its config.toml
    result = _run(None, *_invocation(path))
    assert result.exit_code == 2, result.output
    said = " ".join(result.output.split())
    assert f"No config.toml here ({tmp_path})." in said
    assert "pass --config FILE, or create one with `campaign init`." in said
    assert ":1:1" not in said  # no line of a file that does not exist


def test_a_missing_config_named_by_option_or_environment_is_said_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CAMPAIGN_CONFIG", str(tmp_path / "elsewhere.toml"))
    result = _run(None, "check")
    assert result.exit_code == 2
    assert "elsewhere.toml: no such file (named by $CAMPAIGN_CONFIG)" in result.output
    result = _run(None, "--config", "nope.toml", "plan")
    assert result.exit_code == 2
    assert "nope.toml: no such file (given with --config)" in result.output
    github = _run(None, "--config", "nope.toml", "check", "--format", "github")
    assert github.exit_code == 2
    assert github.output.startswith("::error title=campaign check::nope.toml: no such file")


# --- campaign new: the campaign's language, its accounts, and only its own image -----------


def _new_post(campaign: Campaign) -> tuple[str, list[dict[str, Any]]]:
    """`campaign new dag`, then what `campaign check` says about it."""
    assert _run(campaign, "new", "dag", "--at", "2030-09-15 09:00").exit_code == 0
    path = campaign.posts / "2030-09-15-dag.yaml"
    checked = _run(campaign, "check", "--format", "json", str(path))
    return path.read_text(encoding="utf-8"), json.loads(checked.stdout)["diagnostics"]


def test_new_writes_its_placeholders_in_the_campaigns_language(campaign: Campaign) -> None:
    campaign.config_text = campaign.config_text.replace(
        'posts = "posts"', 'posts = "posts"\nlanguage = "en"'
    )
    text, found = _new_post(campaign)
    assert "TODO: write the text of the post here." in text and "language: en" in text
    assert 'alt: "TODO: describe what the image shows, and the text on it."' in text
    assert "Skriv" not in text and "Beskriv" not in text
    # check finds them, so that the post cannot go out with them
    assert sorted(d["code"] for d in found) == ["image-missing", "placeholder", "placeholder"]


def test_new_names_the_accounts_when_config_toml_has_accounts_of_its_own(
    campaign: Campaign,
) -> None:
    campaign.config_text += (
        '\n[accounts.bibliotek-fb]\nplatform = "facebook"\ntoken_env = "CAMPAIGN_TOKEN_BIB"\n'
    )
    text, found = _new_post(campaign)
    assert "\naccounts: [facebook, instagram, bibliotek-fb]\n" in text
    assert "channels:" not in text
    assert {d["code"] for d in found} == {"image-missing", "placeholder"}
    plain, _ = _new_post_elsewhere(campaign)
    assert "\nchannels: [facebook, instagram]\n" in plain and "accounts:" not in plain


def _new_post_elsewhere(campaign: Campaign) -> tuple[str, list[dict[str, Any]]]:
    other = Campaign(campaign.root / "other")
    return _new_post(other)


def test_new_is_never_told_to_use_another_posts_image(campaign: Campaign) -> None:
    campaign.post("2030-09-14-annan", GOOD_POST, image="2030-09-14-annan.jpg")
    _, found = _new_post(campaign)
    [missing] = [d for d in found if d["code"] == "image-missing"]
    assert "2030-09-14-annan.jpg" not in missing["message"]
    assert "Check the spelling" in missing["message"]
    # a post's own image misspelt is still told the right name
    typo = GOOD_POST.replace("bild.jpg", "2030-09-14-anan.jpg")
    campaign.post("2030-09-14-annan", typo, image=None)
    checked = _run(campaign, "check", "--format", "json", str(campaign.posts))
    messages = [d["message"] for d in json.loads(checked.stdout)["diagnostics"]]
    assert any("Did you mean `2030-09-14-annan.jpg`?" in m for m in messages), messages


def test_a_misspelt_channel_in_a_post_is_told_what_was_meant_at_its_line(
    campaign: Campaign,
) -> None:
    post = GOOD_POST.replace("[facebook, instagram]", "[facebook, instagarm]")
    campaign.post("2030-09-15-bra", post)
    result = _run(campaign, "check")
    assert result.exit_code == 1
    assert (
        '2030-09-15-bra.yaml:2:22: error: `channels`, item 2 is "instagarm", but must be one '
        "of 'facebook' or 'instagram'. Did you mean `instagram`?"
    ) in result.output
