"""Preparing posts: the exact requests sent per channel, and their fingerprints."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path

import pytest
from PIL import Image

from campaign.config import Config
from campaign.post import Post
from campaign.post_loader import load_campaign
from scheduler.channels.base import MediaItem
from scheduler.prepare import (
    Prepared,
    build_request,
    content_fingerprint,
    media_json,
    prepare_posts,
)
from tests.conftest import GOOD_POST, NOW, Campaign, undecodable_jpeg

SETTINGS = """
[brand]
logo = "logo.png"

[render]
width = 320
"""

GOOD_ID = "2030-09-15-bra"
LINK = "https://www.sodertalje.se/demokrati"

CAROUSEL_POST = """\
publish_at: 2030-09-16 09:00
channels: [facebook, instagram]
status: ready
caption: Så röstar du. Tre steg, tre bilder.
images:
  - file: steg-1.jpg
    alt: En hand lägger ett kuvert i en valurna.
  - file: steg-2.jpg
    alt: En röstsedel i ett gult kuvert på ett bord.
  - file: steg-3.jpg
    alt: Ett valbås med en blå gardin.
facebook:
  link: https://www.val.se/
instagram:
  first_comment: "#val2022 #röstaidag"
"""

TEXT_POST = """\
publish_at: 2030-09-17 09:00
channels: [facebook]
status: ready
caption: Välkommen till dialogträffen i kväll.
facebook:
  link: https://www.sodertalje.se/dialog
