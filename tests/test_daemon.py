"""The daemon in this process, its clock set by hand: jobs, hot reload, missed posts,
recovery at start, the one-daemon lock, the heartbeat, `campaign status` and `campaign plan`.

Every channel is the outbox (no credentials). Nothing sleeps: the test calls
``rescan()`` and ``publish_job()`` where the running scheduler would, and reads the
jobs from the scheduler's job store. For hot reloads the job store is started paused
(jobs are stored and replaced as in a running daemon, but none ever runs by itself).
"""

from __future__ import annotations

import json
import os
import re
import signal
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.schedulers.base import STATE_STOPPED, BaseScheduler
from PIL import Image
from typer.testing import CliRunner, Result

import scheduler.cli.app as cli
from campaign.config import Config
from campaign.post_loader import load_campaign
from scheduler.channels.factory import build_channels
from scheduler.channels.outbox import POST_FILE
from scheduler.cli.app import app
from scheduler.daemon import Daemon
from scheduler.daemon_lock import AlreadyRunning, DaemonLock
from scheduler.notify import Notifier
from scheduler.prepare import media_json, prepare_posts
from scheduler.store.models import Mode, State
from scheduler.store.store import Store
from tests.conftest import Campaign, HandClock
from tests.test_notify import Receiver
from tests.test_notify import receiver as receiver

runner = CliRunner()

# The hand clock starts here: 07:00 in Stockholm (CEST) on the campaign's day.
START = datetime(2030, 9, 15, 5, 0, tzinfo=UTC)
DEAD_CLAIMANT = "a-host-that-is-gone:999999:deadbeef"

POST = """\
publish_at: {when}
channels: {channels}
status: {status}
caption: |
  {caption}
  #demokrati100
images:
  - file: bild.jpg
    alt: Tre personer framför en vallokal med skylten Röstning.
"""


def post_text(
    when: str = "2030-09-15 09:00",
    channels: str = "[facebook, instagram]",
    status: str = "ready",
    caption: str = "Idag är det demokratins dag. Kom och prata med oss.",
) -> str:
    return POST.format(when=when, channels=channels, status=status, caption=caption)


class Setup:
    """A campaign folder, its config, a store, and daemons built on them."""

    def __init__(self, campaign: Campaign, clock: HandClock) -> None:
        self.campaign = campaign
        self.clock = clock
        self.root = campaign.root
        self.stores: list[Store] = []
        self.daemons: list[Daemon] = []
        self._config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = self.campaign.config()
        return self._config

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.root / 'data' / 'campaign.db'}"

    def store(self) -> Store:
        store = Store.open(self.database_url)
        self.stores.append(store)
        return store

    def daemon(self, store: Store | None = None, *, exit_when_done: bool = False) -> Daemon:
        setups = build_channels(self.config, environ={}, clock=self.clock)
        assert all(setup.channel.kind == "outbox" for setup in setups.values())
        daemon = Daemon(
            self.config,
            store or self.store(),
            setups,
            clock=self.clock,
            exit_when_done=exit_when_done,
        )
        self.daemons.append(daemon)
        return daemon

    def post(self, post_id: str, text: str) -> Path:
        """Write (or rewrite) a post file so that the next rescan surely sees the change."""
        path = self.campaign.posts / f"{post_id}.yaml"
        before = path.stat().st_mtime_ns if path.exists() else None
        path.write_text(text, encoding="utf-8")
        if before is not None:  # same size and the same clock tick must still count as a change
            os.utime(path, ns=(before + 10**9, before + 10**9))
        return path

    def outbox(self, post_id: str, channel: str = "facebook") -> Path:
        return self.root / "outbox" / channel / post_id / POST_FILE

    def close(self) -> None:
        for daemon in self.daemons:
            if daemon.scheduler.state != STATE_STOPPED:
                BaseScheduler.shutdown(daemon.scheduler, wait=False)
        for store in self.stores:
            store.close()


@pytest.fixture
def clock() -> HandClock:
    return HandClock(START)


