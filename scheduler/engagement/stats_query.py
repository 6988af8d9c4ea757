"""The data behind `campaign stats`: each live published post's latest counts and growth.

One query does the work in the database. For every publication that matches the filter it
picks the latest sample and the one before it with two index look-ups on
``ix_samples_publication_taken`` (publication_id, taken_at), never a scan of all samples;
the growth of each count is ``latest − previous``, computed in SQL, so it is NULL when
either sample lacks that count or there is no previous sample. On SQLite the look-ups are
correlated subqueries in the join conditions; PostgreSQL gets the same as LATERAL joins,
which its planner runs as one index scan per publication.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, FromClause, Select, and_, func, literal, or_, select, true

from campaign.tag_text import split_tags, tag_patterns
from scheduler.store.models import Mode, Publication, Sample, State
from scheduler.store.store import Store

#: The counts a sample holds, in the order they are shown.
COUNTS: tuple[str, ...] = ("reactions", "comments", "shares", "saves", "views", "reach", "clicks")
#: What ``--sort`` accepts: newest first, or a count, highest first.
SORT_KEYS: tuple[str, ...] = ("published", *COUNTS)
CHANNEL_NAMES: tuple[str, ...] = ("facebook", "instagram")
DATE_FORMAT = "YYYY-MM-DD"
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")

_PUBLICATIONS: Any = Publication.__table__  # type: ignore[attr-defined]
_SAMPLES: Any = Sample.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class StatsFilter:
    """Which publications to show. Dates are days in the campaign's zone, both inclusive;
    ``channel`` is a platform, ``account`` one account (a default one is named like its
    platform)."""

    channel: str | None = None
    tag: str | None = None
    language: str | None = None
    since: date | None = None
    until: date | None = None
    zone: tzinfo = UTC
    account: str | None = None

    @classmethod
    def parse(
        cls,
        *,
        channel: str | None = None,
        tag: str | None = None,
        language: str | None = None,
        since: str | None = None,
        until: str | None = None,
        zone: tzinfo = UTC,
        account: str | None = None,
    ) -> StatsFilter:
        """A filter from command-line texts; ValueError with a readable message if one is bad."""
        if channel is not None and channel not in CHANNEL_NAMES:
            raise ValueError(
                f"--channel {channel!r} is not a channel: use {' or '.join(CHANNEL_NAMES)}."
            )
        first = parse_day(since, "--since")
        last = parse_day(until, "--until")
        if first is not None and last is not None and first > last:
            raise ValueError(f"--since {first} is after --until {last}: no day is in between.")
        return cls(
            channel=channel,
            tag=tag.strip() if tag and tag.strip() else None,
            language=language.strip() if language and language.strip() else None,
            since=first,
            until=last,
            zone=zone,
            account=account.strip() if account and account.strip() else None,
        )

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        """The UTC instants [start, end) of the days since … until in the campaign's zone."""
        start = end = None
        if self.since is not None:
            start = datetime.combine(self.since, time(0), self.zone).astimezone(UTC)
        if self.until is not None:
            next_day = self.until + timedelta(days=1)
            end = datetime.combine(next_day, time(0), self.zone).astimezone(UTC)
        return start, end


def parse_day(text: str | None, option: str) -> date | None:
    """``YYYY-MM-DD`` as a date (None stays None); ValueError naming the option otherwise."""
    if text is None or not text.strip():
        return None
    try:
        if not _DAY.fullmatch(text.strip()):
            raise ValueError(text)  # fromisoformat would also take 20210915 and 2021-W37-3
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{option} {text!r} is not a date: write it as {DATE_FORMAT}, like 2021-09-15."
        ) from None


def check_sort(sort: str) -> str:
    """``sort`` if it is a sort key; ValueError naming the valid ones otherwise."""
    if sort not in SORT_KEYS:
        raise ValueError(f"--sort {sort!r} is not known: use one of {', '.join(SORT_KEYS)}.")
    return sort


