"""How fast is `campaign check` compared with the least work any checker must do?

The script writes a realistic campaign into a temporary folder: ``config.toml`` and
``posts/`` with N post files (a Swedish caption of a few sentences with hashtags,
publishing times spread over one month, both channels, one to three images each) and,
beside them, real image files of phone-photo size (JPEG with an EXIF block, some PNG
graphics, 3000-4032 px on the long side). Forty distinct images are drawn once and
their bytes are copied for every post, so each post has its own files (no hard links)
but generation stays fast.

Two things are then timed with ``time.perf_counter``, best of R runs after one untimed
warm-up each, so that the operating system's page cache is warm for both:

``check``
    What `campaign check` runs in the library: ``load_config`` + ``load_campaign`` on
    the folder, in this process. (The real command line, interpreter start-up
    included, is also timed once as a subprocess, for information.)

``floor``
    Reading every post file and parsing it with PyYAML's libyaml loader
    (``yaml.load(text, Loader=yaml.CSafeLoader)``), then opening every image it names
    with ``PIL.Image.open`` and reading ``.size`` and ``.format``.

Why the floor is fair: no checker can say whether a post is valid without reading and
parsing its file, nor whether its image is a usable JPEG/PNG of acceptable pixel size
without reading the image header. Both steps use the fastest parsers `campaign` itself
depends on (libyaml through PyYAML, Pillow's header-only open), and the floor does
nothing else: no line numbers, no type validation, no rules, no diagnostics. The
ratio check/floor is therefore what `campaign check` costs on top of the unavoidable
I/O and parsing; the goal is a ratio of at most 1.5.

Usage::

    python bench/check_bench.py [--posts N] [--repeat R] [--keep DIR] [--profile]

The exit status is always 0: this is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import shutil
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import yaml
from bench_common import (
    CAMPAIGN_TABLE,
    PROJECT_FUNCTIONS,
    BenchCampaign,
    add_repeat_and_keep,
    best_of,
    campaign_start,
    phone_exif,
    post_stem,
    print_rows,
    profiled,
    publish_times,
    run_in_folder,
    tiled,
    time_cli,
    verdict,
    write_and_sync,
)
from PIL import Image, ImageDraw, ImageFilter

from campaign.config import BrandSection, load_config
from campaign.post_loader import LoadResult, load_campaign

GOAL_RATIO = 1.5
SOURCE_IMAGES = 40
PNG_SHARE = 0.2
PHOTO_SIZES = [(4032, 3024), (3024, 4032), (4000, 3000), (3000, 4000), (4000, 2250)]
GRAPHIC_SIZES = [(3000, 3750), (3240, 3240), (3840, 2160)]

DEFAULT_LOGO = BrandSection().logo
CONFIG_TOML = (
    CAMPAIGN_TABLE
    + """
