"""Two real schedulers on one database: `campaign run --standby` waits, and takes over.

Both daemons run as processes (``campaign run --standby``) against the fake Graph API on
127.0.0.1, on an SQLite file and on the loopback PostgreSQL server (tests/database.py;
``source .ci/postgres-start``). Posts fall due one a second; the active daemon is killed
with SIGKILL, or (PostgreSQL) the server ends its lock's connection, while posts are still
due. Every post must reach the fake exactly once, none missed or failed, and the standby
must log the handover with its time within ``takeover_seconds``: the figure the program
logs, not a stopwatch of the test's. Every wait is on a condition, bounded generously.
"""

from __future__ import annotations

import re
import signal
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from scheduler.daemon_lock import AlreadyRunning, DaemonLock, Keepalives
from scheduler.leader import poll_seconds
from scheduler.store.models import Publication, State
from scheduler.store.store import Store
from tests.database import _postgres_database, postgres_server_url
from tests.database import database_url as database_url
from tests.test_daemon_process import STARTED, Live, captions, wait_for
from tests.test_daemon_process import live as live

TAKEOVER_SECONDS = 5
POSTS = 12
WAITING = "standby: waiting; the active scheduler is"
HANDOVER = re.compile(r"standby: took over from process (\d+) on \S+ after ([0-9.]+) s")


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, live: Live) -> Iterator[str]:
    """The URL both daemons share: a file beside the campaign, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{live.database}"
    else:
        yield from _postgres_database()


@pytest.fixture
def postgres() -> Iterator[str]:
    yield from _postgres_database()


def configure(live: Live, url: str, *, request_timeout: float = 10) -> None:
    live.configure(grace_minutes=10, request_timeout=request_timeout)
    config = live.campaign.config_text.replace(
        f'url = "sqlite:///{live.database}"', f'url = "{url}"'
    )
    config = config.replace(
        "heartbeat_seconds = 1", f"heartbeat_seconds = 1\ntakeover_seconds = {TAKEOVER_SECONDS}"
    )
    live.campaign.config_text = config
    live.campaign.config()


def end_lock_connection(application: str = "campaign-lock") -> list[tuple[bool]]:
    """What the server answers when told to end the connections named ``application``."""
    admin = create_engine(postgres_server_url(), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as connection:
            return [
                tuple(row)
                for row in connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE application_name = :name"
                    ),
                    {"name": application},
                )
            ]
    finally:
        admin.dispose()


def rows(url: str) -> dict[str, Publication]:
    store = Store.open(url)
    try:
        return {row.post_id: row for row in store.publications()}
    finally:
        store.close()


def start_pair(live: Live) -> tuple[subprocess.Popen[bytes], Path, subprocess.Popen[bytes], Path]:
    """The active daemon (started first), then the standby, waiting."""
    active, active_log = live.start_and_wait("--standby")
    standby, standby_log = live.start("--standby")
    wait_for(
        lambda: WAITING in standby_log.read_text(), standby, standby_log, "the standby to wait"
    )
    assert f"process {active.pid} on" in standby_log.read_text()
    assert STARTED not in standby_log.read_text()
    return active, active_log, standby, standby_log


def due_posts(live: Live) -> list[str]:
    """POSTS posts, one due every second from 3 s on; their captions."""
    start = datetime.now(UTC) + timedelta(seconds=3)
    texts = []
    for number in range(POSTS):
        caption = f"Inlägg nummer {number} av {POSTS}."
        live.post(start + timedelta(seconds=number), f"tur-{number:02d}", caption)
        texts.append(caption)
    return sorted(texts)


def handed_over(live: Live, url: str, standby: subprocess.Popen[bytes], log: Path) -> None:
    """Wait until every post is out and recorded."""
    wait_for(
        lambda: (
            len(live.fake.posts) >= POSTS
            and len(rows(url)) == POSTS
            and all(row.state != State.SCHEDULED for row in rows(url).values())
        ),
        standby,
        log,
        "every post to go out after the handover",
        timeout=180,
    )


def assert_each_once(live: Live, url: str, expected: list[str], log: Path) -> None:
    assert captions(live.fake) == expected, log.read_text()
    assert len(live.fake.of_kind("POST photos")) == POSTS, log.read_text()
    states = {post_id: row.state for post_id, row in rows(url).items()}
    assert set(states.values()) == {State.PUBLISHED}, states


def handover_seconds(log: Path, previous: int) -> float:
    found = HANDOVER.search(log.read_text())
    assert found is not None, log.read_text()
    assert int(found.group(1)) == previous
    return float(found.group(2))


def test_the_standby_takes_over_from_a_killed_scheduler_and_each_post_goes_out_once(
    live: Live, database: str
) -> None:
    configure(live, database)
    active, _active_log, standby, standby_log = start_pair(live)
    expected = due_posts(live)

    wait_for(lambda: len(live.fake.posts) >= 4, active, _active_log, "the first posts")
    active.send_signal(signal.SIGKILL)
    assert active.wait(timeout=60) == -signal.SIGKILL
    assert len(live.fake.posts) < POSTS  # killed while posts were still due

    wait_for(lambda: STARTED in standby_log.read_text(), standby, standby_log, "the takeover")
    handed_over(live, database, standby, standby_log)
    assert_each_once(live, database, expected, standby_log)
    assert handover_seconds(standby_log, active.pid) <= TAKEOVER_SECONDS
    status = subprocess.run(
        live.command("status"), env=live.environment, capture_output=True, text=True, timeout=60
    )
    assert "Scheduler: running (live" in status.stdout, status.stdout + status.stderr
    assert f"process {standby.pid}" in status.stdout  # the standby is the active one now
    assert live.stop(standby, standby_log) == 0


def test_a_scheduler_whose_lock_connection_is_ended_exits_3_and_the_standby_takes_over(
    live: Live, postgres: str
) -> None:
    configure(live, postgres)
    active, active_log, standby, standby_log = start_pair(live)
    expected = due_posts(live)

    wait_for(lambda: len(live.fake.posts) >= 4, active, active_log, "the first posts")
    assert end_lock_connection() == [(True,)]  # the active one's, and only that

    assert active.wait(timeout=120) == 3, active_log.read_text()
    assert "lost the scheduler lock" in active_log.read_text()
    wait_for(lambda: STARTED in standby_log.read_text(), standby, standby_log, "the takeover")
    handed_over(live, postgres, standby, standby_log)
    assert_each_once(live, postgres, expected, standby_log)
    assert handover_seconds(standby_log, active.pid) <= TAKEOVER_SECONDS
    assert live.stop(standby, standby_log) == 0


def test_the_standby_waits_for_the_publish_the_old_scheduler_still_has_in_flight(
    live: Live, postgres: str
) -> None:
    configure(live, postgres, request_timeout=120)  # the held answer must not time out
    active, active_log, standby, standby_log = start_pair(live)
    live.fake.script("POST photos", None, None, None, None, {"delay": 240})  # the 5th is held
    expected = due_posts(live)
    wait_for(
        lambda: len(live.fake.of_kind("POST photos")) >= 5, active, active_log, "the held publish"
    )

    assert end_lock_connection() == [(True,)]

    waits = "waiting for the previous scheduler's 1 publish(es) in flight"
    wait_for(lambda: waits in standby_log.read_text(), standby, standby_log, "the standby to wait")
    assert STARTED not in standby_log.read_text()  # nothing reconciled, nothing scheduled yet
    assert active.poll() is None  # the old one waits for its answer too
    live.fake.release_delayed()
    assert active.wait(timeout=120) == 3, active_log.read_text()
    handed_over(live, postgres, standby, standby_log)
    assert_each_once(live, postgres, expected, standby_log)
    assert live.stop(standby, standby_log) == 0


def test_a_waiting_standby_stops_on_sigterm_with_exit_0_and_never_publishes(
    live: Live, database: str
) -> None:
    configure(live, database)
    active, active_log, standby, standby_log = start_pair(live)

    standby.send_signal(signal.SIGTERM)

    assert standby.wait(timeout=30) == 0, standby_log.read_text()
    assert "standby: stopped while waiting" in standby_log.read_text()
    assert "Traceback" not in standby_log.read_text()
    assert active.poll() is None
    assert live.stop(active, active_log) == 0


# -- the lock itself, in this process ----------------------------------------------------------


def test_a_waiting_lock_tries_again_until_told_to_stop_then_gets_the_freed_lock(
    database_url: str,
) -> None:
    first = DaemonLock.for_url(database_url, takeover_seconds=TAKEOVER_SECONDS)
    assert first.acquire()
    second = DaemonLock.for_url(database_url, takeover_seconds=TAKEOVER_SECONDS)
    try:
        refusals: list[AlreadyRunning] = []
        got = second.acquire(
            wait=True, poll=0.01, stop=lambda: len(refusals) >= 3, refused=refusals.append
        )
        assert got is False
        assert len(refusals) == 3
        assert "another scheduler already runs on this database" in str(refusals[0])
        first.release()
        assert second.acquire(wait=True, poll=0.01, refused=lambda _: pytest.fail("refused"))
        second.check()  # held, and says so
    finally:
        first.release()
        second.release()


def test_a_standby_whose_waiting_connection_is_ended_connects_again_and_waits_on(
    postgres: str,
) -> None:
    first = DaemonLock.for_url(postgres, takeover_seconds=TAKEOVER_SECONDS)
    assert first.acquire()
    second = DaemonLock.for_url(postgres, takeover_seconds=TAKEOVER_SECONDS)
    refusals: list[AlreadyRunning] = []
    troubles: list[Exception] = []

    def refused(refusal: AlreadyRunning) -> None:
        refusals.append(refusal)
        if len(refusals) == 1:  # as a server restart or a network cut would
            assert end_lock_connection("campaign-standby") == [(True,)]

    try:
        got = second.acquire(
            wait=True,
            poll=0.01,
            stop=lambda: len(refusals) >= 2,
            refused=refused,
            trouble=troubles.append,
        )
    finally:
        first.release()
        second.release()
    assert got is False
    assert len(troubles) == 1, troubles  # reported, then asked again on a new connection
    assert len(refusals) == 2


@pytest.mark.parametrize("takeover", [3, 5, 30, 3600])
def test_a_lost_peer_is_noticed_and_the_lock_polled_well_within_the_takeover_time(
    takeover: float,
) -> None:
    tuned = Keepalives.for_takeover(takeover)
    # the server ends a silent client's session (and frees the lock) by then …
    assert tuned.idle + tuned.interval * tuned.count <= takeover * 2 / 3
    assert tuned.user_timeout_ms <= takeover * 1000 / 2
    # … and the standby asks for the lock at least ten times within the takeover time
    assert poll_seconds(takeover) * 10 <= takeover


def test_the_postgresql_lock_connection_is_named_and_tuned_to_the_takeover_time(
    postgres: str,
) -> None:
    lock = DaemonLock.for_url(postgres, takeover_seconds=30)
    assert lock.acquire()
    try:
        names = ("application_name", "tcp_keepalives_idle", "tcp_keepalives_interval")
        names += ("tcp_keepalives_count", "tcp_user_timeout", "statement_timeout")
        settings = lock.on_connection(
            lambda connection: dict(
                connection.execute(
                    text("SELECT name, setting FROM pg_settings WHERE name = ANY(:names)"),
                    {"names": list(names)},
                ).all()
            )
        )
    finally:
        lock.release()
    assert settings == {
        "application_name": "campaign-lock",
        "tcp_keepalives_idle": "10",
        "tcp_keepalives_interval": "3",
        "tcp_keepalives_count": "3",
        "tcp_user_timeout": "15000",
        "statement_timeout": "10000",
    }