@pytest.fixture
def setup(campaign: Campaign, clock: HandClock, monkeypatch: pytest.MonkeyPatch) -> Iterator[Setup]:
    for name in list(os.environ):
        if name.startswith("CAMPAIGN_"):
            monkeypatch.delenv(name)
    Image.new("RGBA", (100, 50), (230, 0, 0, 255)).save(campaign.root / "logo.png")
    Image.new("RGB", (400, 500), (27, 54, 93)).save(campaign.posts / "bild.jpg", "JPEG")
    campaign.config_text += f"""
[brand]
logo = "logo.png"

[render]
width = 320

[database]
url = "sqlite:///{campaign.root / "data" / "campaign.db"}"

[publishing]
outbox = "{campaign.root / "outbox"}"

[scheduler]
misfire_grace_minutes = 30
heartbeat_seconds = 30
"""
    state = Setup(campaign, clock)
    try:
        yield state
    finally:
        state.close()


def publish_jobs(daemon: Daemon) -> dict[tuple[str, str], datetime]:
    """(post, channel) → when its publish job runs, from the scheduler's jobs."""
    jobs: dict[tuple[str, str], datetime] = {}
    for job in daemon.scheduler.get_jobs():
        kind, post_id, channel = job.id.split(":", 2)
        assert kind == "publish", job.id
        assert (post_id, channel) not in jobs, f"two jobs for {job.id}"
        assert job.args == (post_id, channel)
        jobs[(post_id, channel)] = job.trigger.run_date
    return jobs


def start_job_store(daemon: Daemon) -> None:
    """Start the scheduler's job store as `run()` would, paused and without its loop: jobs
    are kept, replaced and removed as in a running daemon, and none runs by itself."""
    BaseScheduler.start(daemon.scheduler, paused=True)


def at(text: str) -> datetime:
    """A local time of the campaign (Europe/Stockholm, summer) in UTC."""
    local = datetime.fromisoformat(text).replace(tzinfo=None)
    return (local - timedelta(hours=2)).replace(tzinfo=UTC)


def alerts_of(store: Store, kind: str) -> list[str]:
    return [alert.message for alert in store.alerts() if alert.kind == kind]


# -- jobs from the files ---------------------------------------------------------------------


def test_one_job_per_ready_post_and_channel_drafts_none(setup: Setup) -> None:
    setup.post("2030-09-15-tva-kanaler", post_text("2030-09-15 09:00"))
    setup.post("2030-09-15-bara-facebook", post_text("2030-09-15 12:00", "[facebook]"))
    setup.post("2030-09-15-bara-instagram", post_text("2030-09-15 15:00", "[instagram]"))
    setup.post("2030-09-16-utkast", post_text("2030-09-16 09:00", status="draft"))
    daemon = setup.daemon()

    daemon.rescan(force=True)

    assert publish_jobs(daemon) == {
        ("2030-09-15-tva-kanaler", "facebook"): at("2030-09-15 09:00"),
        ("2030-09-15-tva-kanaler", "instagram"): at("2030-09-15 09:00"),
        ("2030-09-15-bara-facebook", "facebook"): at("2030-09-15 12:00"),
        ("2030-09-15-bara-instagram", "instagram"): at("2030-09-15 15:00"),
    }
    assert daemon.pending_jobs() == 4
    assert daemon.next_due() == at("2030-09-15 09:00")
    rows = {(r.post_id, r.channel): r for r in daemon.store.publications()}
    assert set(rows) == set(publish_jobs(daemon))  # no row for the draft
    assert {(r.state, r.mode) for r in rows.values()} == {(State.SCHEDULED, Mode.DRY_RUN)}
    assert rows[("2030-09-15-bara-facebook", "facebook")].due_at == at("2030-09-15 12:00")


