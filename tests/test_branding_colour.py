"""to_srgb: every colour mode to 8-bit sRGB without alpha, upright by EXIF orientation."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageCms

from campaign.branding.colour import to_srgb

BACKGROUND = (247, 244, 236)
SRGB_PROFILE = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
_ICC_FOLDERS = (Path("/usr/share/color/icc"), Path("/usr/share/color/icc/ghostscript"))


def system_profile(*names: str) -> bytes | None:
    """The bytes of the first ICC profile of that name found on this system."""
    for folder in _ICC_FOLDERS:
        for name in names:
            if (folder / name).is_file():
                return (folder / name).read_bytes()
    return None


CMYK_PROFILE = system_profile("default_cmyk.icc", "ISOcoated_v2_300_eci.icc", "USWebCoatedSWOP.icc")
ADOBE_RGB_PROFILE = system_profile("a98.icc", "AdobeRGB1998.icc")


def reopened(image: Image.Image, fmt: str, **params: object) -> Image.Image:
    """``image`` saved as ``fmt`` and opened again, as a post's image file would be."""
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    buffer.seek(0)
    return Image.open(buffer)


def close(pixel: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 2) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, expected, strict=True))


def test_plain_cmyk_becomes_rgb() -> None:
    cyan = reopened(Image.new("CMYK", (8, 8), (255, 0, 0, 0)), "JPEG", quality=100)
    assert cyan.mode == "CMYK" and "icc_profile" not in cyan.info
    result = to_srgb(cyan, BACKGROUND)
    assert result.mode == "RGB"
    assert close(result.getpixel((4, 4)), (0, 255, 255), tolerance=3)


@pytest.mark.skipif(CMYK_PROFILE is None, reason="no CMYK ICC profile on this system")
def test_cmyk_with_embedded_profile_is_converted_through_it() -> None:
    cyan = Image.new("CMYK", (8, 8), (255, 0, 0, 0))
    image = reopened(cyan, "JPEG", quality=100, icc_profile=CMYK_PROFILE)
    assert image.info.get("icc_profile")
    result = to_srgb(image, BACKGROUND)
    assert result.mode == "RGB"
    red, green, blue = result.getpixel((4, 4))
    # Printed cyan is far duller than the naive (0, 255, 255) a plain conversion gives.
    assert red < 60 and 120 < green < 220 and blue > 200
    assert abs(green - 255) > 25


def test_cmyk_with_an_rgb_profile_falls_back_to_plain_conversion() -> None:
    image = reopened(Image.new("CMYK", (8, 8), (255, 0, 0, 0)), "JPEG", icc_profile=SRGB_PROFILE)
    result = to_srgb(image, BACKGROUND)
    assert result.mode == "RGB" and close(result.getpixel((4, 4)), (0, 255, 255), tolerance=3)


def test_rgb_with_srgb_profile_passes_through_unchanged() -> None:
    source = Image.new("RGB", (8, 8), (100, 150, 60))
    source.putpixel((0, 0), (250, 5, 128))
    result = to_srgb(reopened(source, "PNG", icc_profile=SRGB_PROFILE), BACKGROUND)
    assert result.mode == "RGB"
    assert close(result.getpixel((4, 4)), (100, 150, 60))
    assert close(result.getpixel((0, 0)), (250, 5, 128))


def test_a_broken_embedded_profile_is_ignored() -> None:
    image = Image.new("RGB", (4, 4), (100, 150, 60))
    image.info["icc_profile"] = b"not a profile at all"
    result = to_srgb(image, BACKGROUND)
    assert result.mode == "RGB" and result.getpixel((1, 1)) == (100, 150, 60)


def test_rgba_with_a_profile_keeps_its_alpha_for_flattening() -> None:
    rgba = Image.new("RGBA", (2, 1), (200, 10, 10, 255))
    rgba.putpixel((1, 0), (200, 10, 10, 0))
    result = to_srgb(reopened(rgba, "PNG", icc_profile=SRGB_PROFILE), (40, 80, 160))
    assert close(result.getpixel((0, 0)), (200, 10, 10))
    assert result.getpixel((1, 0)) == (40, 80, 160)


@pytest.mark.skipif(ADOBE_RGB_PROFILE is None, reason="no Adobe RGB ICC profile on this system")
def test_rgb_with_a_wide_gamut_profile_is_converted_to_srgb() -> None:
    source = Image.new("RGB", (8, 8), (100, 150, 60))
    result = to_srgb(reopened(source, "PNG", icc_profile=ADOBE_RGB_PROFILE), BACKGROUND)
    red, green, blue = result.getpixel((4, 4))
    # Adobe RGB's green is more saturated: the same numbers mean a purer green in sRGB.
    assert red < 90 and blue < 55 and abs(green - 150) <= 10


