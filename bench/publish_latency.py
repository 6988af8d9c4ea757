"""How punctual is `campaign run`, and what does the daemon cost while it waits?

Part 1, publish latency. The script starts the fake Facebook Graph API of the tests
(``tests/fakes/graph_api.py``) on 127.0.0.1, writes a temporary campaign of N
Facebook-only posts (default 100), each with its own small image, due one after the other
within one minute (``--spread``) starting ``--lead`` seconds (default 20) from now, and
runs the real daemon as a process (``python -m campaign --config CFG run``) with the
fake's token in ``CAMPAIGN_FACEBOOK_TOKEN``. The daemon renders the branded images as
part of its start; the lead leaves it time to finish before the first post is due (the
script says so if it did not). It then waits until every post has arrived at the fake and
computes, per post, the time the fake received its publishing request (``POST
/{page}/photos`` with the caption) minus the post's ``publish_at``. It prints the
percentiles p50, p95, p99 and the maximum in milliseconds; the goal is p99 ≤ 1 s.

Part 2, the idle daemon. It runs the daemon with ``--dry-run`` on the sample campaign
of this repository (``posts/``, its settings from ``config.toml``, but a database, build
folder and outbox of its own in the temporary folder), waits until it has started, and
then samples for ``--idle-seconds`` (default 60) its resident memory (``VmRSS`` in
``/proc/PID/status``) and its CPU time (``utime + stime`` in ``/proc/PID/stat``). It
prints the largest RSS in MB and the CPU used as a percentage of one core over the
period; the goals are ≤ 150 MB and ≤ 0.2 %.

Usage, from the project root with the project's virtual environment active (Linux: it
reads ``/proc``)::

    python bench/publish_latency.py                       # 100 posts, 60 s idle
    python bench/publish_latency.py --idle-seconds 10     # a shorter idle part
    python bench/publish_latency.py --posts 200 --lead 30 --spread 60
    python bench/publish_latency.py --skip-idle           # part 1 only
    python bench/publish_latency.py --keep /tmp/latency   # keep the generated folder

The exit status is always 0: this is a measurement, not a test. Figures depend on the
machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench_common import CAMPAIGN_TABLE, print_rows, run_in_folder, verdict
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.fakes.graph_api import FakeGraphAPI  # noqa: E402

GOAL_P99_MS = 1000.0
GOAL_RSS_MB = 150.0
GOAL_CPU_PERCENT = 0.2
STARTED = "scheduler started"
TOKEN_ENV = "CAMPAIGN_FACEBOOK_TOKEN"


class TimedGraphAPI(FakeGraphAPI):
    """The fake Graph API, also noting when each request arrived (after its body was read)."""

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: list[tuple[float, str | None, dict[str, str]]] = []
        self._arrivals_lock = threading.Lock()

    def _answer(self, handler: Any, request: Any) -> Any:
        arrived = time.time()
        with self._arrivals_lock:
            self.arrivals.append((arrived, request.kind, dict(request.params)))
        return super()._answer(handler, request)


# --- part 1: publish latency -----------------------------------------------------------------


@dataclass(frozen=True)
class Planned:
    post_id: str
    caption: str
    due: datetime


def latency_config(root: Path, fake: FakeGraphAPI) -> Path:
    Image.new("RGBA", (100, 50), (230, 0, 0, 255)).save(root / "logo.png")
    text = (
        CAMPAIGN_TABLE
        + f"""
[brand]
logo = "logo.png"
template = "corner"

[render]
width = 320

[database]
url = "sqlite:///{root / "data" / "campaign.db"}"

[publishing]
outbox = "{root / "outbox"}"

[scheduler]
misfire_grace_minutes = 30

[channels.facebook]
page_id = "{fake.page_id}"
graph_url = "{fake.url}"
api_version = "{fake.version}"
token_env = "{TOKEN_ENV}"

[channels.instagram]
enabled = false
"""
    )
    path = root / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def write_posts(root: Path, count: int, first: datetime, spread: float) -> list[Planned]:
    """``count`` Facebook posts due from ``first`` over ``spread`` seconds, small images."""
    posts_dir = root / "posts"
    posts_dir.mkdir(parents=True, exist_ok=True)
    planned = []
    for index in range(count):
        due = first + timedelta(seconds=spread * index / max(count - 1, 1))
        post_id = f"{due:%Y-%m-%d}-matning-{index:04d}"
        caption = f"Mätning {index:04d}: demokratin fyller hundra år i Södertälje."
        colour = (index * 37 % 256, index * 91 % 256, index * 53 % 256)
        Image.new("RGB", (400, 500), colour).save(posts_dir / f"{post_id}.jpg", "JPEG")
        (posts_dir / f"{post_id}.yaml").write_text(
            f"""\
