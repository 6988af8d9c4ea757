"""The schema version, and the steps that bring an older database up to date.

A fresh database gets every table and the current version. An older one is
migrated step by step (after a copy of a SQLite file is kept beside it); one made
by a newer release is refused rather than damaged.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Connection, Engine, inspect, text
from sqlmodel import SQLModel

from scheduler.store import models
from scheduler.store.engine import StoreError

#: MIGRATIONS[n] turns a version-n database into version n+1.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {}


def current_version() -> int:
    return models.SCHEMA_VERSION


def prepare_schema(engine: Engine) -> int:
    """Create or migrate the tables; returns the version the database had before."""
    tables = set(inspect(engine).get_table_names())
    if "store_info" not in tables:
        if tables & {"publications", "attempts"}:
            raise StoreError(
                "this database has publication tables but no schema version: it was not "
                "made by this tool. Point [database] url at a new file."
            )
        SQLModel.metadata.create_all(engine)
        with engine.begin() as connection:
            _write_version(connection, current_version())
        return current_version()
    with engine.connect() as connection:
        found = int(
            connection.execute(
                text("SELECT value FROM store_info WHERE key = 'schema_version'")
            ).scalar_one()
        )
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
                step(connection)
                _write_version(connection, version + 1)
    SQLModel.metadata.create_all(engine)
    return found


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
    finally:
        raw.close()
