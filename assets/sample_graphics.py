"""Draw the graphics of the sample campaign in posts/.

The sample campaign is Södertälje municipality's democracy month, September
2021: the democracy centenary, the "Deklaration för en stark demokrati" and
one year left to the general election of 11 September 2022. Its images are
flat campaign graphics (typography and simple shapes) drawn here with Pillow,
so the repository holds no photos from elsewhere and anyone can rebuild them:

    python assets/sample_graphics.py

Running it again writes the same files. The sizes are what a designer or a
phone hands over (3000-4032 px on the long side, portrait, landscape and
square; mostly JPEG, one PNG, one WebP), so that branding and resizing are
tried on realistic input.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import fontpkg_noto_sans
import fontpkg_noto_sans_arabic
from PIL import Image, ImageDraw, ImageFont

SAVE_OPTIONS: dict[str, dict[str, int | bool]] = {  # by file suffix
    ".jpg": {"quality": 85, "optimize": True, "progressive": True},
    ".png": {"optimize": True},
    ".webp": {"quality": 85, "method": 6},
}
POSTS = Path(__file__).resolve().parent.parent / "posts"
LATIN_FONT = Path(fontpkg_noto_sans.__file__).parent / "files" / "NotoSans[wdth,wght].ttf"
ARABIC_FONT = (
    Path(fontpkg_noto_sans_arabic.__file__).parent / "files" / "NotoSansArabic[wdth,wght].ttf"
)

BLUE, YELLOW, PAPER = "#1B365D", "#F2C14E", "#F7F4EC"
RED, WHITE, GREY = "#C8102E", "#FFF", "#B9C2CF"

PORTRAIT, TALL, SQUARE = (3000, 3750), (3024, 4032), (3240, 3240)
LANDSCAPE, WIDE = (4000, 3000), (4032, 3024)

Box = tuple[float, float, float, float]  # left, top, right, bottom in pixels
Point = tuple[float, float]
Face = ImageFont.FreeTypeFont


@dataclass(frozen=True)
class Palette:
    bg: str  # background
    ink: str  # text and outlines
    shape: str  # main fill of illustrations
    pop: str  # small accents
    card: str  # paper-like surfaces: envelope, calendar, document
    kicker: str  # the small line above the headline


THEMES = {
    "blue": Palette(BLUE, PAPER, YELLOW, RED, PAPER, YELLOW),
    "paper": Palette(PAPER, BLUE, YELLOW, RED, WHITE, RED),
    "yellow": Palette(YELLOW, BLUE, PAPER, RED, WHITE, BLUE),
}


@cache
def font(size: int, weight: str, rtl: bool) -> Face:
    path = ARABIC_FONT if rtl else LATIN_FONT
    face = ImageFont.truetype(str(path), size, layout_engine=ImageFont.Layout.RAQM)
    face.set_variation_by_name(weight)
    return face


@dataclass
class Canvas:
    """The image being drawn, its palette and its text direction."""

    draw: ImageDraw.ImageDraw
    pal: Palette
    rtl: bool

    @property
    def direction(self) -> str:
        return "rtl" if self.rtl else "ltr"

    def font(self, size: float, weight: str = "Bold") -> Face:
        return font(max(8, round(size)), weight, self.rtl)

    def width(self, text: str, face: Face) -> float:
        return face.getlength(text, direction=self.direction)

    def wrap(self, text: str, face: Face, width: float) -> list[str]:
        lines = [""]
        for word in text.split():
            trial = f"{lines[-1]} {word}".strip()
            if lines[-1] and self.width(trial, face) > width:
                lines.append(word)
            else:
                lines[-1] = trial
        return lines

    def text(self, xy: Point, text: str, face: Face, fill: str, anchor: str) -> None:
        self.draw.text(xy, text, font=face, fill=fill, anchor=anchor, direction=self.direction)

    def largest(self, text: str, box: Box, weight: str = "Bold") -> float:
        """The largest font size at which `text` fits on one line in `box`."""
        size = box[3] - box[1]
        while self.width(text, self.font(size, weight)) > box[2] - box[0]:
            size *= 0.95
        return size

    def centred(
        self, box: Box, text: str, fill: str, weight: str = "Bold", size: float = 0
    ) -> None:
        """One line centred in `box`, as large as fits unless `size` is given."""
        face = self.font(size or self.largest(text, box, weight), weight)
        self.text(((box[0] + box[2]) / 2, (box[1] + box[3]) / 2), text, face, fill, "mm")


def fit(box: Box, aspect: float) -> Box:
    """The largest rectangle of width/height `aspect` centred in `box`."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    w, h = (h * aspect, h) if w / h > aspect else (w, w / aspect)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2


