"""Exactly once: claim → call → record, for one (post, account) publication.

The claim is committed before the platform is called. What the call leaves is
recorded after it: published; a retry at a later time; failed; or unknown, when
the platform may have created the post without telling us (a timeout, a lost
connection, a 5xx, a process that died). An unknown outcome is reconciled —
looked for on the platform — before anything is tried again.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import DataError

from scheduler.channels.base import Channel, PublishRequest, PublishResult
from scheduler.channels.errors import ChannelError, ErrorClass
from scheduler.claimant import this_process
from scheduler.clock import Clock, system_clock
from scheduler.prepare import media_json
from scheduler.reconcile import Reconciler
from scheduler.redaction import excerpt
from scheduler.retry_policy import RetryPolicy
from scheduler.store.models import Mode, Publication, State
from scheduler.store.store import Claim, Store

log = logging.getLogger("campaign.publish")


@dataclass(frozen=True)
class Outcome:
    """What happened to one publication, in words for the person who asked.

    ``channel`` is the platform, ``account`` where it went (left out: the platform's
    default account)."""

    post_id: str
    channel: str
    state: State
    message: str
    remote_id: str | None = None
    url: str | None = None
    called_platform: bool = False
    account: str = ""

    def __post_init__(self) -> None:
        if not self.account:
            object.__setattr__(self, "account", self.channel)


class Publisher:
    """Publishes prepared requests through the channels, recording every step.

    ``channels`` are keyed by account name; rests after rate limits, pauses after broken
    logins and alerts are per account."""

    def __init__(
        self,
        store: Store,
        channels: Mapping[str, Channel],
        policy: RetryPolicy | None = None,
        clock: Clock = system_clock,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.channels = channels
        self.policy = policy or RetryPolicy()
        self.clock = clock
        self.rng = rng or random.Random()
        self.me = this_process()
        self.reconciler = Reconciler(store, channels, self.policy, clock)

    def publish(self, request: PublishRequest, *, by_hand: bool = False) -> Outcome:
        """Publish ``request`` unless it is already out; ``by_hand`` (``campaign publish``)
        also retries a failed or missed publication and skips a pending backoff.

        Never raises for what happens on the way: an unexpected error anywhere between
        deciding to publish and recording the answer is recorded as a finished try with
        its (redacted) error, counted and alerted; the outcome says what happened.
        """
        progress = _Progress()
        try:
            return self._publish(request, by_hand, progress)
        except Exception as error:  # a bug, the database, a library: never a lost post
            return self._unexpected(request, error, progress, by_hand)

    def _publish(self, request: PublishRequest, by_hand: bool, progress: _Progress) -> Outcome:
        now = self.clock()
        channel = self.channels[request.account]
        row = self.store.get(request.post_id, request.account, mode_of(channel))
        if row is None:
            raise KeyError(f"no publication row for {request.post_id}/{request.account}")
        assert row.id is not None
        progress.seen = row
        if row.state == State.PUBLISHED:
            return self._already_published(row, request)
        if row.state in (State.PUBLISHING, State.UNKNOWN):
            if not self._channel_open(channel, now):
                return _outcome(row, self._closed_reason(channel))
            found = self.reconciler.reconcile_one(row, force=by_hand)
            row = self.store.get_by_id(row.id)
            progress.seen = row
            if row.state == State.PUBLISHED:
                return _outcome(row, _published_by(row, found_online=found.found))
            if row.state == State.PUBLISHING:
                return _outcome(row, f"another process has it: {found.message}")
            if row.state == State.UNKNOWN:
                return _outcome(
                    row,
                    "it may already be online (the last try had no clear answer) and could not "
                    f"be checked yet ({found.message}); it is checked before any new try.",
                )
        if row.state == State.MISSED and not by_hand:
            return _outcome(row, "it was missed; publish it by hand if it should still go out.")
        if row.state == State.FAILED and not by_hand:
            return _outcome(row, f"it failed: {row.last_error}")
        if not self._channel_open(channel, now):
            if row.state == State.SCHEDULED:
                self.store.hold(row, self._reopens_at(channel.account, now), now)
            return _outcome(row, self._closed_reason(channel))
        # By hand, the claim is taken from the state the row is seen in (missed, failed, a
        # pending retry), never by setting it back first: a compare-and-set on the row as
        # seen, so of several processes publishing by hand at once only one gets it.
        claim = self.store.claim(
            row.id,
            now=now,
            claimed_by=self.me,
            fingerprint=request.fingerprint,
            caption=request.caption,
            media_json=media_json(request.media),
            link=request.link,
            first_comment=request.first_comment,
            seen=row if by_hand else None,
        )
        if claim is None:
            return self._lost_claim(row.id)
        progress.claim = claim
        return self._call(channel, request, claim, progress)

    def _lost_claim(self, publication_id: int) -> Outcome:
        """What a process that did not get the claim tells its user: what really happened."""
        current = self.store.get_by_id(publication_id)
        if current.state == State.PUBLISHED:
            return _outcome(current, _published_by(current, found_online=False))
        if current.state == State.PUBLISHING:
            return _outcome(current, "another process has it: it is being published right now.")
        if current.next_attempt_at is not None and current.next_attempt_at > self.clock():
            return _outcome(
                current,
                "another process has it, or its next try is not due yet "
                f"({current.next_attempt_at:%Y-%m-%d %H:%M} UTC).",
            )
        return _outcome(
            current,
            f"another process has it: it tried just now and the post is {current.state}"
            + (f" ({current.last_error})." if current.last_error else "."),
        )

    def _call(
        self, channel: Channel, request: PublishRequest, claim: Claim, progress: _Progress
    ) -> Outcome:
        log.info(
            "publishing %s to %s (%s), try %d",
            request.post_id,
            channel.label,
            channel.kind,
            claim.attempt_number,
        )
        progress.called = True
        try:
            result = channel.publish(request)
        except ChannelError as error:
            return self._record_error(request, claim, error)
        except Exception as error:  # a bug or an unexpected library error: we cannot know
            log.exception("unexpected error while publishing %s", request.post_id)
            unexpected = ChannelError(
                ErrorClass.UNKNOWN_OUTCOME,
                f"an unexpected error ({describe_error(error)}); the post "
                "may or may not be online. It will be looked for before any new try.",
            )
            return self._record_error(request, claim, unexpected)
        progress.result = result
        now = self.clock()
        warnings = "\n".join(result.warnings) or None
        recorded = self.store.finish(
            claim,
            claim.publication_id,
            now=now,
            state=State.PUBLISHED,
            outcome="published",
            remote_id=result.remote_id,
            url=result.url,
            warnings=warnings,
        )
        where = channel.label
        log.info("published %s to %s: %s", request.post_id, where, result.url)
        if not recorded:
            self._alert_published_too_late(request, claim, result.url or result.remote_id)
        if result.rest_seconds is not None:
            until = now + self.policy.cooldown(result.rest_seconds)
            self.store.cool_down(request.account, until, "; ".join(result.warnings))
        for warning in result.warnings:
            self.store.raise_alert(
                f"warning:{request.post_id}:{request.account}:{warning[:80]}",
                "warning",
                f"{request.post_id} on {where} is online, but: {warning}",
                now,
                channel=request.channel,
                account=request.account,
                post_id=request.post_id,
            )
        return Outcome(
            request.post_id,
            request.channel,
            State.PUBLISHED,
            f"published: {result.url or result.remote_id}",
            result.remote_id,
            result.url,
            called_platform=True,
            account=request.account,
        )

    def _record_error(self, request: PublishRequest, claim: Claim, error: ChannelError) -> Outcome:
        now = self.clock()
        policy = self.policy
        kind = error.error_class
        name = request.account
        where = self._label(name)
        next_at: datetime | None = None
        if kind is ErrorClass.UNKNOWN_OUTCOME:
            state, outcome = State.UNKNOWN, "unknown"
        elif kind is ErrorClass.PERMANENT:
            state, outcome = State.FAILED, "failed"
        elif kind is ErrorClass.AUTH:
            # Held until the next credentials check: the time it is judged on time against.
            state, outcome = State.SCHEDULED, "retry"
            next_at = now + policy.auth_check_every
            if self.store.pause_channel(name, error.message, now):
                log.error("%s paused: %s", where, error.message)
            self._alert_paused(request.channel, name, error.message, now)
        elif kind is ErrorClass.RATE_LIMITED:
            until = now + policy.cooldown(error.retry_after)
            self.store.cool_down(name, until, error.message)
            state, outcome, next_at = State.SCHEDULED, "retry", until
        elif claim.attempt_number >= policy.max_attempts:
            state, outcome = State.FAILED, "failed"
        else:
            state, outcome = State.SCHEDULED, "retry"
            next_at = now + policy.backoff(claim.attempt_number, self.rng)
        self.store.finish(
            claim,
            claim.publication_id,
            now=now,
            state=state,
            outcome=outcome,
            error_class=kind.value,
            code=error.code,
            subcode=error.subcode,
            message=_attempt_message(error),
            next_attempt_at=next_at,
            refund_attempt=kind in (ErrorClass.AUTH, ErrorClass.RATE_LIMITED),
        )
        log.warning(
            "%s on %s: %s (%s%s)",
            request.post_id,
            where,
            error.message,
            kind.value,
            f", code {error.code}" if error.code else "",
        )
        if state == State.FAILED:
            self.store.raise_alert(
                f"failed:{request.post_id}:{name}",
                "failed",
                f"{request.post_id} was not published on {where}: {error.message}",
                now,
                channel=request.channel,
                account=name,
                post_id=request.post_id,
            )
        message = {
            State.UNKNOWN: f"no clear answer ({error.message}); it will be looked for on "
            f"{where} before any new try.",
            State.FAILED: f"failed: {error.message}",
        }.get(state, f"not yet: {error.message}")
        if next_at is not None:
            message += f" Next try after {next_at:%Y-%m-%d %H:%M} UTC."
        return Outcome(
            request.post_id, request.channel, state, message, called_platform=True, account=name
        )

    def _unexpected(
        self, request: PublishRequest, error: Exception, progress: _Progress, by_hand: bool
    ) -> Outcome:
        """Record an unexpected error on the publishing path: a finished, counted try with
        the (redacted) error, and an alert. What is recorded depends on how far it got."""
        name = request.account
        where = self._label(name)
        log.error(
            "unexpected error while publishing %s on %s",
            request.post_id,
            where,
            exc_info=(type(error), error, error.__traceback__),
        )
        what = describe_error(error)
        state: State = State.SCHEDULED
        next_at: datetime | None = None
        try:
            now = self.clock()
            if progress.claim is not None and progress.result is not None:
                state, text = self._record_published_anyway(request, progress, what, now)
            elif progress.claim is not None:
                state, next_at, text = self._record_broken_claim(
                    progress, what, now, called=progress.called
                )
            elif progress.seen is not None:
                state, next_at, text = self._record_broken_try(
                    progress.seen, error, what, now, by_hand
                )
            else:
                text = (
                    f"an unexpected error before anything was sent ({what}); nothing could be "
                    "recorded. It is tried again."
                )
        except Exception:
            log.exception("the unexpected error could not be recorded either")
            text = (
                f"an unexpected error ({what}), and it could not be recorded; the post is "
                "looked at again (a claim left open is reconciled before any new try)."
            )
        message = f"{request.post_id} on {where}: {text}"
        if next_at is not None:
            message += f" Next try after {next_at:%Y-%m-%d %H:%M} UTC."
        try:
            self.store.raise_alert(
                f"error:{request.post_id}:{name}:{type(error).__name__}",
                "error",
                message,
                self.clock(),
                channel=request.channel,
                account=name,
                post_id=request.post_id,
            )
        except Exception:
            log.exception("the alert for an unexpected error could not be recorded")
        result = progress.result if state == State.PUBLISHED else None
        return Outcome(
            request.post_id,
            request.channel,
            state,
            text if next_at is None else f"{text} Next try after {next_at:%Y-%m-%d %H:%M} UTC.",
            result.remote_id if result is not None else None,
            result.url if result is not None else None,
            called_platform=progress.called,
            account=name,
        )

    def _record_published_anyway(
        self, request: PublishRequest, progress: _Progress, what: str, now: datetime
    ) -> tuple[State, str]:
        """The platform took it, then recording broke: record the bare facts."""
        assert progress.claim is not None and progress.result is not None
        result = progress.result
        self.store.finish(
            progress.claim,
            progress.claim.publication_id,
            now=now,
            state=State.PUBLISHED,
            outcome="published",
            remote_id=result.remote_id,
            url=result.url,
            message=f"published; then an unexpected error while recording it: {what}",
        )
        return State.PUBLISHED, f"published: {result.url or result.remote_id} (then: {what})"

    def _record_broken_claim(
        self, progress: _Progress, what: str, now: datetime, *, called: bool
    ) -> tuple[State, datetime | None, str]:
        claim = progress.claim
        assert claim is not None
        if called:
            state, next_at, outcome = State.UNKNOWN, None, "unknown"
            text = (
                f"an unexpected error after the post was sent ({what}); it may or may not be "
                "online, and it is looked for before any new try."
            )
        elif claim.attempt_number >= self.policy.max_attempts:
            state, next_at, outcome = State.FAILED, None, "failed"
            text = f"failed: an unexpected error before it was sent ({what}), try after try."
        else:
            state, outcome = State.SCHEDULED, "retry"
            next_at = now + self.policy.backoff(claim.attempt_number, self.rng)
            text = f"not yet: an unexpected error before it was sent ({what})."
        self.store.finish(
            claim,
            claim.publication_id,
            now=now,
            state=state,
            outcome=outcome,
            error_class="unexpected",
            message=f"an unexpected error: {what}",
            next_attempt_at=next_at,
        )
        return state, next_at, text

    def _record_broken_try(
        self, seen: Publication, error: Exception, what: str, now: datetime, by_hand: bool
    ) -> tuple[State, datetime | None, str]:
        """Broken before a claim was made (the database refused the claim, say)."""
        if seen.state in (State.PUBLISHING, State.UNKNOWN, State.PUBLISHED):
            # Never moved on without a reconciliation: the error is recorded, nothing else.
            self.store.record_failed_try(
                seen,
                now=now,
                by=self.me,
                message=f"an unexpected error: {what}",
                state=State(seen.state),
                next_attempt_at=seen.next_attempt_at,
                count=False,
            )
            return State(seen.state), None, f"an unexpected error ({what}); nothing was sent."
        tries = seen.attempt_count + 1
        next_at: datetime | None = None
        if isinstance(error, DataError) or tries >= self.policy.max_attempts:
            state = State.FAILED
            text = (
                f"failed: the database refused to record this post ({what}); nothing was "
                "sent. Fix the post (run `campaign check`), then publish it by hand."
                if isinstance(error, DataError)
                else f"failed: an unexpected error before it was sent ({what}), try after try."
            )
        else:
            state = State(seen.state) if by_hand else State.SCHEDULED
            next_at = now + self.policy.backoff(tries, self.rng)
            text = f"not yet: an unexpected error before it was sent ({what}); nothing was sent."
        self.store.record_failed_try(
            seen,
            now=now,
            by=self.me,
            message=f"an unexpected error: {what}",
            state=state,
            next_attempt_at=next_at,
        )
        if state == State.FAILED:
            self.store.raise_alert(
                f"failed:{seen.post_id}:{seen.account}",
                "failed",
                f"{seen.post_id} was not published on {self._label(seen.account)}: {text}",
                now,
                channel=seen.channel,
                account=seen.account,
                post_id=seen.post_id,
            )
        return state, next_at, text

    def _alert_published_too_late(self, request: PublishRequest, claim: Claim, where: str) -> None:
        current = self.store.get_by_id(claim.publication_id)
        label = self._label(request.account)
        log.error(
            "%s on %s was published (%s) after its claim had been given up for lost",
            request.post_id,
            label,
            where,
        )
        self.store.raise_alert(
            f"late-answer:{request.post_id}:{request.account}:{claim.attempt_number}",
            "unknown",
            f"{request.post_id} was published on {label} ({where}), but the answer "
            f"came after the try had been given up for lost (the publication is now "
            f"{current.state}). Look on {label} for a second copy and delete one.",
            self.clock(),
            channel=request.channel,
            account=request.account,
            post_id=request.post_id,
        )

    def _label(self, account: str) -> str:
        """How messages name ``account`` (see :attr:`Channel.label`)."""
        channel = self.channels.get(account)
        return channel.label if channel is not None else account

    def _reopens_at(self, account: str, now: datetime) -> datetime:
        """When a closed account is looked at again: the end of its rest, or the next
        credentials check."""
        state = self.store.channel_state(account)
        if state.cooldown_until is not None and state.cooldown_until > now:
            return state.cooldown_until
        last = state.last_auth_check_at or now
        return max(now, last + self.policy.auth_check_every)

    def _channel_open(self, channel: Channel, now: datetime) -> bool:
        if channel.kind == "outbox":
            return True  # a dry run is never paused, and never lifts a live channel's pause
        state = self.store.channel_state(channel.account)
        if state.cooldown_until is not None and state.cooldown_until > now:
            return False
        if state.paused_reason is None:
            return True
        last = state.last_auth_check_at
        if last is not None and now - last < self.policy.auth_check_every:
            return False
        check = channel.check_credentials()
        self.store.note_auth_check(channel.account, now)
        if check.ok:
            self.store.resume_channel(channel.account)
            log.info("%s resumed: %s", channel.label, check.detail)
            return True
        return False

    def _closed_reason(self, channel: Channel) -> str:
        state = self.store.channel_state(channel.account)
        where = channel.label
        if state.paused_reason is not None:
            return f"{where} is paused until someone repairs its login: {state.paused_reason}"
        until = state.cooldown_until
        return (
            f"{where} is resting after a rate limit until {until:%Y-%m-%d %H:%M} UTC: "
            f"{state.cooldown_reason}"
        )

    def _alert_paused(self, platform: str, account: str, reason: str, now: datetime) -> None:
        alert_paused(self.store, platform, account, self._label(account), reason, now)

    def _already_published(self, row: Publication, request: PublishRequest) -> Outcome:
        message = _published_by(row, found_online=False)
        if row.fingerprint and row.fingerprint != request.fingerprint:
            message += (
                " The post file has changed since; the change is NOT published (edit the "
                "post on the platform by hand if it must change)."
            )
            self.store.raise_alert(
                f"edited:{request.post_id}:{request.account}:{request.fingerprint[:12]}",
                "edited",
                f"{request.post_id} was changed after it was published on "
                f"{self._label(request.account)}; the change was not published.",
                self.clock(),
                channel=request.channel,
                account=request.account,
                post_id=request.post_id,
            )
        return _outcome(row, message)


@dataclass
class _Progress:
    """How far one publish got: what to record if it breaks unexpectedly."""

    seen: Publication | None = None
    claim: Claim | None = None
    called: bool = False
    result: PublishResult | None = None


def describe_error(error: BaseException) -> str:
    """An unexpected error in one line for people and the record: its kind and message,
    redacted, without a database statement or its parameters (they hold the post)."""
    original = getattr(error, "orig", None)
    shown = original if isinstance(original, BaseException) else error
    first = (str(shown).strip().splitlines() or [""])[0]
    text = f"{type(shown).__name__}: {first}" if first else type(shown).__name__
    return excerpt(text, 340).replace("\x00", "\ufffd")  # redacted before it is cut


def _published_by(row: Publication, *, found_online: bool) -> str:
    where = row.url or row.remote_id
    if found_online:
        return f"already published, found online: {where}"
    return f"already published, found in the database: {where}"


def mode_of(channel: Channel) -> Mode:
    """Dry-run rows for the outbox, live rows for a platform: they never stand in for
    each other, so a rehearsal never uses up the real publication."""
    return Mode.DRY_RUN if channel.kind == "outbox" else Mode.LIVE


def alert_paused(
    store: Store, platform: str, account: str, label: str, reason: str, now: datetime
) -> None:
    """Tell a human that ``account`` is paused (publishing and sampling alike)."""
    store.raise_alert(
        f"paused:{account}",
        "paused",
        f"{label} is paused: nothing more is sent there until a human acts. {reason}",
        now,
        channel=platform,
        account=account,
    )


def _outcome(row: Publication, message: str) -> Outcome:
    return Outcome(
        row.post_id,
        row.channel,
        State(row.state),
        message,
        row.remote_id,
        row.url,
        account=row.account,
    )


def _attempt_message(error: ChannelError) -> str:
    if error.platform_message and error.platform_message not in error.message:
        return f"{error.message} (platform said: {error.platform_message})"
    return error.message
