"""The two images `campaign init` draws: the example post's picture and a placeholder mark.

Both are made with Pillow when a repository is set up, so the tool carries no binary
files for them. They are deliberately plain: soft shapes and no text, nothing that
could be taken for a real campaign's photo or a real organisation's logo.
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFilter

#: The example picture: portrait 4:5 at Instagram's full width, as a phone or designer
#: hands it over (`campaign check` warns about images narrower than 1080 pixels).
PICTURE_SIZE = (1080, 1350)
#: The placeholder mark: square, large enough to scale down sharply onto any rendition.
MARK_SIZE = 600

_SKY, _SAND = (206, 220, 232), (244, 236, 222)
_SHAPES = (  # centre x, centre y, radius (fractions of the width), colour, opacity
    (0.22, 0.26, 0.34, (120, 156, 190), 150),
    (0.82, 0.42, 0.28, (242, 193, 78), 140),
    (0.40, 0.86, 0.46, (27, 54, 93), 120),
    (0.92, 0.96, 0.22, (200, 120, 110), 110),
)


def example_picture() -> bytes:
    """A calm JPEG of overlapping soft circles on a light gradient."""
    width, height = PICTURE_SIZE
    gradient = Image.linear_gradient("L").resize((width, height))
    image = Image.composite(
        Image.new("RGB", PICTURE_SIZE, _SAND), Image.new("RGB", PICTURE_SIZE, _SKY), gradient
    )
    for x, y, radius, colour, opacity in _SHAPES:
        layer = Image.new("RGBA", PICTURE_SIZE, (*colour, 0))
        r = radius * width
        box = (x * width - r, y * height - r, x * width + r, y * height + r)
        ImageDraw.Draw(layer).ellipse(box, fill=(*colour, opacity))
        layer = layer.filter(ImageFilter.GaussianBlur(width * 0.03))
        image.paste(layer, (0, 0), layer)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85, optimize=True, progressive=True)
    return buffer.getvalue()


def placeholder_mark() -> bytes:
    """A transparent PNG: a deep blue rounded square holding a light ring and a dot."""
    size = MARK_SIZE
    # Drawn at four times the size and scaled down, for smooth edges.
    big = size * 4
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=big // 5, fill=(27, 54, 93, 255))
    ring = big * 0.28
    centre = big / 2
    draw.ellipse(
        (centre - ring, centre - ring, centre + ring, centre + ring),
        outline=(247, 244, 236, 255),
        width=round(big * 0.07),
    )
    dot = big * 0.09
    draw.ellipse((centre - dot, centre - dot, centre + dot, centre + dot), fill=(242, 193, 78, 255))
    buffer = io.BytesIO()
    image.resize((size, size), Image.Resampling.LANCZOS).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()
