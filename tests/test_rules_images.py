"""check_images through the loader: real post files and real images in a campaign folder."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from campaign.diagnostics import Diagnostic, Severity
from campaign.rules.images import _is_plain_name, _plain_stem
from tests.conftest import GOOD_POST, write_image

NAME = "2030-09-15-demokratidagen"
ALT = "Tre personer framför en vallokal med skylten Röstning."
CAPTION = "caption: |\n  Idag är det demokratins dag. Kom och prata med oss.\n"


def post_text(
    *files: str,
    channels: str = "[facebook, instagram]",
    status: str = "ready",
    alt: str = ALT,
) -> str:
    """A post whose `images:` lists ``files`` (an empty list when none are given)."""
    text = f"publish_at: 2030-09-15 09:00\nchannels: {channels}\nstatus: {status}\n{CAPTION}"
    if not files:
        return text + "images: []\n"
    entries = "".join(f"  - file: {file}\n    alt: {alt}\n" for file in files)
    return text + "images:\n" + entries


def line_of(text: str, needle: str, occurrence: int = 0) -> int:
    """The 1-based line of the ``occurrence``-th line containing ``needle``."""
    lines = [n for n, line in enumerate(text.splitlines(), 1) if needle in line]
    return lines[occurrence]


def only(diagnostics: list[Diagnostic], code: str) -> Diagnostic:
    found = [d for d in diagnostics if d.code == code]
    assert len(found) == 1, f"expected one {code}, got {diagnostics}"
    return found[0]


def test_a_good_post_with_its_image_loads(campaign):
    campaign.post(NAME, GOOD_POST)

    posts, diagnostics = campaign.load()

    assert diagnostics == []
    [post] = posts
    [image] = post.images
    assert (image.file, image.width, image.height, image.format) == ("bild.jpg", 1600, 2000, "JPEG")
    assert image.path == campaign.posts / "bild.jpg"


def assert_file_error(campaign, diagnostics, code: str, text: str, file: str = "bild.jpg"):
    """One error of ``code``, at the `file:` line, naming the file; the post did not load."""
    diagnostic = only(diagnostics, code)
    assert diagnostic.severity is Severity.ERROR
    assert diagnostic.path == campaign.posts / f"{NAME}.yaml"
    assert diagnostic.position.line == line_of(text, f"file: {file}")
    assert f"`{file}`" in diagnostic.message
    return diagnostic.message


@pytest.mark.parametrize(
    ("other_image", "hint"),
    [
        ("bild1.jpg", "Did you mean `bild1.jpg`?"),
        ("logga.png", "Check the spelling, and that the image was added beside the post file"),
        (None, "Check the spelling"),
    ],
)
def test_a_missing_image_is_an_error_with_a_hint(campaign, codes, other_image, hint):
    text = post_text("bild.jpg")
    campaign.post(NAME, text, image=other_image)

    posts, diagnostics = campaign.load()

    message = assert_file_error(campaign, diagnostics, "image-missing", text)
    assert "is not there" in message
    assert hint in message
    assert posts == []


def test_a_missing_subfolder_is_named(campaign):
    text = post_text("bilder/bild.jpg")
    campaign.post(NAME, text, image=None)

    _, diagnostics = campaign.load()

    message = assert_file_error(campaign, diagnostics, "image-missing", text, "bilder/bild.jpg")
    assert f"The folder {campaign.posts / 'bilder'} does not exist" in message


def symlink_out(campaign) -> str:
    os.symlink(campaign.root / "outside.jpg", campaign.posts / "bild.jpg")
    return "bild.jpg"


@pytest.mark.parametrize(
    ("written", "problem"),
    [
        (lambda c: "../outside.jpg", "is outside the posts folder"),
        (lambda c: str(c.root / "outside.jpg"), "is an absolute path"),
        (lambda c: "~/outside.jpg", "is an absolute path"),
        (symlink_out, "links to a file outside the posts folder"),
    ],
    ids=["dot-dot", "absolute", "home", "symlink"],
)
def test_an_image_outside_the_posts_folder_is_an_error(campaign, written, problem):
    write_image(campaign.root / "outside.jpg")  # it exists and is a good image
    file = written(campaign)
    text = post_text(file)
    campaign.post(NAME, text, image=None)

    posts, diagnostics = campaign.load()

    message = assert_file_error(campaign, diagnostics, "image-outside", text, file)
    assert problem in message
    assert "beside the post file and write just its name" in message
    assert posts == []


def test_a_symlink_to_an_image_inside_the_posts_folder_is_fine(campaign):
    write_image(campaign.posts / "bilder" / "original.jpg", (1080, 1350))
    os.symlink("bilder/original.jpg", campaign.posts / "bild.jpg")
    campaign.post(NAME, GOOD_POST, image=None)

    posts, diagnostics = campaign.load()

    assert diagnostics == []
    [post] = posts
    assert (post.images[0].width, post.images[0].height) == (1080, 1350)


def test_a_symlink_loop_is_reported_and_stops_no_other_post(campaign):
    campaign.post("2030-09-16-annat", GOOD_POST.replace("2030-09-15", "2030-09-16"))
    os.symlink("loop.jpg", campaign.posts / "loop.jpg")
    campaign.post(NAME, post_text("loop.jpg"), image=None)

    posts, diagnostics = campaign.load()

    assert [p.id for p in posts] == ["2030-09-16-annat"]
    assert [d.severity for d in diagnostics] == [Severity.ERROR]
    assert "`loop.jpg`" in diagnostics[0].message


def test_a_folder_named_like_an_image_is_an_error(campaign):
    text = post_text("bild.jpg")
    campaign.post(NAME, text, image=None)
    (campaign.posts / "bild.jpg").mkdir()

    posts, diagnostics = campaign.load()

    message = assert_file_error(campaign, diagnostics, "image-not-file", text)
    assert "is a folder, not an image" in message
    assert posts == []


def test_the_folder_message_says_what_to_do(campaign):
    campaign.post(NAME, post_text("bild.jpg"), image=None)
    (campaign.posts / "bild.jpg").mkdir()

    _, diagnostics = campaign.load()

    after_problem = only(diagnostics, "image-not-file").message.split("not an image.", 1)[1]
    assert after_problem.strip(), "nothing after the problem tells the user what to do"


def test_an_image_over_the_megabyte_limit_is_an_error(campaign):
    text = post_text("bild.jpg")
    campaign.post(NAME, text)

    posts, diagnostics = campaign.load("[check]\nmax_image_megabytes = 0.001\n")

    message = assert_file_error(campaign, diagnostics, "image-too-big", text)
    assert "the limit is 0.001 MB" in message
    assert "max_image_megabytes" in message
    assert "Export it at a lower quality or size" in message
    assert posts == []


def test_an_image_within_the_megabyte_limit_passes(campaign):
    campaign.post(NAME, GOOD_POST)
    size = (campaign.posts / "bild.jpg").stat().st_size / 1e6

    posts, diagnostics = campaign.load(f"[check]\nmax_image_megabytes = {size * 1.01}\n")

    assert diagnostics == []
    assert len(posts) == 1


def test_the_megabyte_message_shows_a_size_over_the_limit(campaign):
    campaign.post(NAME, GOOD_POST)

    _, diagnostics = campaign.load("[check]\nmax_image_megabytes = 0.001\n")

    message = only(diagnostics, "image-too-big").message
    shown = float(re.search(r"is ([\d.]+) MB", message)[1])
    assert shown > 0.001


def cut_jpeg(path):
    write_image(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def gif(path):
    write_image(path, (1600, 2000), "GIF")


def heic(path):
    path.write_bytes(b"\x00\x00\x00\x18ftypheic" + b"\x00" * 200)


@pytest.mark.parametrize(
    ("make", "extra_config", "problem"),
    [
        (lambda p: p.write_text("ingen bild"), "", "not an image that can be read"),
        (cut_jpeg, "", "cut off"),
        (heic, "", "Export it as JPEG"),
        (gif, "", "use JPEG, PNG or WebP"),
        (write_image, "[check]\nmax_image_megapixels = 1\n", "the limit is 1 megapixels"),
    ],
    ids=["text", "truncated", "heic", "gif", "megapixels"],
)
def test_an_unreadable_image_is_an_error(campaign, make, extra_config, problem):
    text = post_text("bild.jpg")
    campaign.post(NAME, text, image=None)
    make(campaign.posts / "bild.jpg")

    posts, diagnostics = campaign.load(extra_config)

    message = assert_file_error(campaign, diagnostics, "image-unreadable", text)
    assert message.startswith("`bild.jpg`: ")
    assert problem in message
    assert posts == []


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root can read any file")
def test_an_image_without_read_permission_is_reported(campaign):
    campaign.post(NAME, post_text("bild.jpg"))
    (campaign.posts / "bild.jpg").chmod(0)

    posts, diagnostics = campaign.load()

    assert only(diagnostics, "image-unreadable").severity is Severity.ERROR
    assert posts == []


@pytest.mark.parametrize(
    ("alt", "warned"),
    [
        ("Affisch", True),
        ("Glad publik", True),
        ("bild", True),  # just the file name
        ("  Glad   publik  ", True),
        ("Tre glada personer", False),
        (ALT, False),
    ],
)
def test_alt_text_that_says_too_little_is_a_warning(campaign, codes, alt, warned):
    text = post_text("bild.jpg", alt=f'"{alt}"')
    campaign.post(NAME, text)

    posts, diagnostics = campaign.load()

    assert len(posts) == 1  # only a warning
    if not warned:
        assert diagnostics == []
        return
    assert codes(diagnostics) == ["alt-too-short"]
    [warning] = diagnostics
    assert warning.severity is Severity.WARNING
    assert warning.position.line == line_of(text, "alt:")
    assert f'"{alt.strip()}"' in warning.message
    assert "Describe what the image shows" in warning.message


@pytest.mark.parametrize(
    ("file", "alt"),
    [
        ("tre glada personer.jpg", "Tre glada personer"),
        ("Tre glada personer.v2.jpg", "tre glada personer.v2"),
        ("bilder/tre glada personer.jpg", "Tre glada personer"),
    ],
)
def test_alt_text_that_is_the_file_name_is_a_warning(campaign, codes, file, alt):
    text = post_text(file, alt=f'"{alt}"')
    campaign.post(NAME, text, image=file)

    posts, diagnostics = campaign.load()

    assert len(posts) == 1
    assert codes(diagnostics) == ["alt-too-short"]


@pytest.mark.parametrize(
    "name",
    [
        "bild.jpg",
        "tre glada personer.jpg",
        "bild.v2.jpg",
        ".jpg",
        "bild.",
        "bild",
        "..",
        "...",
        "a\\b.jpg",
        "a:b.jpg",
        "bilder/bild.jpg",
        "bild.jpg/",
        "./bild.jpg",
        "~bild.jpg",
        "",
        ".",
    ],
)
def test_a_plain_image_name_is_told_from_its_text_as_a_path_reads_it(name):
    # Most images are named beside their post: they are looked at without building
    # a path from the name first (rules.images._is_plain_name), and must be what
    # Path makes of them: one part, not absolute, with the same stem.
    written = Path(name)
    if _is_plain_name(name):
        assert written.parts == (name,)
        assert not written.is_absolute()
        assert _plain_stem(name) == written.stem
    plain = {"bild.jpg", "tre glada personer.jpg", "bild.v2.jpg", ".jpg", "bild.", "bild", ".."}
    assert _is_plain_name(name) == (name in plain | {"..."})


@pytest.mark.parametrize(
    ("status", "severity", "loads"),
    [("ready", Severity.ERROR, False), ("draft", Severity.WARNING, True)],
)
def test_the_alt_placeholder_is_an_error_once_ready(campaign, codes, status, severity, loads):
    text = post_text("bild.jpg", status=status, alt="Beskriv vad bilden visar")
    campaign.post(NAME, text)

    posts, diagnostics = campaign.load()

    assert codes(diagnostics) == ["placeholder"]
    [diagnostic] = diagnostics
    assert diagnostic.severity is severity
    assert diagnostic.position.line == line_of(text, "alt:")
    assert '"Beskriv vad bilden visar" is still in the text' in diagnostic.message
    assert "replace it with the real text" in diagnostic.message
    assert len(posts) == int(loads)


@pytest.mark.parametrize(
    ("size", "channels", "expected"),
    [
        ((4000, 1000), "[instagram]", ("instagram-ratio", Severity.ERROR, "too wide")),
        ((1200, 4800), "[facebook, instagram]", ("instagram-ratio", Severity.ERROR, "too tall")),
        ((300, 300), "[instagram]", ("instagram-too-small", Severity.ERROR, "at least 320")),
        ((800, 1000), "[instagram]", ("image-small", Severity.WARNING, "look blurry")),
        ((1600, 2000), "[instagram]", None),
        ((1080, 566), "[instagram]", None),
        ((4000, 1000), "[facebook]", None),
        ((300, 300), "[facebook]", None),
    ],
    ids=[
        "wide",
        "tall",
        "too-small",
        "blurry",
        "portrait-4-5",
        "landscape-1.91",
        "wide-facebook-only",
        "small-facebook-only",
    ],
)
def test_image_fit_for_instagram(campaign, codes, size, channels, expected):
    text = post_text("bild.jpg", channels=channels)
    campaign.post(NAME, text, image=None)
    write_image(campaign.posts / "bild.jpg", size)

    posts, diagnostics = campaign.load()

    if expected is None:
        assert diagnostics == []
        assert len(posts) == 1
        return
    code, severity, phrase = expected
    assert codes(diagnostics) == [code]
    [diagnostic] = diagnostics
    assert diagnostic.severity is severity
    assert diagnostic.position.line == line_of(text, "file: bild.jpg")
    assert "`bild.jpg`" in diagnostic.message
    assert phrase in diagnostic.message
    assert len(posts) == (severity is Severity.WARNING)


def test_the_ratio_message_says_how_much_is_lost_and_what_to_do(campaign):
    campaign.post(NAME, post_text("bild.jpg", channels="[instagram]"), image=None)
    write_image(campaign.posts / "bild.jpg", (4000, 1000))

    _, diagnostics = campaign.load()

    message = only(diagnostics, "instagram-ratio").message
    assert "(4000×1000)" in message
    assert "52 % of it would be cut away" in message
    assert "Crop it to a less extreme shape, or post it on Facebook only" in message


@pytest.mark.parametrize(
    ("count", "channels", "error"),
    [(11, "[instagram]", True), (10, "[instagram]", False), (11, "[facebook]", False)],
)
def test_an_instagram_carousel_takes_at_most_ten_images(campaign, codes, count, channels, error):
    text = post_text(*["bild.jpg"] * count, channels=channels)
    campaign.post(NAME, text)

    posts, diagnostics = campaign.load()

    if not error:
        assert diagnostics == []
        assert len(posts[0].images) == count
        return
    assert codes(diagnostics) == ["instagram-carousel-size"]
    [diagnostic] = diagnostics
    assert diagnostic.severity is Severity.ERROR
    assert diagnostic.position.line == line_of(text, "file: bild.jpg", occurrence=10)
    assert "this post has 11" in diagnostic.message
    assert "Split it into two posts" in diagnostic.message
    assert posts == []


def test_an_instagram_post_with_an_empty_image_list_is_an_error(campaign, codes):
    text = post_text(channels="[facebook, instagram]")
    campaign.post(NAME, text, image=None)

    posts, diagnostics = campaign.load()

    assert codes(diagnostics) == ["images-required"]
    [diagnostic] = diagnostics
    assert diagnostic.severity is Severity.ERROR
    assert diagnostic.position.line == line_of(text, "images:")
    assert "Instagram posts need at least one image" in diagnostic.message
    assert "remove instagram from `channels`" in diagnostic.message
    assert posts == []


def test_an_instagram_post_without_images_key_is_an_error(campaign, codes):
    text = post_text(channels="[instagram]").replace("images: []\n", "")
    campaign.post(NAME, text, image=None)

    _, diagnostics = campaign.load()

    assert codes(diagnostics) == ["images-required"]


@pytest.mark.parametrize(
    "images_key",
    [
        "images: []\n",
        "",
    ],
    ids=["empty-list", "no-key"],
)
def test_a_facebook_only_post_needs_no_images(campaign, images_key):
    text = post_text(channels="[facebook]").replace("images: []\n", images_key)
    campaign.post(NAME, text, image=None)

    posts, diagnostics = campaign.load()

    assert diagnostics == []
    [post] = posts
    assert post.images == ()
    assert post.caption.startswith("Idag är det demokratins dag.")


def test_a_post_with_a_bad_image_stops_no_other_post(campaign):
    bad = campaign.posts / "2030-09-16-trasig.yaml"
    campaign.post(NAME, GOOD_POST)
    campaign.post(bad.stem, GOOD_POST.replace("2030-09-15", "2030-09-16").replace("bild", "trasig"))
    cut_jpeg(campaign.posts / "trasig.jpg")

    posts, diagnostics = campaign.load()

    assert [p.id for p in posts] == [NAME]
    assert [(d.path, d.code) for d in diagnostics] == [(bad, "image-unreadable")]
