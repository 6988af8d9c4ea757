"""A post on several accounts in `campaign preview` and `campaign plan`: one mock-up and one
plan row per account, each with the account's own text; nothing changes without accounts."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from PIL import Image
from rich.console import Console
from typer.testing import CliRunner

from campaign.post_loader import load_campaign
from campaign.preview import build_preview
from scheduler.cli.app import app
from scheduler.cli.plan_view import plan_table
from tests.conftest import GOOD_POST, NOW, Campaign
from tests.test_preview import Node, caption_text, parse

ACCOUNTS = """
[accounts.bibliotek-fb]
platform = "facebook"
display_name = "Södertälje stadsbibliotek"
token_env = "CAMPAIGN_TOKEN_BIBLIOTEK_FB"

[accounts.bibliotek-ig]
platform = "instagram"
display_name = "biblioteket_sodertalje"
token_env = "CAMPAIGN_TOKEN_BIBLIOTEK_IG"

[accounts.kultur-fb]
platform = "facebook"
token_env = "CAMPAIGN_TOKEN_KULTUR_FB"
enabled = false
"""

SHARED = """\
publish_at: 2030-09-17 10:00
accounts: [facebook, bibliotek-fb, bibliotek-ig]
status: ready
caption: Kom till demokratidagen i stadshuset.
facebook:
  link: https://www.sodertalje.se/demokrati
per_account:
  bibliotek-fb:
    caption: Biblioteket bjuder på fika efter demokratidagen.
    link: https://bibliotek.sodertalje.se/
  bibliotek-ig:
    first_comment: "#bibliotek #demokrati100"
images:
  - file: bild.jpg
    alt: Tre personer framför en vallokal.
