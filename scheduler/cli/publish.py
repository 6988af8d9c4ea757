"""`campaign publish` and `campaign reconcile`: the exactly-once path, by hand."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from campaign.config import ChannelName, Config
from campaign.post import Post
from campaign.post_loader import load_campaign
from scheduler.channels.factory import ChannelSetup, build_channels
from scheduler.cli.check_output import display_path
from scheduler.cli.support import CommandExit, opened_store
from scheduler.prepare import prepare_posts
from scheduler.publisher import Publisher, describe_error, mode_of
from scheduler.reconcile import Reconciler
from scheduler.retry_policy import RetryPolicy
from scheduler.settle import publish_by_hand
from scheduler.store.models import State
from scheduler.store.store import Store

_POST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_STYLE = {
    State.PUBLISHED: "green",
    State.FAILED: "red",
    State.UNKNOWN: "yellow",
    State.SCHEDULED: "yellow",
    State.PUBLISHING: "yellow",
    State.MISSED: "red",
}


def find_post(config: Config, name: str) -> Path | None:
    """The post file named by an id (``2021-09-15-demokratidagen``) or a path.

    An id is matched exactly, never as a pattern: publishing cannot be undone.
    """
    as_path = Path(name)
    if as_path.suffix in (".yaml", ".yml") or "/" in name or "\\" in name:
        return as_path if as_path.is_file() else None
    if not _POST_ID.fullmatch(name):
        return None
    for suffix in (".yaml", ".yml"):
        direct = config.posts_dir / f"{name}{suffix}"
        if direct.is_file():
            return direct
        nested = sorted(p for p in config.posts_dir.rglob(f"*{suffix}") if p.stem == name)
        if nested:
            return nested[0]
    return None


def run_publish(
    config: Config,
    name: str,
    channel: ChannelName | None,
    dry_run: bool,
    out: Console,
    err: Console,
    account: str | None = None,
) -> int:
    """Publish one post now; exit code 0 when every account has it, 1 otherwise, 2 usage.

    ``channel``: only the post's accounts on that platform; ``account``: only that one."""
    if account is not None and account not in config.accounts:
        known = ", ".join(config.accounts)
        err.print(
            f"[red]error[/]: --account {escape(account)}: config.toml has no such account "
            f"(its accounts: {escape(known)}). The default accounts are facebook and "
            "instagram; others are the NAME of an \\[accounts.NAME] table."
        )
        return 2
    path = find_post(config, name)
    if path is None:
        err.print(
            f"[red]error[/]: no post {escape(name)!r} in {escape(display_path(config.posts_dir))}. "
            "Give the file name without .yaml, or the path to the file."
        )
        return 2
    result = load_campaign(config, [path])
    if result.errors or not result.posts:
        for diagnostic in result.errors:
            where = f"{display_path(diagnostic.path)}:{diagnostic.position.line}"
            err.print(
                f"{escape(where)}:{diagnostic.position.column}: [red]error[/]: "
                f"{escape(diagnostic.message)}"
            )
        err.print("Nothing was published: fix the errors above first.")
        return 1
    post = result.posts[0]
    if not post.is_ready:
        err.print(
            f"[red]error[/]: {escape(display_path(post.path))} has status: {post.status}. "
            "Only posts with status: ready are published; review and change it first."
        )
        return 1
    accounts = _accounts_of(post, channel, account, err)
    if accounts is None:
        return 2
    try:
        with opened_store(config.database_url, err) as store:
            return _publish(config, post, accounts, dry_run, store, out, err)
    except CommandExit as stop:
        return stop.code