def test_hot_reload_moves_removes_and_adds_jobs(setup: Setup) -> None:
    setup.post("2030-09-15-flyttas", post_text("2030-09-15 09:00", "[facebook]"))
    setup.post("2030-09-15-blir-utkast", post_text("2030-09-15 10:00", "[facebook]"))
    deleted = setup.post("2030-09-15-tas-bort", post_text("2030-09-15 11:00", "[facebook]"))
    setup.post("2030-09-15-andras-inte", post_text("2030-09-15 12:00", "[facebook]"))
    daemon = setup.daemon()
    daemon.rescan(force=True)
    start_job_store(daemon)
    assert len(publish_jobs(daemon)) == 4

    setup.post("2030-09-15-flyttas", post_text("2030-09-15 09:45", "[facebook]"))
    daemon.rescan()

    assert publish_jobs(daemon)[("2030-09-15-flyttas", "facebook")] == at("2030-09-15 09:45")
    moved = daemon.store.get("2030-09-15-flyttas", "facebook", Mode.DRY_RUN)
    assert moved is not None and moved.due_at == at("2030-09-15 09:45")

    setup.post("2030-09-15-blir-utkast", post_text("2030-09-15 10:00", "[facebook]", "draft"))
    daemon.rescan()
    assert ("2030-09-15-blir-utkast", "facebook") not in publish_jobs(daemon)

    deleted.unlink()
    daemon.rescan()
    assert ("2030-09-15-tas-bort", "facebook") not in publish_jobs(daemon)

    setup.post("2030-09-15-ny", post_text("2030-09-15 13:00"))
    daemon.rescan()

    assert publish_jobs(daemon) == {
        ("2030-09-15-flyttas", "facebook"): at("2030-09-15 09:45"),
        ("2030-09-15-andras-inte", "facebook"): at("2030-09-15 12:00"),
        ("2030-09-15-ny", "facebook"): at("2030-09-15 13:00"),
        ("2030-09-15-ny", "instagram"): at("2030-09-15 13:00"),
    }

    # a vanished post's job is gone for good: publishing it now does nothing
    daemon.publish_job("2030-09-15-tas-bort", "facebook")
    daemon.publish_job("2030-09-15-blir-utkast", "facebook")
    assert not setup.outbox("2030-09-15-tas-bort").exists()
    assert not setup.outbox("2030-09-15-blir-utkast").exists()

    # the draft turned ready again gets its job back
    setup.post("2030-09-15-blir-utkast", post_text("2030-09-15 10:00", "[facebook]"))
    daemon.rescan()
    assert publish_jobs(daemon)[("2030-09-15-blir-utkast", "facebook")] == at("2030-09-15 10:00")


def test_an_unchanged_folder_is_not_reloaded(setup: Setup) -> None:
    path = setup.post("2030-09-15-ett", post_text("2030-09-15 09:00", "[facebook]"))
    daemon = setup.daemon()
    daemon.rescan(force=True)
    start_job_store(daemon)
    daemon.scheduler.remove_job("publish:2030-09-15-ett:facebook")

    daemon.rescan()  # nothing changed: the files are not read again
    assert publish_jobs(daemon) == {}

    os.utime(path, ns=(path.stat().st_mtime_ns + 10**9,) * 2)
    daemon.rescan()
    assert publish_jobs(daemon) == {("2030-09-15-ett", "facebook"): at("2030-09-15 09:00")}


def test_a_file_that_stops_parsing_loses_its_job_and_raises_an_alert(setup: Setup) -> None:
    setup.post("2030-09-15-trasig", post_text("2030-09-15 09:00", "[facebook]"))
    setup.post("2030-09-15-hel", post_text("2030-09-15 10:00", "[facebook]"))
    daemon = setup.daemon()
    daemon.rescan(force=True)
    start_job_store(daemon)
    assert len(publish_jobs(daemon)) == 2

    broken = setup.post("2030-09-15-trasig", "publish_at: [2030-09-15 09:00\nstatus: ready\n")
    daemon.rescan()

    assert publish_jobs(daemon) == {("2030-09-15-hel", "facebook"): at("2030-09-15 10:00")}
    [message] = alerts_of(daemon.store, "broken")
    assert str(broken) in message
    assert "not scheduled until the file is fixed" in message
    [alert] = [a for a in daemon.store.alerts() if a.kind == "broken"]
    assert alert.post_id == "2030-09-15-trasig"

    daemon.rescan(force=True)  # still broken: no second alert
    assert len(alerts_of(daemon.store, "broken")) == 1

    setup.post("2030-09-15-trasig", post_text("2030-09-15 09:30", "[facebook]"))
    daemon.rescan()
    assert publish_jobs(daemon) == {
        ("2030-09-15-trasig", "facebook"): at("2030-09-15 09:30"),
        ("2030-09-15-hel", "facebook"): at("2030-09-15 10:00"),
    }


