"""Per-account lanes: one account in order and one at a time, accounts at once, a bound.

Concurrency is shown with barriers and events, never with timing: work that must run
together meets at a barrier (a serial run would break it), and work that must wait is
seen waiting while the work before it is held. Every wait has a bound that only ends a
hang, it measures nothing.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from scheduler.lanes import AccountLanes

BOUND = 30  # seconds: a bound on a hang, never a measure of speed
T0 = datetime(2030, 9, 15, 7, 0, tzinfo=UTC)


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


class Recorder:
    """Records what ran, in order, and how many of one account ran at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.order: dict[str, list[str]] = defaultdict(list)
        self.now_running: dict[str, int] = defaultdict(int)
        self.most_at_once: dict[str, int] = defaultdict(int)
        self.total_at_once = 0
        self.most_total = 0

    def work(self, account: str, key: str, then: Callable[[], None] = lambda: None) -> Callable:
        def run() -> None:
            with self.lock:
                self.order[account].append(key)
                self.now_running[account] += 1
                self.total_at_once += 1
                self.most_at_once[account] = max(
                    self.most_at_once[account], self.now_running[account]
                )
                self.most_total = max(self.most_total, self.total_at_once)
            try:
                then()
            finally:
                with self.lock:
                    self.now_running[account] -= 1
                    self.total_at_once -= 1

        return run


@pytest.fixture
def lanes_of() -> Iterator[Callable[[int], AccountLanes]]:
    made: list[AccountLanes] = []

    def make(parallel: int) -> AccountLanes:
        lanes = AccountLanes(parallel)
        made.append(lanes)
        return lanes

    yield make
    for lanes in made:
        lanes.stop()


def held() -> tuple[threading.Event, threading.Event, Callable[[], None]]:
    """(started, release, work): work that says it started and waits to be released."""
    started, release = threading.Event(), threading.Event()

    def work() -> None:
        started.set()
        assert release.wait(BOUND), "never released"

    return started, release, work


def test_one_accounts_items_run_one_at_a_time_in_due_order(lanes_of: Callable) -> None:
    lanes = lanes_of(4)
    record = Recorder()
    started, release, hold = held()
    lanes.submit("fb", "first", at(0), record.work("fb", "first", hold))
    assert started.wait(BOUND)
    # submitted out of order while the first one runs: they wait, in (due, key) order
    for key, due in (("d", 3), ("c", 2), ("b", 1), ("a", 2)):
        assert lanes.submit("fb", key, at(due), record.work("fb", key))
    assert lanes.waiting("fb") == ["b", "a", "c", "d"]
    assert lanes.running() == {"fb": "first"}
    assert lanes.in_flight() == 5

    release.set()
    assert lanes.wait_idle(BOUND)

    assert record.order["fb"] == ["first", "b", "a", "c", "d"]
    assert record.most_at_once["fb"] == 1
    assert lanes.in_flight() == 0


def test_different_accounts_run_at_the_same_time_and_each_stays_serial(
    lanes_of: Callable,
) -> None:
    accounts = [f"acct-{n:02d}" for n in range(10)]
    lanes = lanes_of(10)
    record = Recorder()
    # The first item of every account waits for the first items of all the others: with
    # fewer than ten at once the barrier breaks and the test fails.
    all_first = threading.Barrier(len(accounts), timeout=BOUND)
    broken: list[str] = []

    def meet() -> None:
        try:
            all_first.wait()
        except threading.BrokenBarrierError:
            broken.append("the accounts did not run at the same time")

    for account in accounts:
        for n in range(10):
            then = meet if n == 0 else (lambda: None)
            key = f"{account}:{n}"
            assert lanes.submit(account, key, at(n), record.work(account, key, then))

    assert lanes.wait_idle(BOUND * 2)
    assert broken == []
    assert record.most_total == 10
    for account in accounts:
        assert record.order[account] == [f"{account}:{n}" for n in range(10)]
        assert record.most_at_once[account] == 1


def test_no_more_than_parallel_items_run_at_once(
    lanes_of: Callable,
) -> None:
    lanes = lanes_of(2)
    record = Recorder()
    a_started, a_release, hold_a = held()
    b_started, b_release, hold_b = held()
    lanes.submit("a", "a1", at(0), record.work("a", "a1", hold_a))
    lanes.submit("b", "b1", at(0), record.work("b", "b1", hold_b))
    assert a_started.wait(BOUND) and b_started.wait(BOUND)
    lanes.submit("c", "c-late", at(9), record.work("c", "c-late"))
    lanes.submit("d", "d-early", at(1), record.work("d", "d-early"))

    # both threads are taken: c and d wait, though their lanes are free
    assert lanes.running() == {"a": "a1", "b": "b1"}
    assert lanes.waiting("c") == ["c-late"] and lanes.waiting("d") == ["d-early"]

    a_release.set()
    b_release.set()
    assert lanes.wait_idle(BOUND)
    assert record.most_total == 2
    assert set(record.order) == {"a", "b", "c", "d"}


