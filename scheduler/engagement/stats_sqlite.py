"""`campaign stats` on a SQLite file with the sqlite3 module alone, without SQLAlchemy.

Importing SQLAlchemy and the store's models takes longer than the stats query itself, and
`campaign stats` is a command people wait for. For a SQLite database at this release's
schema version the rows are read here, with the query of
:func:`scheduler.engagement.stats_query.stats_query` written out for SQLite (the tests
check that both give the same rows for every filter and sort). Anything else — a server
database, a file that is not a store, one that an older release wrote and that must be
migrated first — is :class:`NeedsTheStore`: the caller then opens the store as every other
command does.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from campaign.tag_text import tag_patterns
from scheduler.engagement.stats_rows import (
    CAPTION_CHARS,
    COUNTS,
    StatsFilter,
    StatsRow,
    Totals,
    check_sort,
    sqlite_rows,
    sqlite_value,
)

#: The schema version this query is written for: ``scheduler.store.models.SCHEMA_VERSION``
#: (a test keeps the two equal; any other version goes through the store, which migrates).
SCHEMA_VERSION = 2
#: How long to wait for a writer (the scheduler samples while people read), in seconds.
BUSY_SECONDS = 5

_SAMPLE_ID = (
    "(SELECT id FROM samples WHERE publication_id = p.id ORDER BY taken_at DESC, id DESC "
    "LIMIT 1 OFFSET {offset})"
)


class NeedsTheStore(Exception):
    """The database cannot be read here: open it through the store instead."""


def sqlite_file(url: str) -> Path | None:
    """The file of a ``sqlite:///`` URL (as config.toml gives it: absolute), else None."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or "?" in url:
        return None
    path = url.removeprefix(prefix)
    return Path(path) if path and path != ":memory:" else None


def read_rows(database: Path, where: StatsFilter, sort: str = "published") -> list[StatsRow]:
    """The rows :func:`scheduler.engagement.stats_query.latest_rows` gives, read from the
    SQLite file ``database``; NeedsTheStore if it is not at :data:`SCHEMA_VERSION`."""
    return sqlite_rows(read_raw(database, where, sort))


def read_raw(
    database: Path, where: StatsFilter, sort: str = "published", *, labels: bool = True
) -> list[tuple[Any, ...]]:
    """The rows as the sqlite3 module gives them (:func:`sqlite_rows` makes StatsRows of
    them); ``labels=False`` leaves out the language, tags and caption (None), which a
    table does not show. NeedsTheStore if the file is not at :data:`SCHEMA_VERSION`."""
    sql, parameters = stats_sql(where, sort, labels=labels)
    with closing(_connect(database)) as connection:
        try:
            connection.execute("BEGIN")  # the version and the rows from one snapshot
            _check_version(connection)
            return connection.execute(sql, parameters).fetchall()
        except sqlite3.DatabaseError as problem:  # no such table, not a database, locked …
            raise NeedsTheStore(str(problem)) from None


def read_table(
    database: Path, where: StatsFilter, sort: str = "published", *, limit: int
) -> tuple[list[tuple[Any, ...]], Totals]:
    """What a table of the statistics shows: the first ``limit`` rows in the order of
    ``sort`` (without labels, as ``read_raw(…, labels=False)`` gives them) and the totals
    of all the rows, both from one snapshot. Reading only those is about half the work
    of reading every row; NeedsTheStore as :func:`read_raw`."""
    sql, parameters = stats_sql(where, sort, labels=False)
    total_sql, total_parameters = totals_sql(where)
    with closing(_connect(database)) as connection:
        try:
            connection.execute("BEGIN")
            _check_version(connection)
            rows = connection.execute(f"{sql} LIMIT ?", [*parameters, max(0, limit)]).fetchall()
            found = connection.execute(total_sql, total_parameters).fetchone()
        except sqlite3.DatabaseError as problem:
            raise NeedsTheStore(str(problem)) from None
    return rows, Totals(found[0], tuple(found[1:]))


