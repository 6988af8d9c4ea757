"""Rendition sizes and crops: each channel's shape, and the part of the image that is kept."""

from __future__ import annotations

import itertools
import random

import pytest

from campaign.branding.geometry import crop_box, target_size


@pytest.mark.parametrize(
    ("ratio", "expected"),
    [
        ("4:5", (1080, 1350)),
        ("1:1", (1080, 1080)),
        ("1.91:1", (1080, 566)),
    ],  # 565 would be 1.9115:1, wider than 1.91:1,
)
def test_target_size_of_each_ratio_at_1080(ratio: str, expected: tuple[int, int]) -> None:
    assert target_size(ratio, 1080, (4000, 3000)) == expected


def test_landscape_ratio_is_within_a_pixel_of_width_over_1_91() -> None:
    for width in (320, 1080, 1081, 1200, 1440):
        got_width, height = target_size("1.91:1", width, (10, 10))
        assert got_width == width
        assert abs(height - width / 1.91) <= 1


def test_fixed_ratios_do_not_depend_on_the_source() -> None:
    for source in ((100, 5000), (5000, 100), (300, 300)):
        assert target_size("4:5", 320, source) == (320, 400)


@pytest.mark.parametrize(
    ("source", "height"),
    [
        ((4000, 3000), 810),  # 4:3 kept as it is
        ((3000, 4000), 1440),  # 3:4 kept as it is
        ((1000, 100), 360),  # 10:1 clamped to 3:1
        ((100, 1000), 3240),  # 1:10 clamped to 1:3
        ((3000, 1000), 360),  # exactly 3:1
        ((1000, 3000), 3240),  # exactly 1:3
    ],
)
def test_original_keeps_the_source_shape_within_1_3_and_3_1(
    source: tuple[int, int], height: int
) -> None:
    assert target_size("original", 1080, source) == (1080, height)


@pytest.mark.parametrize(
    ("source", "target", "focus", "box"),
    [
        # Landscape source into a square: full height kept, moved along x.
        ((400, 300), (320, 320), (0.5, 0.5), (50, 0, 350, 300)),
        ((400, 300), (320, 320), (0.0, 0.0), (0, 0, 300, 300)),
        ((400, 300), (320, 320), (1.0, 1.0), (100, 0, 400, 300)),
        ((400, 300), (320, 320), (0.3, 0.5), (0, 0, 300, 300)),  # clamped at the left
        ((400, 300), (320, 320), (0.6, 0.5), (90, 0, 390, 300)),  # not clamped
        # Portrait source into a landscape target: full width kept, moved along y.
        ((300, 600), (300, 150), (0.5, 0.5), (0, 225, 300, 375)),
        ((300, 600), (300, 150), (0.0, 0.0), (0, 0, 300, 150)),
        ((300, 600), (300, 150), (1.0, 1.0), (0, 450, 300, 600)),
        ((300, 600), (300, 150), (0.5, 0.9), (0, 450, 300, 600)),  # clamped at the bottom
        # Same shape as the target: the whole image, whatever the focus.
        ((800, 1000), (320, 400), (0.0, 0.0), (0, 0, 800, 1000)),
        ((800, 1000), (320, 400), (1.0, 1.0), (0, 0, 800, 1000)),
    ],
)
def test_crop_box_is_the_largest_box_centred_on_focus_and_clamped(
    source: tuple[int, int],
    target: tuple[int, int],
    focus: tuple[float, float],
    box: tuple[int, int, int, int],
) -> None:
    assert crop_box(source, target, focus) == box


def test_crop_box_inside_the_image_of_the_target_shape_for_many_sizes() -> None:
    rng = random.Random(20210915)
    sources = [(rng.randint(3, 6000), rng.randint(3, 6000)) for _ in range(150)]
    sources += [(3, 3), (3, 5000), (5000, 3), (1080, 1350), (1080, 566)]
    targets = [target_size(r, w, (1, 1)) for r in ("4:5", "1:1", "1.91:1") for w in (320, 1080)]
    targets += [target_size("original", 1080, s) for s in ((10, 1), (1, 10), (7, 3))]
    focuses = [(0.0, 0.0), (1.0, 1.0), (0.5, 0.5), (0.1, 0.9), (rng.random(), rng.random())]
    for (width, height), (tw, th), (fx, fy) in itertools.product(sources, targets, focuses):
        left, top, right, bottom = crop_box((width, height), (tw, th), (fx, fy))
        where = f"source {width}×{height}, target {tw}×{th}, focus {fx, fy}"
        assert 0 <= left < right <= width and 0 <= top < bottom <= height, where
        box_w, box_h = right - left, bottom - top
        # The largest box: one side is the image's full side.
        assert box_w == width or box_h == height, where
        # Of the target's shape, within a pixel of rounding on the cut side.
        if box_h == height:
            assert abs(box_w - height * tw / th) <= 1 or box_w == width, where
        else:
            assert abs(box_h - width * th / tw) <= 1, where
        # Centred on the focus unless that would leave the image.
        centre_x, centre_y = (left + right) / 2, (top + bottom) / 2
        if left > 0 and right < width:
            assert abs(centre_x - fx * width) <= 1, where
        if top > 0 and bottom < height:
            assert abs(centre_y - fy * height) <= 1, where


@pytest.mark.parametrize("ratio", ["4:5", "1:1", "1.91:1"])
def test_crop_box_of_a_one_pixel_wide_or_high_source_is_never_empty(ratio: str) -> None:
    for source in ((1, 1), (1, 5000), (5000, 1), (2, 1)):
        left, top, right, bottom = crop_box(source, target_size(ratio, 320, source), (0.5, 0.5))
        assert 0 <= left < right <= source[0] and 0 <= top < bottom <= source[1]
