"""Building the channels: live only with settings and secret, else the outbox with a reason."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from campaign.config import Config
from scheduler.channels.factory import ChannelSetup, build_channels, session_file
from scheduler.channels.outbox import OutboxChannel
from tests.conftest import Campaign

TOKEN = "EAAcanaryTOKENvalue0123456789"


def config(campaign: Campaign, facebook: str = "", instagram: str = "") -> Config:
    return campaign.config(
        f"""
[publishing]
outbox = "{campaign.root / "utkorg"}"

[channels.facebook]
{facebook}

[channels.instagram]
session_file = "{campaign.root / "secret" / "instagram-session.json"}"
{instagram}
"""
    )


def assert_outbox(setup: ChannelSetup, campaign: Campaign, name: str) -> None:
    assert isinstance(setup.channel, OutboxChannel)
    assert setup.channel.kind == "outbox"
    assert setup.channel.name == name
    assert setup.channel.folder == campaign.root / "utkorg"
    assert setup.dry_run_reason


def test_empty_settings_make_every_channel_the_outbox(campaign: Campaign) -> None:
    setups = build_channels(config(campaign), environ={})
    assert list(setups) == ["facebook", "instagram"]
    for name, setup in setups.items():
        assert_outbox(setup, campaign, name)
    facebook, instagram = setups["facebook"], setups["instagram"]
    assert facebook.dry_run_reason == "[channels.facebook] page_id is empty in config.toml"
    assert instagram.dry_run_reason == "[channels.instagram] username is empty in config.toml"
    assert facebook.description == (
        "facebook: dry run to the outbox, because "
        "[channels.facebook] page_id is empty in config.toml"
    )
    assert instagram.description.startswith("instagram: dry run to the outbox, because ")


def test_a_page_id_without_its_token_names_the_variable(campaign: Campaign) -> None:
    settings = config(campaign, facebook='page_id = "1234567890"')
    for environ in ({}, {"CAMPAIGN_FACEBOOK_TOKEN": ""}, {"OTHER_TOKEN": TOKEN}):
        setup = build_channels(settings, environ=environ)["facebook"]
        assert_outbox(setup, campaign, "facebook")
        assert setup.dry_run_reason is not None
        assert "CAMPAIGN_FACEBOOK_TOKEN" in setup.dry_run_reason
        assert "not set" in setup.dry_run_reason
        assert TOKEN not in setup.description


def test_the_token_variable_named_in_config_is_the_one_read(campaign: Campaign) -> None:
    settings = config(campaign, facebook='page_id = "1234567890"\ntoken_env = "SIDANS_TOKEN"')
    setup = build_channels(settings, environ={"CAMPAIGN_FACEBOOK_TOKEN": TOKEN})["facebook"]
    assert_outbox(setup, campaign, "facebook")
    assert setup.dry_run_reason is not None
    assert "SIDANS_TOKEN" in setup.dry_run_reason
    assert TOKEN not in setup.dry_run_reason


def test_the_process_environment_is_the_default(
    campaign: Campaign, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CAMPAIGN_FACEBOOK_TOKEN", raising=False)
    settings = config(campaign, facebook='page_id = "1234567890"')
    setup = build_channels(settings)["facebook"]
    assert setup.dry_run_reason is not None
    assert "CAMPAIGN_FACEBOOK_TOKEN" in setup.dry_run_reason


def test_dry_run_makes_every_channel_the_outbox(campaign: Campaign) -> None:
    settings = config(campaign, facebook='page_id = "1234567890"', instagram='username = "kommun"')
    session = session_file(settings)
    session.parent.mkdir(parents=True)
    session.write_text("{}", encoding="utf-8")
    setups = build_channels(settings, dry_run=True, environ={"CAMPAIGN_FACEBOOK_TOKEN": TOKEN})
    assert list(setups) == ["facebook", "instagram"]
    for name, setup in setups.items():
        assert_outbox(setup, campaign, name)
        assert setup.dry_run_reason is not None and "--dry-run" in setup.dry_run_reason
        assert TOKEN not in setup.description


def test_instagram_without_a_session_says_to_log_in(campaign: Campaign) -> None:
    settings = config(campaign, instagram='username = "sodertaljekommun"')
    setup = build_channels(settings, environ={"CAMPAIGN_INSTAGRAM_PASSWORD": "hemligt123"})[
        "instagram"
    ]
    assert_outbox(setup, campaign, "instagram")
    assert setup.dry_run_reason is not None
    assert "campaign login instagram" in setup.dry_run_reason
    assert str(campaign.root / "secret" / "instagram-session.json") in setup.dry_run_reason
    assert "hemligt123" not in setup.description


def test_session_file_is_relative_to_the_config_file(campaign: Campaign) -> None:
    settings = campaign.config('\n[channels.instagram]\nsession_file = "hemligt/session.json"\n')
    assert session_file(settings) == campaign.root.resolve() / "hemligt" / "session.json"
    home = campaign.config('\n[channels.instagram]\nsession_file = "~/s.json"\n')
    assert session_file(home) == Path("~/s.json").expanduser().resolve()


@pytest.mark.parametrize(
    ("disabled", "left"), [("facebook", "instagram"), ("instagram", "facebook")]
)
def test_disabled_channels_are_absent(campaign: Campaign, disabled: str, left: str) -> None:
    settings = config(campaign, **{disabled: "enabled = false"})
    setups = build_channels(settings, environ={})
    assert list(setups) == [left]
    assert list(build_channels(settings, dry_run=True, environ={})) == [left]


def test_no_enabled_channel_means_no_setups(campaign: Campaign) -> None:
    settings = config(campaign, facebook="enabled = false", instagram="enabled = false")
    assert build_channels(settings, environ={"CAMPAIGN_FACEBOOK_TOKEN": TOKEN}) == {}


def test_outbox_channels_use_the_given_clock(campaign: Campaign) -> None:
    def clock() -> Any:
        raise AssertionError("not called on construction")

    setup = build_channels(config(campaign), environ={}, clock=clock)["facebook"]
    assert isinstance(setup.channel, OutboxChannel)
    assert setup.channel.clock is clock


def test_page_id_and_token_build_a_live_facebook_channel(
    campaign: Campaign, monkeypatch: pytest.MonkeyPatch
) -> None:
    facebook = pytest.importorskip("scheduler.channels.facebook")

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("building a channel must not touch the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    settings = config(campaign, facebook='page_id = "1234567890"')
    setups = build_channels(settings, environ={"CAMPAIGN_FACEBOOK_TOKEN": TOKEN})
    setup = setups["facebook"]
    assert isinstance(setup.channel, facebook.FacebookChannel)
    assert setup.channel.kind == "facebook"
    assert setup.channel.name == "facebook"
    assert setup.dry_run_reason is None
    assert setup.description == "facebook: live (facebook)"
    assert TOKEN not in setup.description
    assert isinstance(setups["instagram"].channel, OutboxChannel)  # no username


def test_username_and_session_file_build_a_live_instagram_channel(
    campaign: Campaign, monkeypatch: pytest.MonkeyPatch
) -> None:
    instagram = pytest.importorskip("scheduler.channels.instagram")

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("building a channel must not touch the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    settings = config(campaign, instagram='username = "sodertaljekommun"')
    session = session_file(settings)
    session.parent.mkdir(parents=True)
    session.write_text("{}", encoding="utf-8")
    password = "hemligt-lösenord-123"
    setup = build_channels(settings, environ={"CAMPAIGN_INSTAGRAM_PASSWORD": password})["instagram"]
    assert isinstance(setup.channel, instagram.InstagramChannel)
    assert setup.channel.kind == "instagram"
    assert setup.dry_run_reason is None
    assert setup.description == "instagram: live (instagram)"
    assert password not in repr(setup.channel)