def test_a_free_thread_goes_to_the_earliest_due_lane(lanes_of: Callable) -> None:
    lanes = lanes_of(1)
    ran: list[str] = []
    started, release, hold = held()
    lanes.submit("a", "a1", at(0), hold)
    assert started.wait(BOUND)
    lanes.submit("late", "late", at(9), lambda: ran.append("late"))
    lanes.submit("early", "early", at(1), lambda: ran.append("early"))
    lanes.submit("middle", "middle", at(5), lambda: ran.append("middle"))
    release.set()
    assert lanes.wait_idle(BOUND)
    assert ran == ["early", "middle", "late"]


def test_a_key_that_waits_is_not_queued_twice_one_that_runs_is_queued_again(
    lanes_of: Callable,
) -> None:
    lanes = lanes_of(2)
    runs: list[str] = []
    started, release, hold = held()

    def first() -> None:
        runs.append("post-1 (first run)")
        hold()

    assert lanes.submit("fb", "post-1", at(0), first)
    assert started.wait(BOUND)
    # running: queued once more, to run after it (the job reads the store afresh)
    assert lanes.submit("fb", "post-1", at(0), lambda: runs.append("post-1 (again)"))
    # waiting already: not queued a second time
    assert not lanes.submit("fb", "post-1", at(0), lambda: runs.append("post-1 (third)"))
    assert lanes.submit("fb", "post-2", at(1), lambda: runs.append("post-2"))
    assert not lanes.submit("fb", "post-2", at(1), lambda: runs.append("post-2 (twice)"))
    # the same key in another account's lane is another publication
    assert lanes.submit("ig", "post-2", at(1), lambda: runs.append("post-2 on ig"))

    release.set()
    assert lanes.wait_idle(BOUND)
    assert sorted(runs) == sorted(
        ["post-1 (first run)", "post-1 (again)", "post-2", "post-2 on ig"]
    )
    fb_runs = [run for run in runs if not run.endswith("on ig")]
    assert fb_runs == ["post-1 (first run)", "post-1 (again)", "post-2"]


def test_an_item_that_raises_does_not_stop_its_lane(lanes_of: Callable) -> None:
    lanes = lanes_of(1)
    ran: list[str] = []
    started, release, hold = held()

    def breaks() -> None:
        ran.append("breaks")
        raise RuntimeError("a bug in one publication")

    lanes.submit("fb", "0-hold", at(0), hold)
    assert started.wait(BOUND)
    lanes.submit("fb", "1-breaks", at(1), breaks)
    lanes.submit("fb", "2-after", at(2), lambda: ran.append("after"))
    release.set()
    assert lanes.wait_idle(BOUND)
    assert ran == ["breaks", "after"]

    lanes.submit("fb", "3-later", at(3), lambda: ran.append("later"))  # the lane still works
    assert lanes.wait_idle(BOUND)
    assert ran == ["breaks", "after", "later"]


def test_stop_drops_what_waits_and_waits_for_what_runs() -> None:
    lanes = AccountLanes(4)
    ran: list[str] = []
    started, release, hold = held()

    def running() -> None:
        hold()
        ran.append("running one finished")

    lanes.submit("fb", "p0", at(0), running)
    assert started.wait(BOUND)
    lanes.submit("fb", "p2", at(2), lambda: ran.append("p2"))
    lanes.submit("fb", "p1", at(1), lambda: ran.append("p1"))
    told: list[int] = []
    stopper = threading.Thread(target=lambda: ran.append(f"dropped {lanes.stop(told.append)}"))
    stopper.start()
    # stop() drops what waits at once, then waits for the running one
    assert lanes.wait_idle(0) is False
    deadline = time.monotonic() + BOUND
    while lanes.waiting("fb") and time.monotonic() < deadline:  # until stop() cleared it
        time.sleep(0.01)
    assert lanes.waiting("fb") == []
    assert not lanes.submit("fb", "p3", at(3), lambda: ran.append("p3"))  # stopped
    assert stopper.is_alive()  # still waiting for the running one

    release.set()
    stopper.join(BOUND)
    assert not stopper.is_alive()
    assert ran == ["running one finished", "dropped ['p1', 'p2']"]
    assert told == [1]
    assert lanes.in_flight() == 0


def test_parallel_must_be_at_least_one() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        AccountLanes(0)
