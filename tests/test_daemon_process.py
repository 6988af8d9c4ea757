"""The real daemon, `campaign run`, as a process against the fake Graph API on 127.0.0.1.

Each test starts ``python -m scheduler.cli --config CFG run`` on a campaign of its own (one
Facebook Page, Instagram off, a SQLite database in the test's folder) and drives it with
signals: SIGTERM during a slow publish, SIGKILL in the middle of one and a restart,
SIGHUP for a rescan, a second daemon on the same database, JSON logs. Every wait polls
for a condition, bounded generously so that a loaded machine is slow, not failing; no test
asserts how long something took, and none depends on the hour (a post's file is named from
its own local date). A daemon left running is killed when its test ends.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from scheduler.store.models import Publication, State
from scheduler.store.store import Store
from tests.conftest import Campaign
from tests.fakes.graph_api import FakeGraphAPI
from tests.fakes.graph_api import fake_graph as fake_graph

ZONE = ZoneInfo("Europe/Stockholm")  # the campaign's zone (tests/conftest.py)

TOKEN_ENV = "CAMPAIGN_FACEBOOK_TOKEN"
STARTED = "scheduler started"


def post_text(when: datetime, caption: str) -> str:
    return f"""\
publish_at: {when.astimezone(UTC).isoformat(timespec="seconds")}
channels: [facebook]
status: ready
caption: |
  {caption}
  #demokrati100
images:
  - file: bild.jpg
    alt: Tre personer framför en vallokal med skylten Röstning.
"""


def post_name(when: datetime, slug: str) -> str:
    """The post's id: its local date, as `campaign new` names it, then the slug."""
    return f"{when.astimezone(ZONE):%Y-%m-%d}-{slug}"


class Live:
    """A campaign live against the fake Graph API, and the daemons run on it."""

    def __init__(self, campaign: Campaign, fake: FakeGraphAPI) -> None:
        self.campaign = campaign
        self.fake = fake
        self.root = campaign.root
        self.processes: list[subprocess.Popen[bytes]] = []
        self.logs: list[Path] = []
        self.database = self.root / "data" / "campaign.db"

    def configure(
        self,
        *,
        request_timeout: float = 10,
        rescan_seconds: float = 1,
        grace_minutes: float = 1,
    ) -> Path:
        Image.new("RGBA", (100, 50), (230, 0, 0, 255)).save(self.root / "logo.png")
        Image.new("RGB", (400, 500), (27, 54, 93)).save(self.campaign.posts / "bild.jpg", "JPEG")
        self.campaign.config_text += f"""
[brand]
logo = "logo.png"

[render]
width = 320

[database]
url = "sqlite:///{self.database}"

[publishing]
outbox = "{self.root / "outbox"}"
request_timeout_seconds = {request_timeout}
reconcile_after_seconds = 0

[scheduler]
misfire_grace_minutes = {grace_minutes}
rescan_seconds = {rescan_seconds}
heartbeat_seconds = 1

[channels.facebook]
page_id = "{self.fake.page_id}"
graph_url = "{self.fake.url}"
api_version = "{self.fake.version}"
token_env = "{TOKEN_ENV}"

[channels.instagram]
enabled = false
"""
        self.campaign.config()
        return self.campaign.config_path

    def post(self, when: datetime, slug: str, caption: str) -> Path:
        path = self.campaign.posts / f"{post_name(when, slug)}.yaml"
        path.write_text(post_text(when, caption), encoding="utf-8")
        return path

    @property
    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CAMPAIGN_")}
        env[TOKEN_ENV] = self.fake.token
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def command(self, *args: str) -> list[str]:
        return [
            sys.executable,
            "-m",
            "scheduler.cli",
            "--config",
            str(self.campaign.config_path),
            *args,
        ]

    def start(
        self, *args: str, env: dict[str, str] | None = None
    ) -> tuple[subprocess.Popen[bytes], Path]:
        """`campaign run ARGS` in the background, its stdout and stderr into one log file."""
        log = self.root / f"daemon-{len(self.logs)}.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                self.command("run", *args),
                env={**self.environment, **(env or {})},
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        self.processes.append(process)
        self.logs.append(log)
        return process, log

    def start_and_wait(
        self, *args: str, env: dict[str, str] | None = None
    ) -> tuple[subprocess.Popen[bytes], Path]:
        process, log = self.start(*args, env=env)
        wait_for(lambda: STARTED in log.read_text(), process, log, "the daemon to start")
        return process, log

    def stop(self, process: subprocess.Popen[bytes], log: Path) -> int:
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the daemon did not stop on SIGTERM:\n{log.read_text()}")

    def rows(self) -> dict[str, Publication]:
        store = Store.open(f"sqlite:///{self.database}")
        try:
            return {row.post_id: row for row in store.publications()}
        finally:
            store.close()

    def attempts(self, post_id: str) -> list[tuple[str, str | None]]:
        store = Store.open(f"sqlite:///{self.database}")
        try:
            row = next(r for r in store.publications() if r.post_id == post_id)
            assert row.id is not None
            return [(a.kind, a.outcome) for a in store.attempts(row.id)]
        finally:
            store.close()

    def alerts(self, kind: str) -> list[str]:
        store = Store.open(f"sqlite:///{self.database}")
        try:
            return [alert.message for alert in store.alerts() if alert.kind == kind]
        finally:
            store.close()

    def kill_leftovers(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=60)


