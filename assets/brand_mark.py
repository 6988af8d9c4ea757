"""Draw the campaign mark of the sample campaign: assets/demokratin-100-mark.png.

A deep blue rounded square: a tick box ticked in warm yellow, and under it
"Demokratin" in off-white over "100 år", the 100 in warm yellow. It is a
neutral stand-in made for this open-source sample, not Södertälje
municipality's logo. Rebuild it with

    python assets/brand_mark.py

The shapes are drawn at three times the final size and scaled down, so the
edges are smooth; running the script again writes the same bytes.
"""

from functools import cache
from pathlib import Path

import fontpkg_noto_sans
from PIL import Image, ImageDraw, ImageFont

OUT = Path(__file__).resolve().parent / "demokratin-100-mark.png"
FONT = Path(fontpkg_noto_sans.__file__).parent / "files" / "NotoSans[wdth,wght].ttf"

BLUE, YELLOW, PAPER = "#1B365D", "#F2C14E", "#F7F4EC"  # deep blue, warm yellow, off-white
SIZE = 1200  # the final image is SIZE × SIZE pixels
SCALE = 3  # drawn this many times larger, then scaled down
MARGIN = 0.13  # inner margin of the square, as a fraction of its side

Box = tuple[float, float, float, float]  # left, top, right, bottom in pixels
Point = tuple[float, float]
Face = ImageFont.FreeTypeFont
Run = tuple[str, Face, str]  # a piece of text, its face and its colour


@cache
def font(size: int, weight: str) -> Face:
    """Noto Sans at `size` pixels in a named weight of the variable font."""
    face = ImageFont.truetype(str(FONT), size)
    face.set_variation_by_name(weight)
    return face


def ink(text: str, face: Face) -> Box:
    """The box of the drawn pixels of `text`, relative to its left baseline point."""
    mask, (dx, dy) = face.getmask2(text, anchor="ls")
    x0, y0, x1, y1 = mask.getbbox()
    return x0 + dx, y0 + dy, x1 + dx, y1 + dy


def fitted(text: str, width: float, weight: str) -> Face:
    """The largest face at which the ink of `text` is at most `width` pixels wide."""
    size = round(width)
    while (box := ink(text, font(size, weight)))[2] - box[0] > width:
        size = min(size - 1, round(size * width / (box[2] - box[0])))
    return font(size, weight)


def tile(draw: ImageDraw.ImageDraw, s: float) -> None:
    """The deep blue rounded square that fills the image."""
    draw.rounded_rectangle((0, 0, s - 1, s - 1), radius=0.2 * s, fill=BLUE)


def ballot(draw: ImageDraw.ImageDraw, corner: Point, side: float) -> None:
    """A ballot square, top left at `corner`, with a check mark leaping out of it."""
    x0, y0 = corner
    box = (x0, y0, x0 + side, y0 + side)
    line = round(0.12 * side)
    draw.rounded_rectangle(box, radius=0.22 * side, outline=YELLOW, width=line)
    tick: list[Point] = [
        (x0 + 0.29 * side, y0 + 0.47 * side),
        (x0 + 0.47 * side, y0 + 0.68 * side),
        (x0 + 1.1 * side, y0 - 0.1 * side),
    ]
    draw.line(tick, fill=BLUE, width=round(2.4 * line), joint="curve")  # a gap in the box
    draw.line(tick, fill=YELLOW, width=round(1.3 * line), joint="curve")


def runs(draw: ImageDraw.ImageDraw, left: float, baseline: float, line: list[Run]) -> None:
    """Pieces of text one after another on one baseline, the first ink at `left`."""
    x = left - ink(line[0][0], line[0][1])[0]
    for text, face, fill in line:
        draw.text((x, baseline), text, font=face, fill=fill, anchor="ls")
        x += face.getlength(text)


def words(draw: ImageDraw.ImageDraw, box: Box) -> None:
    """ "Demokratin" over "100 år", both as wide as `box`, the last baseline at its bottom."""
    x0, _, x1, y1 = box
    big = fitted("100 år", x1 - x0, "Bold")
    small = fitted("Demokratin", x1 - x0, "Bold")
    runs(draw, x0, y1, [("100", big, YELLOW), (" år", big, PAPER)])
    digits = ink("100", big)
    top = y1 + digits[1] - 0.34 * (digits[3] - digits[1])  # a third of the digits' height above
    runs(draw, x0, top - ink("Demokratin", small)[3], [("Demokratin", small, PAPER)])


def render() -> Image.Image:
    """The mark at its final size, on a transparent background."""
    s = SIZE * SCALE
    m = MARGIN * s
    image = Image.new("RGBA", (s, s), BLUE + "00")
    draw = ImageDraw.Draw(image)
    tile(draw, s)
    ballot(draw, (m, m), 0.3 * s)
    words(draw, (m, m, s - m, s - m))
    return image.resize((SIZE, SIZE), Image.Resampling.LANCZOS)


def main() -> None:
    render().save(OUT, optimize=True)
    print(f"{OUT.name}: {SIZE}×{SIZE}, {OUT.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
