"""Bring any image to 8-bit sRGB without alpha, the one thing every platform shows right.

Orientation from EXIF is applied; CMYK and images with an embedded ICC profile
are converted through LittleCMS; palette, grey, 16-bit and alpha images are
converted, with transparency laid on the brand's background colour.
"""

from __future__ import annotations

import io

from PIL import Image, ImageCms, ImageOps

_SRGB = ImageCms.createProfile("sRGB")


def to_srgb(image: Image.Image, background: tuple[int, int, int]) -> Image.Image:
    """An RGB copy of ``image``: upright, colour-managed, alpha flattened."""
    image = ImageOps.exif_transpose(image)
    image = _from_icc_profile(image)
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        image = _sixteen_to_eight_bit(image)
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, background)
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return image.convert("RGB") if image.mode != "RGB" else image


def _from_icc_profile(image: Image.Image) -> Image.Image:
    profile = image.info.get("icc_profile")
    if not profile or image.mode not in ("RGB", "CMYK", "L", "RGBA"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        output = "RGBA" if image.mode == "RGBA" else "RGB"
        converted = ImageCms.profileToProfile(
            image, source, _SRGB, outputMode=output, renderingIntent=ImageCms.Intent.PERCEPTUAL
        )
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image  # a broken profile: fall back to Pillow's plain conversion
    return converted if converted is not None else image


def _sixteen_to_eight_bit(image: Image.Image) -> Image.Image:
    """16-bit grey (0–65535) to 8-bit grey, keeping the full range."""
    if image.mode == "F":
        return image.point(lambda v: v * 255).convert("L")
    return image.convert("I").point(lambda v: v * (1 / 257)).convert("L")
