"""Per-account lanes: publications due together go out in parallel, one account's in order.

Every account has a lane: a queue ordered by (due time, key) of which at most one item
runs at a time, so one account's requests never overlap (its rate limits, cool-downs and
order hold). Different accounts run at once on one bounded pool of ``parallel`` threads.
An account is any string (today the channel name, later the account's name).

A key already waiting is not queued twice. A key that is running is queued once more,
to run after it: the publish job reads the store afresh, so a second run is harmless,
while a dropped one could leave a moved post without a job.

:meth:`AccountLanes.stop` drops what is waiting and waits for what runs. A dropped
publication is still ``scheduled`` in the store, so the next start schedules it again.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

log = logging.getLogger("campaign.lanes")


@dataclass(order=True)
class _Item:
    due: datetime
    key: str
    number: int  # submission order: ties of (due, key), a re-run after the running one
    work: Callable[[], None] = field(compare=False)


@dataclass
class _Lane:
    waiting: list[_Item] = field(default_factory=list)  # a heap
    running: str | None = None


class AccountLanes:
    """Per-account queues of work sharing ``parallel`` threads.

    At most ``parallel`` items run at once, never two of one account. When a thread is
    free it takes the earliest (due, key) among the accounts that have nothing running.
    """

    def __init__(self, parallel: int, *, name: str = "publish") -> None:
        if parallel < 1:
            raise ValueError(f"parallel must be at least 1, not {parallel}")
        self.parallel = parallel
        self._pool = ThreadPoolExecutor(parallel, thread_name_prefix=name)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._lanes: dict[str, _Lane] = {}
        self._ready: set[str] = set()  # accounts with work waiting and none running
        self._active = 0  # items handed to the pool: each has a thread of its own
        self._numbers = itertools.count()
        self._stopped = False

    def submit(self, account: str, key: str, due: datetime, work: Callable[[], None]) -> bool:
        """Queue ``work`` in ``account``'s lane; False if stopped or ``key`` already waits."""
        with self._lock:
            if self._stopped:
                return False
            lane = self._lanes.setdefault(account, _Lane())
            if any(item.key == key for item in lane.waiting):
                return False
            heapq.heappush(lane.waiting, _Item(due, key, next(self._numbers), work))
            if lane.running is None:
                self._ready.add(account)
                self._dispatch()
            self._changed.notify_all()
            return True

    def in_flight(self) -> int:
        """How many items wait or run, over every account."""
        with self._lock:
            return sum(
                len(lane.waiting) + (lane.running is not None) for lane in self._lanes.values()
            )

    def running(self) -> dict[str, str]:
        """account → the key running in its lane now."""
        with self._lock:
            return {a: lane.running for a, lane in self._lanes.items() if lane.running}

    def waiting(self, account: str) -> list[str]:
        """The keys waiting in ``account``'s lane, in the order they will run."""
        with self._lock:
            lane = self._lanes.get(account)
            return [item.key for item in sorted(lane.waiting)] if lane else []

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until nothing waits or runs; whether that happened within ``timeout``."""
        with self._lock:
            return self._changed.wait_for(self._idle, timeout)

    def stop(self, on_running: Callable[[int], None] | None = None) -> list[str]:
        """Drop every waiting item, wait for the running ones; the dropped keys.

        ``on_running`` is told how many still run, before the wait (only if any do).
        """
        with self._lock:
            self._stopped = True
            dropped = [item.key for lane in self._lanes.values() for item in sorted(lane.waiting)]
            for lane in self._lanes.values():
                lane.waiting.clear()
            self._ready.clear()
            busy = self._active
            self._changed.notify_all()
        if dropped:
            log.info("stopping: %d publication(s) not started stay scheduled", len(dropped))
        if busy and on_running is not None:
            on_running(busy)
        with self._lock:
            self._changed.wait_for(self._idle)
        self._pool.shutdown(wait=True)
        return dropped

    def _idle(self) -> bool:
        return self._active == 0 and not any(lane.waiting for lane in self._lanes.values())

    def _dispatch(self) -> None:
        """With the lock held: give free threads to the ready lanes, earliest first."""
        while self._ready and self._active < self.parallel:
            account = min(self._ready, key=lambda name: self._lanes[name].waiting[0])
            self._ready.discard(account)
            lane = self._lanes[account]
            item = heapq.heappop(lane.waiting)
            lane.running = item.key
            self._active += 1
            self._pool.submit(self._run, account, lane, item)

    def _run(self, account: str, lane: _Lane, item: _Item) -> None:
        try:
            item.work()
        except Exception:
            log.exception("%s in lane %s failed unexpectedly; the lane goes on", item.key, account)
        finally:
            with self._lock:
                lane.running = None
                self._active -= 1
                if lane.waiting and not self._stopped:
                    self._ready.add(account)
                self._dispatch()
                self._changed.notify_all()
