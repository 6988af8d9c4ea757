"""What a rehearsal replays, at what speed, and how long it takes (no printing here).

``campaign run --rehearse SPEED|DURATION [--from DATE] [--until DATE]``: the window
chooses the publications (inclusive local dates or date-times in the campaign's zone),
and the pace is either a speed (``100000``: that many times faster than the campaign)
or a target duration (``90s``, ``2m``, ``1h30m``) that the window's span is fitted into.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from campaign.post import Post
from campaign.timeparse import TimeProblem, parse_publish_time

#: A rehearsal estimated to take longer than this says how to make it shorter.
LONG_REHEARSAL = timedelta(minutes=2)
#: The target suggested for a long rehearsal: ``--rehearse 60s``.
SUGGESTED_TARGET = "60s"
#: The longest wall time a rehearsal may be planned to take (a speed below this is a typo).
LONGEST_REHEARSAL = timedelta(days=366)

_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|\.\d+")
_DURATION = re.compile(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class PlanProblem(ValueError):
    """A rehearsal that cannot be planned as asked (a usage error), with how to fix it."""


@dataclass(frozen=True)
class Pace:
    """Either ``speed`` (campaign seconds per wall second) or ``target`` (a wall duration
    the window's span is fitted into)."""

    speed: float | None = None
    target: timedelta | None = None

    def speed_for(self, span: timedelta) -> float:
        """The speed that plays ``span`` of campaign at this pace."""
        if self.speed is not None:
            return self.speed
        assert self.target is not None
        if span <= timedelta(0):
            return 1.0  # one moment of campaign: any speed plays it at once
        return span / self.target


def parse_pace(text: str) -> Pace:
    """``100000`` or ``2e5`` → a speed; ``90s``, ``2m``, ``1h``, ``1m30s`` → a target."""
    cleaned = text.strip().lower().replace(" ", "")
    usage = (
        f'--rehearse "{text}" is neither a speed nor a duration. Write a speed, a number above '
        "0 such as 100000 (that many times faster than the campaign), or how long the "
        "rehearsal should take, such as 60s, 2m or 1h30m."
    )
    if _NUMBER.fullmatch(cleaned):
        speed = float(cleaned)
        if not math.isfinite(speed) or speed <= 0:
            raise PlanProblem("--rehearse takes a speed above 0, such as 100000, or a duration.")
        return Pace(speed=speed)
    match = _DURATION.fullmatch(cleaned)
    if not cleaned or match is None or not any(match.groups()):
        raise PlanProblem(usage)
    hours, minutes, seconds = (float(part or 0) for part in match.groups())
    target = timedelta(hours=hours, minutes=minutes, seconds=seconds)
    if target < timedelta(seconds=1):
        raise PlanProblem(
            f"--rehearse {text}: a rehearsal takes at least 1s. Write a duration such as "
            "60s, or a speed such as 100000."
        )
    if target > LONGEST_REHEARSAL:
        raise PlanProblem(f"--rehearse {text}: a rehearsal takes at most 366 days (8784h).")
    return Pace(target=target)


@dataclass(frozen=True)
class Window:
    """The campaign times a rehearsal replays, both ends included (UTC; None: open)."""

    start: datetime | None = None
    end: datetime | None = None

    def holds(self, instant: datetime) -> bool:
        return (self.start is None or self.start <= instant) and (
            self.end is None or instant <= self.end
        )

    @property
    def is_whole(self) -> bool:
        return self.start is None and self.end is None


def parse_window(since: str | None, until: str | None, zone: ZoneInfo) -> Window:
    """``--from``/``--until``: a date (the whole day) or a date-time, local to ``zone``."""
    window = Window(
        _bound("--from", since, zone, end=False) if since is not None else None,
        _bound("--until", until, zone, end=True) if until is not None else None,
    )
    if window.start is not None and window.end is not None and window.start > window.end:
        raise PlanProblem(
            f"--from {since} is after --until {until}: nothing lies between them. Give the "
            "earlier date to --from and the later one to --until."
        )
    return window


def _bound(option: str, text: str, zone: ZoneInfo, *, end: bool) -> datetime:
    cleaned = text.strip()
    if _DATE.fullmatch(cleaned):
        try:
            day = date.fromisoformat(cleaned)
        except ValueError as problem:
            raise PlanProblem(f'{option} "{cleaned}" is not a real date ({problem}).') from None
        if end:  # the whole day, up to the first moment of the next one
            if day == date.max:
                return datetime.max.replace(tzinfo=UTC)
            return _first_moment(day + timedelta(days=1), zone) - timedelta(microseconds=1)
        return _first_moment(day, zone)
    try:
        return parse_publish_time(cleaned, zone).utc
    except TimeProblem as problem:
        raise PlanProblem(
            f"{option} {problem} A date alone, like 2021-09-15, means the whole day."
        ) from None


def _first_moment(day: date, zone: ZoneInfo) -> datetime:
    """The first instant of ``day`` in ``zone`` (after the gap, where midnight is skipped)."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True)
class Group:
    """Publications due from ``first`` to ``last`` (UTC), ``count`` of them."""

    first: datetime
    last: datetime
    count: int


@dataclass(frozen=True)
class RehearsalPlan:
    """What a rehearsal replays: the ready posts in the window, at a speed."""

    posts: tuple[Post, ...]
    publications: int
    first: datetime
    last: datetime
    speed: float
    pace: Pace  # as asked: a speed, or a duration the window was fitted into
    window: Window
    campaign: Group  # every ready post, for comparison
    #: The busiest part of the window, split off at its longest gap (None: no gap).
    busiest: Group | None

    @property
    def span(self) -> timedelta:
        return self.last - self.first

    @property
    def wall(self) -> timedelta:
        """How long the replay takes, from the first publication to the last."""
        return self.span / self.speed

    @property
    def is_long(self) -> bool:
        return self.wall > LONG_REHEARSAL

    def wall_of(self, group: Group) -> timedelta:
        return (group.last - group.first) / self.speed


def plan_rehearsal(
    posts: Sequence[Post], accounts: Collection[str], window: Window, pace: Pace
) -> RehearsalPlan:
    """The plan for rehearsing the ready ``posts`` on ``accounts`` within ``window``.

    Raises :class:`PlanProblem` if no post is ready or none is due in the window (saying
    which dates the campaign spans), or if the speed would make it last over a year.
    """
    ready = sorted((post for post in posts if post.is_ready), key=lambda p: p.publish_at.utc)
    counted = [(post, _publications(post, accounts)) for post in ready]
    counted = [(post, count) for post, count in counted if count]
    if not counted:
        raise PlanProblem(
            "Nothing to rehearse: no ready post goes to an account switched on in config.toml."
        )
    whole = Group(
        counted[0][0].publish_at.utc,
        counted[-1][0].publish_at.utc,
        sum(count for _, count in counted),
    )
    chosen = [(post, count) for post, count in counted if window.holds(post.publish_at.utc)]
    if not chosen:
        raise EmptyWindow(window, whole)
    first, last = chosen[0][0].publish_at.utc, chosen[-1][0].publish_at.utc
    plan = RehearsalPlan(
        posts=tuple(post for post, _ in chosen),
        publications=sum(count for _, count in chosen),
        first=first,
        last=last,
        speed=pace.speed_for(last - first),
        pace=pace,
        window=window,
        campaign=whole,
        busiest=_busiest([(post.publish_at.utc, count) for post, count in chosen]),
    )
    days = plan.span.total_seconds() / plan.speed / 86400  # never a timedelta: it may overflow
    if days > LONGEST_REHEARSAL.days:
        days = min(days, 10_000_000)  # a number a person can read; the point is "too long"
        raise PlanProblem(
            f"At speed {plan.speed:g} this rehearsal would take more than a year "
            f"({'over ' if days >= 10_000_000 else ''}{days:,.0f} days). "
            "Choose a higher speed, such as 100000, or a duration, such as 60s."
        )
    return plan


class EmptyWindow(PlanProblem):
    """No ready post is due in the window; ``campaign``: what the campaign does span."""

    def __init__(self, window: Window, campaign: Group) -> None:
        super().__init__("no publication is due in the window")
        self.window = window
        self.campaign = campaign


def _publications(post: Post, accounts: Collection[str]) -> int:
    return sum(1 for account in post.accounts if account in accounts)


def _busiest(due: list[tuple[datetime, int]]) -> Group | None:
    """Split ``due`` (in time order) at its longest gap; the side with more publications
    (the earlier on a tie). None when everything is due at one time."""
    if len(due) < 2 or due[0][0] == due[-1][0]:
        return None
    gaps = [(due[i + 1][0] - due[i][0], i) for i in range(len(due) - 1)]
    _, at = max(gaps, key=lambda gap: (gap[0], -gap[1]))
    before, after = due[: at + 1], due[at + 1 :]
    count_before = sum(count for _, count in before)
    count_after = sum(count for _, count in after)
    side = before if count_before >= count_after else after
    return Group(side[0][0], side[-1][0], sum(count for _, count in side))
