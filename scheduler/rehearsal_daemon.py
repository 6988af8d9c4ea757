"""The daemon as a rehearsal runs it: only the posts of its window, and the stop signal
that ended it (if one did), so that the rehearsal can tell an interruption from the end."""

from __future__ import annotations

from types import FrameType
from typing import Any

from campaign.post import Post
from scheduler.daemon import Daemon
from scheduler.rehearsal_plan import Window


class RehearsalDaemon(Daemon):
    """A :class:`Daemon` that schedules (and prepares) only the posts due in ``window``:
    a post outside it gets no publication in the rehearsal database at all."""

    def __init__(self, *args: Any, window: Window, **kwargs: Any) -> None:
        self.window = window
        self._window_posts: dict[str, Post] = {}
        #: The signal (SIGINT, SIGTERM) that stopped the rehearsal; None if it finished.
        self.stop_signal: int | None = None
        super().__init__(*args, **kwargs)

    @property  # type: ignore[override]
    def posts(self) -> dict[str, Post]:
        return self._window_posts

    @posts.setter
    def posts(self, ready: dict[str, Post]) -> None:
        self._window_posts = {
            post_id: post
            for post_id, post in ready.items()
            if self.window.holds(post.publish_at.utc)
        }

    def _schedule_safely(self, post: Post, account: str, edited: bool) -> bool:
        if not self.window.holds(post.publish_at.utc):
            return False
        return super()._schedule_safely(post, account, edited)

    def _on_stop_signal(self, number: int, frame: FrameType | None) -> None:
        if self.stop_signal is None:
            self.stop_signal = number
        super()._on_stop_signal(number, frame)
