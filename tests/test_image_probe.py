"""probe_image: identify JPEG, PNG and WebP from the header, find cut-off files, refuse the rest."""

from __future__ import annotations

import io
import random
import struct
import zlib
from pathlib import Path

import pytest
from PIL import ExifTags, Image

from campaign.image_probe import MAX_IMAGE_MEGAPIXELS, ImageHeader, ImageProblem, probe_image

DEFAULT_LIMIT = 100  # [check] max_image_megapixels default


def noisy(size: tuple[int, int]) -> Image.Image:
    """An image of random pixels, so that the compressed data is large and has no shortcuts."""
    data = random.Random(size[0] * 7919 + size[1]).randbytes(size[0] * size[1] * 3)
    return Image.frombytes("RGB", size, data)


def encode(fmt: str, size: tuple[int, int] = (300, 200), **options) -> bytes:
    buffer = io.BytesIO()
    noisy(size).save(buffer, fmt, **options)
    return buffer.getvalue()


def mpo_bytes() -> bytes:
    """A two-frame MPO, what phones write for some photos: a JPEG to every reader."""
    buffer = io.BytesIO()
    noisy((300, 200)).save(buffer, "MPO", save_all=True, append_images=[noisy((300, 200))])
    return buffer.getvalue()


def jpeg_with_exif_thumbnail() -> bytes:
    """A JPEG whose APP1 EXIF block carries a complete small JPEG (IFD1 thumbnail).

    The thumbnail brings its own end-of-image marker before the main image's scan.
    """
    thumbnail = encode("JPEG", (160, 120))
    ifd0 = struct.pack("<HI", 0, 14)  # no entries; IFD1 follows at offset 14
    ifd1 = struct.pack("<H", 2)
    ifd1 += struct.pack("<HHII", 0x0201, 4, 1, 44)  # JPEGInterchangeFormat: thumbnail offset
    ifd1 += struct.pack("<HHII", 0x0202, 4, 1, len(thumbnail))  # its length
    ifd1 += struct.pack("<I", 0)
    tiff = b"II*\x00" + struct.pack("<I", 8) + ifd0 + ifd1
    assert len(tiff) == 44
    payload = b"Exif\x00\x00" + tiff + thumbnail
    app1 = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    main = encode("JPEG", (400, 300))
    return main[:2] + app1 + main[2:]


