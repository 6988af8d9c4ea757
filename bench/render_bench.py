"""How fast is `campaign render` compared with the least work any renderer must do?

The script writes a realistic campaign into a temporary folder: ``config.toml`` (the
repository's campaign mark as ``[brand] logo``, the default brand fonts) and ``posts/``
with N post files, each with one photo-like 12-megapixel JPEG (4000×3000, a few
3000×4000 portrait ones; smooth gradients, flat shapes, blotchy texture and sensor-like
grain, saved at quality 90 with a phone's EXIF block, about 3.5 MB each, so that decoding
costs what decoding a real photo costs). Twenty distinct images are drawn once and their
bytes are written to a file of each post's own. Every post goes to Facebook and
Instagram, so each image gets two renditions; a fifth of the posts ask for Facebook's
``original`` shape. The templates are mixed: a third ``band`` with a Swedish headline, a
third ``corner`` (the config's default) and a third ``none``. Renditions with the same
inputs (Facebook and Instagram both at 4:5, say) are drawn once by `campaign render` and
the file is copied for the others; the figures say how many files were made and how many
of them were drawn.

With ``--sample`` the campaign is instead a copy of the repository's sample campaign
(``config.toml``, ``posts/``, ``assets/``): the campaign the goal for a warm render is
stated on.

Measured in one run, with ``time.perf_counter`` (and ``os.times`` for the CPU time of
the script and its worker processes), best of R runs each; cold and floor runs take
turns, so that a slow moment of the machine hits both alike:

``cold``
    What `campaign render` runs in the library (``scheduler.cli.render``, without the
    progress bar): ``load_campaign`` + ``FileDigests`` + ``plan_renditions`` +
    ``render_campaign`` with J worker processes (default: all cores) + ``prune_stale``,
    into a build folder emptied before each run, so that every source is hashed and
    every rendition is made.

``floor``
    For each rendition the cold run *drew* (one per distinct input: render copies the
    file of an identical rendition instead of drawing it again, so the floor does not
    draw it either), the least Pillow work that gives a JPEG of the same pixel size from
    the same source: ``Image.open``, ``draft("RGB", size)`` (libjpeg decodes at 1/2, 1/4
    or 1/8 scale), ``resize`` of the centred crop of the rendition's shape to its size
    with ``LANCZOS``, ``save`` as baseline JPEG at the same quality into a ``BytesIO``. No
    EXIF orientation, no colour management, no branding, no hashing, no post files, no
    copies, no writing to disk. It runs in a ``multiprocessing.Pool`` of the same J
    processes, one rendition per task, as ``render_campaign`` does.

``warm``
    The cold path again on the same build folder with nothing changed: every rendition
    is found by its input hash and nothing is drawn.

``warm, command line``
    ``campaign --config CONFIG render --jobs J`` as a process, nothing changed: what a
    user waits for, interpreter start-up and imports included (median of R runs). Its
    goal is at most 3 % of the cold run (the library path, without start-up: the share
    is if anything too high).

``ImageMagick`` (only if a real ImageMagick is installed)
    One ``convert`` (or ``magick``) per rendition drawn, J at a time from a process pool, each
    limited to one thread (``MAGICK_THREAD_LIMIT=1``) as Pillow is: decode with the
    ``jpeg:size`` hint (ImageMagick's draft mode), ``-auto-orient``, resize to fill the
    picture area and crop the centre, then per template: nothing (``none``), the mark
    in the corner (``corner``), or the colour band with mark and headline (``band``),
    and ``-strip``, progressive JPEG at the same quality, written to a file. The mark is
    scaled to its sizes once beforehand (untimed), so ImageMagick only composites it.

Why the floor is fair: a rendition of a 12-megapixel photo cannot be made without
decoding the source (at the smallest scale libjpeg offers that still covers the output,
which the project also uses), resampling it to the output size with a high-quality
filter, and encoding the output at the configured quality; on the same number of
processes, with the same fastest library (Pillow on libjpeg-turbo) and nothing else.
The ratio cold/floor is what branding, colour management, hashing, planning, process
hand-over and writing files add on top; the goal is at most 1.3. The floor is strict
in one respect: it saves baseline JPEG, while renditions are progressive with optimised
Huffman tables (smaller files, but several times the encoding time), a choice of the
project that is counted against it. The sources carry no ICC profile, so colour
conversion (which phone photos in Display P3 would need) is not exercised.

Usage::

    python bench/render_bench.py [--images N] [--repeat R] [--keep DIR] [--jobs J]
                                 [--profile]
    python bench/render_bench.py --sample [--repeat R] [--jobs J]

The exit status is always 0: this is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import random
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bench_common import (
    CAMPAIGN_TABLE,
    PROJECT_FUNCTIONS,
    BenchCampaign,
    Timing,
    add_repeat_and_keep,
    campaign_command,
    campaign_start,
    median_wall,
    phone_exif,
    post_stem,
    print_rows,
    profiled,
    publish_times,
    run_in_folder,
    taking_turns,
    tiled,
    timed,
    verdict,
    write_and_sync,
)
from PIL import Image, ImageDraw, ImageFilter

from campaign.branding.cache import FileDigests
from campaign.branding.render_all import (
    RenderReport,
    RenditionJob,
    plan_renditions,
    prune_stale,
    render_campaign,
)
from campaign.branding.rendition import RenditionSpec
from campaign.branding.templates import picture_area
from campaign.config import Config, load_config
from campaign.post_loader import load_campaign

GOAL_RATIO = 1.3
GOAL_WARM_SHARE = 0.03
SOURCE_IMAGES = 20
PORTRAIT_EVERY = 5  # every fifth distinct image is portrait 3000×4000
LANDSCAPE, PORTRAIT = (4000, 3000), (3000, 4000)
SOURCE_QUALITY = 90
GRAIN_SHARE = 0.24
ORIGINAL_SHARE = 0.2  # posts whose Facebook rendition keeps the photo's shape
LOGO = Path(__file__).resolve().parent.parent / "assets" / "demokratin-100-mark.png"
# The corner mark and band layout of campaign/branding/templates.py, for ImageMagick.
MARK_SHARE, MARGIN_SHARE = 0.16, 0.04

CONFIG_TOML = (
    CAMPAIGN_TABLE
    + """
