"""The store on SQLite and PostgreSQL: the exactly-once states, time, redaction, schema."""

# The fixtures imported from tests.database come back as test parameters of the same name:
# that is how pytest hands them over, not a redefinition.
# ruff: noqa: F811

from __future__ import annotations

import multiprocessing
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlmodel import select

from campaign.config import ConfigError, parse_config
from scheduler.redaction import REDACTED, register_secret
from scheduler.store import engine as store_engine
from scheduler.store import models, schema
from scheduler.store.engine import StoreError
from scheduler.store.models import Attempt, Publication, State
from scheduler.store.store import Claim, Store
from tests import database as test_database
from tests.database import database_url, store  # noqa: F401

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
STOCKHOLM = ZoneInfo("Europe/Stockholm")
DUE = datetime(2026, 12, 1, 9, 0, tzinfo=STOCKHOLM)


def new_publication(
    store: Store, post_id: str = "2026-12-01-advent", channel: str = "facebook"
) -> int:
    row = store.ensure_publication(post_id, channel, DUE, NOW)
    assert row.id is not None
    return row.id


def claim(store: Store, publication_id: int, now: datetime = NOW, **changes: Any) -> Claim | None:
    arguments: dict[str, Any] = {
        "now": now,
        "claimed_by": "host:1",
        "fingerprint": "f" * 64,
        "caption": "God jul från Södertälje!",
        "media_json": '[{"file": "a.jpg", "alt": "En gran"}]',
        "link": None,
        "first_comment": None,
    }
    arguments.update(changes)
    return store.claim(publication_id, **arguments)


