"""The tables. Every instant is stored in UTC and read back as an aware datetime.

A publication is one (post, account) pair and its state; its ``channel`` is the
account's platform (facebook or instagram). An attempt is one try at it; a channel
state remembers an account's pause (login broken) or cool-down (rate limit); an
alert is something a human must hear about; a lease says which scheduler is active.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import DateTime, Index, String, Text, UniqueConstraint, event
from sqlalchemy.types import TypeDecorator
from sqlmodel import Column, Field, SQLModel

#: 2: publications keyed by (post, account, mode); alerts.account; channel_states keyed by
#: account; the leases table.
SCHEMA_VERSION = 2


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("the store only takes aware datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _utc_column(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


class State(StrEnum):
    """Where a publication is. Only ``scheduled`` (and, by hand, ``failed``, ``missed`` or
    ``past``) may be claimed.

    ``missed``: it was on time when the scheduler first saw it, then could not go out in
    time (the scheduler was down or held up): a human is told. ``past``: it was already
    past (beyond the grace) when the scheduler first saw it: never sent, told once in a
    summary. ``done`` and ``skipped`` are a human's decision (`campaign settle`): it went
    out another way, or it is not to go out; the daemon never takes them up again.
    """

    SCHEDULED = "scheduled"
    PUBLISHING = "publishing"
    PUBLISHED = "published"
    FAILED = "failed"
    UNKNOWN = "unknown"
    MISSED = "missed"
    PAST = "past"
    DONE = "done"
    SKIPPED = "skipped"


#: A human's decisions (`campaign settle --done / --skip`): final, never claimed again.
SETTLED = (State.DONE, State.SKIPPED)


class Mode(StrEnum):
    """Whether a publication goes to the platform or to the dry-run outbox."""

    LIVE = "live"
    DRY_RUN = "dry_run"


class Publication(SQLModel, table=True):
    """One post on one account: what was sent, where it is, how it went.

    ``channel`` is the platform (facebook | instagram) and ``account`` the account it goes
    to; a platform's default account is named as the platform, so for it the two are equal.
    """

    __tablename__ = "publications"
    __table_args__ = (
        UniqueConstraint("post_id", "account", "mode", name="uq_publication_post_account_mode"),
        Index("ix_publications_state_next", "state", "next_attempt_at"),
        # `campaign stats` and reports: the live published ones, newest first, no sorting.
        Index("ix_publications_published", "state", "mode", "published_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    post_id: str = Field(max_length=200)
    channel: str = Field(max_length=20)
    mode: str = Field(default=Mode.LIVE.value, max_length=10)
    #: From the post file, for reports: its language and its tags as ",tag1,tag2,".
    language: str | None = Field(default=None, max_length=20)
    tags: str | None = Field(default=None, max_length=500)
    state: str = Field(default=State.SCHEDULED.value, max_length=20)
    due_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    next_attempt_at: datetime | None = _utc_column()
    attempt_count: int = 0
    #: The content digest of the post when it was claimed (caption, alt texts, images).
    fingerprint: str | None = Field(default=None, max_length=64)
    #: Exactly what was sent: the caption, and the renditions with their alt texts (JSON).
    caption: str | None = Field(default=None, sa_column=Column(Text))
    media_json: str | None = Field(default=None, sa_column=Column(Text))
    link: str | None = Field(default=None, sa_column=Column(Text))
    first_comment: str | None = Field(default=None, sa_column=Column(Text))
    remote_id: str | None = Field(default=None, max_length=200)
    url: str | None = Field(default=None, sa_column=Column(Text))
    claimed_at: datetime | None = _utc_column()
    claimed_by: str | None = Field(default=None, max_length=200)
    published_at: datetime | None = _utc_column()
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    warnings: str | None = Field(default=None, sa_column=Column(Text))
    #: Why its engagement is no longer read (e.g. the post was deleted on the platform).
    sampling_stopped: str | None = Field(default=None, sa_column=Column(Text))
    updated_at: datetime | None = _utc_column()
    #: The account (schema version 2). Last, as PostgreSQL's ADD COLUMN puts it in a
    #: migrated database. Left out, it is the channel (see ``_account_defaults_to_channel``).
    account: str = Field(default=None, sa_column=Column(String(64), nullable=False))


@event.listens_for(Publication, "before_insert")
def _account_defaults_to_channel(_mapper: Any, _connection: Any, target: Publication) -> None:
    """A row made without an account is for the channel's default account."""
    if target.account is None:
        target.account = target.channel


