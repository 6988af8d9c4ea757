"""The schema version, and how an older database is brought up to date.

A fresh database gets every table and the current version. An older one is
migrated step by step (after a copy of a SQLite file is kept beside it), each step in
one transaction, so that a failure leaves the older version whole; one made by a
newer release is refused rather than damaged. The steps are in ``migrations.py``.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import DatabaseError
from sqlmodel import SQLModel

from scheduler.redaction import redact
from scheduler.store import models
from scheduler.store.engine import StoreError
from scheduler.store.migrations import MIGRATIONS

__all__ = ["MIGRATIONS", "SCHEMA_LOCK_KEY", "current_version", "prepare_schema"]

log = logging.getLogger("campaign.store")

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
        backup = _backup_sqlite(engine, found)
        for version in range(found, current_version()):
            step = MIGRATIONS.get(version)
            if step is None:
                raise StoreError(f"no migration from schema version {version}.")
            try:
                _migrate(engine, version, step)
            except (DatabaseError, sqlite3.Error, StoreError) as problem:
                raise _failed(version, problem, backup) from None
    with engine.begin() as connection:
        _lock_schema(connection)
        SQLModel.metadata.create_all(connection)
    return found


def _migrate(engine: Engine, version: int, step: Callable[[Connection], None]) -> None:
    """Take one step, unless another process has taken it meanwhile."""
    raw_step = getattr(step, "sqlite_raw", None)
    if raw_step is not None and engine.dialect.name == "sqlite":
        if not _migrate_sqlite_raw(engine, version, raw_step):
            return
    else:
        with engine.begin() as connection:
            _lock_schema(connection)
            if _stored_version(connection) != version:
                return  # another process has taken this step meanwhile
            step(connection)
            _write_version(connection, version + 1)
    log.info("the database is now at schema version %d", version + 1)


def _migrate_sqlite_raw(
    engine: Engine, version: int, step: Callable[[sqlite3.Connection], None]
) -> bool:
    """A step that rebuilds tables, on SQLite's own connection with foreign keys off;
    whether this process took it.

    SQLite checks the references to a dropped table at COMMIT even when they are
    deferred, and foreign keys can only be switched off outside a transaction, which
    SQLAlchemy would have begun. So: foreign keys off, BEGIN IMMEDIATE (the schema
    lock), look at the version again, the step, no broken reference left (else roll
    back), the new version, COMMIT. The connection is thrown away afterwards, so no
    one is ever handed a connection with foreign keys off.
    """
    raw = engine.raw_connection()
    try:
        database: sqlite3.Connection = raw.driver_connection  # type: ignore[assignment]
        database.execute("PRAGMA foreign_keys = OFF")
        if database.execute("PRAGMA foreign_keys").fetchone() != (0,):
            raise StoreError("could not switch SQLite's foreign keys off to migrate.")
        database.execute("BEGIN IMMEDIATE")
        try:
            stored = database.execute(
                "SELECT value FROM store_info WHERE key = 'schema_version'"
            ).fetchone()
            taken = stored == (str(version),)  # else another process has taken this step
            if taken:
                step(database)
                if broken := database.execute("PRAGMA foreign_key_check").fetchall():
                    raise StoreError(
                        f"migrating to schema version {version + 1} would leave "
                        f"{len(broken)} broken reference(s) (first: {broken[0]!r})."
                    )
                database.execute(
                    "UPDATE store_info SET value = ? WHERE key = 'schema_version'",
                    (str(version + 1),),
                )
            database.execute("COMMIT")
        except BaseException:
            if database.in_transaction:
                database.execute("ROLLBACK")
            raise
    finally:
        raw.invalidate()
    return taken


def _failed(version: int, problem: Exception, backup: Path | None) -> StoreError:
    """The error for a step that failed (and was rolled back)."""
    reason = problem.orig if isinstance(problem, DatabaseError) else problem
    copy = f" A copy made before is at {backup}." if backup is not None else ""
    return StoreError(
        f"could not migrate the database from schema version {version} to "
        f"{version + 1}: {redact(str(reason))}. Nothing was changed: it is still at "
        f"version {version}, and this release cannot use it until the migration "
        f"succeeds.{copy} Run the command again; if it fails the same way, report "
        "this message."
    )


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


def _backup_sqlite(engine: Engine, version: int) -> Path | None:
    """Keep a copy of a SQLite file as it is right before migrating; its path.

    The copy is written beside the target under a name of this process's own and put in
    place only once whole and readable at ``version``: a copy cut short (a full disk) is
    never taken for one, nor is an older copy left from an earlier upgrade (with the
    previous release run again since, it lacks what was published meanwhile).
    """
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    target = Path(f"{database}.schema-v{version}.bak")
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
    partial.unlink(missing_ok=True)
    raw = engine.raw_connection()
    try:
        raw.driver_connection.execute("VACUUM INTO ?", (partial.as_posix(),))  # type: ignore[union-attr]
    except sqlite3.Error as problem:
        partial.unlink(missing_ok=True)
        if _is_copy(target, version):
            return target  # another process migrating it at once has just made its copy
        raise StoreError(
            f"could not keep a copy of the database at {target} before migrating it from "
            f"schema version {version} to {current_version()}: {problem}. Nothing was "
            f"changed: it is still at version {version}. Make room there (or let this user "
            "write in that folder), then run the command again."
        ) from None
    finally:
        raw.close()
    try:
        if not _is_copy(partial, version):
            return target if _is_copy(target, version) else None  # migrated meanwhile
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    log.warning(
        "kept a copy of the schema version %d database at %s before migrating it to version %d",
        version,
        target,
        current_version(),
    )
    return target


def _is_copy(path: Path, version: int) -> bool:
    """Whether ``path`` is a whole SQLite database at schema ``version``."""
    if not path.is_file():
        return False
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as copy:
            if copy.execute("PRAGMA quick_check").fetchall() != [("ok",)]:
                return False
            stored = copy.execute(
                "SELECT value FROM store_info WHERE key = 'schema_version'"
            ).fetchone()
    except sqlite3.Error:
        return False
    return stored == (str(version),)
