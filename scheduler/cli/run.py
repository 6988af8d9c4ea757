"""`campaign run`: start the daemon, for real, as a dry run, or as a rehearsal."""

from __future__ import annotations

import logging
import re
import signal
from datetime import datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from campaign.config import Config
from campaign.outputs import REHEARSAL_FOLDER
from campaign.post_loader import load_campaign
from campaign.safe_output import UnsafeOutput, real_folder, refuse_link, remove_generated
from scheduler.channels.factory import ChannelSetup, build_channels, outbox_setups
from scheduler.channels.outbox import clear_outbox
from scheduler.cli.check_output import literal
from scheduler.cli.rehearsal_text import (
    announcement,
    empty_window_text,
    outcome_line,
    went_out_count,
)
from scheduler.cli.support import CommandExit, opened_store
from scheduler.clock import system_clock
from scheduler.daemon import Daemon, WentOut
from scheduler.daemon_lock import AlreadyRunning, DaemonLock
from scheduler.leader import LOST_LOCK_EXIT, Leadership
from scheduler.logs import LogFormat, configure_logging
from scheduler.notify import Notifier
from scheduler.prepare import prepare_posts
from scheduler.rehearsal_daemon import RehearsalDaemon
from scheduler.rehearsal_plan import (
    EmptyWindow,
    PlanProblem,
    RehearsalPlan,
    parse_pace,
    parse_window,
    plan_rehearsal,
)
from scheduler.store.store import Store
from scheduler.timing import TimeMap

log = logging.getLogger("campaign.daemon")
#: A rehearsal's first post goes out this long after everything is prepared.
REHEARSAL_LEAD = timedelta(seconds=2)
#: The rehearsal database's files, deleted before each rehearsal (never its lock file).
_REHEARSAL_DB = re.compile(r"rehearsal\.db(?:-wal|-shm|-journal)?")


def run_daemon(
    config: Config,
    *,
    dry_run: bool,
    rehearse: str | None,
    log_format: LogFormat,
    out: Console,
    err: Console,
    standby: bool = False,
    since: str | None = None,
    until: str | None = None,
) -> int:
    """Run until stopped (or, rehearsing, until the campaign has gone out); the exit code.

    ``rehearse``: a speed or a duration (see :func:`parse_pace`); ``since``/``until``: the
    window it replays (``--from``/``--until``). ``standby``: wait for the scheduler
    running on this database to end, then take over. A scheduler that loses its lock
    stops claiming and exits with code 3.
    """
    configure_logging(log_format)
    try:
        if rehearse is not None:
            return _rehearse(config, rehearse, since, until, out, err)
        if since is not None or until is not None:
            err.print(
                "[red]error[/]: --from and --until choose what a rehearsal replays; add "
                "--rehearse, such as: campaign run --rehearse 60s --from 2021-09-15"
            )
            return 2
        leader = Leadership.from_config(config, standby=standby)
        with opened_store(config.database_url, err, locked=True, leader=leader) as store:
            setups = build_channels(config, dry_run=dry_run)
            _log_setups(setups)
            store.fence = leader.fence  # its claims end with its lease (Store.claim)
            daemon = Daemon(config, store, setups, notifier=Notifier.from_config(config))
            leader.on_lost(lambda _reason: daemon.request_stop())
            code = daemon.run() if leader.lost is None else 0
            if leader.lost is not None:
                log.error(
                    "stopped after losing the scheduler lock (%s); exit code %d",
                    leader.lost,
                    LOST_LOCK_EXIT,
                )
                return LOST_LOCK_EXIT
            return code
    except CommandExit as stop:
        return stop.code


def _rehearse(
    config: Config, pace_text: str, since: str | None, until: str | None, out: Console, err: Console
) -> int:
    try:
        pace = parse_pace(pace_text)
        window = parse_window(since, until, config.zone)
        ready = [post for post in load_campaign(config).posts if post.is_ready]
        if not ready:
            err.print("Nothing to rehearse: no post has status: ready.")
            return 1
        accounts = {account.name for account in config.enabled_accounts}
        plan = plan_rehearsal(ready, accounts, window, pace)
    except EmptyWindow as empty:
        err.print(f"[red]error[/]: {escape(empty_window_text(empty, since, until, config.zone))}")
        return 2
    except PlanProblem as problem:
        err.print(f"[red]error[/]: {escape(str(problem))}")
        return 2
    out.print(escape(announcement(plan, config.zone, pace_text, since, until)))
    try:
        folder = real_folder(config.build_dir / REHEARSAL_FOLDER, root=config.base_dir)
    except UnsafeOutput as problem:
        err.print(f"[red]error[/]: {escape(str(problem))}")
        return 2
    database = folder / "rehearsal.db"
    url = f"sqlite:///{database}"
    lock = DaemonLock.for_url(url)
    try:
        lock.acquire()
    except AlreadyRunning as problem:
        err.print(f"[red]error[/]: {escape(str(problem))}")
        return 2
    try:
        remove_generated(folder, _REHEARSAL_DB)
        for name in ("rehearsal.db", "rehearsal.db-wal", "rehearsal.db-shm", "outbox"):
            refuse_link(folder / name)
        clear_outbox(folder / "outbox")
        with opened_store(url, err) as store:
            return _rehearse_with(config, store, folder, plan, out)
    except UnsafeOutput as problem:
        err.print(f"[red]error[/]: {escape(str(problem))}")
        return 2
    finally:
        lock.release()