[brand]
logo = {logo}
template = "corner"

[render]
build = "build"
"""
)

SENTENCES = [
    "Nästa år är det val i Sverige.",
    "Alla röster räknas lika mycket.",
    "Kom och prata med oss på torget i dag.",
    "Vi finns vid biblioteket från klockan tio till två.",
    "Du kan rösta i förtid i hela landet.",
    "Ta med dig id-kort när du ska rösta.",
    "För hundra år sedan fick kvinnor rösta för första gången.",
    "Demokrati är något vi gör tillsammans.",
    "Vi bjuder på kaffe och bullar.",
    "Din röst är hemlig.",
]
ALT_TEXTS = [
    "Tre personer framför en vallokal med skylten Röstning.",
    "En hand som lägger ett kuvert i en valurna.",
    "Folk som dricker kaffe vid ett tält på torget.",
    "En kvinna i hijab som visar sitt röstkort och ler.",
]
HEADLINES = [
    "Demokratin 100 år",
    "Din röst räknas",
    "Rösta i förtid – så gör du",
    "Välkommen på kaffe på torget",
    "Kvinnor röstade första gången 1921",
]
TEMPLATES = ["band", "corner", "none"]
QUARTER_TURNS = [
    None,
    Image.Transpose.ROTATE_90,
    Image.Transpose.ROTATE_180,
    Image.Transpose.ROTATE_270,
]


@dataclass(frozen=True)
class FloorTask:
    """One rendition to reproduce with the least work: source, output size, quality."""

    source: str
    size: tuple[int, int]
    quality: int


@dataclass(frozen=True)
class MagickTask:
    """One rendition for ImageMagick: its source, sizes, template and where it goes."""

    source: str
    output: str
    size: tuple[int, int]
    template: str
    headline: str
    quality: int
    mark: str  # the mark, already scaled to its width ("" for the none template)
    mark_geometry: str  # where it goes from the bottom-right corner: +x+y
    band_colour: str
    text_colour: str
    font: str


# --- generating the campaign -------------------------------------------------------------


def grain_tile() -> Image.Image:
    """Sensor-like colour noise, drawn once and tiled over every photo (per photo is slow)."""
    return Image.merge("RGB", [Image.effect_noise((613, 571), 40) for _ in range(3)])


def gradient(size: tuple[int, int], rng: random.Random) -> Image.Image:
    """A linear or radial grey gradient, turned a random quarter, stretched to ``size``."""
    ramp = Image.linear_gradient("L") if rng.random() < 0.7 else Image.radial_gradient("L")
    turn = rng.choice(QUARTER_TURNS)
    if turn is not None:
        ramp = ramp.transpose(turn)
    return ramp.resize(size, Image.Resampling.BILINEAR)


def photo(size: tuple[int, int], rng: random.Random, grain: Image.Image) -> Image.Image:
    """A photo-like RGB image: colour gradients, blotchy texture, flat shapes, grain."""
    width, height = size
    base = Image.merge("RGB", [gradient(size, rng) for _ in range(3)])
    small = (width // 24, height // 24)
    blotches = Image.merge(
        "RGB", [Image.effect_noise(small, rng.uniform(50, 90)) for _ in range(3)]
    )
    blotches = blotches.filter(ImageFilter.GaussianBlur(1)).resize(size, Image.Resampling.BICUBIC)
    image = Image.blend(base, blotches, 0.45)
    draw = ImageDraw.Draw(image)
    for _ in range(rng.randint(6, 12)):
        left, top = rng.randrange(width), rng.randrange(height)
        box = (left, top, left + rng.randint(150, 1400), top + rng.randint(150, 1400))
        fill = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=fill)
    image = image.filter(ImageFilter.GaussianBlur(1.2))
    return Image.blend(image, tiled(grain, size), GRAIN_SHARE)


def source_images(rng: random.Random) -> list[bytes]:
    """The distinct JPEG files, encoded once; a few are portrait."""
    grain = grain_tile()
    images: list[bytes] = []
    for index in range(SOURCE_IMAGES):
        size = PORTRAIT if index % PORTRAIT_EVERY == PORTRAIT_EVERY - 1 else LANDSCAPE
        buffer = io.BytesIO()
        photo(size, rng, grain).save(buffer, "JPEG", quality=SOURCE_QUALITY, exif=phone_exif(rng))
        images.append(buffer.getvalue())
    rng.shuffle(images)
    return images


def post_yaml(when: datetime, image_file: str, template: str, rng: random.Random) -> str:
    """One post for both channels, one image, the given template."""
    sentences = rng.sample(SENTENCES, 3)
    lines = [
        f"publish_at: {when:%Y-%m-%d %H:%M}",
        "channels: [facebook, instagram]",
        "status: ready",
        "caption: |",
        f"  {' '.join(sentences)}",
        "  #demokrati100 #södertälje",
        "images:",
        f"  - file: {image_file}",
        f"    alt: {rng.choice(ALT_TEXTS)}",
    ]
    if template == "band":
        lines += ["brand:", "  template: band", f"  headline: {rng.choice(HEADLINES)}"]
    elif template == "none":
        lines.append("brand: none")
    if rng.random() < ORIGINAL_SHARE:
        lines += ["facebook:", "  ratio: original"]
    return "\n".join(lines) + "\n"


def write_campaign(root: Path, posts: int, seed: int = 1921) -> BenchCampaign:
    """Write config.toml and posts/ (post files and their images) under ``root``."""
    rng = random.Random(seed)
    folder = root / "posts"
    folder.mkdir(parents=True)
    config_text = CONFIG_TOML.format(logo=json.dumps(str(LOGO), ensure_ascii=False))
    (root / "config.toml").write_text(config_text, encoding="utf-8")
    sources = source_images(rng)
    total = len(config_text.encode("utf-8"))
    for index, when in enumerate(publish_times(posts, campaign_start(datetime.now()))):
        stem = post_stem(when, index, rng)
        data = sources[index % len(sources)]
        (folder / f"{stem}.jpg").write_bytes(data)
        text = post_yaml(when, f"{stem}.jpg", TEMPLATES[index % 3], rng).encode("utf-8")
        (folder / f"{stem}.yaml").write_bytes(text)
        total += len(data) + len(text)
    return BenchCampaign(root, posts, posts, total)


# --- what is measured --------------------------------------------------------------------


def run_render(
    config: Config, workers: int, phases: dict[str, float] | None = None
) -> RenderReport:
    """The library path of `campaign render` (no progress bar): plan, then render what's new.

    If ``phases`` is given, the seconds of each step are recorded in it.
    """
    clock = [time.perf_counter()]
    result = load_campaign(config)
    clock.append(time.perf_counter())
    digests = FileDigests(config.build_dir)
    jobs = plan_renditions(result.posts, config, digests)
    digests.save()
    clock.append(time.perf_counter())
    report = render_campaign(jobs, workers)
    clock.append(time.perf_counter())
    prune_stale(jobs, config.build_dir, whole_campaign=True)
    clock.append(time.perf_counter())
    if phases is not None:
        steps = ("load_campaign", "hash + plan", "render_campaign", "prune_stale")
        phases.update({step: clock[n + 1] - clock[n] for n, step in enumerate(steps)})
    return report


def centre_box(source: tuple[int, int], size: tuple[int, int]) -> tuple[int, int, int, int]:
    """The largest centred box of ``size``'s shape inside ``source``."""
    width, height = source
    if width * size[1] > height * size[0]:  # too wide: keep the full height
        box_w, box_h = round(height * size[0] / size[1]), height
    else:
        box_w, box_h = width, round(width * size[1] / size[0])
    left, top = (width - box_w) // 2, (height - box_h) // 2
    return left, top, left + box_w, top + box_h


