"""Which scheduler is the active one: a standby's wait for the lock, the handover, and the
active one's watch over its lock and lease.

``campaign run --standby`` waits for the one-daemon lock instead of exiting, and says who
holds it at once and every minute; SIGTERM or SIGINT while it waits ends it with exit
code 0. Once it has the lock it takes the ``daemon`` lease (a row whose epoch grows with
every takeover, so that the previous scheduler can claim nothing more), logs whom it took
over from and after how long (from the previous lease's last renewal, by the database's
clock), and waits for the previous scheduler's publishes still in flight to be answered,
so that reconciling them never looks for a post before the platform has made it.

The active scheduler renews its lease every third of ``takeover_seconds``; on PostgreSQL
on the lock's own connection. When that fails, or gets no answer within that time (the
server ended the lock's session, the network is gone), it has lost the lock: it fences
itself (no new claim), lets the publishes in flight finish, and exits with code 3, as
another scheduler may take over by then.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import Any

from sqlalchemy import Connection, Engine, select, text
from sqlmodel import Session, col

from scheduler.claimant import is_gone, this_process
from scheduler.daemon_lock import (
    ADVISORY_KEY,
    HELD,
    AlreadyRunning,
    DaemonLock,
    HeldByAnother,
    LockLost,
)
from scheduler.redaction import redact
from scheduler.store.engine import READ_ONLY
from scheduler.store.models import Heartbeat, Lease, State
from scheduler.store.store import Store, acquire_lease_on, renew_lease_on

log = logging.getLogger("campaign.daemon")

#: The name of the active scheduler's lease (and of its heartbeat).
LEASE = "daemon"
#: How often a waiting standby says so.
REPORT_EVERY_SECONDS = 60.0
#: The exit code of an active scheduler that lost its lock.
LOST_LOCK_EXIT = 3


def takeover_seconds(config: Any) -> float:
    """``[scheduler] takeover_seconds``: the longest a standby waits once the active
    scheduler is gone."""
    return float(config.scheduler.takeover_seconds)


def poll_seconds(takeover: float) -> float:
    """How often a standby asks for the lock."""
    return min(1.0, takeover / 10)


@dataclass(frozen=True)
class Previous:
    """The scheduler that held the lease before this one."""

    holder: str
    renewed_at: datetime
    #: Now, by the same clock as ``renewed_at`` (the database's).
    now: datetime

    @property
    def silent_for(self) -> float:
        """Seconds since its last sign of life."""
        return max((self.now - self.renewed_at).total_seconds(), 0.0)


class StopFlags:
    """SIGTERM and SIGINT while waiting: the handlers only set a flag (as the daemon's)."""

    def __init__(self) -> None:
        self.stopped = False
        self._previous: dict[int, Any] = {}

    def __call__(self) -> bool:
        return self.stopped

    def __enter__(self) -> StopFlags:
        if threading.current_thread() is threading.main_thread():
            for number in (signal.SIGTERM, signal.SIGINT):
                self._previous[number] = signal.signal(number, self._on_signal)
        return self

    def __exit__(self, *_exc: object) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous.clear()

    def _on_signal(self, _number: int, _frame: FrameType | None) -> None:
        self.stopped = True


class Leadership:
    """Takes the one-daemon lock (waiting for it as a standby), then the lease, and keeps
    watch over both while the daemon runs."""

    def __init__(
        self,
        takeover: float,
        *,
        standby: bool,
        settle_limit: timedelta = timedelta(seconds=90),
    ) -> None:
        self.takeover = takeover
        self.standby = standby
        self.settle_limit = settle_limit
        self.poll = poll_seconds(takeover)
        self.me = this_process()
        self.lock: DaemonLock | None = None
        self.fence: tuple[int, str] | None = None
        self.lost: str | None = None
        self.waited = False
        self._refusal: HeldByAnother | None = None
        self._reported_at: float | None = None
        self._trouble_at: float | None = None
        self._on_lost: list[Callable[[str], None]] = []
        self._keeper: _Keeper | None = None
        self._flag = threading.Lock()

    @classmethod
    def from_config(cls, config: Any, *, standby: bool) -> Leadership:
        publishing = config.publishing
        settle = timedelta(
            seconds=publishing.request_timeout_seconds + publishing.reconcile_after_seconds
        )
        return cls(takeover_seconds(config), standby=standby, settle_limit=settle)

    def lock_for(self, url: str) -> DaemonLock:
        self.lock = DaemonLock.for_url(url, takeover_seconds=self.takeover)
        return self.lock

    # Taking the lock -------------------------------------------------------------------

    def take(self, lock: DaemonLock) -> bool:
        """Take ``lock``: True once held; False if stopped while waiting as a standby.
        Raises :class:`AlreadyRunning` when it is held and this is no standby."""
        self.lock = lock
        if not self.standby:
            return lock.acquire()
        with StopFlags() as stop:
            got = lock.acquire(
                wait=True, stop=stop, poll=self.poll, refused=self._refused, trouble=self._trouble
            )
        if not got:
            log.info("standby: stopped while waiting; this scheduler never took over")
        elif not self.waited:
            log.info("standby: no other scheduler held the lock; this one is now active")
        return got

    def _refused(self, refusal: AlreadyRunning) -> None:
        self.waited = True
        self._refusal = refusal if isinstance(refusal, HeldByAnother) else None
        now = time.monotonic()
        if self._reported_at is not None and now - self._reported_at < REPORT_EVERY_SECONDS:
            return
        self._reported_at = now
        assert self.lock is not None
        holder, age = _active_now(self.lock)
        if holder is None:
            holder = getattr(refusal, "holder", None) or "another process"
        log.info(
            "standby: waiting; the active scheduler is %s, last beat %s",
            holder,
            "unknown" if age is None else f"{age:.0f} s ago",
        )

    def _trouble(self, problem: Exception) -> None:
        now = time.monotonic()
        if self._trouble_at is not None and now - self._trouble_at < REPORT_EVERY_SECONDS:
            return
        self._trouble_at = now
        detail = redact(str(getattr(problem, "orig", problem))).strip().splitlines() or ["?"]
        log.warning(
            "standby: the database cannot be reached (%s); still waiting, trying again "
            "every %.1f s",
            detail[0],
            self.poll,
        )

    # Leading ---------------------------------------------------------------------------

    def lead(self, store: Store) -> bool:
        """With the lock held and the store open: take the lease (log the handover if this
        standby waited), wait for the previous holder's publishes in flight, and start
        watching. False if stopped meanwhile."""
        assert self.lock is not None
        previous = self._take_lease(store)
        if self.waited:
            _log_handover(previous, self._refusal, self.lock.is_server)
        holder = previous.holder if previous is not None else _last_daemon(store)
        if holder is not None and holder != self.me and not self._settle(store, holder):
            return False
        self._keeper = _Keeper(self._renew_for(store), max(self.takeover / 3, 0.5), self._lose)
        self._keeper.start()
        return True

    def _take_lease(self, store: Store) -> Previous | None:
        lock = self.lock
        assert lock is not None
        try:
            if lock.is_server:
                previous, epoch = lock.on_connection(self._take_lease_on)
            else:
                previous = _previous_lease(store)
                epoch = store.acquire_lease(LEASE, self.me)
        except Exception as problem:  # no fence then, but the lock still holds
            log.warning(
                "the scheduler's lease could not be taken (%s): a scheduler taken over from "
                "is not fenced off",
                redact(str(getattr(problem, "orig", problem))).strip(),
            )
            return None
        self.fence = (epoch, self.me)
        return previous

    def _take_lease_on(self, connection: Connection) -> tuple[Previous | None, int]:
        row = connection.execute(
            select(col(Lease.holder), col(Lease.renewed_at)).where(col(Lease.name) == LEASE)
        ).first()
        now = connection.execute(text("SELECT now()")).scalar_one()
        pid = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
        epoch = acquire_lease_on(connection, LEASE, self.me, backend_pid=int(pid))
        if row is None:
            return None, epoch
        return Previous(row.holder, _utc(row.renewed_at), _utc(now)), epoch

    def _settle(self, store: Store, holder: str) -> bool:
        """Wait until the previous holder's claims are answered, or can no longer be (its
        process is gone, or the request's time has passed)."""
        announced = False
        with StopFlags() as stop:
            while True:
                now = datetime.now(UTC)
                waiting = [
                    row
                    for row in store.publications([State.PUBLISHING])
                    if row.claimed_by == holder
                    and not is_gone(holder)
                    and row.claimed_at is not None
                    and row.claimed_at + self.settle_limit > now
                ]
                if not waiting:
                    return True
                if not announced:
                    until = max(row.claimed_at for row in waiting if row.claimed_at is not None)
                    log.info(
                        "waiting for the previous scheduler's %d publish(es) in flight (%s) to "
                        "be answered, at most until %s UTC, before reconciling them",
                        len(waiting),
                        ", ".join(f"{row.post_id} on {row.channel}" for row in waiting),
                        f"{until + self.settle_limit:%H:%M:%S}",
                    )
                    announced = True
                end = time.monotonic() + self.poll
                while time.monotonic() < end:
                    if stop():
                        log.info("stopped before taking over; nothing was published")
                        return False
                    time.sleep(min(0.25, self.poll))

    # Watching --------------------------------------------------------------------------

    def _renew_for(self, store: Store) -> Callable[[], None]:
        lock = self.lock
        assert lock is not None
        fence = self.fence

        def on_server(connection: Connection) -> bool:
            if not connection.execute(HELD, {"key": ADVISORY_KEY}).scalar():
                raise LockLost("the database no longer counts it as held")
            return fence is None or renew_lease_on(connection, LEASE, fence[1], fence[0])

        def renew() -> None:
            if lock.is_server:
                renewed = lock.on_connection(on_server)
            else:
                lock.check()
                renewed = fence is None or _renew_quietly(store, fence)
            if not renewed:
                raise LockLost("another scheduler has taken over its lease")

        return renew

    def on_lost(self, callback: Callable[[str], None]) -> None:
        """Call ``callback(reason)`` once the lock is lost (at once if it is already)."""
        with self._flag:
            self._on_lost.append(callback)
            lost = self.lost
        if lost is not None:
            callback(lost)

    def stop(self) -> None:
        if self._keeper is not None and not self._keeper.stop() and self.lock is not None:
            self.lock.abandon()  # a check is stuck in a query on that connection

    def _lose(self, reason: str) -> None:
        with self._flag:
            self.lost = reason
            callbacks = list(self._on_lost)
        log.error(
            "lost the scheduler lock: %s. Another scheduler may take over: no new publish "
            "is started here; the ones in flight finish, then this one exits (code %d)",
            reason,
            LOST_LOCK_EXIT,
        )
        for callback in callbacks:
            callback(reason)


class _Keeper(threading.Thread):
    """Calls ``renew`` every ``every`` seconds; one that raises, or does not return within
    ``every`` seconds, loses the lock."""

    def __init__(
        self, renew: Callable[[], None], every: float, lose: Callable[[str], None]
    ) -> None:
        super().__init__(name="lock-keeper", daemon=True)
        self.renew = renew
        self.every = every
        self.lose = lose
        self._stopping = threading.Event()
        self._checking: threading.Thread | None = None

    def run(self) -> None:
        while not self._stopping.wait(self.every):
            reason = self._round()
            if reason is not None and not self._stopping.is_set():
                self.lose(reason)
                return

    def stop(self) -> bool:
        """Stop; False if a renewal is still stuck waiting for the database."""
        self._stopping.set()
        self.join(timeout=self.every + 1)
        return self._checking is None or not self._checking.is_alive()

    def _round(self) -> str | None:
        outcome: list[str | None] = []

        def renew() -> None:
            try:
                self.renew()
                outcome.append(None)
            except LockLost as lost:
                outcome.append(str(lost))
            except Exception as problem:  # never a silent end of the watch
                outcome.append(f"renewing it failed: {type(problem).__name__}: {problem}")

        self._checking = threading.Thread(target=renew, name="lock-renewal", daemon=True)
        self._checking.start()
        self._checking.join(self.every)
        if not outcome:
            return f"the database did not answer within {self.every:.1f} s"
        return outcome[0]


def _renew_quietly(store: Store, fence: tuple[int, str]) -> bool:
    """SQLite: the file lock is what counts; a busy database only delays the renewal."""
    try:
        return store.renew_lease(LEASE, fence[1], fence[0])
    except Exception:
        log.warning("the scheduler's lease could not be renewed; trying again", exc_info=True)
        return True


def _previous_lease(store: Store) -> Previous | None:
    lease = store.lease(LEASE)
    if lease is None:
        return None
    return Previous(lease.holder, _utc(lease.renewed_at), _utc(store.database_now()))


def _last_daemon(store: Store) -> str | None:
    """The daemon that beat last, unless it stopped cleanly."""
    beat = store.heartbeat()
    return beat.holder if beat is not None and beat.stopped_at is None else None


def _log_handover(
    previous: Previous | None, refusal: HeldByAnother | None, by_server: bool
) -> None:
    if previous is None:
        who = (refusal.holder if refusal is not None else None) or "the previous scheduler"
        log.warning(
            "standby: took over from %s (how long ago it stopped is not known); its "
            "unfinished publishes are reconciled first",
            who,
        )
        return
    log.warning(
        "standby: took over from %s after %.1f s (since it last renewed its lease, by %s); "
        "its unfinished publishes are reconciled first",
        describe_holder(previous.holder),
        previous.silent_for,
        "the database's clock" if by_server else "this machine's clock",
    )


def describe_holder(holder: str) -> str:
    """``host:pid:token`` (a claimant, a lease's holder) in words."""
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host and pid.isdigit():
        return f"process {pid} on {host}"
    return holder or "another process"


def _active_now(lock: DaemonLock) -> tuple[str | None, float | None]:
    """Who holds the lease (or beat last) and how long ago, read without creating or
    migrating anything: the tables may not exist yet, or be the active one's version."""
    try:
        with Session(_reading(lock.engine)) as session:
            lease = session.get(Lease, LEASE)
            if lease is not None:
                now = datetime.now(UTC)
                if lock.is_server:
                    now = _utc(session.execute(text("SELECT now()")).scalar_one())
                age = (now - _utc(lease.renewed_at)).total_seconds()
                return describe_holder(lease.holder), max(age, 0.0)
            beat = session.get(Heartbeat, LEASE)
            if beat is not None:
                age = (datetime.now(UTC) - _utc(beat.beat_at)).total_seconds()
                return describe_holder(beat.holder), max(age, 0.0)
    except Exception:
        log.debug("who holds the lock could not be read", exc_info=True)
    return None, None


def _reading(engine: Engine) -> Engine:
    return engine.execution_options(**{READ_ONLY: True})


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