def store_info(database: Path, key: str) -> str | None:
    """A ``store_info`` value of the SQLite file ``database`` (None when it has none);
    NeedsTheStore if it is not at :data:`SCHEMA_VERSION`."""
    with closing(_connect(database)) as connection:
        try:
            _check_version(connection)
            found = connection.execute(
                "SELECT value FROM store_info WHERE key = ?", (key,)
            ).fetchone()
        except sqlite3.DatabaseError as problem:
            raise NeedsTheStore(str(problem)) from None
    return None if found is None else str(found[0])


def stats_sql(
    where: StatsFilter, sort: str = "published", *, labels: bool = True
) -> tuple[str, list[object]]:
    """The stats query for SQLite and its parameters (the columns of :class:`StatsRow`;
    ``labels=False``: NULL for the language, tags and caption)."""
    check_sort(sort)
    shown = f"p.language, p.tags, {{when}}, substr(p.caption, 1, {CAPTION_CHARS})"
    if not labels:
        shown = "NULL, NULL, {when}, NULL"
    when, conditions, parameters = _conditions(where)
    counts = ", ".join(f"l.{name}, l.{name} - pr.{name}" for name in COUNTS)
    order = f"{when} DESC, p.id DESC"
    if sort != "published":
        order = f"l.{sort} DESC NULLS LAST, {order}"
    sql = (
        f"SELECT p.id, p.post_id, p.channel, {shown.format(when=when)}, "
        f"l.age_seconds, {counts}, p.account "
        "FROM publications AS p "
        f"LEFT OUTER JOIN samples AS l ON l.id = {_SAMPLE_ID.format(offset=0)} "
        f"LEFT OUTER JOIN samples AS pr ON pr.id = {_SAMPLE_ID.format(offset=1)} "
        f"WHERE {' AND '.join(conditions)} ORDER BY {order}"
    )
    return sql, parameters


def totals_sql(where: StatsFilter) -> tuple[str, list[object]]:
    """How many rows the stats query gives, and the sum of each latest count over them
    (NULL for a count no row has), and its parameters: the columns of :class:`Totals`."""
    _when, conditions, parameters = _conditions(where)
    sums = ", ".join(f"SUM(l.{name})" for name in COUNTS)
    sql = (
        f"SELECT COUNT(*), {sums} FROM publications AS p "
        f"LEFT OUTER JOIN samples AS l ON l.id = {_SAMPLE_ID.format(offset=0)} "
        f"WHERE {' AND '.join(conditions)}"
    )
    return sql, parameters


def _conditions(where: StatsFilter) -> tuple[str, list[str], list[object]]:
    """The column that dates a row, and the conditions of ``where`` with their parameters."""
    when = "p.due_at" if where.rehearsal else "p.published_at"
    conditions = ["p.state = 'published'", "p.mode = ?", "p.published_at IS NOT NULL"]
    parameters: list[object] = ["dry_run" if where.rehearsal else "live"]
    if where.channel is not None:
        conditions.append("p.channel = ?")
        parameters.append(where.channel)
    if where.account is not None:
        conditions.append("p.account = ?")
        parameters.append(where.account)
    if where.language is not None:
        conditions.append("lower(p.language) = lower(?)")
        parameters.append(where.language)
    if where.tag is not None:
        patterns = tag_patterns(where.tag)
        likes = " OR ".join(["lower(p.tags) LIKE lower(?) ESCAPE '\\'"] * len(patterns))
        conditions.append(f"({likes})")
        parameters += patterns
    start, end = where.bounds()
    if start is not None:
        conditions.append(f"{when} >= ?")
        parameters.append(sqlite_value(start))
    if end is not None:
        conditions.append(f"{when} < ?")
        parameters.append(sqlite_value(end))
    return when, conditions, parameters


def _connect(database: Path) -> sqlite3.Connection:
    if not database.is_file():
        raise NeedsTheStore(f"{database} is not there")
    try:
        return sqlite3.connect(database, timeout=BUSY_SECONDS, isolation_level=None)
    except sqlite3.Error as problem:
        raise NeedsTheStore(str(problem)) from None


def _check_version(connection: sqlite3.Connection) -> None:
    found = connection.execute(
        "SELECT value FROM store_info WHERE key = 'schema_version'"
    ).fetchone()
    if found is None or str(found[0]) != str(SCHEMA_VERSION):
        raise NeedsTheStore(f"schema version {found and found[0]}, not {SCHEMA_VERSION}")
