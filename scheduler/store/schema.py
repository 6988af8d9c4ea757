"""The schema version, and the steps that bring an older database up to date.

A fresh database gets every table and the current version. An older one is
migrated step by step (after a copy of a SQLite file is kept beside it); one made
by a newer release is refused rather than damaged.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Connection, Engine, inspect, text
from sqlmodel import SQLModel

from scheduler.store import models
from scheduler.store.engine import StoreError

#: MIGRATIONS[n] turns a version-n database into version n+1.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {}

#: The PostgreSQL advisory lock held while the tables are created or migrated.
SCHEMA_LOCK_KEY = 0x63616D70  # "camp"


def current_version() -> int:
    return models.SCHEMA_VERSION


def prepare_schema(engine: Engine) -> int:
    """Create or migrate the tables; returns the version the database had before.

    Processes that open the same database at once take turns: every change is made in a
    transaction that holds the schema lock (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: an
    advisory lock) and first looks again at what another process did meanwhile.
    """
    found = _stored_version(engine)
    if found is None:
        with engine.begin() as connection:
            _lock_schema(connection)
            if _stored_version(connection) is None:
                SQLModel.metadata.create_all(connection)
                _write_version(connection, current_version())
                return current_version()
        found = _stored_version(engine)  # another process has just made it
        assert found is not None
    if found > current_version():
        raise StoreError(
            f"this database has schema version {found}, made by a newer release of this "
            f"tool (this one knows {current_version()}). Upgrade the tool; the database "
            "was not changed."
        )
    if found < current_version():
        _backup_sqlite(engine, found)
        for version in range(found, current_version()):
            step = MIGRATIONS.get(version)
            if step is None:
                raise StoreError(f"no migration from schema version {version}.")
            with engine.begin() as connection:
                _lock_schema(connection)
                if _stored_version(connection) != version:
                    continue  # another process has taken this step meanwhile
                step(connection)
                _write_version(connection, version + 1)
    with engine.begin() as connection:
        _lock_schema(connection)
        SQLModel.metadata.create_all(connection)
    return found


def _stored_version(bind: Engine | Connection) -> int | None:
    """The database's schema version; None when it has no tables yet."""
    tables = set(inspect(bind).get_table_names())
    if "store_info" not in tables:
        if tables & {"publications", "attempts"}:
            raise StoreError(
                "this database has publication tables but no schema version: it was not "
                "made by this tool. Point [database] url at a new file."
            )
        return None
    query = text("SELECT value FROM store_info WHERE key = 'schema_version'")
    if isinstance(bind, Connection):
        return int(bind.execute(query).scalar_one())
    with bind.connect() as connection:
        return int(connection.execute(query).scalar_one())


def _lock_schema(connection: Connection) -> None:
    """Hold the schema lock until the transaction ends. SQLite's ``BEGIN IMMEDIATE`` holds
    it already; PostgreSQL takes a transaction-level advisory lock."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK_KEY})


def _write_version(connection: Connection, version: int) -> None:
    connection.execute(text("DELETE FROM store_info WHERE key = 'schema_version'"))
    connection.execute(
        text("INSERT INTO store_info (key, value) VALUES ('schema_version', :v)"),
        {"v": str(version)},
    )


def _backup_sqlite(engine: Engine, version: int) -> None:
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return
    target = Path(f"{database}.schema-v{version}.bak")
    if target.exists():
        return
    raw = engine.raw_connection()
    try:
        raw.driver_connection.execute("VACUUM INTO ?", (target.as_posix(),))
    except sqlite3.OperationalError:
        if not target.exists():
            raise  # else another process opening the database has just made the same copy
    finally:
        raw.close()