def floor_one(task: FloorTask) -> int:
    """Decode at the draft scale, resize, encode: the bytes a rendition of this size needs."""
    with Image.open(task.source) as image:
        image.draft("RGB", task.size)
        picture = image.resize(
            task.size, Image.Resampling.LANCZOS, box=centre_box(image.size, task.size)
        )
    output = io.BytesIO()
    picture.save(output, "JPEG", quality=task.quality)
    return output.tell()


def run_floor(tasks: list[FloorTask], workers: int) -> int:
    """Every floor task, ``workers`` processes at a time; the total bytes encoded."""
    with multiprocessing.Pool(max(1, min(workers, len(tasks)))) as pool:
        return sum(pool.imap_unordered(floor_one, tasks, chunksize=1))


def find_imagemagick() -> tuple[list[str] | None, str]:
    """The command of a real ImageMagick (``magick`` or ``convert``), or None and why not."""
    reasons: list[str] = []
    for name in ("magick", "convert"):
        path = shutil.which(name)
        if path is None:
            continue
        try:
            done = subprocess.run(
                [path, "-version"], capture_output=True, text=True, timeout=20, check=False
            )
        except (OSError, subprocess.SubprocessError) as exc:
            reasons.append(f"{path} -version failed ({exc})")
            continue
        first = (done.stdout or done.stderr).strip().splitlines()[:1]
        if done.returncode == 0 and first and first[0].startswith("Version: ImageMagick"):
            return [path], first[0].removeprefix("Version: ")
        reasons.append(f"{path} is not ImageMagick ({first[0][:90] if first else 'no output'})")
    return None, "; ".join(reasons) or "neither `magick` nor `convert` is on PATH"


