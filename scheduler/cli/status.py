"""`campaign status`: is the scheduler alive, what comes next, what needs a human."""

from __future__ import annotations

from datetime import datetime, timedelta

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from campaign.config import Config
from scheduler.channels.factory import backend_line, build_channels
from scheduler.cli.support import CommandExit, opened_store
from scheduler.clock import Clock, system_clock
from scheduler.plan_states import database_exists
from scheduler.store.models import Mode, Publication, State
from scheduler.store.store import Store

NEEDS_A_HUMAN = (State.FAILED, State.UNKNOWN, State.MISSED, State.PUBLISHING)


def run_status(config: Config, out: Console, err: Console, clock: Clock = system_clock) -> int:
    """Print the status; exit code 0 when nothing needs a human, 1 otherwise, 2 no store."""
    if not database_exists(config):
        out.print(
            "No database yet: the scheduler has not run here. Start it with `campaign run` "
            "(or try `campaign run --rehearse 100000`)."
        )
        return 0
    try:
        with opened_store(config.database_url, err) as store:
            return _status(config, store, out, clock)
    except CommandExit as stop:
        return stop.code


def _status(config: Config, store: Store, out: Console, clock: Clock) -> int:
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
    trouble = [r for r in rows if r.state in NEEDS_A_HUMAN]
    out.print("\n[bold]Needs a human[/]")
    if not trouble:
        out.print("  nothing")
    else:
        attention = True
        out.print(_trouble_table(trouble, zone))
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


def _trouble_table(rows: list[Publication], zone) -> Table:  # type: ignore[no-untyped-def]
    """What needs a human; an "account" column only when a row is for an account of
    [accounts.*], whose advice then names it (``--account NAME``)."""
    named = any(row.account != row.channel for row in rows)
    table = Table(show_header=True, expand=False)
    columns = ("post", "channel", *(("account",) if named else ()), "state", "due", "what to do")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        state = State(row.state)
        message = row.last_error or ""
        what = _advice(row, state)
        table.add_row(
            row.post_id,
            row.channel,
            *((row.account,) if named else ()),
            state.value,
            _local(row.due_at, zone),
            f"{message}\n→ {what}" if message else f"→ {what}",
        )
    return table


def _advice(row: Publication, state: State) -> str:
    """What to do about ``row``; by hand for an account of [accounts.*] with its name."""
    publish = "`campaign publish POST --channel C`"
    if row.account != row.channel:
        publish = f"`campaign publish {row.post_id} --account {row.account}`"
    return {
        State.FAILED: f"fix what the message says, then {publish}",
        State.UNKNOWN: "run `campaign reconcile` (or look on the platform)",
        State.MISSED: f"{publish} if it should still go out",
        State.PUBLISHING: "being published now, or cut off: `campaign reconcile`",
    }[state]


def _local(moment: datetime | None, zone) -> str:  # type: ignore[no-untyped-def]
    return "—" if moment is None else f"{moment.astimezone(zone):%Y-%m-%d %H:%M}"