def _rehearse_with(
    config: Config, store: Store, folder: Path, plan: RehearsalPlan, out: Console
) -> int:
    """Replay ``plan``; the exit code: 0 all went out, 1 some did not, 128 + the signal
    number (130 for Ctrl-C, 143 for SIGTERM) if a signal stopped it."""
    log.info("rehearsal: preparing the branded images of %d posts", len(plan.posts))
    try:
        prepare_posts(plan.posts, config, workers=None)
    except KeyboardInterrupt:  # before the daemon's own handlers: nothing went out yet
        _print_summary([], system_clock(), config, out, plan, interrupted=True)
        return 128 + signal.SIGINT
    start = system_clock() + REHEARSAL_LEAD
    log.info(
        "rehearsal: %s of campaign in %.0f s (speed %g); outbox %s",
        plan.span,
        plan.wall.total_seconds(),
        plan.speed,
        folder / "outbox",
    )
    setups = outbox_setups(config, folder / "outbox")  # every account, in its own folder
    daemon = RehearsalDaemon(
        config,
        store,
        setups,
        time_map=TimeMap.rehearsal(plan.first, start, plan.speed),
        exit_when_done=True,
        window=plan.window,
    )
    daemon.run()
    stopped_by = daemon.stop_signal
    _print_summary(daemon.went_out, start, config, out, plan, interrupted=stopped_by is not None)
    if stopped_by is not None:
        return 128 + stopped_by
    from campaign.outputs import STATS_HTML
    from scheduler.engagement.simulated import simulate_audience  # a finished rehearsal only

    simulate_audience(store, config)
    out.print(
        "See what the engagement report will look like (simulated audience): "
        f"campaign stats --rehearsal --html {STATS_HTML}"
    )
    return 0 if went_out_count(daemon.went_out) == plan.publications else 1


def _print_summary(
    went_out: list[WentOut],
    start: datetime,
    config: Config,
    out: Console,
    plan: RehearsalPlan,
    *,
    interrupted: bool,
) -> None:
    """The table of what went out, and how many of the plan's publications did."""
    table = Table(title="Rehearsal: what went out when", title_justify="left")
    # An account column only when something went to an account of [accounts.*].
    named = any(item.account != item.channel for item in went_out)
    columns = ("campaign time", "post", "channel", *(("account",) if named else ()))
    for column in (*columns, "due (s)", "went (s)", "late", "result"):
        table.add_column(column, no_wrap=True)
    lateness = []
    order = sorted(
        went_out, key=lambda w: (w.planned, w.post_id, w.channel, w.account != w.channel, w.account)
    )
    for item in order:
        late = (item.started - item.planned).total_seconds()
        lateness.append(late)
        local = item.campaign_time.astimezone(config.zone)
        table.add_row(
            f"{local:%a %Y-%m-%d %H:%M}",
            item.post_id,
            item.channel,
            *((item.account,) if named else ()),
            f"{(item.planned - start).total_seconds():.2f}",
            f"{(item.started - start).total_seconds():.2f}",
            f"{late * 1000:.0f} ms",
            item.outcome.state.value,
        )
    console = out if out.is_terminal else Console(width=150, highlight=False)
    if went_out:
        console.print(table)
    outcome = outcome_line(went_out_count(went_out), plan.publications, interrupted=interrupted)
    worst = max(lateness, default=0.0)
    latest = f" The latest went {worst * 1000:.0f} ms after its time." if lateness else ""
    console.print(
        f"{outcome}.{latest} What was sent is in "
        f"{literal(str(config.build_dir / REHEARSAL_FOLDER / 'outbox'))}."
    )


def _log_setups(setups: dict[str, ChannelSetup]) -> None:
    for setup in setups.values():
        log.info("%s", setup.description)
