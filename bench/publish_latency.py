"""How punctual is `campaign run`, and what does the daemon cost while it waits and reloads?

Part 1, publish latency on one account (the shape of earlier releases). The script starts
the fake Facebook Graph API of the tests (``tests/fakes/graph_api.py``) on 127.0.0.1,
writes a temporary campaign of N Facebook-only posts (default 100), each with its own
small image, due one after the other within ``--spread`` seconds (default 60; 0: all at
the same instant) starting ``--lead`` seconds (default 20) from now, and runs the real
daemon as a process (``python -m scheduler.cli --config CFG run``) with the fake's token in
``CAMPAIGN_FACEBOOK_TOKEN``. The daemon renders the branded images as part of its start;
the lead leaves it time to finish before the first post is due (the script says so if it
did not). It then waits until every post has arrived at the fake and computes, per post,
the time the fake received its publishing request (``POST /{page}/photos`` with the
caption) minus the post's ``publish_at``. It prints the percentiles p50, p95, p99 and the
maximum in milliseconds; the goal is p99 ≤ 1 s. One account's posts go out one after
another (its rate limits hold), so this part measures how fast one account's lane is.

Part 1b, publish latency on many accounts (``--accounts``, default 10). One fake Graph API
per account, each on its own port with its own Page id and token; a config with
``[channels.facebook] enabled = false`` and ``[accounts.acct-01]`` … (platform "facebook",
``page_id``, ``token_env``, ``graph_url``); the same number of posts, spread evenly over the
accounts (``accounts: [acct-NN]``), all due at the same instant. Same percentiles, printed
beside part 1's; the goal is p99 ≤ 1 s. A daemon that does not publish to named accounts
yet says "0 publication(s) waiting" at its start: the part then says so and stops.

Part 2, the idle daemon. It runs the daemon with ``--dry-run`` on a copy of the sample
campaign of this repository (``posts/`` copied, its settings from ``config.toml``, and a
database, build folder and outbox of its own in the temporary folder), waits until it has
started, and then samples for ``--idle-seconds`` (default 60) its resident memory (``VmRSS`` in
``/proc/PID/status``) and its CPU time (``utime + stime`` in ``/proc/PID/stat``). It
prints the largest RSS in MB and the CPU used as a percentage of one core over the
period; the goals are ≤ 150 MB and ≤ 0.2 %.

Part 3, hot reloads. The daemon runs with ``--dry-run`` on the sample campaign's settings
but an empty posts folder, and rescans only on SIGHUP. Round 1 copies the sample posts in
(their ``publish_at`` moved into the next hours, so they are prepared ahead) and sends
SIGHUP; each of the ``--reloads`` rounds (default 5) gives every post a new band headline,
so that every image is drawn again, and sends SIGHUP. A round ends with the daemon's
"posts loaded" line; then the script waits ``--settle`` seconds (default 10). It samples
the daemon's RSS every 0.2 s (and the RSS of its child processes, where images are drawn)
and prints per round the largest RSS and the RSS at the end of the settling: the idle RSS,
whose goal is ≤ 150 MB after every round.

Usage, from the project root with the project's virtual environment active (Linux: it
reads ``/proc``)::

    python bench/publish_latency.py                       # all parts
    python bench/publish_latency.py --spread 0 --skip-idle --skip-reload  # latency only
    python bench/publish_latency.py --skip-single --skip-idle --skip-reload  # part 1b only
    python bench/publish_latency.py --idle-seconds 10     # a shorter idle part
    python bench/publish_latency.py --reloads 10 --settle 5
    python bench/publish_latency.py --keep /tmp/latency   # keep the generated folder

The daemon is whatever ``python -m scheduler.cli`` imports: set ``PYTHONPATH`` to another
checkout to measure its daemon (the fakes still come from this one). The exit status is
always 0: this is a measurement, not a test. Figures depend on the machine and on what
else runs on it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
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

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        self.arrivals: list[tuple[float, str | None, dict[str, str]]] = []
        self._arrivals_lock = threading.Lock()

    def _answer(self, handler: Any, request: Any) -> Any:
        arrived = time.time()
        with self._arrivals_lock:
            self.arrivals.append((arrived, request.kind, dict(request.params)))
        return super()._answer(handler, request)


# --- parts 1 and 1b: publish latency ---------------------------------------------------------


@dataclass(frozen=True)
class Planned:
    post_id: str
    caption: str
    due: datetime


@dataclass(frozen=True)
class Latencies:
    """What one latency run measured (milliseconds, sorted), for the side-by-side table."""

    label: str
    values: list[float]
    expected: int

    def at(self, share: float) -> float:
        return percentile(self.values, share)


BASE_TABLES = """
[brand]
logo = "logo.png"
template = "corner"

