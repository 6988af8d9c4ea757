"""Issue 10, a hostile review from outside: cases the first fixes did not cover.

A number too long for Python, an image named ``.``, markup or escapes in a setting or a
slug, a config.toml that is a device or not UTF-8, a file of someone else's in the
outbox, and the work done for problems that are only counted.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner, Result

import campaign.post_loader as post_loader
from campaign.diagnostics import MAX_PER_FILE, DiagnosticSink
from campaign.yaml_source import parse_yaml
from scheduler.channels.base import MediaItem, PublishRequest
from scheduler.channels.errors import ChannelError
from scheduler.channels.outbox import OutboxChannel
from scheduler.cli.app import app
from tests.conftest import GOOD_POST, Campaign, write_image

POST_ID = "2030-09-15-bra"
HEADER = "publish_at: 2030-09-15 09:00\nstatus: draft\nchannels: [facebook]\n"


def run(campaign: Campaign, *args: str) -> Result:
    result = CliRunner().invoke(app, ["--config", str(campaign.config_path), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


# --- numbers too long to read -----------------------------------------------------


def test_a_number_too_long_for_python_stays_text_never_a_traceback() -> None:
    digits = "1" + "0" * 5000
    parsed = parse_yaml(f"caption: {digits}\nfocus: [{digits}, 0]\n", DiagnosticSink(Path("p")))
    assert parsed is not None
    value, _ = parsed
    assert value == {"caption": digits, "focus": [digits, 0]}


def test_check_on_a_post_with_a_huge_number_reports_it(campaign: Campaign) -> None:
    digits = "1" + "0" * 5000
    campaign.post(
        POST_ID,
        f"{HEADER}caption: Hej\nimages:\n  - file: bild.jpg\n    alt: En bild av ett hus.\n"
        f"    focus: [{digits}, 0]\n",
    )
    campaign.config()
    result = run(campaign, "check")
    assert result.exit_code == 1
    assert "`focus`, item 1" in result.output and "at most 1" in result.output


def test_a_number_too_long_in_config_toml_is_a_config_error(campaign: Campaign) -> None:
    campaign.config_path.write_text(
        campaign.config_text + "\n[check]\nmin_gap_minutes = 3" + "0" * 5000 + "\n",
        encoding="utf-8",
    )
    result = run(campaign, "check")
    assert result.exit_code == 2
    assert "a number is far too long" in result.output
    assert "set_int_max_str_digits" not in result.output


# --- config.toml from a pull request -------------------------------------------------


def test_a_config_linked_to_a_device_is_refused_unread(campaign: Campaign) -> None:
    campaign.config_path.symlink_to("/dev/zero")
    result = run(campaign, "check")
    assert result.exit_code == 2
    assert "not an ordinary file" in result.output


def test_a_config_that_is_a_pipe_is_refused_without_blocking(campaign: Campaign) -> None:
    os.mkfifo(campaign.config_path)
    result = run(campaign, "check")
    assert result.exit_code == 2
    assert "not an ordinary file" in result.output


def test_a_config_far_too_large_is_refused(campaign: Campaign) -> None:
    campaign.config_path.write_text(
        campaign.config_text + "#" * (2 * 1024 * 1024) + "\n", encoding="utf-8"
    )
    result = run(campaign, "check")
    assert result.exit_code == 2
    assert "larger than" in result.output


def test_a_config_not_in_utf8_is_a_config_error_with_its_line(campaign: Campaign) -> None:
    campaign.config_path.write_bytes(campaign.config_text.encode() + b'\nx = "h\xe4j"\n')
    result = run(campaign, "check")
    assert result.exit_code == 2
    assert "line 6 is not UTF-8" in result.output


# --- image names ------------------------------------------------------------------


@pytest.mark.parametrize("name", [".", "./"])
def test_an_image_named_like_the_folder_itself_is_an_error(campaign: Campaign, name: str) -> None:
    campaign.post(
        POST_ID, f'{HEADER}caption: Hej\nimages:\n  - file: "{name}"\n    alt: Ett hus.\n', None
    )
    _, diagnostics = campaign.load()
    assert [d.code for d in diagnostics if d.code.startswith("image")] == ["image-not-file"]


# --- markup and escapes in what the commands print --------------------------------


def test_new_shows_a_slug_with_markup_as_written(campaign: Campaign) -> None:
    campaign.config()
    result = run(campaign, "new", "[/red]", "--at", "2030-09-15 09:00")
    assert result.exit_code == 2
    assert '"[/red]" cannot be used in a file name' in result.output


def test_new_names_the_file_it_made_as_written(campaign: Campaign) -> None:
    campaign.config_text = campaign.config_text.replace('posts = "posts"', 'posts = "p[bold]x"')
    (campaign.root / "p[bold]x").mkdir()
    campaign.config()
    result = run(campaign, "new", "hej", "--at", "2030-09-15 09:00")
    assert result.exit_code == 0, result.output
    assert "p[bold]x" in result.output


def test_plan_shows_the_campaign_name_as_written(campaign: Campaign) -> None:
    campaign.config_text = campaign.config_text.replace(
        'name = "Test campaign"', 'name = "[/x] [link=https://example.com]N \\u001b]0;T\\u0007"'
    )
    campaign.post(POST_ID, GOOD_POST)
    campaign.config()
    result = run(campaign, "plan")
    assert result.exit_code == 0, result.output
    assert "[/x] [link=https://example.com]N \\x1b]0;T\\x07" in result.output
    assert "\x1b" not in result.output


def test_render_names_its_build_folder_as_written(campaign: Campaign) -> None:
    Image.new("RGBA", (64, 64), (27, 54, 93, 255)).save(campaign.root / "logo.png")
    campaign.config_text += '\n[brand]\nlogo = "logo.png"\n\n[render]\nwidth = 320\n'
    campaign.config_text += 'build = "b[bold]x"\n'
    campaign.post(POST_ID, GOOD_POST)
    campaign.config()
    result = run(campaign, "render", "--jobs", "1")
    assert result.exit_code == 0, result.output
    assert "b[bold]x" in result.output


# --- the outbox deletes only what it wrote ------------------------------------------


def request(tmp_path: Path) -> PublishRequest:
    image = write_image(tmp_path / "r.jpg", (100, 100))
    return PublishRequest(
        post_id=POST_ID,
        channel="facebook",
        caption="Hej",
        media=(MediaItem(path=image, alt="En bild.", sha256="0" * 64),),
        fingerprint="f",
    )


def test_writing_a_post_again_keeps_a_file_the_outbox_did_not_write(tmp_path: Path) -> None:
    channel = OutboxChannel("facebook", tmp_path / "outbox", root=tmp_path)
    channel.publish(request(tmp_path))
    folder = channel.post_folder(POST_ID)
    (folder / "notes.txt").write_text("mine", encoding="utf-8")

    with pytest.raises(ChannelError) as problem:
        channel.publish(request(tmp_path))

    assert "notes.txt" in problem.value.message and "did not write" in problem.value.message
    assert (folder / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert sorted(p.name for p in folder.iterdir()) == ["1.jpg", "notes.txt", "post.json"]


def test_writing_a_post_again_replaces_what_the_outbox_wrote(tmp_path: Path) -> None:
    channel = OutboxChannel("facebook", tmp_path / "outbox", root=tmp_path)
    channel.publish(request(tmp_path))
    channel.publish(request(tmp_path))
    assert sorted(p.name for p in (tmp_path / "outbox" / "facebook").iterdir()) == [POST_ID]
    assert sorted(p.name for p in channel.post_folder(POST_ID).iterdir()) == [
        "1.jpg",
        "post.json",
    ]


# --- problems beyond the listed ones cost no more work --------------------------------


def test_unknown_keys_beyond_the_listed_ones_get_no_suggestion(
    campaign: Campaign, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    suggest = post_loader.did_you_mean
    monkeypatch.setattr(
        post_loader, "did_you_mean", lambda key, names: calls.append(key) or suggest(key, names)
    )
    keys = "".join(f"captoin{i}: x\n" for i in range(2000))
    campaign.post(POST_ID, HEADER + keys, None)

    _, diagnostics = campaign.load()

    assert len(diagnostics) == MAX_PER_FILE + 1
    assert "more problems" in diagnostics[-1].message
    assert len(calls) <= MAX_PER_FILE
