"""What a rehearsal says: its plan and estimate up front, and its outcome at the end."""

from __future__ import annotations

import shlex
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from scheduler.rehearsal_plan import SUGGESTED_TARGET, EmptyWindow, RehearsalPlan, parse_pace
from scheduler.store.models import State

if TYPE_CHECKING:
    from scheduler.daemon import WentOut


def announcement(
    plan: RehearsalPlan, zone: ZoneInfo, pace_text: str, since: str | None, until: str | None
) -> str:
    """What the rehearsal replays and how long it takes; if long, how to make it shorter."""
    posts = f"{len(plan.posts)} post" + ("" if len(plan.posts) == 1 else "s")
    share = (
        f"{plan.publications} of the campaign's {plan.campaign.count}"
        if plan.publications != plan.campaign.count
        else f"{plan.publications}"
    )
    when = (
        f"due {local(plan.first, zone)}"
        if plan.span <= timedelta(0)
        else f"due {local(plan.first, zone)} to {local(plan.last, zone)}"
    )
    fitted = "" if plan.pace.speed is not None else f" (to fit {pace_text.strip()})"
    lines = [
        f"Rehearsing {share} publications ({posts}) {when} ({zone.key}): "
        f"{span_text(plan.span)} of campaign at speed {speed_text(plan.speed)}{fitted}, "
        f"about {duration_text(plan.wall)} once the images are prepared."
    ]
    if plan.is_long:
        lines += [
            "That is long. To make it shorter:",
            *_shorter(plan, zone, pace_text, since, until),
        ]
    return "\n".join(lines)


def _shorter(
    plan: RehearsalPlan, zone: ZoneInfo, pace_text: str, since: str | None, until: str | None
) -> list[str]:
    window = [*_option("--from", since), *_option("--until", until)]
    commands = [
        (
            _command(SUGGESTED_TARGET, window),
            f"the same {plan.publications} publications in about a minute",
        )
    ]
    busiest = plan.busiest
    if busiest is not None:
        is_speed = plan.pace.speed is not None
        pace = pace_text.strip() if is_speed else SUGGESTED_TARGET
        wall = plan.wall_of(busiest) if is_speed else parse_pace(SUGGESTED_TARGET).target
        assert wall is not None
        first, last = busiest.first.astimezone(zone), busiest.last.astimezone(zone)
        dates = ["--from", f"{first:%Y-%m-%d}", "--until", f"{last:%Y-%m-%d}"]
        commands.append(
            (
                _command(pace, dates),
                f"only the {busiest.count} publications due then: about {duration_text(wall)}",
            )
        )
    width = max(len(command) for command, _ in commands)
    return [f"  {command.ljust(width)}   ({why})" for command, why in commands]


def _option(name: str, value: str | None) -> list[str]:
    return [] if value is None else [name, value.strip()]


def _command(pace: str, window: list[str]) -> str:
    return shlex.join(["campaign", "run", "--rehearse", pace, *window])


def empty_window_text(
    empty: EmptyWindow, since: str | None, until: str | None, zone: ZoneInfo
) -> str:
    """No publication is due in the window: say which dates the campaign spans."""
    asked = shlex.join(_option("--from", since) + _option("--until", until))
    campaign = empty.campaign
    return (
        f"no ready post is due in {asked}. The campaign's {campaign.count} publications are "
        f"due from {local(campaign.first, zone)} to {local(campaign.last, zone)} ({zone.key}): "
        "choose dates in that span."
    )


def went_out_count(went_out: list[WentOut]) -> int:
    """How many publications went out (each counted once, however many tries it took)."""
    return len(
        {(item.post_id, item.account) for item in went_out if item.outcome.state == State.PUBLISHED}
    )


def outcome_line(published: int, planned: int, *, interrupted: bool) -> str:
    """``6 of 6 publications went out``, or the truth about an interrupted rehearsal."""
    if interrupted and published >= planned:
        return f"Interrupted, but all {planned} publications had gone out"
    counts = f"{published} of {planned} publications went out"
    if interrupted:
        return f"Interrupted: {counts}; {planned - published} did not (rehearsal stopped)"
    if published < planned:
        return f"{counts}; {planned - published} did not (see the result column)"
    return counts


def local(instant: datetime, zone: ZoneInfo) -> str:
    return f"{instant.astimezone(zone):%a %Y-%m-%d %H:%M}"


def speed_text(speed: float) -> str:
    return f"{speed:,.0f}" if speed >= 100 else f"{speed:.3g}"


def span_text(span: timedelta) -> str:
    """Campaign time, roughly: ``35 days``, ``6 hours``, ``45 minutes``."""
    seconds = span.total_seconds()
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:,.0f} days"
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:.0f} hours"
    if seconds >= 60:
        return f"{seconds / 60:.0f} minutes"
    return "no time" if seconds <= 0 else f"{seconds:.0f} seconds"


def duration_text(wall: timedelta) -> str:
    """Wall time, roughly: ``30 s``, ``4 min 10 s``, ``27 min``, ``2 h 5 min``, ``3 days``."""
    seconds = round(wall.total_seconds())
    if seconds < 1:
        return "a moment"
    if seconds < 90:
        return f"{seconds} s"
    minutes, rest = divmod(seconds, 60)
    if minutes < 10:
        return f"{minutes} min {rest} s"
    if minutes < 120:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min"
    return f"{hours / 24:,.0f} days"
