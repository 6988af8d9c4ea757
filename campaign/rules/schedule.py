"""Campaign-wide rules: ids unique, nothing in the past, posts on an account spaced out."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from itertools import pairwise

from campaign.config import Config
from campaign.diagnostics import Diagnostic, DiagnosticSink
from campaign.post import Post


def check_schedule(posts: list[Post], config: Config, now: datetime) -> list[Diagnostic]:
    """Diagnostics that need all posts at once."""
    diagnostics: list[Diagnostic] = []
    by_id: dict[str, list[Post]] = defaultdict(list)
    for post in posts:
        by_id[post.id].append(post)
    for same in by_id.values():
        for post in same[1:]:
            sink = DiagnosticSink(post.path)
            sink.error(
                post.source.of(()),
                "duplicate-id",
                f"another post has the same file name: {same[0].path}. Each post needs its "
                "own name, because the name is how the tool knows it was published.",
            )
            diagnostics.extend(sink.items)
    for post in posts:
        if post.publish_at.utc < now:
            sink = DiagnosticSink(post.path)
            sink.warning(
                post.source.of(("publish_at",)),
                "in-the-past",
                f"{post.publish_at} is in the past: this post will not be published on time. "
                "Move `publish_at` to a future time, or leave it if it is an archived post.",
            )
            diagnostics.extend(sink.items)
    diagnostics.extend(_crowded(posts, timedelta(minutes=config.check.min_gap_minutes)))
    return diagnostics


def _crowded(posts: list[Post], gap: timedelta) -> list[Diagnostic]:
    """Warn when two posts on one account are less than ``gap`` apart (the default
    accounts are named like their channels, so their messages say the channel)."""
    diagnostics: list[Diagnostic] = []
    by_account: dict[str, list[Post]] = defaultdict(list)
    for post in posts:
        for account in post.accounts:
            by_account[account].append(post)
    for account, account_posts in sorted(by_account.items()):
        ordered = sorted(account_posts, key=lambda p: (p.publish_at.utc, p.id))
        for earlier, later in pairwise(ordered):
            apart = later.publish_at.utc - earlier.publish_at.utc
            if apart < gap:
                minutes = int(apart.total_seconds() // 60)
                sink = DiagnosticSink(later.path)
                sink.warning(
                    later.source.of(("publish_at",)),
                    "too-close",
                    f"this post goes out on {account} only {minutes} minutes after "
                    f"{earlier.path.name} ({earlier.publish_at}). Posts this close compete "
                    f"for attention: space them at least {int(gap.total_seconds() // 60)} "
                    "minutes apart.",
                )
                diagnostics.extend(sink.items)
    return diagnostics
