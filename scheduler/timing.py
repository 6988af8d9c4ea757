"""When each publication should run: on time, late within the grace, missed, or past.

A plain function of (publication, due time, now), so tests can cross misfire
windows and daylight-saving changes with a hand-set clock and no sleeping. The
time map turns campaign time into wall-clock time: the identity for a real run,
and a compressed replay starting now for a rehearsal.
"""

from __future__ import annotations

import math
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
        """Its wall-clock time; one too far to be a date (a tiny speed, a post far from the
        origin) is the first or last date there is, never an error."""
        if self.origin is None or self.start is None:
            return campaign_time
        try:
            return self.start + (campaign_time - self.origin) / self.speed
        except OverflowError:
            far = datetime.max if campaign_time > self.origin else datetime.min
            return far.replace(tzinfo=self.start.tzinfo)

    @classmethod
    def rehearsal(cls, first_due: datetime, start: datetime, speed: float) -> TimeMap:
        """Replay from ``first_due`` at ``start``, ``speed`` times faster: any finite speed
        above 0 (at a huge one, whole days of campaign are microseconds apart)."""
        if not (math.isfinite(speed) and speed > 0):
            raise ValueError(f"a rehearsal's speed is a finite number above 0, not {speed!r}")
        return cls(first_due, start, speed)


Action = Literal["publish", "reconcile", "missed", "past", "nothing"]


@dataclass(frozen=True)
class Decision:
    """What to do about one publication, and when; ``since``: the time it was judged
    on time or late against."""

    action: Action
    run_at: datetime | None = None
    reason: str = ""
    since: datetime | None = None


def on_time_from(row: Publication, due: datetime, now: datetime) -> datetime:
    """The time a publication is judged late against — the last time WE set for it.

    The plain rule: a publication we have tried or held back (a retry's backoff, a
    rate limit's cool-down, a paused channel, an unclear answer that was cleared up) has
    ``next_attempt_at``, the time we gave it ourselves, and is judged against that; one
    tried without such a time is due now; one never tried nor held, is judged against
    its due time. So a post that was on time once is never "missed" because of our own
    retries, rests or pauses, nor because of a restart in between: only because the
    scheduler was not running (or held up) for more than the grace past that time.
    """
    if row.next_attempt_at is not None:
        return row.next_attempt_at
    if row.attempt_count > 0:
        return now
    return due


def first_seen_past(row: Publication, due: datetime, grace: timedelta) -> bool:
    """Whether ``row`` was already past its due time (wall clock) by more than the grace
    when the scheduler first saw it at that time.

    A row never tried nor held has ``updated_at`` from when it was made, or from when its
    post file moved it to a new time: when we first saw it due then. One we have tried
    or held has a time we gave it ourselves (:func:`on_time_from`) and is never past.
    """
    if row.attempt_count or row.next_attempt_at is not None or row.updated_at is None:
        return False
    return row.updated_at - grace > due  # (due may be the last date there is)


def decide(
    row: Publication,
    due: datetime,
    now: datetime,
    grace: timedelta,
    reconcile_after: timedelta,
) -> Decision:
    """The next step for ``row``, due (wall clock) at ``due``.

    - published, failed, missed, past, done, skipped: nothing more.
    - publishing or unknown: reconcile first (never publish again before that).
    - scheduled and already past when first seen (:func:`first_seen_past`): past, not
      an emergency — nobody could have sent it on time.
    - scheduled: at its time (:func:`on_time_from`: its due time, or the retry time we
      gave it); if it is now later than that time plus the grace (the scheduler was down
      or held up), it is missed, never sent hours late unnoticed.
    """
    state = State(row.state)
    if state not in (State.SCHEDULED, State.PUBLISHING, State.UNKNOWN):
        return Decision("nothing", reason=state.value)
    if state in (State.PUBLISHING, State.UNKNOWN):
        claimed = row.claimed_at or now
        look_at = max(now, claimed + reconcile_after)
        if state == State.UNKNOWN and row.next_attempt_at is not None:
            look_at = max(look_at, row.next_attempt_at)  # after a failed lookup: its backoff
        return Decision("reconcile", look_at, "outcome unknown")
    since = on_time_from(row, due, now)
    if first_seen_past(row, due, grace):
        late = _minutes(now - due)
        return Decision("past", reason=f"already {late} past when first seen", since=due)
    if since < now - grace:
        late = _minutes(now - since)
        if since == due:
            return Decision("missed", reason=f"{late} late, more than the grace", since=since)
        return Decision(
            "missed",
            reason=f"{late} past its next try, more than the grace",
            since=since,
        )
    if row.attempt_count:
        reason = f"try {row.attempt_count + 1}"
    else:
        reason = "late, within the grace" if since < now else ""
    return Decision("publish", max(since, now), reason, since)


def _minutes(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} minutes"
    if minutes < 48 * 60:
        return f"{minutes // 60} hours"
    return f"{minutes // (24 * 60)} days"
