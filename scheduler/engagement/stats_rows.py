"""What `campaign stats` shows, without any database: the filter, the row, the sort keys.

Kept apart from the query (:mod:`scheduler.engagement.stats_query`, which needs
SQLAlchemy) so that reading the rows straight from a SQLite file
(:mod:`scheduler.engagement.stats_sqlite`) starts as fast as Python does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, NamedTuple

from campaign.tag_text import split_tags

#: The counts a sample holds, in the order they are shown.
COUNTS: tuple[str, ...] = ("reactions", "comments", "shares", "saves", "views", "reach", "clicks")
#: What ``--sort`` accepts: newest first, or a count, highest first.
SORT_KEYS: tuple[str, ...] = ("published", *COUNTS)
CHANNEL_NAMES: tuple[str, ...] = ("facebook", "instagram")
DATE_FORMAT = "YYYY-MM-DD"
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class StatsFilter:
    """Which publications to show. Dates are days in the campaign's zone, both inclusive;
    ``channel`` is a platform, ``account`` one account (a default one is named like its
    platform).

    ``rehearsal``: a rehearsal's publications (its dry runs) instead of the live ones, each
    dated by its campaign time (when it is due), not by the moment the rehearsal sent it.
    """

    channel: str | None = None
    tag: str | None = None
    language: str | None = None
    since: date | None = None
    until: date | None = None
    zone: tzinfo = UTC
    account: str | None = None
    rehearsal: bool = False

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
        rehearsal: bool = False,
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
            rehearsal=rehearsal,
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


class Totals(NamedTuple):
    """How many rows the statistics have, and the sum of each count over them in the
    order of :data:`COUNTS` (None for a count that no row has)."""

    publications: int
    sums: tuple[int | None, ...]

    @classmethod
    def of(cls, rows: Sequence[Sequence[Any]]) -> Totals:
        """The totals of ``rows``: StatsRows, or tuples in their layout."""
        sums = []
        for column in range(_FIRST_COUNT, _END_COUNT, 2):
            values = [value for row in rows if (value := row[column]) is not None]
            sums.append(sum(values) if values else None)
        return cls(len(rows), tuple(sums))


#: How much of a caption the stats read: enough for its first line in a table or CSV.
CAPTION_CHARS = 300

#: Where the counts start and end in a StatsRow (each count is followed by its growth).
_FIRST_COUNT = 8
_END_COUNT = _FIRST_COUNT + 2 * len(COUNTS)


def sqlite_rows(items: Iterable[Sequence[Any]]) -> list[StatsRow]:
    """Rows from the columns of the stats query as the sqlite3 module gives them (tags and
    caption as stored, times as text)."""
    make = StatsRow._make
    return [
        make((*item[:4], split_tags(item[4]), _utc(item[5]), first_line(item[6]), *item[7:]))
        for item in items
    ]


def sqlite_value(value: Any) -> Any:
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
