"""`campaign run`: the APScheduler daemon that publishes every ready post on time.

The files are the source of truth. Jobs live in memory (one date job per ready
post and account, ``publish:POST:ACCOUNT``) and are rebuilt from the files and the
store at start, when the posts folder changes, and on SIGHUP. A publish job that comes
due only hands its publication to its account's lane (:mod:`scheduler.lanes`): accounts
publish in parallel, one account's publications one at a time and in order. Rescans,
heartbeats, alerts and engagement run on the scheduler's own threads, so they
never hold up a publication, and images are drawn only in worker processes
(:mod:`scheduler.preparer`). Signal handlers only set flags; the scheduler's own
loop acts on them. The first SIGTERM/SIGINT lets the publishes in flight finish and
be recorded (those not started stay scheduled for the next start); a second one
exits at once (its claim is then reconciled at the next start).
"""

from __future__ import annotations

import functools
import logging
import os
import signal
import subprocess
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from types import FrameType
from typing import Any

from apscheduler.executors.debug import DebugExecutor
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.schedulers.blocking import TIMEOUT_MAX, BlockingScheduler

from campaign.config import Config
from campaign.post import Post
from campaign.post_loader import load_campaign
from scheduler.channels.factory import ChannelSetup
from scheduler.claimant import this_process
from scheduler.clock import Clock, system_clock
from scheduler.engagement.sampler import Sampler
from scheduler.engagement.sampling import ages_from_hours
from scheduler.lanes import AccountLanes
from scheduler.prepare import Prepared, prepare_posts
from scheduler.preparer import Preparer
from scheduler.publisher import Outcome, Publisher, describe_error, mode_of
from scheduler.reconcile import Reconciler
from scheduler.retry_policy import RetryPolicy
from scheduler.store.models import Mode, Publication, State
from scheduler.store.store import Store
from scheduler.timing import TimeMap, decide

log = logging.getLogger("campaign.daemon")


#: How soon the main loop sees a flag a signal handler set.
FLAG_CHECK_SECONDS = 1.0
#: Threads of the scheduler's own pool: rescans, heartbeat, alerts, engagement.
HOUSEKEEPING_THREADS = 4
#: The executor of publish jobs: they run in the scheduler's loop and only queue their
#: publication in its lane (a moment's work), so no housekeeping job can delay them.
LANE_EXECUTOR = "lanes"


class _Scheduler(BlockingScheduler):
    """A BlockingScheduler whose loop also serves the flags the signal handlers set.

    The handlers only set flags: waking the loop with ``Event.set()`` from a handler can
    deadlock, when the signal lands while the main thread holds that Event's own lock (in
    the loop's wait or ``clear()``). So the loop waits in short steps and looks at them.
    """

    stop_requested = False
    rescan_requested = False
    on_rescan_request: Callable[[], None] | None = None

    def _main_loop(self) -> None:
        wait_seconds: float | None = TIMEOUT_MAX
        while self.state != STATE_STOPPED:
            self._wait_serving_flags(wait_seconds)
            self._event.clear()
            if self.stop_requested:
                self.shutdown(wait=False)
                break
            if self.rescan_requested and self.on_rescan_request is not None:
                self.rescan_requested = False
                self.on_rescan_request()
            wait_seconds = self._process_jobs()

    def _wait_serving_flags(self, seconds: float | None) -> None:
        """Until ``seconds`` pass (None: no job, no end), :meth:`wakeup` is called, or a
        flag is set."""
        end = time.monotonic() + min(TIMEOUT_MAX if seconds is None else seconds, TIMEOUT_MAX)
        while not (self.stop_requested or self.rescan_requested):
            remaining = end - time.monotonic()
            if remaining <= 0 or self._event.wait(min(remaining, FLAG_CHECK_SECONDS)):
                return


@dataclass
class WentOut:
    """One publication as it happened, for the rehearsal's summary (``channel``: the
    platform; ``account``: where it went, left out for the platform's default account)."""

    post_id: str
    channel: str
    campaign_time: datetime
    planned: datetime
    started: datetime
    outcome: Outcome
    account: str = ""

    def __post_init__(self) -> None:
        self.account = self.account or self.channel


@dataclass
class _Snapshot:
    files: dict[Path, tuple[int, int]] = field(default_factory=dict)