def dump(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, as the database holds it."""
    with store.engine.connect() as connection:
        return {
            name: [tuple(row) for row in connection.execute(text(f"SELECT * FROM {name}"))]
            for name in sorted(inspect(connection).get_table_names())
        }


def stored_version(store: Store) -> str:
    with store.engine.connect() as connection:
        return connection.execute(
            text("SELECT value FROM store_info WHERE key = 'schema_version'")
        ).scalar_one()


def sqlite_file(database_url: str) -> Path | None:
    prefix = "sqlite:///"
    return Path(database_url[len(prefix) :]) if database_url.startswith(prefix) else None


# ensure_publication -----------------------------------------------------------------


def test_ensure_publication_creates_the_row_once(store: Store) -> None:
    first = store.ensure_publication("p", "facebook", DUE, NOW)
    again = store.ensure_publication("p", "facebook", DUE, NOW + timedelta(minutes=1))
    assert first.id == again.id
    (row,) = store.publications()
    assert (row.post_id, row.channel, row.state, row.attempt_count) == (
        "p",
        "facebook",
        State.SCHEDULED,
        0,
    )
    assert row.due_at == DUE and row.next_attempt_at is None
    assert store.get("p", "facebook") == row and store.get("p", "instagram") is None


def test_a_publication_is_unique_per_post_and_channel(store: Store) -> None:
    ids = {
        new_publication(store, "p", "facebook"),
        new_publication(store, "p", "instagram"),
        new_publication(store, "q", "facebook"),
    }
    assert len(ids) == 3
    with pytest.raises(IntegrityError), store.writing() as session:
        session.add(Publication(post_id="p", channel="facebook", due_at=DUE))
        session.flush()
    assert len(store.publications()) == 3


def test_due_time_follows_the_file_only_while_never_tried(store: Store) -> None:
    publication_id = new_publication(store)
    moved = DUE + timedelta(hours=2)
    assert store.ensure_publication("2026-12-01-advent", "facebook", moved, NOW).due_at == moved
    assert store.get_by_id(publication_id).due_at == moved

    taken = claim(store, publication_id)
    assert taken is not None
    retry_at = NOW + timedelta(minutes=5)
    assert store.finish(
        taken,
        publication_id,
        now=NOW,
        state=State.SCHEDULED,
        outcome="retry",
        next_attempt_at=retry_at,
    )
    store.ensure_publication("2026-12-01-advent", "facebook", DUE + timedelta(days=1), NOW)
    row = store.get_by_id(publication_id)
    assert (row.state, row.due_at, row.next_attempt_at) == (State.SCHEDULED, moved, retry_at)


# claim ------------------------------------------------------------------------------


def test_claim_is_a_compare_and_set_a_second_claim_fails(store: Store) -> None:
    publication_id = new_publication(store)
    taken = claim(store, publication_id, link="https://www.sodertalje.se/", first_comment="#jul")
    assert taken is not None and taken.publication_id == publication_id
    assert taken.attempt_number == 1
    assert claim(store, publication_id, claimed_by="host:2") is None

    row = store.get_by_id(publication_id)
    assert (row.state, row.claimed_by, row.claimed_at, row.attempt_count) == (
        State.PUBLISHING,
        "host:1",
        NOW,
        1,
    )
    assert (row.caption, row.link, row.first_comment, row.fingerprint) == (
        "God jul från Södertälje!",
        "https://www.sodertalje.se/",
        "#jul",
        "f" * 64,
    )
    (attempt,) = store.attempts(publication_id)
    assert (attempt.id, attempt.kind, attempt.started_at, attempt.claimed_by) == (
        taken.attempt_id,
        "publish",
        NOW,
        "host:1",
    )
    assert attempt.finished_at is None and attempt.outcome is None


def test_claim_of_a_missing_publication_is_none(store: Store) -> None:
    assert claim(store, 12345) is None
    assert store.publications() == []


@pytest.mark.parametrize("state", [State.PUBLISHED, State.UNKNOWN, State.FAILED, State.MISSED])
def test_only_named_states_are_claimable(store: Store, state: State) -> None:
    publication_id = new_publication(store)
    store.set_state(publication_id, state, NOW)
    assert claim(store, publication_id) is None
    assert store.get_by_id(publication_id).state == state
    assert store.attempts(publication_id) == []

    taken = claim(store, publication_id, from_states=(State.SCHEDULED, state))
    assert taken is not None
    assert store.get_by_id(publication_id).state == State.PUBLISHING


def test_not_claimable_before_its_next_attempt(store: Store) -> None:
    publication_id = new_publication(store)
    first = claim(store, publication_id)
    assert first is not None
    retry_at = NOW + timedelta(minutes=10)
    store.finish(
        first,
        publication_id,
        now=NOW,
        state=State.SCHEDULED,
        outcome="retry",
        next_attempt_at=retry_at,
    )
    assert claim(store, publication_id, now=retry_at - timedelta(seconds=1)) is None
    second = claim(store, publication_id, now=retry_at)
    assert second is not None and second.attempt_number == 2
    row = store.get_by_id(publication_id)
    assert row.next_attempt_at is None and row.attempt_count == 2
    assert [a.id for a in store.attempts(publication_id)] == [first.attempt_id, second.attempt_id]


# finish -----------------------------------------------------------------------------


def test_finish_moves_only_from_the_expected_state(store: Store) -> None:
    publication_id = new_publication(store)
    assert not store.finish(1, publication_id, now=NOW, state=State.PUBLISHED, outcome="published")
    assert store.get_by_id(publication_id).state == State.SCHEDULED

    taken = claim(store, publication_id)
    assert taken is not None
    later = NOW + timedelta(seconds=3)
    assert store.finish(
        taken,
        publication_id,
        now=later,
        state=State.FAILED,
        outcome="failed",
        error_class="permanent",
        code="324",
        subcode="2069019",
        message="bad image",
    )
    # A late second answer for the same try does not move it again.
    assert not store.finish(
        taken, publication_id, now=later, state=State.PUBLISHED, outcome="published"
    )
    # Nor does one for a publication that does not exist.
    assert not store.finish(taken, 999, now=later, state=State.PUBLISHED, outcome="published")
    row = store.get_by_id(publication_id)
    assert (row.state, row.last_error, row.remote_id, row.published_at) == (
        State.FAILED,
        "bad image",
        None,
        None,
    )
    (attempt,) = store.attempts(publication_id)
    assert (
        attempt.finished_at,
        attempt.outcome,
        attempt.error_class,
        attempt.platform_code,
        attempt.platform_subcode,
        attempt.message,
    ) == (later, "failed", "permanent", "324", "2069019", "bad image")

    # A human may move it on from the state it is in.
    assert store.finish(
        taken.attempt_id,
        publication_id,
        now=later,
        state=State.MISSED,
        outcome="abandoned",
        expect_state=State.FAILED,
    )
    assert store.get_by_id(publication_id).state == State.MISSED


def test_published_records_the_remote_id_url_and_time(store: Store) -> None:
    publication_id = new_publication(store)
    taken = claim(store, publication_id)
    assert taken is not None
    retry_at = NOW + timedelta(minutes=1)
    store.finish(
        taken,
        publication_id,
        now=NOW,
        state=State.SCHEDULED,
        outcome="retry",
        error_class="transient",
        code="2",
        message="try later",
        next_attempt_at=retry_at,
    )
    assert store.get_by_id(publication_id).last_error == "try later"
    again = claim(store, publication_id, now=retry_at)
    assert again is not None

    done = retry_at + timedelta(seconds=4)
    assert store.finish(
        again,
        publication_id,
        now=done,
        state=State.PUBLISHED,
        outcome="published",
        remote_id="123_456",
        url="https://www.facebook.com/123_456",
        warnings="alt text cut",
    )
    row = store.get_by_id(publication_id)
    assert (row.state, row.remote_id, row.url, row.published_at, row.last_error) == (
        State.PUBLISHED,
        "123_456",
        "https://www.facebook.com/123_456",
        done,
        None,
    )
    assert (row.warnings, row.updated_at, row.next_attempt_at) == ("alt text cut", done, None)
    first, second = store.attempts(publication_id)
    assert (first.outcome, first.platform_code, first.finished_at) == ("retry", "2", NOW)
    assert (second.outcome, second.finished_at, second.message) == ("published", done, None)
    assert [p.id for p in store.publications([State.PUBLISHED])] == [publication_id]
    assert store.publications([State.SCHEDULED, State.FAILED]) == []


def test_mark_unknown_if_publishing_closes_the_open_attempts(store: Store) -> None:
    publication_id = new_publication(store)
    assert not store.mark_unknown_if_publishing(publication_id, NOW, "not claimed")
    taken = claim(store, publication_id)
    assert taken is not None
    reconcile_id = store.start_reconcile(publication_id, NOW, "host:2")
    later = NOW + timedelta(minutes=2)
    assert store.mark_unknown_if_publishing(publication_id, later, "the daemon died")
    assert not store.mark_unknown_if_publishing(publication_id, later, "again")

    row = store.get_by_id(publication_id)
    assert (row.state, row.last_error, row.updated_at) == (
        State.UNKNOWN,
        "the daemon died",
        later,
    )
    attempts = store.attempts(publication_id)
    assert [a.id for a in attempts] == [taken.attempt_id, reconcile_id]
    assert [a.kind for a in attempts] == ["publish", "reconcile"]
    for attempt in attempts:
        assert (attempt.finished_at, attempt.outcome, attempt.error_class, attempt.message) == (
            later,
            "unknown",
            "unknown",
            "the daemon died",
        )
    # Unknown is never claimed again without reconciling first.
    assert claim(store, publication_id, now=later) is None


# Time -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "local",
    [
        datetime(2021, 9, 15, 9, 0, 0, 123456, tzinfo=STOCKHOLM),  # summer time, +02:00
        datetime(2026, 1, 15, 23, 30, tzinfo=STOCKHOLM),  # winter time, +01:00: another day
    ],
    ids=["cest", "cet"],
)
def test_instants_go_in_in_any_zone_and_come_back_as_aware_utc(
    store: Store, local: datetime
) -> None:
    publication_id = store.ensure_publication("p", "facebook", local, local).id
    assert publication_id is not None
    store.raise_alert("k", "missed", "late", local)
    row = store.get_by_id(publication_id)
    for value in (row.due_at, row.updated_at, store.alerts()[0].created_at):
        assert value == local
        assert value.tzinfo is not None and value.utcoffset() == timedelta(0)
        assert value.astimezone(UTC).replace(tzinfo=None) == value.replace(tzinfo=None)
    assert row.due_at.hour == local.astimezone(UTC).hour
    # The database itself holds the right instant (compared in SQL, not in Python).
    with store.reading() as session:
        earlier = session.exec(
            select(Publication.id).where(Publication.due_at < local + timedelta(microseconds=1))
        ).all()
        later = session.exec(select(Publication.id).where(Publication.due_at > local)).all()
    assert (earlier, later) == ([publication_id], [])


def test_naive_datetimes_are_refused(store: Store) -> None:
    with pytest.raises((ValueError, StatementError), match="aware"):
        store.ensure_publication("p", "facebook", datetime(2026, 12, 1, 9, 0), NOW)
    assert store.publications() == []


# Channels ---------------------------------------------------------------------------


def test_pause_and_resume_a_channel(store: Store) -> None:
    state = store.channel_state("instagram")
    assert (state.channel, state.paused_reason, state.cooldown_until) == ("instagram", None, None)

    assert store.pause_channel("instagram", "challenge required", NOW)
    later = NOW + timedelta(minutes=15)
    assert not store.pause_channel("instagram", "still challenged", later)
    state = store.channel_state("instagram")
    assert (state.paused_reason, state.paused_at, state.last_auth_check_at) == (
        "still challenged",
        NOW,
        later,
    )
    assert store.channel_state("facebook").paused_reason is None

    store.resume_channel("instagram")
    state = store.channel_state("instagram")
    assert (state.paused_reason, state.paused_at) == (None, None)
    store.note_auth_check("instagram", later + timedelta(minutes=15))
    assert store.channel_state("instagram").last_auth_check_at == later + timedelta(minutes=15)
    assert store.pause_channel("instagram", "login required", later)


def test_cool_down_is_never_shortened(store: Store) -> None:
    hour = NOW + timedelta(hours=1)
    store.cool_down("facebook", hour, "rate limited (4)")
    store.cool_down("facebook", NOW + timedelta(minutes=30), "shorter")
    state = store.channel_state("facebook")
    assert (state.cooldown_until, state.cooldown_reason) == (hour, "rate limited (4)")
    store.cool_down("facebook", hour + timedelta(hours=1), "longer")
    state = store.channel_state("facebook")
    assert (state.cooldown_until, state.cooldown_reason) == (hour + timedelta(hours=1), "longer")
    assert store.channel_state("instagram").cooldown_until is None


# Alerts -----------------------------------------------------------------------------


def test_raise_alert_is_quiet_about_repeats_within_the_window(store: Store) -> None:
    assert store.raise_alert("failed:p:facebook", "failed", "first", NOW, post_id="p")
    assert not store.raise_alert(
        "failed:p:facebook", "failed", "again", NOW + timedelta(hours=5, minutes=59)
    )
    assert store.raise_alert("failed:q:facebook", "failed", "other post", NOW)
    assert store.raise_alert(
        "failed:p:facebook", "failed", "later", NOW + timedelta(hours=6, seconds=1)
    )
    assert store.raise_alert(
        "paused:instagram",
        "paused",
        "log in",
        NOW,
        channel="instagram",
        quiet_for=timedelta(minutes=1),
    )
    assert store.raise_alert(
        "paused:instagram",
        "paused",
        "log in",
        NOW + timedelta(minutes=1, seconds=1),
        quiet_for=timedelta(minutes=1),
    )

    alerts = store.alerts()
    assert [a.message for a in alerts] == ["first", "other post", "later", "log in", "log in"]
    assert (alerts[0].post_id, alerts[3].channel, alerts[0].kind) == ("p", "instagram", "failed")
    store.mark_alert_delivered(alerts[0].id, NOW)
    store.mark_alert_delivered(999, NOW)
    assert [a.id for a in store.alerts(undelivered_only=True)] == [a.id for a in alerts[1:]]
    assert store.alerts()[0].delivered_at == NOW


# Redaction --------------------------------------------------------------------------


def test_no_secret_is_ever_written(store: Store) -> None:
    canary = "canary-7f3Kq9-Page-token"
    register_secret(canary)
    leak = f"token {canary} in"
    token = "https://graph.facebook.com/v24.0/me?access_token=EAABsbCS1iHgBAKZCZBtoken"
    # What is sent is the public record: stored exactly, even when it looks like a secret.
    sent = {
        "caption": "Tipspromenad! password: ring — https://www.sodertalje.se/kampanj",
        "link": "https://www.sodertalje.se/kampanj?token=fika",
        "first_comment": "client_secret: ingen",
        "media_json": '[{"file": "a.jpg", "alt": "Skylt: pwd: 1234"}]',
    }
    redacted_cells = 0

    def written_cleanly() -> bool:
        nonlocal redacted_cells
        cells = [str(v) for rows in dump(store).values() for row in rows for v in row if v]
        redacted_cells = max(redacted_cells, sum(REDACTED in cell for cell in cells))
        return not [cell for cell in cells if canary in cell or "EAABsbCS1iHg" in cell]

    publication_id = new_publication(store)
    taken = claim(store, publication_id, **sent)
    assert taken is not None and written_cleanly()
    row = store.get_by_id(publication_id)
    assert [row.caption, row.link, row.first_comment, row.media_json] == list(sent.values())
    assert store.finish(
        taken,
        publication_id,
        now=NOW,
        state=State.SCHEDULED,
        outcome="retry",
        message=f"{leak} {token}",
        next_attempt_at=NOW,
    )
    assert written_cleanly()
    again = claim(store, publication_id, **sent)
    assert again is not None
    assert store.mark_unknown_if_publishing(publication_id, NOW, leak) and written_cleanly()
    store.set_state(publication_id, State.PUBLISHING, NOW, message=token)
    assert written_cleanly()
    assert store.finish(
        again.attempt_id,
        publication_id,
        now=NOW,
        state=State.PUBLISHED,
        outcome="published",
        remote_id="1_2",
        url="https://www.facebook.com/1_2",
        warnings=leak,
        message=leak,
    )
    assert written_cleanly()
    assert store.pause_channel("facebook", leak, NOW) and written_cleanly()
    store.cool_down("facebook", NOW + timedelta(hours=1), leak)
    assert written_cleanly()
    assert store.raise_alert("failed:p", "failed", f"{leak} {token}", NOW) and written_cleanly()
    assert redacted_cells >= 6  # errors, reasons, warnings and the alert: never what was sent


# Schema -----------------------------------------------------------------------------


def test_a_fresh_database_gets_every_table_and_the_current_version(store: Store) -> None:
    assert stored_version(store) == str(models.SCHEMA_VERSION)
    assert set(dump(store)) >= {
        "publications",
        "attempts",
        "channel_states",
        "alerts",
        "store_info",
    }
    with store.writing() as session:  # attempts refer to real publications
        session.add(Attempt(publication_id=424242, started_at=NOW))
        with pytest.raises(IntegrityError):
            session.flush()
        session.rollback()


def test_reopening_keeps_the_data_and_the_version(database_url: str) -> None:
    first = Store.open(database_url)
    publication_id = new_publication(first)
    assert claim(first, publication_id) is not None
    first.raise_alert("k", "failed", "m", NOW)
    before = dump(first)
    first.close()

    second = Store.open(database_url)
    try:
        assert dump(second) == before
        assert stored_version(second) == str(models.SCHEMA_VERSION)
        assert second.get_by_id(publication_id).state == State.PUBLISHING
    finally:
        second.close()


def test_a_database_from_a_newer_release_is_refused_and_left_alone(database_url: str) -> None:
    first = Store.open(database_url)
    new_publication(first)
    with first.writing() as session:
        session.execute(
            text("UPDATE store_info SET value = :v WHERE key = 'schema_version'"),
            {"v": str(models.SCHEMA_VERSION + 1)},
        )
    before = dump(first)
    first.close()

    with pytest.raises(StoreError, match="newer release"):
        Store.open(database_url)

    again = Store(store_engine.create_store_engine(database_url))
    try:
        assert dump(again) == before
    finally:
        again.close()
    if (file := sqlite_file(database_url)) is not None:
        assert list(file.parent.glob("*.bak")) == []


def test_a_registered_migration_runs_once_and_keeps_every_row(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = Store.open(database_url)
    publication_id = new_publication(old)
    taken = claim(old, publication_id)
    assert taken is not None
    old.finish(taken, publication_id, now=NOW, state=State.PUBLISHED, outcome="published")
    old.raise_alert("k", "failed", "m", NOW)
    before = dump(old)
    old.close()

    calls: list[int] = []

    def add_note_column(connection: Any) -> None:
        calls.append(1)
        connection.execute(text("ALTER TABLE publications ADD COLUMN note TEXT DEFAULT 'v2'"))

    version = models.SCHEMA_VERSION
    monkeypatch.setattr(models, "SCHEMA_VERSION", version + 1)
    monkeypatch.setattr(schema, "MIGRATIONS", {version: add_note_column})
    for _ in range(2):
        migrated = Store.open(database_url)
        try:
            assert stored_version(migrated) == str(version + 1)
            after = dump(migrated)
        finally:
            migrated.close()
    assert calls == [1]
    assert after["publications"] == [(*row, "v2") for row in before["publications"]]
    assert {k: v for k, v in after.items() if k not in ("publications", "store_info")} == {
        k: v for k, v in before.items() if k not in ("publications", "store_info")
    }

    if (file := sqlite_file(database_url)) is not None:
        (backup,) = file.parent.glob("*.bak")
        assert backup.name == f"{file.name}.schema-v{version}.bak"
        with sqlite3.connect(backup) as kept:
            assert kept.execute("SELECT value FROM store_info").fetchall() == [(str(version),)]
            assert kept.execute("SELECT count(*) FROM publications").fetchone() == (1,)


def test_a_missing_migration_step_is_an_error(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    Store.open(database_url).close()
    version = models.SCHEMA_VERSION
    monkeypatch.setattr(models, "SCHEMA_VERSION", version + 1)
    monkeypatch.setattr(schema, "MIGRATIONS", {})
    with pytest.raises(StoreError, match=f"no migration from schema version {version}"):
        Store.open(database_url)


def test_tables_made_by_something_else_are_refused(database_url: str) -> None:
    engine = store_engine.create_store_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE publications (id INTEGER PRIMARY KEY)"))
        with pytest.raises(StoreError, match="not made by this tool"):
            schema.prepare_schema(engine)
    finally:
        engine.dispose()


def test_urls_open_with_or_without_the_driver_named(database_url: str) -> None:
    bare = database_url.replace("postgresql+psycopg://", "postgresql://")
    opened = Store.open(bare)
    try:
        assert opened.engine.dialect.driver in ("pysqlite", "psycopg")
    finally:
        opened.close()
    with pytest.raises(StoreError, match="not well formed"):
        Store.open("not a url")


# SQLite -----------------------------------------------------------------------------


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout_and_foreign_keys(tmp_path: Path) -> None:
    opened = Store.open(f"sqlite:///{tmp_path / 'campaign.db'}")
    try:
        with opened.engine.connect() as connection:
            pragma = {
                name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "busy_timeout", "foreign_keys", "synchronous")
            }
        assert pragma == {
            "journal_mode": "wal",
            "busy_timeout": store_engine.BUSY_TIMEOUT_MS,
            "foreign_keys": 1,
            "synchronous": 1,  # NORMAL: safe in WAL mode
        }
    finally:
        opened.close()


def test_sqlite_readers_do_not_block_a_writer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'campaign.db'}"
    monkeypatch.setattr(store_engine, "BUSY_TIMEOUT_MS", 2_000)  # fail fast if it would block
    reader, writer = Store.open(url), Store.open(url)
    try:
        publication_id = new_publication(writer)
        with reader.reading() as session:
            query = select(Publication.state).where(Publication.id == publication_id)
            assert session.exec(query).one() == State.SCHEDULED  # a read transaction is open
            # Blocked, the claim would wait out the busy timeout and fail "database is locked".
            assert claim(writer, publication_id) is not None
            assert session.exec(query).one() == State.SCHEDULED  # its snapshot
        assert reader.get_by_id(publication_id).state == State.PUBLISHING
        # And a writer holding the write lock does not block a reader.
        with writer.writing() as session:
            session.get(Publication, publication_id).state = State.FAILED  # type: ignore[union-attr]
            session.flush()
            assert reader.get_by_id(publication_id).state == State.PUBLISHING
        assert reader.get_by_id(publication_id).state == State.FAILED
    finally:
        reader.close()
        writer.close()


# Races between processes ------------------------------------------------------------

RACERS = 4


def _migrate_to_next(connection: Any) -> None:
    """A migration that leaves a trace of every run of it."""
    connection.execute(text("ALTER TABLE publications ADD COLUMN note TEXT"))
    connection.execute(text("CREATE TABLE IF NOT EXISTS migration_runs (step INTEGER)"))
    connection.execute(text("INSERT INTO migration_runs (step) VALUES (1)"))


def _racer(url: str, migrate: bool, barrier: Any, results: Any) -> None:
    """In a process of its own, each step at the same moment as the other racers: open the
    store (creating or migrating its tables), create the publication, claim it."""
    try:
        if migrate:  # this process runs a release with the next schema version
            version = models.SCHEMA_VERSION
            models.SCHEMA_VERSION = version + 1
            schema.MIGRATIONS = {version: _migrate_to_next}
        barrier.wait(timeout=30)
        opened = Store.open(url)
        try:
            barrier.wait(timeout=30)
            publication_id = opened.ensure_publication("race", "facebook", DUE, NOW).id
            barrier.wait(timeout=30)
            by = f"racer:{multiprocessing.current_process().pid}"
            results.put((publication_id, claim(opened, publication_id, claimed_by=by)))
        finally:
            opened.close()
    except BaseException as exc:
        barrier.abort()  # the others stop waiting for this one
        results.put(("error", repr(exc)))
        raise


def race(url: str, migrate: bool = False) -> Store:
    """Run the racers; check that they made one publication and exactly one claim; the store
    they left behind, open."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(RACERS)
    results = context.Queue()
    racers = [
        context.Process(target=_racer, args=(url, migrate, barrier, results)) for _ in range(RACERS)
    ]
    for racer in racers:
        racer.start()
    try:
        outcomes = [results.get(timeout=120) for _ in racers]
    finally:
        for racer in racers:
            racer.join(timeout=60)
    assert [o for o in outcomes if o[0] == "error"] == []
    assert len({publication_id for publication_id, _ in outcomes}) == 1
    claims = [taken for _, taken in outcomes if taken is not None]
    assert len(claims) == 1

    checked = Store.open(url)
    (row,) = checked.publications()
    (attempt,) = checked.attempts(row.id)  # type: ignore[arg-type]
    assert (row.state, row.attempt_count, attempt.id) == (
        State.PUBLISHING,
        1,
        claims[0].attempt_id,
    )
    assert row.claimed_by == attempt.claimed_by
    return checked


def test_processes_racing_on_a_new_database_make_one_row_and_one_claim(
    database_url: str,
) -> None:
    race(database_url).close()


def test_processes_racing_to_migrate_run_each_step_once(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    Store.open(database_url).close()
    version = models.SCHEMA_VERSION
    monkeypatch.setattr(models, "SCHEMA_VERSION", version + 1)
    monkeypatch.setattr(schema, "MIGRATIONS", {version: _migrate_to_next})
    checked = race(database_url, migrate=True)
    try:
        assert stored_version(checked) == str(version + 1)
        assert dump(checked)["migration_runs"] == [(1,)]
    finally:
        checked.close()


# config.toml's [database] -----------------------------------------------------------


def test_config_refuses_a_database_url_with_a_password(tmp_path: Path) -> None:
    config = '[database]\nurl = "postgresql+psycopg://campaign:hunter2x@db.example/campaign"\n'
    with pytest.raises(ConfigError) as raised:
        parse_config(config, tmp_path / "config.toml")
    message = str(raised.value)
    assert "password" in message and "url_env" in message
    assert "hunter2x" not in message


def test_url_env_replaces_the_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "posts").mkdir()
    config = parse_config(
        '[database]\nurl = "postgresql+psycopg://db.example/campaign"\nurl_env = "TEAM_DB"\n',
        tmp_path / "config.toml",
    )
    monkeypatch.delenv("TEAM_DB", raising=False)
    assert config.database_url == "postgresql+psycopg://db.example/campaign"
    secret_url = "postgresql+psycopg://campaign:hunter2x@db.example/campaign"
    monkeypatch.setenv("TEAM_DB", secret_url)
    assert config.database_url == secret_url


def test_a_relative_sqlite_file_is_beside_the_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CAMPAIGN_DATABASE_URL", raising=False)
    folder = tmp_path / "kampanj"
    (folder / "data").mkdir(parents=True)
    (folder / "posts").mkdir()
    monkeypatch.chdir(tmp_path)
    config = parse_config('[database]\nurl = "sqlite:///data/c.db"\n', folder / "config.toml")
    assert config.database_url == f"sqlite:///{(folder / 'data' / 'c.db').resolve()}"
    default = parse_config("", folder / "config.toml")
    assert default.database_url == f"sqlite:///{(folder / 'campaign.db').resolve()}"

    Store.open(config.database_url).close()
    assert (folder / "data" / "c.db").is_file() and not (tmp_path / "data").exists()


# The fixtures themselves ------------------------------------------------------------


def test_without_a_postgres_server_ci_fails_and_a_developer_skips(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(test_database.POSTGRES_ENV, raising=False)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="in CI the PostgreSQL tests must run"):
        test_database.postgres_server_url()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match=r"source \.ci/postgres-start"):
        test_database.postgres_server_url()
    monkeypatch.setenv(test_database.POSTGRES_ENV, "postgresql://me@127.0.0.1:5433/db")
    assert test_database.postgres_server_url().drivername == "postgresql+psycopg"
