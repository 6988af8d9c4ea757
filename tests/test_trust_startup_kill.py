"""kill -9 during start-up never locks the daemon out (issue 10, item 3).

`campaign run --dry-run` renders a campaign's images in worker processes as it starts.
Killed with SIGKILL at several points of that start (as soon as it holds the lock, while
its image workers run, once it has started), it must leave no process behind, and the
next start must take the lock. A lock file still locked by leftovers of a dead daemon
must not block a start either. Real processes throughout; every wait is on a condition
with a generous bound.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image

from scheduler.daemon_lock import AlreadyRunning, DaemonLock
from tests.conftest import Campaign

STARTED = "scheduler started"
CAMPAIGN = (sys.executable, "-m", "scheduler.cli")
POSTS = 6


def children_of(pid: int) -> set[int]:
    """The processes whose parent is ``pid`` (Linux /proc)."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.add(int(entry))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


class Startup:
    """A campaign whose start renders several large images, and the daemons run on it."""

    def __init__(self, campaign: Campaign) -> None:
        self.campaign = campaign
        self.root = campaign.root
        self.database = self.root / "data" / "campaign.db"
        self.lock_file = Path(f"{self.database}.lock")
        self.watched: set[int] = set()
        Image.new("RGBA", (200, 100), (230, 0, 0, 255)).save(self.root / "logo.png")
        for number in range(POSTS):
            image = f"bild-{number}.png"
            # A PNG is decoded whole (no JPEG draft mode): each rendition takes a while.
            Image.effect_noise((2400, 3000), 60 + number).convert("RGB").save(
                campaign.posts / image, compress_level=1
            )
            (campaign.posts / f"2099-01-{number + 10:02d}-bild.yaml").write_text(
                textwrap.dedent(f"""\
                    publish_at: 2099-01-{number + 10:02d} 09:00
                    channels: [facebook]
                    status: ready
                    caption: Inlägg nummer {number}. #demokrati100
                    images:
                      - file: {image}
                        alt: Brus i grått, bild nummer {number}.
                    """),
                encoding="utf-8",
            )
        campaign.config_text += f"""
[brand]
logo = "logo.png"

[render]
width = 1080

[database]
url = "sqlite:///{self.database}"

[publishing]
outbox = "{self.root / "outbox"}"

[scheduler]
prepare_hours_ahead = 10000000
heartbeat_seconds = 1

[channels.instagram]
enabled = false
"""
        campaign.config()

    def start(self) -> tuple[subprocess.Popen[bytes], Path]:
        log = self.root / f"run-{len(self.watched)}-{time.monotonic_ns()}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("CAMPAIGN_")}
        env["PYTHONUNBUFFERED"] = "1"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [*CAMPAIGN, "--config", str(self.campaign.config_path), "run", "--dry-run"],
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        self.watched.add(process.pid)
        return process, log

    def descendants(self, pid: int) -> set[int]:
        found: set[int] = set()
        todo = [pid]
        while todo:
            for child in children_of(todo.pop()) - found:
                found.add(child)
                todo.append(child)
        self.watched |= found
        return found

    def holds_lock(self, pid: int) -> bool:
        try:
            holder = json.loads(self.lock_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        return holder.get("pid") == pid

    def cleanup(self) -> None:
        for pid in self.watched:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture
def startup(campaign: Campaign) -> Iterator[Startup]:
    setup = Startup(campaign)
    try:
        yield setup
    finally:
        setup.cleanup()


def kill_and_check(startup: Startup, process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the daemon; every process it had started must end by itself."""
    family = startup.descendants(process.pid)
    process.kill()
    process.wait(timeout=30)
    family |= startup.descendants(process.pid)
    try:
        wait_until(lambda: not any(alive(pid) for pid in family), "the workers to end")
    except pytest.fail.Exception:
        left = sorted(pid for pid in family if alive(pid))
        pytest.fail(f"processes left behind by the killed daemon: {left}")


def restart_takes_the_lock(startup: Startup) -> None:
    process, log = startup.start()
    wait_until(
        lambda: STARTED in log.read_text() or process.poll() is not None,
        "the restarted daemon to start",
        timeout=180,
    )
    output = log.read_text()
    assert process.poll() is None, f"the restart ended ({process.returncode}):\n{output}"
    assert "already runs" not in output
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0, log.read_text()


@pytest.mark.parametrize("when", ["holding the lock", "workers running", "started"])
def test_sigkill_during_start_up_leaves_no_process_and_a_restart_takes_the_lock(
    startup: Startup, when: str
) -> None:
    process, log = startup.start()
    if when == "holding the lock":
        wait_until(lambda: startup.holds_lock(process.pid), "the daemon to take the lock")
    elif when == "workers running":
        wait_until(
            lambda: len(startup.descendants(process.pid)) >= 2 or STARTED in log.read_text(),
            "the image workers to start",
        )
        assert STARTED not in log.read_text(), "the start was over before its workers were seen"
    else:
        wait_until(lambda: STARTED in log.read_text(), "the daemon to start", timeout=180)
    kill_and_check(startup, process)
    restart_takes_the_lock(startup)


def test_sigkill_twice_in_a_row_while_workers_run(startup: Startup) -> None:
    for _ in range(2):
        process, _ = startup.start()
        wait_until(
            lambda process=process: len(startup.descendants(process.pid)) >= 2,
            "the image workers to start",
        )
        kill_and_check(startup, process)
    restart_takes_the_lock(startup)


# A process that takes the daemon lock, leaves a child holding the lock file open (as a
# forked worker did), prints the child's number and dies.
LEFTOVER = """\
import os, sys, time
from scheduler.daemon_lock import DaemonLock
lock = DaemonLock.for_url(sys.argv[1])
lock.acquire()
child = os.fork()
if child == 0:
    quiet = os.open(os.devnull, os.O_RDWR)
    os.dup2(quiet, 1)
    os.dup2(quiet, 2)
    time.sleep(600)
    os._exit(0)
print(child, flush=True)
os._exit(0)
"""


def test_a_lock_left_locked_by_leftovers_of_a_dead_daemon_does_not_block_a_start(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'campaign.db'}"
    done = subprocess.run(
        [sys.executable, "-c", LEFTOVER, url], capture_output=True, text=True, timeout=60
    )
    leftover = int(done.stdout)
    try:
        assert alive(leftover)
        lock = DaemonLock.for_url(url)
        lock.acquire()  # the daemon named in the lock file is dead: taken over
        try:
            holder = json.loads((tmp_path / "campaign.db.lock").read_text(encoding="utf-8"))
            assert holder["pid"] == os.getpid()
            with pytest.raises(AlreadyRunning) as refused:  # and it is a real lock again
                DaemonLock.for_url(url).acquire()
            assert f"process {os.getpid()}" in str(refused.value)
        finally:
            lock.release()
    finally:
        os.kill(leftover, signal.SIGKILL)


def test_a_live_daemon_is_still_named_and_never_taken_over(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'campaign.db'}"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\nfrom scheduler.daemon_lock import DaemonLock\n"
            "lock = DaemonLock.for_url(sys.argv[1])\nlock.acquire()\nprint('held', flush=True)\n"
            "time.sleep(600)",
            url,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(AlreadyRunning) as refused:
            DaemonLock.for_url(url).acquire()
        assert f"process {holder.pid} on" in str(refused.value)
    finally:
        holder.kill()
        holder.wait(timeout=30)


def test_a_lock_file_that_is_a_symbolic_link_is_refused_not_written_through(
    tmp_path: Path,
) -> None:
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("precious\n", encoding="utf-8")
    (tmp_path / "campaign.db.lock").symlink_to(elsewhere)
    with pytest.raises(AlreadyRunning) as refused:
        DaemonLock.for_url(f"sqlite:///{tmp_path / 'campaign.db'}").acquire()
    assert "symbolic link" in str(refused.value)
    assert elsewhere.read_text(encoding="utf-8") == "precious\n"