[check]
max_lix = 45
min_gap_minutes = 30
"""
)

SENTENCES = [
    "Nästa år är det val i Sverige.",
    "Alla röster räknas lika mycket.",
    "Kom och prata med oss på torget i dag.",
    "Vi finns vid biblioteket från klockan tio till två.",
    "Här kan du fråga hur det går till att rösta.",
    "Du kan rösta i förtid i hela landet.",
    "Ta med dig id-kort när du ska rösta.",
    "För hundra år sedan fick kvinnor rösta för första gången.",
    "Demokrati är något vi gör tillsammans.",
    "Säg till en vän att det snart är val.",
    "Det är gratis och alla är välkomna.",
    "Vi bjuder på kaffe och bullar.",
    "Din röst är hemlig.",
    "Ingen får se hur du röstar.",
    "Röstkortet kommer med posten några veckor före valet.",
    "Har du flyttat? Kolla att din adress stämmer.",
    "Vi svarar på dina frågor på svenska, arabiska och finska.",
    "Du får ta med dig ett barn in i lokalen.",
]
HASHTAGS = ["#demokrati100", "#södertälje", "#val2022", "#rösta", "#dinröst", "#allaröster"]
ALT_TEXTS = [
    "Tre personer framför en vallokal med skylten Röstning.",
    "En hand som lägger ett kuvert i en valurna.",
    "Folk som dricker kaffe vid ett tält på torget.",
    "Kvinnor i långa kjolar som köar för att rösta år 1921.",
    "Texten Din röst räknas i vitt på blå botten.",
    "En kvinna i hijab som visar sitt röstkort och ler.",
]
HEADLINES = ["Demokratin 100 år", "Din röst räknas", "Rösta i förtid", "Välkommen på kaffe"]
TAGS = ["demokrati100", "val", "dialog", "historia"]
COLOURS = ["#1B365D", "#F2C14E", "#F7F4EC", "#C8102E", "#FFFFFF", "#B9C2CF"]


@dataclass(frozen=True)
class SourceImage:
    """One distinct image, kept in memory, copied byte for byte for each post."""

    suffix: str
    data: bytes


# --- generating the campaign -------------------------------------------------------------


def grain_tile(rng: random.Random) -> Image.Image:
    """Sensor-like noise, drawn once and tiled over every photo (drawing it per photo is slow)."""
    return Image.effect_noise((509, 487), rng.uniform(10, 14)).convert("RGB")


def photo(size: tuple[int, int], rng: random.Random, grain: Image.Image) -> Image.Image:
    """A photo-like RGB image: smooth colour blobs with a little grain."""
    width, height = size
    small = (width // 16, height // 16)
    channels = [Image.effect_noise(small, rng.uniform(40, 80)) for _ in range(3)]
    blobs = Image.merge("RGB", channels).filter(ImageFilter.GaussianBlur(2))
    return Image.blend(blobs.resize(size, Image.Resampling.BICUBIC), tiled(grain, size), 0.15)


def graphic(size: tuple[int, int], rng: random.Random) -> Image.Image:
    """A flat campaign graphic: a coloured background with a few shapes."""
    image = Image.new("RGB", size, rng.choice(COLOURS))
    draw = ImageDraw.Draw(image)
    for _ in range(8):
        left, top = rng.randrange(size[0]), rng.randrange(size[1])
        box = (left, top, left + rng.randint(200, 1500), top + rng.randint(200, 1500))
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape(box, fill=rng.choice(COLOURS))
    return image


def encode_image(index: int, rng: random.Random, grain: Image.Image) -> SourceImage:
    """Draw and encode one source image: a JPEG photo or, now and then, a PNG graphic."""
    buffer = io.BytesIO()
    if index < SOURCE_IMAGES * PNG_SHARE:
        graphic(GRAPHIC_SIZES[index % len(GRAPHIC_SIZES)], rng).save(buffer, "PNG")
        return SourceImage(".png", buffer.getvalue())
    image = photo(PHOTO_SIZES[index % len(PHOTO_SIZES)], rng, grain)
    progressive = index % 4 == 0
    image.save(buffer, "JPEG", quality=85, exif=phone_exif(rng, "17.4"), progressive=progressive)
    return SourceImage(".jpg", buffer.getvalue())


def source_images(rng: random.Random) -> list[SourceImage]:
    grain = grain_tile(rng)
    images = [encode_image(index, rng, grain) for index in range(SOURCE_IMAGES)]
    rng.shuffle(images)
    return images


def image_count(rng: random.Random) -> int:
    """One or two images; about one post in ten is a carousel of three."""
    roll = rng.random()
    return 3 if roll < 0.1 else 2 if roll < 0.3 else 1


def channels_line(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.7:
        return "[facebook, instagram]"
    return "[facebook]" if roll < 0.85 else "[instagram]"


def caption(rng: random.Random) -> list[str]:
    """A few short Swedish sentences, then a line of hashtags."""
    sentences = rng.sample(SENTENCES, rng.randint(3, 5))
    hashtags = ["#demokrati100", *rng.sample(HASHTAGS[1:], rng.randint(1, 3))]
    return [" ".join(sentences[:2]), " ".join(sentences[2:]), "", " ".join(hashtags)]


def optional_blocks(rng: random.Random, channels: str) -> list[str]:
    """Brand headline, tags and channel blocks, each on some posts only."""
    lines: list[str] = []
    if rng.random() < 0.2:
        lines += ["brand:", "  template: band", f"  headline: {rng.choice(HEADLINES)}"]
    if rng.random() < 0.3:
        lines.append(f"tags: [{', '.join(rng.sample(TAGS, 2))}]")
    if "facebook" in channels and rng.random() < 0.15:
        lines += ["facebook:", "  link: https://www.sodertalje.se/demokrati"]
    if "instagram" in channels and rng.random() < 0.1:
        lines += ["instagram:", '  first_comment: "#val2022 #rösta"']
    return lines


def post_yaml(when: datetime, image_files: list[str], rng: random.Random) -> str:
    channels = channels_line(rng)
    lines = [
        f"publish_at: {when:%Y-%m-%d %H:%M}",
        f"channels: {channels}",
        f"status: {'draft' if rng.random() < 0.1 else 'ready'}",
        "caption: |",
        *(f"  {line}" if line else "" for line in caption(rng)),
        "images:",
    ]
    for file in image_files:
        lines += [f"  - file: {file}", f"    alt: {rng.choice(ALT_TEXTS)}"]
    lines += optional_blocks(rng, channels)
    return "\n".join(lines) + "\n"


def write_post(
    folder: Path, index: int, when: datetime, sources: list[SourceImage], rng: random.Random
) -> tuple[int, int]:
    """Write one post file and its images; (number of images, bytes written)."""
    stem = post_stem(when, index, rng)
    count = image_count(rng)
    written = 0
    files: list[str] = []
    for number in range(count):
        source = sources[(index * 3 + number) % len(sources)]
        name = f"{stem}{f'-{number + 1}' if count > 1 else ''}{source.suffix}"
        (folder / name).write_bytes(source.data)
        files.append(name)
        written += len(source.data)
    text = post_yaml(when, files, rng).encode("utf-8")
    (folder / f"{stem}.yaml").write_bytes(text)
    return count, written + len(text)


def write_campaign(root: Path, posts: int, seed: int = 2021) -> BenchCampaign:
    """Write config.toml and posts/ (post files and their images) under ``root``."""
    rng = random.Random(seed)
    folder = root / "posts"
    folder.mkdir(parents=True)
    (root / "config.toml").write_text(CONFIG_TOML, encoding="utf-8")
    # The default [brand] logo, which `campaign check` requires to be an image.
    (root / "assets").mkdir()
    shutil.copy(Path(__file__).resolve().parent.parent / DEFAULT_LOGO, root / DEFAULT_LOGO)
    sources = source_images(rng)
    times = publish_times(posts, campaign_start(datetime.now()))
    images = total = 0
    for index, when in enumerate(times):
        count, size = write_post(folder, index, when, sources, rng)
        images += count
        total += size
    return BenchCampaign(root, posts, images, total + len(CONFIG_TOML.encode("utf-8")))


# --- what is measured --------------------------------------------------------------------


def run_check(config_path: Path) -> LoadResult:
    """The library path of `campaign check`: load the config, load and check every post."""
    return load_campaign(load_config(config_path))


def run_floor(posts_dir: Path) -> int:
    """Parse every post file with libyaml and read the header of every image it names."""
    images = 0
    names = sorted(entry.name for entry in os.scandir(posts_dir) if entry.name.endswith(".yaml"))
    for name in names:
        text = (posts_dir / name).read_text(encoding="utf-8")
        data = yaml.load(text, Loader=yaml.CSafeLoader)
        for entry in data.get("images") or ():
            with Image.open(posts_dir / entry["file"]) as image:
                _ = image.size, image.format
            images += 1
    return images


# --- reporting -----------------------------------------------------------------------------


def describe_result(result: LoadResult) -> str:
    codes = sorted({d.code for d in result.diagnostics})
    text = (
        f"check found {result.files} files, {len(result.posts)} valid posts, "
        f"{len(result.errors)} errors, {len(result.warnings)} warnings"
    )
    return text + (f" ({', '.join(codes)})" if codes else "")


def print_table(bench: BenchCampaign, check_s: float, floor_s: float) -> None:
    ratio = check_s / floor_s
    rows = [
        ("posts", f"{bench.posts}"),
        ("images", f"{bench.images}"),
        ("total MB", f"{bench.total_bytes / 1_000_000:.1f}"),
        ("check s", f"{check_s:.3f}"),
        ("floor s", f"{floor_s:.3f}"),
        ("ratio check/floor", f"{ratio:.2f}"),
        ("check µs/post", f"{check_s / bench.posts * 1e6:.0f}"),
        ("floor µs/post", f"{floor_s / bench.posts * 1e6:.0f}"),
    ]
    print_rows(rows)
    print(f"goal: ratio ≤ {GOAL_RATIO}: {verdict(ratio <= GOAL_RATIO)}")


def print_profile(config_path: Path) -> None:
    """Where check's time goes: top 12 by cumulative time, overall and in the project."""
    stats = profiled(run_check, config_path).sort_stats("cumulative")
    print("\nprofile of one check run (cProfile adds overhead), top 12 by cumulative time:")
    stats.print_stats(12)
    print("the same, functions of the project only:")
    stats.print_stats(PROJECT_FUNCTIONS, 12)