def png_header_only(width: int, height: int) -> bytes:
    """A tiny, well-formed PNG whose IHDR claims any size: one small IDAT, then IEND."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 16))
        + chunk(b"IEND", b"")
    )


def heif_bytes(brand: bytes) -> bytes:
    return b"\x00\x00\x00\x18ftyp" + brand + b"\x00" * 200


def probe(tmp_path: Path, data: bytes, name: str = "image", limit: float = DEFAULT_LIMIT):
    path = tmp_path / name
    path.write_bytes(data)
    return probe_image(path, limit)


def problem(tmp_path: Path, data: bytes, limit: float = DEFAULT_LIMIT) -> str:
    with pytest.raises(ImageProblem) as raised:
        probe(tmp_path, data, limit=limit)
    return str(raised.value)


SOURCES = {
    "jpeg": lambda: encode("JPEG"),
    "progressive jpeg": lambda: encode("JPEG", progressive=True),
    "jpeg with exif thumbnail": jpeg_with_exif_thumbnail,
    "png": lambda: encode("PNG"),
    "webp": lambda: encode("WEBP"),
}
CUT_OFF = "cut off"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (lambda: encode("JPEG", (300, 200)), ImageHeader("JPEG", 300, 200, "RGB")),
        (lambda: encode("PNG", (120, 340)), ImageHeader("PNG", 120, 340, "RGB")),
        (lambda: encode("WEBP", (640, 480)), ImageHeader("WebP", 640, 480, "RGB")),
        (
            lambda: encode("JPEG", (1600, 2000), progressive=True),
            ImageHeader("JPEG", 1600, 2000, "RGB"),
        ),
        (jpeg_with_exif_thumbnail, ImageHeader("JPEG", 400, 300, "RGB")),
        (mpo_bytes, ImageHeader("JPEG", 300, 200, "RGB")),
        (lambda: png_header_only(2000, 1500), ImageHeader("PNG", 2000, 1500, "RGB")),
    ],
    ids=["jpeg", "png", "webp", "progressive-jpeg", "exif-thumbnail-jpeg", "mpo", "png-by-hand"],
)
def test_complete_images_are_identified_with_format_and_size(tmp_path, data, expected):
    header = probe(tmp_path, data())

    assert header == expected
    assert header.megapixels == pytest.approx(expected.width * expected.height / 1e6)


def test_the_hand_made_exif_thumbnail_is_a_real_embedded_jpeg():
    data = jpeg_with_exif_thumbnail()
    ifd1 = Image.open(io.BytesIO(data)).getexif().get_ifd(ExifTags.IFD.IFD1)
    tiff_start = data.index(b"Exif\x00\x00") + 6
    start = tiff_start + ifd1[0x0201]

    thumbnail = Image.open(io.BytesIO(data[start : start + ifd1[0x0202]]))

    assert (thumbnail.format, thumbnail.size) == ("JPEG", (160, 120))


@pytest.mark.parametrize(
    "name",
    [
        "jpeg",
        "progressive jpeg",
        # The thumbnail's end marker must not make the cut main image look complete.
        "jpeg with exif thumbnail",
        "png",
        "webp",
    ],
)
def test_a_file_cut_in_half_is_reported_as_cut_off(tmp_path, name):
    data = SOURCES[name]()
    probe(tmp_path, data)  # complete: fine

    message = problem(tmp_path, data[: len(data) // 2])

    assert CUT_OFF in message
    assert "Copy or export it again" in message


def test_a_truncated_webp_is_refused(tmp_path):
    data = encode("WEBP")

    message = problem(tmp_path, data[: len(data) // 2])

    assert "export it again" in message.lower()


@pytest.mark.parametrize("name", ["jpeg", "jpeg with exif thumbnail", "png", "webp"])
def test_a_file_missing_only_its_end_is_refused(tmp_path, name):
    data = SOURCES[name]()
    with pytest.raises(ImageProblem):
        probe(tmp_path, data[:-12])


@pytest.mark.parametrize("name", ["jpeg", "jpeg with exif thumbnail", "png"])
def test_data_a_camera_appends_after_the_image_is_not_mistaken_for_a_cut(tmp_path, name):
    # Beyond the last 64 bytes, which are read first, the tail is looked at further back.
    data = SOURCES[name]() + b"camera data " * 200

    assert probe(tmp_path, data).format in ("JPEG", "PNG")
    assert CUT_OFF in problem(tmp_path, data[: len(data) // 2] + b"camera data " * 200)


@pytest.mark.parametrize("name", ["jpeg", "progressive jpeg", "png", "webp"])
def test_trailing_zero_padding_is_not_mistaken_for_a_cut(tmp_path, name):
    data = SOURCES[name]() + b"\x00" * 4096

    assert probe(tmp_path, data).width == 300


@pytest.mark.parametrize(
    "data",
    [random.Random(1).randbytes(4096), "Hej! Det här är ingen bild.\n".encode() * 20, b""],
    ids=["random-bytes", "text", "empty"],
)
def test_a_file_that_is_no_image_says_so(tmp_path, data):
    message = problem(tmp_path, data)

    assert "not an image" in message
    assert "Use a JPEG, PNG or WebP file" in message
    assert "HEIC" not in message


@pytest.mark.parametrize("brand", [b"heic", b"heix", b"mif1"])
def test_a_heic_photo_gets_a_hint_to_export_as_jpeg(tmp_path, brand):
    message = problem(tmp_path, heif_bytes(brand))

    assert "HEIC" in message
    assert "Export it as JPEG" in message
    assert "Most Compatible" in message


def test_an_ftyp_header_of_another_brand_is_no_heic(tmp_path):
    message = problem(tmp_path, heif_bytes(b"isom"))  # an MP4 video

    assert "HEIC" not in message
    assert "not an image" in message


@pytest.mark.parametrize(("fmt", "name"), [("GIF", "GIF"), ("BMP", "BMP"), ("TIFF", "TIFF")])
def test_other_image_formats_are_refused_with_what_to_use(tmp_path, fmt, name):
    message = problem(tmp_path, encode(fmt))

    assert f"this is a {name} image" in message
    assert "use JPEG, PNG or WebP" in message


@pytest.mark.parametrize(
    ("width", "height", "limit"),
    [(30000, 30000, DEFAULT_LIMIT), (20000, 20000, 50), (12000, 10000, DEFAULT_LIMIT)],
)
def test_a_pixel_bomb_is_refused_from_its_header(tmp_path, width, height, limit):
    data = png_header_only(width, height)
    assert len(data) < 100  # nothing to decode: refused from the header alone

    message = problem(tmp_path, data, limit=limit)

    assert "too large" in message
    if limit < MAX_IMAGE_MEGAPIXELS:
        assert f"the limit is {limit:g} megapixels" in message
        assert "max_image_megapixels" in message
    else:  # what branding can open is the limit whatever config.toml says
        assert "the limit is 89.5 megapixels" in message
    assert "Scale it down" in message


def test_the_pixel_message_gives_the_size_when_known(tmp_path):
    message = problem(tmp_path, png_header_only(12000, 10000))

    assert "(12000×10000, 120 MP)" in message


@pytest.mark.parametrize(
    ("width", "height", "limit"), [(9000, 9000, 200), (9459, 9459, 200), (2000, 1000, 2)]
)
def test_an_image_within_a_raised_or_exact_pixel_limit_passes(tmp_path, width, height, limit):
    header = probe(tmp_path, png_header_only(width, height), limit=limit)

    assert (header.width, header.height) == (width, height)


def test_above_pillows_own_ceiling_the_message_states_that_ceiling(tmp_path):
    with pytest.raises(ImageProblem) as caught:
        probe(tmp_path, png_header_only(20000, 20000), limit=500)  # 400 MP

    assert "the limit is 89.5 megapixels" in str(caught.value)
