"""A band headline that render could not fit is a check error, at the headline's line.

Check asks what render asks (the same fitting, on the box of each channel's rendition
size), so a post that passes `campaign check` never fails `campaign render` on its
headline (issue 10, item 13: an 80-character headline with no spaces passed check).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from campaign.branding.cache import FileDigests
from campaign.branding.fonts import resolve_font
from campaign.branding.render_all import brand_style, plan_renditions, render_campaign
from campaign.branding.templates import (
    TextDoesNotFit,
    fit_text,
    fits_at_some_size,
    headline_box,
)
from campaign.diagnostics import Diagnostic
from tests.conftest import GOOD_POST, Campaign

LOGO = '[brand]\nlogo = "logo.png"\n'
#: Short and long, with and without places to wrap, around where each box stops fitting.
HEADLINES = [
    "Tack",
    "Demokratin 100 år",
    *(("Demokratin fyller hundra år i Södertälje " * 6)[:n] for n in (40, 80, 120, 160, 240)),
    *("A" * n for n in (20, 30, 40, 50, 60, 70, 80)),
    *("Demokratifestivalen" * k for k in (1, 2, 3)),
]
UNBROKEN = "Demokratifestivalen" * 4 + "Ja"  # 78 characters, no space to wrap at


def post_with(brand: str, instagram: str = "") -> str:
    return GOOD_POST + brand + instagram


def test_an_unbreakable_headline_is_an_error_at_its_line(campaign: Campaign, codes) -> None:
    path = campaign.post(
        "2030-09-15-rubrik",
        post_with(f"brand:\n  template: band\n  headline: {UNBROKEN}\n"),
    )

    posts, diagnostics = campaign.load()

    assert posts == []
    [error] = [d for d in diagnostics if d.code == "headline-too-long"]
    assert (error.path, error.position.line) == (path, 12)
    assert "1080×1350 Facebook image" in error.message  # the first channel it fails on
    assert "Shorten it" in error.message


def test_the_same_words_with_spaces_fit(campaign: Campaign, codes) -> None:
    words = "Demokratifestivalen " * 3 + "Ja"
    campaign.post(
        "2030-09-15-rubrik", post_with(f"brand:\n  template: band\n  headline: {words}\n")
    )

    posts, diagnostics = campaign.load()

    assert "headline-too-long" not in codes(diagnostics)
    assert [post.id for post in posts] == ["2030-09-15-rubrik"]


def test_only_the_band_draws_a_headline(campaign: Campaign, codes) -> None:
    campaign.post(
        "2030-09-15-rubrik",
        post_with(f"brand:\n  template: corner\n  headline: {UNBROKEN}\n"),
    )

    posts, diagnostics = campaign.load()

    assert "headline-too-long" not in codes(diagnostics)
    assert len(posts) == 1


def test_each_channel_is_judged_at_its_own_rendition_size(campaign: Campaign, codes) -> None:
    # 80 letters fit a small landscape band (smaller type is allowed there), not 4:5.
    headline = "A" * 80
    brand = f"brand:\n  template: band\n  headline: {headline}\n"
    landscape = 'instagram:\n  ratio: "1.91:1"\nfacebook:\n  ratio: "1.91:1"\n'
    campaign.post("2030-09-15-liggande", post_with(brand, landscape))
    campaign.post("2030-09-16-staende", post_with(brand).replace("2030-09-15", "2030-09-16"))

    posts, diagnostics = campaign.load()

    assert [post.id for post in posts] == ["2030-09-15-liggande"]
    [error] = [d for d in diagnostics if d.code == "headline-too-long"]
    assert error.path.stem == "2030-09-16-staende"


def test_a_post_that_passes_check_renders(
    campaign: Campaign, codes: Callable[[list[Diagnostic]], list[str]]
) -> None:
    headline = "A" * 80
    landscape = 'instagram:\n  ratio: "1.91:1"\nfacebook:\n  ratio: "1.91:1"\n'
    campaign.post(
        "2030-09-15-liggande",
        post_with(f"brand:\n  template: band\n  headline: {headline}\n", landscape),
    )
    Image.new("RGBA", (100, 50), (230, 0, 0, 255)).save(campaign.root / "logo.png")
    posts, diagnostics = campaign.load(LOGO)
    assert "headline-too-long" not in codes(diagnostics)
    config = campaign.config(LOGO)
    assert brand_style(config)

    jobs = plan_renditions(posts, config, FileDigests(config.build_dir))
    report = render_campaign(jobs, workers=1)

    assert report.failed == []
    assert len(jobs) == 2 and all(job.output.is_file() for job in jobs)


@pytest.mark.parametrize("size", [(1080, 1350), (1080, 1080), (1080, 566), (320, 400)])
def test_checks_one_size_question_agrees_with_renders_search(size: tuple[int, int]) -> None:
    """Check asks at the smallest size only; render tries every size: the same verdict."""
    font = resolve_font("fontpkg:noto-sans", Path("."), "font")
    box = headline_box(size)
    for headline in HEADLINES:
        try:
            fit_text(headline, font, *box)
            rendered = True
        except TextDoesNotFit:
            rendered = False
        assert fits_at_some_size(headline, font, *box) is rendered, (headline, size)
