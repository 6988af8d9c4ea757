"""Post files from an untrusted pull request: links, YAML bombs, size and work bounds."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from campaign.diagnostics import MAX_PER_FILE, Diagnostic, Position
from campaign.post_loader import load_campaign
from campaign.text_patterns import URL, find_urls
from campaign.yaml_source import MAX_DEPTH, SourceMap
from scheduler.cli.app import app
from tests.conftest import GOOD_POST, NOW, Campaign

Codes = Callable[[list[Diagnostic]], list[str]]
SECRET = "canary-not-a-real-secret-4711"
runner = CliRunner()


def errors_of(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diagnostics if d.severity == "error"]


# --- 6. post files that are links -------------------------------------------------


def test_a_post_linked_to_a_yaml_file_elsewhere_is_refused_unread(
    campaign: Campaign, tmp_path: Path
) -> None:
    outside = tmp_path / "elsewhere" / "secrets.yaml"
    outside.parent.mkdir()
    outside.write_text(f"api_key: {SECRET}\n", encoding="utf-8")
    (campaign.posts / "2030-09-15-lank.yaml").symlink_to(outside)

    posts, diagnostics = campaign.load()

    assert posts == []
    [problem] = diagnostics
    assert problem.code == "post-link"
    assert problem.position == Position(1, 1)
    assert "symbolic link" in problem.message
    assert SECRET not in problem.message and "api_key" not in problem.message


def test_a_linked_post_is_named_by_its_own_path_never_its_target(
    campaign: Campaign, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hidden = tmp_path / "hemlig-mapp" / "privat.yaml"
    hidden.parent.mkdir()
    hidden.write_text(GOOD_POST, encoding="utf-8")
    (campaign.posts / "2030-09-15-lank.yaml").symlink_to(hidden)
    campaign.config()
    monkeypatch.chdir(campaign.root)

    result = runner.invoke(app, ["--config", str(campaign.config_path), "check"])

    assert result.exit_code == 1
    assert "posts/2030-09-15-lank.yaml:1:1: error" in result.output
    assert "hemlig-mapp" not in result.output and "privat" not in result.output


def test_a_post_linked_to_a_device_is_refused_without_reading_it(campaign: Campaign) -> None:
    (campaign.posts / "2030-09-15-noll.yaml").symlink_to("/dev/null")

    _, diagnostics = campaign.load()

    assert [d.code for d in diagnostics] == ["post-link"]


def test_a_link_named_explicitly_on_the_command_line_is_refused_too(
    campaign: Campaign, tmp_path: Path
) -> None:
    real = tmp_path / "real.yaml"
    real.write_text(GOOD_POST, encoding="utf-8")
    link = campaign.posts / "2030-09-15-bra.yaml"
    link.symlink_to(real)

    result = load_campaign(campaign.config(), [link], now=NOW)

    assert result.posts == []
    assert [d.code for d in result.diagnostics] == ["post-link"]


def test_a_pipe_named_like_a_post_is_refused_without_blocking(campaign: Campaign) -> None:
    os.mkfifo(campaign.posts / "2030-09-15-ror.yaml")

    _, diagnostics = campaign.load()

    assert [d.code for d in diagnostics] == ["post-not-file"]


def test_a_linked_folder_in_the_posts_folder_is_not_followed(
    campaign: Campaign, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "2030-09-15-bra.yaml").write_text(f"api_key: {SECRET}\n", encoding="utf-8")
    (campaign.posts / "linked").symlink_to(outside, target_is_directory=True)

    result = load_campaign(campaign.config(), now=NOW)

    assert result.files == 0 and result.diagnostics == []


# --- 7. YAML that is cheap to write and costly to read ---------------------------

ALIAS_FAN_OUT = """\
publish_at: 2030-09-15 09:00
status: draft
a: &a [x, x, x, x, x, x, x, x, x, x]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
caption: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
"""


def test_anchors_and_aliases_are_refused_with_their_lines(campaign: Campaign) -> None:
    campaign.post("2030-09-15-bomb", ALIAS_FAN_OUT)

    posts, diagnostics = campaign.load()

    assert posts == []
    assert {d.code for d in diagnostics} == {"yaml-anchor"}
    assert diagnostics[0].position == Position(3, 4)  # &a
    assert Position(4, 8) in [d.position for d in diagnostics]  # the first *a
    assert "not allowed" in diagnostics[0].message


def test_a_self_referencing_anchor_is_an_error_not_a_recursion(campaign: Campaign) -> None:
    campaign.post("2030-09-15-loop", "publish_at: 2030-09-15 09:00\ncaption: &me [*me]\n")

    _, diagnostics = campaign.load()

    assert [(d.code, d.position.line) for d in diagnostics] == [
        ("yaml-anchor", 2),
        ("yaml-anchor", 2),
    ]


def test_an_ampersand_or_star_in_text_is_no_anchor(campaign: Campaign) -> None:
    campaign.post("2030-09-15-bra", GOOD_POST.replace("Kom och", "Kom & * och"))

    posts, diagnostics = campaign.load()

    assert len(posts) == 1 and diagnostics == []


@pytest.mark.parametrize(
    ("style", "depth"),
    [("block", MAX_DEPTH + 1), ("block", 700), ("flow", MAX_DEPTH + 1), ("flow", 990)],
)
def test_deep_nesting_is_an_error_with_its_line_never_a_traceback(
    campaign: Campaign, depth: int, style: str
) -> None:
    if style == "flow":
        text = "caption: " + "[" * depth + "x" + "]" * depth + "\n"
    else:
        text = "caption:\n" + "".join(" " * level + "- \n" for level in range(depth))
    campaign.post("2030-09-15-djup", text)
    campaign.config()

    result = runner.invoke(app, ["--config", str(campaign.config_path), "check"])

    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "nested more than" in result.output
    assert "Traceback" not in result.output


# --- 8. size and work bounds -------------------------------------------------------


def test_a_post_file_over_the_size_limit_is_refused_before_it_is_parsed(
    campaign: Campaign,
) -> None:
    caption = "Kom och rösta på sodertalje.se/val idag! " * 8000  # about 330 KB
    campaign.post("2030-09-15-stor", GOOD_POST.replace("Idag är", caption))

    _, diagnostics = campaign.load()

    [problem] = diagnostics
    assert problem.code == "post-too-big"
    assert "the limit is 256 KiB" in problem.message and "max_post_bytes" in problem.message


def test_the_size_limit_is_a_config_key(campaign: Campaign) -> None:
    campaign.post("2030-09-15-bra", GOOD_POST)

    _, diagnostics = campaign.load("[check]\nmax_post_bytes = 1024\n")
    assert diagnostics == []

    campaign.post("2030-09-15-bra", GOOD_POST + "# " + "x" * 1200 + "\n")
    _, diagnostics = campaign.load("[check]\nmax_post_bytes = 1024\n")
    assert [d.code for d in diagnostics] == ["post-too-big"]
    assert "1,024 bytes" in diagnostics[0].message


def with_links(lines: int) -> str:
    links = "".join(f"  Läs mer på sodertalje.se/sida{n} idag.\n" for n in range(lines))
    return GOOD_POST.replace("caption: |\n", "caption: |\n" + links)


def test_a_1_mb_caption_full_of_links_is_refused_by_the_size_limit(campaign: Campaign) -> None:
    campaign.post("2030-09-15-lankar", with_links(25_000))  # 1 MB: 84 s of checking once

    _, diagnostics = campaign.load()

    assert [d.code for d in diagnostics] == ["post-too-big"]


def test_a_caption_full_of_links_costs_a_bounded_number_of_position_lookups(
    campaign: Campaign, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each finding once re-split the whole file. Counted rather than timed: the
    position lookups per text are bounded, whatever the number of links."""
    campaign.post("2030-09-15-lankar", with_links(1_600))  # the longest caption allowed
    calls = 0
    original = SourceMap.in_text

    def counted(self: SourceMap, *args: object) -> Position:
        nonlocal calls
        calls += 1
        return original(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(SourceMap, "in_text", counted)

    _, diagnostics = campaign.load()

    links = [d for d in diagnostics if d.code == "instagram-link"]
    assert links[0].position == Position(5, 14)  # exact, from the line index
    assert "more web addresses" in links[-1].message
    assert len(diagnostics) <= MAX_PER_FILE + 1
    assert calls <= 20


def test_many_unknown_keys_are_listed_up_to_a_limit_then_counted(campaign: Campaign) -> None:
    keys = "".join(f"okand{n}: x\n" for n in range(3000))
    campaign.post("2030-09-15-nycklar", GOOD_POST + keys)

    _, diagnostics = campaign.load()

    assert len(diagnostics) == MAX_PER_FILE + 1
    assert diagnostics[0].code == "unknown-key" and diagnostics[0].position.line == 10
    [rest] = [d for d in diagnostics if d.code == "too-many-problems"]
    assert "2,900 more problems" in rest.message


def test_more_tags_than_allowed_is_an_error_before_any_other_work(campaign: Campaign) -> None:
    tags = ", ".join(f"t{n}" for n in range(5000))
    campaign.post("2030-09-15-taggar", GOOD_POST + f"tags: [{tags}]\n")

    posts, diagnostics = campaign.load()

    assert posts == []
    [problem] = errors_of(diagnostics)
    assert problem.code == "invalid-value" and problem.position.line == 10
    assert "30" in problem.message


@pytest.mark.parametrize(
    ("extra", "line"),
    [
        ("tags: [" + ", ".join(["a" * 50] * 12) + "]\n", 10),  # too long together to store
        ("tags: [" + "b" * 51 + "]\n", 10),
    ],
)
def test_tags_are_bounded_in_length(campaign: Campaign, extra: str, line: int) -> None:
    campaign.post("2030-09-15-taggar", GOOD_POST + extra)

    posts, diagnostics = campaign.load()

    assert posts == []
    assert [d.position.line for d in errors_of(diagnostics)] == [line]


def test_too_many_images_are_refused_before_any_is_opened(campaign: Campaign) -> None:
    images = "".join(f"  - file: saknas{n}.jpg\n    alt: En bild av något.\n" for n in range(40))
    text = GOOD_POST.split("images:")[0].replace("facebook, instagram", "facebook")
    campaign.post("2030-09-15-bilder", text + "images:\n" + images)

    _, diagnostics = campaign.load()

    assert [d.code for d in errors_of(diagnostics)] == ["invalid-value"]
    assert "30" in errors_of(diagnostics)[0].message


def test_a_very_long_file_name_is_refused(campaign: Campaign) -> None:
    campaign.post("2030-09-15-" + "a" * 200, GOOD_POST)

    _, diagnostics = campaign.load()

    assert [d.code for d in errors_of(diagnostics)] == ["file-name"]


def test_finding_links_is_linear_on_text_made_to_backtrack() -> None:
    """A domain was tried from after every "-": 50 KB of "-a" took 25 s, 256 KB ten minutes."""
    text = "-a" * 25_000 + " sodertalje.se"

    assert [m.group() for m in find_urls(text)] == ["sodertalje.se"]
    # The cause: no try starts inside a run of domain characters, so tries never overlap.
    assert URL.match("x-ab.se", 2) is None
    assert URL.search("se x-ab.se").group() == "x-ab.se"