# -- publishing ------------------------------------------------------------------------------


def test_publish_job_publishes_once_and_never_again(setup: Setup, clock: HandClock) -> None:
    setup.post("2030-09-15-en-gang", post_text("2030-09-15 09:00", "[facebook]"))
    daemon = setup.daemon()
    daemon.rescan(force=True)
    start_job_store(daemon)

    clock.now = at("2030-09-15 09:00")
    daemon.publish_job("2030-09-15-en-gang", "facebook")

    written = setup.outbox("2030-09-15-en-gang")
    record = json.loads(written.read_text(encoding="utf-8"))
    assert record["caption"].startswith("Idag är det demokratins dag.")
    assert record["published_at"] == at("2030-09-15 09:00").isoformat()
    row = daemon.store.get("2030-09-15-en-gang", "facebook", Mode.DRY_RUN)
    assert row is not None and row.id is not None
    assert (row.state, row.attempt_count) == (State.PUBLISHED, 1)
    assert row.published_at == at("2030-09-15 09:00")
    before = (written.read_bytes(), written.stat().st_mtime_ns)

    clock.advance(timedelta(minutes=5))
    daemon.publish_job("2030-09-15-en-gang", "facebook")
    daemon.rescan(force=True)

    assert (written.read_bytes(), written.stat().st_mtime_ns) == before
    assert [(a.kind, a.outcome) for a in daemon.store.attempts(row.id)] == [
        ("publish", "published")
    ]
    assert publish_jobs(daemon) == {}


def test_editing_a_published_post_is_reported_never_republished(
    setup: Setup, clock: HandClock
) -> None:
    setup.post("2030-09-15-andrad", post_text("2030-09-15 09:00", "[facebook]"))
    daemon = setup.daemon()
    daemon.rescan(force=True)
    start_job_store(daemon)
    clock.now = at("2030-09-15 09:00")
    daemon.publish_job("2030-09-15-andrad", "facebook")
    written = setup.outbox("2030-09-15-andrad")
    before = written.read_bytes()

    clock.advance(timedelta(minutes=20))
    setup.post(
        "2030-09-15-andrad",
        post_text("2030-09-15 09:00", "[facebook]", caption="En helt ny text efteråt."),
    )
    daemon.rescan()

    [message] = alerts_of(daemon.store, "edited")
    assert "2030-09-15-andrad" in message and "not published" in message
    assert publish_jobs(daemon) == {}
    daemon.publish_job("2030-09-15-andrad", "facebook")
    assert written.read_bytes() == before
    row = daemon.store.get("2030-09-15-andrad", "facebook", Mode.DRY_RUN)
    assert row is not None and row.id is not None
    assert (row.state, row.attempt_count) == (State.PUBLISHED, 1)
    assert len(daemon.store.attempts(row.id)) == 1


# -- late and missed at start ----------------------------------------------------------------


def test_at_start_a_post_beyond_the_grace_is_missed_and_reported(
    setup: Setup, clock: HandClock
) -> None:
    setup.post("2030-09-15-for-sent", post_text("2030-09-15 09:00", "[facebook]"))
    clock.now = at("2030-09-15 08:00")
    setup.daemon().rescan(force=True)  # seen on time; then the scheduler was down
    clock.now = at("2030-09-15 11:00")  # two hours late, the grace is 30 minutes
    daemon = setup.daemon()

    daemon.rescan(force=True)

    assert publish_jobs(daemon) == {}
    row = daemon.store.get("2030-09-15-for-sent", "facebook", Mode.DRY_RUN)
    assert row is not None and row.state == State.MISSED
    assert "2 hours late" in (row.last_error or "")
    [message] = alerts_of(daemon.store, "missed")
    assert "2030-09-15-for-sent" in message and "NOT published" in message
    assert "campaign publish 2030-09-15-for-sent --channel facebook" in message

    daemon.publish_job("2030-09-15-for-sent", "facebook")  # a stray job would do nothing
    assert not setup.outbox("2030-09-15-for-sent").exists()

    clock.advance(timedelta(minutes=1))
    daemon.rescan(force=True)  # stays missed, reported once
    assert len(alerts_of(daemon.store, "missed")) == 1
    assert publish_jobs(daemon) == {}


