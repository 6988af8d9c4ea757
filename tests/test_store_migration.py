"""Schema version 2 on SQLite and PostgreSQL: publications keyed by (post, account), pauses
and cool-downs per account, the scheduler's lease, and the migration from version 1; and
the store's threads taking turns to write to SQLite."""

# The fixtures imported from tests.database come back as test parameters of the same name.
# ruff: noqa: F811

from __future__ import annotations

import json
import logging
import multiprocessing
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import NullPool

from scheduler.channels.base import MediaItem
from scheduler.prepare import content_fingerprint
from scheduler.store import engine as store_engine
from scheduler.store import migrations, schema
from scheduler.store.engine import StoreError
from scheduler.store.models import Attempt, Mode, Publication, State
from scheduler.store.store import Claim, Store
from tests import database as test_database
from tests.database import database_url, store  # noqa: F401
from tests.test_store import DUE, NOW, claim, sqlite_file, stored_version

LONG_ACCOUNT = "sodertalje-kommun-kultur-och-fritid-bibliotek-ungdom-raddning-x"  # 62 chars


# Schema version 2 -------------------------------------------------------------------


def test_a_publication_is_unique_per_post_and_account(store: Store) -> None:
    default = store.ensure_publication("p", "facebook", DUE, NOW)
    library = store.ensure_publication("p", "bibliotek-fb", DUE, NOW, channel="facebook")
    rehearsal = store.ensure_publication(
        "p", "bibliotek-fb", DUE, NOW, Mode.DRY_RUN, channel="facebook"
    )
    assert len({default.id, library.id, rehearsal.id}) == 3
    assert (default.account, default.channel) == ("facebook", "facebook")
    assert (library.account, library.channel) == ("bibliotek-fb", "facebook")
    again = store.ensure_publication("p", "bibliotek-fb", DUE, NOW, channel="facebook")
    assert again.id == library.id
    assert store.get("p", "bibliotek-fb") == library
    assert store.get("p", "bibliotek-fb", Mode.DRY_RUN) == rehearsal
    assert store.get("p", "bibliotek-ig") is None
    with pytest.raises(IntegrityError), store.writing() as session:
        session.add(
            Publication(post_id="p", channel="facebook", account="bibliotek-fb", due_at=DUE)
        )
        session.flush()
    assert len(store.publications()) == 3


def test_a_row_made_without_an_account_is_for_the_platforms_default_account(
    store: Store,
) -> None:
    with store.writing() as session:
        session.add(Publication(post_id="p", channel="instagram", due_at=DUE))
    (row,) = store.publications()
    assert (row.channel, row.account) == ("instagram", "instagram")
    assert store.get("p", "instagram") == row


def test_a_named_account_needs_its_platform(store: Store) -> None:
    with pytest.raises(ValueError, match=r"bibliotek-ig.*channel="):
        store.ensure_publication("p", "bibliotek-ig", DUE, NOW)
    assert store.publications() == []


def test_forgetting_an_untried_publication_takes_that_account_only(store: Store) -> None:
    store.ensure_publication("p", "instagram", DUE, NOW)
    store.ensure_publication("p", "bibliotek-ig", DUE, NOW, channel="instagram")
    assert store.forget_untried("p", "bibliotek-ig")
    assert [(r.post_id, r.account) for r in store.publications()] == [("p", "instagram")]
    assert not store.forget_untried("p", "bibliotek-ig")


def test_pauses_and_cool_downs_are_per_account(store: Store) -> None:
    store.cool_down(LONG_ACCOUNT, NOW + timedelta(hours=1), "rate limit")
    assert store.pause_channel("bibliotek-ig", "log in again", NOW)
    assert store.channel_state(LONG_ACCOUNT).cooldown_until == NOW + timedelta(hours=1)
    assert store.channel_state("bibliotek-ig").paused_reason == "log in again"
    for default in ("facebook", "instagram"):
        state = store.channel_state(default)
        assert (state.cooldown_until, state.paused_reason) == (None, None)
    store.resume_channel("bibliotek-ig")
    assert store.channel_state("bibliotek-ig").paused_reason is None


def test_an_alert_names_its_account_and_platform(store: Store) -> None:
    assert store.raise_alert("a", "failed", "m", NOW, channel="facebook")
    assert store.raise_alert("b", "paused", "m", NOW, channel="instagram", account="bibliotek-ig")
    assert store.raise_alert("c", "paused", "m", NOW, account="instagram")
    assert store.raise_alert("d", "failed", "m", NOW)
    assert [(a.key, a.channel, a.account) for a in store.alerts()] == [
        ("a", "facebook", "facebook"),
        ("b", "instagram", "bibliotek-ig"),
        ("c", "instagram", "instagram"),
        ("d", None, None),
    ]


