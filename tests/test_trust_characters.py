"""Characters from post files: control characters refused, hidden ones warned about,
nothing echoed raw to a terminal or to GitHub; tags whole everywhere; one pixel limit."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from campaign.diagnostics import Diagnostic, Position, Severity
from campaign.image_probe import MAX_IMAGE_MEGAPIXELS, MAX_IMAGE_PIXELS
from campaign.tag_text import split_tags, tags_text
from scheduler.cli.app import app
from scheduler.cli.check_output import as_github, print_text
from scheduler.cli.plan_view import plan_table
from scheduler.engagement.stats_query import StatsFilter, latest_rows
from scheduler.store.store import Store
from tests.conftest import GOOD_POST, NOW, Campaign, write_image
from tests.test_stats import add_publication

runner = CliRunner()
RAW_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200b]")


def codes_at(diagnostics: list[Diagnostic]) -> list[tuple[str, str, int]]:
    return [(d.severity.value, d.code, d.position.line) for d in diagnostics]


# --- 9. control, bidi and zero-width characters -------------------------------------

PUBLISHED_FIELDS = {
    "caption": 'caption: "Hej{c}då"\n',
    "facebook caption": 'facebook:\n  caption: "Hej{c}då"\n',
    "instagram caption": 'instagram:\n  caption: "Hej{c}då"\n',
    "first comment": 'instagram:\n  first_comment: "#val{c}2022"\n',
    "link": 'facebook:\n  link: "https://www.sodertalje.se/{c}"\n',
    "alt text": 'images:\n  - file: bild.jpg\n    alt: "Tre personer framför{c} en vallokal."\n',
    "headline": 'brand:\n  headline: "Demokrati{c} 100"\n',
    "tags": 'tags: ["val{c}2022"]\n',
}


def post_with(field: str, character: str) -> str:
    base = GOOD_POST
    if field in ("caption", "alt text"):
        base = base.split("caption:")[0] if field == "caption" else base.split("images:")[0]
        base += "" if field == "alt text" else "images:" + GOOD_POST.split("images:")[1]
        if field == "alt text":
            base += ""
    return base + PUBLISHED_FIELDS[field].format(c=character)


@pytest.mark.parametrize("field", PUBLISHED_FIELDS)
@pytest.mark.parametrize("escape", ["\\0", "\\e", "\\x07", "\\x9b", "\\r"])
def test_a_control_character_in_published_text_is_an_error_with_its_line(
    campaign: Campaign, field: str, escape: str
) -> None:
    text = post_with(field, escape)
    campaign.post("2030-09-15-styr", text)
    line = next(n for n, row in enumerate(text.splitlines(), 1) if escape in row)

    posts, diagnostics = campaign.load()

    assert posts == []
    assert ("error", "control-character", line) in codes_at(diagnostics)


def test_a_nul_in_a_literal_block_is_reported_on_its_own_line(campaign: Campaign) -> None:
    campaign.post("2030-09-15-styr", GOOD_POST + 'instagram:\n  first_comment: "a\\nb\\nc\\0"\n')
    campaign.post(
        "2030-09-15-block",
        GOOD_POST.replace("#demokrati100", "#demokrati100\n  rad tre\n  rad\ufeff fyra"),
    )

    _, diagnostics = campaign.load()

    assert ("error", "control-character", 11) in codes_at(diagnostics)
    assert ("warning", "zero-width", 8) in codes_at(diagnostics)


@pytest.mark.parametrize("character", ["\u202e", "\u202a", "\u2066", "\u2069"])
def test_a_bidi_override_is_a_warning(campaign: Campaign, character: str) -> None:
    campaign.post("2030-09-15-bidi", GOOD_POST.replace("Kom och", f"Kom {character}och"))

    posts, diagnostics = campaign.load()

    assert len(posts) == 1
    assert codes_at(diagnostics) == [("warning", "bidi-control", 5)]
    assert f"U+{ord(character):04X}" in diagnostics[0].message


@pytest.mark.parametrize("character", ["\u200b", "\u2060", "\u200d"])
def test_a_zero_width_character_in_latin_text_is_a_warning(
    campaign: Campaign, character: str
) -> None:
    campaign.post("2030-09-15-noll", GOOD_POST.replace("#demokrati100", f"#demo{character}krati"))

    _, diagnostics = campaign.load()

    assert codes_at(diagnostics) == [("warning", "zero-width", 6)]


def test_joiners_inside_emoji_and_persian_words_are_fine(campaign: Campaign) -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    persian = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"
    campaign.post("2030-09-15-bra", GOOD_POST.replace("Kom och", f"{family} {persian} och"))

    posts, diagnostics = campaign.load()

    assert len(posts) == 1 and diagnostics == []


TERMINAL_ESCAPE = "\x1b]8;;https://evil.example/\x1b\\klick\x1b]8;;\x1b\\\x1b[2J"


def test_escape_sequences_never_reach_the_terminal_or_github(campaign: Campaign) -> None:
    campaign.post(
        "2030-09-15-esc",
        GOOD_POST
        + 'facebook:\n  link: "\\e]8;;https://evil.example/\\e\\\\klick\\e[2J"\n'
        + '"\\e[31mokänd\\u202e": 1\n'
        + '"[red]markup[/red]": 2\n',
    )
    campaign.config()
    args = ["--config", str(campaign.config_path), "check"]

    for extra in ([], ["--format", "github"], ["--format", "json"]):
        result = runner.invoke(app, [*args, *extra])
        assert result.exit_code == 1
        assert RAW_UNSAFE.search(result.output) is None, (extra, result.output)
    text = runner.invoke(app, args).output
    assert "\\x1b[31mokänd\\u202e" in text  # shown, made visible
    assert "`[red]markup[/red]`" in text  # rich markup shown as written


def test_github_annotations_escape_what_github_reads() -> None:
    diagnostic = Diagnostic(
        Path("posts/a,b:c.yaml"),
        Position(3, 1),
        Severity.ERROR,
        "x",
        "100% sure\r\n::error::injected \x1b[2J",
    )

    [line] = [line for line in as_github([diagnostic]).splitlines() if line.startswith("::error")]

    assert line.startswith("::error file=posts/a%2Cb%3Ac.yaml,line=3,col=1,")
    assert "100%25 sure" in line
    assert "\x1b" not in line and "\r" not in line


def test_text_output_shows_a_file_name_with_escapes_harmlessly(tmp_path: Path) -> None:
    console = Console(file=open(tmp_path / "out.txt", "w"), width=200, color_system=None)  # noqa: SIM115
    diagnostic = Diagnostic(
        Path("posts/\x1b[2J[bold]x.yaml"), Position(1, 1), Severity.ERROR, "x", "m"
    )

    print_text(console, [diagnostic], 1, strict=False)
    console.file.close()

    shown = (tmp_path / "out.txt").read_text()
    assert "\x1b" not in shown and "\\x1b[2J[bold]x.yaml" in shown


def test_plan_shows_captions_as_written_never_as_markup(campaign: Campaign) -> None:
    campaign.post(
        "2030-09-15-bra", GOOD_POST.replace("Idag är", "[link=https://evil.example]Idag[/link] är")
    )
    from campaign.post_loader import load_campaign

    posts = load_campaign(campaign.config(), now=NOW).posts
    console = Console(width=200, record=True, color_system=None)

    console.print(plan_table(posts, NOW, "plan"))

    assert "[link=https://evil.example]Idag" in console.export_text()


# --- 9. a tag with a comma is one tag everywhere -------------------------------------


@pytest.mark.parametrize(
    "tags",
    [("Val, 2022",), ("a,b", "c"), ("100%",), ("50%2C",), ("demokrati", "val2022")],
)
def test_tags_round_trip_through_the_store_text(tags: tuple[str, ...]) -> None:
    assert split_tags(tags_text(tags)) == tags


def test_rows_written_before_tags_were_encoded_still_read() -> None:
    assert split_tags(",demokrati,val2022,") == ("demokrati", "val2022")
    assert split_tags(None) == ()


def test_a_tag_with_a_comma_is_one_tag_in_stats_and_the_filter_matches_whole_tags(
    store: Store,
) -> None:
    for post_id, tags in (("p1", ("Val, 2022",)), ("p2", ("Val",)), ("p3", ("2022", "x"))):
        add_publication(store, post_id, tags=tags)

    def shown(tag: str) -> list[str]:
        return [row.post_id for row in latest_rows(store, StatsFilter(tag=tag))]

    assert shown("Val, 2022") == ["p1"] and shown("val, 2022") == ["p1"]
    assert shown("Val") == ["p2"] and shown("2022") == ["p3"]
    assert {row.post_id: row.tags for row in latest_rows(store)}["p1"] == ("Val, 2022",)


# --- 13. one pixel limit for check and render ----------------------------------------


def test_the_pixel_limit_is_what_pillow_opens_for_branding() -> None:
    from PIL import Image

    assert MAX_IMAGE_PIXELS == Image.MAX_IMAGE_PIXELS  # the limit render meets
    assert round(MAX_IMAGE_MEGAPIXELS, 2) == 89.48


def test_check_refuses_an_image_render_could_not_open(campaign: Campaign) -> None:
    campaign.post("2030-09-15-bra", GOOD_POST)
    png = _png_header_only(10_000, 9_500)  # 95 MP: under the old 100 MP, over 89.5
    (campaign.posts / "bild.jpg").unlink()
    (campaign.posts / "bild.png").write_bytes(png)
    (campaign.posts / "2030-09-15-bra.yaml").write_text(
        GOOD_POST.replace("bild.jpg", "bild.png"), encoding="utf-8"
    )

    posts, diagnostics = campaign.load("[check]\nmax_image_megapixels = 100\n")

    assert posts == []
    [problem] = diagnostics
    assert "too large" in problem.message and "89.5 megapixels" in problem.message


def test_an_image_at_the_limit_passes_the_check(campaign: Campaign) -> None:
    write_image(campaign.posts / "bild.jpg", (1600, 2000))
    campaign.post("2030-09-15-bra", GOOD_POST)

    posts, _ = campaign.load()

    assert len(posts) == 1


def _png_header_only(width: int, height: int) -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 16))
        + chunk(b"IEND", b"")
    )


def test_json_output_keeps_messages_readable(campaign: Campaign) -> None:
    campaign.post("2030-09-15-esc", GOOD_POST + '"\\e[31m": 1\n')
    campaign.config()

    result = runner.invoke(
        app, ["--config", str(campaign.config_path), "check", "--format", "json"]
    )

    messages = [d["message"] for d in json.loads(result.output)["diagnostics"]]
    assert any("\\x1b[31m" in m for m in messages)


def test_a_missing_path_is_named_without_markup_or_escapes(campaign: Campaign) -> None:
    campaign.config()
    name = "posts/[link=file:evil]x[/link]\x1b[2J.yaml"

    result = runner.invoke(app, ["--config", str(campaign.config_path), "check", name])

    assert result.exit_code == 2
    assert "[link=file:evil]x[/link]\\x1b[2J.yaml: no such file" in result.output