class Daemon:
    """Keeps the in-memory jobs equal to what the files and the store say."""

    def __init__(
        self,
        config: Config,
        store: Store,
        setups: dict[str, ChannelSetup],
        *,
        clock: Clock = system_clock,
        time_map: TimeMap | None = None,
        notifier: Any = None,
        exit_when_done: bool = False,
    ) -> None:
        self.config = config
        self.store = store
        self.setups = setups
        self.channels = {name: setup.channel for name, setup in setups.items()}
        self.clock = clock
        self.time_map = time_map or TimeMap()
        self.notifier = notifier
        self.exit_when_done = exit_when_done
        self.policy = RetryPolicy.from_settings(config.publishing)
        self.publisher = Publisher(store, self.channels, self.policy, clock)
        self.reconciler = Reconciler(store, self.channels, self.policy, clock)
        self.sampler = Sampler(
            store,
            self.channels,
            ages_from_hours(config.engagement.ages_hours),
            self.policy,
            clock,
        )
        self.grace = timedelta(minutes=config.scheduler.misfire_grace_minutes)
        self.holder = this_process()
        self.started_at = clock()
        self.posts: dict[str, Post] = {}
        self.preparer = Preparer(
            lambda posts, workers: _prepare_each(posts, self.config, workers),
            lambda post_id: self.posts.get(post_id),
        )
        self.went_out: list[WentOut] = []
        self.broken: dict[Path, str] = {}
        self._snapshot = _Snapshot()
        self._elsewhere: dict[str, list[Publication]] = {}
        self._told_elsewhere: set[tuple[str, str]] = set()
        #: Rows this process found past when first seen, not yet told in a summary line.
        self._new_past: list[Publication] = []
        self._starting = False
        self._last_pull: float = 0.0
        self._rescan_lock = threading.Lock()
        self.lanes = AccountLanes(getattr(config.publishing, "parallel", 8))
        self.stopping = False
        self.scheduler = _Scheduler(
            jobstores={"default": MemoryJobStore()},
            executors={
                "default": ThreadPoolExecutor(HOUSEKEEPING_THREADS),
                LANE_EXECUTOR: DebugExecutor(),  # runs the job in the loop: see LANE_EXECUTOR
            },
            job_defaults={"coalesce": True, "max_instances": 1},
            timezone="UTC",
        )
        self.scheduler.on_rescan_request = lambda: self._add_now(self.rescan, "rescan-now", True)

    # Start and stop -------------------------------------------------------------------

    def run(self) -> int:
        """Reconcile, schedule, and serve until stopped (or, rehearsing, until done)."""
        self._recover()
        self._starting = True
        self.rescan(force=True, workers=None)
        self._starting, self._new_past = False, []
        self._tell_past(self._past_rows())  # at start, all of them, new or not: one line
        every = self.config.scheduler
        self.scheduler.add_job(
            self.rescan, "interval", seconds=every.rescan_seconds, id="rescan", jitter=0
        )
        self.scheduler.add_job(
            self.heartbeat, "interval", seconds=every.heartbeat_seconds, id="heartbeat"
        )
        if self.notifier is not None:
            self.scheduler.add_job(self.notify, "interval", seconds=30, id="notify")
        if self.time_map.is_identity:
            self.scheduler.add_job(
                self.sample_engagement,
                "interval",
                seconds=self.config.engagement.check_minutes * 60,
                id="engagement",
            )
        if self.exit_when_done:
            self.scheduler.add_job(self._stop_when_done, "interval", seconds=0.5, id="done")
        self.heartbeat()
        self._install_signal_handlers()
        log.info("scheduler started: %s", self._next_words())
        if self.exit_when_done and self.pending_jobs() == 0:
            self.scheduler.stop_requested = True
        self.scheduler.start()
        self._finish_in_flight()
        self.store.stopped(self.holder, self.clock())
        if self.notifier is not None:
            self.notify()
        log.info("scheduler stopped")
        return 0

    @property
    def prepared(self) -> dict[str, Prepared]:
        """post id → its requests, ready to send (see :class:`Preparer`)."""
        return self.preparer.prepared

    def request_stop(self) -> None:
        self.stopping = True
        self.scheduler.stop_requested = True
        self.scheduler.wakeup()

    def _install_signal_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        signal.signal(signal.SIGTERM, self._on_stop_signal)
        signal.signal(signal.SIGINT, self._on_stop_signal)
        signal.signal(signal.SIGHUP, self._on_hangup)

    def _on_stop_signal(self, number: int, _frame: FrameType | None) -> None:
        if self.stopping:
            os.write(2, b"second stop signal: exiting now; the claim will be reconciled\n")
            os._exit(128 + number)
        self.stopping = True
        self.scheduler.stop_requested = True  # only a flag: see _Scheduler

    def _on_hangup(self, _number: int, _frame: FrameType | None) -> None:
        self.scheduler.rescan_requested = True

    def _finish_in_flight(self) -> None:
        """Let the publishes in flight finish and be recorded; those not started yet stay
        scheduled in the store, and the next start schedules them again."""
        self.lanes.stop(
            lambda running: log.info(
                "stopping: waiting for the publish in flight to be recorded (%d)", running
            )
        )

    def _recover(self) -> None:
        """Before anything is published: claims of a dead process become unknown, and
        every unknown outcome is looked for on its platform."""
        # We hold the one-daemon lock, so the daemon that beat before us is gone: its claims
        # are abandoned. Any other claim is abandoned only if its process is (a by-hand
        # `campaign publish` may be waiting for the platform's answer right now).
        last = self.store.heartbeat()
        dead_daemon = last.holder if last is not None and last.holder != self.holder else None
        released = self.reconciler.release_abandoned(dead_daemon=dead_daemon)
        if released:
            log.warning("%d publish(es) were cut off by a stop; checking them", len(released))
        for result in self.reconciler.reconcile_all(force=True):
            where = self._label(result.account)
            log.info("reconciled %s on %s: %s", result.post_id, where, result.message)

    # Rescans --------------------------------------------------------------------------

    def rescan(self, force: bool = False, workers: int | None = 1) -> None:
        """Reload the posts if the folder changed, and bring the jobs in line.

        Never raises: an unexpected error is logged and alerted, and the next rescan looks
        at every post again (a failed rescan never leaves posts without their jobs).
        """
        if self.stopping:
            return
        try:
            with self._rescan_lock:  # the interval's and SIGHUP's rescans, one at a time
                self._rescan(force, workers)
        except Exception as error:
            log.exception("the posts could not be rescanned")
            self._snapshot = _Snapshot()  # the next rescan looks at every post again
            self._alert_error(
                "rescan",
                "-",
                "The posts could not be (re)scanned: an unexpected error "
                f"({describe_error(error)}). Posts scheduled before keep their times; it is "
                f"tried again within {self.config.scheduler.rescan_seconds:g} seconds.",
            )

    def _rescan(self, force: bool, workers: int | None) -> None:
        self._maybe_git_pull()
        snapshot = _take_snapshot(self.config.posts_dir)
        if not force and snapshot.files == self._snapshot.files:
            self._prepare_ahead(workers)  # posts that came within the hours prepared ahead
            return
        changed = {
            path
            for path in snapshot.files.keys() | self._snapshot.files.keys()
            if snapshot.files.get(path) != self._snapshot.files.get(path)
        }
        self._snapshot = snapshot
        result = load_campaign(self.config, now=self.clock())
        self._report_broken(result)
        ready = {post.id: post for post in result.posts if post.is_ready}
        self._drop_vanished(ready)
        self.posts = ready
        edited = {post.id for post in ready.values() if _touches(post, changed)}
        self.preparer.keep_only(set(ready) - edited)
        # Jobs first: preparing may draw images (in worker processes) for a while, and a
        # post due meanwhile prepares its own in its lane rather than wait for the others.
        self._elsewhere = self._gone_out_on_other_accounts()
        published: list[tuple[Post, str]] = []
        for post in ready.values():
            for account in post.accounts:
                if account in self.channels and self._schedule_safely(
                    post, account, edited=post.id in edited
                ):
                    published.append((post, account))
        self._prepare_ahead(workers)
        for post, account in published:
            self._report_edit(post, account)
        log.info(
            "posts loaded: %d ready, %d with errors; %d publication(s) waiting",
            len(ready),
            len(self.broken),
            self.pending_jobs(),
        )
        if not self._starting:  # at start, run() tells them all in one line
            self._tell_past(self._new_past)
            self._new_past = []

    def _report_broken(self, result: Any) -> None:
        broken: dict[Path, str] = {}
        for diagnostic in result.errors:
            broken.setdefault(diagnostic.path, str(diagnostic))
        for path, first in broken.items():
            if path not in self.broken:
                log.error("post file with errors, not scheduled: %s", first)
                self.store.raise_alert(
                    f"broken:{path.name}:{_digest(first)}",
                    "broken",
                    f"{first}\nThis post is not scheduled until the file is fixed "
                    "(run `campaign check`).",
                    self.clock(),
                    post_id=path.stem,
                )
        self.broken = broken

    def _drop_vanished(self, ready: dict[str, Post]) -> None:
        """A post deleted, turned draft, or moved off an account loses its job."""
        for job in self.scheduler.get_jobs():
            if not job.id.startswith("publish:"):
                continue
            _, post_id, account = job.id.split(":", 2)
            post = ready.get(post_id)
            if post is None or account not in post.accounts:
                job.remove()
                self.store.forget_untried(post_id, account, mode_of(self.channels[account]))
                if post is not None:
                    reason = f"no longer goes to {self._label(account)}"
                elif self._is_broken(post_id):
                    reason = "has errors"
                else:
                    reason = "is no longer ready"
                log.info("unscheduled %s on %s: the post %s", post_id, self._label(account), reason)

    def _is_broken(self, post_id: str) -> bool:
        return any(path.stem == post_id for path in self.broken)

    def _prepare_ahead(self, workers: int | None) -> None:
        """Prepare the posts due from the grace ago to the hours ahead (images drawn in
        worker processes; this thread waits, no publication does)."""
        now = self.clock()
        horizon = now + timedelta(hours=self.config.scheduler.prepare_hours_ahead)
        wanted = [
            post
            for post in self.posts.values()
            if now - self.grace <= self.time_map.wall(post.publish_at.utc) <= horizon
        ]
        self._report_unprepared(self.preparer.ahead(wanted, workers))

    def _prepare_now(self, post: Post) -> tuple[Prepared | None, str | None]:
        """``post``'s requests; prepared now if they were not (only its own images, in a
        worker process, in the calling lane: no other account waits)."""
        prepared, problem = self.preparer.now(post)
        if problem is not None:
            self._report_unprepared({post.id: problem})
        return prepared, problem

    def _report_unprepared(self, problems: dict[str, str]) -> None:
        """Report what could not be prepared. An unexpected error while preparing
        several posts never stops the others: each is then prepared on its own, and the
        one that breaks is reported like any problem."""
        for post_id, problem in problems.items():
            log.error("%s cannot be prepared: %s", post_id, problem)
            self.store.raise_alert(
                f"prepare:{post_id}:{_digest(problem)}",
                "broken",
                f"{post_id}: its branded images cannot be made: {problem}",
                self.clock(),
                post_id=post_id,
            )

    def _schedule_safely(self, post: Post, account: str, edited: bool) -> bool:
        """Schedule one publication; an unexpected error there is reported and alerted,
        and the others are scheduled all the same (the next rescan tries it again).
        Whether it is an edited post that was published already."""
        try:
            return self._schedule(post, account, edited)
        except Exception as error:
            where = self._label(account)
            log.exception("%s on %s could not be scheduled", post.id, where)
            self._snapshot = _Snapshot()  # the next rescan looks at every post again
            self._alert_error(
                post.id,
                account,
                f"{post.id} could not be scheduled on {where}: an unexpected error "
                f"({describe_error(error)}). It is tried again at the next rescan.",
            )
            return False

    def _alert_error(self, post_id: str, account: str, message: str) -> None:
        channel = self.channels.get(account)
        try:
            self.store.raise_alert(
                f"error:{post_id}:{account}:{_digest(message)}",
                "error",
                message,
                self.clock(),
                channel=channel.name if channel is not None else account,
                account=account,
                post_id=post_id,
            )
        except Exception:
            log.exception("the alert could not be recorded either")

    def _gone_out_on_other_accounts(self) -> dict[str, list[Publication]]:
        """Rows, by post, that went out (or may have) on an account that is no longer
        switched on in config.toml: renamed, moved into [accounts.NAME], or switched off."""
        rows: dict[str, list[Publication]] = {}
        went = (State.PUBLISHED, State.UNKNOWN, State.PUBLISHING)
        for row in self.store.publications(went):
            if row.account not in self.channels:
                rows.setdefault(row.post_id, []).append(row)
        return rows

    def _held_for_another_account(self, post: Post, account: str, mode: Mode) -> bool:
        """A post that went out on an account config.toml no longer names is not sent to a
        new account of the same platform, which may be that account renamed (the same Page
        would get it twice): a human is told, and publishes it by hand if it is not."""
        platform = post.account_platform[account]
        others = [
            row
            for row in self._elsewhere.get(post.id, ())
            if row.channel == platform and row.mode == mode
        ]
        if not others or self.store.get(post.id, account, mode) is not None:
            return False
        other = others[0]
        where = self._label(account)
        if (post.id, account) in self._told_elsewhere:
            return True
        self._told_elsewhere.add((post.id, account))
        log.warning(
            "%s is not scheduled on %s: it went out on %s, which config.toml no longer has",
            post.id,
            where,
            other.account,
        )
        self.store.raise_alert(
            f"elsewhere:{post.id}:{account}",
            "error",
            f"{post.id} is not published on {where}: it went out (or may have) on "
            f"{other.account}, an account that is no longer switched on in config.toml. If "
            f"{account} is {other.account} renamed (the same Page or Instagram account), "
            "nothing needs doing: the post is already there. If it is another one, publish "
            f"it there by hand: campaign publish {post.id} --account {account}",
            self.clock(),
            channel=platform,
            account=account,
            post_id=post.id,
        )
        return True

    def _schedule(self, post: Post, account: str, edited: bool) -> bool:
        """Bring one publication's job in line; whether it is a published post edited."""
        mode = mode_of(self.channels[account])
        now = self.clock()
        if self._held_for_another_account(post, account, mode):
            self._remove_job(f"publish:{post.id}:{account}")
            return False
        row = self.store.ensure_publication(
            post.id,
            account,
            post.publish_at.utc,
            now,
            mode,
            channel=post.account_platform[account],
            language=post.language,
            tags=post.tags,
        )
        due = self.time_map.wall(row.due_at)
        decision = decide(row, due, now, self.grace, self.policy.reconcile_after)
        job_id = f"publish:{post.id}:{account}"
        if decision.action == "missed":
            if self._record_missed(row, decision.since or due, decision.reason):
                self._remove_job(job_id)
            else:
                self._follow_up(post, account)
        elif decision.action == "past":
            if self._record_past(row, decision.reason):
                self._remove_job(job_id)
            else:
                self._follow_up(post, account)
        elif decision.action == "nothing":
            self._remove_job(job_id)
        else:
            run_at = decision.run_at or now
            self._put_job(job_id, run_at, post.id, account)
        return row.state == State.PUBLISHED and edited

    def _report_edit(self, post: Post, account: str) -> None:
        """A published post edited since: the publisher reports it and sends nothing (only
        for a post prepared ahead, as its new content is known then)."""
        prepared = self.preparer.get(post.id)
        if prepared is None or self.posts.get(post.id) is not post:
            return
        try:
            self.publisher.publish(prepared.requests[account])
        except Exception:
            log.exception(
                "the edit of %s on %s could not be reported", post.id, self._label(account)
            )

    def _record_missed(self, row: Publication, due: datetime, reason: str) -> bool:
        """Record ``row`` as missed, if it is still as it was seen (a compare-and-set: a
        publish by hand may have taken it meanwhile); returns whether it was."""
        assert row.id is not None
        now = self.clock()
        where = self._label(row.account)
        if not self.store.set_state(row.id, State.MISSED, now, f"missed: {reason}", expect=row):
            log.info("%s on %s: moved on meanwhile, not missed", row.post_id, where)
            return False
        option = (
            f"--channel {row.channel}" if row.account == row.channel else f"--account {row.account}"
        )
        settle = f"campaign settle {row.post_id} --account {row.account}"
        self.store.raise_alert(
            f"missed:{row.post_id}:{row.account}",
            "missed",
            f"{row.post_id} was due on {where} at {self._when(due)} but could not go out in "
            f"time (the scheduler was not running or was held up); it is {reason} and was NOT "
            f"published. Publish it by hand with `campaign publish {row.post_id} {option}` "
            f'if it should still go out; if it went out another way, `{settle} --done "REASON"`; '
            f'if it should not go out, `{settle} --skip "REASON"`.',
            now,
            channel=row.channel,
            account=row.account,
            post_id=row.post_id,
        )
        log.error("missed %s on %s: %s", row.post_id, where, reason)
        return True

    def _record_past(self, row: Publication, reason: str) -> bool:
        """Record ``row`` as past (it was beyond the grace when first seen: nobody could
        have sent it on time), if it is still as seen; no alert, no error: it is told in
        one summary line (:meth:`_tell_past`). Returns whether it was recorded."""
        assert row.id is not None
        if not self.store.set_state(
            row.id, State.PAST, self.clock(), f"past: {reason}", expect=row
        ):
            log.info(
                "%s on %s: moved on meanwhile, not past", row.post_id, self._label(row.account)
            )
            return False
        self._new_past.append(row)
        return True

    def _past_rows(self) -> list[Publication]:
        """The past rows of the ready posts, in the mode each account runs in now."""
        return [
            row
            for row in self.store.publications([State.PAST])
            if row.post_id in self.posts
            and row.account in self.channels
            and mode_of(self.channels[row.account]) == Mode(row.mode)
        ]

    def _tell_past(self, rows: list[Publication]) -> None:
        """One line for publications that were past when first seen: never an error each."""
        if not rows:
            return
        zone = self.config.zone
        first = min(row.due_at for row in rows).astimezone(zone)
        last = max(row.due_at for row in rows).astimezone(zone)
        span = (
            f"{first:%Y-%m-%d}"
            if first.date() == last.date()
            else f"{first:%Y-%m-%d} … {last:%Y-%m-%d}"
        )
        live = any(row.mode == Mode.LIVE for row in rows)
        count = f"{len(rows)} publication{'s were' if len(rows) != 1 else ' was'}"
        log.log(
            logging.WARNING if live else logging.INFO,
            "%s already in the past when first seen (%s, %s)%s: not published; "
            "`campaign status` lists them, `campaign settle` decides them",
            count,
            span,
            getattr(zone, "key", zone),
            "" if live else ", dry run",
        )

    def _when(self, moment: datetime | None) -> str:
        """A time as people read it: local, in the campaign's zone."""
        return _when(moment, self.config.zone)

    def _next_words(self) -> str:
        """What comes next, in words: ``3 publication(s) waiting, next at …``."""
        next_due = self.next_due()
        if next_due is None:
            return "nothing left to publish: every ready post is published, past or settled"
        return f"{self.pending_jobs()} publication(s) waiting, next at {self._when(next_due)}"

    def _put_job(self, job_id: str, run_at: datetime, post_id: str, account: str) -> None:
        existing = self.scheduler.get_job(job_id)
        if existing is not None and _job_time(existing) == run_at:
            return
        self.scheduler.add_job(
            self.publish_due,
            "date",
            run_date=run_at,
            args=(post_id, account),
            id=job_id,
            replace_existing=True,
            executor=LANE_EXECUTOR,
            # Always run, however late: the job itself decides (with the grace) whether it
            # is still on time or missed, so a late job is recorded, never dropped.
            misfire_grace_time=None,
        )

    def _remove_job(self, job_id: str) -> None:
        if self.scheduler.get_job(job_id) is not None:
            self.scheduler.remove_job(job_id)

    def _add_now(self, func: Callable[..., Any], job_id: str, force: bool) -> None:
        self.scheduler.add_job(
            func, "date", run_date=self.clock(), id=job_id, replace_existing=True, args=(force,)
        )

    # The publish job --------------------------------------------------------------------

    def publish_due(self, post_id: str, account: str) -> None:
        """The publish job's time has come: queue it in its account's lane, at once.

        Runs in the scheduler's loop; the lane runs :meth:`publish_job`, after the
        account's publications due before it. Never raises."""
        try:
            post = self.posts.get(post_id)
            due = self.time_map.wall(post.publish_at.utc) if post is not None else self.clock()
            self.lanes.submit(
                account,
                f"publish:{post_id}:{account}",
                due,
                functools.partial(self.publish_job, post_id, account),
            )
        except Exception:
            log.exception(
                "%s on %s could not be queued; it is tried again", post_id, self._label(account)
            )
            self._put_job(
                f"publish:{post_id}:{account}",
                self.clock() + self.policy.first_retry,
                post_id,
                account,
            )

    def publish_job(self, post_id: str, account: str) -> None:
        """Publish one (post, account) now; then schedule what its outcome calls for."""
        if self.stopping:
            return
        try:
            self._publish(post_id, account)
        except Exception as error:
            log.exception("publishing %s on %s failed unexpectedly", post_id, self._label(account))
            self._after_unexpected(post_id, account, error)

    def _publish(self, post_id: str, account: str) -> None:
        started = self.clock()
        post = self.posts.get(post_id)
        if post is None:
            return
        row = self.store.get(post_id, account, mode_of(self.channels[account]))
        if row is not None:
            due = self.time_map.wall(row.due_at)
            decision = decide(row, due, started, self.grace, self.policy.reconcile_after)
            if decision.action == "missed":
                if not self._record_missed(row, decision.since or due, decision.reason):
                    self._follow_up(post, account)
                return
            if decision.action == "past":
                if self._record_past(row, decision.reason):
                    self._tell_past([row])
                else:
                    self._follow_up(post, account)
                return
            if decision.action == "nothing":
                return
        prepared, problem = self._prepare_now(post)
        if prepared is None:
            self._unprepared(post, account, row, problem or "it could not be prepared")
            return
        outcome = self.publisher.publish(prepared.requests[account])
        if outcome.state != State.PUBLISHED or not outcome.called_platform:
            log.warning("%s on %s: %s", post_id, self._label(account), outcome.message)
        if not self.time_map.is_identity:
            self.went_out.append(
                WentOut(
                    post_id,
                    post.account_platform[account],
                    post.publish_at.utc,
                    self.time_map.wall(post.publish_at.utc),
                    started,
                    outcome,
                    account,
                )
            )
        if outcome.state != State.PUBLISHED:  # published: nothing follows (one read less)
            self._follow_up(post, account)

    def _label(self, account: str) -> str:
        """How messages name ``account`` (see :attr:`Channel.label`)."""
        channel = self.channels.get(account)
        return channel.label if channel is not None else account

    def _unprepared(self, post: Post, account: str, row: Publication | None, problem: str) -> None:
        """Its images cannot be made now: never silent. An unclear earlier try is still
        looked for (that needs no images); a post to be sent gets a counted try with the
        problem, an alert, and its retry (failed, and a human told, when out of tries)."""
        where = self._label(account)
        if row is not None and row.state in (State.UNKNOWN, State.PUBLISHING):
            result = self.reconciler.reconcile_one(row)
            log.info("%s on %s: %s", post.id, where, result.message)
        elif row is not None and row.state == State.SCHEDULED:
            now = self.clock()
            tries = row.attempt_count + 1
            gave_up = tries >= self.policy.max_attempts
            next_at = None if gave_up else now + self.policy.backoff(tries, self.publisher.rng)
            text = f"its branded images cannot be made: {problem}"
            self.store.record_failed_try(
                row,
                now=now,
                by=self.holder,
                message=text,
                state=State.FAILED if gave_up else State.SCHEDULED,
                next_attempt_at=next_at,
            )
            then = (
                "It was NOT published and is not tried again: fix it (run `campaign check` "
                "and `campaign render`), then publish it by hand."
                if gave_up
                else f"Nothing was sent; it is tried again after {self._when(next_at)}. Fix it "
                "(run `campaign render` to see the problem) so that it goes out."
            )
            self.store.raise_alert(
                f"{'failed' if gave_up else 'error'}:{post.id}:{account}",
                "failed" if gave_up else "error",
                f"{post.id} on {where}: {text}. {then}",
                now,
                channel=post.account_platform[account],
                account=account,
                post_id=post.id,
            )
            log.error("%s on %s: %s", post.id, where, text)
        self._follow_up(post, account)

    def _follow_up(self, post: Post, account: str) -> None:
        """After a try: a retry, a reconciliation or a credentials check gets its job."""
        mode = mode_of(self.channels[account])
        row = self.store.get(post.id, account, mode)
        if row is None or self.stopping:
            return
        now = self.clock()
        job_id = f"publish:{post.id}:{account}"
        if row.state == State.SCHEDULED:
            wait_until = row.next_attempt_at or now
            held = self._channel_reopens(account, mode, wait_until, now)
            if held > wait_until:  # held back by our own rest or pause: its time moves too
                self.store.hold(row, held, now)
            self._put_job(job_id, max(held, now + timedelta(seconds=1)), post.id, account)
        elif row.state in (State.UNKNOWN, State.PUBLISHING):
            at = (row.claimed_at or now) + self.policy.reconcile_after
            if row.state == State.UNKNOWN and row.next_attempt_at is not None:
                at = max(at, row.next_attempt_at)  # a failed lookup's backoff
            # Looked for once its account is open again (a rest, a pause), and another
            # process's claim in flight is looked at shortly: never a busy loop.
            at = self._channel_reopens(account, mode, at, now)
            self._put_job(job_id, max(at, now + timedelta(seconds=1)), post.id, account)

    def _channel_reopens(self, account: str, mode: Mode, at: datetime, now: datetime) -> datetime:
        """``at``, or later if the live account rests or is paused until then."""
        if mode != Mode.LIVE:
            return at
        state = self.store.channel_state(account)
        if state.paused_reason is not None:
            at = max(at, now + self.policy.auth_check_every)
        if state.cooldown_until is not None:
            at = max(at, state.cooldown_until)
        return at

    def _after_unexpected(self, post_id: str, account: str, error: Exception) -> None:
        """An unexpected error in the publish job itself (outside the publisher, which
        records its own): record a counted try with the error, alert, and come back to it
        — a post is never left scheduled without a job."""
        post = self.posts.get(post_id)
        gave_up = False
        try:
            row = self.store.get(post_id, account, mode_of(self.channels[account]))
            if row is not None and row.state == State.SCHEDULED:
                tries = row.attempt_count + 1
                gave_up = tries >= self.policy.max_attempts
                now = self.clock()
                self.store.record_failed_try(
                    row,
                    now=now,
                    by=self.holder,
                    message=f"an unexpected error: {describe_error(error)}",
                    state=State.FAILED if gave_up else State.SCHEDULED,
                    next_attempt_at=None
                    if gave_up
                    else now + self.policy.backoff(tries, self.publisher.rng),
                )
        except Exception:
            log.exception("the unexpected error could not be recorded")
        then = (
            "It was NOT published and is not tried again: publish it by hand once it is fixed."
            if gave_up
            else "It is tried again; if this repeats, a human must look."
        )
        self._alert_error(
            post_id,
            account,
            f"{post_id} on {self._label(account)}: an unexpected error while publishing "
            f"({describe_error(error)}). {then}",
        )
        if post is None or self.stopping:
            return
        try:
            self._follow_up(post, account)
        except Exception:
            log.exception("%s on %s: looked at again later", post_id, self._label(account))
            retry_at = self.clock() + self.policy.first_retry
            self._put_job(f"publish:{post_id}:{account}", retry_at, post_id, account)

    # Periodic jobs -------------------------------------------------------------------

    def _stop_when_done(self) -> None:
        """Stop once every publication has an outcome. The store decides, not the job list
        alone: a date job leaves the list as it is handed to a worker, before it runs."""
        if self.lanes.in_flight() or self.pending_jobs():
            return
        open_states = (State.SCHEDULED, State.PUBLISHING, State.UNKNOWN)
        if any(row.post_id in self.posts for row in self.store.publications(open_states)):
            return
        self.request_stop()

    def heartbeat(self) -> None:
        self.store.beat(
            holder=self.holder,
            mode=self.mode_name,
            started_at=self.started_at,
            now=self.clock(),
            next_due_at=self.next_due(),
            jobs=self.pending_jobs(),
        )

    def sample_engagement(self) -> None:
        """Read the counts of published posts whose next sampling age has come."""
        try:
            report = self.sampler.sample_due()
        except Exception:
            log.exception("engagement sampling failed; publishing goes on")
            return
        if report.taken or report.failed:
            log.info("engagement: %d sample(s) taken, %d failed", report.taken, report.failed)

    def notify(self) -> None:
        try:
            self.notifier.deliver_pending(self.store)
        except Exception:
            log.exception("alerts could not be delivered")

    def _maybe_git_pull(self) -> None:
        settings = self.config.scheduler
        if not settings.git_pull:
            return
        if time.monotonic() - self._last_pull < settings.git_pull_minutes * 60:
            return
        self._last_pull = time.monotonic()
        problem = git_pull(self.config.base_dir)
        if problem is not None:
            log.error("git pull failed: %s", problem)
            self.store.raise_alert(
                f"git:{_digest(problem)}",
                "git",
                f"`git pull --ff-only` failed in {self.config.base_dir}: {problem}. The "
                "posts already here keep their schedule; fix the checkout so new ones arrive.",
                self.clock(),
            )

    # Views ------------------------------------------------------------------------------

    @property
    def mode_name(self) -> str:
        if not self.time_map.is_identity:
            return "rehearsal"
        modes = {mode_of(channel) for channel in self.channels.values()}
        return (
            Mode.LIVE.value
            if modes == {Mode.LIVE}
            else ("dry_run" if modes == {Mode.DRY_RUN} else "mixed")
        )

    def pending_jobs(self) -> int:
        return sum(1 for job in self.scheduler.get_jobs() if job.id.startswith("publish:"))

    def next_due(self) -> datetime | None:
        times = [
            when
            for job in self.scheduler.get_jobs()
            if job.id.startswith("publish:") and (when := _job_time(job)) is not None
        ]
        return min(times) if times else None


