"""Read what an image file is without decoding its pixels.

Opening with Pillow reads only the header (format, size, mode). Truncation is
found from the file's tail: a JPEG ends with its EOI marker after the last
scan, a PNG with its IEND chunk, a WebP's RIFF header states its length.
"""

from __future__ import annotations

import os
import struct
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from PIL import Image, UnidentifiedImageError

SUPPORTED_FORMATS = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "WEBP": "WebP"}
_TAIL_BYTES = 64 * 1024
#: The most pixels a post image may have: Pillow's default guard against decompression
#: bombs (``Image.MAX_IMAGE_PIXELS``). Branding opens nothing larger, so `campaign check`
#: refuses what `campaign render` could not open: [check] max_image_megapixels may lower
#: it, never raise it. The one constant both use (campaign.branding imports it from here).
MAX_IMAGE_PIXELS = 89_478_485
MAX_IMAGE_MEGAPIXELS = MAX_IMAGE_PIXELS / 1_000_000
_HEIF_BRANDS = (b"heic", b"heix", b"heif", b"mif1", b"msf1", b"avif")


@dataclass(frozen=True)
class ImageHeader:
    """What the header says: format (JPEG, PNG, WebP), pixel size and colour mode."""

    format: str
    width: int
    height: int
    mode: str

    @property
    def megapixels(self) -> float:
        return self.width * self.height / 1_000_000


class ImageProblem(ValueError):
    """The file cannot be used as a post image; the message says why and what to do."""


def probe_image(path: Path, max_megapixels: float) -> ImageHeader:
    """Identify ``path`` as a complete JPEG, PNG or WebP under the pixel limit
    (``max_megapixels``, or :data:`MAX_IMAGE_MEGAPIXELS` if that is lower)."""
    try:
        stream = path.open("rb")
    except OSError as exc:
        raise ImageProblem(
            f"the file cannot be opened ({exc.strerror}). Check that it is readable."
        ) from None
    with stream:
        head = stream.read(32)
        if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
            _import_webp_plugin()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                with Image.open(stream) as image:
                    fmt, (width, height), mode = image.format or "?", image.size, image.mode
        except Image.DecompressionBombError:
            raise ImageProblem(_too_many_pixels_message(None, max_megapixels)) from None
        except UnidentifiedImageError:
            raise ImageProblem(_unidentified_message(head)) from None
        except (OSError, SyntaxError, ValueError, struct.error) as exc:
            raise ImageProblem(
                f"the image is damaged or cut off and cannot be read ({exc}). "
                "Copy or export it again."
            ) from None
        if fmt not in SUPPORTED_FORMATS:
            raise ImageProblem(
                f"this is a {fmt} image; use JPEG, PNG or WebP. Export or save it again as JPEG."
            )
        header = ImageHeader(SUPPORTED_FORMATS[fmt], width, height, mode)
        if header.width * header.height > min(max_megapixels * 1_000_000, MAX_IMAGE_PIXELS):
            raise ImageProblem(_too_many_pixels_message(header, max_megapixels))
        if not _is_complete(stream, header.format):
            raise ImageProblem(
                "the image file is cut off (incomplete): it was probably not fully copied "
                "or downloaded. Copy or export it again."
            )
    return header


def _import_webp_plugin() -> None:
    """Register Pillow's WebP reader. Opened from a stream, with no file name to go by,
    Pillow knows only the JPEG, PNG, GIF, BMP and PPM readers it loads first; for any other
    file it imports all of its forty-odd readers (tens of milliseconds), so the one
    supported format outside those is registered here, only when a file is one."""
    from PIL import WebPImagePlugin  # noqa: F401


def _is_complete(stream: BinaryIO, fmt: str) -> bool:
    """Whether the file ends as a whole image of ``fmt`` does. Its tail is read with
    ``os.pread``: one call each, no seeking and no buffering for bytes read once."""
    size = stream.seek(0, 2)
    descriptor = stream.fileno()
    if fmt == "WebP":
        (declared,) = struct.unpack("<I", _read_at(descriptor, 4, 4))
        return size >= declared + 8
    # The common case reads 64 bytes: a PNG's IEND chunk, a JPEG's end-of-image marker.
    tail = _read_at(descriptor, size - max(0, size - 64), max(0, size - 64)).rstrip(b"\x00")
    if tail.endswith(b"\xff\xd9") if fmt == "JPEG" else b"IEND" in tail:
        return True
    # Some cameras append data after the image: look further back.
    start = max(0, size - _TAIL_BYTES)
    tail = _read_at(descriptor, size - start, start)
    if fmt == "PNG":
        return b"IEND" in tail
    # JPEG: the end-of-image marker must follow the last start-of-scan in view (an EXIF
    # thumbnail has its own pair, before the main image's scans).
    end = tail.rfind(b"\xff\xd9")
    return end != -1 and end > tail.rfind(b"\xff\xda")


def _read_at(descriptor: int, count: int, offset: int) -> bytes:
    """``count`` bytes from ``offset`` (fewer at the end of the file)."""
    chunks = []
    while count > 0:
        chunk = os.pread(descriptor, count, offset)
        if not chunk:
            break
        chunks.append(chunk)
        count -= len(chunk)
        offset += len(chunk)
    return b"".join(chunks)


def _unidentified_message(head: bytes) -> str:
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return (
            "this is a HEIC/HEIF photo (the iPhone's own format), which the platforms do "
            "not take. Export it as JPEG (on the iPhone: Settings → Camera → Formats → "
            "Most Compatible) and point `file` at the .jpg."
        )
    return (
        "this file is not an image that can be read (or it is damaged). "
        "Use a JPEG, PNG or WebP file."
    )


def _too_many_pixels_message(header: ImageHeader | None, max_megapixels: float) -> str:
    size = f" ({header.width}×{header.height}, {header.megapixels:.0f} MP)" if header else ""
    if max_megapixels < MAX_IMAGE_MEGAPIXELS:
        limit = f"{max_megapixels:g} megapixels ([check] max_image_megapixels in config.toml)"
    else:
        limit = f"{MAX_IMAGE_MEGAPIXELS:.1f} megapixels, the most an image can have to be branded"
    return (
        f"the image is too large{size}: the limit is {limit}. Scale it down, for example "
        "to 4000 pixels on the long side."
    )
