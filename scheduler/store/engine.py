"""Open the database: SQLite tuned for one writer at a time, or PostgreSQL.

SQLite runs in WAL mode with a busy timeout, and every writing transaction starts
with ``BEGIN IMMEDIATE`` so that two processes claiming the same publication queue
up instead of failing half-way. Reading sessions use a plain ``BEGIN`` so that a
long report never holds the write lock.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlmodel import create_engine

from campaign.setting_checks import database_url_problem
from scheduler.redaction import register_secret

BUSY_TIMEOUT_MS = 30_000
READ_ONLY = "campaign_read_only"


class StoreError(Exception):
    """The database cannot be used; the message says why and what to do (never a password)."""


def create_store_engine(url: str, *, pool_size: int | None = None) -> Engine:
    """An engine for ``url`` with this project's SQLite settings applied.

    Only a well-formed URL is taken; its password is registered with the redaction before
    anything can print it, and no message here quotes the URL (only :func:`describe_database`).
    ``pool_size``: the connections the pool keeps (SQLAlchemy's default, 5, if None).
    """
    pool = {"pool_size": pool_size} if pool_size is not None else {}
    if problem := database_url_problem(url):
        raise StoreError(f"the database URL is not well formed: {problem}.")
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise StoreError(
            "the database URL is not well formed. Write it as sqlite:///path/to/file.db or "
            "postgresql+psycopg://user:password@host:5432/database."
        ) from None
    register_database_secrets(url, parsed)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    try:
        if parsed.get_backend_name() == "sqlite":
            if parsed.database not in (None, "", ":memory:"):
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(
                parsed,
                connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "isolation_level": None},
                **(pool if parsed.database not in (None, "", ":memory:") else {}),
            )
            _tune_sqlite(engine)
        else:
            engine = create_engine(parsed, pool_pre_ping=True, hide_parameters=True, **pool)
    except OSError as problem:
        raise StoreError(
            f"[database] url: cannot create the folder for {parsed.database}: "
            f"{problem.strerror}. Choose a folder this user may write to."
        ) from None
    except (NoSuchModuleError, ImportError):
        raise StoreError(
            f"[database] url: no driver for {parsed.drivername}. For PostgreSQL, install "
            "the project with its postgres extra: pip install '.[postgres]'."
        ) from None
    return engine


def register_database_secrets(url: str, parsed: URL) -> None:
    """The whole URL, its password, and any password in its query are secrets."""
    register_secret(url)
    register_secret(parsed.password if isinstance(parsed.password, str) else None)
    for key, value in parsed.query.items():
        if key.lower() in ("password", "sslpassword"):
            for each in (value,) if isinstance(value, str) else value:
                register_secret(each)


def describe_database(url: URL | str) -> str:
    """The database in words that hold no secret: the scheme, host, port and database name
    (never the user's password, nor the query, which may hold one)."""
    try:
        parsed = url if isinstance(url, URL) else make_url(url)
    except (ArgumentError, ValueError):
        return "the database URL"
    if parsed.get_backend_name() == "sqlite":
        return f"SQLite file {parsed.database}" if parsed.database else "SQLite in memory"
    port = f":{parsed.port}" if parsed.port else ""
    host = parsed.host or "localhost"
    return f"PostgreSQL database {parsed.database or '(default)'} on {host}{port}"


def _switch_to_wal(cursor: Any) -> None:
    """Put the database in WAL mode, once. Switching needs a moment alone with the file,
    and SQLite answers "locked" at once instead of waiting when a new database is opened
    by several processes together: so wait here, up to the busy timeout."""
    if cursor.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
        return
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as problem:
            if "locked" not in str(problem) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if engine.url.database not in (None, "", ":memory:"):
            _switch_to_wal(cursor)
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")
