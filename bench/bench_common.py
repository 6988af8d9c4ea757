"""What the benchmarks in ``bench/`` share: the campaign folder, generating it, timing, output.

``check_bench.py`` and ``render_bench.py`` import this module as ``bench_common``: they are
run as ``python bench/<name>.py``, which puts ``bench/`` first on ``sys.path``. It holds only
what both use; what each benchmark generates and measures stays in its own script.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pstats
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from PIL import Image

import campaign

CAMPAIGN_DAYS = 30
SLUGS = ["demokratidagen", "rosta-i-fortid", "dialogtraff", "hemlig-rost", "vem-far-rosta"]

# The [campaign] table of every generated config.toml; each benchmark appends its own tables.
CAMPAIGN_TABLE = """\
[campaign]
name = "Benchmark – Demokratin 100 år"
timezone = "Europe/Stockholm"
posts = "posts"
language = "sv"
hashtags = ["#demokrati100", "#södertälje"]
"""

# A pattern for pstats that keeps the functions of the `campaign` package only.
PROJECT_FUNCTIONS = re.escape(str(Path(campaign.__file__).parent))


@dataclass(frozen=True)
class BenchCampaign:
    """The generated campaign folder and what is in it."""

    root: Path
    posts: int
    images: int
    total_bytes: int

    @property
    def config_path(self) -> Path:
        return self.root / "config.toml"

    @property
    def posts_dir(self) -> Path:
        return self.root / "posts"


# --- generating the campaign -------------------------------------------------------------


def tiled(grain: Image.Image, size: tuple[int, int]) -> Image.Image:
    """An RGB image of ``size`` covered with copies of the ``grain`` tile."""
    width, height = size
    noise = Image.new("RGB", size)
    for x in range(0, width, grain.width):
        for y in range(0, height, grain.height):
            noise.paste(grain, (x, y))
    return noise


def phone_exif(rng: random.Random, software: str | None = None) -> bytes:
    """An EXIF block such as a phone writes (make, model, orientation, [software,] time)."""
    exif = Image.Exif()
    exif[0x010F] = "Apple"
    exif[0x0110] = rng.choice(["iPhone 13", "iPhone 14 Pro", "iPhone 15"])
    exif[0x0112] = 1
    if software is not None:
        exif[0x0131] = software
    exif[0x0132] = f"2021:09:{rng.randint(1, 28):02d} {rng.randint(8, 20):02d}:15:00"
    return exif.tobytes()


def campaign_start(today: datetime) -> datetime:
    """June 1st next year: in the future, and a month without a daylight-saving change."""
    return datetime(today.year + 1, 6, 1, 0, 0)


def publish_times(count: int, start: datetime) -> list[datetime]:
    """``count`` local times spread evenly over the month, to the minute."""
    minutes = CAMPAIGN_DAYS * 24 * 60
    return [start + timedelta(minutes=index * minutes // count) for index in range(count)]


def post_stem(when: datetime, index: int, rng: random.Random) -> str:
    """The file name of a post without its suffix: date, a slug, the post's number."""
    return f"{when:%Y-%m-%d}-{rng.choice(SLUGS)}-{index:05d}"


def write_and_sync(write: Callable[[], BenchCampaign]) -> tuple[BenchCampaign, float]:
    """Run ``write`` and flush the new files to disk; the campaign and the seconds it took.

    Flushing now keeps the operating system from writing them out in the middle of a timed
    run.
    """
    start = time.perf_counter()
    bench = write()
    if hasattr(os, "sync"):
        os.sync()
    return bench, time.perf_counter() - start


# --- the folder ----------------------------------------------------------------------------


def prepare_root(keep: Path | None, prefix: str) -> Path | None:
    """A new temporary folder, or the --keep folder if it is new or empty (else None)."""
    if keep is None:
        return Path(tempfile.mkdtemp(prefix=prefix))
    if keep.exists() and (not keep.is_dir() or any(keep.iterdir())):
        print(f"--keep {keep}: not an empty folder; name a new or empty one.", file=sys.stderr)
        return None
    keep.mkdir(parents=True, exist_ok=True)
    return keep


