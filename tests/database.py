"""The databases the store tests run on: SQLite always, PostgreSQL when a server is given.

A test module takes the fixtures by importing them::

    from tests.database import database_url, store  # noqa: F401

(ruff's F811 then reports each test parameter of the same name as a redefinition: put
``# ruff: noqa: F811`` near the top of such a module.)

``database_url`` is parametrized over ``sqlite`` and ``postgresql``, and each test gets an
empty database of its own: a file in ``tmp_path`` for SQLite; for PostgreSQL, a new schema
in the database named by ``CAMPAIGN_TEST_POSTGRES_URL`` (its role must be allowed to create
schemas there), the only one on the URL's ``search_path``, dropped after the test. Without
that variable the PostgreSQL half is skipped on a developer's machine and fails in CI (``CI``
set), so that CI never silently tests one backend only. ``store`` is a ``Store`` open on
that database.

To run the PostgreSQL half locally (Debian's ``postgresql`` package installed)::

    source .ci/postgres-start && python -m pytest tests/test_store.py
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

from scheduler.store.store import Store

POSTGRES_ENV = "CAMPAIGN_TEST_POSTGRES_URL"
BACKENDS = ("sqlite", "postgresql")


def postgres_server_url() -> URL:
    """The server given in ``CAMPAIGN_TEST_POSTGRES_URL``; skips (fails in CI) without it."""
    value = os.environ.get(POSTGRES_ENV, "").strip()
    if not value:
        message = (
            f"{POSTGRES_ENV} is not set, so the PostgreSQL tests cannot run. Point it at a "
            "database whose role may create schemas in it, e.g. "
            f"{POSTGRES_ENV}=postgresql+psycopg://campaign@127.0.0.1:5432/campaign, or start a "
            "throwaway one with `source .ci/postgres-start` (needs Debian's postgresql "
            "package), and install the driver: pip install '.[postgres]'."
        )
        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail(f"in CI the PostgreSQL tests must run: {message}")
        pytest.skip(message)
    url = make_url(value)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url


def _postgres_database() -> Iterator[str]:
    server = postgres_server_url()
    name = f"campaign_test_{uuid.uuid4().hex[:16]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{name}"')
        try:
            # Every connection made with this URL sees the new schema only (a new database
            # per test would do as well, at five times the cost).
            url = server.update_query_dict({"options": f"-csearch_path={name}"})
            yield url.render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    finally:
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An SQLAlchemy URL of a new, empty database on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{(tmp_path / 'campaign.db').as_posix()}"
    else:
        yield from _postgres_database()


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """A store open on ``database_url`` (tables created), closed after the test."""
    opened = Store.open(database_url)
    try:
        yield opened
    finally:
        opened.close()