def test_at_start_a_post_late_within_the_grace_runs_now(setup: Setup, clock: HandClock) -> None:
    setup.post("2030-09-15-lite-sen", post_text("2030-09-15 09:00", "[facebook]"))
    setup.post("2030-09-15-senare", post_text("2030-09-15 12:00", "[facebook]"))
    clock.now = at("2030-09-15 09:10")
    daemon = setup.daemon()

    daemon.rescan(force=True)

    assert publish_jobs(daemon) == {
        ("2030-09-15-lite-sen", "facebook"): clock.now,
        ("2030-09-15-senare", "facebook"): at("2030-09-15 12:00"),
    }
    daemon.publish_job("2030-09-15-lite-sen", "facebook")
    row = daemon.store.get("2030-09-15-lite-sen", "facebook", Mode.DRY_RUN)
    assert row is not None and row.state == State.PUBLISHED
    assert alerts_of(daemon.store, "missed") == []


# -- recovery at start -----------------------------------------------------------------------


def left_publishing(setup: Setup, store: Store, post_id: str, claimed_at: datetime) -> int:
    """A claim left by a daemon (on another host) that died between the claim and the
    answer: its heartbeat is the last one, so the next daemon knows the claim was its."""
    config = setup.config
    posts = [p for p in load_campaign(config, now=claimed_at).posts if p.id == post_id]
    [prepared], problems = prepare_posts(posts, config)
    assert not problems
    request = prepared.requests["facebook"]
    row = store.ensure_publication(
        post_id, "facebook", posts[0].publish_at.utc, claimed_at, Mode.DRY_RUN
    )
    assert row.id is not None
    claim = store.claim(
        row.id,
        now=claimed_at,
        claimed_by=DEAD_CLAIMANT,
        fingerprint=request.fingerprint,
        caption=request.caption,
        media_json=media_json(request.media),
        link=request.link,
        first_comment=request.first_comment,
    )
    assert claim is not None
    store.beat(
        holder=DEAD_CLAIMANT,
        mode="dry_run",
        started_at=claimed_at,
        now=claimed_at,
        next_due_at=None,
        jobs=1,
    )
    return row.id


@pytest.fixture
def signals_restored() -> Iterator[None]:
    """`run()` installs its signal handlers in the main thread: put pytest's back."""
    saved = {number: signal.getsignal(number) for number in (signal.SIGTERM, signal.SIGINT)}
    saved[signal.SIGHUP] = signal.getsignal(signal.SIGHUP)
    try:
        yield
    finally:
        for number, handler in saved.items():
            signal.signal(number, handler)


def test_run_reconciles_a_dead_claim_that_reached_the_outbox(
    setup: Setup, clock: HandClock, signals_restored: None
) -> None:
    post_id = "2030-09-15-hann-ut"
    setup.post(post_id, post_text("2030-09-15 09:00", "[facebook]"))
    store = setup.store()
    clock.now = at("2030-09-15 09:00")
    publication = left_publishing(setup, store, post_id, clock.now)
    # the dead process got as far as writing the outbox
    daemon = setup.daemon(store, exit_when_done=True)
    request = prepare_posts(load_campaign(setup.config, now=clock.now).posts, setup.config)[0]
    daemon.channels["facebook"].publish(request[0].requests["facebook"])
    written = setup.outbox(post_id).read_bytes()
    clock.advance(timedelta(minutes=2))

    assert daemon.run() == 0  # nothing left to do: it reconciles, schedules nothing, stops

    row = store.get_by_id(publication)
    assert (row.state, row.attempt_count) == (State.PUBLISHED, 1)
    assert row.remote_id == f"outbox:facebook:{post_id}"
    assert [(a.kind, a.outcome) for a in store.attempts(publication)] == [
        ("publish", "unknown"),
        ("reconcile", "found"),
    ]
    assert setup.outbox(post_id).read_bytes() == written
    beat = store.heartbeat()
    assert beat is not None and beat.stopped_at == clock.now