"""


@pytest.fixture
def accounts_campaign(campaign: Campaign) -> Campaign:
    Image.new("RGBA", (64, 64), (27, 54, 93, 255)).save(campaign.root / "logo.png")
    campaign.config_text += '\n[brand]\nlogo = "logo.png"\n\n[render]\nwidth = 320\n'
    campaign.post("2030-09-15-bra", GOOD_POST)
    return campaign


def preview(campaign: Campaign, extra_config: str = "") -> tuple[str, Node]:
    result = build_preview(campaign.config(extra_config), None, now=NOW, workers=1)
    assert result.ok, result.diagnostics
    html = result.index.read_text(encoding="utf-8")
    return html, parse(html)


def mocks(page: Node, post_id: str) -> dict[str, Node]:
    """The post's mock-ups by account (the id of each one's heading)."""
    article = page.find("article", id=post_id)
    found = {}
    for section in article.by_class("mock"):
        heading = section.find("h4")
        found[heading.attrs["id"].removeprefix(f"{post_id}-")] = section
    return found


def test_a_post_is_shown_on_each_of_its_accounts_with_their_own_text(
    accounts_campaign: Campaign,
) -> None:
    accounts_campaign.post("2030-09-17-delad", SHARED)
    _, page = preview(accounts_campaign, ACCOUNTS)
    shown = mocks(page, "2030-09-17-delad")
    assert list(shown) == ["facebook", "bibliotek-fb", "bibliotek-ig"]
    kommun, bibliotek, instagram = shown.values()
    assert (
        "mock-facebook" in bibliotek.attrs["class"] and "mock-instagram" in instagram.attrs["class"]
    )
    assert kommun.find("h4").words == "Facebook"
    assert bibliotek.find("h4").words == "Södertälje stadsbibliotek (Facebook)"
    assert instagram.find("h4").words == "biblioteket_sodertalje (Instagram)"
    assert kommun.by_class("fb-page")[0].words == "Test campaign"
    assert bibliotek.by_class("fb-page")[0].words == "Södertälje stadsbibliotek"
    assert instagram.by_class("ig-user")[0].words == "biblioteket_sodertalje"
    assert caption_text(kommun.by_class("fb-caption")[0]) == (
        "Kom till demokratidagen i stadshuset."
    )
    assert caption_text(bibliotek.by_class("fb-caption")[0]) == (
        "Biblioteket bjuder på fika efter demokratidagen."
    )
    assert kommun.find("a", class_="fb-link").attrs["href"] == (
        "https://www.sodertalje.se/demokrati"
    )
    assert bibliotek.find("a", class_="fb-link").attrs["href"] == (
        "https://bibliotek.sodertalje.se/"
    )
    assert "#bibliotek #demokrati100" in instagram.by_class("ig-comment")[0].words
    # both Facebook accounts show the one Facebook rendition; Instagram its own
    kommun_img, bibliotek_img = (m.find("img").attrs["src"] for m in (kommun, bibliotek))
    assert kommun_img == bibliotek_img != instagram.find("img").attrs["src"]


def test_the_summary_and_calendar_count_and_name_each_account(
    accounts_campaign: Campaign,
) -> None:
    accounts_campaign.post("2030-09-17-delad", SHARED)
    _, page = preview(accounts_campaign, ACCOUNTS)
    summary = page.by_class("summary")[0].words
    assert "Facebook 2 · Instagram 1 · Södertälje stadsbibliotek (Facebook) 1" in summary
    assert "biblioteket_sodertalje (Instagram) 1" in summary
    assert "kultur-fb" not in summary  # switched off and unused
    entry = page.find("td", data_date="2030-09-17")
    hidden = [n.words for n in entry.by_class("visually-hidden")]
    assert "Södertälje stadsbibliotek (Facebook)" in hidden
    facts = page.find("article", id="2030-09-17-delad").by_class("facts")[0].words
    assert (
        "Facebook, Södertälje stadsbibliotek (Facebook), biblioteket_sodertalje (Instagram)"
        in facts
    )


def test_without_named_accounts_in_use_the_page_is_byte_for_byte_the_same(
    accounts_campaign: Campaign,
) -> None:
    before, _ = preview(accounts_campaign)
    unused = (
        '\n[accounts.kultur-fb]\nplatform = "facebook"\ntoken_env = "X_TOKEN"\nenabled = false\n'
    )
    after, _ = preview(accounts_campaign, unused)
    assert after == before
    assert ">Facebook</h4>" in before and "-facebook" in before


def plan_text(campaign: Campaign, *args: str) -> str:
    result = CliRunner().invoke(app, ["--config", str(campaign.config_path), "plan", *args])
    assert result.exit_code == 0, result.output
    return result.output


def cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.split("│")[1:-1]]


def test_the_plan_has_a_row_and_an_account_column_per_account(campaign: Campaign) -> None:
    campaign.post("2030-09-15-bra", GOOD_POST)
    campaign.post("2030-09-17-delad", SHARED)
    campaign.config(ACCOUNTS)
    output = plan_text(campaign)
    header = next(line for line in output.splitlines() if "when" in line and "post" in line)
    assert cells(header.replace("┃", "│")) == [
        "when",
        "post",
        "channel",
        "account",
        "state",
        "lang",
        "text",
    ]
    rows = [cells(line) for line in output.splitlines() if "2030-09-17-delad" in line]
    assert [row[2:5] for row in rows] == [
        ["facebook", "facebook", "scheduled"],
        ["facebook", "bibliotek-fb", "scheduled"],
        ["instagram", "bibliotek-ig", "scheduled"],
    ]
    assert rows[0][-1].startswith("Kom till demokratidagen")
    assert rows[1][-1].startswith("Biblioteket bjuder på fika")
    old = [cells(line) for line in output.splitlines() if "2030-09-15-bra" in line]
    assert [row[2:4] for row in old] == [["facebook", "facebook"], ["instagram", "instagram"]]


def test_a_plan_without_named_accounts_keeps_its_columns(campaign: Campaign) -> None:
    campaign.post("2030-09-15-bra", GOOD_POST)
    campaign.config(ACCOUNTS)  # accounts in config.toml, but no post uses one
    output = plan_text(campaign)
    header = next(line for line in output.splitlines() if "when" in line and "post" in line)
    assert cells(header.replace("┃", "│")) == ["when", "post", "channel", "state", "lang", "text"]


def test_the_plan_states_and_dry_run_lines_are_per_account(campaign: Campaign) -> None:
    campaign.post("2030-09-17-delad", SHARED)
    config = campaign.config(ACCOUNTS)
    posts = load_campaign(config, now=NOW).posts
    states = {("2030-09-17-delad", "bibliotek-fb"): "published"}
    modes = {
        "facebook": ("Graph API", "no Page id"),
        "bibliotek-fb": ("Graph API", "no token"),
    }
    buffer = io.StringIO()
    table = plan_table(posts, datetime(2030, 1, 1, tzinfo=UTC), "Plan", states, modes)
    Console(file=buffer, width=250, color_system=None).print(table)
    rows = [cells(line) for line in buffer.getvalue().splitlines() if "delad" in line]
    assert [row[3:5] for row in rows] == [
        ["facebook", "scheduled"],
        ["bibliotek-fb", "published"],
        ["bibliotek-ig", "scheduled"],
    ]
    buffer = io.StringIO()
    table = plan_table(posts, NOW, "Plan", states, modes, config.accounts)
    Console(file=buffer, width=250, color_system=None).print(table)
    lines = buffer.getvalue().splitlines()
    assert any(line.startswith("facebook: Graph API; dry run") for line in lines)
    assert any(
        line.startswith("bibliotek-fb (Södertälje stadsbibliotek): Graph API; dry run")
        for line in lines
    )
