"""One rendition: size, branding area, a clean progressive JPEG, the same bytes every time."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageCms, ImageStat

from campaign.branding.fonts import resolve_font
from campaign.branding.geometry import target_size
from campaign.branding.rendition import RenderProblem, RenditionSpec, render
from campaign.branding.templates import Style, picture_area
from tests.conftest import undecodable_jpeg

BAND = (27, 54, 93)  # #1B365D
LOGO_RED = (230, 0, 0)


@pytest.fixture
def style(tmp_path: Path) -> Style:
    logo = tmp_path / "logo.png"
    Image.new("RGBA", (100, 50), (*LOGO_RED, 255)).save(logo)
    return Style(
        resolve_font("fontpkg:noto-sans", tmp_path),
        resolve_font("fontpkg:noto-sans-arabic", tmp_path),
        logo,
        "#1B365D",
        "#F7F4EC",
        "#F2C14E",
        "#demokrati100",
    )


def source(path: Path, size: tuple[int, int] = (400, 300), colour=(10, 200, 30), **save) -> Path:
    Image.new("RGB", size, colour).save(path, **save)
    return path


def spec_for(image: Path, style: Style, **changes: object) -> RenditionSpec:
    spec = RenditionSpec(
        source=image,
        ratio="4:5",
        width=320,
        focus=(0.5, 0.5),
        template="corner",
        headline="Vi pratar demokrati",
        fit="crop",
        language="sv",
        quality=85,
        background=(247, 244, 236),
        style=style,
    )
    return dataclasses.replace(spec, **changes)


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def near(pixel: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 12) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, expected, strict=True))


@pytest.mark.parametrize("template", ["band", "corner", "none"])
@pytest.mark.parametrize(
    ("ratio", "size"), [("4:5", (320, 400)), ("1:1", (320, 320)), ("1.91:1", (320, 168))]
)
def test_output_size_for_each_ratio_and_template(
    tmp_path: Path, style: Style, ratio: str, size: tuple[int, int], template: str
) -> None:
    spec = spec_for(source(tmp_path / "s.jpg"), style, ratio=ratio, template=template)
    rendered = render(spec)
    assert rendered.size == size
    image = opened(rendered.data)
    assert image.format == "JPEG" and image.mode == "RGB" and image.size == size


def test_original_ratio_follows_the_upright_source(tmp_path: Path, style: Style) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape, shown portrait
    image = source(tmp_path / "s.jpg", (400, 300), exif=exif.tobytes())
    rendered = render(spec_for(image, style, ratio="original"))
    assert rendered.size == (320, 427)
    assert opened(rendered.data).size == (320, 427)


def test_band_is_below_the_picture_and_covers_none_of_it(tmp_path: Path, style: Style) -> None:
    picture = Image.new("RGB", (400, 300), (10, 200, 30))
    picture.paste((200, 0, 200), (0, 270, 400, 300))  # the bottom tenth is magenta
    image = tmp_path / "s.png"
    picture.save(image)
    rendered = render(spec_for(image, style, template="band"))
    result = opened(rendered.data)
    width, height = rendered.size
    assert (width, height) == (320, 400)
    top = picture_area("band", (width, height))[1]
    assert top == 320
    # The picture's own bottom edge is just above the band: the band hides nothing.
    assert near(result.getpixel((5, 160)), (10, 200, 30))
    assert near(result.getpixel((5, top - 8)), (200, 0, 200), tolerance=20)
    # Below it, in the margin left of the headline, the band colour down to the bottom.
    for y in range(top + 3, height, 7):
        assert near(result.getpixel((3, y)), BAND), y


def edged(path: Path) -> Path:
    """A 400×300 green picture with a red left edge and a blue right edge."""
    picture = Image.new("RGB", (400, 300), (10, 200, 30))
    picture.paste((220, 0, 0), (0, 0, 30, 300))
    picture.paste((0, 0, 220), (370, 0, 400, 300))
    picture.save(path)
    return path


def test_pad_shows_the_whole_picture_on_the_background(tmp_path: Path, style: Style) -> None:
    image = edged(tmp_path / "s.png")
    background = (247, 244, 236)
    padded = render(spec_for(image, style, template="none", fit="pad"))
    cropped = render(spec_for(image, style, template="none", fit="crop"))
    assert padded.size == cropped.size == (320, 400)
    result = opened(padded.data)
    # 400×300 scaled to 320×240, centred: background bars of 80 px above and below.
    assert near(result.getpixel((160, 40)), background)
    assert near(result.getpixel((160, 360)), background)
    assert near(result.getpixel((160, 200)), (10, 200, 30))
    assert near(result.getpixel((8, 200)), (220, 0, 0))  # both edges are kept
    assert near(result.getpixel((312, 200)), (0, 0, 220))
    crop = opened(cropped.data)
    assert near(crop.getpixel((8, 200)), (10, 200, 30))  # a crop cuts the edges away
    assert near(crop.getpixel((160, 40)), (10, 200, 30))
    # The whole 400 px width goes into 320: nothing is enlarged, unlike the crop's 240.
    assert not padded.upscaled and cropped.upscaled


def test_pad_with_band_centres_the_picture_above_the_band(tmp_path: Path, style: Style) -> None:
    image = edged(tmp_path / "s.png")
    rendered = render(spec_for(image, style, template="band", fit="pad"))
    result = opened(rendered.data)
    assert rendered.size == (320, 400)
    # Picture area 320×320 above the band: the 320×240 picture sits 40 px from its top.
    assert near(result.getpixel((160, 20)), (247, 244, 236))
    assert near(result.getpixel((160, 160)), (10, 200, 30))
    assert near(result.getpixel((160, 300)), (247, 244, 236))
    assert near(result.getpixel((3, 390)), BAND)


def test_progressive_jpeg_without_exif_gps_or_icc_profile(tmp_path: Path, style: Style) -> None:
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    exif[0x0110] = "EOS 5D"
    exif[0x0112] = 1
    exif.get_ifd(0x8825)[2] = (59.0, 11.0, 46.0)  # GPSLatitude
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    image = source(tmp_path / "s.jpg", exif=exif.tobytes(), icc_profile=icc)
    original = Image.open(image)
    assert original.getexif().get(0x010F) == "Canon" and original.getexif().get_ifd(0x8825)
    for template in ("corner", "band", "none"):
        data = render(spec_for(image, style, template=template)).data
        result = opened(data)
        assert result.info.get("progressive") or result.info.get("progression"), template
        assert not result.getexif(), template
        assert b"Exif" not in data and b"Canon" not in data, template
        assert "icc_profile" not in result.info and b"ICC_PROFILE" not in data, template


def test_no_jpeg_comment_of_the_source_is_passed_on(tmp_path: Path, style: Style) -> None:
    image = source(tmp_path / "s.jpg", comment=b"Lars home, Storgatan 5")
    for template in ("corner", "none"):
        data = render(spec_for(image, style, template=template)).data
        assert b"Storgatan" not in data, template
        assert "comment" not in opened(data).info, template


def test_same_spec_gives_byte_identical_output(tmp_path: Path, style: Style) -> None:
    image = tmp_path / "s.jpg"
    Image.effect_noise((400, 300), 50).convert("RGB").save(image)
    for template in ("band", "corner"):
        spec = spec_for(image, style, template=template)
        assert render(spec).data == render(spec).data


def test_focus_decides_what_is_kept(tmp_path: Path, style: Style) -> None:
    picture = Image.new("RGB", (400, 300), (220, 0, 0))
    picture.paste((0, 0, 220), (200, 0, 400, 300))  # left half red, right half blue
    image = tmp_path / "s.png"
    picture.save(image)
    left = render(spec_for(image, style, template="none", focus=(0.0, 0.5)))
    right = render(spec_for(image, style, template="none", focus=(1.0, 0.5)))
    assert left.data != right.data
    # A 4:5 crop of a 4:3 image keeps 240 of the 400 columns.
    assert near(opened(left.data).getpixel((20, 200)), (220, 0, 0))
    assert near(opened(left.data).getpixel((300, 200)), (0, 0, 220))
    assert near(opened(right.data).getpixel((20, 200)), (220, 0, 0))
    assert near(opened(right.data).getpixel((300, 200)), (0, 0, 220))
    assert near(opened(left.data).getpixel((160, 200)), (220, 0, 0))
    assert near(opened(right.data).getpixel((160, 200)), (0, 0, 220))


def test_upscaled_only_when_the_kept_part_is_narrower_than_the_output(
    tmp_path: Path, style: Style
) -> None:
    assert render(spec_for(source(tmp_path / "small.jpg", (200, 150)), style)).upscaled
    # 400×300 cropped to 4:5 keeps 240 columns for 320: enlarged.
    assert render(spec_for(source(tmp_path / "mid.jpg", (400, 300)), style)).upscaled
    assert not render(spec_for(source(tmp_path / "big.jpg", (640, 800)), style)).upscaled
    # Exactly the output's width is not enlarged.
    assert not render(spec_for(source(tmp_path / "same.jpg", (320, 400)), style)).upscaled


def gradient(size: tuple[int, int]) -> Image.Image:
    horizontal = Image.linear_gradient("L").resize(size).rotate(90, expand=False)
    vertical = Image.linear_gradient("L").resize(size)
    return Image.merge("RGB", (horizontal, vertical, Image.new("L", size, 90)))


@pytest.mark.parametrize(("ratio", "fit"), [("4:5", "crop"), ("1.91:1", "crop"), ("4:5", "pad")])
def test_draft_decode_of_a_large_jpeg_gives_the_same_size_and_picture(
    tmp_path: Path, style: Style, ratio: str, fit: str
) -> None:
    picture = gradient((1600, 1201))
    jpeg, png = tmp_path / "large.jpg", tmp_path / "large.png"
    picture.save(jpeg, quality=95)
    picture.save(png)
    from_jpeg = render(spec_for(jpeg, style, ratio=ratio, template="none", fit=fit))
    from_png = render(spec_for(png, style, ratio=ratio, template="none", fit=fit))
    assert from_jpeg.size == from_png.size == target_size(ratio, 320, (1600, 1201))
    assert not from_jpeg.upscaled
    difference = ImageChops.difference(opened(from_jpeg.data), opened(from_png.data))
    assert max(ImageStat.Stat(difference).mean) < 4


def test_draft_decode_keeps_the_size_of_an_original_ratio_rendition(
    tmp_path: Path, style: Style
) -> None:
    picture = gradient((1600, 1201))
    jpeg, png = tmp_path / "large.jpg", tmp_path / "large.png"
    picture.save(jpeg, quality=95)
    picture.save(png)
    expected = target_size("original", 320, (1600, 1201))
    assert expected == (320, 240)
    assert render(spec_for(png, style, ratio="original")).size == expected
    assert render(spec_for(jpeg, style, ratio="original")).size == expected


def truncated_jpeg(path: Path) -> Path:
    buffer = io.BytesIO()
    Image.effect_noise((400, 300), 50).convert("RGB").save(buffer, "JPEG")
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    return path


def not_an_image(path: Path) -> Path:
    path.write_bytes(b"this is no image")
    return path


@pytest.mark.parametrize("make", [undecodable_jpeg, truncated_jpeg, not_an_image])
def test_an_undecodable_image_is_a_render_problem(tmp_path: Path, style: Style, make) -> None:
    image = make(tmp_path / "broken.jpg")
    with pytest.raises(
        RenderProblem,
        match=r"^the image is damaged and cannot be opened \(.+\)\. Export or copy it again\.$",
    ):
        render(spec_for(image, style))


def test_a_missing_source_is_a_render_problem(tmp_path: Path, style: Style) -> None:
    with pytest.raises(RenderProblem, match="cannot be opened"):
        render(spec_for(tmp_path / "gone.jpg", style))


def test_a_replaced_logo_file_is_drawn(tmp_path: Path, style: Style) -> None:
    image = source(tmp_path / "s.png", colour=(0, 0, 0), format="PNG")
    spec = spec_for(image, style)
    before = opened(render(spec).data)
    Image.new("RGBA", (100, 50), (0, 230, 0, 255)).save(style.logo)
    after = opened(render(spec).data)
    # The corner mark (bottom right) of the 320×400 rendition.
    assert near(before.getpixel((280, 373)), LOGO_RED, tolerance=30)
    assert near(after.getpixel((280, 373)), (0, 230, 0), tolerance=30)