def test_start_reconciles_a_dead_claim_that_never_went_out_and_publishes_it_once(
    setup: Setup, clock: HandClock
) -> None:
    post_id = "2030-09-15-hann-inte"
    setup.post(post_id, post_text("2030-09-15 09:00", "[facebook]"))
    store = setup.store()
    clock.now = at("2030-09-15 09:00")
    publication = left_publishing(setup, store, post_id, clock.now)
    clock.advance(timedelta(minutes=2))
    daemon = setup.daemon(store)

    daemon._recover()  # what run() does first, before any job is made
    row = store.get_by_id(publication)
    assert (row.state, row.attempt_count) == (State.SCHEDULED, 1)
    daemon.rescan(force=True)

    assert publish_jobs(daemon) == {(post_id, "facebook"): clock.now}  # a retry is never missed
    daemon.publish_job(post_id, "facebook")
    daemon.publish_job(post_id, "facebook")

    row = store.get_by_id(publication)
    assert (row.state, row.attempt_count) == (State.PUBLISHED, 2)
    assert [(a.kind, a.outcome) for a in store.attempts(publication)] == [
        ("publish", "unknown"),
        ("reconcile", "not_found"),
        ("publish", "published"),
    ]
    assert setup.outbox(post_id).is_file()


# -- one daemon per database ----------------------------------------------------------------


def test_a_second_lock_on_the_same_database_names_the_holder(setup: Setup) -> None:
    first = DaemonLock(setup.store().engine)
    first.acquire()
    try:
        second = DaemonLock(setup.store().engine)
        with pytest.raises(AlreadyRunning) as refused:
            second.acquire()
        message = str(refused.value)
        assert f"process {os.getpid()}" in message
        assert "another scheduler already runs on this database" in message
        assert "campaign.db.lock" in message
    finally:
        first.release()
    second.acquire()  # free again once the first lets go
    second.release()


# -- heartbeat, status, plan ------------------------------------------------------------------


def test_the_heartbeat_records_who_runs_and_what_comes_next(setup: Setup, clock: HandClock) -> None:
    setup.post("2030-09-15-forst", post_text("2030-09-15 09:00", "[facebook]"))
    setup.post("2030-09-15-sedan", post_text("2030-09-15 12:00"))
    daemon = setup.daemon()
    daemon.rescan(force=True)
    clock.advance(timedelta(seconds=30))

    daemon.heartbeat()

    beat = daemon.store.heartbeat()
    assert beat is not None
    assert beat.holder == daemon.holder and f":{os.getpid()}:" in beat.holder
    assert (beat.mode, beat.started_at, beat.beat_at) == ("dry_run", START, clock.now)
    assert (beat.jobs, beat.next_due_at, beat.stopped_at) == (3, at("2030-09-15 09:00"), None)

    clock.advance(timedelta(seconds=30))
    daemon.heartbeat()
    beat = daemon.store.heartbeat()
    assert beat is not None and beat.beat_at == clock.now


