"""How fast is `campaign check` compared with the least work any checker must do?

The script writes a realistic campaign into a temporary folder: ``config.toml`` and
``posts/`` with N post files (a Swedish caption of a few sentences with hashtags,
publishing times spread over one month, both channels, one to three images each) and,
beside them, real image files of phone-photo size (JPEG with an EXIF block, some PNG
graphics, 3000-4032 px on the long side). Forty distinct images are drawn once and
their bytes are copied for every post, so each post has its own files (no hard links)
but generation stays fast.

Two things are then timed, side by side in one run, each as a process of its own, so that
interpreter start-up and imports count on both sides as they do for a user:

``check``
    ``campaign --config CONFIG check``: the command as people and pull requests run it
    (load ``config.toml``, load and check every post and image, print the summary).

``floor``
    ``python bench/check_floor.py POSTS``: reading every post file and parsing it with
    PyYAML's libyaml loader (``yaml.load(text, Loader=yaml.CSafeLoader)``), then opening
    every image it names with ``PIL.Image.open`` and reading ``.size`` and ``.format``.
    That script imports PyYAML and Pillow and nothing else.

They take turns R times (after one untimed round, so that the operating system's page
cache is warm for both); the medians and their ratio are printed (goal: at most 1.5), and
the best runs too. For information, the same two are then timed in this process, without
start-up: ``load_config`` + ``load_campaign`` (the library path of `campaign check`)
against ``check_floor.run_floor``, best of R.

Why the floor is fair: no checker can say whether a post is valid without reading and
parsing its file, nor whether its image is a usable JPEG/PNG of acceptable pixel size
without reading the image header. Both steps use the fastest parsers `campaign` itself
depends on (libyaml through PyYAML, Pillow's header-only open), and the floor does
nothing else: no line numbers, no type validation, no rules, no diagnostics, no output.
The ratio check/floor is therefore what `campaign check` costs on top of the unavoidable
start-up, I/O and parsing.

Usage::

    python bench/check_bench.py [--posts N] [--repeat R] [--keep DIR] [--profile]
    python bench/check_bench.py --reuse DIR [--repeat R]   # the campaign kept in DIR

The exit status is always 0: this is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import io
import random
import shutil
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bench_common import (
    CAMPAIGN_TABLE,
    PROJECT_FUNCTIONS,
    BenchCampaign,
    ProcessRun,
    add_repeat_and_keep,
    best_of,
    best_wall,
    campaign_command,
    campaign_start,
    median_cpu,
    median_wall,
    phone_exif,
    post_stem,
    print_rows,
    profiled,
    publish_times,
    run_in_folder,
    taking_turns,
    tiled,
    verdict,
    write_and_sync,
)
from check_floor import run_floor
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


FLOOR_SCRIPT = Path(__file__).resolve().parent / "check_floor.py"


# --- reporting -----------------------------------------------------------------------------


def describe_result(result: LoadResult) -> str:
    codes = sorted({d.code for d in result.diagnostics})
    text = (
        f"check found {result.files} files, {len(result.posts)} valid posts, "
        f"{len(result.errors)} errors, {len(result.warnings)} warnings"
    )
    return text + (f" ({', '.join(codes)})" if codes else "")


def print_processes(bench: BenchCampaign, runs: dict[str, list[ProcessRun]]) -> None:
    """The two processes side by side: medians (the goal), best runs, per post."""
    check, floor = runs["check"], runs["floor"]
    ratio = median_wall(check) / median_wall(floor)
    rows = [
        ("posts", f"{bench.posts}"),
        ("images", f"{bench.images}"),
        ("total MB", f"{bench.total_bytes / 1_000_000:.1f}"),
        ("check s, median", f"{median_wall(check):.3f}"),
        ("floor s, median", f"{median_wall(floor):.3f}"),
        ("ratio check/floor", f"{ratio:.2f}"),
        ("check s, best", f"{best_wall(check):.3f}"),
        ("floor s, best", f"{best_wall(floor):.3f}"),
        ("ratio of the best", f"{best_wall(check) / best_wall(floor):.2f}"),
        ("check CPU s, median", f"{median_cpu(check):.3f}"),
        ("floor CPU s, median", f"{median_cpu(floor):.3f}"),
        ("ratio of CPU time", f"{median_cpu(check) / median_cpu(floor):.2f}"),
        ("check µs/post", f"{median_wall(check) / bench.posts * 1e6:.0f}"),
        ("floor µs/post", f"{median_wall(floor) / bench.posts * 1e6:.0f}"),
    ]
    print_rows(rows)
    print(f"goal: ratio ≤ {GOAL_RATIO}: {verdict(ratio <= GOAL_RATIO)}")
    statuses = {run.status for run in check}
    print(f"check exit status {sorted(statuses)}: {check[-1].last_line}")


def print_library(bench: BenchCampaign, check_s: float, floor_s: float) -> None:
    rows = [
        ("check s", f"{check_s:.3f}"),
        ("floor s", f"{floor_s:.3f}"),
        ("ratio check/floor", f"{check_s / floor_s:.2f}"),
        ("check µs/post", f"{check_s / bench.posts * 1e6:.0f}"),
        ("floor µs/post", f"{floor_s / bench.posts * 1e6:.0f}"),
    ]
    print_rows(rows)


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
    parser.add_argument(
        "--reuse", type=Path, help="measure a campaign written before with --keep DIR"
    )
    return parser.parse_args(argv)


def existing_campaign(root: Path) -> BenchCampaign:
    """A campaign that an earlier run wrote and kept (--keep), as it is on disk."""
    posts = sorted((root / "posts").glob("*.yaml"))
    files = [root / "config.toml", *(root / "posts").iterdir()]
    images = len(files) - len(posts) - 1
    return BenchCampaign(root, len(posts), images, sum(file.stat().st_size for file in files))


def measure(bench: BenchCampaign, repeat: int, profile: bool) -> None:
    result = run_check(bench.config_path)
    print(describe_result(result))
    floor_images = run_floor(bench.posts_dir)
    if floor_images != bench.images:
        print(f"note: the floor read {floor_images} images, {bench.images} were written")
    commands = {
        "check": [*campaign_command(), "--config", str(bench.config_path), "check"],
        "floor": [sys.executable, str(FLOOR_SCRIPT), str(bench.posts_dir)],
    }
    runs = taking_turns(commands, repeat)
    print(f"\nas processes, start-up included, {repeat} runs each taking turns, page cache warm:")
    print_processes(bench, runs)
    floor_s = best_of(lambda: run_floor(bench.posts_dir), repeat)
    check_s = best_of(lambda: run_check(bench.config_path), repeat)
    print(f"\nfor information: in this process, no start-up, best of {repeat}:")
    print_library(bench, check_s, floor_s)
    if profile:
        print_profile(bench.config_path)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.reuse is not None:
        measure(existing_campaign(args.reuse.resolve()), max(1, args.repeat), args.profile)
        return 0

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
