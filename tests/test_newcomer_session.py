"""A newcomer's first hour, end to end (issue 14), as processes in a copy of the sample.

README's quick start and what follows it, in the order a newcomer types it, with no
--config (the working folder's config.toml) and no credentials: check, a rehearsal fitted
into a few seconds, the simulated audience's table and report, a dry run of the past
campaign stopped with Ctrl-C, status, and a rehearsal stopped with Ctrl-C. The copy is a
git repository with this repository's .gitignore: nothing the tool wrote shows up in
`git status`.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Long enough for a slow CI machine; each wait ends as soon as its condition holds.
BOUND = 240.0


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's sample campaign, committed in a git repository of its own."""
    if shutil.which("git") is None:
        pytest.skip("git is needed to see what the tool leaves untracked")
    root = tmp_path_factory.mktemp("newcomer")
    for name in ("config.toml", ".gitignore"):
        shutil.copy(ROOT / name, root / name)
    for folder in ("posts", "assets"):
        shutil.copytree(ROOT / folder, root / folder)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "sample"]):
        subprocess.run([*git, *args], cwd=root, check=True, capture_output=True)
    return root


def environment(root: Path) -> dict[str, str]:
    """A newcomer's environment: no CAMPAIGN_* settings and no secrets of this machine."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(root),
        "PYTHONPATH": str(ROOT),
        "COLUMNS": "200",
        "TZ": "UTC",
    }


def campaign(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`campaign ARGS` in the sample's folder, to its end."""
    done = subprocess.run(
        [sys.executable, "-m", "scheduler.cli", *args],
        cwd=root,
        env=environment(root),
        capture_output=True,
        text=True,
        timeout=BOUND,
        check=False,
    )
    assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
    return done


def started(root: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "scheduler.cli", *args],
        cwd=root,
        env=environment(root),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def interrupted(process: subprocess.Popen[str], when: Callable[[str], bool]) -> str:
    """Wait until ``when(output so far)`` holds, send Ctrl-C's SIGINT, return everything
    the process printed."""
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout or []), daemon=True)
    reader.start()
    deadline = time.monotonic() + BOUND
    try:
        while not when("".join(lines)):
            assert process.poll() is None, "".join(lines)
            assert time.monotonic() < deadline, "the condition never held: " + "".join(lines)
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGINT)
        process.wait(timeout=BOUND)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    reader.join(timeout=BOUND)
    output = "".join(lines)
    assert "Traceback" not in output, output
    return output


def post_files(root: Path) -> list[Path]:
    return sorted((root / "posts").glob("*.yaml"))


def test_a_newcomers_first_hour(sample: Path) -> None:
    posts = len(post_files(sample))

    # 1. campaign check: passes; the past dates are one grouped warning, not one per post.
    check = campaign(sample, "check")
    assert check.returncode == 0, check.stdout + check.stderr
    grouped = [line for line in check.stdout.splitlines() if "× in the past" in line]
    assert len(grouped) == 1, check.stdout
    assert grouped[0].startswith(f"warning: {posts} × in the past")
    assert f"({posts - 1} more like this: add --verbose to list them all.)" in grouped[0]
    assert check.stdout.count("is in the past") == 1
    assert "All good" in check.stdout

    # 2. A rehearsal fitted into a few seconds: it says first what it replays, how long.
    rehearsal = campaign(sample, "run", "--rehearse", "3s")
    assert rehearsal.returncode == 0, rehearsal.stdout + rehearsal.stderr
    first = rehearsal.stdout.splitlines()[0]
    match = re.match(r"Rehearsing (\d+) publications \((\d+) posts\) due .* about 3 s", first)
    assert match, first
    publications = int(match[1])
    assert f"{publications} of {publications} publications went out" in rehearsal.stdout
    assert "campaign stats --rehearsal --html output/report" in rehearsal.stdout
    outbox = sample / "output" / "rehearsal" / "outbox"
    assert len(list(outbox.glob("*/*/post.json"))) == publications

    # 3. The simulated audience: the table and the report, labelled as made up.
    table = campaign(sample, "stats", "--rehearsal")
    assert table.returncode == 0, table.stdout + table.stderr
    assert table.stdout.startswith("SIMULATED AUDIENCE")
    assert f"Simulated total, {publications} publications" in table.stdout
    report = campaign(sample, "stats", "--rehearsal", "--html", "output/report")
    assert report.returncode == 0, report.stdout + report.stderr
    page = (sample / "output" / "report" / "index.html").read_text("utf-8")
    assert page.lower().count("simulated") >= publications  # the banner and every chart
    plain = campaign(sample, "stats")  # the live database has nothing: never the simulation
    assert plain.returncode == 0 and "SIMULATED" not in plain.stdout
    assert "campaign stats --rehearsal" in plain.stdout

    # 4. A dry run of the past campaign: one summary line, no error, no alert; Ctrl-C
    # stops the scheduler cleanly.
    dry = started(sample, "run", "--dry-run")
    output = interrupted(dry, lambda printed: "nothing left to publish" in printed)
    assert dry.returncode == 0, output
    assert " ERROR " not in output and "missed" not in output, output
    [summary] = [line for line in output.splitlines() if "already in the past" in line]
    assert f"{publications} publications were already in the past" in summary

    # 5. status: the dry run's leftovers need no human; exit 0.
    status = campaign(sample, "status")
    assert status.returncode == 0, status.stdout + status.stderr
    assert status.stdout.split("Needs a human\n")[1].startswith("  nothing\n")
    assert f"{publications} past" in status.stdout

    # 6. A long rehearsal stopped with Ctrl-C: the truth, and exit 130.
    shutil.rmtree(outbox)  # so that a post in it is one this rehearsal sent
    long = started(sample, "run", "--rehearse", "10m")
    stopped = interrupted(long, lambda _: any(outbox.glob("*/*/post.json")))
    assert long.returncode == 130, stopped
    flat = " ".join(stopped.split())
    match = re.search(r"Interrupted: (\d+) of (\d+) publications went out; (\d+) did not", flat)
    assert match, stopped
    went, planned, missing = (int(group) for group in match.groups())
    assert planned == publications and went + missing == planned and 0 < went < planned

    # 7. Nothing the tool wrote is left for git to pick up.
    untracked = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=sample,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert untracked == "", untracked
