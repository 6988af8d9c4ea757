"""The store's operations: every state change of a publication is one transaction.

The claim is a compare-and-set (``UPDATE … WHERE state = 'scheduled'``) inside a
writing transaction, so of two processes that race for one publication exactly
one wins, on SQLite and PostgreSQL alike. Every text written here is redacted.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, update
from sqlalchemy.exc import DatabaseError, IntegrityError
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from scheduler.redaction import redact
from scheduler.store.engine import READ_ONLY, StoreError, create_store_engine
from scheduler.store.models import (
    Alert,
    Attempt,
    ChannelState,
    Heartbeat,
    Mode,
    Publication,
    Sample,
    State,
)
from scheduler.store.schema import prepare_schema

DAEMON = "daemon"


@dataclass(frozen=True)
class Claim:
    """A publication this process now owns, and the attempt row that records the try."""

    publication_id: int
    attempt_id: int
    attempt_number: int


class Store:
    """Publications, attempts, channel states and alerts, over one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._read_engine = engine.execution_options(**{READ_ONLY: True})

    @classmethod
    def open(cls, url: str) -> Store:
        """Connect to ``url`` and create or migrate the tables."""
        engine = create_store_engine(url)
        try:
            prepare_schema(engine)
        except DatabaseError as problem:  # OperationalError too: locked, unreadable, not SQLite
            engine.dispose()
            raise StoreError(
                f"cannot open the database ({engine.url.render_as_string(hide_password=True)}): "
                f"{problem.orig}. Check [database] url, that the server runs and that this "
                "user may write there."
            ) from None
        except BaseException:
            engine.dispose()  # a refused database keeps no connection open
            raise
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A session whose transaction holds the write lock from its start (SQLite)."""
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        with Session(self._read_engine, expire_on_commit=False) as session:
            yield session

    # Publications -----------------------------------------------------------------

    def get(self, post_id: str, channel: str, mode: Mode = Mode.LIVE) -> Publication | None:
        with self.reading() as session:
            return session.exec(_one_publication(post_id, channel, mode)).first()

    def get_by_id(self, publication_id: int) -> Publication:
        with self.reading() as session:
            found = session.get(Publication, publication_id)
            if found is None:
                raise KeyError(publication_id)
            return found

    def publications(self, states: Sequence[State] | None = None) -> list[Publication]:
        with self.reading() as session:
            query = select(Publication).order_by(col(Publication.due_at), col(Publication.id))
            if states is not None:
                query = query.where(col(Publication.state).in_([s.value for s in states]))
            return list(session.exec(query))

    def attempts(self, publication_id: int) -> list[Attempt]:
        with self.reading() as session:
            return list(
                session.exec(
                    select(Attempt)
                    .where(Attempt.publication_id == publication_id)
                    .order_by(col(Attempt.id))
                )
            )

    def ensure_publication(
        self,
        post_id: str,
        channel: str,
        due_at: datetime,
        now: datetime,
        mode: Mode = Mode.LIVE,
        *,
        language: str | None = None,
        tags: tuple[str, ...] = (),
    ) -> Publication:
        """The row for (post, channel, mode), created as scheduled, its due time kept current.

        Only a ``scheduled`` row that has never been tried moves with the post file;
        a row that has been tried keeps the time it was tried for. Dry runs have rows of
        their own, so a rehearsal never uses up the real publication.
        """
        labels = (language, tags_text(tags))
        try:
            return self._ensure_publication(post_id, channel, due_at, now, mode, labels)
        except IntegrityError:
            # Another process inserted this (post, channel) between our look and our insert
            # (PostgreSQL; on SQLite, BEGIN IMMEDIATE rules that out): the row exists now.
            return self._ensure_publication(post_id, channel, due_at, now, mode, labels)

    def _ensure_publication(
        self,
        post_id: str,
        channel: str,
        due_at: datetime,
        now: datetime,
        mode: Mode,
        labels: tuple[str | None, str | None],
    ) -> Publication:
        with self.writing() as session:
            row = session.exec(_one_publication(post_id, channel, mode)).first()
            if row is None:
                row = Publication(
                    post_id=post_id,
                    channel=channel,
                    mode=mode.value,
                    due_at=due_at.astimezone(UTC) if due_at.tzinfo else due_at,
                    updated_at=now,
                )
                session.add(row)
            elif row.state == State.SCHEDULED and row.attempt_count == 0 and row.due_at != due_at:
                row.due_at = due_at
                row.updated_at = now
            if labels[0] is not None and (row.language, row.tags) != labels:
                row.language, row.tags = labels
            session.flush()
            return row

    def forget_untried(self, post_id: str, channel: str, mode: Mode = Mode.LIVE) -> bool:
        """Delete a publication that was never tried (its post was deleted or turned draft);
        one with any history is kept."""
        with self.writing() as session:
            row = session.exec(_one_publication(post_id, channel, mode)).first()
            if row is None or row.state != State.SCHEDULED or row.attempt_count != 0:
                return False
            if session.exec(select(Attempt).where(Attempt.publication_id == row.id)).first():
                return False
            session.delete(row)
            return True

    def claim(
        self,
        publication_id: int,
        *,
        now: datetime,
        claimed_by: str,
        fingerprint: str,
        caption: str,
        media_json: str,
        link: str | None,
        first_comment: str | None,
        from_states: Sequence[State] = (State.SCHEDULED,),
    ) -> Claim | None:
        """Take the publication for one try, or None when another process has it or it
        is not claimable (published, unknown, not yet due for its retry)."""
        with self.writing() as session:
            changed = session.execute(
                update(Publication)
                .where(
                    col(Publication.id) == publication_id,
                    col(Publication.state).in_([s.value for s in from_states]),
                    (col(Publication.next_attempt_at).is_(None))
                    | (col(Publication.next_attempt_at) <= now),
                )
                .values(
                    state=State.PUBLISHING.value,
                    claimed_at=now,
                    claimed_by=claimed_by,
                    attempt_count=Publication.attempt_count + 1,  # type: ignore[operator]
                    fingerprint=fingerprint,
                    caption=redact(caption),
                    media_json=redact(media_json),
                    link=redact(link),
                    first_comment=redact(first_comment),
                    next_attempt_at=None,
                    updated_at=now,
                )
            )
            if changed.rowcount != 1:  # type: ignore[attr-defined]
                return None
            row = session.get(Publication, publication_id)
            assert row is not None
            attempt = Attempt(
                publication_id=publication_id,
                started_at=now,
                claimed_by=claimed_by,
            )
            session.add(attempt)
            session.flush()
            assert attempt.id is not None
            return Claim(publication_id, attempt.id, row.attempt_count)

    def finish(
        self,
        claim_or_attempt: Claim | int,
        publication_id: int,
        *,
        now: datetime,
        state: State,
        outcome: str,
        error_class: str | None = None,
        code: str | None = None,
        subcode: str | None = None,
        message: str | None = None,
        next_attempt_at: datetime | None = None,
        remote_id: str | None = None,
        url: str | None = None,
        warnings: str | None = None,
        expect_state: State = State.PUBLISHING,
        refund_attempt: bool = False,
    ) -> bool:
        """Record how a try (or reconciliation) ended and move the publication on.

        Only moves a publication that is still in ``expect_state``; returns whether it did.
        """
        attempt_id = (
            claim_or_attempt.attempt_id
            if isinstance(claim_or_attempt, Claim)
            else (claim_or_attempt)
        )
        with self.writing() as session:
            row = session.get(Publication, publication_id)
            if row is None or row.state != expect_state.value:
                return False
            row.state = state.value
            row.next_attempt_at = next_attempt_at
            row.updated_at = now
            if refund_attempt and row.attempt_count > 0:
                row.attempt_count -= 1  # a pause or rate limit is not a try that counts
            if message is not None:
                row.last_error = redact(message)
            if state == State.PUBLISHED:
                row.remote_id = remote_id
                row.url = url
                row.published_at = now
                row.last_error = None
                row.warnings = redact(warnings)
            attempt = session.get(Attempt, attempt_id)
            if attempt is not None:
                attempt.finished_at = now
                attempt.outcome = outcome
                attempt.error_class = error_class
                attempt.platform_code = code
                attempt.platform_subcode = subcode
                attempt.message = redact(message)
            return True

    def start_reconcile(self, publication_id: int, now: datetime, by: str) -> int:
        """An attempt row of kind ``reconcile``; its id."""
        with self.writing() as session:
            attempt = Attempt(
                publication_id=publication_id, kind="reconcile", started_at=now, claimed_by=by
            )
            session.add(attempt)
            session.flush()
            assert attempt.id is not None
            return attempt.id

    def mark_unknown_if_publishing(self, publication_id: int, now: datetime, message: str) -> bool:
        """A claim whose process is gone becomes unknown (and its open attempt says so)."""
        with self.writing() as session:
            row = session.get(Publication, publication_id)
            if row is None or row.state != State.PUBLISHING.value:
                return False
            row.state = State.UNKNOWN.value
            row.last_error = redact(message)
            row.updated_at = now
            open_attempts = session.exec(
                select(Attempt).where(
                    Attempt.publication_id == publication_id,
                    col(Attempt.finished_at).is_(None),
                )
            )
            for attempt in open_attempts:
                attempt.finished_at = now
                attempt.outcome = "unknown"
                attempt.error_class = "unknown"
                attempt.message = redact(message)
            return True

    def set_state(
        self, publication_id: int, state: State, now: datetime, message: str | None = None
    ) -> None:
        """Move a publication by hand (missed, or back to scheduled by a human)."""
        with self.writing() as session:
            row = session.get(Publication, publication_id)
            if row is None:
                raise KeyError(publication_id)
            row.state = state.value
            row.updated_at = now
            if state == State.SCHEDULED:
                row.next_attempt_at = None
            if message is not None:
                row.last_error = redact(message)

    # Channels ---------------------------------------------------------------------

    def channel_state(self, channel: str) -> ChannelState:
        with self.reading() as session:
            return session.get(ChannelState, channel) or ChannelState(channel=channel)

    def _channel_row(self, session: Session, channel: str) -> ChannelState:
        row = session.get(ChannelState, channel)
        if row is None:
            row = ChannelState(channel=channel)
            session.add(row)
        return row

    def pause_channel(self, channel: str, reason: str, now: datetime) -> bool:
        """Pause until a human repairs the login; returns False if it was paused already."""
        with self.writing() as session:
            row = self._channel_row(session, channel)
            was_paused = row.paused_reason is not None
            row.paused_reason = redact(reason)
            if not was_paused:
                row.paused_at = now
            row.last_auth_check_at = now
            return not was_paused

    def note_auth_check(self, channel: str, now: datetime) -> None:
        with self.writing() as session:
            self._channel_row(session, channel).last_auth_check_at = now

    def resume_channel(self, channel: str) -> None:
        with self.writing() as session:
            row = self._channel_row(session, channel)
            row.paused_reason = None
            row.paused_at = None

    def cool_down(self, channel: str, until: datetime, reason: str) -> None:
        with self.writing() as session:
            row = self._channel_row(session, channel)
            if row.cooldown_until is None or row.cooldown_until < until:
                row.cooldown_until = until
                row.cooldown_reason = redact(reason)

    # Alerts -----------------------------------------------------------------------

    def raise_alert(
        self,
        key: str,
        kind: str,
        message: str,
        now: datetime,
        *,
        channel: str | None = None,
        post_id: str | None = None,
        quiet_for: timedelta = timedelta(hours=6),
    ) -> bool:
        """Record an alert unless the same ``key`` was raised within ``quiet_for``."""
        with self.writing() as session:
            recent = session.exec(
                select(Alert).where(Alert.key == key, Alert.created_at >= now - quiet_for)
            ).first()
            if recent is not None:
                return False
            session.add(
                Alert(
                    key=key,
                    kind=kind,
                    channel=channel,
                    post_id=post_id,
                    message=redact(message) or "",
                    created_at=now,
                )
            )
            return True

    def alerts(self, undelivered_only: bool = False) -> list[Alert]:
        with self.reading() as session:
            query = select(Alert).order_by(col(Alert.id))
            if undelivered_only:
                query = query.where(col(Alert.delivered_at).is_(None))
            return list(session.exec(query))

    def mark_alert_delivered(self, alert_id: int, now: datetime) -> None:
        with self.writing() as session:
            row = session.get(Alert, alert_id)
            if row is not None:
                row.delivered_at = now

    # The daemon's heartbeat --------------------------------------------------------

    def beat(
        self,
        *,
        holder: str,
        mode: str,
        started_at: datetime,
        now: datetime,
        next_due_at: datetime | None,
        jobs: int,
    ) -> None:
        """Record that the daemon ``holder`` is alive now."""
        with self.writing() as session:
            row = session.get(Heartbeat, DAEMON)
            if row is None:
                row = Heartbeat(
                    name=DAEMON, holder=holder, mode=mode, started_at=started_at, beat_at=now
                )
                session.add(row)
            row.holder, row.mode, row.started_at, row.beat_at = holder, mode, started_at, now
            row.stopped_at = None
            row.next_due_at = next_due_at
            row.jobs = jobs

    def stopped(self, holder: str, now: datetime) -> None:
        """Record a clean stop of the daemon ``holder``."""
        with self.writing() as session:
            row = session.get(Heartbeat, DAEMON)
            if row is not None and row.holder == holder:
                row.stopped_at = now

    def heartbeat(self) -> Heartbeat | None:
        with self.reading() as session:
            return session.get(Heartbeat, DAEMON)

    # Engagement samples -----------------------------------------------------------------

    def published(self, mode: Mode = Mode.LIVE) -> list[Publication]:
        """Every publication that is online, oldest first."""
        with self.reading() as session:
            return list(
                session.exec(
                    select(Publication)
                    .where(
                        Publication.state == State.PUBLISHED.value, Publication.mode == mode.value
                    )
                    .order_by(col(Publication.published_at), col(Publication.id))
                )
            )

    def sample_ages_taken(self) -> dict[int, set[int]]:
        """Publication id → the target ages (seconds) sampled already."""
        taken: dict[int, set[int]] = {}
        with self.reading() as session:
            rows = session.exec(select(Sample.publication_id, Sample.target_age_seconds))
            for publication_id, age in rows:
                taken.setdefault(publication_id, set()).add(age)
        return taken

    def add_sample(self, sample: Sample) -> bool:
        """Store a sample; False if one for that publication and age exists already."""
        try:
            with self.writing() as session:
                session.add(sample)
            return True
        except IntegrityError:
            return False

    def stop_sampling(self, publication_id: int, reason: str) -> None:
        """Never read this publication's engagement again (it is gone from the platform)."""
        with self.writing() as session:
            row = session.get(Publication, publication_id)
            if row is not None:
                row.sampling_stopped = redact(reason)

    def samples(self, publication_id: int) -> list[Sample]:
        with self.reading() as session:
            return list(
                session.exec(
                    select(Sample)
                    .where(Sample.publication_id == publication_id)
                    .order_by(col(Sample.taken_at))
                )
            )


def _one_publication(post_id: str, channel: str, mode: Mode) -> SelectOfScalar[Publication]:
    """The query for the one row of (post, channel, mode)."""
    return select(Publication).where(
        Publication.post_id == post_id,
        Publication.channel == channel,
        Publication.mode == mode.value,
    )


def tags_text(tags: tuple[str, ...]) -> str | None:
    """Tags as stored: ",a,b," so that one tag is found with LIKE '%,a,%'."""
    return f",{','.join(tags)}," if tags else None