# The scheduler's lease ----------------------------------------------------------------


def test_each_acquisition_of_a_lease_is_a_new_epoch_on_the_database_clock(
    store: Store,
) -> None:
    assert store.lease("daemon") is None
    assert store.acquire_lease("daemon", "host-a:1", 4242) == 1
    first = store.lease("daemon")
    assert first is not None
    assert (first.holder, first.epoch, first.backend_pid) == ("host-a:1", 1, 4242)
    assert first.acquired_at == first.renewed_at <= store.database_now()

    assert store.renew_lease("daemon", "host-a:1", 1)
    renewed = store.lease("daemon")
    assert renewed is not None and first.renewed_at <= renewed.renewed_at <= store.database_now()
    assert renewed.acquired_at == first.acquired_at

    assert store.acquire_lease("daemon", "host-b:7") == 2
    assert not store.renew_lease("daemon", "host-a:1", 1)  # taken over: the old one is fenced
    assert store.renew_lease("daemon", "host-b:7", 2)
    taken = store.lease("daemon")
    assert taken is not None and (taken.holder, taken.epoch, taken.backend_pid) == (
        "host-b:7",
        2,
        None,
    )
    assert store.acquire_lease("standby", "host-b:7") == 1  # leases are independent
    assert store.database_now().tzinfo == UTC


def test_a_fenced_claim_is_taken_only_under_the_current_lease(store: Store) -> None:
    publication_id = store.ensure_publication("p", "facebook", DUE, NOW).id
    assert publication_id is not None
    assert claim(store, publication_id, fence=(1, "host-a:1")) is None  # no lease at all
    assert store.acquire_lease("daemon", "host-a:1") == 1
    assert store.acquire_lease("daemon", "host-b:7") == 2
    assert claim(store, publication_id, fence=(1, "host-a:1")) is None  # taken over
    assert claim(store, publication_id, fence=(2, "host-a:1")) is None  # not the holder
    row = store.get_by_id(publication_id)
    assert (row.state, row.attempt_count, store.attempts(publication_id)) == (
        State.SCHEDULED,
        0,
        [],
    )
    taken = claim(store, publication_id, fence=(2, "host-b:7"), claimed_by="host-b:7")
    assert taken is not None and store.get_by_id(publication_id).state == State.PUBLISHING


def test_the_stores_fence_holds_for_the_schedulers_claims_but_not_by_hand(
    store: Store,
) -> None:
    ids = [store.ensure_publication(p, "facebook", DUE, NOW).id for p in ("p", "q", "r")]
    assert None not in ids
    store.fence = (store.acquire_lease("daemon", "host-a:1"), "host-a:1")
    assert claim(store, ids[0]) is not None  # the lease holds
    store.acquire_lease("daemon", "host-b:7")
    assert claim(store, ids[1]) is None  # taken over: the old scheduler claims nothing
    assert store.get_by_id(ids[1]).state == State.SCHEDULED  # type: ignore[arg-type]
    seen = store.get_by_id(ids[1])  # type: ignore[arg-type]
    assert claim(store, ids[1], seen=seen) is not None  # `campaign publish` by hand
    store.fence = None
    assert claim(store, ids[2]) is not None  # no lease asked for (SQLite, or no standby)


# The migration from version 1 --------------------------------------------------------

V1_DUMPS = Path(__file__).parent / "data" / "store_v1"
#: What the version-1 database holds (tests/data/make_store_v1.py).
V1_COUNTS = {
    "alerts": 5,
    "attempts": 7,
    "channel_states": 2,
    "heartbeats": 1,
    "publications": 9,
    "samples": 4,
    "store_info": 1,
}
#: The tables of version 2 that gained an account, which version 1's rows get = channel.
WITH_ACCOUNT = ("publications", "alerts")

Rows = dict[str, list[dict[str, Any]]]


def load_v1(database_url: str) -> Rows:
    """Put the database the previous release made into ``database_url``; its rows."""
    if (file := sqlite_file(database_url)) is not None:
        with closing(sqlite3.connect(file)) as connection:
            connection.executescript((V1_DUMPS / "sqlite.sql").read_text(encoding="utf-8"))
    else:
        engine = create_engine(make_url(database_url), poolclass=NullPool)
        try:
            raw = engine.raw_connection()
            try:  # the driver's own execute: several statements, no parameter markers
                raw.driver_connection.execute(  # type: ignore[union-attr]
                    (V1_DUMPS / "postgresql.sql").read_text(encoding="utf-8")
                )
                raw.commit()
            finally:
                raw.close()
        finally:
            engine.dispose()
    rows = rows_of(database_url)
    assert {name: len(table) for name, table in rows.items()} == V1_COUNTS
    return rows