def part(box: Box, left: float, top: float, right: float, bottom: float) -> Box:
    """A sub-rectangle given as fractions of `box`."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    return x0 + left * w, y0 + top * h, x0 + right * w, y0 + bottom * h


def at(box: Box, fx: float, fy: float) -> Point:
    """A point given as fractions of `box`."""
    return part(box, fx, fy, fx, fy)[:2]


def badge(cv: Canvas, box: Box) -> None:
    """A red disc with a white check mark."""
    cv.draw.ellipse(box, fill=cv.pal.pop)
    mark = [at(box, 0.2, 0.52), at(box, 0.42, 0.72), at(box, 0.8, 0.3)]
    cv.draw.line(mark, fill=WHITE, width=round(0.12 * (box[2] - box[0])), joint="curve")


# Illustrations: each draws into its box, given the graphic's art_text.


def ballot_box(cv: Canvas, box: Box, _: tuple[str, ...]) -> None:
    draw, pal, b = cv.draw, cv.pal, fit(box, 1.0)
    line = round(0.018 * (b[2] - b[0]))
    draw.rectangle(part(b, 0.34, 0.04, 0.66, 0.42), fill=pal.card, outline=pal.ink, width=line)
    draw.line([at(b, 0.34, 0.04), at(b, 0.5, 0.2), at(b, 0.66, 0.04)], fill=pal.ink, width=line)
    body = part(b, 0.1, 0.44, 0.9, 0.98)
    draw.rounded_rectangle(body, radius=line * 2, fill=pal.shape, outline=pal.ink, width=line)
    draw.rounded_rectangle(part(b, 0.04, 0.36, 0.96, 0.48), radius=line, fill=pal.ink)
    draw.rectangle(part(b, 0.3, 0.4, 0.7, 0.44), fill=pal.bg)
    badge(cv, part(b, 0.38, 0.58, 0.62, 0.82))


def envelope(cv: Canvas, box: Box, _: tuple[str, ...]) -> None:
    e = fit(box, 1.5)
    line = round(0.015 * (e[2] - e[0]))
    cv.draw.rounded_rectangle(e, radius=line * 2, fill=cv.pal.shape, outline=cv.pal.ink, width=line)
    flap = [at(e, 0.02, 0.03), at(e, 0.5, 0.58), at(e, 0.98, 0.03)]
    cv.draw.line(flap, fill=cv.pal.ink, width=line, joint="curve")
    badge(cv, part(e, 0.41, 0.445, 0.59, 0.715))


def figures(cv: Canvas, box: Box, names: tuple[str, ...]) -> None:
    """A row of five stylised people, with a name under each if given."""
    label = 0.42 if names else 0  # height of the names, in slot widths
    x0, _, x1, y1 = fit(box, 5 / (1.45 + label))
    slot = (x1 - x0) / 5
    feet = y1 - label * slot
    head, shoulders = 0.17 * slot, feet - 1.45 * slot + 0.4 * slot
    for i in range(5):
        cx = x0 + (i + 0.5) * slot
        colour = cv.pal.shape if i % 2 == 0 else cv.pal.pop
        top = feet - 1.45 * slot
        cv.draw.ellipse((cx - head, top, cx + head, top + 2 * head), fill=colour)
        body = (cx - 0.38 * slot, shoulders, cx + 0.38 * slot, shoulders + 1.6 * slot)
        cv.draw.pieslice(body, 180, 360, fill=colour)
        cv.draw.rectangle((body[0], shoulders + 0.8 * slot - 1, body[2], feet), fill=colour)
        for row, word in enumerate(names[i].split(maxsplit=1) if names else ()):
            face = cv.font(0.15 * slot, "SemiBold")
            cv.text((cx, feet + (0.24 + 0.18 * row) * slot), word, face, cv.pal.ink, "ms")


def document(cv: Canvas, box: Box, _: tuple[str, ...]) -> None:
    """A signed page with a pen."""
    square = fit(box, 1.0)
    d = part(square, 0.04, 0, 0.82, 1)
    w = d[2] - d[0]
    cv.draw.rounded_rectangle(d, radius=0.03 * w, fill=cv.pal.card)
    cv.draw.rectangle(part(d, 0.12, 0.1, 0.7, 0.15), fill=BLUE)
    for i in range(6):
        top = 0.24 + 0.07 * i
        cv.draw.rectangle(part(d, 0.12, top, 0.88 - 0.1 * (i % 3), top + 0.02), fill=YELLOW)
    x, y = at(d, 0.14, 0.8)
    signature = [
        (x + 0.5 * w * t, y - 0.05 * w * math.sin(3.3 * math.pi * t) * (1 - 0.8 * t))
        for t in (i / 40 for i in range(41))
    ]
    cv.draw.line(signature, fill=RED, width=round(0.015 * w), joint="curve")
    cv.draw.rectangle(part(d, 0.12, 0.86, 0.7, 0.87), fill=BLUE)
    x, y = at(square, 0.62, 0.86)  # the pen's tip, on the signature line
    pen = [(0, 0), (0.08, -0.02), (0.42, -0.36), (0.36, -0.42), (0.02, -0.08)]
    cv.draw.polygon([(x + dx * w, y + dy * w) for dx, dy in pen], fill=RED)


def calendar(cv: Canvas, box: Box, texts: tuple[str, ...]) -> None:
    """A calendar page; texts are (day, month)."""
    c = fit(box, 0.86)
    w = c[2] - c[0]
    top_only = (True, True, False, False)
    cv.draw.rounded_rectangle(c, radius=0.06 * w, fill=cv.pal.card)
    cv.draw.rounded_rectangle(part(c, 0, 0, 1, 0.26), radius=0.06 * w, fill=RED, corners=top_only)
    for ring in (part(c, 0.22, -0.06, 0.3, 0.08), part(c, 0.7, -0.06, 0.78, 0.08)):
        cv.draw.rounded_rectangle(ring, radius=0.04 * w, fill=cv.pal.ink)
    cv.centred(part(c, 0.1, 0.08, 0.9, 0.2), texts[1], WHITE, "SemiBold")
    cv.centred(part(c, 0.1, 0.33, 0.9, 0.92), texts[0], BLUE)


def weeks(cv: Canvas, box: Box, _: tuple[str, ...]) -> None:
    """A month grid: weeks of early voting, then election day."""
    g = fit(box, 7 / 4)
    cell = (g[2] - g[0]) / 7
    for row in range(4):
        for col in range(7):
            x, y = g[0] + col * cell, g[1] + row * cell
            rect = (x + 0.08 * cell, y + 0.08 * cell, x + 0.92 * cell, y + 0.92 * cell)
            if (row, col) == (3, 6):
                badge(cv, rect)
            else:
                fill = cv.pal.shape if row else cv.pal.card
                cv.draw.rounded_rectangle(rect, radius=0.15 * cell, fill=fill)


def bubbles(cv: Canvas, box: Box, _: tuple[str, ...]) -> None:
    """Two speech bubbles: a dialogue."""
    b = fit(box, 1.15)
    w = b[2] - b[0]
    for (left, top, right, bottom), fill, dots, tail in (
        ((0.0, 0.0, 0.7, 0.46), cv.pal.shape, cv.pal.ink, 0.14),
        ((0.3, 0.5, 1.0, 0.96), cv.pal.pop, WHITE, 0.86),
    ):
        rect = part(b, left, top, right, bottom)
        cv.draw.rounded_rectangle(rect, radius=0.1 * w, fill=fill)
        tx, ty = at(b, tail, bottom)
        side = 1 if tail < 0.5 else -1
        tip = [(-0.05, -0.02), (0.07, -0.02), (-side * 0.04, 0.09)]
        cv.draw.polygon([(tx + dx * w, ty + dy * w) for dx, dy in tip], fill=fill)
        for k in (0.3, 0.5, 0.7):
            x, y = at(rect, k, 0.5)
            cv.draw.ellipse((x - 0.04 * w, y - 0.04 * w, x + 0.04 * w, y + 0.04 * w), fill=dots)


def globe(cv: Canvas, box: Box, _: tuple[str, ...]) -> None:
    g = fit(box, 1.0)
    line = round(0.02 * (g[2] - g[0]))
    cv.draw.ellipse(g, fill=cv.pal.shape, outline=cv.pal.ink, width=line)
    for squeeze in (0.22, 0.42):
        cv.draw.ellipse(part(g, 0.5 - squeeze, 0, 0.5 + squeeze, 1), outline=cv.pal.ink, width=line)
    cv.draw.line([at(g, 0.5, 0), at(g, 0.5, 1)], fill=cv.pal.ink, width=line)
    for level in (-0.3, 0.0, 0.3):
        half = math.sqrt(1 - (2 * level) ** 2) / 2
        y = 0.5 + level
        cv.draw.line([at(g, 0.5 - half, y), at(g, 0.5 + half, y)], fill=cv.pal.ink, width=line)
    badge(cv, part(g, 0.72, 0.72, 1.0, 1.0))


def id_card(cv: Canvas, box: Box, _: tuple[str, ...]) -> None:
    c = fit(box, 1.58)
    w = c[2] - c[0]
    top_only = (True, True, False, False)
    line = round(0.012 * w)
    cv.draw.rounded_rectangle(c, radius=0.05 * w, fill=cv.pal.card, outline=cv.pal.ink, width=line)
    cv.draw.rounded_rectangle(part(c, 0, 0, 1, 0.18), radius=0.05 * w, fill=BLUE, corners=top_only)
    cv.draw.rounded_rectangle(part(c, 0.07, 0.28, 0.37, 0.86), radius=0.02 * w, fill=YELLOW)
    cv.draw.ellipse(part(c, 0.15, 0.36, 0.29, 0.58), fill=BLUE)
    cv.draw.pieslice(part(c, 0.1, 0.62, 0.34, 1.02), 180, 360, fill=BLUE)
    for i, right in enumerate((0.9, 0.8, 0.86, 0.66)):
        top = 0.32 + 0.13 * i
        cv.draw.rectangle(part(c, 0.44, top, right, top + 0.05), fill=GREY if i else BLUE)


def panels(cv: Canvas, box: Box, labels: tuple[str, ...]) -> None:
    """One card per election, each with a check mark and its name."""
    n, x0, y0, x1, y1 = len(labels), *box
    gap = 0.06 * (x1 - x0)
    width = (x1 - x0 - gap * (n - 1)) / n
    cards = [(x0 + i * (width + gap), y0, x0 + i * (width + gap) + width, y1) for i in range(n)]
    if cv.rtl:
        cards.reverse()
    names = [part(card, 0.08, 0.68, 0.92, 0.84) for card in cards]
    size = min(cv.largest(label, name) for label, name in zip(labels, names, strict=True))
    for label, card, name in zip(labels, cards, names, strict=True):
        cv.draw.rounded_rectangle(card, radius=0.12 * width, fill=cv.pal.card)
        badge(cv, part(card, 0.22, 0.1, 0.78, 0.1 + 0.56 * width / (y1 - y0)))
        cv.centred(name, label, BLUE, size=size)


def numeral(cv: Canvas, box: Box, texts: tuple[str, ...]) -> None:
    cv.centred(box, texts[0], cv.pal.shape, "Black")


Art = Callable[[Canvas, Box, tuple[str, ...]], None]  # an illustration
WIDE_ART: set[Art] = {figures, weeks, panels}  # always below the text, never beside it


@dataclass(frozen=True)
class Graphic:
    """One image file: its illustration, its text and its look."""

    file: str
    size: tuple[int, int]
    art: Art
    headline: str
    body: str = ""
    kicker: str = "Demokratin 100 år"
    art_text: tuple[str, ...] = ()  # text drawn inside the illustration
    theme: str = "blue"
    rtl: bool = False  # Arabic: right-to-left text, mirrored layout


def layout(g: Graphic) -> tuple[Box, Box]:
    """Where the text goes and where the illustration goes."""
    w, h = g.size
    m = 0.08 * min(w, h)
    if w / h < 1.2 or g.art in WIDE_ART:  # text above the picture
        return (m, m, w - m, 0.5 * h), (m, 0.55 * h, w - m, h - m)
    text, art = (m, m, 0.56 * w, h - m), (0.6 * w, 1.5 * m, w - m, h - 1.5 * m)
    if g.rtl:  # text beside the picture, mirrored for Arabic
        text, art = [(w - b[2], b[1], w - b[0], b[3]) for b in (text, art)]
    return text, art


def draw_text(cv: Canvas, g: Graphic, box: Box) -> None:
    """Kicker, headline and body, as large as the box allows, centred vertically."""
    x0, y0, x1, y1 = box
    size = 0.12 * min(g.size)
    while True:
        blocks = [
            (g.kicker, cv.font(0.42 * size, "SemiBold"), cv.pal.kicker, 1.5),
            (g.headline, cv.font(size, "Bold"), cv.pal.ink, 1.45 if cv.rtl else 1.15),
            (g.body, cv.font(0.5 * size, "Regular"), cv.pal.ink, 1.35),
        ]
        blocks = [block for block in blocks if block[0]]
        gap = 0.35 * size
        height = gap * (len(blocks) - 1) + sum(
            len(cv.wrap(text, face, x1 - x0)) * spacing * face.size
            for text, face, _, spacing in blocks
        )
        words = [(word, face) for text, face, *_ in blocks for word in text.split()]
        if height <= y1 - y0 and all(cv.width(word, face) <= x1 - x0 for word, face in words):
            break
        size *= 0.95
    y = (y0 + y1 - height) / 2
    for text, face, fill, spacing in blocks:
        for line in cv.wrap(text, face, x1 - x0):
            cv.text((x1 if cv.rtl else x0, y), line, face, fill, "ra" if cv.rtl else "la")
            y += spacing * face.size
        y += gap


def render(g: Graphic) -> Image.Image:
    image = Image.new("RGB", g.size, THEMES[g.theme].bg)
    cv = Canvas(ImageDraw.Draw(image), THEMES[g.theme], g.rtl)
    text_box, art_box = layout(g)
    g.art(cv, art_box, g.art_text)
    draw_text(cv, g, text_box)
    return image


AR = "100 عام من الديمقراطية"
FIVE_WOMEN = (
    "Kerstin Hesselgren", "Nelly Thüring", "Agda Östlund", "Elisabeth Tamm", "Bertha Wellin"
)  # fmt: skip

GRAPHICS = [
    Graphic("2021-09-01-demokratimanaden.jpg", LANDSCAPE, numeral,
            "Demokratin 100 år", "1921–2021", kicker="September 2021", art_text=("100",)),
    Graphic("2021-09-02-kvinnor-rostade-1921.jpg", PORTRAIT, ballot_box,
            "100 år sedan kvinnor röstade första gången", "Riksdagsvalet i september 1921",
            theme="paper"),
    Graphic("2021-09-03-democracy-centenary.jpg", SQUARE, numeral,
            "Swedish democracy turns 100",
            "1921: the first election with equal votes for women and men",
            kicker="Democracy 100 years", art_text=("1921",)),
    Graphic("2021-09-06-fem-kvinnor.jpg", SQUARE, figures,
            "1921 valdes fem kvinnor in i riksdagen", art_text=FIVE_WOMEN, theme="paper"),
    Graphic("2021-09-07-deklarationen.jpg", WIDE, document,
            "Deklaration för en stark demokrati", "Södertälje kommun skriver under"),
    Graphic("2021-09-09-fler-ska-rosta.jpg", PORTRAIT, ballot_box,
            "Vi vill att fler röstar", "Valet 11 september 2022", theme="yellow"),
    Graphic("2021-09-10-vem-far-rosta-arabiska.jpg", SQUARE, panels,
            "من يحق له التصويت؟", "الانتخابات العامة 11 سبتمبر 2022", kicker=AR,
            art_text=("البرلمان", "المنطقة", "البلدية"), rtl=True),
    Graphic("2021-09-11-ett-ar-kvar.jpg", PORTRAIT, calendar,
            "1 år kvar till valet", "Söndag 11 september 2022", art_text=("11", "september 2022"),
            theme="paper"),
    Graphic("2021-09-11-one-year-to-go.webp", LANDSCAPE, calendar,
            "One year to go", "Sweden votes on Sunday 11 September 2022", kicker="Election 2022",
            art_text=("11", "September 2022")),
    Graphic("2021-09-13-sa-rostar-du-1.jpg", SQUARE, envelope,
            "1. Röstkortet kommer med posten", "Där står var din vallokal finns.",
            kicker="Så röstar du", theme="paper"),
    Graphic("2021-09-13-sa-rostar-du-2.jpg", SQUARE, weeks,
            "2. Rösta tidigt eller på valdagen",
            "Förtidsrösta i veckorna före valet eller rösta i din vallokal den 11 september.",
            kicker="Så röstar du", theme="paper"),
    Graphic("2021-09-13-sa-rostar-du-3.jpg", SQUARE, id_card,
            "3. Ta med legitimation", "Din röst är hemlig.", kicker="Så röstar du", theme="paper"),
    Graphic("2021-09-14-vem-far-rosta.png", SQUARE, panels,
            "Vem får rösta i vilket val?", "Du ska ha fyllt 18 år på valdagen.",
            kicker="Valet 2022", art_text=("Riksdag", "Region", "Kommun"), theme="yellow"),
    Graphic("2021-09-15-demokratidagen.jpg", LANDSCAPE, globe,
            "Internationella demokratidagen", "FN:s dag för demokrati", kicker="15 september"),
    Graphic("2021-09-16-dialogtraffar.jpg", TALL, bubbles,
            "Dialogträffar med föreningslivet", "Två gånger per år, med start 2021", theme="paper"),
    Graphic("2021-09-17-hur-du-rostar-arabiska.jpg", PORTRAIT, ballot_box,
            "كيف تصوّت؟", "بطاقة التصويت، مركز الاقتراع، بطاقة الهوية", kicker=AR, theme="paper",
            rtl=True),
    Graphic("2021-09-20-medborgardialog.jpg", WIDE, bubbles,
            "Vad tycker du?", "Kommunen vill höra vad du tycker.", theme="yellow"),
    Graphic("2021-09-21-hemlig-rost.jpg", PORTRAIT, envelope,
            "Din röst är hemlig", "Ingen får se vad du röstar på.", kicker="Valet 2022"),
    Graphic("2021-09-22-vuosi-vaaleihin.jpg", LANDSCAPE, calendar,
            "Vuosi vaaleihin", "Vaalipäivä on sunnuntai 11.9.2022", kicker="Demokratia 100 vuotta",
            art_text=("11", "syyskuu 2022"), theme="paper"),
    Graphic("2021-09-23-bibliotek-demokrati.jpg", PORTRAIT, document,
            "Demokratin på biblioteket", "Utställning om valet 1921 hela september",
            kicker="Södertälje stadsbibliotek", theme="yellow"),
    Graphic("2021-09-24-fortidsrosta.jpg", WIDE, weeks,
            "Rösta i förväg", "Du kan förtidsrösta i veckorna före valet.", kicker="Valet 2022",
            theme="paper"),
    Graphic("2021-09-27-who-can-vote.jpg", SQUARE, panels,
            "Who can vote in 2022?", "You must be 18 on election day.", kicker="Election 2022",
            art_text=("Riksdag", "Region", "Municipality")),
    Graphic("2021-09-28-forstagangsvaljare.jpg", PORTRAIT, numeral,
            "Fyller du 18 senast 11 september 2022?", "Då får du rösta i valet.",
            kicker="Valet 2022", art_text=("18",), theme="yellow"),
    Graphic("2021-09-30-tack.jpg", LANDSCAPE, figures,
            "Tack för i september!", "Vi ses i valet söndag 11 september 2022."),
]  # fmt: skip


def main() -> None:
    POSTS.mkdir(exist_ok=True)
    for graphic in GRAPHICS:
        path = POSTS / graphic.file
        render(graphic).save(path, **SAVE_OPTIONS[path.suffix])
        print(f"{path.name}: {graphic.size[0]}×{graphic.size[1]}, {path.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