def test_palette_without_transparency() -> None:
    palette = Image.new("P", (4, 4), 0)
    palette.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    palette.putpixel((0, 0), 1)
    result = to_srgb(reopened(palette, "PNG"), BACKGROUND)
    assert result.mode == "RGB"
    assert result.getpixel((0, 0)) == (0, 0, 255)
    assert result.getpixel((2, 2)) == (255, 0, 0)


def test_palette_transparency_is_laid_on_the_background() -> None:
    palette = Image.new("P", (4, 4), 0)
    palette.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    palette.putpixel((0, 0), 1)
    image = reopened(palette, "PNG", transparency=0)
    assert image.mode == "P" and image.info.get("transparency") == 0
    result = to_srgb(image, BACKGROUND)
    assert result.mode == "RGB"
    assert result.getpixel((0, 0)) == (0, 0, 255)
    assert result.getpixel((2, 2)) == BACKGROUND


def test_grey_becomes_rgb_grey() -> None:
    result = to_srgb(reopened(Image.new("L", (2, 2), 77), "PNG"), BACKGROUND)
    assert result.mode == "RGB" and result.getpixel((1, 1)) == (77, 77, 77)


def test_grey_with_a_transparent_value_is_laid_on_the_background() -> None:
    grey = Image.new("L", (2, 1), 77)
    grey.putpixel((1, 0), 10)
    result = to_srgb(reopened(grey, "PNG", transparency=77), BACKGROUND)
    assert result.getpixel((0, 0)) == BACKGROUND
    assert result.getpixel((1, 0)) == (10, 10, 10)


def test_grey_with_alpha_is_flattened() -> None:
    grey = Image.new("LA", (2, 1))
    grey.putpixel((0, 0), (100, 255))
    grey.putpixel((1, 0), (100, 0))
    result = to_srgb(reopened(grey, "PNG"), BACKGROUND)
    assert result.mode == "RGB"
    assert result.getpixel((0, 0)) == (100, 100, 100)
    assert result.getpixel((1, 0)) == BACKGROUND


def test_rgba_alpha_is_flattened_onto_the_given_background() -> None:
    rgba = Image.new("RGBA", (3, 1))
    rgba.putpixel((0, 0), (200, 10, 10, 255))
    rgba.putpixel((1, 0), (200, 10, 10, 0))
    rgba.putpixel((2, 0), (0, 0, 0, 128))
    result = to_srgb(reopened(rgba, "PNG"), (40, 80, 160))
    assert result.mode == "RGB"
    assert result.getpixel((0, 0)) == (200, 10, 10)
    assert result.getpixel((1, 0)) == (40, 80, 160)
    # Half transparent black: half way from the background to black.
    assert close(result.getpixel((2, 0)), (20, 40, 80), tolerance=1)


def test_sixteen_bit_grey_full_range_maps_to_0_255() -> None:
    deep = Image.new("I;16", (4, 1))
    for x, value in enumerate((0, 65535, 128 * 257, 257)):
        deep.putpixel((x, 0), value)
    image = reopened(deep, "PNG")
    assert image.mode == "I;16"
    result = to_srgb(image, BACKGROUND)
    assert result.mode == "RGB"
    assert [result.getpixel((x, 0)) for x in range(4)] == [
        (0, 0, 0),
        (255, 255, 255),
        (128, 128, 128),
        (1, 1, 1),
    ]


# Where the stored image's top-left corner is shown, by the EXIF orientation tag
# (TIFF/EXIF spec: 1 as stored, 2 mirrored, 3 turned 180°, 4 flipped, 5 transposed,
# 6 turned 90° clockwise, 7 transversed, 8 turned 90° anticlockwise).
SHOWN_CORNER = {1: "TL", 2: "TR", 3: "BR", 4: "BL", 5: "TL", 6: "TR", 7: "BR", 8: "BL"}


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_comes_out_upright(orientation: int) -> None:
    stored = Image.new("RGB", (60, 40), (0, 0, 255))
    stored.paste((255, 0, 0), (0, 0, 20, 20))  # mark the stored top-left corner
    exif = Image.Exif()
    exif[0x0112] = orientation
    image = reopened(stored, "JPEG", quality=95, exif=exif.tobytes())
    assert image.getexif().get(0x0112) == orientation
    result = to_srgb(image, BACKGROUND)
    width, height = result.size
    assert (width, height) == ((40, 60) if orientation >= 5 else (60, 40))
    corners = {
        "TL": (3, 3),
        "TR": (width - 4, 3),
        "BL": (3, height - 4),
        "BR": (width - 4, height - 4),
    }
    red = {name for name, point in corners.items() if result.getpixel(point)[0] > 200}
    assert red == {SHOWN_CORNER[orientation]}