def rows_of(database_url: str) -> Rows:
    """Every row of every table, column by column, as the database holds it (no store)."""
    engine = create_engine(make_url(database_url), poolclass=NullPool)
    try:
        with engine.connect() as connection:
            found: Rows = {}
            for name in sorted(inspect(connection).get_table_names()):
                key = inspect(connection).get_pk_constraint(name)["constrained_columns"]
                query = f"SELECT * FROM {name} ORDER BY {', '.join(key)}"
                found[name] = [dict(row) for row in connection.execute(text(query)).mappings()]
            return found
    finally:
        engine.dispose()


def schema_of(database_url: str) -> dict[str, Any]:
    """The tables' columns (in order), keys, unique constraints, indexes and references."""
    engine = create_engine(make_url(database_url), poolclass=NullPool)
    try:
        seen = inspect(engine)
        return {
            name: (
                [
                    (c["name"], str(c["type"]), c["nullable"], c.get("default"))
                    for c in seen.get_columns(name)
                ],
                seen.get_pk_constraint(name)["constrained_columns"],
                sorted((u["name"], *u["column_names"]) for u in seen.get_unique_constraints(name)),
                sorted(
                    (i["name"], i["unique"], *i["column_names"])  # type: ignore[misc]
                    for i in seen.get_indexes(name)
                ),
                sorted(
                    (f["referred_table"], *f["constrained_columns"], *f["referred_columns"])
                    for f in seen.get_foreign_keys(name)
                ),
            )
            for name in sorted(seen.get_table_names())
        }
    finally:
        engine.dispose()


