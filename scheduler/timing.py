"""When each publication should run: on time, late within the grace, or missed.

A plain function of (publication, due time, now), so tests can cross misfire
windows and daylight-saving changes with a hand-set clock and no sleeping. The
time map turns campaign time into wall-clock time: the identity for a real run,
and a compressed replay starting now for a rehearsal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from scheduler.store.models import Publication, State


@dataclass(frozen=True)
class TimeMap:
    """Campaign time → wall-clock time: ``start + (t - origin) / speed``."""

    origin: datetime | None = None
    start: datetime | None = None
    speed: float = 1.0

    @property
    def is_identity(self) -> bool:
        return self.origin is None

    def wall(self, campaign_time: datetime) -> datetime:
        if self.origin is None or self.start is None:
            return campaign_time
        return self.start + (campaign_time - self.origin) / self.speed

    @classmethod
    def rehearsal(cls, first_due: datetime, start: datetime, speed: float) -> TimeMap:
        return cls(first_due, start, speed)


Action = Literal["publish", "reconcile", "missed", "nothing"]


@dataclass(frozen=True)
class Decision:
    """What to do about one publication, and when."""

    action: Action
    run_at: datetime | None = None
    reason: str = ""


def decide(
    row: Publication,
    due: datetime,
    now: datetime,
    grace: timedelta,
    reconcile_after: timedelta,
) -> Decision:
    """The next step for ``row``, due (wall clock) at ``due``.

    - published, failed, missed: nothing more.
    - publishing or unknown: reconcile first (never publish again before that).
    - scheduled and never tried: at ``due``; if the daemon was down and it is now
      later than ``due + grace``, it is missed, never sent hours late unnoticed.
    - scheduled for a retry: at ``next_attempt_at`` (retries are not "missed").
    """
    state = State(row.state)
    if state in (State.PUBLISHED, State.FAILED, State.MISSED):
        return Decision("nothing", reason=state.value)
    if state in (State.PUBLISHING, State.UNKNOWN):
        claimed = row.claimed_at or now
        return Decision("reconcile", max(now, claimed + reconcile_after), "outcome unknown")
    if row.attempt_count == 0:
        if due < now - grace:
            late = now - due
            return Decision("missed", reason=f"{_minutes(late)} late, more than the grace")
        return Decision("publish", max(due, now), "late, within the grace" if due < now else "")
    retry_at = row.next_attempt_at or now
    return Decision("publish", max(retry_at, now), f"try {row.attempt_count + 1}")


def _minutes(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} minutes"
    if minutes < 48 * 60:
        return f"{minutes // 60} hours"
    return f"{minutes // (24 * 60)} days"
