"""Publishing times as communicators write them, checked against daylight saving.

A local time like ``2021-09-15 09:00`` is read in the campaign's zone. A wall
time that the clocks skip (spring forward) or show twice (fall back) is refused
with both candidates named, since guessing could post an hour early or late.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

_SHAPE = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?(\s*(Z|[+-]\d{2}:?\d{2}))?"
)
EXAMPLE = "2021-09-15 09:00"


class TimeProblem(ValueError):
    """A publishing time that cannot be used, with a message saying how to write it."""


@dataclass(frozen=True)
class PublishTime:
    """An instant, kept in UTC, with how it reads in the campaign's zone."""

    utc: datetime
    zone: ZoneInfo

    @property
    def local(self) -> datetime:
        return self.utc.astimezone(self.zone)

    def __str__(self) -> str:
        return format_local(self.utc, self.zone)


def format_local(instant: datetime, zone: ZoneInfo) -> str:
    """``2021-09-15 09:00 CEST`` — how a communicator reads an instant."""
    return instant.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def parse_publish_time(text: str, zone: ZoneInfo) -> PublishTime:
    """Read ``text`` as local wall time in ``zone``, or as ISO 8601 with an offset."""
    cleaned = text.strip()
    if not _SHAPE.fullmatch(cleaned):
        raise TimeProblem(
            f'"{cleaned}" is not a time this tool understands. Write the date and the time '
            f"of day in {zone.key}, like {EXAMPLE} (year-month-day hour:minute), or with "
            "an offset, like 2021-09-15T09:00+02:00."
        )
    try:
        parsed = datetime.fromisoformat(cleaned.replace(" +", "+").replace(" -", "-"))
    except ValueError as exc:
        raise TimeProblem(f'"{cleaned}" is not a real date and time ({exc}).') from None
    if parsed.tzinfo is not None:
        return PublishTime(parsed.astimezone(UTC), zone)
    return PublishTime(_resolve_wall_time(parsed, zone), zone)


def _resolve_wall_time(wall: datetime, zone: ZoneInfo) -> datetime:
    earlier = wall.replace(tzinfo=zone, fold=0)
    later = wall.replace(tzinfo=zone, fold=1)
    earlier_utc, later_utc = earlier.astimezone(UTC), later.astimezone(UTC)
    if earlier_utc == later_utc:
        return earlier_utc
    stated = wall.strftime("%Y-%m-%d %H:%M")
    if earlier_utc.astimezone(zone).replace(tzinfo=None) != wall:
        # In a gap, fold=0 uses the offset before the change and lands after the gap.
        before, after = sorted((earlier_utc, later_utc))
        raise TimeProblem(
            f"{stated} does not exist in {zone.key}: the clocks jump forward that night "
            f"(daylight saving time starts). Did you mean {format_local(before, zone)} or "
            f"{format_local(after, zone)}? Write one of those times instead."
        )
    raise TimeProblem(
        f"{stated} happens twice in {zone.key}: the clocks go back that night (daylight saving "
        f"time ends). Write which one you mean with its offset: "
        f"{_with_offset(earlier_utc, zone)} ({format_local(earlier_utc, zone)}) or "
        f"{_with_offset(later_utc, zone)} ({format_local(later_utc, zone)})."
    )


def _with_offset(instant: datetime, zone: ZoneInfo) -> str:
    return instant.astimezone(zone).isoformat(timespec="minutes")
