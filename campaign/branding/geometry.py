"""Sizes and crops: what shape each channel gets, and which part of the image to keep."""

from __future__ import annotations

import math
from fractions import Fraction

RATIOS: dict[str, Fraction] = {
    "4:5": Fraction(4, 5),
    "1:1": Fraction(1, 1),
    "1.91:1": Fraction(191, 100),
}
# Instagram takes 4:5 … 1.91:1; every fixed ratio, once rounded to pixels, stays inside it.
ACCEPTED_RANGE = (Fraction(4, 5), Fraction(191, 100))
# Facebook shows photos of any shape within reason; "original" keeps the shape inside this.
ORIGINAL_RANGE = (Fraction(1, 3), Fraction(3, 1))

Box = tuple[int, int, int, int]


def target_size(ratio: str, width: int, source: tuple[int, int]) -> tuple[int, int]:
    """The rendition's pixel size: ``width`` wide at ``ratio`` (or the source's shape).

    The height is the nearest whole number that keeps the shape inside what the platform
    takes: 1.91:1 at 1080 wide is 1080×566 (1080×565 would be 1.9115:1, too wide).
    """
    if ratio == "original":
        shape = Fraction(source[0], source[1])
        low, high = ORIGINAL_RANGE
        shape = min(max(shape, low), high)
    else:
        shape = RATIOS[ratio]
        low, high = ACCEPTED_RANGE
    height = max(1, round(width / shape))
    if Fraction(width, height) > high:
        height = math.ceil(width / high)
    elif Fraction(width, height) < low:
        height = math.floor(width / low)
    return width, height


def crop_box(source: tuple[int, int], target: tuple[int, int], focus: tuple[float, float]) -> Box:
    """The largest box of the target's shape inside ``source``, centred on ``focus``.

    ``focus`` is (x, y) as fractions of the source's width and height; the box is
    moved only as far as needed to stay inside the image.
    """
    width, height = source
    target_shape = Fraction(target[0], target[1])
    if Fraction(width, height) > target_shape:  # too wide: keep the full height
        box_w, box_h = round(height * target_shape), height
    else:  # too tall: keep the full width
        box_w, box_h = width, round(width / target_shape)
    box_w, box_h = min(box_w, width), min(box_h, height)
    left = _clamp(round(focus[0] * width - box_w / 2), 0, width - box_w)
    top = _clamp(round(focus[1] * height - box_h / 2), 0, height - box_h)
    return left, top, left + box_w, top + box_h


def fit_inside(source: tuple[int, int], area: tuple[int, int]) -> tuple[int, int]:
    """The size of ``source`` scaled to fit wholly inside ``area``, keeping its shape."""
    scale = min(area[0] / source[0], area[1] / source[1])
    return max(1, round(source[0] * scale)), max(1, round(source[1] * scale))


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(value, high))