def _publish(
    config: Config,
    post: Post,
    accounts: tuple[str, ...],
    dry_run: bool,
    store: Store,
    out: Console,
    err: Console,
) -> int:
    setups = build_channels(config, dry_run=dry_run)
    off = [account for account in accounts if account not in setups]
    if off:
        for account in off:
            table = config.accounts[account].table if account in config.accounts else account
            err.print(
                f"[red]error[/]: {escape(post.id)} → {escape(account)}: this account is "
                f"switched off ({escape(f'[{table}]')} enabled = false in config.toml). Switch it "
                "on, or leave it out of the post's `accounts:`."
            )
        return 1
    _describe(setups, accounts, out)
    prepared, problems = prepare_posts([post], config)
    if problems:
        err.print(f"[red]error[/]: {escape(post.id)}: {escape(problems[post.id])}")
        return 1
    publisher = Publisher(
        store,
        {name: setup.channel for name, setup in setups.items()},
        RetryPolicy.from_settings(config.publishing),
    )
    now = datetime.now(UTC)
    all_out = True
    for account in accounts:
        mode = mode_of(setups[account].channel)
        try:
            row = store.ensure_publication(
                post.id,
                account,
                post.publish_at.utc,
                now,
                mode,
                channel=post.account_platform[account],
                language=post.language,
                tags=post.tags,
            )
        except Exception as error:  # the database refused it: say so, never a traceback
            err.print(
                f"[red]error[/]: {escape(post.id)} → {escape(account)}: nothing was published, "
                f"because the database could not record it ({escape(describe_error(error))}). "
                "Check the post with `campaign check` and the database, then try again."
            )
            all_out = False
            continue
        outcome = publish_by_hand(publisher, row, prepared[0].requests[account])
        style = _STYLE.get(outcome.state, "white")
        out.print(
            f"[{style}]{outcome.state.value}[/] {escape(post.id)} → {escape(account)}: "
            f"{escape(outcome.message)}"
        )
        all_out &= outcome.state == State.PUBLISHED
    return 0 if all_out else 1


def run_reconcile(config: Config, out: Console, err: Console) -> int:
    """Look for every unknown publication on its platform; 1 if some stay unknown."""
    try:
        with opened_store(config.database_url, err) as store:
            return _reconcile(config, store, out)
    except CommandExit as stop:
        return stop.code


def _reconcile(config: Config, store: Store, out: Console) -> int:
    setups = build_channels(config)
    reconciler = Reconciler(
        store,
        {name: setup.channel for name, setup in setups.items()},
        RetryPolicy.from_settings(config.publishing),
    )
    results = reconciler.reconcile_all(force=True)
    if not results:
        out.print("Nothing to reconcile: no publication has an unknown outcome.")
        return 0
    for item in results:
        style = _STYLE.get(item.state, "white")
        out.print(
            f"[{style}]{item.state.value}[/] {escape(item.post_id)} → {escape(item.account)}: "
            f"{escape(item.message)}"
        )
    return 1 if any(item.state == State.UNKNOWN for item in results) else 0


def _accounts_of(
    post: Post, channel: ChannelName | None, account: str | None, err: Console
) -> tuple[str, ...] | None:
    """The accounts to publish to: all the post's; those on ``channel``; or ``account``
    (None: a usage error, said on ``err``)."""
    if account is not None:
        if account not in post.accounts:
            err.print(
                f"[red]error[/]: {escape(post.id)} does not go to the account "
                f"{escape(account)} (its accounts: {escape(', '.join(post.accounts))})."
            )
            return None
        platform = post.account_platform[account]
        if channel is not None and channel != platform:
            err.print(
                f"[red]error[/]: the account {escape(account)} is on {platform}, not "
                f"{channel}: give --account alone."
            )
            return None
        return (account,)
    if channel is None:
        return post.accounts
    chosen = tuple(name for name in post.accounts if post.account_platform[name] == channel)
    if not chosen:
        err.print(
            f"[red]error[/]: {escape(post.id)} does not go to {channel} "
            f"(its channels: {', '.join(post.channels)})."
        )
        return None
    return chosen


def _describe(setups: dict[str, ChannelSetup], accounts: tuple[str, ...], out: Console) -> None:
    for name in accounts:
        setup = setups.get(name)
        if setup is not None:
            out.print(f"[dim]{escape(setup.description)}[/]")