def magick_arguments(task: MagickTask) -> list[str]:
    """The ImageMagick arguments that make one rendition of ``task``."""
    width, height = task.size
    area_w, area_h = picture_area(task.template, task.size)
    margin = round(width * MARGIN_SHARE)
    arguments = [
        "-define", f"jpeg:size={area_w}x{area_h}",
        task.source,
        "-auto-orient",
        "-resize", f"{area_w}x{area_h}^",
        "-gravity", "center",
        "-extent", f"{area_w}x{area_h}",
    ]  # fmt: skip
    if task.template == "band":
        band_h = height - area_h
        arguments += [
            "-background", task.band_colour, "-gravity", "north", "-extent", f"{width}x{height}",
            task.mark, "-gravity", "southeast", "-geometry", task.mark_geometry, "-composite",
            "-font", task.font, "-pointsize", str(round(band_h * 0.22)),
            "-fill", task.text_colour, "-gravity", "southwest",
            "-annotate", f"+{margin}+{round(band_h * 0.4)}", task.headline,
        ]  # fmt: skip
    elif task.template == "corner":
        arguments += [
            task.mark, "-gravity", "southeast", "-geometry", task.mark_geometry, "-composite"
        ]  # fmt: skip
    return [
        *arguments,
        "-strip", "-interlace", "JPEG", "-sampling-factor", "4:2:0",
        "-quality", str(task.quality), task.output,
    ]  # fmt: skip