def status(setup: Setup, monkeypatch: pytest.MonkeyPatch, *args: str) -> Result:
    monkeypatch.setattr(cli.out, "_width", 250)  # a wide "terminal": no wrapped table cells
    result = runner.invoke(app, ["--config", str(setup.campaign.config_path), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result


def beat(store: Store, holder: str, at_time: datetime, started: datetime) -> None:
    store.beat(
        holder=holder, mode="dry_run", started_at=started, now=at_time, next_due_at=None, jobs=0
    )


def test_status_tells_running_from_stopped_from_not_responding(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup.post("2030-09-15-snart", post_text("2030-09-15 09:00", "[facebook]"))
    assert setup.config.posts_dir.is_dir()  # writes config.toml
    store = setup.store()
    real_now = datetime.now(UTC)
    holder = f"den-har-datorn:{os.getpid()}:abcd1234"

    result = status(setup, monkeypatch, "status")
    assert result.exit_code == 0, result.output
    assert "has never run" in result.output

    beat(store, holder, real_now - timedelta(seconds=5), real_now - timedelta(hours=1))
    result = status(setup, monkeypatch, "status")
    assert result.exit_code == 0, result.output
    assert "Scheduler: running (dry_run" in result.output
    assert f"process {os.getpid()} on den-har-datorn" in result.output

    # heartbeat_seconds = 30: silent for more than three beats is not responding
    beat(store, holder, real_now - timedelta(minutes=10), real_now - timedelta(hours=1))
    result = status(setup, monkeypatch, "status")
    assert "Scheduler: not responding" in result.output
    assert "journalctl" in result.output

    beat(store, holder, real_now - timedelta(minutes=10), real_now - timedelta(hours=1))
    store.stopped(holder, real_now - timedelta(minutes=9))
    result = status(setup, monkeypatch, "status")
    assert "Scheduler: stopped at" in result.output
    assert "running" not in result.output.split("\n")[0]
    assert result.exit_code == 0


def test_status_of_a_dry_run_needs_no_human_and_sums_it_up_in_one_line(
    setup: Setup, clock: HandClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Changed on purpose (issue 14): dry-run rows never need a human; the same rows live
    are in tests/test_past_campaign.py, each with its advice."""
    setup.post("2030-09-15-gick-bra", post_text("2030-09-15 09:00", "[facebook]"))
    setup.post("2030-09-15-missad", post_text("2030-09-15 07:00", "[facebook]"))
    setup.post("2030-09-15-okand", post_text("2030-09-15 08:00", "[facebook]"))
    setup.post("2030-09-15-misslyckad", post_text("2030-09-15 09:30", "[facebook]"))
    setup.post("2030-09-15-framtid", post_text("2030-09-15 18:00", "[facebook]"))
    store = setup.store()
    clock.now = at("2030-09-15 09:00")
    left_publishing(setup, store, "2030-09-15-okand", at("2030-09-15 08:00"))
    daemon = setup.daemon(store)
    daemon.rescan(force=True)  # 07:00 was two hours past when first seen: past
    daemon.publish_job("2030-09-15-gick-bra", "facebook")
    failed = store.get("2030-09-15-misslyckad", "facebook", Mode.DRY_RUN)
    assert failed is not None and failed.id is not None
    store.set_state(failed.id, State.FAILED, clock.now, "the image was refused (#324)")
    unknown = store.get("2030-09-15-okand", "facebook", Mode.DRY_RUN)
    assert unknown is not None and unknown.id is not None
    store.mark_unknown_if_publishing(unknown.id, clock.now, "no answer before the timeout")
    real_now = datetime.now(UTC)
    beat(store, daemon.holder, real_now, real_now - timedelta(minutes=5))
    states = {row.post_id: row.state for row in store.publications()}
    assert states == {
        "2030-09-15-missad": State.PAST,
        "2030-09-15-okand": State.UNKNOWN,
        "2030-09-15-gick-bra": State.PUBLISHED,
        "2030-09-15-misslyckad": State.FAILED,
        "2030-09-15-framtid": State.SCHEDULED,
    }

    result = status(setup, monkeypatch, "status")

    assert result.exit_code == 0, result.output
    output = result.output
    assert "Scheduler: running" in output
    human = output[output.index("Needs a human") :]
    assert human.split("Needs a human")[1].strip().startswith("nothing")
    [summary] = [line for line in human.splitlines() if line.startswith("Dry run")]
    assert "needs no human" in summary
    assert "1 past" in summary and "1 unknown" in summary and "1 failed" in summary
    assert "campaign settle POST" in summary
    assert "2030-09-15-gick-bra" not in human and "2030-09-15-framtid" not in human
    upcoming = output[output.index("Next") : output.index("Needs a human")]
    assert "2030-09-15-framtid → facebook" in upcoming


def test_status_exits_0_when_all_is_well(
    setup: Setup, clock: HandClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup.post("2030-09-15-gick-bra", post_text("2030-09-15 09:00", "[facebook]"))
    setup.post("2030-09-15-framtid", post_text("2030-09-15 18:00", "[facebook]"))
    daemon = setup.daemon()
    daemon.rescan(force=True)
    clock.now = at("2030-09-15 09:00")
    daemon.publish_job("2030-09-15-gick-bra", "facebook")
    real_now = datetime.now(UTC)
    beat(daemon.store, daemon.holder, real_now, real_now - timedelta(minutes=1))

    result = status(setup, monkeypatch, "status")

    assert result.exit_code == 0, result.output
    assert "Scheduler: running" in result.output
    assert result.output.split("Needs a human")[1].strip().startswith("nothing")


def plan_state(output: str, post_id: str, channel: str) -> str:
    """The state column of the plan's row for (post, channel)."""
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.split("│")]
        if post_id in cells and channel in cells:
            return cells[cells.index(channel) + 1]
    raise AssertionError(f"no row for {post_id} on {channel} in:\n{output}")


def test_plan_shows_the_state_of_each_publication(
    setup: Setup, clock: HandClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup.post("2030-09-15-ute", post_text("2030-09-15 09:00"))
    setup.post("2030-09-16-kommer", post_text("2030-09-16 09:00", "[facebook]"))
    daemon = setup.daemon()
    daemon.rescan(force=True)
    clock.now = at("2030-09-15 09:00")
    daemon.publish_job("2030-09-15-ute", "facebook")

    result = status(setup, monkeypatch, "plan")

    assert result.exit_code == 0, result.output
    assert plan_state(result.output, "2030-09-15-ute", "facebook") == "published"
    assert plan_state(result.output, "2030-09-15-ute", "instagram") == "scheduled"
    assert plan_state(result.output, "2030-09-16-kommer", "facebook") == "scheduled"


def test_status_of_a_heartbeat_slightly_ahead_of_this_clock_is_not_a_day_old(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup.post("2030-09-15-snart", post_text("2030-09-15 09:00", "[facebook]"))
    assert setup.config.posts_dir.is_dir()  # writes config.toml
    store = setup.store()
    real_now = datetime.now(UTC)
    # the daemon runs on another host (PostgreSQL) whose clock is 5 s ahead of this one
    beat(store, "annan-dator:4242:abcd1234", real_now + timedelta(seconds=5), real_now)

    result = status(setup, monkeypatch, "status")

    assert "Scheduler: running" in result.output
    found = re.search(r"last sign of life (\d+) s ago", result.output)
    assert found is not None, result.output
    assert int(found[1]) <= 5, result.output


# -- alerts reach a human ----------------------------------------------------------------------


def test_a_missed_post_reaches_the_webhook_through_the_daemons_notify_job(
    setup: Setup, clock: HandClock, receiver: Receiver
) -> None:
    setup.post("2030-09-15-for-sent", post_text("2030-09-15 09:00", "[facebook]"))
    clock.now = at("2030-09-15 08:00")
    setup.daemon().rescan(force=True)  # seen on time, then the scheduler was down
    clock.now = at("2030-09-15 11:00")
    config = setup.config
    notifier = Notifier.from_config(
        config, environ={"CAMPAIGN_ALERT_WEBHOOK": receiver.url("/hook/SECRETPATH")}, clock=clock
    )
    daemon = Daemon(
        config,
        setup.store(),
        build_channels(config, environ={}, clock=clock),
        clock=clock,
        notifier=notifier,
    )
    daemon.rescan(force=True)

    daemon.notify()
    daemon.notify()  # delivered once, not again

    [body] = receiver.accepted()
    [sent] = body["alerts"]
    assert (sent["kind"], sent["post_id"], sent["channel"]) == (
        "missed",
        "2030-09-15-for-sent",
        "facebook",
    )
    assert "NOT published" in sent["message"]
    assert daemon.store.alerts(undelivered_only=True) == []
