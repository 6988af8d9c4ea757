"""`campaign run`: start the daemon, for real, as a dry run, or as a rehearsal."""

from __future__ import annotations

import logging
import re
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
from scheduler.cli.support import CommandExit, opened_store
from scheduler.clock import system_clock
from scheduler.daemon import Daemon, WentOut
from scheduler.daemon_lock import AlreadyRunning, DaemonLock
from scheduler.leader import LOST_LOCK_EXIT, Leadership
from scheduler.logs import LogFormat, configure_logging
from scheduler.notify import Notifier
from scheduler.prepare import prepare_posts
from scheduler.store.models import State
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
    rehearse: float | None,
    log_format: LogFormat,
    out: Console,
    err: Console,
    standby: bool = False,
) -> int:
    """Run until stopped (or, rehearsing, until the campaign has gone out); the exit code.

    ``standby``: wait for the scheduler running on this database to end, then take over.
    A scheduler that loses its lock stops claiming and exits with code 3.
    """
    configure_logging(log_format)
    try:
        if rehearse is not None:
            return _rehearse(config, rehearse, out, err)
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


def _rehearse(config: Config, speed: float, out: Console, err: Console) -> int:
    if speed <= 0:
        err.print("[red]error[/]: --rehearse takes a speed above 0, such as 100000.")
        return 2
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
            return _rehearse_with(config, store, folder, speed, out, err)
    except UnsafeOutput as problem:
        err.print(f"[red]error[/]: {escape(str(problem))}")
        return 2
    finally:
        lock.release()


def _rehearse_with(
    config: Config, store: Store, folder: Path, speed: float, out: Console, err: Console
) -> int:
    result = load_campaign(config)
    ready = [post for post in result.posts if post.is_ready]
    if not ready:
        err.print("Nothing to rehearse: no post has status: ready.")
        return 1
    log.info("rehearsal: preparing the branded images of %d posts", len(ready))
    prepare_posts(ready, config, workers=None)
    origin = min(post.publish_at.utc for post in ready)
    span = max(post.publish_at.utc for post in ready) - origin
    start = system_clock() + REHEARSAL_LEAD
    log.info(
        "rehearsal: %s of campaign in %.0f s (speed %g); outbox %s",
        span,
        span.total_seconds() / speed,
        speed,
        folder / "outbox",
    )
    setups = outbox_setups(config, folder / "outbox")  # every account, in its own folder
    daemon = Daemon(
        config,
        store,
        setups,
        time_map=TimeMap.rehearsal(origin, start, speed),
        exit_when_done=True,
    )
    daemon.run()
    _print_summary(daemon.went_out, start, config, out)
    failed = [item for item in daemon.went_out if item.outcome.state != State.PUBLISHED]
    return 1 if failed else 0


def _print_summary(went_out: list[WentOut], start: datetime, config: Config, out: Console) -> None:
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
    console.print(table)
    published = sum(1 for item in went_out if item.outcome.state == State.PUBLISHED)
    worst = max(lateness, default=0.0)
    console.print(
        f"{published} of {len(went_out)} publications went out; the latest was "
        f"{worst * 1000:.0f} ms after its time. What was sent is in "
        f"{literal(str(config.build_dir / REHEARSAL_FOLDER / 'outbox'))}."
    )


def _log_setups(setups: dict[str, ChannelSetup]) -> None:
    for setup in setups.values():
        log.info("%s", setup.description)