def magick_one(command: list[str], task: MagickTask) -> str:
    """Run ImageMagick for one rendition; its error output ("" when it worked)."""
    environment = {**os.environ, "MAGICK_THREAD_LIMIT": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [*command, *magick_arguments(task)],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )
    return "" if done.returncode == 0 else (done.stderr.strip() or f"exit {done.returncode}")


def run_magick(command: list[str], tasks: list[MagickTask], workers: int) -> list[str]:
    """Every ImageMagick task, ``workers`` processes at a time; the errors."""
    with ProcessPoolExecutor(max_workers=max(1, min(workers, len(tasks)))) as pool:
        outcomes = pool.map(magick_one, [command] * len(tasks), tasks)
        return [error for error in outcomes if error]


def time_render(config: Config, workers: int) -> tuple[Timing, RenderReport]:
    """One timed render, with the seconds of each of its steps."""
    phases: dict[str, float] = {}
    reports: list[RenderReport] = []
    timing = timed(lambda: reports.append(run_render(config, workers, phases)))
    timing.phases = phases
    return timing, reports[0]


def fastest(runs: list[Timing]) -> Timing:
    return min(runs, key=lambda run: run.wall)


# --- preparing the comparisons -----------------------------------------------------------


def drawn(report: RenderReport) -> list[RenditionJob]:
    """The renditions render drew: one per distinct spec (the others are copies of it)."""
    first: dict[RenditionSpec, RenditionJob] = {}
    for job in report.made:
        first.setdefault(job.spec, job)
    return list(first.values())


def floor_tasks(report: RenderReport) -> list[FloorTask]:
    """One floor task per rendition drawn: its source, its file's pixel size, its quality."""
    tasks: list[FloorTask] = []
    for job in drawn(report):
        with Image.open(job.output) as made:
            size = made.size
        tasks.append(FloorTask(str(job.spec.source), size, job.spec.quality))
    return tasks


def scaled_mark(folder: Path, width: int) -> tuple[str, int]:
    """The campaign mark scaled to ``width`` once (the project caches it too): PNG, height."""
    with Image.open(LOGO) as logo:
        mark = logo.convert("RGBA")
    height = round(mark.height * width / mark.width)
    path = folder / f"mark-{width}.png"
    if not path.exists():
        mark.resize((width, height), Image.Resampling.LANCZOS).save(path)
    return str(path), height


