"""The daemon's prepared posts: renditions drawn in worker processes, never in the daemon.

The daemon prepares posts ahead (at start and at each rescan) and, for a post that is
due before it was prepared, at publish time. Both render in spawned worker processes
(``isolate=True`` in :func:`scheduler.prepare.prepare_posts`): the decoded images, fonts
and allocator arenas die with them, so a daemon that reloads posts many times stays as
small as one that never rendered. A due post that is not prepared yet is prepared on
its own in the thread that publishes it (its account's lane): it never waits for other
posts' rendering, and only its account waits for it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import TypeAlias

from campaign.post import Post
from scheduler.prepare import Prepared

#: Prepares posts with N worker processes (None: one per core): (prepared, problems by id).
PrepareFn: TypeAlias = Callable[[list[Post], int | None], tuple[list[Prepared], dict[str, str]]]


class Preparer:
    """What is prepared, by post id; prepares ahead, or one post when it is due.

    ``current`` says which post object is the daemon's current one for an id: a result
    made from an older version of a post (edited meanwhile) is used by the publish that
    asked for it, but never kept.
    """

    def __init__(self, prepare: PrepareFn, current: Callable[[str], Post | None]) -> None:
        self._prepare = prepare
        self._current = current
        self._lock = threading.Lock()
        #: post id → its requests. Read it freely; change it only through this class.
        self.prepared: dict[str, Prepared] = {}
        self._failed: dict[str, Post] = {}  # post id → the version that could not be prepared

    def get(self, post_id: str) -> Prepared | None:
        with self._lock:
            return self.prepared.get(post_id)

    def keep_only(self, post_ids: Iterable[str]) -> None:
        """Forget every post but these (the others vanished, or were edited)."""
        keep = set(post_ids)
        with self._lock:
            for post_id in [p for p in self.prepared if p not in keep]:
                del self.prepared[post_id]
            for post_id in [p for p in self._failed if p not in keep]:
                del self._failed[post_id]

    def ahead(self, posts: Iterable[Post], workers: int | None) -> dict[str, str]:
        """Prepare the posts not prepared yet (a version that failed is not tried again
        here: its publish tries, and reports, once more); the problems by post id."""
        with self._lock:
            wanted = [
                post
                for post in posts
                if post.id not in self.prepared and self._failed.get(post.id) is not post
            ]
        if not wanted:
            return {}
        return self._run(wanted, workers)[1]

    def now(self, post: Post) -> tuple[Prepared | None, str | None]:
        """``post`` prepared, now if it was not (its own renditions only, in a worker
        process); else None and what is wrong."""
        with self._lock:
            ready = self.prepared.get(post.id)
        if ready is not None:
            return ready, None
        prepared, problems = self._run([post], 1)
        for item in prepared:
            if item.post.id == post.id:
                return item, None
        return None, problems.get(post.id) or "it could not be prepared"

    def _run(self, posts: list[Post], workers: int | None) -> tuple[list[Prepared], dict[str, str]]:
        prepared, problems = self._prepare(posts, workers)
        with self._lock:
            for item in prepared:
                if self._current(item.post.id) is item.post:
                    self.prepared[item.post.id] = item
                    self._failed.pop(item.post.id, None)
            for post in posts:
                if post.id in problems and self._current(post.id) is post:
                    self._failed[post.id] = post
        return prepared, problems