[render]
width = 320

[database]
url = "sqlite:///{root}/data/campaign.db"

[publishing]
outbox = "{root}/outbox"

[scheduler]
misfire_grace_minutes = 30
"""


def latency_config(root: Path, fake: FakeGraphAPI) -> Path:
    """One account: the default Facebook Page, on ``fake``."""
    Image.new("RGBA", (100, 50), (230, 0, 0, 255)).save(root / "logo.png")
    text = (
        CAMPAIGN_TABLE
        + BASE_TABLES.format(root=root)
        + f"""
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


def account_name(index: int) -> str:
    return f"acct-{index + 1:02d}"


def account_token_env(index: int) -> str:
    return f"CAMPAIGN_TOKEN_ACCT_{index + 1:02d}"


def accounts_config(root: Path, fakes: list[TimedGraphAPI]) -> Path:
    """Many accounts: the default ones switched off, ``[accounts.acct-NN]`` on each fake."""
    Image.new("RGBA", (100, 50), (230, 0, 0, 255)).save(root / "logo.png")
    tables = [
        CAMPAIGN_TABLE,
        BASE_TABLES.format(root=root),
        "\n[channels.facebook]\nenabled = false\n\n[channels.instagram]\nenabled = false\n",
    ]
    for index, fake in enumerate(fakes):
        tables.append(
            f"""
[accounts.{account_name(index)}]
platform = "facebook"
page_id = "{fake.page_id}"
token_env = "{account_token_env(index)}"
graph_url = "{fake.url}"
api_version = "{fake.version}"
"""
        )
    path = root / "config.toml"
    path.write_text("".join(tables), encoding="utf-8")
    return path


