"""`campaign status`: is the scheduler alive, what comes next, what needs a human.

Where there is no database yet, it says so without importing the store, SQLAlchemy or
rich (:mod:`scheduler.cli.plain`); those come with a database to read.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from scheduler.cli.plain import say
from scheduler.clock import Clock, system_clock
from scheduler.plan_states import database_exists

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from rich.console import Console

    from campaign.config import Config
    from scheduler.store.models import Publication
    from scheduler.store.store import Store


def run_status(config: Config, out: Console, err: Console, clock: Clock = system_clock) -> int:
    """Print the status; exit code 0 when nothing needs a human, 1 otherwise, 2 no store."""
    if not database_exists(config):
        say(
            out,
            "No database yet: the scheduler has not run here. Start it with `campaign run` "
            "(or try `campaign run --rehearse 100000`).",
        )
        return 0
    from scheduler.cli.support import CommandExit, opened_store

    try:
        with opened_store(config.database_url, err) as store:
            return _status(config, store, out, clock)
    except CommandExit as stop:
        return stop.code


def _status(config: Config, store: Store, out: Console, clock: Clock) -> int:
    from rich.markup import escape

    from scheduler.channels.factory import backend_line, build_channels
    from scheduler.store.models import Mode, State

    # Live publications in these states wait for a human (dry-run ones never do).
    needs_a_human = (State.FAILED, State.UNKNOWN, State.MISSED, State.PAST, State.PUBLISHING)
    now = clock()
    zone = config.zone
    _print_daemon(store, config, now, out)
    setups = build_channels(config)
    attention = False
    out.print("\n[bold]Channels[/]")
    for name, setup in setups.items():  # one block per account: its rest and pause are its own
        state = store.channel_state(name)
        line = escape(setup.description)
        line += "\n  " + escape(backend_line(config, name))
        if setup.media_host is not None:
            line += "\n  media host: " + escape(setup.media_host)
        if state.paused_reason:
            attention = True
            line += f"\n  [red]paused[/] since {_local(state.paused_at, zone)}: " + escape(
                state.paused_reason
            )
        if state.cooldown_until and state.cooldown_until > now:
            line += f"\n  [yellow]resting[/] until {_local(state.cooldown_until, zone)}: "
            line += escape(state.cooldown_reason or "")
        out.print(f"  {line}")
    rows = store.publications()
    upcoming = [r for r in rows if r.state == State.SCHEDULED][:10]
    out.print("\n[bold]Next[/]")
    if not upcoming:
        out.print("  nothing scheduled")
    for row in upcoming:
        when = row.next_attempt_at or row.due_at
        retry = f" (try {row.attempt_count + 1})" if row.attempt_count else ""
        dry = " [dim](dry run)[/]" if row.mode == Mode.DRY_RUN else ""
        where = escape(_where(row))
        out.print(f"  {_local(when, zone)}  {escape(row.post_id)} → {where}{retry}{dry}")
    trouble = [r for r in rows if r.state in needs_a_human and r.mode == Mode.LIVE]
    out.print("\n[bold]Needs a human[/]")
    if not trouble:
        out.print("  nothing")
    else:
        attention = True
        for row in trouble:
            out.print(_trouble(row, zone))
    rehearsed = [r for r in rows if r.state in needs_a_human and r.mode == Mode.DRY_RUN]
    if rehearsed:
        out.print(f"\n[dim]{escape(_dry_run_summary(rehearsed, zone))}[/]")
    from scheduler.notify import Notifier

    notifier = Notifier.from_config(config)
    out.print(f"\n[bold]Alerts[/]: {escape(notifier.summary)}")
    for problem in notifier.problems:
        out.print(f"  [yellow]{escape(problem)}[/]")
    pending = store.alerts(undelivered_only=True)
    if pending:
        out.print(f"  {len(pending)} alert(s) not yet delivered.")
    return 1 if attention else 0


def _print_daemon(store: Store, config: Config, now: datetime, out: Console) -> None:
    beat = store.heartbeat()
    if beat is None:
        out.print("Scheduler: [yellow]has never run[/] on this database.")
        return
    silent = now - beat.beat_at
    limit = timedelta(seconds=config.scheduler.heartbeat_seconds * 3)
    holder = beat.holder.split(":")
    who = f"process {holder[1]} on {holder[0]}" if len(holder) >= 2 else beat.holder
    if beat.stopped_at is None and silent <= limit:
        seconds = max(0, int(silent.total_seconds()))  # another host's clock may be ahead
        out.print(
            f"Scheduler: [green]running[/] ({beat.mode}, {who}, since "
            f"{_local(beat.started_at, config.zone)}; last sign of life {seconds} s ago)."
        )
    elif beat.stopped_at is not None:
        out.print(
            f"Scheduler: [yellow]stopped[/] at {_local(beat.stopped_at, config.zone)} ({who})."
        )
    else:
        out.print(
            f"Scheduler: [red]not responding[/]: last sign of life at "
            f"{_local(beat.beat_at, config.zone)} ({who}). Check `journalctl -u campaign`."
        )


def _where(row: Publication) -> str:
    """A default account by its name (``facebook``), another with its platform:
    ``bibliotek-fb (facebook)``."""
    return row.channel if row.account == row.channel else f"{row.account} ({row.channel})"


def _trouble(row: Publication, zone: ZoneInfo) -> str:
    """One publication that needs a human: what happened, and what can be done about it,
    each with its exact command."""
    from rich.markup import escape

    from scheduler.cli.check_output import literal
    from scheduler.store.models import State

    state = State(row.state)
    head = (
        f"  [bold]{literal(row.post_id)}[/] → {literal(_where(row))}: [red]{state.value}[/], "
        f"due {_local(row.due_at, zone)}"
    )
    lines = [head]
    if row.last_error:
        lines.append(f"    {literal(row.last_error)}")
    lines.extend(f"    → {escape(line)}" for line in advice(row))
    return "\n".join(lines)


def advice(row: Publication) -> list[str]:
    """What a human can do about ``row``, each with the exact command."""
    from scheduler.store.models import State

    settle = f"campaign settle {row.post_id} --account {row.account}"
    choices = [
        f"publish it now: `{settle} --publish-now`",
        f'it went out another way (posted by hand): `{settle} --done "REASON"`',
        f'it is not to go out: `{settle} --skip "REASON"`',
    ]
    state = State(row.state)
    if state == State.PAST:
        return ["it was already past when the scheduler first saw it; nothing was sent", *choices]
    if state == State.MISSED:
        return ["the scheduler was not running or was held up; nothing was sent", *choices]
    if state == State.FAILED:
        return ["fix what the message says (`campaign check` helps), then", *choices]
    if state == State.UNKNOWN:
        return [
            "it may be online already: first `campaign reconcile`, which looks for it on the "
            "platform",
            f'if it stays unknown, look on the page: there → `{settle} --done "found online"`; '
            f"not there → `{settle} --publish-now`",
        ]
    return [
        "being published now, or cut off: wait a minute, then `campaign reconcile`",
    ]


def _dry_run_summary(rows: list[Publication], zone: ZoneInfo) -> str:
    """Dry-run publications never need a human: one line for all of them."""
    from campaign.text_patterns import visible

    counts: dict[str, int] = {}
    for row in rows:
        counts[row.state] = counts.get(row.state, 0) + 1
    states = ", ".join(f"{count} {state}" for state, count in counts.items())
    first = min(row.due_at for row in rows).astimezone(zone)
    last = max(row.due_at for row in rows).astimezone(zone)
    names = list(dict.fromkeys(visible(row.post_id) for row in rows))
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return (
        f"Dry run (needs no human): {states} ({first:%Y-%m-%d} … {last:%Y-%m-%d}: {shown}), "
        "nothing was sent. To decide one anyway: `campaign settle POST --publish-now`, "
        '--done "REASON" or --skip "REASON".'
    )


def _local(moment: datetime | None, zone) -> str:  # type: ignore[no-untyped-def]
    return "—" if moment is None else f"{moment.astimezone(zone):%Y-%m-%d %H:%M %Z}"