@contextmanager
def another_database(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A second empty database on the same backend as ``database_url``."""
    if sqlite_file(database_url) is not None:
        yield f"sqlite:///{(tmp_path / 'fresh.db').as_posix()}"
    else:
        yield from test_database._postgres_database()


def as_v2(rows: Rows) -> Rows:
    """Version 1's rows as version 2 holds them: the account is the channel."""
    expected = {name: [dict(row) for row in table] for name, table in rows.items()}
    for name in WITH_ACCOUNT:
        for row in expected[name]:
            row["account"] = row["channel"]
    expected["store_info"] = [{"key": "schema_version", "value": "2"}]
    expected["leases"] = []
    return expected


def test_the_previous_releases_database_is_migrated_with_every_row(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    before = load_v1(database_url)
    caplog.set_level(logging.INFO, logger="campaign.store")
    migrated = Store.open(database_url)
    try:
        assert stored_version(migrated) == "2"
        assert rows_of(database_url) == as_v2(before)  # column by column, nothing lost
        with another_database(database_url, tmp_path) as fresh_url:
            Store.open(fresh_url).close()
            assert schema_of(database_url) == schema_of(fresh_url)  # as a new database
        # The account API finds version 1's rows under the default accounts' names.
        assert migrated.get("2026-09-15-demokrati", "instagram") is not None
        assert migrated.channel_state("facebook").cooldown_reason == "rate limited (code 4)"
        assert migrated.channel_state("instagram").paused_reason is not None
        # Unique per account now: a second Facebook account for the same post.
        library = migrated.ensure_publication(
            "2026-09-15-demokrati", "bibliotek-fb", DUE, NOW, channel="facebook"
        )
        assert library.id == 10 and library.state == State.SCHEDULED  # serials carry on
        with pytest.raises(IntegrityError), migrated.writing() as session:
            session.add(Publication(post_id="2026-09-15-demokrati", channel="facebook", due_at=DUE))
            session.flush()
        # Foreign keys are on again for every connection, and hold.
        with migrated.engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        with pytest.raises(IntegrityError), migrated.writing() as session:
            session.add(Attempt(publication_id=424242, started_at=NOW))
            session.flush()
    finally:
        migrated.close()

    if (file := sqlite_file(database_url)) is not None:
        backup = file.with_name(f"{file.name}.schema-v1.bak")
        assert [r.message for r in caplog.records if r.levelno == logging.WARNING] == [
            f"kept a copy of the schema version 1 database at {backup} before migrating it "
            "to version 2"
        ]
        assert rows_of(f"sqlite:///{backup.as_posix()}") == before
    else:
        assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert "the database is now at schema version 2" in caplog.messages


@pytest.mark.parametrize("left", ["empty", "cut short", "older"])
def test_the_copy_before_migrating_is_of_the_database_as_it_is_now(
    tmp_path: Path, left: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A copy left beside the file is never taken for the copy: not one a full disk cut
    short, nor one from an earlier upgrade (the previous release was put back and run
    again since: that copy lacks what it published meanwhile)."""
    file = tmp_path / "campaign.db"
    url = f"sqlite:///{file.as_posix()}"
    before = load_v1(url)
    backup = file.with_name(f"{file.name}.schema-v1.bak")
    if left == "older":
        with closing(sqlite3.connect(file)) as connection:
            connection.execute("VACUUM INTO ?", (backup.as_posix(),))
            connection.execute("UPDATE publications SET state = 'published' WHERE id = 6")
            connection.commit()
        before = rows_of(url)
    else:
        backup.write_bytes(b"" if left == "empty" else file.read_bytes()[:4096])
    caplog.set_level(logging.WARNING, logger="campaign.store")

    Store.open(url).close()

    assert rows_of(f"sqlite:///{backup.as_posix()}") == before
    assert f"kept a copy of the schema version 1 database at {backup}" in caplog.text
    assert sorted(p.name for p in tmp_path.iterdir()) == [file.name, backup.name]


def test_a_migrated_database_opens_again_without_migrating_or_copying(
    database_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    load_v1(database_url)
    Store.open(database_url).close()
    after = rows_of(database_url)
    file = sqlite_file(database_url)
    backups = list(file.parent.glob("*.bak")) if file is not None else []
    copies = {path: (path.stat().st_mtime_ns, path.read_bytes()) for path in backups}

    def never(_connection: Any) -> None:
        raise AssertionError("migrated twice")

    monkeypatch.setattr(schema, "MIGRATIONS", {1: migrations.Migration(never, never)})
    caplog.set_level(logging.INFO, logger="campaign.store")
    caplog.clear()
    Store.open(database_url).close()
    assert rows_of(database_url) == after
    assert caplog.messages == []
    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in backups} == copies
    if file is not None:
        assert len(backups) == 1 and list(file.parent.glob("*.bak")) == backups


def _failing_half_way(statement: str) -> bool:
    """The statement of the 1 → 2 step at which the tests break it: after publications
    has been made anew (SQLite) or given its account and new key (PostgreSQL)."""
    return statement.startswith("ALTER TABLE alerts ADD COLUMN account")


def test_a_migration_that_fails_half_way_leaves_version_1_whole(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = load_v1(database_url)
    real_execute, real_execute_raw = migrations.execute, migrations.execute_raw
    reached: list[str] = []

    def execute(connection: Any, statement: str) -> None:
        if _failing_half_way(statement):
            reached.append(statement)
            statement = "SELECT * FROM injected_failure"
        real_execute(connection, statement)

    def execute_raw(database: sqlite3.Connection, statement: str) -> None:
        if _failing_half_way(statement):
            reached.append(statement)
            statement = "SELECT * FROM injected_failure"
        real_execute_raw(database, statement)

    monkeypatch.setattr(migrations, "execute", execute)
    monkeypatch.setattr(migrations, "execute_raw", execute_raw)
    with pytest.raises(StoreError) as refused:
        Store.open(database_url)
    assert len(reached) == 1
    message = str(refused.value)
    assert "could not migrate the database from schema version 1 to 2" in message
    assert "injected_failure" in message and "still at version 1" in message
    assert rows_of(database_url) == before  # the very same version-1 database
    if (file := sqlite_file(database_url)) is not None:
        assert f"A copy made before is at {file}.schema-v1.bak." in message
        with closing(sqlite3.connect(file)) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
            (ddl,) = connection.execute(
                "SELECT sql FROM sqlite_master WHERE name = 'publications'"
            ).fetchone()
            assert "uq_publication_post_channel_mode" in ddl and "account" not in ddl

    monkeypatch.undo()  # the same release again, with nothing in the way: it migrates
    usable = Store.open(database_url)
    try:
        assert stored_version(usable) == "2"
        assert rows_of(database_url) == as_v2(before)
    finally:
        usable.close()


def test_after_the_migration_nothing_would_be_published_again(database_url: str) -> None:
    load_v1(database_url)
    store = Store.open(database_url)
    try:
        rows = store.publications()
        later = NOW + timedelta(days=3650)
        for row in rows:
            assert row.id is not None
            # The scheduler finds the same row for (post, default account, mode) ...
            again = store.ensure_publication(
                row.post_id, row.account, row.due_at, later, Mode(row.mode)
            )
            assert again == row
            # ... the content it would send now has the fingerprint stored when it was
            # claimed (fed the account's name, which is the channel's) ...
            if row.fingerprint is not None:
                sent = tuple(
                    MediaItem(Path(item["file"]), item["alt"], item["sha256"])
                    for item in json.loads(row.media_json or "[]")
                )
                assert row.fingerprint == content_fingerprint(
                    row.account, row.caption or "", row.link, row.first_comment, sent
                )
            # ... and only a scheduled row is ever claimed again.
            if row.state != State.SCHEDULED:
                assert claim(store, row.id, now=later) is None
        assert store.publications() == rows
    finally:
        store.close()


RACERS = 4
#: When version 1's scheduled row 7 is due (so looking it up changes nothing).
HOSTEN_DUE = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)


def _migrating_racer(url: str, barrier: Any, results: Any) -> None:
    """In a process of its own, at the same moment as the others: open the version-1
    database (migrating it), counting each run of the step, then look up one row."""
    try:
        runs: list[str] = []
        step = migrations.v1_to_v2
        assert step.sqlite_raw is not None
        sqlite_raw = step.sqlite_raw

        def counted(connection: Any) -> None:
            runs.append("postgresql")
            step.run(connection)

        def counted_raw(database: sqlite3.Connection) -> None:
            runs.append("sqlite")
            sqlite_raw(database)

        schema.MIGRATIONS = {1: migrations.Migration(counted, counted_raw)}
        barrier.wait(timeout=30)
        opened = Store.open(url)
        try:
            row = opened.ensure_publication("2026-10-01-hosten", "instagram", HOSTEN_DUE, NOW)
            results.put((len(runs), row.id))
        finally:
            opened.close()
    except BaseException as exc:
        barrier.abort()
        results.put(("error", repr(exc)))
        raise


def test_processes_racing_to_migrate_the_previous_releases_database_migrate_it_once(
    database_url: str,
) -> None:
    before = load_v1(database_url)
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(RACERS)
    results = context.Queue()
    racers = [
        context.Process(target=_migrating_racer, args=(database_url, barrier, results))
        for _ in range(RACERS)
    ]
    for racer in racers:
        racer.start()
    try:
        outcomes = [results.get(timeout=120) for _ in racers]
    finally:
        for racer in racers:
            racer.join(timeout=60)
    assert [o for o in outcomes if o[0] == "error"] == []
    assert sum(runs for runs, _ in outcomes) == 1
    assert {row_id for _, row_id in outcomes} == {7}  # the one row, not a new one
    assert rows_of(database_url) == as_v2(before)
    if (file := sqlite_file(database_url)) is not None:
        (backup,) = file.parent.glob("*.bak")
        assert rows_of(f"sqlite:///{backup.as_posix()}") == before


# Threads of one process -------------------------------------------------------------


class _Turnstile:
    """The store's write lock, telling the test when a thread has to wait at it."""

    def __init__(self, lock: Any, waiting: threading.Event) -> None:
        self.lock, self.waiting = lock, waiting

    def __enter__(self) -> None:
        if not self.lock.acquire(blocking=False):
            self.waiting.set()
            self.lock.acquire()

    def __exit__(self, *exc: object) -> None:
        self.lock.release()


def test_threads_of_one_process_take_turns_to_write_to_sqlite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SQLite's own waiting off: a second writer that reached SQLite would be refused at once.
    monkeypatch.setattr(store_engine, "BUSY_TIMEOUT_MS", 0)
    opened = Store.open(f"sqlite:///{(tmp_path / 'campaign.db').as_posix()}")
    try:
        publication_id = opened.ensure_publication("p", "facebook", DUE, NOW).id
        assert publication_id is not None
        waiting = threading.Event()
        if (lock := getattr(opened, "_write_lock", None)) is not None:
            opened._write_lock = _Turnstile(lock, waiting)
        outcome: list[Claim | Exception | None] = []

        def second_writer() -> None:
            try:
                outcome.append(claim(opened, publication_id))
            except Exception as error:
                outcome.append(error)
            finally:
                waiting.set()

        worker = threading.Thread(target=second_writer)
        with opened.writing() as session:
            session.connection()  # BEGIN IMMEDIATE: this thread holds SQLite's write lock
            worker.start()
            # Until the other thread waits for its turn (or has failed at SQLite's lock).
            assert waiting.wait(timeout=60)
        worker.join(timeout=60)
        assert len(outcome) == 1 and isinstance(outcome[0], Claim), outcome
    finally:
        opened.close()


def test_the_pool_holds_as_many_connections_as_asked(database_url: str) -> None:
    opened = Store.open(database_url, pool_size=24)
    try:
        assert opened.engine.pool.size() == 24  # type: ignore[attr-defined]
    finally:
        opened.close()