publish_at: {due.isoformat(timespec="milliseconds")}
channels: [facebook]
status: ready
caption: |
  {caption}
  #demokrati100
images:
  - file: {post_id}.jpg
    alt: En enfärgad testbild för mätningen nummer {index}.
""",
            encoding="utf-8",
        )
        planned.append(Planned(post_id, caption, due))
    return planned


def percentile(sorted_values: list[float], share: float) -> float:
    """The nearest-rank percentile of already sorted values."""
    rank = max(math.ceil(share * len(sorted_values)), 1)
    return sorted_values[rank - 1]


def wait_for_line(log: Path, process: subprocess.Popen[bytes], text: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in log.read_text(encoding="utf-8", errors="replace"):
            return True
        if process.poll() is not None:
            return False
        time.sleep(0.05)
    return False


def start_daemon(
    config: Path, log: Path, env: dict[str, str], *args: str
) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "campaign", "--config", str(config), "run", *args],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=config.parent,
        )


def stop_daemon(process: subprocess.Popen[bytes]) -> int | None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    return process.returncode


def clean_environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAMPAIGN_")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def tail(log: Path, lines: int = 15) -> str:
    return "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def measure_latency(root: Path, count: int, lead: float, spread: float) -> None:
    print(f"Part 1: publish latency, {count} Facebook posts within {spread:g} s")
    fake = TimedGraphAPI().start()
    process: subprocess.Popen[bytes] | None = None
    try:
        config = latency_config(root, fake)
        first = datetime.now(UTC) + timedelta(seconds=lead)
        planned = write_posts(root, count, first, spread)
        env = clean_environment()
        env[TOKEN_ENV] = fake.token
        log = root / "daemon-latency.log"
        launched = time.monotonic()
        process = start_daemon(config, log, env)
        if not wait_for_line(log, process, STARTED, timeout=lead + 60):
            print(f"  the daemon did not start:\n{tail(log)}")
            return
        ready_after = time.monotonic() - launched
        slack = (first - datetime.now(UTC)).total_seconds()
        print(f"  daemon ready (images rendered) after {ready_after:.1f} s", end="")
        print(f"; the first post is due {slack:.1f} s later")
        if slack < 0:
            print("  WARNING: the daemon was not ready before the first post: use a longer --lead")

        by_caption = {item.caption: item for item in planned}
        deadline = time.monotonic() + lead + spread + 120
        while time.monotonic() < deadline and len(fake.posts) < count:
            if process.poll() is not None:
                print(f"  the daemon ended early ({process.returncode}):\n{tail(log)}")
                return
            time.sleep(0.1)
        code = stop_daemon(process)

        latencies: dict[str, float] = {}
        for arrived, kind, params in fake.arrivals:
            if kind != "POST photos" or "caption" not in params:
                continue
            item = by_caption.get(params["caption"].splitlines()[0])
            if item is not None and item.post_id not in latencies:
                latencies[item.post_id] = (arrived - item.due.timestamp()) * 1000
        if len(fake.posts) < count or len(latencies) < count:
            print(f"  only {len(fake.posts)} of {count} posts arrived:\n{tail(log)}")
        if not latencies:
            return
        values = sorted(latencies.values())
        p99 = percentile(values, 0.99)
        print_rows(
            [
                ("posts arrived at the fake", f"{len(fake.posts)}/{count}"),
                ("publish requests (POST photos)", str(len(fake.of_kind("POST photos")))),
                ("earliest (ms)", f"{values[0]:.0f}"),
                ("p50 (ms)", f"{percentile(values, 0.50):.0f}"),
                ("p95 (ms)", f"{percentile(values, 0.95):.0f}"),
                ("p99 (ms)", f"{p99:.0f}"),
                ("max (ms)", f"{values[-1]:.0f}"),
                ("daemon exit code", str(code)),
            ]
        )
        early = sum(1 for value in values if value < 0)
        if early:
            print(f"  {early} post(s) went out BEFORE their time")
        passed = p99 <= GOAL_P99_MS and len(latencies) == count and early == 0
        print(f"  goal: p99 ≤ {GOAL_P99_MS:.0f} ms: {verdict(passed)}")
    finally:
        if process is not None:
            stop_daemon(process)
        fake.stop()


# --- part 2: the idle daemon -------------------------------------------------------------------


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def toml_text(tables: dict[str, Any], prefix: str = "") -> str:
    """The nested dict of a config file as TOML (tables of scalars and lists only)."""
    lines = []
    scalars = {k: v for k, v in tables.items() if not isinstance(v, dict)}
    if prefix and scalars:
        lines.append(f"[{prefix}]")
    lines.extend(f"{key} = {toml_value(value)}" for key, value in scalars.items())
    if scalars:
        lines.append("")
    for key, value in tables.items():
        if isinstance(value, dict):
            lines.append(toml_text(value, f"{prefix}.{key}" if prefix else key))
    return "\n".join(lines)


def sample_campaign_config(root: Path) -> Path:
    """The repository's config.toml with its paths made absolute and the database, build
    folder and outbox moved into ``root``."""
    settings = tomllib.loads((REPO / "config.toml").read_text(encoding="utf-8"))
    campaign = settings.setdefault("campaign", {})
    campaign["posts"] = str((REPO / campaign.get("posts", "posts")).resolve())
    brand = settings.setdefault("brand", {})
    brand["logo"] = str((REPO / brand.get("logo", "assets/demokratin-100-mark.png")).resolve())
    for key in ("font", "rtl_font"):
        font = brand.get(key)
        if font and not font.startswith("fontpkg:"):
            brand[key] = str((REPO / font).resolve())
    settings.setdefault("render", {})["build"] = str(root / "build")
    settings.setdefault("database", {})["url"] = f"sqlite:///{root / 'data' / 'idle.db'}"
    settings.setdefault("publishing", {})["outbox"] = str(root / "outbox")
    path = root / "idle-config.toml"
    path.write_text(toml_text(settings) + "\n", encoding="utf-8")
    return path


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds_of(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


def measure_idle(root: Path, seconds: float) -> None:
    print(
        f"\nPart 2: the idle daemon, sample campaign ({REPO / 'posts'}), --dry-run, {seconds:g} s"
    )
    config = sample_campaign_config(root)
    log = root / "daemon-idle.log"
    launched = time.monotonic()
    process = start_daemon(config, log, clean_environment(), "--dry-run")
    try:
        if not wait_for_line(log, process, STARTED, timeout=300):
            print(f"  the daemon did not start:\n{tail(log)}")
            return
        print(f"  daemon ready after {time.monotonic() - launched:.1f} s")
        time.sleep(1.0)  # let the start's last work settle
        pid = process.pid
        rss = [rss_mb(pid)]
        cpu_start, wall_start = cpu_seconds_of(pid), time.monotonic()
        while time.monotonic() - wall_start < seconds:
            time.sleep(min(1.0, max(seconds - (time.monotonic() - wall_start), 0.01)))
            if process.poll() is not None:
                print(f"  the daemon ended ({process.returncode}):\n{tail(log)}")
                return
            rss.append(rss_mb(pid))
        cpu_used = cpu_seconds_of(pid) - cpu_start
        wall = time.monotonic() - wall_start
        cpu_percent = cpu_used / wall * 100
        print_rows(
            [
                ("RSS at the start (MB)", f"{rss[0]:.1f}"),
                ("RSS largest (MB)", f"{max(rss):.1f}"),
                ("RSS at the end (MB)", f"{rss[-1]:.1f}"),
                ("CPU time (s)", f"{cpu_used:.2f}"),
                ("over (s)", f"{wall:.1f}"),
                ("CPU (% of one core)", f"{cpu_percent:.3f}"),
            ]
        )
        print(f"  goal: RSS ≤ {GOAL_RSS_MB:.0f} MB: {verdict(max(rss) <= GOAL_RSS_MB)}")
        print(f"  goal: CPU ≤ {GOAL_CPU_PERCENT} %: {verdict(cpu_percent <= GOAL_CPU_PERCENT)}")
        if seconds < 60:
            print("  (shorter than the 60 s of the goal: the CPU figure is less reliable)")
    finally:
        code = stop_daemon(process)
        if code not in (0, None):
            print(f"  the daemon exited with {code}:\n{tail(log)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=100, help="posts to publish (part 1)")
    parser.add_argument(
        "--lead", type=float, default=20, help="seconds from now to the first post's time"
    )
    parser.add_argument(
        "--spread", type=float, default=60, help="seconds from the first post to the last"
    )
    parser.add_argument(
        "--idle-seconds", type=float, default=60, help="how long to sample the idle daemon"
    )
    parser.add_argument("--skip-idle", action="store_true", help="part 1 only")
    parser.add_argument(
        "--keep", type=Path, help="write the campaigns into this new folder and keep it"
    )
    options = parser.parse_args()

    def work(root: Path) -> None:
        measure_latency(root, options.posts, options.lead, options.spread)
        if not options.skip_idle:
            measure_idle(root, options.idle_seconds)

    run_in_folder(options.keep, "publish-latency-", work)


if __name__ == "__main__":
    main()
