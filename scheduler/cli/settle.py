"""`campaign settle`: publish now, or mark done or skipped, a post that was not sent."""

from __future__ import annotations

from rich.console import Console

from campaign.config import Config
from campaign.post import Post
from campaign.post_loader import load_campaign
from scheduler.channels.factory import ChannelSetup, build_channels
from scheduler.cli.check_output import display_path, literal
from scheduler.cli.publish import find_post
from scheduler.cli.support import CommandExit, opened_store
from scheduler.clock import Clock, system_clock
from scheduler.plan_states import database_exists
from scheduler.prepare import prepare_posts
from scheduler.publisher import Publisher, mode_of
from scheduler.retry_policy import RetryPolicy
from scheduler.settle import (
    Choice,
    Settled,
    SettleError,
    mark,
    publish_now,
    rows_to_settle,
)
from scheduler.store.models import Publication, State
from scheduler.store.store import Store

_STYLE = {State.PUBLISHED: "green", State.DONE: "green", State.SKIPPED: "green"}


def run_settle(
    config: Config,
    post_id: str,
    account: str | None,
    choice: Choice | None,
    reason: str | None,
    out: Console,
    err: Console,
    clock: Clock = system_clock,
) -> int:
    """Settle the post's publications that wait for a decision; 0 when each is settled,
    1 when one is not (or there is nothing to settle), 2 a usage mistake."""
    if choice is None:
        err.print(
            "[red]error[/]: say what to do: --publish-now (publish it now, exactly once), "
            '--done "REASON" (it went out another way, e.g. posted by hand) or --skip "REASON" '
            "(it is not to go out)."
        )
        return 2
    if not database_exists(config):
        err.print(
            "[red]error[/]: nothing to settle: there is no database yet (the scheduler has not "
            "run here)."
        )
        return 1
    setups = build_channels(config)
    modes = {name: mode_of(setup.channel) for name, setup in setups.items()}
    on_disk = {
        path.stem for suffix in ("*.yaml", "*.yml") for path in config.posts_dir.rglob(suffix)
    }
    try:
        with opened_store(config.database_url, err) as store:
            rows = rows_to_settle(store, config, post_id, account, modes, on_disk)
            if choice == "publish-now":
                results = _publish_now(config, post_id, rows, setups, store, out, err, clock)
            else:
                results = mark(store, rows, choice, reason or "", zone=config.zone, clock=clock)
    except CommandExit as stop:
        return stop.code
    except SettleError as problem:
        err.print(f"[red]error[/]: {literal(problem.message)}")
        return problem.code
    for result in results:
        style = _STYLE.get(result.state, "yellow") if result.ok else "red"
        out.print(
            f"[{style}]{result.state.value}[/] {literal(result.row.post_id)} → "
            f"{literal(result.row.account)}: {literal(result.message)}"
        )
    return 0 if all(result.ok for result in results) else 1


def _publish_now(
    config: Config,
    post_id: str,
    rows: list[Publication],
    setups: dict[str, ChannelSetup],
    store: Store,
    out: Console,
    err: Console,
    clock: Clock,
) -> list[Settled]:
    """Publish the post now on each row's account: the post file as it is now."""
    post = _ready_post(config, post_id, err)
    off = [row.account for row in rows if row.account not in setups]
    if off:
        err.print(
            f"[red]error[/]: {literal(', '.join(off))} is switched off in config.toml: switch it "
            "on to publish there, or settle it with --done or --skip."
        )
        raise CommandExit(1)
    for row in rows:
        out.print(f"[dim]{literal(setups[row.account].description)}[/]")
    prepared, problems = prepare_posts([post], config)
    if problems:
        err.print(f"[red]error[/]: {literal(post.id)}: {literal(problems[post.id])}")
        raise CommandExit(1)
    publisher = Publisher(
        store,
        {name: setup.channel for name, setup in setups.items()},
        RetryPolicy.from_settings(config.publishing),
        clock,
    )
    return publish_now(publisher, post, rows, prepared[0].requests)


def _ready_post(config: Config, post_id: str, err: Console) -> Post:
    """The post as its file is now, ready to be published; else a message and exit 1."""
    path = find_post(config, post_id)
    if path is None:
        err.print(
            f"[red]error[/]: {literal(post_id)}: its file is gone from "
            f"{literal(display_path(config.posts_dir))}, so it cannot be published now. If "
            'it went out another way, settle it with --done "REASON"; else --skip "REASON".'
        )
        raise CommandExit(1)
    result = load_campaign(config, [path])
    if result.errors or not result.posts:
        for diagnostic in result.errors:
            where = f"{display_path(diagnostic.path)}:{diagnostic.position.line}"
            err.print(f"{literal(where)}: [red]error[/]: {literal(diagnostic.message)}")
        err.print("Nothing was published: fix the errors above first (`campaign check`).")
        raise CommandExit(1)
    post = result.posts[0]
    if not post.is_ready:
        err.print(
            f"[red]error[/]: {literal(display_path(post.path))} has status: {post.status}. "
            "Only posts with status: ready are published; review and change it first."
        )
        raise CommandExit(1)
    return post