def wait_for(
    condition: Callable[[], bool],
    process: subprocess.Popen[bytes] | None,
    log: Path | None,
    what: str,
    timeout: float = 60,
) -> None:
    """Poll ``condition`` until it holds; fail (with the log) on timeout or a dead daemon."""
    deadline = time.monotonic() + timeout
    while not condition():
        if process is not None and process.poll() is not None and not condition():
            detail = log.read_text() if log else ""
            pytest.fail(
                f"the daemon ended ({process.returncode}) while waiting for {what}:\n{detail}"
            )
        if time.monotonic() > deadline:
            detail = log.read_text() if log else ""
            pytest.fail(f"timed out waiting for {what}:\n{detail}")
        time.sleep(0.05)


@pytest.fixture
def live(campaign: Campaign, fake_graph: FakeGraphAPI) -> Iterator[Live]:
    setup = Live(campaign, fake_graph)
    try:
        yield setup
    finally:
        setup.kill_leftovers()


def captions(fake: FakeGraphAPI) -> list[str]:
    return sorted((post.message or "").splitlines()[0] for post in fake.posts)


# -- (a) SIGTERM lets the publish in flight finish -----------------------------------------


def test_sigterm_during_a_slow_publish_waits_for_it_and_exits_0(live: Live) -> None:
    live.configure(request_timeout=10)
    due = datetime.now(UTC) + timedelta(seconds=3)
    live.post(due, "langsam", "Ett långsamt inlägg.")
    live.fake.script("POST photos", {"delay": 2.0})
    process, log = live.start_and_wait()

    wait_for(lambda: bool(live.fake.of_kind("POST photos")), process, log, "the publish")
    assert live.fake.posts == []  # Facebook is still working on it
    process.send_signal(signal.SIGTERM)
    code = process.wait(timeout=60)

    output = log.read_text()
    assert code == 0, output
    assert "waiting for the publish in flight" in output
    assert "scheduler stopped" in output
    [post] = live.fake.posts
    assert captions(live.fake) == ["Ett långsamt inlägg."]
    assert len(live.fake.of_kind("POST photos")) == 1
    post_id = post_name(due, "langsam")
    row = live.rows()[post_id]
    assert (row.state, row.remote_id, row.attempt_count) == (State.PUBLISHED, post.id, 1)
    assert live.attempts(post_id) == [("publish", "published")]


def test_a_second_sigterm_exits_at_once_leaving_the_claim_to_reconcile(live: Live) -> None:
    live.configure(request_timeout=60)
    due = datetime.now(UTC) + timedelta(seconds=3)
    live.post(due, "kall", "Ett inlägg som avbryts två gånger.")
    live.fake.script("POST photos", "create_then_hang")
    process, log = live.start_and_wait()

    wait_for(lambda: bool(live.fake.posts), process, log, "the post to be made")
    process.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    assert process.poll() is None  # the first signal waits for the publish in flight
    process.send_signal(signal.SIGTERM)
    code = process.wait(timeout=60)  # the second does not wait for the hanging answer

    assert code == 128 + signal.SIGTERM, log.read_text()
    assert "second stop signal" in log.read_text()
    row = live.rows()[post_name(due, "kall")]
    assert row.state == State.PUBLISHING  # claimed, unanswered: for the next start to reconcile


