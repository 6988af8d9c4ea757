"""The campaign's plan as a table: what goes out when, where, in local time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from rich.table import Table
from rich.text import Text

from campaign.post import Post
from campaign.text_patterns import visible

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def plan_rows(posts: Sequence[Post]) -> list[tuple[Post, str]]:
    """One (post, channel) pair per publication, in time order."""
    pairs = [(post, channel) for post in posts for channel in post.channels]
    return sorted(pairs, key=lambda pair: (pair[0].publish_at.utc, pair[0].id, pair[1]))


def plan_table(
    posts: Sequence[Post],
    now: datetime,
    title: str,
    states: Mapping[tuple[str, str], str] | None = None,
    channels: Mapping[str, tuple[str, str | None]] | None = None,
) -> Table:
    """A rich table of every publication with its local time and state.

    ``states`` are the store's states by (post id, channel); without one, a post's
    state comes from the file: draft, scheduled or past. ``channels`` (channel → its
    backend, and why it is a dry run or None) are listed under the table.
    """
    # The title names the campaign as config.toml does: shown as written, never as markup.
    caption = Text(channel_lines(channels)) if channels else None
    table = Table(
        title=Text(visible(title)),
        title_justify="left",
        caption=caption,
        caption_justify="left",
        expand=False,
    )
    longest_id = max((len(post.id) for post in posts), default=4)
    for column, width in (("when", 20), ("post", longest_id), ("channel", 9), ("state", 10)):
        table.add_column(column, no_wrap=True, min_width=width)
    table.add_column("lang", no_wrap=True)
    table.add_column("text", no_wrap=True, overflow="ellipsis", max_width=48)
    for post, channel in plan_rows(posts):
        local = post.publish_at.local
        when = f"{_WEEKDAYS[local.weekday()]} {local:%Y-%m-%d %H:%M}"
        state = publication_state(post, now)
        if post.is_ready and states and (post.id, channel) in states:
            state = states[(post.id, channel)]
        style = {
            "draft": "dim",
            "past": "yellow",
            "published": "green",
            "failed": "red",
            "missed": "red",
            "unknown": "yellow",
        }.get(state, "")
        first_line = post.caption_for(channel).strip().splitlines()[0:1]
        text = first_line[0][:60] if first_line else ""
        if len(post.images) > 1:
            text = f"[{len(post.images)} images] {text}"
        # Text from the post is shown as it is written: never read as rich markup ("[red]",
        # "[link=…]"), with invisible characters made visible.
        table.add_row(
            when, Text(post.id), channel, state, post.language, Text(visible(text)), style=style
        )
    return table


def channel_lines(channels: Mapping[str, tuple[str, str | None]]) -> str:
    """One line per channel: its backend, live or a dry run and why."""
    lines = []
    for name, (backend, reason) in channels.items():
        how = "live" if reason is None else f"dry run to the outbox, because {reason}"
        lines.append(visible(f"{name}: {backend}; {how}"))
    return "\n".join(lines)


def publication_state(post: Post, now: datetime) -> str:
    """draft, scheduled (ready, in the future) or past (ready, its time has gone)."""
    if not post.is_ready:
        return "draft"
    return "scheduled" if post.publish_at.utc > now else "past"