def write_posts(
    root: Path, count: int, first: datetime, spread: float, accounts: list[str] | None = None
) -> list[Planned]:
    """``count`` posts due from ``first`` over ``spread`` seconds, small images; on the
    default Facebook Page, or round-robin on ``accounts``."""
    posts_dir = root / "posts"
    posts_dir.mkdir(parents=True, exist_ok=True)
    planned = []
    for index in range(count):
        due = first + timedelta(seconds=spread * index / max(count - 1, 1))
        post_id = f"{due:%Y-%m-%d}-matning-{index:04d}"
        caption = f"Mätning {index:04d}: demokratin fyller hundra år i Södertälje."
        where = (
            f"accounts: [{accounts[index % len(accounts)]}]" if accounts else "channels: [facebook]"
        )
        colour = (index * 37 % 256, index * 91 % 256, index * 53 % 256)
        Image.new("RGB", (400, 500), colour).save(posts_dir / f"{post_id}.jpg", "JPEG")
        (posts_dir / f"{post_id}.yaml").write_text(
            f"""\
publish_at: {due.isoformat(timespec="milliseconds")}
{where}
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


def log_text(log: Path) -> str:
    return log.read_text(encoding="utf-8", errors="replace")


def wait_for_line(
    log: Path, process: subprocess.Popen[bytes], text: str, timeout: float, count: int = 1
) -> bool:
    """Whether ``text`` is in the log ``count`` times within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log_text(log).count(text) >= count:
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
            [sys.executable, "-m", "scheduler.cli", "--config", str(config), "run", *args],
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
    return "\n".join(log_text(log).splitlines()[-lines:])


def waiting_at_start(log: Path) -> int | None:
    """How many publications the daemon said were waiting when it started."""
    found = re.search(r"scheduler started: (\d+) publication", log_text(log))
    return int(found.group(1)) if found else None


def run_latency(
    label: str,
    root: Path,
    config: Path,
    fakes: list[TimedGraphAPI],
    env: dict[str, str],
    planned: list[Planned],
    lead: float,
    spread: float,
) -> Latencies | None:
    """Run the daemon on ``config`` until every planned post reached its fake; the
    lateness of each post's ``POST photos``."""
    count = len(planned)
    log = root / f"daemon-{label.split()[0]}.log"

    def arrived() -> int:
        return sum(len(fake.posts) for fake in fakes)

    launched = time.monotonic()
    process = start_daemon(config, log, env)
    try:
        if not wait_for_line(log, process, STARTED, timeout=lead + 60):
            print(f"  the daemon did not start:\n{tail(log)}")
            return None
        if waiting_at_start(log) == 0:
            print("  this daemon schedules nothing for these posts (it does not publish to")
            print(f"  named accounts yet):\n{tail(log, 5)}")
            return None
        first = min(item.due for item in planned)
        ready_after = time.monotonic() - launched
        slack = (first - datetime.now(UTC)).total_seconds()
        print(f"  daemon ready (images rendered) after {ready_after:.1f} s", end="")
        print(f"; the first post is due {slack:.1f} s later")
        if slack < 0:
            print("  WARNING: the daemon was not ready before the first post: use a longer --lead")
        deadline = time.monotonic() + lead + spread + 120
        while time.monotonic() < deadline and arrived() < count:
            if process.poll() is not None:
                print(f"  the daemon ended early ({process.returncode}):\n{tail(log)}")
                return None
            time.sleep(0.1)
        code = stop_daemon(process)
    finally:
        stop_daemon(process)

    by_caption = {item.caption: item for item in planned}
    latencies: dict[str, float] = {}
    requests = 0
    for fake in fakes:
        for when, kind, params in fake.arrivals:
            if kind != "POST photos" or "caption" not in params:
                continue
            requests += 1
            item = by_caption.get(params["caption"].splitlines()[0])
            if item is not None and item.post_id not in latencies:
                latencies[item.post_id] = (when - item.due.timestamp()) * 1000
    if arrived() < count or len(latencies) < count:
        print(f"  only {arrived()} of {count} posts arrived:\n{tail(log)}")
    if not latencies:
        return None
    values = sorted(latencies.values())
    result = Latencies(label, values, count)
    print_rows(
        [
            ("posts arrived at the fakes", f"{arrived()}/{count}"),
            ("publish requests (POST photos)", str(requests)),
            ("earliest (ms)", f"{values[0]:.0f}"),
            ("p50 (ms)", f"{result.at(0.50):.0f}"),
            ("p95 (ms)", f"{result.at(0.95):.0f}"),
            ("p99 (ms)", f"{result.at(0.99):.0f}"),
            ("max (ms)", f"{values[-1]:.0f}"),
            ("daemon exit code", str(code)),
        ]
    )
    early = sum(1 for value in values if value < 0)
    if early:
        print(f"  {early} post(s) went out BEFORE their time")
    passed = result.at(0.99) <= GOAL_P99_MS and len(latencies) == count and early == 0
    print(f"  goal: p99 ≤ {GOAL_P99_MS:.0f} ms: {verdict(passed)}")
    return result


def measure_latency(root: Path, count: int, lead: float, spread: float) -> Latencies | None:
    print(f"Part 1: publish latency, {count} posts on one Facebook Page within {spread:g} s")
    folder = root / "one-account"
    folder.mkdir()
    fake = TimedGraphAPI().start()
    try:
        config = latency_config(folder, fake)
        first = datetime.now(UTC) + timedelta(seconds=lead)
        planned = write_posts(folder, count, first, spread)
        env = clean_environment()
        env[TOKEN_ENV] = fake.token
        return run_latency("1 account", folder, config, [fake], env, planned, lead, spread)
    finally:
        fake.stop()


def measure_accounts(root: Path, count: int, accounts: int, lead: float) -> Latencies | None:
    print(
        f"\nPart 1b: publish latency, {count} posts on {accounts} Facebook accounts, "
        "all due at the same instant"
    )
    folder = root / "many-accounts"
    folder.mkdir()
    fakes = [
        TimedGraphAPI(page_id=f"{1_000_000_000 + index}", page_name=f"Sida {index + 1}").start()
        for index in range(accounts)
    ]
    try:
        config = accounts_config(folder, fakes)
        first = datetime.now(UTC) + timedelta(seconds=lead)
        names = [account_name(index) for index in range(accounts)]
        planned = write_posts(folder, count, first, 0, names)
        env = clean_environment()
        for index, fake in enumerate(fakes):
            env[account_token_env(index)] = fake.token
        label = f"{accounts} accounts"
        return run_latency(label, folder, config, fakes, env, planned, lead, 0)
    finally:
        for fake in fakes:
            fake.stop()


def print_side_by_side(results: list[Latencies]) -> None:
    print("\nLatency side by side (ms; bench/README.md records earlier releases' figures)")
    print(f"  {'scenario':<22}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>8}")
    for result in results:
        cells = "".join(f"{result.at(share):>8.0f}" for share in (0.50, 0.95, 0.99))
        print(f"  {result.label:<22}{cells}{result.values[-1]:>8.0f}")


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


def sample_campaign_config(
    root: Path, name: str = "idle", posts: Path | None = None, rescan_seconds: float | None = None
) -> Path:
    """The repository's config.toml in ``root``: its brand files' paths made absolute, a
    copy of its posts (or ``posts``, a folder in ``root``), and the database, build folder
    and outbox in ``root`` (and, if given, another rescan interval)."""
    settings = tomllib.loads((REPO / "config.toml").read_text(encoding="utf-8"))
    campaign = settings.setdefault("campaign", {})
    if posts is None:  # a copy: the posts folder must be inside the campaign's folder
        posts = root / f"{name}-posts"
        shutil.copytree(REPO / campaign.get("posts", "posts"), posts)
    campaign["posts"] = str(posts.relative_to(root))
    if rescan_seconds is not None:
        settings.setdefault("scheduler", {})["rescan_seconds"] = rescan_seconds
    brand = settings.setdefault("brand", {})
    brand["logo"] = str((REPO / brand.get("logo", "assets/demokratin-100-mark.png")).resolve())
    for key in ("font", "rtl_font"):
        font = brand.get(key)
        if font and not font.startswith("fontpkg:"):
            brand[key] = str((REPO / font).resolve())
    settings.setdefault("render", {})["build"] = str(root / f"{name}-build")
    settings.setdefault("database", {})["url"] = f"sqlite:///{root / 'data' / f'{name}.db'}"
    settings.setdefault("publishing", {})["outbox"] = str(root / f"{name}-outbox")
    path = root / f"{name}-config.toml"
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
    print(f"\nPart 2: the idle daemon, a copy of the sample campaign, --dry-run, {seconds:g} s")
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


# --- part 3: hot reloads ----------------------------------------------------------------------


def children_rss_mb(pid: int) -> float:
    """The RSS of ``pid``'s child processes together (where images are drawn)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
            if int(text[text.rindex(")") + 2 :].split()[1]) == pid:
                total += rss_mb(int(stat.parent.name))
        except (OSError, ValueError):
            continue
    return total


class RssSampler:
    """Samples a process's RSS (and its children's) every ``every`` seconds in a thread."""

    def __init__(self, pid: int, every: float = 0.2) -> None:
        self.pid = pid
        self.every = every
        self.samples: list[tuple[float, float, float]] = []  # (monotonic, own, children)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                sample = (time.monotonic(), rss_mb(self.pid), children_rss_mb(self.pid))
            except OSError:
                return
            self.samples.append(sample)
            self._stop.wait(self.every)

    def between(self, start: float, end: float) -> list[tuple[float, float, float]]:
        return [sample for sample in self.samples if start <= sample[0] <= end]


POST_DATE = re.compile(r"^publish_at:.*$", re.MULTILINE)


def copy_sample_posts(folder: Path, first: datetime) -> int:
    """The sample posts and their images into ``folder``, due every 7 minutes from
    ``first`` (so that the daemon prepares them ahead); how many posts."""
    posts = sorted((REPO / "posts").glob("*.yaml"))
    for path in (REPO / "posts").iterdir():
        if path.is_file() and path.suffix != ".yaml":
            shutil.copy2(path, folder / path.name)
    for index, path in enumerate(posts):
        due = first + timedelta(minutes=7 * index)
        text = POST_DATE.sub(f"publish_at: {due.isoformat(timespec='minutes')}", path.read_text())
        (folder / path.name).write_text(text, encoding="utf-8")
    return len(posts)


def touch_images(folder: Path, round_number: int) -> int:
    """Change one pixel of every image, so that every rendition must be drawn again;
    how many images."""
    count = 0
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in (".jpg", ".jpeg", ".png", ".webp"):
            continue
        with Image.open(path) as image:
            image.load()
            kind, info = image.format, dict(image.info)
            changed = image.copy()
        changed.putpixel((0, 0), (round_number * 40 % 256,) * len(changed.getbands()))
        extra = {key: info[key] for key in ("exif", "icc_profile") if info.get(key)}
        changed.save(path, kind, **extra)
        count += 1
    return count


def measure_reloads(root: Path, reloads: int, settle: float) -> None:
    print(
        f"\nPart 3: hot reloads, the sample posts merged into a running daemon ({reloads} "
        f"round(s), {settle:g} s settling after each), --dry-run"
    )
    folder = root / "reload-posts"
    folder.mkdir()
    config = sample_campaign_config(root, "reload", posts=folder, rescan_seconds=3600)
    log = root / "daemon-reload.log"
    process = start_daemon(config, log, clean_environment(), "--dry-run")
    rows: list[tuple[str, ...]] = []
    idle: list[float] = []
    try:
        if not wait_for_line(log, process, STARTED, timeout=300):
            print(f"  the daemon did not start:\n{tail(log)}")
            return
        with RssSampler(process.pid) as sampler:
            time.sleep(settle)
            empty = sampler.samples[-1][1]
            print(f"  RSS with no posts, {settle:g} s after the start: {empty:.1f} MB")
            for number in range(1, reloads + 1):
                if number == 1:
                    first = datetime.now(UTC) + timedelta(hours=2)
                    what = f"{copy_sample_posts(folder, first)} posts added"
                else:
                    what = f"{touch_images(folder, number)} images changed"
                began = time.monotonic()
                process.send_signal(signal.SIGHUP)
                if not wait_for_line(log, process, "posts loaded", 600, count=number + 1):
                    print(f"  round {number}: no 'posts loaded' line:\n{tail(log)}")
                    return
                loaded = time.monotonic()
                time.sleep(settle)
                during = sampler.between(began, time.monotonic())
                end_rss = sampler.samples[-1][1]
                idle.append(end_rss)
                rows.append(
                    (
                        str(number),
                        what,
                        f"{loaded - began:.1f}",
                        f"{max(own for _, own, _ in during):.1f}",
                        f"{max(children for _, _, children in during):.1f}",
                        f"{end_rss:.1f}",
                    )
                )
    finally:
        code = stop_daemon(process)
        if code not in (0, None):
            print(f"  the daemon exited with {code}:\n{tail(log)}")
    header = ("round", "what", "reload (s)", "peak (MB)", "drawing procs (MB)", "idle (MB)")
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        cells = (str(cell).rjust(width) for cell, width in zip(row, widths, strict=True))
        print("  " + "  ".join(cells))
    if idle:
        passed = max(idle) <= GOAL_RSS_MB
        print(f"  goal: idle RSS ≤ {GOAL_RSS_MB:.0f} MB after every round: {verdict(passed)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=100, help="posts to publish (parts 1, 1b)")
    parser.add_argument(
        "--lead", type=float, default=20, help="seconds from now to the first post's time"
    )
    parser.add_argument(
        "--spread", type=float, default=60, help="seconds from the first post to the last (part 1)"
    )
    parser.add_argument(
        "--accounts", type=int, default=10, help="accounts the posts go to (part 1b)"
    )
    parser.add_argument(
        "--idle-seconds", type=float, default=60, help="how long to sample the idle daemon"
    )
    parser.add_argument("--reloads", type=int, default=5, help="hot reload rounds (part 3)")
    parser.add_argument(
        "--settle", type=float, default=10, help="seconds after each reload before idle RSS"
    )
    parser.add_argument("--skip-single", action="store_true", help="no part 1 (one account)")
    parser.add_argument("--skip-multi", action="store_true", help="no part 1b (many accounts)")
    parser.add_argument("--skip-idle", action="store_true", help="no part 2 (idle daemon)")
    parser.add_argument("--skip-reload", action="store_true", help="no part 3 (hot reloads)")
    parser.add_argument(
        "--keep", type=Path, help="write the campaigns into this new folder and keep it"
    )
    options = parser.parse_args()

    def work(root: Path) -> None:
        results = []
        if not options.skip_single:
            results.append(measure_latency(root, options.posts, options.lead, options.spread))
        if not options.skip_multi:
            results.append(measure_accounts(root, options.posts, options.accounts, options.lead))
        if len([result for result in results if result is not None]) > 1:
            print_side_by_side([result for result in results if result is not None])
        if not options.skip_idle:
            measure_idle(root, options.idle_seconds)
        if not options.skip_reload:
            measure_reloads(root, options.reloads, options.settle)

    run_in_folder(options.keep, "publish-latency-", work)


if __name__ == "__main__":
    main()
