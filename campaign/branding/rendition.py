"""One rendition: a source image made into the JPEG a channel shows as it is.

A pure function of its inputs (the image bytes, the post's brand fields, the
brand and render settings), so the same inputs give byte-identical output and a
hash of the inputs can name the result.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image

from campaign.branding.colour import to_srgb
from campaign.branding.geometry import crop_box, fit_inside, target_size
from campaign.branding.spec import RenditionSpec
from campaign.branding.templates import apply_template, picture_area
from campaign.image_probe import MAX_IMAGE_PIXELS


@dataclass(frozen=True)
class Rendered:
    """The JPEG bytes of a rendition, and whether it had to be enlarged."""

    data: bytes
    size: tuple[int, int]
    upscaled: bool


#: The most pixels a source image may have to be rendered: the one limit, the same number
#: `campaign check` enforces (so check never passes an image that render then refuses).
RENDER_MAX_PIXELS = MAX_IMAGE_PIXELS


class RenderProblem(ValueError):
    """The source image cannot be made into a rendition; the message says why."""


def render(spec: RenditionSpec) -> Rendered:
    """Decode, orient, colour-manage, crop around the focus, resize, brand, encode."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(spec.source) as source:
                if source.width * source.height > RENDER_MAX_PIXELS:
                    raise Image.DecompressionBombError
                upright_size = _upright_size(source)
                image = _decode(source, spec, upright_size)
    except Image.DecompressionBombError:
        raise RenderProblem(
            f"the image has too many pixels to be opened safely (the limit is "
            f"{RENDER_MAX_PIXELS / 1e6:.0f} megapixels). Scale it down, for example to 4000 "
            "pixels on the long side."
        ) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise RenderProblem(
            f"the image is damaged and cannot be opened ({exc}). Export or copy it again."
        ) from None
    # The shape comes from the full-size picture: a reduced JPEG decode rounds its size.
    target = target_size(spec.ratio, spec.width, upright_size)
    area = picture_area(spec.template, target)
    if spec.fit == "pad":
        box, placed = (0, 0, *image.size), fit_inside(image.size, area)
    else:
        box, placed = crop_box(image.size, area, spec.focus), area
    upscaled = (box[2] - box[0]) < placed[0]
    picture = image.resize(placed, Image.Resampling.LANCZOS, box=box, reducing_gap=3.0)
    if placed != target:
        canvas = Image.new("RGB", target, spec.background)
        canvas.paste(picture, ((area[0] - placed[0]) // 2, (area[1] - placed[1]) // 2))
        picture = canvas
    image = apply_template(picture, spec.template, spec.headline, spec.language, spec.style)
    output = io.BytesIO()
    # No exif, icc_profile or comment is passed on: nothing about the camera or place leaves.
    image.info = {}
    image.save(
        output, "JPEG", quality=spec.quality, progressive=True, optimize=True, subsampling="4:2:0"
    )
    return Rendered(output.getvalue(), target, upscaled)


def _upright_size(source: Image.Image) -> tuple[int, int]:
    """The picture's size once turned as its EXIF orientation says."""
    width, height = source.size
    return (height, width) if source.getexif().get(0x0112, 1) in (5, 6, 7, 8) else (width, height)


def _decode(source: Image.Image, spec: RenditionSpec, oriented: tuple[int, int]) -> Image.Image:
    """The image in sRGB, decoded at the smallest JPEG scale that still covers the target."""
    if source.format == "JPEG" and source.mode in ("RGB", "L", "CMYK"):
        width, height = source.size
        area = picture_area(spec.template, target_size(spec.ratio, spec.width, oriented))
        if spec.fit == "pad":
            box, area = (0, 0, *oriented), fit_inside(oriented, area)
        else:
            box = crop_box(oriented, area, spec.focus)
        scale = min((box[2] - box[0]) / area[0], (box[3] - box[1]) / area[1])
        if scale > 1:
            wanted = (int(width / scale) + 1, int(height / scale) + 1)
            source.draft(source.mode, wanted)
    source.load()
    return to_srgb(source, spec.background)