"""


def jpeg(path: Path, colour: tuple[int, int, int], size: tuple[int, int] = (400, 500)) -> None:
    Image.new("RGB", size, colour).save(path, "JPEG")


def touch_later(path: Path) -> None:
    """Move the mtime on: file systems with coarse timestamps must see the change."""
    status = path.stat()
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns + 2_000_000_000))


@pytest.fixture
def sample(campaign: Campaign) -> Campaign:
    Image.new("RGBA", (100, 50), (230, 0, 0, 255)).save(campaign.root / "logo.png")
    campaign.post(GOOD_ID, GOOD_POST)
    return campaign


def load(campaign: Campaign) -> tuple[Config, list[Post]]:
    config = campaign.config(SETTINGS)
    result = load_campaign(config, now=NOW)
    assert not result.errors, result.errors
    return config, result.posts


def prepare(campaign: Campaign) -> dict[str, Prepared]:
    config, posts = load(campaign)
    prepared, problems = prepare_posts(posts, config)
    assert problems == {}
    return {item.post.id: item for item in prepared}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_one_request_per_channel_with_the_rendition(sample: Campaign) -> None:
    config, posts = load(sample)
    prepared, problems = prepare_posts(posts, config)
    assert problems == {}
    [item] = prepared
    assert item.post.id == GOOD_ID
    assert list(item.requests) == ["facebook", "instagram"]
    caption = "Idag är det demokratins dag. Kom och prata med oss.\n#demokrati100"
    for channel, request in item.requests.items():
        assert request.channel == channel
        assert request.post_id == GOOD_ID
        assert request.caption == caption  # the YAML block's final line break dropped
        assert request.link is None
        assert len(request.fingerprint) == 64
        [media] = request.media
        assert media.alt == "Tre personer framför en vallokal med skylten Röstning."
        assert media.path.is_file()
        assert media.path.is_relative_to(config.build_dir)
        assert media.path.name.startswith(f"{channel}-1-")
        assert media.sha256 == sha256(media.path)
        assert Image.open(media.path).size == (320, 400)
    assert item.requests["facebook"].first_comment is None
    assert item.requests["instagram"].first_comment is None


def test_photo_post_link_goes_at_the_end_of_the_facebook_caption(sample: Campaign) -> None:
    sample.post(GOOD_ID, GOOD_POST + f"facebook:\n  link: {LINK}\n")
    requests = prepare(sample)[GOOD_ID].requests
    facebook = requests["facebook"]
    assert facebook.caption == (
        f"Idag är det demokratins dag. Kom och prata med oss.\n#demokrati100\n\n{LINK}"
    )
    assert facebook.link is None
    assert len(facebook.media) == 1
    assert LINK not in requests["instagram"].caption  # the link is Facebook's only
    assert requests["instagram"].link is None


def test_text_only_facebook_post_sends_the_link_as_a_link(sample: Campaign) -> None:
    sample.post("2030-09-17-text", TEXT_POST, image=None)
    request = prepare(sample)["2030-09-17-text"].requests["facebook"]
    assert request.caption == "Välkommen till dialogträffen i kväll."
    assert request.link == "https://www.sodertalje.se/dialog"
    assert request.media == ()
    assert request.first_comment is None


def test_carousel_media_in_image_order_and_first_comment(sample: Campaign) -> None:
    for number, colour in enumerate([(200, 30, 10), (30, 200, 10), (10, 30, 200)], start=1):
        jpeg(sample.posts / f"steg-{number}.jpg", colour)
    sample.post("2030-09-16-karusell", CAROUSEL_POST, image=None)
    requests = prepare(sample)["2030-09-16-karusell"].requests
    alts = [
        "En hand lägger ett kuvert i en valurna.",
        "En röstsedel i ett gult kuvert på ett bord.",
        "Ett valbås med en blå gardin.",
    ]
    for channel in ("facebook", "instagram"):
        media = requests[channel].media
        assert [m.alt for m in media] == alts
        assert [m.path.name.split("-")[:2] for m in media] == [
            [channel, "1"],
            [channel, "2"],
            [channel, "3"],
        ]
        assert [m.sha256 for m in media] == [sha256(m.path) for m in media]
        assert len({m.sha256 for m in media}) == 3
        # The first rendition is mostly red, the third mostly blue: the order is the images'.
        first = Image.open(media[0].path).convert("RGB").getpixel((160, 150))
        third = Image.open(media[2].path).convert("RGB").getpixel((160, 150))
        assert first[0] > first[2] and third[2] > third[0]
    assert requests["instagram"].first_comment == "#val2022 #röstaidag"
    assert requests["facebook"].first_comment is None
    assert requests["facebook"].caption.endswith("\n\nhttps://www.val.se/")


def test_fingerprint_is_stable_when_nothing_changes(sample: Campaign) -> None:
    first = prepare(sample)[GOOD_ID].requests
    again = prepare(sample)[GOOD_ID].requests
    assert {c: r.fingerprint for c, r in first.items()} == {
        c: r.fingerprint for c, r in again.items()
    }
    assert first["facebook"].fingerprint != first["instagram"].fingerprint  # channel included


def fingerprints(campaign: Campaign) -> dict[str, str]:
    return {c: r.fingerprint for c, r in prepare(campaign)[GOOD_ID].requests.items()}


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("Kom och prata med oss.", "Kom och prata med oss i dag."),
        ("skylten Röstning.", "skylten Rösta här."),
    ],
    ids=["caption", "alt-text"],
)
def test_fingerprint_changes_with_caption_and_alt_text(
    sample: Campaign, old: str, new: str
) -> None:
    before = fingerprints(sample)
    sample.post(GOOD_ID, GOOD_POST.replace(old, new))
    after = fingerprints(sample)
    assert before["facebook"] != after["facebook"]
    assert before["instagram"] != after["instagram"]


def test_fingerprint_changes_with_the_image_bytes(sample: Campaign) -> None:
    before = fingerprints(sample)
    image = sample.posts / "bild.jpg"
    jpeg(image, (240, 200, 20), size=(1600, 2000))
    touch_later(image)
    after = fingerprints(sample)
    assert before["facebook"] != after["facebook"]
    assert before["instagram"] != after["instagram"]


def test_fingerprint_changes_with_the_link_only_where_it_is_sent(sample: Campaign) -> None:
    sample.post(GOOD_ID, GOOD_POST + f"facebook:\n  link: {LINK}\n")
    before = fingerprints(sample)
    sample.post(GOOD_ID, GOOD_POST + "facebook:\n  link: https://www.val.se/\n")
    after = fingerprints(sample)
    assert before["facebook"] != after["facebook"]
    assert before["instagram"] == after["instagram"]


def test_fingerprint_covers_every_field_that_is_sent() -> None:
    media = (MediaItem(Path("/build/a.jpg"), "Alt", "1" * 64),)
    base = content_fingerprint("facebook", "Text", None, None, media)
    assert base == content_fingerprint("facebook", "Text", None, None, media)
    variants = [
        content_fingerprint("instagram", "Text", None, None, media),
        content_fingerprint("facebook", "Text.", None, None, media),
        content_fingerprint("facebook", "Text", "https://www.val.se/", None, media),
        content_fingerprint("facebook", "Text", None, "#val2022", media),
        content_fingerprint("facebook", "Text", None, None, ()),
        content_fingerprint("facebook", "Text", None, None, (media[0], media[0])),
        content_fingerprint(
            "facebook", "Text", None, None, (MediaItem(Path("a"), "Alt.", "1" * 64),)
        ),
        content_fingerprint(
            "facebook", "Text", None, None, (MediaItem(Path("a"), "Alt", "2" * 64),)
        ),
    ]
    assert base not in variants and len(set(variants)) == len(variants)
    # Where the rendition lies is not content: the same bytes elsewhere are the same post.
    moved = (MediaItem(Path("/elsewhere/b.jpg"), "Alt", "1" * 64),)
    assert content_fingerprint("facebook", "Text", None, None, moved) == base


def test_an_image_that_cannot_be_rendered_is_a_problem_of_its_post_only(
    sample: Campaign,
) -> None:
    broken = CAROUSEL_POST.replace("steg-2.jpg", "trasig.jpg")
    for number in (1, 3):
        jpeg(sample.posts / f"steg-{number}.jpg", (90, 90, 90))
    undecodable_jpeg(sample.posts / "trasig.jpg")
    sample.post("2030-09-16-trasig", broken, image=None)
    config, posts = load(sample)
    prepared, problems = prepare_posts(posts, config)
    assert [item.post.id for item in prepared] == [GOOD_ID]
    assert list(problems) == ["2030-09-16-trasig"]
    assert "trasig.jpg" in problems["2030-09-16-trasig"]
    assert set(prepared[0].requests) == {"facebook", "instagram"}


def test_a_missing_logo_is_a_problem_of_every_post(sample: Campaign) -> None:
    (sample.root / "logo.png").unlink()
    config, posts = load(sample)
    prepared, problems = prepare_posts(posts, config)
    assert prepared == []
    assert list(problems) == [GOOD_ID]
    assert "logo" in problems[GOOD_ID]


def test_build_request_without_caption_sends_only_the_link(sample: Campaign) -> None:
    _, [post] = load(sample)
    media = (MediaItem(Path("/build/r.jpg"), "Alt", "1" * 64),)
    linked = dataclasses.replace(
        post, caption=None, facebook=post.facebook.model_copy(update={"link": LINK})
    )
    request = build_request(linked, "facebook", media)
    assert request.caption == LINK
    assert request.link is None
    assert request.fingerprint == content_fingerprint("facebook", LINK, None, None, media)


def test_media_json_keeps_only_file_names_alt_texts_and_digests(sample: Campaign) -> None:
    for number, colour in enumerate([(200, 30, 10), (30, 200, 10), (10, 30, 200)], start=1):
        jpeg(sample.posts / f"steg-{number}.jpg", colour)
    sample.post("2030-09-16-karusell", CAROUSEL_POST, image=None)
    media = prepare(sample)["2030-09-16-karusell"].requests["instagram"].media
    text = media_json(media)
    assert str(sample.root) not in text and "/" not in text
    assert "röstsedel" in text  # not \u-escaped
    items = json.loads(text)
    assert items == [{"file": m.path.name, "alt": m.alt, "sha256": m.sha256} for m in media]
    assert media_json(()) == "[]"
