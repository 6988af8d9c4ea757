"""Campaign-wide rules: unique ids, nothing in the past, posts on one channel spaced out."""

from __future__ import annotations

import pytest

from campaign.diagnostics import Diagnostic, Position, Severity
from tests.conftest import write_image

PUBLISH_AT = Position(1, len("publish_at: ") + 1)


def post(when: str, channels: str = "[facebook, instagram]", status: str = "ready") -> str:
    return f"""\
publish_at: {when}
channels: {channels}
status: {status}
caption: Kom och rösta på söndag.
images:
  - file: bild.jpg
    alt: Tre personer framför en vallokal.
"""


def of(diagnostics: list[Diagnostic], code: str) -> list[Diagnostic]:
    return [d for d in diagnostics if d.code == code]


# --- duplicate ids -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second", "duplicate"),
    [
        ("a/2030-09-15-valet.yaml", "b/2030-09-15-valet.yaml", True),
        ("2030-09-15-valet.yaml", "b/2030-09-15-valet.yaml", True),
        ("2030-09-15-valet.yaml", "2030-09-15-valet.yml", True),
        ("a/2030-09-15-valet.yaml", "b/2030-09-15-valet-2.yaml", False),
    ],
)
def test_same_file_name_twice_is_an_error(campaign, codes, first, second, duplicate) -> None:
    paths = []
    for name, hour in ((first, "09:00"), (second, "12:00")):
        path = campaign.posts / name
        write_image(path.parent / "bild.jpg")
        path.write_text(post(f"2030-09-15 {hour}"), encoding="utf-8")
        paths.append(path)
    posts, diagnostics = campaign.load()
    assert len(posts) == 2
    if not duplicate:
        assert codes(diagnostics) == []
        return
    [error] = diagnostics
    assert (error.code, error.severity) == ("duplicate-id", Severity.ERROR)
    assert error.path == paths[1]
    assert error.position == Position(1, 1)
    assert f"another post has the same file name: {paths[0]}." in error.message
    assert "Each post needs its own name" in error.message


# --- in the past ---------------------------------------------------------------------------
# NOW is 2026-11-26 12:00 UTC = 13:00 CET.


@pytest.mark.parametrize(
    ("name", "when", "local"),
    [
        ("2026-11-26-x", "2026-11-26 12:59", "2026-11-26 12:59 CET"),
        ("2026-06-01-x", "2026-06-01T10:00+00:00", "2026-06-01 12:00 CEST"),
        ("2021-09-15-x", "2021-09-15 09:00", "2021-09-15 09:00 CEST"),
    ],
)
@pytest.mark.parametrize("status", ["ready", "draft"])
def test_post_in_the_past_is_a_warning_in_local_time(campaign, name, when, local, status) -> None:
    campaign.post(name, post(when, status=status))
    posts, diagnostics = campaign.load()
    [warning] = diagnostics
    assert (warning.code, warning.severity) == ("in-the-past", Severity.WARNING)
    assert warning.position == PUBLISH_AT
    assert warning.message.startswith(f"{local} is in the past")
    assert "Move `publish_at` to a future time" in warning.message
    assert [p.id for p in posts] == [name]


@pytest.mark.parametrize("when", ["2026-11-26 13:00", "2026-11-26T12:00Z", "2030-09-15 09:00"])
def test_post_now_or_later_is_not_in_the_past(campaign, codes, when) -> None:
    campaign.post(f"{when[:10]}-x", post(when))
    assert codes(campaign.load()[1]) == []


# --- spacing on a channel ------------------------------------------------------------------


@pytest.mark.parametrize(("minutes", "warned"), [(1, True), (29, True), (30, False), (90, False)])
def test_posts_on_one_channel_closer_than_the_gap(campaign, minutes, warned) -> None:
    campaign.post("2030-09-15-b", post("2030-09-15 09:00", channels="[facebook]"))
    later = f"2030-09-15 {9 + minutes // 60:02d}:{minutes % 60:02d}"
    later_path = campaign.post("2030-09-15-a", post(later, channels="[facebook]"))
    diagnostics = campaign.load()[1]
    if not warned:
        assert diagnostics == []
        return
    [warning] = diagnostics
    assert (warning.code, warning.severity) == ("too-close", Severity.WARNING)
    assert warning.path == later_path  # the later one, whatever the file names say
    assert warning.position == PUBLISH_AT
    assert (
        f"goes out on facebook only {minutes} minutes after 2030-09-15-b.yaml "
        "(2030-09-15 09:00 CEST)" in warning.message
    )
    assert "space them at least 30 minutes apart" in warning.message