def magick_tasks(report: RenderReport, folder: Path) -> list[MagickTask]:
    """One ImageMagick task per rendition made, written under ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    tasks: list[MagickTask] = []
    for number, job in enumerate(drawn(report)):
        spec = job.spec
        with Image.open(job.output) as made:
            size = made.size
        margin = round(size[0] * MARGIN_SHARE)
        mark, geometry = "", ""
        if spec.template == "band":
            band_h = size[1] - picture_area("band", size)[1]
            mark, mark_h = scaled_mark(folder, round(band_h * 0.7))
            geometry = f"+{margin}+{(band_h - mark_h) // 2}"
        elif spec.template == "corner":
            mark, _ = scaled_mark(folder, round(size[0] * MARK_SHARE))
            geometry = f"+{margin}+{margin}"
        tasks.append(
            MagickTask(
                source=str(spec.source),
                output=str(folder / f"{number:05d}.jpg"),
                size=size,
                template=spec.template,
                headline=spec.headline or "",
                quality=spec.quality,
                mark=mark,
                mark_geometry=geometry,
                band_colour=spec.style.band_colour,
                text_colour=spec.style.text_colour,
                font=str(spec.style.font),
            )
        )
    return tasks


# --- reporting -----------------------------------------------------------------------------


@dataclass
class Figures:
    """The fastest run of each kind, and the renditions they concern."""

    renditions: int
    drawn: int
    cold: Timing
    floor: Timing
    warm: Timing
    warm_cli: float
    magick: Timing | None


def print_table(bench: BenchCampaign, workers: int, figures: Figures, repeat: int) -> None:
    made = max(1, figures.renditions)
    cold, floor, warm, magick = figures.cold, figures.floor, figures.warm, figures.magick
    ratio = cold.wall / floor.wall
    warm_share = figures.warm_cli / cold.wall
    rows = [
        ("images", f"{bench.images}"),
        ("renditions made (files)", f"{figures.renditions}"),
        ("renditions drawn", f"{figures.drawn}"),
        ("source MB", f"{bench.total_bytes / 1_000_000:.0f}"),
        ("worker processes", f"{workers}"),
        ("cold s", f"{cold.wall:.2f}"),
        ("cold CPU s", f"{cold.cpu:.2f}"),
        ("cold ms/rendition", f"{cold.wall / made * 1000:.1f}"),
        ("floor s", f"{floor.wall:.2f}"),
        ("floor CPU s", f"{floor.cpu:.2f}"),
        ("floor ms/rendition", f"{floor.wall / made * 1000:.1f}"),
        ("ratio cold/floor", f"{ratio:.2f}"),
        ("warm s", f"{warm.wall:.3f}"),
        ("warm/cold % (library)", f"{warm.wall / cold.wall * 100:.1f}"),
        ("warm command line s", f"{figures.warm_cli:.3f}"),
        ("warm command line/cold %", f"{warm_share * 100:.1f}"),
    ]
    if magick is not None:
        rows += [
            ("ImageMagick s", f"{magick.wall:.2f}"),
            ("ImageMagick CPU s", f"{magick.cpu:.2f}"),
            ("ImageMagick ms/rendition", f"{magick.wall / made * 1000:.1f}"),
            ("ratio cold/ImageMagick", f"{cold.wall / magick.wall:.2f}"),
        ]
    print(
        f"\nbest of {repeat}, page cache warm (ms/rendition: wall time / renditions; "
        "CPU: all processes):"
    )
    print_rows(rows)
    print(f"goal: ratio cold/floor ≤ {GOAL_RATIO}: {verdict(ratio <= GOAL_RATIO)}")
    print(
        f"goal: warm command line ≤ {GOAL_WARM_SHARE:.0%} of cold: "
        f"{verdict(warm_share <= GOAL_WARM_SHARE)}"
    )
    if magick is not None:
        print(f"goal: cold faster than ImageMagick: {verdict(cold.wall < magick.wall)}")


def describe_report(report: RenderReport, build_dir: Path) -> str:
    files = sum(1 for _ in (build_dir / "renditions").rglob("*.jpg"))
    copies = len(report.made) - len(drawn(report))
    text = (
        f"render made {len(report.made)} renditions ({files} files in the build folder; "
        f"{len(drawn(report))} drawn, {copies} copied from an identical one, e.g. Facebook "
        f"and Instagram both 4:5), {len(report.cached)} unchanged, "
        f"{len(report.failed)} failed, {len(report.upscaled)} enlarged"
    )
    for job, reason in report.failed[:3]:
        text += f"\n  failed: {job.post.id} for {job.channel}: {reason}"
    return text


def describe_phases(run: Timing) -> str:
    """The seconds of each step of a render."""
    return ", ".join(f"{step} {seconds:.3f} s" for step, seconds in run.phases.items())


def print_profile(config: Config) -> None:
    """Where a single-process cold render's time goes (cProfile), overall and in the project."""
    shutil.rmtree(config.build_dir, ignore_errors=True)
    stats = profiled(run_render, config, 1)
    print("\nprofile of one cold render in one process (cProfile adds overhead):")
    print("top 15 by own time:")
    stats.sort_stats("tottime").print_stats(15)
    print("functions of the project only, top 20 by cumulative time:")
    stats.sort_stats("cumulative").print_stats(PROJECT_FUNCTIONS, 20)


# --- command line ------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=200, help="posts, one 12 MP image each")
    add_repeat_and_keep(parser)
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="worker processes (default: all)"
    )
    parser.add_argument(
        "--profile", action="store_true", help="also profile a single-process cold render"
    )
    parser.add_argument(
        "--sample", action="store_true", help="render the repository's sample campaign instead"
    )
    return parser.parse_args(argv)


