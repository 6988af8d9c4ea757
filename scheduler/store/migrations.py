"""The steps that bring an older database up to date: ``MIGRATIONS[n]`` turns version n
into version n+1.

A step is run by :func:`scheduler.store.schema.prepare_schema` in one transaction that
holds the schema lock, after it has looked again at the stored version. On PostgreSQL,
whose DDL is transactional, a failure leaves the old version whole. A step that must
rebuild a SQLite table carries that form as ``sqlite_raw``: it runs on the raw sqlite3
connection with foreign keys off (see ``schema._migrate_sqlite_raw``), since SQLite checks
the references to a dropped table at COMMIT even when they are deferred.

Each step writes its own SQL, frozen as it was for its version: it never builds tables
from the models, which describe only the newest version.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, text


@dataclass(frozen=True)
class Migration:
    """One step: ``run`` on a SQLAlchemy connection in the schema's transaction (PostgreSQL);
    ``sqlite_raw``, when given, instead on SQLite's raw connection."""

    run: Callable[[Connection], None]
    sqlite_raw: Callable[[sqlite3.Connection], None] | None = None

    def __call__(self, connection: Connection) -> None:
        self.run(connection)


# 1 → 2: a publication is keyed by (post, account, mode); alerts.account; channel_states
# keyed by account (its key widened); the leases table. Every existing row is for a
# platform's default account, which is named as the platform: account = channel.

_V1_TO_V2_POSTGRESQL = (
    "ALTER TABLE publications ADD COLUMN account VARCHAR(64)",
    "UPDATE publications SET account = channel",
    "ALTER TABLE publications ALTER COLUMN account SET NOT NULL",
    "ALTER TABLE publications DROP CONSTRAINT uq_publication_post_channel_mode",
    "ALTER TABLE publications ADD CONSTRAINT uq_publication_post_account_mode "
    "UNIQUE (post_id, account, mode)",
    "ALTER TABLE channel_states ALTER COLUMN channel TYPE VARCHAR(64)",
    "ALTER TABLE alerts ADD COLUMN account VARCHAR(64)",
    "UPDATE alerts SET account = channel",
    """CREATE TABLE leases (
    name VARCHAR(40) NOT NULL,
    holder VARCHAR(200) NOT NULL,
    epoch INTEGER NOT NULL,
    backend_pid INTEGER,
    acquired_at TIMESTAMP WITH TIME ZONE NOT NULL,
    renewed_at TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (name)
)""",
)

_PUBLICATIONS_V1_COLUMNS = (
    "id, post_id, channel, mode, language, tags, state, due_at, next_attempt_at, "
    "attempt_count, fingerprint, caption, media_json, link, first_comment, remote_id, url, "
    "claimed_at, claimed_by, published_at, last_error, warnings, sampling_stopped, updated_at"
)

_CHANNEL_STATES_COLUMNS = (
    "channel, paused_reason, paused_at, last_auth_check_at, cooldown_until, cooldown_reason"
)

_V1_TO_V2_SQLITE = (
    # publications: SQLite cannot drop its inline UNIQUE, so the table is made anew.
    """CREATE TABLE publications_new (
    id INTEGER NOT NULL,
    post_id VARCHAR(200) NOT NULL,
    channel VARCHAR(20) NOT NULL,
    mode VARCHAR(10) NOT NULL,
    language VARCHAR(20),
    tags VARCHAR(500),
    state VARCHAR(20) NOT NULL,
    due_at DATETIME NOT NULL,
    next_attempt_at DATETIME,
    attempt_count INTEGER NOT NULL,
    fingerprint VARCHAR(64),
    caption TEXT,
    media_json TEXT,
    link TEXT,
    first_comment TEXT,
    remote_id VARCHAR(200),
    url TEXT,
    claimed_at DATETIME,
    claimed_by VARCHAR(200),
    published_at DATETIME,
    last_error TEXT,
    warnings TEXT,
    sampling_stopped TEXT,
    updated_at DATETIME,
    account VARCHAR(64) NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT uq_publication_post_account_mode UNIQUE (post_id, account, mode)
)""",
    f"INSERT INTO publications_new ({_PUBLICATIONS_V1_COLUMNS}, account) "
    f"SELECT {_PUBLICATIONS_V1_COLUMNS}, channel FROM publications ORDER BY id",
    "DROP TABLE publications",
    "ALTER TABLE publications_new RENAME TO publications",
    "CREATE INDEX ix_publications_state_next ON publications (state, next_attempt_at)",
    "CREATE INDEX ix_publications_published ON publications (state, mode, published_at, id)",
    # channel_states: its key as long as an account's name (SQLite keeps any length; the
    # table is made anew so that a migrated database is the same as a new one).
    """CREATE TABLE channel_states_new (
    channel VARCHAR(64) NOT NULL,
    paused_reason TEXT,
    paused_at DATETIME,
    last_auth_check_at DATETIME,
    cooldown_until DATETIME,
    cooldown_reason TEXT,
    PRIMARY KEY (channel)
)""",
    f"INSERT INTO channel_states_new ({_CHANNEL_STATES_COLUMNS}) "
    f"SELECT {_CHANNEL_STATES_COLUMNS} FROM channel_states",
    "DROP TABLE channel_states",
    "ALTER TABLE channel_states_new RENAME TO channel_states",
    "ALTER TABLE alerts ADD COLUMN account VARCHAR(64)",
    "UPDATE alerts SET account = channel",
    """CREATE TABLE leases (
    name VARCHAR(40) NOT NULL,
    holder VARCHAR(200) NOT NULL,
    epoch INTEGER NOT NULL,
    backend_pid INTEGER,
    acquired_at DATETIME NOT NULL,
    renewed_at DATETIME NOT NULL,
    PRIMARY KEY (name)
)""",
)


def _v1_to_v2(connection: Connection) -> None:
    for statement in _V1_TO_V2_POSTGRESQL:
        execute(connection, statement)


def _v1_to_v2_sqlite(database: sqlite3.Connection) -> None:
    for statement in _V1_TO_V2_SQLITE:
        execute_raw(database, statement)


def execute(connection: Connection, statement: str) -> None:
    """One statement of a step (the tests break a migration half-way here)."""
    connection.execute(text(statement))


def execute_raw(database: sqlite3.Connection, statement: str) -> None:
    """One statement of a step on SQLite's raw connection (the tests break one here too)."""
    database.execute(statement)


v1_to_v2 = Migration(_v1_to_v2, sqlite_raw=_v1_to_v2_sqlite)

#: MIGRATIONS[n] turns a version-n database into version n+1.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {1: v1_to_v2}