# -- (b) SIGKILL in the middle of a publish, then a restart ----------------------------------


def test_a_daemon_killed_mid_publish_reconciles_at_restart_and_never_posts_twice(
    live: Live,
) -> None:
    live.configure(request_timeout=60)
    due = datetime.now(UTC) + timedelta(seconds=3)
    live.post(due, "dodad", "Ett inlägg mitt i en krasch.")
    post_id = post_name(due, "dodad")
    live.fake.script("POST photos", "create_then_hang")
    process, log = live.start_and_wait()

    wait_for(lambda: bool(live.fake.posts), process, log, "the post to be made")
    assert process.poll() is None
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=60) == -signal.SIGKILL
    row = live.rows()[post_id]
    assert row.state == State.PUBLISHING  # the claim, and nothing after it

    again, again_log = live.start_and_wait()

    [post] = live.fake.posts
    row = live.rows()[post_id]
    assert (row.state, row.remote_id, row.attempt_count) == (State.PUBLISHED, post.id, 1)
    assert live.attempts(post_id) == [("publish", "unknown"), ("reconcile", "found")]
    output = again_log.read_text()
    assert "cut off by a stop" in output
    assert f"reconciled {post_id} on facebook: found online" in output
    assert live.stop(again, again_log) == 0
    assert len(live.fake.posts) == 1
    assert len(live.fake.of_kind("POST photos")) == 1


# -- (c) hot reload while running; SIGHUP rescans at once ----------------------------------


def test_hot_reload_on_sighup_adds_moves_and_removes_posts(live: Live) -> None:
    live.configure(rescan_seconds=3600)  # only the start and SIGHUP read the folder
    later = datetime.now(UTC) + timedelta(hours=2)
    moved = live.post(later, "flyttas", "Ett inlägg som flyttas fram.")
    deleted = live.post(later, "tas-bort", "Ett inlägg som tas bort.")
    process, log = live.start_and_wait()

    soon = datetime.now(UTC) + timedelta(seconds=1)
    added = live.post(soon, "ny", "Ett nytt inlägg.")
    moved.write_text(post_text(soon, "Ett inlägg som flyttas fram."), encoding="utf-8")
    deleted.unlink()
    time.sleep(2.0)  # past the new times: without a rescan, nothing of this has been seen
    assert live.fake.posts == [], log.read_text()

    process.send_signal(signal.SIGHUP)

    wait_for(lambda: len(live.fake.posts) >= 2, process, log, "the new and the moved post")
    assert captions(live.fake) == ["Ett inlägg som flyttas fram.", "Ett nytt inlägg."]
    unscheduled = f"unscheduled {deleted.stem} on facebook"
    wait_for(lambda: unscheduled in log.read_text(), process, log, "the deleted post's job to go")
    assert live.stop(process, log) == 0
    assert len(live.fake.posts) == 2, log.read_text()
    rows = live.rows()
    assert rows[added.stem].state == State.PUBLISHED
    assert rows[moved.stem].state == State.PUBLISHED
    assert deleted.stem not in rows  # never tried: its row is forgotten


# -- (d) one daemon per database -------------------------------------------------------------


