"""The official Instagram API's limits: JPEG, 4:5 … 1.91:1, under 8 MiB, 10 images, caption
2,200 characters, 30 hashtags, 20 mentions, checked for both backends."""

from __future__ import annotations

import io
import os
from fractions import Fraction
from pathlib import Path

import pytest
from PIL import Image
from rich.console import Console

from campaign.branding import instagram_limits
from campaign.branding.geometry import target_size
from campaign.config import ConfigError
from campaign.post_loader import load_campaign
from scheduler.cli.render import run_render
from scheduler.prepare import prepare_posts
from tests.conftest import GOOD_POST, NOW, Campaign

GRAPH = '[channels.instagram]\nbackend = "graph"\n'
INSTAGRAPI = '[channels.instagram]\nbackend = "instagrapi"\n'
POST_ID = "2030-09-15-bra"


def settings(backend: str, width: int = 320, quality: int = 88) -> str:
    return (
        f'\n[brand]\nlogo = "logo.png"\ntemplate = "none"\n'
        f"[render]\nwidth = {width}\njpeg_quality = {quality}\n{backend}"
    )


@pytest.fixture
def sample(campaign: Campaign) -> Campaign:
    Image.new("RGBA", (100, 50), (230, 0, 0, 255)).save(campaign.root / "logo.png")
    return campaign


def noise(path: Path, size: tuple[int, int], fmt: str = "PNG") -> None:
    """Pure noise: the hardest picture to compress."""
    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(path, fmt)


def test_the_largest_rendition_settings_allow_stay_far_under_8_mib(sample: Campaign) -> None:
    noise(sample.posts / "bild.png", (1600, 2000))
    sample.post(POST_ID, GOOD_POST.replace("bild.jpg", "bild.png"), image=None)
    config = sample.config(settings(GRAPH, width=1440, quality=95))
    prepared, problems = prepare_posts(load_campaign(config, now=NOW).posts, config)
    assert problems == {}
    [item] = prepared[0].requests["instagram"].media
    with Image.open(item.path) as image:
        assert image.format == "JPEG"  # a PNG source goes out as JPEG
        assert image.size == (1440, 1800)
    assert item.path.stat().st_size < instagram_limits.GRAPH_MAX_IMAGE_BYTES / 2


def test_a_rendition_over_the_limit_is_refused_before_publishing(
    sample: Campaign, monkeypatch: pytest.MonkeyPatch
) -> None:
    sample.post(POST_ID, GOOD_POST)
    monkeypatch.setattr(instagram_limits, "GRAPH_MAX_IMAGE_BYTES", 1000)
    config = sample.config(settings(GRAPH))
    prepared, problems = prepare_posts(load_campaign(config, now=NOW).posts, config)
    assert prepared == []
    assert "image `bild.jpg` for instagram:" in problems[POST_ID]
    assert "Lower [render] jpeg_quality or width in config.toml" in problems[POST_ID]

    buffer = io.StringIO()
    console = Console(file=buffer, width=300, color_system=None)
    assert run_render(config, None, 1, console, console) == 1
    assert "under 0 MiB. Lower [render] jpeg_quality" in buffer.getvalue()

    instagrapi = sample.config(settings(INSTAGRAPI))  # instagrapi re-encodes: no such limit
    prepared, problems = prepare_posts(load_campaign(instagrapi, now=NOW).posts, instagrapi)
    assert problems == {} and len(prepared) == 1


@pytest.mark.parametrize("ratio", ["4:5", "1:1", "1.91:1"])
def test_every_instagram_rendition_shape_is_one_the_api_takes(ratio: str) -> None:
    for width in range(320, 1441):
        w, h = target_size(ratio, width, (4000, 3000))
        assert Fraction(4, 5) <= Fraction(w, h) <= Fraction(191, 100), (ratio, width)


def test_instagram_cannot_keep_an_images_original_shape(sample: Campaign) -> None:
    with pytest.raises(ConfigError, match="instagram_ratio"):
        sample.config('\n[render]\ninstagram_ratio = "original"\n')
    sample.post(POST_ID, GOOD_POST + "instagram:\n  ratio: original\n")
    _, diagnostics = sample.load(settings(GRAPH))
    assert any(d.severity == "error" and "ratio" in d.message for d in diagnostics)


@pytest.mark.parametrize("backend", [GRAPH, INSTAGRAPI])
@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda text: text.replace("#demokrati100", "x" * 2200), "instagram-caption-length"),
        (
            lambda text: text.replace("#demokrati100", " ".join(f"#t{i}" for i in range(31))),
            "instagram-hashtags",
        ),
        (
            lambda text: text.replace("#demokrati100", " ".join(f"@u{i}" for i in range(21))),
            "instagram-mentions",
        ),
        (
            lambda text: (
                text
                + "".join(
                    f"  - file: bild.jpg\n    alt: Tre personer framför en vallokal, bild {i}.\n"
                    for i in range(10)
                )
            ),
            "instagram-carousel-size",
        ),
    ],
)
def test_instagrams_text_and_carousel_limits_apply_to_both_backends(
    campaign: Campaign,
    backend: str,
    change,
    code: str,  # type: ignore[no-untyped-def]
) -> None:
    campaign.post(POST_ID, change(GOOD_POST))
    _, diagnostics = campaign.load(backend)
    assert code in [d.code for d in diagnostics if d.severity == "error"]
