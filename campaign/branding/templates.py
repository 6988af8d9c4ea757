"""Brand templates drawn on a rendition: a colour band with headline, or a corner mark.

Text is laid out by raqm, so Arabic is shaped and runs right to left when the
post's language says so; the headline is wrapped and sized to fit its space.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from campaign.branding.fonts import load_font
from campaign.branding.spec import Style

RTL_LANGUAGES = frozenset({"ar", "fa", "he", "ur", "ps", "ckb", "syr"})
_BAND_SHARE = 0.2  # of the image height
_MARK_SHARE = 0.16  # of the image width, corner template
_MARGIN_SHARE = 0.04


class TextDoesNotFit(ValueError):
    """The headline cannot be fitted at a readable size."""


def picture_area(template: str, size: tuple[int, int]) -> tuple[int, int]:
    """The part of a rendition the picture fills: all of it, or what is above the band.

    The band is laid below the picture, never over it, so it covers nothing.
    """
    width, height = size
    if template == "band":
        return width, height - round(height * _BAND_SHARE)
    return width, height


def apply_template(
    image: Image.Image, template: str, headline: str | None, language: str, style: Style
) -> Image.Image:
    """``image`` with the template drawn on it (``none`` returns it as is).

    For ``band``, ``image`` is the whole rendition with the picture already in its
    :func:`picture_area`; the band is drawn below it.
    """
    if template == "none":
        return image
    rtl = language.split("-")[0] in RTL_LANGUAGES
    if template == "band":
        _draw_band(image, headline or "", rtl, style)
    else:
        _draw_mark(image, style.logo, rtl, round(image.width * _MARK_SHARE))
    return image


def headline_box(size: tuple[int, int]) -> tuple[int, int]:
    """The width and height the band's headline may take on a rendition of ``size``."""
    width, height = size
    band_h = height - picture_area("band", size)[1]
    margin = round(width * _MARGIN_SHARE)
    return width - 3 * margin - round(band_h * 0.7), round(band_h * 0.62)


def _draw_band(image: Image.Image, headline: str, rtl: bool, style: Style) -> None:
    width, height = image.size
    band_h = height - picture_area("band", image.size)[1]
    margin = round(width * _MARGIN_SHARE)
    top = height - band_h
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, top, width, height), fill=style.band_colour)
    mark = round(band_h * 0.7)
    _draw_mark(image, style.logo, rtl, mark, box=(0, top, width, height))
    text_w, text_h = headline_box(image.size)
    text_left = margin + mark + margin if rtl else margin
    hashtag_font = load_font(style.font, max(14, round(band_h * 0.14)), "Regular")
    headline_font_path = style.rtl_font if rtl else style.font
    lines, font = fit_text(headline, headline_font_path, text_w, text_h, rtl)
    direction = "rtl" if rtl else "ltr"
    line_h = _line_height(font)
    hashtag_h = _line_height(hashtag_font) if style.hashtag else 0
    y = top + (band_h - line_h * len(lines) - hashtag_h) // 2
    anchor = "ra" if rtl else "la"  # x is the line's right (RTL) or left edge; y its ascender
    x = text_left + text_w if rtl else text_left
    for line in lines:
        draw.text(
            (x, y), line, font=font, fill=style.text_colour, direction=direction, anchor=anchor
        )
        y += line_h
    if style.hashtag:
        draw.text((x, y), style.hashtag, font=hashtag_font, fill=style.accent_colour, anchor=anchor)


def fit_text(
    text: str, font_path: Path, max_width: int, max_height: int, rtl: bool = False
) -> tuple[list[str], ImageFont.FreeTypeFont]:
    """The largest font size (and its line breaks) at which ``text`` fits the box."""
    for size in _font_sizes(max_height):
        if fitted := _fitted(text, font_path, size, max_width, max_height, rtl):
            return fitted
    raise TextDoesNotFit(
        f'the headline "{text}" does not fit on the band even at the smallest size. '
        "Shorten it (a few words, at most about 40 characters)."
    )


def fits_at_some_size(
    text: str, font_path: Path, max_width: int, max_height: int, rtl: bool = False
) -> bool:
    """Whether :func:`fit_text` finds a size for ``text``, asked with one font load: text
    that fits at some size fits at the smallest one it tries (`campaign check` asks this)."""
    sizes = _font_sizes(max_height)
    return (
        bool(sizes) and _fitted(text, font_path, sizes[-1], max_width, max_height, rtl) is not None
    )


def _font_sizes(max_height: int) -> range:
    """The sizes :func:`fit_text` tries, largest first, down to a readable minimum."""
    minimum = max(8, max_height // 6)
    return range(max_height, minimum - 1, -max(1, max_height // 40))


def _fitted(
    text: str, font_path: Path, size: int, max_width: int, max_height: int, rtl: bool
) -> tuple[list[str], ImageFont.FreeTypeFont] | None:
    """The lines and font of ``text`` at ``size`` if they fit the box, else None."""
    direction = "rtl" if rtl else "ltr"
    font = load_font(font_path, size)
    lines = _wrap(text, font, max_width, direction)
    fits = all(font.getlength(line, direction=direction) <= max_width for line in lines)
    if fits and len(lines) * _line_height(font) <= max_height:
        return lines, font
    return None


def _line_height(font: ImageFont.FreeTypeFont) -> int:
    """Ascent plus descent: Arabic marks below the line need the full descent."""
    ascent, descent = font.getmetrics()
    return ascent + descent


def _wrap(text: str, font: ImageFont.FreeTypeFont, max_width: int, direction: str) -> list[str]:
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        current = ""
        for word in paragraph.split():
            candidate = f"{current} {word}".strip()
            if current and font.getlength(candidate, direction=direction) > max_width:
                lines.append(current)
                current = word
            else:
                current = candidate
        lines.append(current)
    return lines


def _draw_mark(
    image: Image.Image,
    logo: Path,
    rtl: bool,
    size: int,
    box: tuple[int, int, int, int] | None = None,
) -> None:
    """Paste the campaign mark, ``size`` px wide, in the bottom corner (left when RTL)."""
    mark = _scaled_logo(logo, logo.stat().st_mtime_ns, size)
    left, top, right, bottom = box or (0, 0, image.width, image.height)
    margin = round(image.width * _MARGIN_SHARE)
    x = left + margin if rtl else right - margin - mark.width
    y = top + (bottom - top - mark.height) // 2 if box else bottom - margin - mark.height
    image.paste(mark, (x, y), mark)


@lru_cache(maxsize=16)
def _scaled_logo(logo: Path, _mtime: int, width: int) -> Image.Image:
    """The mark at ``width`` px; keyed by modification time, so a replaced file is redrawn."""
    with Image.open(logo) as source:
        mark = source.convert("RGBA")
    height = round(mark.height * width / mark.width)
    return mark.resize((width, height), Image.Resampling.LANCZOS)
