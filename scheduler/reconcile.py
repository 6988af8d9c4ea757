"""Resolve unknown outcomes by looking for the post on the platform.

A publication is unknown when a try may have created the post without telling
us. It is looked for among the account's recent posts by its caption and time:
found → published (no second post); not found → scheduled again, to be tried
once more; the lookup itself failing → still unknown, looked for again later.
A claim left ``publishing`` by a process that has ended becomes unknown first.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from scheduler.channels.base import Channel, MediaItem, PublishRequest
from scheduler.channels.errors import ChannelError, ErrorClass
from scheduler.claimant import is_gone, this_process
from scheduler.clock import Clock, system_clock
from scheduler.redaction import excerpt
from scheduler.retry_policy import RetryPolicy
from scheduler.store.models import Mode, Publication, State
from scheduler.store.store import Store

log = logging.getLogger("campaign.reconcile")

#: Posts are looked for from this long before the claim (clocks differ).
CLOCK_SLACK = timedelta(minutes=10)


@dataclass(frozen=True)
class Reconciled:
    """What reconciling one publication found (``channel``: its platform)."""

    post_id: str
    channel: str
    state: State
    message: str
    #: Whether this reconciliation found the post online (not another process's record).
    found: bool = False
    #: The account it went to (left out: the platform's default account).
    account: str = ""

    def __post_init__(self) -> None:
        if not self.account:
            object.__setattr__(self, "account", self.channel)


class Reconciler:
    """Looks for unknown publications on their platforms and records what it finds;
    ``channels`` are keyed by account name."""

    def __init__(
        self,
        store: Store,
        channels: Mapping[str, Channel],
        policy: RetryPolicy | None = None,
        clock: Clock = system_clock,
    ) -> None:
        self.store = store
        self.channels = channels
        self.policy = policy or RetryPolicy()
        self.clock = clock
        self.me = this_process()

    def release_abandoned(self, *, dead_daemon: str | None = None) -> list[Publication]:
        """Turn claims whose process has ended into unknowns.

        A claim is abandoned when its process is certainly gone (checked on this host),
        when it was made by ``dead_daemon`` (the daemon that held the one-daemon lock
        before the caller, which holds it now), or when it is older than the lease. A
        claim by a live process — a `campaign publish` by hand waiting for the platform's
        answer — is never taken for abandoned: looking for its post before the platform
        has made it would find nothing and send the post a second time.
        """
        now = self.clock()
        released = []
        for row in self.store.publications([State.PUBLISHING]):
            assert row.id is not None
            age = now - row.claimed_at if row.claimed_at else timedelta.max
            if row.claimed_by == self.me:
                continue
            by_dead_daemon = dead_daemon is not None and row.claimed_by == dead_daemon
            if by_dead_daemon or is_gone(row.claimed_by) or age > self.policy.claim_lease:
                message = (
                    "the process publishing this stopped before it recorded the answer; "
                    "the post may or may not be online."
                )
                if self.store.mark_unknown_if_publishing(row.id, now, message, seen=row):
                    log.warning("%s on %s: %s", row.post_id, self._label(row), message)
                    released.append(self.store.get_by_id(row.id))
        return released

    def reconcile_all(self, *, force: bool = False) -> list[Reconciled]:
        """Reconcile every unknown publication (``force``: even very recent ones)."""
        self.release_abandoned()
        return [
            self._reconcile_safely(row, force) for row in self.store.publications([State.UNKNOWN])
        ]

    def _reconcile_safely(self, row: Publication, force: bool) -> Reconciled:
        """``reconcile_one``; an unexpected error is this row's only (it stays unknown, is
        alerted, and is looked for again), never the end of the others' reconciliation."""
        try:
            return self.reconcile_one(row, force=force)
        except Exception as problem:
            log.exception("reconciling %s on %s failed unexpectedly", row.post_id, self._label(row))
            first = (str(problem).splitlines() or [""])[0]
            what = excerpt(f"{type(problem).__name__}: {first}", 300) or type(problem).__name__
            try:
                self._alert_unknown(row, f"an unexpected error while checking ({what})")
            except Exception:
                log.exception("the alert could not be recorded either")
            return _result(row, f"could not be checked: an unexpected error ({what}).")

    def reconcile_one(self, row: Publication, *, force: bool = False) -> Reconciled:
        """Look for one publication's post; record found, not found, or still unknown."""
        assert row.id is not None
        now = self.clock()
        if row.state == State.PUBLISHING:
            if not (is_gone(row.claimed_by) or _older(row, now, self.policy.claim_lease)):
                return _result(row, "it is being published by another process right now.")
            self.store.mark_unknown_if_publishing(
                row.id,
                now,
                "the process publishing this stopped before it recorded the answer.",
                seen=row,
            )
            row = self.store.get_by_id(row.id)
        if row.state != State.UNKNOWN:
            return _result(row, "nothing to reconcile.")
        if not force and not _older(row, now, self.policy.reconcile_after):
            return _result(row, "too soon to look: the platform may not list it yet.")
        if not force and row.next_attempt_at is not None and row.next_attempt_at > now:
            return _result(row, "too soon to look again: the last lookup failed.")
        channel = self.channels.get(row.account)
        where = self._label(row)
        wanted = "the outbox (dry run)" if row.mode == Mode.DRY_RUN else f"live {where}"
        if channel is None or (channel.kind == "outbox") != (row.mode == Mode.DRY_RUN):
            return _result(row, f"it was sent to {wanted}, which is not set up here now.")
        request = request_from_row(row)
        since = (row.claimed_at or row.due_at) - CLOCK_SLACK
        attempt_id = self.store.start_reconcile(row.id, now, self.me)
        try:
            found = channel.find_published(request, since)
        except Exception as problem:  # a lookup that breaks leaves it unknown, never open
            error = (
                problem
                if isinstance(problem, ChannelError)
                else ChannelError(
                    ErrorClass.UNKNOWN_OUTCOME,
                    f"an unexpected error while looking ({type(problem).__name__}: "
                    f"{excerpt((str(problem).splitlines() or [''])[0], 300)})",
                )
            )
            if not isinstance(problem, ChannelError):
                log.exception("looking for %s on %s failed unexpectedly", row.post_id, where)
            failed_at = self.clock()
            still_unknown = self.store.finish(
                attempt_id,
                row.id,
                now=failed_at,
                state=State.UNKNOWN,
                outcome="lookup_failed",
                error_class=error.error_class.value,
                code=error.code,
                subcode=error.subcode,
                message=error.message,
                # Looked for again after a backoff, never in a loop that hammers a platform
                # that is down (or writes an attempt row every second).
                next_attempt_at=failed_at + self._lookup_wait(row.id),
                expect_state=State.UNKNOWN,
                seen=row,
            )
            if not still_unknown:
                return self._overtaken(row.id)
            if error.error_class is ErrorClass.AUTH:
                self.store.pause_channel(row.account, error.message, self.clock())
            elif error.error_class is ErrorClass.RATE_LIMITED:
                until = self.clock() + self.policy.cooldown(error.retry_after)
                self.store.cool_down(row.account, until, error.message)
            self._alert_unknown(row, error.message)
            return _result(
                self.store.get_by_id(row.id),
                f"could not look on {where}: {error.message}",
            )
        finished = self.clock()
        if found is not None:
            won = self.store.finish(
                attempt_id,
                row.id,
                now=finished,
                state=State.PUBLISHED,
                outcome="found",
                remote_id=found.remote_id,
                url=found.url,
                message=None,
                expect_state=State.UNKNOWN,
                seen=row,
            )
            if not won:
                return self._overtaken(row.id)
            log.info("%s on %s: found online (%s)", row.post_id, where, found.url)
            return _result(self.store.get_by_id(row.id), f"found online: {found.url}", found=True)
        gave_up = row.attempt_count >= self.policy.max_attempts
        state = State.FAILED if gave_up else State.SCHEDULED
        won = self.store.finish(
            attempt_id,
            row.id,
            now=finished,
            state=state,
            outcome="not_found",
            message=f"not found on {where}: the last try did not create it.",
            # The time it is judged on time against from now on: a retry is never "missed"
            # because of the time an unclear answer took to clear up.
            next_attempt_at=None if gave_up else finished,
            expect_state=State.UNKNOWN,
            seen=row,
        )
        if not won:
            return self._overtaken(row.id)
        log.info("%s on %s: not found online; %s", row.post_id, where, state.value)
        if gave_up:
            self.store.raise_alert(
                f"failed:{row.post_id}:{row.account}",
                "failed",
                f"{row.post_id} was not published on {where} after {row.attempt_count} tries.",
                finished,
                channel=row.channel,
                account=row.account,
                post_id=row.post_id,
            )
        return _result(
            self.store.get_by_id(row.id),
            "not found online: it will be tried again."
            if not gave_up
            else "not found online, and out of tries.",
        )

    def _lookup_wait(self, publication_id: int) -> timedelta:
        """How long to wait before looking again after a failed lookup: a backoff on the
        number of failed lookups in a row (at least ``reconcile_after``)."""
        failed = 0
        for attempt in reversed(self.store.attempts(publication_id)):
            if attempt.kind != "reconcile" or attempt.outcome not in ("lookup_failed", None):
                break
            failed += attempt.outcome == "lookup_failed"
        wait = self.policy.backoff(max(1, failed + 1), random.Random())
        return max(wait, self.policy.reconcile_after)

    def _overtaken(self, publication_id: int) -> Reconciled:
        """Another process recorded this publication first: say what it recorded."""
        row = self.store.get_by_id(publication_id)
        if row.state == State.PUBLISHED:
            message = f"already published, found in the database: {row.url or row.remote_id}"
        elif row.state == State.PUBLISHING:
            message = "another process has it: it is being published right now."
        else:
            message = f"another process looked first; it is {row.state} now."
        return _result(row, message)

    def _label(self, row: Publication) -> str:
        """How messages name the row's account (see :attr:`Channel.label`)."""
        channel = self.channels.get(row.account)
        return channel.label if channel is not None else row.account

    def _alert_unknown(self, row: Publication, reason: str) -> None:
        where = self._label(row)
        self.store.raise_alert(
            f"unknown:{row.post_id}:{row.account}",
            "unknown",
            f"{row.post_id} on {where}: it is not known whether it is online, and the "
            f"platform could not be checked ({reason}). Look on {where}, then run "
            "`campaign reconcile`.",
            self.clock(),
            channel=row.channel,
            account=row.account,
            post_id=row.post_id,
        )


def request_from_row(row: Publication) -> PublishRequest:
    """The request as it was sent, rebuilt from what the store kept of it."""
    media = tuple(
        MediaItem(path=Path(item["file"]), alt=item["alt"], sha256=item["sha256"])
        for item in json.loads(row.media_json or "[]")
    )
    return PublishRequest(
        post_id=row.post_id,
        channel=row.channel,  # type: ignore[arg-type]
        caption=row.caption or "",
        media=media,
        fingerprint=row.fingerprint or "",
        link=row.link,
        first_comment=row.first_comment,
        account=row.account,
    )


def _older(row: Publication, now: datetime, age: timedelta) -> bool:
    return row.claimed_at is None or now - row.claimed_at >= age


def _result(row: Publication, message: str, *, found: bool = False) -> Reconciled:
    return Reconciled(row.post_id, row.channel, State(row.state), message, found, row.account)
