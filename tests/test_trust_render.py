"""Renditions every platform takes (issue 10, items 13 and 14).

A 1.91:1 rendition 1080 wide was 1080×565 (1.9115:1), wider than Instagram takes; and
render and check must share one pixel limit.
"""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path

import pytest
from PIL import Image

from campaign.branding.geometry import ACCEPTED_RANGE, RATIOS, target_size
from campaign.branding.rendition import RENDER_MAX_PIXELS, render
from campaign.branding.templates import Style
from campaign.image_probe import MAX_IMAGE_PIXELS
from tests.test_branding_rendition import spec_for
from tests.test_branding_rendition import style as style

LOW, HIGH = Fraction(4, 5), Fraction(191, 100)  # what Instagram takes


@pytest.mark.parametrize("ratio", sorted(RATIOS))
def test_every_fixed_ratio_at_every_width_stays_within_4_5_to_1_91(ratio: str) -> None:
    assert ACCEPTED_RANGE == (LOW, HIGH)
    for width in range(100, 2161):
        got, height = target_size(ratio, width, (4000, 3000))
        assert got == width
        assert LOW <= Fraction(width, height) <= HIGH, (ratio, width, height)
        assert abs(height - width / RATIOS[ratio]) < 1  # still the nearest fit


def test_a_landscape_instagram_rendition_is_1080_by_566(tmp_path: Path, style: Style) -> None:
    image = tmp_path / "s.jpg"
    Image.new("RGB", (4000, 2000), (10, 200, 30)).save(image)
    rendered = render(spec_for(image, style, ratio="1.91:1", width=1080, template="band"))
    assert rendered.size == (1080, 566)
    with Image.open(io.BytesIO(rendered.data)) as made:
        assert made.size == (1080, 566)
        assert Fraction(*made.size) <= HIGH


def test_render_and_check_share_one_pixel_limit() -> None:
    assert RENDER_MAX_PIXELS == MAX_IMAGE_PIXELS
