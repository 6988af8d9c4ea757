"""The campaign's plan as a table: what goes out when, where (platform and account), in
local time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from rich.table import Table
from rich.text import Text

from campaign.accounts import Account
from campaign.config import CHANNELS
from campaign.post import Post
from campaign.text_patterns import visible

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def plan_rows(posts: Sequence[Post]) -> list[tuple[Post, str]]:
    """One (post, account) pair per publication, in time order; a post's accounts by
    platform, the default account (named like its platform) first."""
    pairs = [(post, account) for post in posts for account in post.accounts]

    def order(pair: tuple[Post, str]) -> tuple[object, ...]:
        post, account = pair
        platform = post.account_platform[account]
        return (post.publish_at.utc, post.id, platform, account != platform, account)

    return sorted(pairs, key=order)


def plan_table(
    posts: Sequence[Post],
    now: datetime,
    title: str,
    states: Mapping[tuple[str, str], str] | None = None,
    channels: Mapping[str, tuple[str, str | None]] | None = None,
    accounts: Mapping[str, Account] | None = None,
) -> Table:
    """A rich table of every publication with its local time and state.

    ``states`` are the store's states by (post id, account); without one, a post's
    state comes from the file: draft, scheduled or past. ``channels`` (account → its
    backend, and why it is a dry run or None) are listed under the table, with the
    display names of ``accounts`` (config.accounts). An "account" column is shown only
    when a publication goes to an account other than a default one.
    """
    # The title names the campaign as config.toml does: shown as written, never as markup.
    caption = Text(channel_lines(channels, accounts)) if channels else None
    table = Table(
        title=Text(visible(title)),
        title_justify="left",
        caption=caption,
        caption_justify="left",
        expand=False,
    )
    rows = plan_rows(posts)
    named = any(account not in CHANNELS for _, account in rows)
    longest_id = max((len(post.id) for post in posts), default=4)
    columns = [("when", 20), ("post", longest_id), ("channel", 9)]
    columns += [("account", 9)] if named else []
    for column, width in (*columns, ("state", 10)):
        table.add_column(column, no_wrap=True, min_width=width)
    table.add_column("lang", no_wrap=True)
    table.add_column("text", no_wrap=True, overflow="ellipsis", max_width=48)
    for post, account in rows:
        channel = post.account_platform[account]
        local = post.publish_at.local
        when = f"{_WEEKDAYS[local.weekday()]} {local:%Y-%m-%d %H:%M}"
        state = publication_state(post, now)
        if post.is_ready and states and (post.id, account) in states:
            state = states[(post.id, account)]
        style = {
            "draft": "dim",
            "past": "yellow",
            "published": "green",
            "failed": "red",
            "missed": "red",
            "unknown": "yellow",
        }.get(state, "")
        first_line = post.caption_for_account(account).strip().splitlines()[0:1]
        text = first_line[0][:60] if first_line else ""
        if len(post.images) > 1:
            text = f"[{len(post.images)} images] {text}"
        # Text from the post is shown as it is written: never read as rich markup ("[red]",
        # "[link=…]"), with invisible characters made visible.
        where = (channel, account) if named else (channel,)
        table.add_row(
            when, Text(post.id), *where, state, post.language, Text(visible(text)), style=style
        )
    return table


def channel_lines(
    channels: Mapping[str, tuple[str, str | None]],
    accounts: Mapping[str, Account] | None = None,
) -> str:
    """One line per account: its backend, live or a dry run and why; an account of
    [accounts.*] with its display name."""
    lines = []
    for name, (backend, reason) in channels.items():
        how = "live" if reason is None else f"dry run to the outbox, because {reason}"
        account = (accounts or {}).get(name)
        shown = name
        if account is not None and not account.is_default and account.display_name != name:
            shown = f"{name} ({account.display_name})"
        lines.append(visible(f"{shown}: {backend}; {how}"))
    return "\n".join(lines)


def publication_state(post: Post, now: datetime) -> str:
    """draft, scheduled (ready, in the future) or past (ready, its time has gone)."""
    if not post.is_ready:
        return "draft"
    return "scheduled" if post.publish_at.utc > now else "past"
