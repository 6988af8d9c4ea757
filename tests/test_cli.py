"""The `campaign` command through typer's runner: exit codes, formats, no tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scheduler.cli.app import app
from tests.conftest import GOOD_POST, Campaign

runner = CliRunner()


def run(campaign: Campaign, *args: str):
    campaign.config_path.write_text(campaign.config_text, encoding="utf-8")
    result = runner.invoke(app, ["--config", str(campaign.config_path), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def test_check_clean_campaign_exits_0(campaign: Campaign) -> None:
    campaign.post("2030-09-15-bra", GOOD_POST)
    result = run(campaign, "check")
    assert result.exit_code == 0
    assert "1 post file: 0 errors, 0 warnings" in result.output


def test_check_with_errors_exits_1_and_prints_file_line_col(campaign: Campaign) -> None:
    campaign.post("2030-09-15-bra", GOOD_POST.replace("status: ready", "status: klar"))
    result = run(campaign, "check")
    assert result.exit_code == 1
    assert "2030-09-15-bra.yaml:3:9: error:" in result.output
    assert "Traceback" not in result.output


def test_warnings_fail_only_with_strict(campaign: Campaign) -> None:
    campaign.post("2020-09-15-gammal", GOOD_POST.replace("2030", "2020"))
    assert run(campaign, "check").exit_code == 0
    strict = run(campaign, "check", "--strict")
    assert strict.exit_code == 1
    assert "warning:" in strict.output and "in the past" in strict.output


def test_check_json_format(campaign: Campaign) -> None:
    campaign.post("2030-09-15-bra", GOOD_POST + "tagz: [x]\n")
    result = run(campaign, "check", "--format", "json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["errors"] == 1 and document["files"] == 1
    [item] = document["diagnostics"]
    assert item["line"] == 10 and item["code"] == "unknown-key"
    assert item["path"].endswith("2030-09-15-bra.yaml")


def test_check_github_format_escapes_annotations(campaign: Campaign) -> None:
    campaign.post("2030-09-15-bra", GOOD_POST + "tagz: [x]\n")
    result = run(campaign, "check", "--format", "github")
    assert result.exit_code == 1
    [annotation] = [line for line in result.output.splitlines() if line.startswith("::error")]
    assert annotation.startswith("::error file=")
    assert ",line=10,col=1,title=campaign check%3A unknown-key::unknown key `tagz`." in annotation


def test_check_named_file_and_missing_path(campaign: Campaign) -> None:
    path = campaign.post("2030-09-15-bra", GOOD_POST)
    assert run(campaign, "check", str(path)).exit_code == 0
    missing = run(campaign, "check", str(campaign.posts / "nope.yaml"))
    assert missing.exit_code == 2
    assert "no such file or folder" in missing.output


def test_bad_config_exits_2_with_key_and_line(campaign: Campaign) -> None:
    campaign.config_text += "\n[check]\nmax_lx = 3\n"
    result = run(campaign, "check")
    assert result.exit_code == 2
    assert "config.toml:7:1" in result.output and "Did you mean `max_lix`?" in result.output


def test_unknown_option_is_a_usage_error(campaign: Campaign) -> None:
    assert run(campaign, "check", "--formt", "json").exit_code == 2


def test_new_creates_a_commented_draft_that_check_explains(campaign: Campaign) -> None:
    result = run(campaign, "new", "demokratidagen", "--at", "2030-09-15 09:00")
    assert result.exit_code == 0, result.output
    path = campaign.posts / "2030-09-15-demokratidagen.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=../docs/post.schema.json\n")
    assert "publish_at: 2030-09-15 09:00" in text and "status: draft" in text
    checked = run(campaign, "check", "--format", "json")
    found = {d["code"] for d in json.loads(checked.stdout)["diagnostics"]}
    assert found == {"image-missing", "placeholder"}  # the two things left to do


def test_new_scaffold_passes_once_filled_in(campaign: Campaign) -> None:
    run(campaign, "new", "dag", "--at", "2030-09-15 09:00")
    path = campaign.posts / "2030-09-15-dag.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("Skriv inläggets text här.", "Idag firar vi demokratin tillsammans.")
    alt = "Beskriv vad bilden visar, och texten på den."
    text = text.replace(alt, "En röd valurna på ett bord.")
    path.write_text(text, encoding="utf-8")
    campaign.post("unused", "status: draft\n", image="2030-09-15-dag.jpg")
    (campaign.posts / "unused.yaml").unlink()
    assert run(campaign, "check", str(path)).exit_code == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Demokrati Dag", "--at", "2030-09-15 09:00"], "cannot be used in a file name"),
        (["dag", "--at", "2027-03-28 02:30"], "does not exist"),
        (["dag", "--at", "imorgon"], "2021-09-15 09:00"),
    ],
)
def test_new_refuses_bad_input_with_exit_2(
    campaign: Campaign, args: list[str], message: str
) -> None:
    result = run(campaign, "new", *args)
    assert result.exit_code == 2
    assert message in result.output


def test_new_never_overwrites(campaign: Campaign) -> None:
    run(campaign, "new", "dag", "--at", "2030-09-15 09:00")
    again = run(campaign, "new", "dag", "--at", "2030-09-15 10:00")
    assert again.exit_code == 2 and "already exists" in again.output


def test_plan_lists_each_publication_in_local_time(campaign: Campaign) -> None:
    campaign.post("2030-09-15-bra", GOOD_POST)
    campaign.post(
        "2030-09-14-utkast",
        GOOD_POST.replace("2030-09-15 09:00", "2030-09-14 18:30")
        .replace("ready", "draft")
        .replace("[facebook, instagram]", "[facebook]"),
    )
    result = run(campaign, "plan")
    assert result.exit_code == 0
    lines = [line for line in result.output.splitlines() if "2030-09-1" in line]
    assert len(lines) == 3  # draft on facebook, then the ready post on two channels
    assert "Sat 2030-09-14 18:30" in lines[0] and "draft" in lines[0]
    assert "Sun 2030-09-15 09:00" in lines[1] and "scheduled" in lines[1]
    no_drafts = run(campaign, "plan", "--no-drafts")
    assert "utkast" not in no_drafts.output


def test_plan_reports_broken_files(campaign: Campaign) -> None:
    campaign.post("2030-09-15-bra", GOOD_POST)
    campaign.post("2030-09-16-trasig", "publish_at: [\n", image=None)
    result = run(campaign, "plan")
    assert result.exit_code == 1
    assert "1 post file(s) have errors" in result.output


def test_schema_command_matches_committed_schema(tmp_path: Path) -> None:
    committed = Path(__file__).parent.parent / "docs" / "post.schema.json"
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == json.loads(committed.read_text(encoding="utf-8")), (
        "docs/post.schema.json is out of date: run `campaign schema -o docs/post.schema.json`"
    )
    target = tmp_path / "s.json"
    assert runner.invoke(app, ["schema", "-o", str(target)]).exit_code == 0
    assert target.read_text(encoding="utf-8") == committed.read_text(encoding="utf-8")