def test_a_second_daemon_on_the_same_database_exits_2_naming_the_first(live: Live) -> None:
    live.configure()
    live.post(datetime.now(UTC) + timedelta(hours=5), "senare", "Ett inlägg senare.")
    first, log = live.start_and_wait()

    second = subprocess.run(
        live.command("run"), env=live.environment, capture_output=True, text=True, timeout=30
    )

    assert second.returncode == 2, second.stdout + second.stderr
    message = " ".join((second.stdout + second.stderr).split())
    assert "another scheduler already runs on this database" in message
    assert f"process {first.pid}" in message
    assert "Traceback" not in second.stderr
    assert first.poll() is None  # the first one is untouched
    status = subprocess.run(
        live.command("status"), env=live.environment, capture_output=True, text=True, timeout=30
    )
    assert "Scheduler: running (live" in status.stdout, status.stdout + status.stderr
    assert f"process {first.pid}" in status.stdout
    assert live.stop(first, log) == 0
    status = subprocess.run(
        live.command("status"), env=live.environment, capture_output=True, text=True, timeout=30
    )
    assert "Scheduler: stopped at" in status.stdout, status.stdout + status.stderr
    assert status.returncode == 0


# -- (e) JSON logs, and never the token ------------------------------------------------------


def test_json_logs_are_json_lines_without_the_token(live: Live) -> None:
    live.configure()
    now = datetime.now(UTC)
    echoing = live.post(now + timedelta(seconds=2), "ekar-token", "Facebook ekar token i felet.")
    going_out = live.post(now + timedelta(seconds=3), "gar-ut", "Ett inlägg som går ut.")
    live.fake.script("POST photos", "error_100_echoing_token", None)
    process, log = live.start("--log-format", "json")

    wait_for(lambda: len(live.fake.of_kind("POST photos")) >= 2, process, log, "two publishes")
    wait_for(lambda: "published " in log.read_text(), process, log, "the second to be recorded")
    assert live.stop(process, log) == 0

    text = log.read_text()
    assert live.fake.token not in text
    entries = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert len(entries) >= 5
    for entry in entries:
        assert {"time", "level", "logger", "message"} <= set(entry)
        datetime.fromisoformat(entry["time"])
    messages = " ".join(entry["message"] for entry in entries)
    assert STARTED in messages and "scheduler stopped" in messages
    # the canary was in play: Facebook's error quoted the token back, and the log hid it
    assert "(#100) Invalid parameter near '[redacted]'" in messages
    rows = live.rows()
    assert rows[going_out.stem].state == State.PUBLISHED
    assert rows[echoing.stem].state == State.FAILED
    assert live.fake.token not in (rows[echoing.stem].last_error or "")


# -- bugs ------------------------------------------------------------------------------------


def test_a_publish_skipped_by_a_pause_is_recorded_as_missed_not_dropped(live: Live) -> None:
    live.configure(grace_minutes=0, rescan_seconds=1)
    process, log = live.start_and_wait()
    due = datetime.now(UTC) + timedelta(seconds=3)  # written once the daemon runs: no race
    post_id = live.post(due, "pausad", "Ett inlägg när datorn sov.").stem
    wait_for(lambda: post_id in live.rows(), process, log, "the post to be scheduled")

    process.send_signal(signal.SIGSTOP)  # the machine sleeps across the post's time
    try:
        time.sleep(max((due - datetime.now(UTC)).total_seconds(), 0) + 2.5)
    finally:
        process.send_signal(signal.SIGCONT)

    # It wakes, finds its job more than the grace late, and records it; on a machine so slow
    # that the post went out before the pause, it is published. Never still waiting, never lost.
    settled = (State.MISSED, State.PUBLISHED)
    wait_for(lambda: live.rows()[post_id].state in settled, process, log, "an outcome")
    row = live.rows()[post_id]
    assert live.stop(process, log) == 0
    if row.state == State.MISSED:
        assert live.alerts("missed")
    else:
        assert len(live.fake.posts) == 1


def test_a_broken_file_is_reported_once_across_restarts(live: Live) -> None:
    live.configure()
    live.post(datetime.now(UTC) + timedelta(hours=5), "hel", "Ett helt inlägg.")
    (live.campaign.posts / "2030-01-01-trasig.yaml").write_text(
        "publish_at: [2030-01-01 09:00\nstatus: ready\n", encoding="utf-8"
    )
    for seed in ("1", "2"):  # two starts, as after any restart: hash() salted differently
        process, log = live.start_and_wait(env={"PYTHONHASHSEED": seed})
        assert "post file with errors, not scheduled" in log.read_text()
        assert live.stop(process, log) == 0

    assert len(live.alerts("broken")) == 1