def run_in_folder(keep: Path | None, prefix: str, work: Callable[[Path], None]) -> None:
    """Run ``work`` on the folder of :func:`prepare_root`; a temporary one is removed after.

    If the --keep folder is not usable, a message is printed and ``work`` is not run.
    """
    root = prepare_root(keep, prefix)
    if root is None:
        return
    try:
        work(root)
    finally:
        if keep is None:
            shutil.rmtree(root, ignore_errors=True)


def add_repeat_and_keep(parser: argparse.ArgumentParser) -> None:
    """The --repeat and --keep options every benchmark has."""
    parser.add_argument("--repeat", type=int, default=3, help="timed runs; the best counts")
    parser.add_argument(
        "--keep", type=Path, help="write the campaign into this new folder and keep it"
    )


# --- timing --------------------------------------------------------------------------------


@dataclass
class Timing:
    """One timed run: wall-clock seconds, CPU seconds (this process and its children)."""

    wall: float
    cpu: float
    phases: dict[str, float] = field(default_factory=dict)


def cpu_seconds() -> float:
    """User and system CPU time of this process and of its finished child processes."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def timed(action: Callable[[], object]) -> Timing:
    """Run ``action`` once, after a garbage collection, and time it."""
    gc.collect()
    cpu, start = cpu_seconds(), time.perf_counter()
    action()
    return Timing(time.perf_counter() - start, cpu_seconds() - cpu)


def best_of(action: Callable[[], object], repeat: int) -> float:
    """The shortest wall time of ``repeat`` timed runs, after one untimed warm-up run."""
    action()
    return min(timed(action).wall for _ in range(repeat))


def campaign_command() -> list[str]:
    """The ``campaign`` command of this environment (the script beside this Python)."""
    script = Path(sys.executable).parent / "campaign"
    return [str(script) if script.exists() else "campaign"]


@dataclass(frozen=True)
class ProcessRun:
    """One timed process: wall-clock seconds, CPU seconds (the process and its children:
    user and system), exit status, last line of its output."""

    wall: float
    cpu: float
    status: int
    last_line: str


def children_cpu_seconds() -> float:
    """User and system CPU time of this process's finished child processes."""
    times = os.times()
    return times.children_user + times.children_system


def time_process(command: list[str], cwd: Path | None = None) -> ProcessRun:
    """Run ``command`` to its end (output captured) and time it, interpreter start-up
    and imports included. CPU time does not count waiting for a busy machine's cores, so
    on a loaded machine it is the steadier figure."""
    cpu, start = children_cpu_seconds(), time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=cwd)
    elapsed, cpu = time.perf_counter() - start, children_cpu_seconds() - cpu
    lines = (done.stdout or done.stderr).strip().splitlines()
    return ProcessRun(elapsed, cpu, done.returncode, lines[-1] if lines else "")


def time_cli(config_path: Path, *arguments: str) -> tuple[float, int, str]:
    """Wall time, exit status and last output line of ``campaign --config … ARGUMENTS``."""
    run = time_process([*campaign_command(), "--config", str(config_path), *arguments])
    return run.wall, run.status, run.last_line


def taking_turns(commands: dict[str, list[str]], repeat: int) -> dict[str, list[ProcessRun]]:
    """Run each command ``repeat`` times, one after the other in turn (after one untimed
    round), so that a slow moment of the machine hits them all alike; the runs by name."""
    for command in commands.values():
        time_process(command)
    runs: dict[str, list[ProcessRun]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, command in commands.items():
            runs[name].append(time_process(command))
    return runs


def median_wall(runs: list[ProcessRun]) -> float:
    return statistics.median(run.wall for run in runs)


def median_cpu(runs: list[ProcessRun]) -> float:
    return statistics.median(run.cpu for run in runs)


def best_wall(runs: list[ProcessRun]) -> float:
    return min(run.wall for run in runs)


def profiled(function: Callable[..., object], *arguments: object) -> pstats.Stats:
    """Call ``function(*arguments)`` once under cProfile; the statistics, for standard output."""
    profiler = cProfile.Profile()
    profiler.enable()
    function(*arguments)
    profiler.disable()
    return pstats.Stats(profiler, stream=sys.stdout)


# --- reporting -----------------------------------------------------------------------------


def print_rows(rows: list[tuple[str, str]]) -> None:
    """The rows of a result table: names left-aligned, values right-aligned."""
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"  {name:<{width}}  {value:>10}")


def verdict(passed: bool) -> str:
    return "PASS" if passed else "FAIL"
