"""`campaign check` groups repeated findings of one kind, so that errors are never drowned:
one text line with a count for a warning found in many posts (--verbose lists them all),
and at most 10 error and 10 warning annotations for GitHub, with every finding in the log."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner, Result

from campaign.diagnostics import Diagnostic, Position, Severity
from campaign.finding_groups import ShownPaths
from scheduler.cli.app import app
from scheduler.cli.check_output import as_github, print_text
from tests.conftest import GOOD_POST, Campaign

runner = CliRunner()

# Every workflow command this tool means to write; anything else starting with `::` is
# an injection. GitHub's runner reads a command after leading white space, too.
OUR_COMMAND = re.compile(
    r"::(error|warning) file=[^,:]+,line=\d+,col=\d+,title=[^:]+::\S.*"
    r"|::group::All findings \(\d+\)|::endgroup::"
)
RAW_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200b]")


@pytest.fixture(autouse=True)
def in_campaign(campaign: Campaign, monkeypatch: pytest.MonkeyPatch) -> None:
    """Paths are shown relative to the working folder, as in a team's repository."""
    monkeypatch.chdir(campaign.root)


def run(campaign: Campaign, *args: str) -> Result:
    campaign.config_path.write_text(campaign.config_text, encoding="utf-8")
    result = runner.invoke(app, ["--config", str(campaign.config_path), "check", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def past_post(campaign: Campaign, day: int, extra: str = "", name: str | None = None) -> Path:
    """A post published on September ``day``, 2020: in the past, and nothing else wrong."""
    when = f"2020-09-{day:02d}"
    text = GOOD_POST.replace("2030-09-15", when) + extra
    return campaign.post(name or f"{when}-post", text)


def findings(result: Result) -> list[str]:
    return [
        line for line in result.output.splitlines() if ": warning: " in line or ": error: " in line
    ]


def annotations(result: Result, severity: str) -> list[str]:
    return [line for line in result.output.splitlines() if line.startswith(f"::{severity} ")]


def logged(output: str) -> list[str]:
    """The lines inside the ::group:: of GitHub output."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("::group::"))
    return lines[start + 1 : lines.index("::endgroup::")]


def assert_only_our_commands(output: str) -> None:
    """No name or message in ``output`` can start a workflow command or a terminal's."""
    assert RAW_UNSAFE.search(output) is None
    for line in output.splitlines():
        if line.lstrip().startswith("::"):
            assert OUR_COMMAND.fullmatch(line), line
        else:  # the runner reads a legacy `##[command]` anywhere in any other line
            assert "##[" not in line, line


def json_document(campaign: Campaign) -> dict:
    return json.loads(run(campaign, "--format", "json").stdout)


def test_22_posts_in_the_past_are_one_line_with_a_count_and_the_first_message(
    campaign: Campaign,
) -> None:
    for day in range(1, 23):
        past_post(campaign, day)
    document = json_document(campaign)
    assert {d["code"] for d in document["diagnostics"]} == {"in-the-past"}
    first = document["diagnostics"][0]

    grouped = run(campaign)

    assert grouped.exit_code == 0
    [line, summary] = grouped.output.splitlines()
    assert line.startswith("warning: 22 × in the past, first in ")
    assert f"{first['path']}:{first['line']}:{first['column']}: {first['message']}" in line
    assert "21 more like this: add --verbose to list them all" in line
    assert summary == "✓ 22 post files: 0 errors, 22 warnings. All good."

    every = run(campaign, "--verbose")
    assert len(findings(every)) == 22
    assert all("in the past" in line for line in findings(every))
    assert every.output.splitlines()[-1] == summary
    assert run(campaign, "-v", "--strict").output.splitlines()[-1] == (
        "✗ 22 post files: 0 errors, 22 warnings. Fix the errors and warnings above, then "
        "check again."
    )


def test_a_kind_found_in_three_files_is_still_listed_one_by_one(campaign: Campaign) -> None:
    for day in range(1, 8):  # seven in the past, three of them also misnamed
        name = f"2020-08-{day:02d}-post" if day <= 3 else None
        past_post(campaign, day, name=name)

    result = run(campaign)

    lines = result.output.splitlines()
    assert len([line for line in lines if ": warning: the file name says" in line]) == 3
    [folded] = [line for line in lines if "×" in line]
    assert folded.startswith("warning: 7 × in the past, first in posts/2020-08-01-post.yaml:1:13")
    assert len(lines) == 1 + 3 + 1
    assert lines[-1] == "✓ 7 post files: 0 errors, 10 warnings. All good."


def test_an_error_among_30_warnings_has_its_own_line_and_annotation(campaign: Campaign) -> None:
    for day in range(1, 31):
        past_post(campaign, day)
    campaign.post("2030-09-15-fel", GOOD_POST + "tagz: [x]\n")

    text = run(campaign)
    github = run(campaign, "--format", "github")

    assert text.exit_code == github.exit_code == 1
    [error] = [line for line in text.output.splitlines() if ": error: " in line]
    assert error.endswith(
        "posts/2030-09-15-fel.yaml:10:1: error: unknown key `tagz`. Did you mean `tags`?"
    )
    assert len(text.output.splitlines()) == 3  # the error, 30 × in the past, the summary
    assert "31 post files: 1 error, 30 warnings" in text.output

    [annotation] = annotations(github, "error")
    assert (
        "posts/2030-09-15-fel.yaml,line=10,col=1,title=campaign check%3A unknown-key::"
        in annotation
    )
    [warning] = annotations(github, "warning")
    assert "::30 × in the past, here and in 29 more places: " in warning
    assert len(logged(github.output)) == 31


def test_github_shows_at_most_10_errors_and_the_last_counts_the_rest(campaign: Campaign) -> None:
    for day in range(1, 26):
        campaign.post(f"2030-09-{day:02d}-post", GOOD_POST.replace("15", f"{day:02d}") + "x: 1\n")
        past_post(campaign, day)
    document = json_document(campaign)
    assert (document["errors"], document["warnings"]) == (25, 25)

    result = run(campaign, "--format", "github")

    errors = annotations(result, "error")
    assert len(errors) == 10
    assert all("unknown key `x`" in line for line in errors)
    counted = "title=campaign check%3A 16 more errors::16 more errors: GitHub shows only 10"
    assert counted in errors[-1]
    assert errors[-1].startswith("::error file=posts/2030-09-10-post.yaml,line=10,")  # 10th
    assert len(annotations(result, "warning")) == 1
    expected = [
        f"{d['path']}:{d['line']}:{d['column']}: {d['severity']}: {d['message']}"
        for d in document["diagnostics"]
    ]
    assert logged(result.output) == expected
    assert "::group::All findings (50)" in result.output
    assert result.output.splitlines()[-1].startswith("✗ 50 post files: 25 errors, 25 warnings.")


def test_github_shows_at_most_10_kinds_of_warnings() -> None:
    diagnostics = [
        Diagnostic(
            Path(f"posts/p{i}.yaml"), Position(i, 1), Severity.WARNING, f"kind-{i % 12}", "m"
        )
        for i in range(1, 40)
    ]

    lines = as_github(diagnostics).splitlines()

    warnings = [line for line in lines if line.startswith("::warning ")]
    assert len(warnings) == 10
    assert all("m Also at: " in line for line in warnings[:-1])  # 3 or 4 of each kind
    counted = "title=campaign check%3A 9 more warnings::9 more warnings of 3 kinds (kind 10, "
    assert counted in warnings[-1]
    assert sum(1 for line in lines if line.startswith("posts/")) == 39


HOSTILE_KEY = '"x\\n::error::pwned 100%0A \\e[2J ##[stop-commands]tok ##[error]boo": 1\n'
HOSTILE_NAMES = ["::error::pwned", "\u3000::warning::spaced", "##[error]named", "a\n::error::b%0A"]


@pytest.mark.parametrize(
    "extra",
    [[], ["--verbose"], ["--format", "github"], ["--format", "github", "--verbose"]],
    ids=["text", "text-verbose", "github", "github-verbose"],
)
def test_no_file_name_or_message_starts_a_workflow_command(
    campaign: Campaign, monkeypatch: pytest.MonkeyPatch, extra: list[str]
) -> None:
    for day in range(1, 6):
        past_post(campaign, day, extra=HOSTILE_KEY)
    for name in HOSTILE_NAMES:
        past_post(campaign, 9, extra=HOSTILE_KEY, name=name)
    monkeypatch.chdir(campaign.posts)  # the names then start the lines: `::error::pwned.yaml:…`

    result = run(campaign, *extra)

    assert result.exit_code == 1
    assert_only_our_commands(result.output)
    assert "#\\x23[stop-commands]tok" in result.output  # shown, harmlessly
    assert "./\u3000::warning::spaced.yaml" in result.output


def test_grouped_and_counted_annotations_show_names_and_messages_harmlessly() -> None:
    hostile = "100% \n::error::pwned\r\x1b[2J ##[stop-commands]tok"
    diagnostics = [
        Diagnostic(
            Path(f"posts/{i}\n::error::{i}##[x].yaml"), Position(1, 1), severity, code, hostile
        )
        for i in range(30)
        for severity, code in ((Severity.ERROR, "e"), (Severity.WARNING, f"w-{i % 11}"))
    ]

    output = as_github(diagnostics)

    assert_only_our_commands(output)
    lines = output.splitlines()
    assert sum(line.startswith("::error ") for line in lines) == 10
    assert sum(line.startswith("::warning ") for line in lines) == 10
    assert "100%25 \\x0a::error::pwned\\x0d\\x1b[2J" in output  # in annotations, escaped
    assert "Also at: 11\\x0a::error::11##[x].yaml:1, " in output
    assert "::group::All findings (60)" in lines and len(logged(output)) == 60


def test_text_on_a_colour_terminal_is_each_finding_on_its_line_with_its_severity_in_colour(
    campaign: Campaign,
) -> None:
    # print_text hands the console its pieces as they are (no Text is wrapped, cropped or
    # re-read): what a terminal gets, escape codes included, is pinned here.
    posts = campaign.root / "posts"
    first, second = posts / "2030-09-15-a.yaml", posts / "2030-09-16-b.yaml"
    diagnostics = [
        Diagnostic(first, Position(3, 5), Severity.ERROR, "placeholder", "fix [bold]this[/]"),
        *(
            Diagnostic(posts / f"2030-09-1{n}-c.yaml", Position(1, 1), Severity.WARNING, "x-y", "m")
            for n in range(5)
        ),
        Diagnostic(second, Position(7, 1), Severity.WARNING, "alt-too-short", "short"),
    ]
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, color_system="standard", width=20)

    print_text(console, diagnostics, 7, strict=False)

    red, yellow, bold, reset = "\x1b[1;31m", "\x1b[1;33m", "\x1b[1m", "\x1b[0m"
    assert screen.getvalue() == (
        f"posts/2030-09-15-a.yaml:3:5: {red}error{reset}: fix [bold]this[/]\n"
        f"{yellow}warning{reset}: {bold}5 × x y{reset}, first in posts/2030-09-10-c.yaml:1:1: "
        "m (4 more like this: add --verbose to list them all.)\n"
        f"posts/2030-09-16-b.yaml:7:1: {yellow}warning{reset}: short\n"
        "✗ 7 post files: 1 error, 6 warnings. Fix the errors above, then check again.\n"
    )


def test_each_file_is_shown_relative_to_the_working_folder_its_folder_resolved(
    campaign: Campaign,
) -> None:
    # Folders are resolved once for all their files: each file keeps its own name.
    (campaign.root / "real").mkdir()
    (campaign.root / "linked").symlink_to(campaign.root / "real")
    paths = ShownPaths()

    shown = [paths(campaign.root / "linked" / name) for name in ("a.yaml", "b.yaml")]

    assert shown == ["real/a.yaml", "real/b.yaml"]
    assert paths(Path("/nowhere/at/all/c.yaml")) == "/nowhere/at/all/c.yaml"
    assert paths(campaign.root / "posts" / "d.yaml") == "posts/d.yaml"
