"""File names (the post's id) and channels switched off in config.toml."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from campaign.diagnostics import Position, Severity
from campaign.rules.naming import _local_date
from campaign.timeparse import parse_publish_time

PUBLISH_AT = Position(1, len("publish_at: ") + 1)


def post(when: str = "2030-09-15 09:00", channels: str | None = "[facebook, instagram]") -> str:
    lines = [f"publish_at: {when}"]
    if channels is not None:
        lines.append(f"channels: {channels}")
    lines += [
        "status: ready",
        "caption: Kom och rösta på söndag.",
        "images:",
        "  - file: bild.jpg",
        "    alt: Tre personer framför en vallokal.",
    ]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    "name", ["Demokrati Dag", "2030-09-15-demokratidagen-på-torget", "-2030-09-15-x", "val.2030"]
)
def test_unsafe_file_name_is_an_error(campaign, name) -> None:
    campaign.post(name, post())
    posts, diagnostics = campaign.load()
    [error] = diagnostics
    assert (error.code, error.severity) == ("file-name", Severity.ERROR)
    assert error.position == Position(1, 1)
    assert f'the file name "{name}.yaml" has characters that cause trouble' in error.message
    assert "Use only a–z, 0–9 and '-' (write å, ä, ö as a, a, o)" in error.message
    assert posts == []


@pytest.mark.parametrize("name", ["demokratidagen", "valet_2030", "15-09-2030-val"])
def test_undated_file_name_is_a_warning(campaign, name) -> None:
    campaign.post(name, post())
    posts, diagnostics = campaign.load()
    [warning] = diagnostics
    assert (warning.code, warning.severity) == ("file-name", Severity.WARNING)
    assert warning.position == Position(1, 1)
    assert f"name the file after its date and topic, like 2021-09-15-{name}.yaml" in (
        warning.message
    )
    assert [p.id for p in posts] == [name]


@pytest.mark.parametrize(
    ("name", "warned"),
    [
        ("2030-09-14-demokratidagen", True),
        ("2030-09-16-demokratidagen", True),
        ("2030-15-09-demokratidagen", True),
        ("2030-09-15-demokratidagen", False),
        ("2030-09-15-Demokrati_Dag-2", False),
    ],
)
def test_date_in_file_name_must_be_the_publishing_date(campaign, codes, name, warned) -> None:
    campaign.post(name, post("2030-09-15 09:00"))
    posts, diagnostics = campaign.load()
    assert [p.id for p in posts] == [name]
    if not warned:
        assert codes(diagnostics) == []
        return
    [warning] = diagnostics
    assert (warning.code, warning.severity) == ("file-name-date", Severity.WARNING)
    assert warning.position == PUBLISH_AT
    assert (
        f"the file name says {name[:10]} but `publish_at` is 2030-09-15 09:00 CEST"
        in warning.message
    )
    assert "Rename the file or correct the time" in warning.message


@pytest.mark.parametrize(
    ("name", "when", "local"),
    [
        # summer (CEST, UTC+2): the local date is the one that counts
        ("2030-09-15-x", "2030-09-15T09:00+00:00", None),
        ("2030-09-15-x", "2030-09-15T22:30+00:00", "2030-09-16 00:30 CEST"),
        ("2030-09-16-x", "2030-09-15T22:30+00:00", None),
        ("2030-09-16-x", "2030-09-15T23:30Z", None),
        # winter (CET, UTC+1): the same UTC time of day stays on the same local date
        ("2030-01-15-x", "2030-01-15T22:30+00:00", None),
        ("2030-01-15-x", "2030-01-15T23:30+00:00", "2030-01-16 00:30 CET"),
        # written with another offset: converted to Stockholm first
        ("2030-09-15-x", "2030-09-16T01:00+05:00", None),
        ("2030-09-16-x", "2030-09-16T01:00+05:00", "2030-09-15 22:00 CEST"),
    ],
)
def test_file_name_date_is_the_local_date(campaign, codes, name, when, local) -> None:
    campaign.post(name, post(when))
    diagnostics = campaign.load()[1]
    if local is None:
        assert codes(diagnostics) == []
        return
    [warning] = diagnostics
    assert (warning.code, warning.position) == ("file-name-date", PUBLISH_AT)
    assert f"the file name says {name[:10]} but `publish_at` is {local}." in warning.message


def test_unreadable_time_gives_no_file_name_date_warning(campaign, codes) -> None:
    campaign.post("2030-09-14-x", post("nästa söndag"))
    assert codes(campaign.load()[1]) == ["publish-time"]


# --- channels switched off -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("channels", "disabled", "errors"),
    [
        ("[facebook, instagram]", "instagram", [("instagram", 22)]),
        ("[instagram, facebook]", "instagram", [("instagram", 12)]),
        ("[facebook, instagram]", "facebook", [("facebook", 12)]),
        ("[facebook]", "instagram", []),
        ("[instagram]", "facebook", []),
        (None, "instagram", []),  # the default is the enabled channels
        ("[facebook, instagram]", None, []),
    ],
)
def test_channel_switched_off_in_config(campaign, channels, disabled, errors) -> None:
    campaign.post("2030-09-15-x", post(channels=channels))
    extra = f"[channels.{disabled}]\nenabled = false\n" if disabled else ""
    posts, diagnostics = campaign.load(extra)
    found = [d for d in diagnostics if d.code == "channel-disabled"]
    assert [(d.severity, d.position) for d in found] == [
        (Severity.ERROR, Position(2, column)) for _, column in errors
    ]
    for d, (channel, _) in zip(found, errors, strict=True):
        assert d.message.startswith(f"{channel} is switched off for this campaign")
        assert f"[channels.{channel}] enabled = false in config.toml" in d.message
        assert "Remove it from `channels`, or switch it on." in d.message
    assert len(posts) == (not errors)


def test_both_channels_off_and_none_given(campaign) -> None:
    campaign.post("2030-09-15-x", post(channels=None))
    off = "[channels.facebook]\nenabled = false\n[channels.instagram]\nenabled = false\n"
    posts, diagnostics = campaign.load(off)
    [error] = diagnostics
    assert (error.code, error.severity, error.position) == (
        "channel-none",
        Severity.ERROR,
        Position(1, 1),
    )
    assert "no channel is switched on in config.toml" in error.message
    assert posts == []


def test_both_channels_off_and_both_given(campaign, codes) -> None:
    campaign.post("2030-09-15-x", post())
    off = "[channels.facebook]\nenabled = false\n[channels.instagram]\nenabled = false\n"
    diagnostics = campaign.load(off)[1]
    assert codes(diagnostics) == ["channel-disabled", "channel-disabled"]
    assert [d.position for d in diagnostics] == [Position(2, 12), Position(2, 22)]


@pytest.mark.parametrize(
    "when", ["2030-09-15 09:00", "2030-12-31T23:30Z", "1000-01-01 12:00", "0999-06-01 12:00"]
)
def test_the_local_date_compared_with_the_file_name_is_written_as_strftime_writes_it(when):
    written = parse_publish_time(when, ZoneInfo("Europe/Stockholm"))

    assert _local_date(written) == written.local.strftime("%Y-%m-%d")