# --- command line ------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1000, help="number of post files")
    add_repeat_and_keep(parser)
    parser.add_argument("--profile", action="store_true", help="print a cProfile breakdown")
    return parser.parse_args(argv)


def measure(bench: BenchCampaign, repeat: int, profile: bool) -> None:
    result = run_check(bench.config_path)
    print(describe_result(result))
    floor_images = run_floor(bench.posts_dir)
    if floor_images != bench.images:
        print(f"note: the floor read {floor_images} images, {bench.images} were written")
    check_s = best_of(lambda: run_check(bench.config_path), repeat)
    floor_s = best_of(lambda: run_floor(bench.posts_dir), repeat)
    print(f"\nbest of {repeat}, page cache warm:")
    print_table(bench, check_s, floor_s)
    cli_s, status, last_line = time_cli(bench.config_path, "check")
    print(
        f"\nfor information: `campaign --config … check` as a subprocess, once: {cli_s:.3f} s "
        f"(exit {status}; interpreter start-up and imports included) — {last_line}"
    )
    if profile:
        print_profile(bench.config_path)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def run(root: Path) -> None:
        bench, seconds = write_and_sync(lambda: write_campaign(root, max(1, args.posts)))
        print(
            f"wrote {bench.posts} posts, {bench.images} images, "
            f"{bench.total_bytes / 1_000_000:.0f} MB to {root} in {seconds:.1f} s"
        )
        measure(bench, max(1, args.repeat), args.profile)

    run_in_folder(args.keep, "campaign-bench-", run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
