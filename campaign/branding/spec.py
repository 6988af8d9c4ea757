"""What decides a rendition's pixels, as plain data.

Planning renditions names each one by a hash of these values (:mod:`campaign.branding.cache`:
being values, they are hashed as such, and this file is not part of the drawing code's
digest). Kept apart from the drawing code, so that planning, and a render with nothing to
draw, import no more of Pillow than reading the images does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Style:
    """What a template needs from the brand config, resolved."""

    font: Path
    rtl_font: Path
    logo: Path
    band_colour: str
    text_colour: str
    accent_colour: str
    hashtag: str


@dataclass(frozen=True)
class RenditionSpec:
    """Everything that decides one rendition's pixels."""

    source: Path
    ratio: str
    width: int
    focus: tuple[float, float]
    template: str
    headline: str | None
    fit: str
    language: str
    quality: int
    background: tuple[int, int, int]
    style: Style
