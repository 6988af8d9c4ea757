"""Templates: headlines fitted to the band, right-to-left Arabic, the mark in its corner."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from PIL import Image, ImageChops

from campaign.branding.fonts import resolve_font
from campaign.branding.geometry import target_size
from campaign.branding.templates import (
    Style,
    TextDoesNotFit,
    _line_height,
    apply_template,
    fit_text,
    headline_box,
    picture_area,
)

SAMPLE_POSTS = Path(__file__).resolve().parent.parent / "posts"
PICTURE = (0, 0, 0)
BAND = (0, 0, 128)
TEXT = (255, 255, 255)
ACCENT = (255, 255, 0)
LOGO = (255, 0, 0)


@pytest.fixture
def style(tmp_path: Path) -> Style:
    logo = tmp_path / "logo.png"
    Image.new("RGBA", (100, 50), (*LOGO, 255)).save(logo)
    return Style(
        resolve_font("fontpkg:noto-sans", tmp_path),
        resolve_font("fontpkg:noto-sans-arabic", tmp_path),
        logo,
        "#000080",
        "#FFFFFF",
        "#FFFF00",
        "#demokrati100",
    )


def band_text_box(size: tuple[int, int]) -> tuple[int, int]:
    """The headline's box on the band: beside the mark, 62 % of the band's height."""
    box = headline_box(size)
    band = size[1] - picture_area("band", size)[1]
    assert box == (size[0] - 3 * round(size[0] * 0.04) - round(band * 0.7), round(band * 0.62))
    return box


def sample_headlines() -> list[tuple[str, str]]:
    """(headline, language) of every sample post that has one."""
    found = []
    for path in sorted(SAMPLE_POSTS.glob("*.yaml")):
        post = yaml.safe_load(path.read_text(encoding="utf-8"))
        brand = post.get("brand")
        if isinstance(brand, dict) and brand.get("headline"):
            found.append((brand["headline"], post.get("language", "sv")))
    return found


def assert_fits(lines: list[str], font, box: tuple[int, int], rtl: bool = False) -> None:
    direction = "rtl" if rtl else "ltr"
    assert lines and all(lines)
    assert all(font.getlength(line, direction=direction) <= box[0] for line in lines), lines
    assert len(lines) * _line_height(font) <= box[1]


@pytest.mark.parametrize("width", [320, 1080])
@pytest.mark.parametrize("ratio", ["4:5", "1:1", "1.91:1"])
def test_longest_sample_headline_fits_the_band(style: Style, ratio: str, width: int) -> None:
    headlines = [h for h, language in sample_headlines() if language != "ar"]
    assert len(headlines) >= 3
    longest = max(headlines, key=len)
    box = band_text_box(target_size(ratio, width, (1, 1)))
    lines, font = fit_text(longest, style.font, *box)
    assert_fits(lines, font, box)
    assert " ".join(lines) == " ".join(longest.split())
    assert font.size >= 12


def test_a_headline_gets_the_largest_size_that_fits(style: Style) -> None:
    box = band_text_box((1080, 1350))
    small_lines, small = fit_text("Internationella demokratidagen", style.font, *box)
    big_lines, big = fit_text("Tack", style.font, *box)
    assert big.size > small.size and big_lines == ["Tack"]
    assert len(small_lines) == 2  # wrapped rather than made smaller


def test_the_arabic_sample_headline_fits_the_band(style: Style) -> None:
    arabic = [h for h, language in sample_headlines() if language == "ar"]
    assert arabic
    box = band_text_box((1080, 1350))
    for headline in arabic:
        lines, font = fit_text(headline, style.rtl_font, *box, rtl=True)
        assert_fits(lines, font, box, rtl=True)


def test_an_over_long_headline_does_not_fit_and_says_to_shorten_it(style: Style) -> None:
    headline = ("Demokratin fyller hundra år i Södertälje " * 10)[:400]
    with pytest.raises(TextDoesNotFit, match="Shorten it") as caught:
        fit_text(headline, style.font, *band_text_box((1080, 1350)))
    assert "does not fit" in str(caught.value)


def drawn(style: Style, template: str, language: str, headline: str | None, size=(320, 400)):
    image = Image.new("RGB", size, PICTURE)
    return apply_template(image, template, headline, language, style)


def bbox_of(image: Image.Image, colour: tuple[int, int, int], top: int = 0, tolerance=40):
    """The box (left, top, right, bottom) of pixels near ``colour`` at or below row ``top``."""
    masks = [
        channel.point(lambda v, c=c: 255 if abs(v - c) <= tolerance else 0)
        for channel, c in zip(image.split(), colour, strict=True)
    ]
    mask = ImageChops.darker(ImageChops.darker(masks[0], masks[1]), masks[2])
    mask.paste(0, (0, 0, image.width, top))
    return mask.getbbox()


@pytest.mark.parametrize("language", ["sv", "ar"])
def test_band_lays_the_headline_and_mark_out_by_direction(style: Style, language: str) -> None:
    headline = "كيف تصوّت؟" if language == "ar" else "Vi ses"
    image = drawn(style, "band", language, headline)
    top = picture_area("band", image.size)[1]
    width = image.width
    assert image.getpixel((width // 2, top - 1)) == PICTURE  # nothing drawn over the picture
    assert image.getpixel((1, top + 1)) == BAND
    text = bbox_of(image, TEXT, top)
    logo = bbox_of(image, LOGO, top)
    hashtag = bbox_of(image, ACCENT, top)
    assert text and logo and hashtag
    assert bbox_of(image, TEXT) == text  # no headline pixel above the band
    if language == "ar":
        assert text[0] > width / 2 and text[2] <= width  # headline in the right half
        assert logo[2] < width / 3  # mark on the left
        assert hashtag[2] > width * 0.85  # hashtag right-aligned too
    else:
        assert text[2] < width / 2 and text[0] < width * 0.1  # headline from the left
        assert logo[0] > width * 2 / 3  # mark on the right
        assert hashtag[0] < width * 0.1
    assert logo[1] >= top and text[1] >= top


def test_a_one_word_arabic_headline_fits_a_landscape_band_at_the_smallest_width(
    style: Style,
) -> None:
    box = band_text_box(target_size("1.91:1", 320, (1, 1)))
    lines, font = fit_text("نعم", style.rtl_font, *box, rtl=True)
    assert_fits(lines, font, box, rtl=True)


def test_a_language_with_region_still_runs_right_to_left(style: Style) -> None:
    image = drawn(style, "band", "ar-SE", "كيف تصوّت؟")
    top = picture_area("band", image.size)[1]
    assert bbox_of(image, LOGO, top)[2] < image.width / 3


@pytest.mark.parametrize("language", ["sv", "ar"])
@pytest.mark.parametrize("size", [(320, 400), (320, 168)])
def test_corner_mark_lands_in_the_bottom_corner(
    style: Style, language: str, size: tuple[int, int]
) -> None:
    image = drawn(style, "corner", language, "Ignored headline", size)
    width, height = size
    left, top, right, bottom = bbox_of(image, LOGO)
    assert right - left == pytest.approx(width * 0.16, abs=1)
    assert height - bottom <= width * 0.06 and top > height / 2
    if language == "ar":
        assert left <= width * 0.06 and right < width / 2
    else:
        assert width - right <= width * 0.06 and left > width / 2
    assert bbox_of(image, TEXT) is None  # a corner mark has no headline


def test_template_none_draws_nothing(style: Style) -> None:
    image = drawn(style, "none", "sv", "Vi ses")
    assert image.getextrema() == ((0, 0), (0, 0), (0, 0))


def test_band_without_headline_still_draws_band_mark_and_hashtag(style: Style) -> None:
    image = drawn(style, "band", "sv", None)
    top = picture_area("band", image.size)[1]
    assert bbox_of(image, LOGO, top) and bbox_of(image, ACCENT, top)
    assert bbox_of(image, TEXT) is None
