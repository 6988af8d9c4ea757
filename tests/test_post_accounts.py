"""Posts that name accounts: `accounts:`, `per_account:` overrides and their rules."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from campaign.config import load_config
from campaign.diagnostics import Diagnostic, Position
from campaign.post import Post
from campaign.post_loader import load_campaign
from scheduler.cli.app import app
from tests.conftest import NOW, Campaign

ACCOUNTS = """
[accounts.bibliotek-fb]
platform = "facebook"
display_name = "Södertälje stadsbibliotek"
token_env = "CAMPAIGN_TOKEN_BIBLIOTEK_FB"

[accounts.bibliotek-ig]
platform = "instagram"
token_env = "CAMPAIGN_TOKEN_BIBLIOTEK_IG"

[accounts.kultur-fb]
platform = "facebook"
token_env = "CAMPAIGN_TOKEN_KULTUR_FB"
enabled = false
"""

HEAD = """\
publish_at: 2030-09-15 09:00
status: ready
images:
  - file: bild.jpg
    alt: Tre personer framför en vallokal.
"""


def load(campaign: Campaign, *posts: tuple[str, str]) -> tuple[list[Post], list[Diagnostic]]:
    for name, text in posts:
        campaign.post(name, text)
    return campaign.load(ACCOUNTS)


def of(diagnostics: list[Diagnostic], code: str) -> list[Diagnostic]:
    return [d for d in diagnostics if d.code == code]


def at(path: Path, needle: str) -> Position:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return Position(number, line.index(needle) + 1)
    raise AssertionError(f"{needle!r} not in {path}")


def test_a_post_on_two_facebook_accounts_gets_each_its_own_text(campaign: Campaign) -> None:
    text = HEAD + (
        "accounts: [facebook, bibliotek-fb, instagram, bibliotek-ig]\n"
        "caption: Kom och rösta.\n"
        "facebook:\n  caption: På Facebook.\n  link: https://www.sodertalje.se/\n"
        "instagram:\n  first_comment: '#val2030'\n"
        "per_account:\n"
        "  bibliotek-fb:\n    caption: Biblioteket bjuder på fika.\n"
        "    link: https://bibliotek.sodertalje.se/\n"
        "  bibliotek-ig:\n    first_comment: '#bibliotek'\n"
    )
    [post], diagnostics = load(campaign, ("2030-09-15-valet", text))
    assert diagnostics == []
    assert post.accounts == ("facebook", "bibliotek-fb", "instagram", "bibliotek-ig")
    assert post.channels == ("facebook", "instagram")
    assert dict(post.account_platform) == {
        "facebook": "facebook",
        "bibliotek-fb": "facebook",
        "instagram": "instagram",
        "bibliotek-ig": "instagram",
    }
    # per_account > the platform's block > caption
    assert post.caption_for_account("facebook") == "På Facebook."
    assert post.caption_for_account("bibliotek-fb") == "Biblioteket bjuder på fika."
    assert post.caption_for_account("instagram") == "Kom och rösta."
    assert post.caption_for_account("bibliotek-ig") == "Kom och rösta."
    assert post.link_for("facebook") == "https://www.sodertalje.se/"
    assert post.link_for("bibliotek-fb") == "https://bibliotek.sodertalje.se/"
    assert post.link_for("instagram") is None
    assert post.first_comment_for("instagram") == "#val2030"
    assert post.first_comment_for("bibliotek-ig") == "#bibliotek"
    assert post.first_comment_for("bibliotek-fb") is None
    assert post.caption_for("facebook") == "På Facebook."  # the per-channel view is unchanged


def test_channels_mean_the_default_accounts_and_neither_means_every_enabled_one(
    campaign: Campaign,
) -> None:
    channels = HEAD + "channels: [instagram]\ncaption: Hej.\n"
    neither = HEAD.replace("09:00", "12:00") + "caption: Hej.\n"
    one, other = load(campaign, ("2030-09-15-kanal", channels), ("2030-09-15-inget", neither))[0]
    assert (one.accounts, one.channels) == (("instagram",), ("instagram",))
    assert (other.accounts, other.channels) == (("facebook", "instagram"),) * 2
    assert dict(other.account_platform) == {"facebook": "facebook", "instagram": "instagram"}


def test_accounts_and_channels_together_is_an_error_at_the_line(campaign: Campaign) -> None:
    text = HEAD + "channels: [facebook]\naccounts: [bibliotek-fb]\ncaption: Hej.\n"
    path = campaign.post("2030-09-15-bada", text)
    posts, diagnostics = campaign.load(ACCOUNTS)
    [error] = of(diagnostics, "accounts-and-channels")
    assert posts == [] and error.position == at(path, "accounts:")
    assert "not both" in error.message and "`accounts: [facebook, instagram]`" in error.message


def test_an_unknown_account_is_named_with_the_nearest_one(campaign: Campaign) -> None:
    text = HEAD + "accounts:\n  - facebook\n  - biblioteket-fb\ncaption: Hej.\n"
    path = campaign.post("2030-09-15-okand", text)
    posts, diagnostics = campaign.load(ACCOUNTS)
    [error] = of(diagnostics, "account-unknown")
    assert posts == [] and error.position == at(path, "biblioteket-fb")
    assert 'there is no account "biblioteket-fb" in config.toml' in error.message
    assert "Did you mean `bibliotek-fb`?" in error.message


def test_a_switched_off_account_is_an_error(campaign: Campaign) -> None:
    text = HEAD + "accounts: [facebook, kultur-fb]\ncaption: Hej.\n"
    campaign.post("2030-09-15-av", text)
    posts, diagnostics = campaign.load(ACCOUNTS)
    [error] = of(diagnostics, "account-disabled")
    assert posts == [] and error.position.line == 6
    assert "[accounts.kultur-fb] enabled = false" in error.message


def test_named_accounts_work_when_no_default_account_is_on(campaign: Campaign) -> None:
    off = "\n[channels.facebook]\nenabled = false\n[channels.instagram]\nenabled = false\n"
    campaign.post("2030-09-15-bara", HEAD + "accounts: [bibliotek-fb]\ncaption: Hej.\n")
    posts, diagnostics = campaign.load(ACCOUNTS + off)
    assert diagnostics == [] and posts[0].accounts == ("bibliotek-fb",)


def test_per_account_blocks_are_checked_for_their_platform(campaign: Campaign) -> None:
    text = HEAD + (
        "accounts: [facebook, bibliotek-ig]\ncaption: Hej.\n"
        "per_account:\n"
        "  bibliotek-ig:\n    link: https://bibliotek.sodertalje.se/\n"
        "  facebook:\n    first_comment: Hej.\n    link: bibliotek\n"
        "  bibliotek-fb:\n    caption: Oanvänd.\n"
        "  bibliotke-ig:\n    caption: Fel namn.\n"
    )
    path = campaign.post("2030-09-15-block", text)
    posts, diagnostics = campaign.load(ACCOUNTS)
    assert posts == []
    [link] = of(diagnostics, "account-link")
    assert link.position == at(path, "link: https://bib")
    assert "only for Facebook accounts" in link.message and "bibliotek-ig" in link.message
    [comment] = of(diagnostics, "account-first-comment")
    assert comment.position == at(path, "first_comment")
    assert "facebook is a Facebook account" in comment.message
    [bad_link] = of(diagnostics, "facebook-link")
    assert bad_link.position.line == at(path, "link: bibliotek").line
    [unused] = of(diagnostics, "unused-account-block")
    assert unused.severity == "warning" and unused.position == at(path, "bibliotek-fb:")
    [unknown] = of(diagnostics, "account-unknown")
    assert unknown.position == at(path, "bibliotke-ig:")
    assert "Did you mean `bibliotek-ig`?" in unknown.message


def test_a_mistyped_key_in_an_account_block_gets_a_suggestion(campaign: Campaign) -> None:
    text = HEAD + "accounts: [bibliotek-fb]\ncaption: Hej.\nper_account:\n"
    text += "  bibliotek-fb:\n    captoin: Hej.\n"
    path = campaign.post("2030-09-15-stav", text)
    _, diagnostics = campaign.load(ACCOUNTS)
    [error] = of(diagnostics, "unknown-key")
    assert error.position == at(path, "captoin")
    assert "Did you mean `caption`?" in error.message


def test_each_instagram_accounts_final_caption_is_held_to_instagrams_limits(
    campaign: Campaign,
) -> None:
    long = "Ord " * 600  # 2,400 characters: fine on Facebook, too long on Instagram
    text = HEAD + (
        f"accounts: [facebook, instagram, bibliotek-ig]\ncaption: {long}\n"
        "instagram:\n  caption: Kort nog.\n"
        f"per_account:\n  bibliotek-ig:\n    caption: {long}\n"
    )
    path = campaign.post("2030-09-15-lang", text)
    _, diagnostics = campaign.load(ACCOUNTS)
    [error] = of(diagnostics, "instagram-caption-length")
    assert error.position.line == at(path, "    caption: Ord").line


def test_a_missing_caption_names_the_account_and_where_its_own_goes(campaign: Campaign) -> None:
    text = HEAD + "accounts: [bibliotek-fb]\n"
    campaign.post("2030-09-15-tom", text)
    _, diagnostics = campaign.load(ACCOUNTS)
    [error] = of(diagnostics, "caption-missing")
    assert "there is no caption for bibliotek-fb" in error.message
    assert "`per_account:` → `bibliotek-fb:` → `caption:`" in error.message


def test_the_minimum_gap_is_per_account(campaign: Campaign) -> None:
    library = HEAD.replace("09:00", "09:10") + "accounts: [bibliotek-fb]\ncaption: Hej.\n"
    both = HEAD.replace("09:00", "09:20") + "accounts: [bibliotek-fb, instagram]\ncaption: Hej.\n"
    first = HEAD + "channels: [facebook]\ncaption: Hej.\n"
    _, diagnostics = load(
        campaign,
        ("2030-09-15-forst", first),
        ("2030-09-15-bibliotek", library),
        ("2030-09-15-bada", both),
    )
    [close] = of(diagnostics, "too-close")  # facebook 09:00 and bibliotek-fb 09:10 don't clash
    assert close.path.name == "2030-09-15-bada.yaml"
    assert "goes out on bibliotek-fb only 10 minutes after 2030-09-15-bibliotek.yaml" in (
        close.message
    )


def test_the_channel_gap_message_is_unchanged_for_default_accounts(campaign: Campaign) -> None:
    first = HEAD + "channels: [facebook]\ncaption: Hej.\n"
    second = HEAD.replace("09:00", "09:05") + "accounts: [facebook]\ncaption: Hej.\n"
    _, diagnostics = load(campaign, ("2030-09-15-ett", first), ("2030-09-15-tva", second))
    [close] = of(diagnostics, "too-close")
    assert close.message.startswith("this post goes out on facebook only 5 minutes after ")


def test_a_channel_block_without_an_account_of_its_platform_is_unused(campaign: Campaign) -> None:
    text = HEAD + "accounts: [bibliotek-fb]\ncaption: Hej.\ninstagram:\n  caption: Hej.\n"
    campaign.post("2030-09-15-block", text)
    _, diagnostics = campaign.load(ACCOUNTS)
    [unused] = of(diagnostics, "unused-channel-block")
    assert "Add a Instagram account to `accounts`" not in unused.message
    assert "Add an Instagram account to `accounts`" in unused.message


def test_check_on_the_command_line_reports_an_unknown_account(campaign: Campaign) -> None:
    campaign.config_text += ACCOUNTS
    campaign.config()
    campaign.post("2030-09-15-cli", HEAD + "accounts: [bibliotek_fb]\ncaption: Hej.\n")
    result = CliRunner().invoke(
        app, ["--config", str(campaign.config_path), "check", "--format", "json"]
    )
    assert result.exit_code == 1
    [item] = json.loads(result.stdout)["diagnostics"]
    assert item["code"] == "account-unknown" and item["line"] == 6
    assert "Did you mean `bibliotek-fb`?" in item["message"]


def test_the_sample_campaign_has_a_post_for_the_municipality_and_the_library() -> None:
    root = Path(__file__).parent.parent
    config = load_config(root / "config.toml")
    result = load_campaign(config, now=NOW)
    assert result.errors == []
    assert {d.code for d in result.warnings} == {"in-the-past"}
    [post] = [p for p in result.posts if p.id == "2021-09-23-bibliotek-demokrati"]
    assert post.accounts == ("facebook", "bibliotek-fb") and post.channels == ("facebook",)
    assert post.caption_for_account("facebook") != post.caption_for_account("bibliotek-fb")
    assert post.caption_for_account("bibliotek-fb").startswith("Välkommen till vår utställning")
    assert (
        post.link_for("bibliotek-fb") == post.link_for("facebook") == "https://www.sodertalje.se/"
    )