def test_posts_at_the_same_time_warn_on_the_later_name(campaign) -> None:
    campaign.post("2030-09-15-b", post("2030-09-15 09:00", channels="[facebook]"))
    campaign.post("2030-09-15-a", post("2030-09-15 09:00", channels="[facebook]"))
    [warning] = campaign.load()[1]
    assert warning.path.name == "2030-09-15-b.yaml"
    assert "only 0 minutes after 2030-09-15-a.yaml" in warning.message


def test_close_posts_on_different_channels_are_fine(campaign, codes) -> None:
    campaign.post("2030-09-15-a", post("2030-09-15 09:00", channels="[facebook]"))
    campaign.post("2030-09-15-b", post("2030-09-15 09:05", channels="[instagram]"))
    assert codes(campaign.load()[1]) == []


def test_close_posts_on_both_channels_warn_per_channel(campaign) -> None:
    campaign.post("2030-09-15-a", post("2030-09-15 09:00"))
    path = campaign.post("2030-09-15-b", post("2030-09-15 09:10"))
    diagnostics = campaign.load()[1]
    assert [(d.code, d.path) for d in diagnostics] == [("too-close", path)] * 2
    assert [d.message.split(" only")[0] for d in diagnostics] == [
        "this post goes out on facebook",
        "this post goes out on instagram",
    ]


@pytest.mark.parametrize(("first", "second"), [("draft", "ready"), ("ready", "draft")])
def test_drafts_count_as_well(campaign, codes, first, second) -> None:
    campaign.post("2030-09-15-a", post("2030-09-15 09:00", "[facebook]", status=first))
    campaign.post("2030-09-15-b", post("2030-09-15 09:15", "[facebook]", status=second))
    assert codes(campaign.load()[1]) == ["too-close"]


def test_only_neighbours_are_compared(campaign) -> None:
    for name, time in (("a", "09:00"), ("b", "09:20"), ("c", "09:40"), ("d", "10:40")):
        campaign.post(f"2030-09-15-{name}", post(f"2030-09-15 {time}", "[facebook]"))
    diagnostics = campaign.load()[1]
    assert [(d.path.stem, d.message.split(" after ")[1][:16]) for d in diagnostics] == [
        ("2030-09-15-b", "2030-09-15-a.yam"),
        ("2030-09-15-c", "2030-09-15-b.yam"),
    ]


@pytest.mark.parametrize(
    ("gap", "minutes", "warned"), [(60, 59, True), (60, 60, False), (0, 0, False)]
)
def test_configured_min_gap(campaign, codes, gap, minutes, warned) -> None:
    campaign.post("2030-09-15-a", post("2030-09-15 09:00", "[facebook]"))
    later = f"2030-09-15 {9 + minutes // 60:02d}:{minutes % 60:02d}"
    campaign.post("2030-09-15-b", post(later, "[facebook]"))
    diagnostics = campaign.load(f"[check]\nmin_gap_minutes = {gap}\n")[1]
    assert codes(diagnostics) == (["too-close"] if warned else [])
    if warned:
        assert f"at least {gap} minutes apart" in diagnostics[0].message


def test_gap_is_measured_in_real_time_across_the_dst_change(campaign, codes) -> None:
    # 2030-10-27 03:00 CEST becomes 02:00 CET: 02:10 CET is 40 minutes after 02:30 CEST,
    # although its wall clock reads earlier.
    campaign.post("2030-10-27-a", post("2030-10-27T02:30+02:00", "[facebook]"))
    later = campaign.post("2030-10-27-b", post("2030-10-27T02:10+01:00", "[facebook]"))
    assert codes(campaign.load()[1]) == []
    [warning] = campaign.load("[check]\nmin_gap_minutes = 45\n")[1]
    assert warning.path == later
    assert "only 40 minutes after 2030-10-27-a.yaml (2030-10-27 02:30 CEST)" in warning.message
