"""Post files to Post objects: types, unknown keys, all problems at once, never a crash."""

from __future__ import annotations

from pathlib import Path

from campaign.diagnostics import Position, Severity
from campaign.post_loader import load_campaign
from tests.conftest import GOOD_POST, NOW, Campaign


def test_good_post_loads_with_resolved_fields(campaign: Campaign) -> None:
    campaign.post("2030-09-15-bra", GOOD_POST)
    [post], diagnostics = campaign.load()
    assert diagnostics == []
    assert post.id == "2030-09-15-bra"
    assert post.is_ready and post.channels == ("facebook", "instagram")
    assert str(post.publish_at) == "2030-09-15 09:00 CEST"
    assert post.language == "sv"  # config default
    assert post.brand.template is None  # the campaign default, [brand] template
    [image] = post.images
    assert (image.width, image.height, image.format) == (1600, 2000, "JPEG")
    assert image.focus == (0.5, 0.5)
    assert post.caption_for("instagram").startswith("Idag är det demokratins dag.")
    assert post.source.of(("images", 0, "alt")).line == 9


def test_channel_caption_overrides_and_brand_none(campaign: Campaign) -> None:
    campaign.post(
        "2030-09-15-bra",
        GOOD_POST
        + "brand: none\nfacebook:\n  caption: Bara för Facebook, med länk.\n"
        + "  link: https://www.sodertalje.se/\n",
    )
    [post], diagnostics = campaign.load()
    assert diagnostics == []
    assert post.brand.template == "none"
    assert post.caption_for("facebook") == "Bara för Facebook, med länk."
    assert post.caption_for("instagram").startswith("Idag")
    assert post.facebook.link == "https://www.sodertalje.se/"


def test_default_channels_follow_config(campaign: Campaign) -> None:
    campaign.post("2030-09-15-bra", GOOD_POST.replace("channels: [facebook, instagram]\n", ""))
    [post], _ = campaign.load("[channels.instagram]\nenabled = false\n")
    assert post.channels == ("facebook",)


def test_misspelt_key_gets_did_you_mean_at_its_line(campaign: Campaign) -> None:
    campaign.post("2030-09-15-bra", GOOD_POST + "langauge: sv\n")
    posts, [problem] = campaign.load()
    assert posts == []
    assert problem.code == "unknown-key"
    assert problem.position == Position(10, 1)
    assert "Did you mean `language`?" in problem.message


def test_misspelt_nested_key_gets_did_you_mean(campaign: Campaign) -> None:
    campaign.post("2030-09-15-bra", GOOD_POST.replace("    alt:", "    alt_text:"))
    _, diagnostics = campaign.load()
    [problem] = [d for d in diagnostics if d.code == "unknown-key"]
    assert problem.position == Position(9, 5)
    assert "unknown key `alt_text`" in problem.message and "`alt`" in problem.message
    assert any("`alt` is required" in d.message for d in diagnostics)


def test_every_problem_in_a_file_is_reported_at_once(campaign: Campaign) -> None:
    text = """\
        publish_at: 15 september
        status: klar
        channels: [facebook, tiktok]
        caption: 2021
        images:
          - file: saknas.jpg
            alt: ""
            focus: [2, 0.5]
        language: Svenska
        tagz: [a]
        """
    campaign.post("2030-09-15-trasig", text, image=None)
    _, diagnostics = campaign.load()
    found = {(d.position.line, d.code) for d in diagnostics}
    assert (1, "publish-time") in found
    assert (2, "invalid-value") in found  # status
    assert (3, "invalid-value") in found  # tiktok
    assert (4, "invalid-value") in found  # caption must be text
    assert (6, "image-missing") not in found  # images field itself is invalid (alt, focus)
    assert (7, "invalid-value") in found  # empty alt
    assert (8, "invalid-value") in found  # focus out of range: one message, not one per branch
    assert (9, "invalid-value") in found  # language code
    assert (10, "unknown-key") in found
    by_line = {d.position.line: d.message for d in diagnostics}
    assert "must be one of 'draft' or 'ready'" in by_line[2]
    assert "Put it in quotes" in by_line[4]
    assert "must not be empty" in by_line[7]
    assert sum(d.position.line == 8 for d in diagnostics) == 1
    assert "must be at most 1" in by_line[8]
    assert "sv, en, ar" in by_line[9]


def test_missing_required_keys_are_named(campaign: Campaign) -> None:
    campaign.post("2030-09-15-bra", "caption: Hej\nchannels: [facebook]\n", image=None)
    _, diagnostics = campaign.load()
    messages = [d.message for d in diagnostics if d.code == "missing-key"]
    assert any(m.startswith("`publish_at` is missing.") for m in messages)
    assert any(m.startswith("`status` is missing.") for m in messages)


def test_file_that_is_not_a_mapping(campaign: Campaign) -> None:
    campaign.post("2030-09-15-lista", "- a\n- b\n", image=None)
    _, [problem] = campaign.load()
    assert problem.code == "post-shape" and "campaign new" in problem.message


def test_file_not_utf8_names_the_line(campaign: Campaign) -> None:
    path = campaign.posts / "2030-09-15-latin1.yaml"
    path.write_bytes("status: draft\ncaption: Hälsning\n".encode("latin-1"))
    _, [problem] = campaign.load()
    assert problem.code == "encoding" and problem.position.line == 2
    assert "UTF-8" in problem.message


def test_broken_file_never_stops_the_others(campaign: Campaign) -> None:
    campaign.post("2030-09-15-bra", GOOD_POST)
    campaign.post("2030-09-16-trasig", "publish_at: [\n", image=None)
    posts, diagnostics = campaign.load()
    assert [p.id for p in posts] == ["2030-09-15-bra"]
    assert [d.path.name for d in diagnostics] == ["2030-09-16-trasig.yaml"]


def test_hidden_and_underscore_folders_and_other_files_are_skipped(campaign: Campaign) -> None:
    campaign.post("2030-09-15-bra", GOOD_POST)
    (campaign.posts / "_arkiv").mkdir()
    (campaign.posts / "_arkiv" / "gammal.yaml").write_text("trasig: [", encoding="utf-8")
    (campaign.posts / "README.md").write_text("# notes", encoding="utf-8")
    (campaign.posts / "sub").mkdir()
    (campaign.posts / "sub" / "2030-09-20-yml.yml").write_text(
        GOOD_POST.replace("bild.jpg", "../bild.jpg").replace("09-15", "09-20"), encoding="utf-8"
    )
    posts, diagnostics = campaign.load()
    assert diagnostics == []
    assert sorted(p.id for p in posts) == ["2030-09-15-bra", "2030-09-20-yml"]


def test_a_post_outside_the_posts_folder_is_checked_with_its_own_folder_as_root(
    campaign: Campaign, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "utkast"
    elsewhere.mkdir()
    config = campaign.config()
    (elsewhere / "2030-09-15-bra.yaml").write_text(GOOD_POST, encoding="utf-8")
    (elsewhere / "bild.jpg").write_bytes((Path(__file__).parent / "conftest.py").read_bytes())
    result = load_campaign(config, [elsewhere / "2030-09-15-bra.yaml"], now=NOW)
    [problem] = result.errors
    assert problem.code == "image-unreadable"  # resolved beside the post, not in posts/


def test_warnings_do_not_drop_a_post(campaign: Campaign) -> None:
    campaign.post("2030-09-15-bra", GOOD_POST.replace("2030", "2020"))
    posts, diagnostics = campaign.load()
    assert len(posts) == 1
    assert {d.severity for d in diagnostics} == {Severity.WARNING}