class Attempt(SQLModel, table=True):
    """One try at a publication, or one reconciliation of it."""

    __tablename__ = "attempts"

    id: int | None = Field(default=None, primary_key=True)
    publication_id: int = Field(foreign_key="publications.id", index=True)
    kind: str = Field(default="publish", max_length=20)  # publish | reconcile | settle
    started_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    finished_at: datetime | None = _utc_column()
    #: published | retry | failed | unknown | found | not_found | abandoned; for a
    #: ``settle`` (a human's decision): done | skipped, ``message`` its reason.
    outcome: str | None = Field(default=None, max_length=20)
    error_class: str | None = Field(default=None, max_length=20)
    platform_code: str | None = Field(default=None, max_length=40)
    platform_subcode: str | None = Field(default=None, max_length=40)
    message: str | None = Field(default=None, sa_column=Column(Text))
    claimed_by: str | None = Field(default=None, max_length=200)


class ChannelState(SQLModel, table=True):
    """An account's pause (login broken, needs a human) or cool-down (rate limit).

    The key column keeps its name ``channel`` but holds the **account** name (schema
    version 2); a platform's default account is named as the platform, so the rows of
    version 1 ("facebook", "instagram") mean the same.
    """

    __tablename__ = "channel_states"

    channel: str = Field(primary_key=True, max_length=64)
    paused_reason: str | None = Field(default=None, sa_column=Column(Text))
    paused_at: datetime | None = _utc_column()
    last_auth_check_at: datetime | None = _utc_column()
    cooldown_until: datetime | None = _utc_column()
    cooldown_reason: str | None = Field(default=None, sa_column=Column(Text))


class Alert(SQLModel, table=True):
    """Something a human must hear about; ``key`` de-duplicates repeats."""

    __tablename__ = "alerts"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=300, index=True)
    kind: str = Field(max_length=40)  # failed | paused | unknown | missed | edited
    channel: str | None = Field(default=None, max_length=20)
    post_id: str | None = Field(default=None, max_length=200)
    message: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    delivered_at: datetime | None = _utc_column()
    #: The account it is about (schema version 2); ``channel`` is then its platform.
    account: str | None = Field(default=None, max_length=64)


class Heartbeat(SQLModel, table=True):
    """The daemon's sign of life: who runs, since when, last seen, what comes next."""

    __tablename__ = "heartbeats"

    name: str = Field(primary_key=True, max_length=40)
    holder: str = Field(max_length=200)
    mode: str = Field(max_length=20)
    started_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    beat_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    stopped_at: datetime | None = _utc_column()
    next_due_at: datetime | None = _utc_column()
    jobs: int = 0


class Lease(SQLModel, table=True):
    """Which scheduler is active: its holder and an epoch that grows with every takeover.

    The times come from the database's clock, never from a host's, so that two machines
    whose clocks differ still agree on a lease's age.
    """

    __tablename__ = "leases"

    name: str = Field(primary_key=True, max_length=40)
    holder: str = Field(max_length=200)
    epoch: int
    #: The PostgreSQL backend that holds the scheduler lock for the holder (None on SQLite).
    backend_pid: int | None = None
    acquired_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    renewed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Sample(SQLModel, table=True):
    """A published post's engagement counts at one age: aggregate numbers only, never who.

    ``age_seconds`` is the real age when taken; ``target_age_seconds`` the age it was for
    (they differ when the scheduler was down). A count is None where the platform gives none.
    """

    __tablename__ = "samples"
    __table_args__ = (
        UniqueConstraint("publication_id", "target_age_seconds", name="uq_sample_age"),
        # The latest and previous sample of a publication: two index entries, never a scan
        # (the id makes the order total; SQLite has it in every index anyway).
        Index("ix_samples_publication_taken", "publication_id", "taken_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    publication_id: int = Field(foreign_key="publications.id")
    taken_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    age_seconds: int
    target_age_seconds: int
    reactions: int | None = None
    comments: int | None = None
    shares: int | None = None
    saves: int | None = None
    views: int | None = None
    reach: int | None = None
    clicks: int | None = None
    raw_json: str | None = Field(default=None, sa_column=Column(Text))


class StoreInfo(SQLModel, table=True):
    """Facts about the database itself, such as its schema version."""

    __tablename__ = "store_info"

    key: str = Field(primary_key=True, max_length=40)
    value: str = Field(max_length=200)
