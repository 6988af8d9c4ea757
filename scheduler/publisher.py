"""Exactly once: claim → call → record, for one (post, channel) publication.

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

from scheduler.channels.base import Channel, PublishRequest
from scheduler.channels.errors import ChannelError, ErrorClass
from scheduler.claimant import this_process
from scheduler.clock import Clock, system_clock
from scheduler.prepare import media_json
from scheduler.reconcile import Reconciler
from scheduler.redaction import redact
from scheduler.retry_policy import RetryPolicy
from scheduler.store.models import Mode, Publication, State
from scheduler.store.store import Claim, Store

log = logging.getLogger("campaign.publish")


@dataclass(frozen=True)
class Outcome:
    """What happened to one publication, in words for the person who asked."""

    post_id: str
    channel: str
    state: State
    message: str
    remote_id: str | None = None
    url: str | None = None
    called_platform: bool = False


class Publisher:
    """Publishes prepared requests through the channels, recording every step."""

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
        also retries a failed publication and skips a pending backoff."""
        now = self.clock()
        channel = self.channels[request.channel]
        row = self.store.get(request.post_id, request.channel, mode_of(channel))
        if row is None:
            raise KeyError(f"no publication row for {request.post_id}/{request.channel}")
        assert row.id is not None
        if row.state == State.PUBLISHED:
            return self._already_published(row, request)
        if row.state in (State.PUBLISHING, State.UNKNOWN):
            if not self._channel_open(channel, now):
                return _outcome(row, self._closed_reason(channel.name))
            found = self.reconciler.reconcile_one(row, force=by_hand)
            row = self.store.get_by_id(row.id)
            if row.state == State.PUBLISHED:
                return _outcome(
                    row, f"already published: {row.url or row.remote_id} (found online)"
                )
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
            return _outcome(row, self._closed_reason(channel.name))
        if by_hand and (row.state != State.SCHEDULED or row.next_attempt_at is not None):
            self.store.set_state(row.id, State.SCHEDULED, now)
        claim = self.store.claim(
            row.id,
            now=now,
            claimed_by=self.me,
            fingerprint=request.fingerprint,
            caption=request.caption,
            media_json=media_json(request.media),
            link=request.link,
            first_comment=request.first_comment,
        )
        if claim is None:
            current = self.store.get_by_id(row.id)
            return _outcome(current, "another process has it, or its next try is not due yet.")
        return self._call(channel, request, claim)

    def _call(self, channel: Channel, request: PublishRequest, claim: Claim) -> Outcome:
        log.info(
            "publishing %s to %s (%s), try %d",
            request.post_id,
            request.channel,
            channel.kind,
            claim.attempt_number,
        )
        try:
            result = channel.publish(request)
        except ChannelError as error:
            return self._record_error(request, claim, error)
        except Exception as error:  # a bug or an unexpected library error: we cannot know
            log.exception("unexpected error while publishing %s", request.post_id)
            unexpected = ChannelError(
                ErrorClass.UNKNOWN_OUTCOME,
                f"an unexpected error ({type(error).__name__}: {redact(str(error))}); the post "
                "may or may not be online. It will be looked for before any new try.",
            )
            return self._record_error(request, claim, unexpected)
        now = self.clock()
        warnings = "\n".join(result.warnings) or None
        self.store.finish(
            claim,
            claim.publication_id,
            now=now,
            state=State.PUBLISHED,
            outcome="published",
            remote_id=result.remote_id,
            url=result.url,
            warnings=warnings,
        )
        log.info("published %s to %s: %s", request.post_id, request.channel, result.url)
        if result.rest_seconds is not None:
            until = now + self.policy.cooldown(result.rest_seconds)
            self.store.cool_down(request.channel, until, "; ".join(result.warnings))
        for warning in result.warnings:
            self.store.raise_alert(
                f"warning:{request.post_id}:{request.channel}:{warning[:80]}",
                "warning",
                f"{request.post_id} on {request.channel} is online, but: {warning}",
                now,
                channel=request.channel,
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
        )

    def _record_error(self, request: PublishRequest, claim: Claim, error: ChannelError) -> Outcome:
        now = self.clock()
        policy = self.policy
        kind = error.error_class
        name = request.channel
        next_at: datetime | None = None
        if kind is ErrorClass.UNKNOWN_OUTCOME:
            state, outcome = State.UNKNOWN, "unknown"
        elif kind is ErrorClass.PERMANENT:
            state, outcome = State.FAILED, "failed"
        elif kind is ErrorClass.AUTH:
            state, outcome = State.SCHEDULED, "retry"
            if self.store.pause_channel(name, error.message, now):
                log.error("%s paused: %s", name, error.message)
            self._alert_paused(name, error.message, now)
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
            name,
            error.message,
            kind.value,
            f", code {error.code}" if error.code else "",
        )
        if state == State.FAILED:
            self.store.raise_alert(
                f"failed:{request.post_id}:{name}",
                "failed",
                f"{request.post_id} was not published on {name}: {error.message}",
                now,
                channel=name,
                post_id=request.post_id,
            )
        message = {
            State.UNKNOWN: f"no clear answer ({error.message}); it will be looked for on "
            f"{name} before any new try.",
            State.FAILED: f"failed: {error.message}",
        }.get(state, f"not yet: {error.message}")
        if next_at is not None:
            message += f" Next try after {next_at:%Y-%m-%d %H:%M} UTC."
        return Outcome(request.post_id, name, state, message, called_platform=True)

    def _channel_open(self, channel: Channel, now: datetime) -> bool:
        if channel.kind == "outbox":
            return True  # a dry run is never paused, and never lifts a live channel's pause
        state = self.store.channel_state(channel.name)
        if state.cooldown_until is not None and state.cooldown_until > now:
            return False
        if state.paused_reason is None:
            return True
        last = state.last_auth_check_at
        if last is not None and now - last < self.policy.auth_check_every:
            return False
        check = channel.check_credentials()
        self.store.note_auth_check(channel.name, now)
        if check.ok:
            self.store.resume_channel(channel.name)
            log.info("%s resumed: %s", channel.name, check.detail)
            return True
        return False

    def _closed_reason(self, channel: str) -> str:
        state = self.store.channel_state(channel)
        if state.paused_reason is not None:
            return f"{channel} is paused until someone repairs its login: {state.paused_reason}"
        until = state.cooldown_until
        return (
            f"{channel} is resting after a rate limit until {until:%Y-%m-%d %H:%M} UTC: "
            f"{state.cooldown_reason}"
        )

    def _alert_paused(self, channel: str, reason: str, now: datetime) -> None:
        self.store.raise_alert(
            f"paused:{channel}",
            "paused",
            f"{channel} is paused: nothing more is sent there until a human acts. {reason}",
            now,
            channel=channel,
        )

    def _already_published(self, row: Publication, request: PublishRequest) -> Outcome:
        message = f"already published: {row.url or row.remote_id}"
        if row.fingerprint and row.fingerprint != request.fingerprint:
            message += (
                " The post file has changed since; the change is NOT published (edit the "
                "post on the platform by hand if it must change)."
            )
            self.store.raise_alert(
                f"edited:{request.post_id}:{request.channel}:{request.fingerprint[:12]}",
                "edited",
                f"{request.post_id} was changed after it was published on {request.channel}; "
                "the change was not published.",
                self.clock(),
                channel=request.channel,
                post_id=request.post_id,
            )
        return _outcome(row, message)


def mode_of(channel: Channel) -> Mode:
    """Dry-run rows for the outbox, live rows for a platform: they never stand in for
    each other, so a rehearsal never uses up the real publication."""
    return Mode.DRY_RUN if channel.kind == "outbox" else Mode.LIVE


def _outcome(row: Publication, message: str) -> Outcome:
    return Outcome(row.post_id, row.channel, State(row.state), message, row.remote_id, row.url)


def _attempt_message(error: ChannelError) -> str:
    if error.platform_message and error.platform_message not in error.message:
        return f"{error.message} (platform said: {error.platform_message})"
    return error.message