def git_pull(folder: Path, timeout: float = 120) -> str | None:
    """``git pull --ff-only`` in ``folder``; None on success, else what went wrong."""
    try:
        done = subprocess.run(
            ["git", "-C", str(folder), "pull", "--ff-only", "--quiet"],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
        )
    except (OSError, subprocess.TimeoutExpired) as problem:
        return str(problem)
    if done.returncode != 0:
        return (
            (done.stderr or done.stdout).strip().splitlines()[-1:][0]
            if (done.stderr or done.stdout).strip()
            else f"exit code {done.returncode}"
        )
    return None


def _prepare_each(
    posts: list[Post], config: Config, workers: int | None
) -> tuple[list[Prepared], dict[str, str]]:
    """``prepare_posts``; if it breaks unexpectedly, each post on its own, so that one post
    that breaks it is a problem of that post only."""
    try:
        return prepare_posts(posts, config, workers, isolate=True)
    except Exception as error:
        log.exception("preparing %d post(s) failed unexpectedly", len(posts))
        if len(posts) == 1:
            return [], {posts[0].id: f"an unexpected error ({describe_error(error)})"}
    prepared: list[Prepared] = []
    problems: dict[str, str] = {}
    for post in posts:
        done, failed = _prepare_each([post], config, 1)
        prepared += done
        problems.update(failed)
    return prepared, problems


def _digest(text: str) -> str:
    """A short digest that is the same in every process (``hash()`` is salted per run)."""
    return f"{zlib.crc32(text.encode('utf-8')):08x}"


def _job_time(job: Any) -> datetime | None:
    """When a job runs next; a job added before the scheduler started has only its trigger."""
    when = getattr(job, "next_run_time", None)
    return when if when is not None else getattr(job.trigger, "run_date", None)


def _take_snapshot(folder: Path) -> _Snapshot:
    files: dict[Path, tuple[int, int]] = {}
    for path in folder.rglob("*"):
        try:
            stat = path.stat()
        except OSError:
            continue
        if path.is_file():
            files[path] = (stat.st_mtime_ns, stat.st_size)
    return _Snapshot(files)


def _touches(post: Post, changed: set[Path]) -> bool:
    return post.path in changed or any(image.path in changed for image in post.images)


def _when(moment: datetime | None, zone: tzinfo) -> str:
    """``2030-09-15 09:00 CEST``: local, as people read it."""
    return "—" if moment is None else f"{moment.astimezone(zone):%Y-%m-%d %H:%M %Z}"
