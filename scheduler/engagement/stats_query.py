"""The data behind `campaign stats`: each live published post's latest counts and growth.

One query does the work in the database. For every publication that matches the filter it
picks the latest sample and the one before it with two index look-ups on
``ix_samples_publication_taken`` (publication_id, taken_at), never a scan of all samples;
the growth of each count is ``latest − previous``, computed in SQL, so it is NULL when
either sample lacks that count or there is no previous sample. On SQLite the look-ups are
correlated subqueries in the join conditions; PostgreSQL gets the same as LATERAL joins,
which its planner runs as one index scan per publication. The filter and the rows are
:mod:`scheduler.engagement.stats_rows`' (imported from here as well).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, FromClause, Select, and_, func, literal, or_, select, true

from campaign.tag_text import split_tags, tag_patterns
from scheduler.engagement.stats_rows import (
    CAPTION_CHARS,
    CHANNEL_NAMES,
    COUNTS,
    DATE_FORMAT,
    SORT_KEYS,
    StatsFilter,
    StatsRow,
    check_sort,
    first_line,
    parse_day,
    sqlite_rows,
    sqlite_value,
)
from scheduler.store.models import Mode, Publication, Sample, State
from scheduler.store.store import Store

__all__ = [
    "CAPTION_CHARS",
    "CHANNEL_NAMES",
    "COUNTS",
    "DATE_FORMAT",
    "SORT_KEYS",
    "StatsFilter",
    "StatsRow",
    "check_sort",
    "first_line",
    "latest_rows",
    "parse_day",
    "stats_query",
]

_PUBLICATIONS: Any = Publication.__table__  # type: ignore[attr-defined]
_SAMPLES: Any = Sample.__table__  # type: ignore[attr-defined]


def stats_query(dialect: str, where: StatsFilter, sort: str = "published") -> Select[Any]:
    """The SELECT that :func:`latest_rows` sends, for ``dialect`` ("sqlite", "postgresql").

    Its columns are those of :class:`StatsRow`, in order (tags and caption as stored).
    """
    check_sort(sort)
    p = _PUBLICATIONS
    latest, previous = _sample_picks(p, dialect)
    when = _when(where)
    columns: list[Any] = [
        p.c.id,
        p.c.post_id,
        p.c.channel,
        p.c.language,
        p.c.tags,
        when,
        # Only the start is shown (its first line): fetching whole captions costs time.
        func.substr(p.c.caption, 1, CAPTION_CHARS).label("caption"),
        latest.c.age_seconds,
    ]
    for name in COUNTS:
        columns += [latest.c[name], (latest.c[name] - previous.c[name]).label(f"{name}_growth")]
    columns.append(p.c.account)
    if dialect == "postgresql":
        joined = p.outerjoin(latest, true()).outerjoin(previous, true())
    else:
        joined = p.outerjoin(latest, latest.c.id == _pick_id(p, 0)).outerjoin(
            previous, previous.c.id == _pick_id(p, 1)
        )
    newest = (when.desc(), p.c.id.desc())
    order = newest if sort == "published" else (latest.c[sort].desc().nulls_last(), *newest)
    return select(*columns).select_from(joined).where(*_conditions(where)).order_by(*order)


def latest_rows(
    store: Store, where: StatsFilter | None = None, sort: str = "published"
) -> list[StatsRow]:
    """One row per live published publication that matches ``where``, sorted by ``sort``:
    ``published`` (newest first) or a count (highest first, posts without it last).

    ValueError if ``sort`` is not one of :data:`SORT_KEYS`.
    """
    query = stats_query(store.engine.dialect.name, where or StatsFilter(), sort)
    if store.engine.dialect.name == "sqlite":
        return sqlite_rows(_sqlite_rows(store, query))
    make = StatsRow._make
    with store.reading() as session:
        result = session.execute(query).all()
    return [
        make((*item[:4], split_tags(item[4]), item[5], first_line(item[6]), *item[7:]))
        for item in result
    ]


def _sqlite_rows(store: Store, query: Select[Any]) -> list[tuple[Any, ...]]:
    """The rows straight from the sqlite3 driver: the query asks only for plain values, and
    SQLAlchemy's per-row result processing would cost a third of the time."""
    compiled = query.compile(dialect=store.engine.dialect)
    params = [sqlite_value(compiled.params[name]) for name in compiled.positiontup or ()]
    raw = store.engine.raw_connection()
    try:
        return raw.driver_connection.execute(str(compiled), params).fetchall()  # type: ignore[union-attr]
    finally:
        raw.close()


def _pick_id(p: Any, offset: int) -> ColumnElement[Any]:
    """The id of the publication's newest sample (offset 0) or the one before (1): a
    correlated subquery that reads at most two entries of (publication_id, taken_at)."""
    s = _SAMPLES.alias(f"pick{offset}")
    return (
        select(s.c.id)
        .where(s.c.publication_id == p.c.id)
        .order_by(s.c.taken_at.desc(), s.c.id.desc())
        .limit(1)
        .offset(offset or None)
        .scalar_subquery()
    )


def _sample_picks(p: Any, dialect: str) -> tuple[FromClause, FromClause]:
    """The latest and the previous sample as FROM items (LATERAL on PostgreSQL)."""
    if dialect != "postgresql":
        return _SAMPLES.alias("latest"), _SAMPLES.alias("previous")
    picks = []
    for offset, name in ((0, "latest"), (1, "previous")):
        s = _SAMPLES.alias(f"{name}_sample")
        picks.append(
            select(s)
            .where(s.c.publication_id == p.c.id)
            .order_by(s.c.taken_at.desc(), s.c.id.desc())
            .limit(1)
            .offset(offset or None)
            .lateral(name)
        )
    return picks[0], picks[1]


def _when(where: StatsFilter) -> Any:
    """The column a publication is dated by: when it went online, or, in a rehearsal, its
    campaign time."""
    return _PUBLICATIONS.c.due_at if where.rehearsal else _PUBLICATIONS.c.published_at


def _conditions(where: StatsFilter) -> list[ColumnElement[bool]]:
    p = _PUBLICATIONS
    mode = Mode.DRY_RUN if where.rehearsal else Mode.LIVE
    conditions: list[ColumnElement[bool]] = [
        p.c.state == State.PUBLISHED.value,
        p.c.mode == mode.value,
        p.c.published_at.is_not(None),
    ]
    if where.channel is not None:
        conditions.append(p.c.channel == where.channel)
    if where.account is not None:
        conditions.append(p.c.account == where.account)
    if where.language is not None:
        conditions.append(func.lower(p.c.language) == func.lower(literal(where.language)))
    if where.tag is not None:
        # Stored as ",a,b,": a whole tag is ",tag,"; case is ignored the database's way.
        tags = func.lower(p.c.tags)
        matches = [
            tags.like(func.lower(literal(pattern)), escape="\\")
            for pattern in tag_patterns(where.tag)
        ]
        conditions.append(or_(*matches))
    start, end = where.bounds()
    if start is not None:
        conditions.append(_when(where) >= start)
    if end is not None:
        conditions.append(_when(where) < end)
    return [and_(*conditions)]
