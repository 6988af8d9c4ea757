"""The store's operations: every state change of a publication is one transaction.

A publication is keyed by (post, account, mode); its ``channel`` is the account's
platform. A platform's default account is named as the platform ("facebook",
"instagram"), so a call that passes a platform name as the account means that account.

Every change of a publication's state is a compare-and-set: one ``UPDATE … WHERE
state = <the state the caller expects>`` (and, where it matters, the same try and
the same claim as the caller saw), whose row count says whether the caller won. So
of two processes that race for one publication exactly one moves it, on SQLite and
PostgreSQL alike, and the loser is told. What was sent (caption, link, media, first
comment) is stored exactly; errors, reasons and warnings are redacted.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, case, delete, exists, func, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DatabaseError, IntegrityError
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from scheduler.redaction import redact
from scheduler.store.engine import (
    READ_ONLY,
    StoreError,
    create_store_engine,
    describe_database,
)
from scheduler.store.models import (
    SETTLED,
    Alert,
    Attempt,
    ChannelState,
    Heartbeat,
    Lease,
    Mode,
    Publication,
    Sample,
    State,
)
from scheduler.store.schema import prepare_schema

DAEMON = "daemon"
#: The platforms; each one's default account has its name.
PLATFORMS = ("facebook", "instagram")


@dataclass(frozen=True)
class Claim:
    """A publication this process now owns, and the attempt row that records the try."""

    publication_id: int
    attempt_id: int
    attempt_number: int
    claimed_by: str = ""
    claimed_at: datetime | None = None


class Store:
    """Publications, attempts, channel states and alerts, over one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._read_engine = engine.execution_options(**{READ_ONLY: True})
        #: SQLite has one writer at a time: this process's threads queue for it here, in
        #: order, instead of sleeping and polling in SQLite's busy handler. Other
        #: processes still queue through the busy timeout. PostgreSQL needs none.
        self._write_lock: AbstractContextManager[Any] | None = (
            threading.RLock() if engine.dialect.name == "sqlite" else None
        )
        #: The active scheduler's lease ``(epoch, holder)``: set by the scheduler once it
        #: holds the lease, every claim it makes is fenced by it (see :meth:`claim`).
        self.fence: tuple[int, str] | None = None

    @classmethod
    def open(cls, url: str, *, pool_size: int | None = None) -> Store:
        """Connect to ``url`` and create or migrate the tables.

        ``pool_size``: the connections kept open, at least the threads that use the store
        at once (the default, 5, plus 10 more on demand, suits up to ten).
        """
        engine = create_store_engine(url, pool_size=pool_size)
        try:
            prepare_schema(engine)
        except DatabaseError as problem:  # OperationalError too: locked, unreadable, not SQLite
            engine.dispose()
            raise StoreError(
                f"cannot open the database ({describe_database(engine.url)}): "
                f"{redact(str(problem.orig))}. Check [database] url, that the server runs and "
                "that this user may write there."
            ) from None
        except BaseException:
            engine.dispose()  # a refused database keeps no connection open
            raise
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A session whose transaction holds the write lock from its start (SQLite: this
        process's threads take turns first)."""
        with (
            self._write_lock or nullcontext(),
            Session(self.engine, expire_on_commit=False) as session,
            session.begin(),
        ):
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        with Session(self._read_engine, expire_on_commit=False) as session:
            yield session

    # Publications -----------------------------------------------------------------

    def get(self, post_id: str, account: str, mode: Mode = Mode.LIVE) -> Publication | None:
        """The row of (post, account, mode), or None."""
        with self.reading() as session:
            return session.exec(_one_publication(post_id, account, mode)).first()

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
        account: str,
        due_at: datetime,
        now: datetime,
        mode: Mode = Mode.LIVE,
        *,
        channel: str | None = None,
        language: str | None = None,
        tags: tuple[str, ...] = (),
    ) -> Publication:
        """The row for (post, account, mode), created as scheduled, its due time kept current.

        ``channel``: the account's platform; left out, ``account`` must be a platform's
        name (its default account). Only a ``scheduled`` row that has never been tried
        moves with the post file; a row that has been tried keeps the time it was tried
        for. Dry runs have rows of their own, so a rehearsal never uses up the real
        publication.
        """
        platform = platform_of(account, channel)
        labels = (language, tags_text(tags))
        key = (post_id, account, platform)
        try:
            return self._ensure_publication(key, due_at, now, mode, labels)
        except IntegrityError:
            # Another process inserted this (post, account) between our look and our insert
            # (PostgreSQL; on SQLite, BEGIN IMMEDIATE rules that out): the row exists now.
            return self._ensure_publication(key, due_at, now, mode, labels)

    def _ensure_publication(
        self,
        key: tuple[str, str, str],
        due_at: datetime,
        now: datetime,
        mode: Mode,
        labels: tuple[str | None, str | None],
    ) -> Publication:
        post_id, account, channel = key
        with self.writing() as session:
            row = session.exec(_one_publication(post_id, account, mode)).first()
            if row is None:
                row = Publication(
                    post_id=post_id,
                    channel=channel,
                    account=account,
                    mode=mode.value,
                    due_at=due_at.astimezone(UTC) if due_at.tzinfo else due_at,
                    updated_at=now,
                )
                session.add(row)
                session.flush()
            elif row.state == State.SCHEDULED and row.attempt_count == 0 and row.due_at != due_at:
                # Only a row still untried moves (compare-and-set: a claim may come first).
                # A hold from a cool-down or pause is for the old time; it is set again at
                # the new time if the channel is still closed then.
                session.execute(
                    update(Publication)
                    .where(*_untried(row))
                    .values(due_at=due_at, next_attempt_at=None, updated_at=now)
                )
            if labels[0] is not None and (row.language, row.tags) != labels:
                session.execute(
                    update(Publication)
                    .where(col(Publication.id) == row.id)
                    .values(language=labels[0], tags=labels[1])
                )
            assert row.id is not None
            session.expire_all()
            found = session.get(Publication, row.id)
            assert found is not None
            return found

    def forget_untried(self, post_id: str, account: str, mode: Mode = Mode.LIVE) -> bool:
        """Delete a publication that was never tried (its post was deleted or turned draft,
        or no longer names the account); one with any history is kept."""
        with self.writing() as session:
            row = session.exec(_one_publication(post_id, account, mode)).first()
            if row is None:
                return False
            gone = session.execute(
                delete(Publication).where(
                    *_untried(row),
                    ~exists().where(col(Attempt.publication_id) == row.id),
                )
            )
            return bool(gone.rowcount == 1)  # type: ignore[attr-defined]

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
        seen: Publication | None = None,
        fence: tuple[int, str] | None = None,
    ) -> Claim | None:
        """Take the publication for one try, or None when another process has it or it
        is not claimable (published, unknown, not yet due for its retry).

        ``seen`` (publishing by hand): take it only if it is still exactly as seen — in
        the state it was, after the same try — whatever its retry time; ``from_states``
        is then ignored. So a human's publish never overwrites another process's claim.

        ``fence`` (the active scheduler): its lease ``(epoch, holder)``, by default the
        store's :attr:`fence` (not for a claim by hand, given ``seen``); the claim is
        taken only while the ``daemon`` lease is still exactly that, in the same
        statement, so a scheduler that another one has taken over from claims nothing.
        """
        if fence is None and seen is None:
            fence = self.fence
        if seen is not None:
            conditions = _unchanged(seen)
        else:
            conditions = [
                col(Publication.id) == publication_id,
                col(Publication.state).in_([s.value for s in from_states]),
                (col(Publication.next_attempt_at).is_(None))
                | (col(Publication.next_attempt_at) <= now),
            ]
        if fence is not None:
            conditions.append(_holds_lease(DAEMON, *fence))
        # A human's decision (done: it went out another way; skipped) is final: never sent.
        conditions.append(col(Publication.state).not_in([s.value for s in SETTLED]))
        with self.writing() as session:
            changed = session.execute(
                update(Publication)
                .where(*conditions)
                .values(
                    state=State.PUBLISHING.value,
                    claimed_at=now,
                    claimed_by=claimed_by,
                    attempt_count=Publication.attempt_count + 1,  # type: ignore[operator]
                    fingerprint=fingerprint,
                    # What is sent is the public record: stored exactly, never redacted.
                    caption=caption,
                    media_json=media_json,
                    link=link,
                    first_comment=first_comment,
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
            return Claim(publication_id, attempt.id, row.attempt_count, claimed_by, now)

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
        seen: Publication | None = None,
    ) -> bool:
        """Record how a try (or reconciliation) ended and move the publication on.

        A compare-and-set; returns whether this caller moved the publication. With a
        ``Claim``: only while that claim is still the latest (same claimant, same try),
        and the publication ``publishing`` — or ``unknown``, if another process gave the
        claim up for lost meanwhile: a clear answer then still counts. With an attempt
        id: only from ``expect_state`` (and, given ``seen``, only if the publication is
        still as seen). The attempt row is finished either way, so no try is left open;
        a loser's row says that the publication had moved on.
        """
        if isinstance(claim_or_attempt, Claim):
            attempt_id = claim_or_attempt.attempt_id
            conditions = [
                col(Publication.id) == publication_id,
                col(Publication.state).in_([expect_state.value, State.UNKNOWN.value]),
                col(Publication.attempt_count) == claim_or_attempt.attempt_number,
                col(Publication.claimed_by) == claim_or_attempt.claimed_by,
            ]
        else:
            attempt_id = claim_or_attempt
            conditions = (
                _unchanged(seen)
                if seen is not None
                else [
                    col(Publication.id) == publication_id,
                    col(Publication.state) == expect_state.value,
                ]
            )
            if seen is not None:
                conditions.append(col(Publication.state) == expect_state.value)
        values: dict[str, Any] = {
            "state": state.value,
            "next_attempt_at": next_attempt_at,
            "updated_at": now,
        }
        if refund_attempt:  # a pause or rate limit is not a try that counts
            values["attempt_count"] = case(
                (col(Publication.attempt_count) > 0, col(Publication.attempt_count) - 1),
                else_=0,
            )
        if message is not None:
            values["last_error"] = clean_text(message)
        if state == State.PUBLISHED:
            values.update(
                remote_id=remote_id,
                url=url,
                published_at=now,
                last_error=None,
                warnings=clean_text(warnings),
            )
        with self.writing() as session:
            moved = session.execute(update(Publication).where(*conditions).values(**values))
            won = bool(moved.rowcount == 1)  # type: ignore[attr-defined]
            attempt = session.get(Attempt, attempt_id)
            if attempt is None or attempt.publication_id != publication_id:
                return won
            if not (won or attempt.finished_at is None or attempt.outcome == "unknown"):
                return won  # a late second answer for a try already recorded
            note = None
            if not won:
                current = session.get(Publication, publication_id)
                state_then = current.state if current is not None else "gone"
                note = f"(not recorded on the publication: it was {state_then} by then)"
            attempt.finished_at = now
            attempt.outcome = outcome
            attempt.error_class = error_class
            attempt.platform_code = code
            attempt.platform_subcode = subcode
            attempt.message = clean_text(" ".join(p for p in (message, note) if p) or None)
            return won

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

    def mark_unknown_if_publishing(
        self,
        publication_id: int,
        now: datetime,
        message: str,
        seen: Publication | None = None,
    ) -> bool:
        """A claim whose process is gone becomes unknown (and its open attempts say so).

        A compare-and-set on ``publishing`` — and, given ``seen``, on that very claim, so
        a newer claim made meanwhile by a live process is never taken for the dead one.
        """
        conditions = [
            col(Publication.id) == publication_id,
            col(Publication.state) == State.PUBLISHING.value,
        ]
        if seen is not None:
            conditions = [*_unchanged(seen), *conditions]
        with self.writing() as session:
            moved = session.execute(
                update(Publication)
                .where(*conditions)
                .values(state=State.UNKNOWN.value, last_error=clean_text(message), updated_at=now)
            )
            if moved.rowcount != 1:  # type: ignore[attr-defined]
                return False
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
                attempt.message = clean_text(message)
            return True

    def set_state(
        self,
        publication_id: int,
        state: State,
        now: datetime,
        message: str | None = None,
        *,
        expect: Publication | Sequence[State] | None = None,
    ) -> bool:
        """Move a publication (to missed, say): a compare-and-set, returns whether it won.

        ``expect``: the row as the caller saw it (it must be unchanged: same state, same
        try, same claim, same retry time), or the states it may be in. Only a test's or
        an administrator's set-up passes nothing.
        """
        conditions: list[ColumnElement[bool]] = [col(Publication.id) == publication_id]
        if isinstance(expect, Publication):
            conditions = _unchanged(expect)
        elif expect is not None:
            conditions.append(col(Publication.state).in_([s.value for s in expect]))
        values: dict[str, Any] = {"state": state.value, "updated_at": now}
        if state == State.SCHEDULED:
            values["next_attempt_at"] = None
        if message is not None:
            values["last_error"] = clean_text(message)
        with self.writing() as session:
            moved = session.execute(update(Publication).where(*conditions).values(**values))
            if moved.rowcount == 1:  # type: ignore[attr-defined]
                return True
            if expect is None and session.get(Publication, publication_id) is None:
                raise KeyError(publication_id)
            return False

    def settle(
        self, seen: Publication, state: State, *, now: datetime, by: str, reason: str
    ) -> bool:
        """Record a human's decision about a publication that was not sent (done: it went
        out another way; skipped: it is not to go out), with its reason, who and when (an
        attempt of kind ``settle``), if it is still as seen; returns whether it was."""
        if state not in SETTLED:
            raise ValueError(f"a decision is done or skipped, not {state}")
        assert seen.id is not None
        text = clean_text(reason)
        with self.writing() as session:
            moved = session.execute(
                update(Publication)
                .where(*_unchanged(seen))
                .values(state=state.value, last_error=text, next_attempt_at=None, updated_at=now)
            )
            if moved.rowcount != 1:  # type: ignore[attr-defined]
                return False
            session.add(
                Attempt(
                    publication_id=seen.id,
                    kind="settle",
                    started_at=now,
                    finished_at=now,
                    outcome=state.value,
                    claimed_by=by,
                    message=text,
                )
            )
            return True

    def hold(self, seen: Publication, until: datetime, now: datetime) -> bool:
        """A scheduled publication that we hold back (its channel rests or is paused) is
        given ``until`` as its time: it is judged on time against that, never "missed"
        because of our own hold. A compare-and-set on the row as seen."""
        if seen.state != State.SCHEDULED:
            return False
        if seen.next_attempt_at is not None and seen.next_attempt_at >= until:
            return True
        with self.writing() as session:
            moved = session.execute(
                update(Publication)
                .where(*_unchanged(seen))
                .values(next_attempt_at=until, updated_at=now)
            )
            return bool(moved.rowcount == 1)  # type: ignore[attr-defined]

    def record_failed_try(
        self,
        seen: Publication,
        *,
        now: datetime,
        by: str,
        message: str,
        state: State,
        next_attempt_at: datetime | None,
        count: bool = True,
    ) -> bool:
        """A try that broke down before it could be claimed (an unexpected error, such as
        the database refusing the post's text): a finished attempt row with the error,
        the try counted (unless not ``count``), and the publication moved to ``state`` —
        if it is still as seen. The attempt row is written either way; returns whether
        the publication moved."""
        with self.writing() as session:
            moved = session.execute(
                update(Publication)
                .where(*_unchanged(seen))
                .values(
                    state=state.value,
                    attempt_count=Publication.attempt_count + (1 if count else 0),  # type: ignore[operator]
                    next_attempt_at=next_attempt_at,
                    last_error=clean_text(message),
                    updated_at=now,
                )
            )
            won = bool(moved.rowcount == 1)  # type: ignore[attr-defined]
            assert seen.id is not None
            session.add(
                Attempt(
                    publication_id=seen.id,
                    started_at=now,
                    finished_at=now,
                    claimed_by=by,
                    outcome="error",
                    error_class="unexpected",
                    message=clean_text(message),
                )
            )
            return won

    # Accounts' pauses and cool-downs ------------------------------------------------
    # (named channel_* as in schema version 1; the key is the account's name)

    def channel_state(self, account: str) -> ChannelState:
        """The account's pause and cool-down (an empty one if it never had any)."""
        with self.reading() as session:
            return session.get(ChannelState, account) or ChannelState(channel=account)

    def _channel_row(self, session: Session, account: str) -> ChannelState:
        """The account's row, locked for this transaction; created if it is not there yet.

        Created with an insert that does nothing if another process made the row first
        (ON CONFLICT DO NOTHING), so two processes that rest or pause an account for the
        first time at once never collide on PostgreSQL; then read FOR UPDATE, so their
        changes follow each other (SQLite: BEGIN IMMEDIATE already does).
        """
        insert = _insert_for(session)
        session.execute(
            insert(ChannelState)
            .values(channel=account)
            .on_conflict_do_nothing(index_elements=["channel"])
        )
        row = session.get(ChannelState, account, with_for_update=True, populate_existing=True)
        assert row is not None
        return row

    def pause_channel(self, account: str, reason: str, now: datetime) -> bool:
        """Pause until a human repairs the login; returns False if it was paused already."""
        with self.writing() as session:
            row = self._channel_row(session, account)
            was_paused = row.paused_reason is not None
            row.paused_reason = clean_text(reason)
            if not was_paused:
                row.paused_at = now
            row.last_auth_check_at = now
            return not was_paused

    def note_auth_check(self, account: str, now: datetime) -> None:
        with self.writing() as session:
            self._channel_row(session, account).last_auth_check_at = now

    def resume_channel(self, account: str) -> None:
        with self.writing() as session:
            row = self._channel_row(session, account)
            row.paused_reason = None
            row.paused_at = None

    def cool_down(self, account: str, until: datetime, reason: str) -> None:
        """Rest the account until ``until`` (a later rest already set is kept)."""
        with self.writing() as session:
            row = self._channel_row(session, account)
            if row.cooldown_until is None or row.cooldown_until < until:
                row.cooldown_until = until
                row.cooldown_reason = clean_text(reason)

    # Alerts -----------------------------------------------------------------------

    def raise_alert(
        self,
        key: str,
        kind: str,
        message: str,
        now: datetime,
        *,
        channel: str | None = None,
        account: str | None = None,
        post_id: str | None = None,
        quiet_for: timedelta = timedelta(hours=6),
    ) -> bool:
        """Record an alert unless the same ``key`` was raised within ``quiet_for``.

        ``channel`` is the platform and ``account`` the account it is about; given one
        platform name only, the other is the same (its default account).
        """
        if account is None:
            account = channel
        elif channel is None and account in PLATFORMS:
            channel = account
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
                    account=account,
                    post_id=post_id,
                    message=clean_text(message) or "",
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

    # The active scheduler's lease ---------------------------------------------------------

    def acquire_lease(self, name: str, holder: str, backend_pid: int | None = None) -> int:
        """Make ``holder`` the lease's holder; its new epoch (1 for a new lease, else one
        more than before). Its times are set from the database's clock."""
        with self.writing() as session:
            return acquire_lease_on(session.connection(), name, holder, backend_pid)

    def renew_lease(self, name: str, holder: str, epoch: int) -> bool:
        """Note that the holder is alive (database clock); False if the lease is no longer
        ``(epoch, holder)``: another scheduler has taken over."""
        with self.writing() as session:
            return renew_lease_on(session.connection(), name, holder, epoch)

    def lease(self, name: str) -> Lease | None:
        with self.reading() as session:
            return session.get(Lease, name)

    def database_now(self) -> datetime:
        """The database's clock (UTC), to judge a lease's age by."""
        with self.reading() as session:
            return _database_now(session.connection())

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
                row.sampling_stopped = clean_text(reason)

    def samples(self, publication_id: int) -> list[Sample]:
        with self.reading() as session:
            return list(
                session.exec(
                    select(Sample)
                    .where(Sample.publication_id == publication_id)
                    .order_by(col(Sample.taken_at))
                )
            )


def acquire_lease_on(
    connection: Connection, name: str, holder: str, backend_pid: int | None = None
) -> int:
    """:meth:`Store.acquire_lease` on a connection of the caller's (in its transaction)."""
    now = _database_clock(connection)
    statement = _dialect_insert(connection.dialect.name)(Lease).values(
        name=name,
        holder=holder,
        epoch=1,
        backend_pid=backend_pid,
        acquired_at=now,
        renewed_at=now,
    )
    connection.execute(
        statement.on_conflict_do_update(
            index_elements=["name"],
            set_={
                "holder": statement.excluded.holder,
                "epoch": Lease.__table__.c.epoch + 1,  # type: ignore[attr-defined]
                "backend_pid": statement.excluded.backend_pid,
                "acquired_at": now,
                "renewed_at": now,
            },
        )
    )
    epoch = connection.execute(select(col(Lease.epoch)).where(col(Lease.name) == name))
    return int(epoch.scalar_one())


def renew_lease_on(connection: Connection, name: str, holder: str, epoch: int) -> bool:
    """:meth:`Store.renew_lease` on a connection of the caller's (in its transaction)."""
    renewed = connection.execute(
        update(Lease)
        .where(_holds_lease(name, epoch, holder))
        .values(renewed_at=_database_clock(connection))
    )
    return bool(renewed.rowcount == 1)  # type: ignore[attr-defined]


def _holds_lease(name: str, epoch: int, holder: str) -> ColumnElement[bool]:
    """The lease ``name`` is still ``(epoch, holder)``."""
    return exists().where(
        col(Lease.name) == name, col(Lease.epoch) == epoch, col(Lease.holder) == holder
    )


def _database_clock(connection: Connection) -> ColumnElement[datetime]:
    """The database's time now, as an SQL expression that stores as a UTC timestamp."""
    if connection.dialect.name == "postgresql":
        return func.now()
    # SQLite: UTC text in the form the store's timestamps have, to the millisecond.
    return func.strftime("%Y-%m-%d %H:%M:%f", "now")


def _database_now(connection: Connection) -> datetime:
    value = connection.execute(select(_database_clock(connection))).scalar_one()
    if isinstance(value, str):  # SQLite
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _insert_for(session: Session) -> Any:
    """The dialect's INSERT, which has ON CONFLICT."""
    return _dialect_insert(session.get_bind().dialect.name)


def _dialect_insert(dialect: str) -> Any:
    """The INSERT with ON CONFLICT of ``dialect``; PostgreSQL's is imported only for a
    PostgreSQL database (it costs every command on SQLite 20 ms of start-up)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert

        return insert
    return sqlite_insert


def platform_of(account: str, channel: str | None) -> str:
    """The platform of ``account``: ``channel`` when given, else the account must be a
    platform's default account, named as the platform."""
    if channel is not None:
        return channel
    if account not in PLATFORMS:
        raise ValueError(
            f"the account {account!r} is not a platform's default account "
            f"({' or '.join(PLATFORMS)}): say its platform (channel=)."
        )
    return account


def _unchanged(seen: Publication) -> list[ColumnElement[bool]]:
    """The row is still as ``seen``: same state, same try, same claim, same retry time."""
    return [
        col(Publication.id) == seen.id,
        col(Publication.state) == seen.state,
        col(Publication.attempt_count) == seen.attempt_count,
        col(Publication.claimed_by).is_not_distinct_from(seen.claimed_by),
        col(Publication.claimed_at).is_not_distinct_from(seen.claimed_at),
        col(Publication.next_attempt_at).is_not_distinct_from(seen.next_attempt_at),
    ]


def _untried(row: Publication) -> list[ColumnElement[bool]]:
    """The row is still scheduled and has never been tried."""
    return [
        col(Publication.id) == row.id,
        col(Publication.state) == State.SCHEDULED.value,
        col(Publication.attempt_count) == 0,
        col(Publication.claimed_at).is_(None),
    ]


def clean_text(text: str | None) -> str | None:
    """A message as it may be stored: secrets redacted, and no NUL (PostgreSQL refuses
    it in text, and one error message must never stop the record of a try)."""
    cleaned = redact(text)
    return cleaned.replace("\x00", "\ufffd") if cleaned is not None else None


def _one_publication(post_id: str, account: str, mode: Mode) -> SelectOfScalar[Publication]:
    """The query for the one row of (post, account, mode)."""
    return select(Publication).where(
        Publication.post_id == post_id,
        Publication.account == account,
        Publication.mode == mode.value,
    )


def tags_text(tags: tuple[str, ...]) -> str | None:
    """Tags as stored: ",a,b,", a comma inside a tag written %2C (see campaign.tag_text)."""
    from campaign.tag_text import tags_text as encoded

    return encoded(tags)
