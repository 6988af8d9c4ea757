"""Branding: a band headline that `campaign render` could not fit is an error here first.

The rule asks the question render's :func:`~campaign.branding.templates.fit_text` answers
(is there a size at which the headline fits the same box, at the size each channel's
rendition will have), so check and render never disagree about a headline. It loads one
font size per box, and only for posts with a band headline.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from campaign.config import ChannelName
from campaign.post import PostImage
from campaign.rules.context import PostCheck

_CHANNEL_NAMES = {"facebook": "Facebook", "instagram": "Instagram"}


def check_headline_fits(check: PostCheck, images: tuple[PostImage, ...]) -> None:
    """A band headline fits on every rendition the post gets."""
    brand = check.fields.get("brand")
    headline = getattr(brand, "headline", None)
    template = getattr(brand, "template", None) or check.config.brand.template
    if not headline or template != "band" or brand == "none":
        return
    from campaign.branding.fonts import FontProblem
    from campaign.branding.templates import RTL_LANGUAGES

    language = check.fields.get("language") or check.config.campaign.language
    rtl = language.split("-")[0] in RTL_LANGUAGES
    brand_config = check.config.brand
    try:
        font = _resolve_font(
            brand_config.rtl_font if rtl else brand_config.font,
            check.config.base_dir,
            "rtl_font" if rtl else "font",
        )
    except FontProblem:
        return  # a config problem: `campaign render` names the key
    for channel in check.channels:
        ratio = _ratio(check, channel)
        sources = [(image.width, image.height) for image in images] or [(1, 1)]
        for size in {_target_size(ratio, check.config.render.width, source) for source in sources}:
            if not _fits(headline, font, size, rtl):
                check.sink.error(
                    check.at("brand", "headline"),
                    "headline-too-long",
                    f"the headline does not fit on the band of the {size[0]}×{size[1]} "
                    f"{_CHANNEL_NAMES.get(channel, channel)} image, even at the smallest "
                    "size. Shorten it (a few words, at most about 40 characters), or break "
                    "a long word with a space or a hyphen.",
                )
                return


def _ratio(check: PostCheck, channel: ChannelName) -> str:
    block = check.fields.get(channel)
    given = getattr(block, "ratio", None)
    if given:
        return str(given)
    render = check.config.render
    return render.instagram_ratio if channel == "instagram" else render.facebook_ratio


@lru_cache(maxsize=1024)
def _target_size(ratio: str, width: int, source: tuple[int, int]) -> tuple[int, int]:
    """The rendition's size (:func:`campaign.branding.geometry.target_size`, which works in
    fractions), worked out once per shape and source size: photos share a few sizes."""
    from campaign.branding.geometry import target_size

    return target_size(ratio, width, source)


def _resolve_font(spec: str, base_dir: Path, key: str) -> Path:
    """The font file for ``spec``; a font package's is looked up once per process (its
    module, once imported, stays where it is), not once per post with a headline."""
    from campaign.branding.fonts import resolve_font

    if spec.startswith("fontpkg:"):
        return _package_font(spec, key)
    return resolve_font(spec, base_dir, key)


@lru_cache(maxsize=16)
def _package_font(spec: str, key: str) -> Path:
    from campaign.branding.fonts import resolve_font

    return resolve_font(spec, Path(), key)


@lru_cache(maxsize=256)
def _fits(headline: str, font: Path, size: tuple[int, int], rtl: bool) -> bool:
    from campaign.branding.templates import fits_at_some_size, headline_box

    return fits_at_some_size(headline, font, *headline_box(size), rtl)
