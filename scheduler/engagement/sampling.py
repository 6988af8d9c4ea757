"""Which sample a published post needs now: a plain function of its age.

Posts are sampled at fixed ages (1 h, 6 h, 24 h, 3 d, 7 d, 30 d by default). At each
check, a post gets at most one sample: for the latest age it has passed and not been
sampled at. Ages passed while the scheduler was down are not filled in with numbers
nobody saw; the sample taken at the next chance carries its real age. After the last
age, a post is never read again.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta


def ages_from_hours(hours: Sequence[float]) -> tuple[int, ...]:
    """[engagement] ages_hours as whole seconds."""
    return tuple(round(h * 3600) for h in hours)


def due_target(
    published_at: datetime, ages: Sequence[int], taken: Collection[int], now: datetime
) -> int | None:
    """The target age (seconds) to sample now, or None when nothing is due."""
    age = (now - published_at).total_seconds()
    passed = [target for target in ages if target <= age]
    if not passed:
        return None
    latest = passed[-1]
    if latest in taken or any(target > latest for target in taken):
        return None
    return latest


def next_due(
    published_at: datetime, ages: Sequence[int], taken: Collection[int]
) -> datetime | None:
    """When the post's next sample is due, or None once the last age is sampled."""
    last_taken = max(taken, default=-1)
    for target in ages:
        if target > last_taken:
            return published_at + timedelta(seconds=target)
    return None