def copy_sample(root: Path) -> BenchCampaign:
    """The repository's sample campaign (config.toml, posts/, assets/), copied to ``root``."""
    repository = LOGO.parent.parent
    shutil.copy(repository / "config.toml", root / "config.toml")
    for folder in ("posts", "assets"):
        shutil.copytree(repository / folder, root / folder)
    files = list((root / "posts").iterdir())
    posts = sum(1 for file in files if file.suffix == ".yaml")
    images = sum(1 for file in files if file.suffix.lower() in {".jpg", ".jpeg", ".png", ".webp"})
    return BenchCampaign(root, posts, images, sum(file.stat().st_size for file in files))


def measure_magick(report: RenderReport, root: Path, workers: int, repeat: int) -> Timing | None:
    """ImageMagick's fastest run for the same renditions, or None (with a message) if absent."""
    command, about = find_imagemagick()
    if command is None:
        print(f"\nImageMagick: skipped: {about}.")
        return None
    tasks = magick_tasks(report, root / "imagemagick")
    errors = run_magick(command, tasks[:1], 1)
    if errors:
        print(f"\nImageMagick: skipped: {command[0]} failed on the first rendition: {errors[0]}")
        return None
    print(f"\nImageMagick: {command[0]} ({about}), one thread per process")
    failures: list[str] = []
    runs = [
        timed(lambda: failures.extend(run_magick(command, tasks, workers))) for _ in range(repeat)
    ]
    if failures:
        print(f"  note: {len(failures)} ImageMagick runs failed, e.g.: {failures[0][:200]}")
    return fastest(runs)


def measure(bench: BenchCampaign, repeat: int, workers: int, profile: bool) -> None:
    config = load_config(bench.config_path)
    result = load_campaign(config)
    print(
        f"check: {len(result.posts)} valid posts, {len(result.errors)} errors, "
        f"{len(result.warnings)} warnings"
    )
    cold: list[Timing] = []
    floor: list[Timing] = []
    tasks: list[FloorTask] = []
    encoded: list[int] = []
    for _ in range(repeat):  # cold and floor take turns, so a slow moment hits both alike
        shutil.rmtree(config.build_dir, ignore_errors=True)  # a fresh build folder
        timing, report = time_render(config, workers)
        cold.append(timing)
        tasks = tasks or floor_tasks(report)  # the renditions of the first run
        floor.append(timed(lambda todo=tasks: encoded.append(run_floor(todo, workers))))
    print(describe_report(report, config.build_dir))
    if not report.made:
        print("nothing was rendered, so there is nothing to compare.")
        return
    print(f"cold, fastest run: {describe_phases(fastest(cold))}")
    print(f"floor: {len(tasks)} renditions drawn, {encoded[-1] / 1_000_000:.1f} MB of JPEG encoded")
    warm: list[Timing] = []
    for _ in range(repeat):
        timing, again = time_render(config, workers)
        warm.append(timing)
        if again.made or again.failed:
            print(f"note: the warm run made {len(again.made)} renditions again")
    print(f"warm, fastest run: {describe_phases(fastest(warm))}")
    command = [*campaign_command(), "--config", str(bench.config_path), "render"]
    cli = taking_turns({"render": [*command, "--jobs", str(workers)]}, repeat)["render"]
    print(f"warm, command line: exit {cli[-1].status} — {cli[-1].last_line}")
    magick = measure_magick(report, bench.root, workers, repeat)
    figures = Figures(
        len(report.made),
        len(tasks),
        fastest(cold),
        fastest(floor),
        fastest(warm),
        median_wall(cli),
        magick,
    )
    print_table(bench, workers, figures, repeat)
    if profile:
        print_profile(config)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not LOGO.is_file():
        print(f"the campaign mark {LOGO} is missing; nothing measured.", file=sys.stderr)
        return 0

    def run(root: Path) -> None:
        root = root if args.keep is None else root.resolve()
        if args.sample:
            bench = copy_sample(root)
            print(f"copied the sample campaign ({bench.posts} posts) to {root}")
            measure(bench, max(1, args.repeat), max(1, args.jobs), args.profile)
            return
        bench, seconds = write_and_sync(lambda: write_campaign(root, max(1, args.images)))
        print(
            f"wrote {bench.posts} posts with one 12 MP JPEG each, "
            f"{bench.total_bytes / 1_000_000:.0f} MB, to {root} in {seconds:.1f} s"
        )
        measure(bench, max(1, args.repeat), max(1, args.jobs), args.profile)

    run_in_folder(args.keep, "campaign-render-bench-", run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