class StatsRow(NamedTuple):
    """One live published post on one account: its latest sample's counts and each count's
    growth since the sample before (None where there is no count, or nothing to compare).

    A named tuple, so that ten thousand rows are cheap to make; ``counts`` and ``growth``
    give the same numbers by count name. ``channel`` is the platform, ``account`` the
    account (last, so that "" — the platform's default account — may be left out).
    """

    publication_id: int
    post_id: str
    channel: str
    language: str | None
    tags: tuple[str, ...]
    #: When it went online (UTC).
    published_at: datetime
    #: The first line of the caption as sent.
    caption: str
    #: The latest sample's real age in seconds; None while it has no sample.
    age_seconds: int | None
    reactions: int | None
    reactions_growth: int | None
    comments: int | None
    comments_growth: int | None
    shares: int | None
    shares_growth: int | None
    saves: int | None
    saves_growth: int | None
    views: int | None
    views_growth: int | None
    reach: int | None
    reach_growth: int | None
    clicks: int | None
    clicks_growth: int | None
    account: str = ""

    @property
    def age_hours(self) -> float | None:
        return None if self.age_seconds is None else self.age_seconds / 3600

    @property
    def account_name(self) -> str:
        """The account (the platform's name for its default account)."""
        return self.account or self.channel

    @property
    def numbers(self) -> tuple[int | None, ...]:
        """Each count followed by its growth, in the order of :data:`COUNTS`."""
        return self[_FIRST_COUNT:_END_COUNT]

    @property
    def counts(self) -> dict[str, int | None]:
        """Count name → the latest sample's count."""
        return dict(zip(COUNTS, self[_FIRST_COUNT:_END_COUNT:2], strict=True))

    @property
    def growth(self) -> dict[str, int | None]:
        """Count name → growth since the previous sample."""
        return dict(zip(COUNTS, self[_FIRST_COUNT + 1 : _END_COUNT : 2], strict=True))


#: How much of a caption the stats read: enough for its first line in a table or CSV.
CAPTION_CHARS = 300

#: Where the counts start and end in a StatsRow (each count is followed by its growth).
_FIRST_COUNT = 8
_END_COUNT = _FIRST_COUNT + 2 * len(COUNTS)


def stats_query(dialect: str, where: StatsFilter, sort: str = "published") -> Select[Any]:
    """The SELECT that :func:`latest_rows` sends, for ``dialect`` ("sqlite", "postgresql").

    Its columns are those of :class:`StatsRow`, in order (tags and caption as stored).
    """
    check_sort(sort)
    p = _PUBLICATIONS
    latest, previous = _sample_picks(p, dialect)
    columns: list[Any] = [
        p.c.id,
        p.c.post_id,
        p.c.channel,
        p.c.language,
        p.c.tags,
        p.c.published_at,
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
    newest = (p.c.published_at.desc(), p.c.id.desc())
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
    make = StatsRow._make
    if store.engine.dialect.name == "sqlite":
        return [
            make((*item[:4], split_tags(item[4]), _utc(item[5]), first_line(item[6]), *item[7:]))
            for item in _sqlite_rows(store, query)
        ]
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
    params = [_sqlite_value(compiled.params[name]) for name in compiled.positiontup or ()]
    raw = store.engine.raw_connection()
    try:
        return raw.driver_connection.execute(str(compiled), params).fetchall()  # type: ignore[union-attr]
    finally:
        raw.close()


def _sqlite_value(value: Any) -> Any:
    """A bound value as the store's UTC type writes it to SQLite (naive UTC ISO text)."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def _utc(stored: str | None) -> datetime | None:
    """A UTC time as SQLite keeps it (naive ISO text), aware."""
    return datetime.fromisoformat(stored).replace(tzinfo=UTC) if stored else None


def first_line(caption: str | None) -> str:
    """The first line of a caption that has text, without surrounding spaces."""
    if not caption:
        return ""
    line = caption.partition("\n")[0].strip()
    if line:
        return line
    return next((line.strip() for line in caption.splitlines() if line.strip()), "")


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


def _conditions(where: StatsFilter) -> list[ColumnElement[bool]]:
    p = _PUBLICATIONS
    conditions: list[ColumnElement[bool]] = [
        p.c.state == State.PUBLISHED.value,
        p.c.mode == Mode.LIVE.value,
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
        conditions.append(p.c.published_at >= start)
    if end is not None:
        conditions.append(p.c.published_at < end)
    return [and_(*conditions)]
