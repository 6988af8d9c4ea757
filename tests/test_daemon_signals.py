"""Signal handlers only set flags; the scheduler's loop sees them within a moment.

A handler that woke the loop with ``Event.set()`` deadlocked when the signal landed while
the main thread held that Event's own lock (its wait, or ``clear()``): the daemon then
never stopped on SIGTERM. Each test runs the risky part in a thread, so a regression
shows as a thread still alive, not as a hung test run.
"""

from __future__ import annotations

import signal
import threading
from types import SimpleNamespace

from scheduler.daemon import Daemon, _Scheduler

BOUND = 30  # seconds: a bound on a hang, never a measure of speed


def test_a_stop_signal_while_the_loop_holds_its_event_lock_does_not_deadlock() -> None:
    scheduler = _Scheduler()
    scheduler._event = threading.Event()  # as start() makes it
    daemon = SimpleNamespace(stopping=False, scheduler=scheduler)

    def signal_lands_inside_the_event_lock() -> None:
        with scheduler._event._cond:  # where the main thread is in wait() and clear()
            Daemon._on_stop_signal(daemon, signal.SIGTERM, None)  # type: ignore[arg-type]

    handler = threading.Thread(target=signal_lands_inside_the_event_lock, daemon=True)
    handler.start()
    handler.join(BOUND)

    assert not handler.is_alive(), "the handler deadlocked on the Event's lock"
    assert daemon.stopping and scheduler.stop_requested


def test_the_flags_alone_make_an_idle_loop_rescan_and_then_stop() -> None:
    rescanned = threading.Event()
    scheduler = _Scheduler()
    scheduler.on_rescan_request = rescanned.set
    loop = threading.Thread(target=scheduler.start, daemon=True)
    loop.start()
    try:
        scheduler.rescan_requested = True  # as the SIGHUP handler does: no wakeup()
        assert rescanned.wait(BOUND), "the loop never served the rescan flag"
        assert not scheduler.rescan_requested
        # The loop has nothing due, ever: only the flag can end its wait.
        scheduler.stop_requested = True  # as the SIGTERM handler does
        loop.join(BOUND)
        assert not loop.is_alive(), "the loop waited for a job instead of the stop flag"
    finally:
        if loop.is_alive():
            scheduler.wakeup()
            loop.join(BOUND)
