"""Take the samples that are due: read each post's counts from its platform and store them.

Rate limits and broken logins are handled as in publishing, per account (the account
rests or pauses, the others read on), and sampling never gets in the way of publishing: a
failed read is logged and tried again at the next check.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from scheduler.channels.base import Channel
from scheduler.channels.errors import ChannelError, ErrorClass
from scheduler.clock import Clock, system_clock
from scheduler.engagement.sampling import due_target
from scheduler.publisher import alert_paused
from scheduler.redaction import excerpt, redact
from scheduler.retry_policy import RetryPolicy
from scheduler.store.models import Sample
from scheduler.store.store import Store

log = logging.getLogger("campaign.engagement")


@dataclass
class SampleReport:
    """What one round of sampling did."""

    taken: int = 0
    failed: int = 0
    skipped_channels: int = 0


class Sampler:
    """Samples published posts at their ages through the live channels (keyed by
    account name)."""

    def __init__(
        self,
        store: Store,
        channels: Mapping[str, Channel],
        ages: Sequence[int],
        policy: RetryPolicy | None = None,
        clock: Clock = system_clock,
    ) -> None:
        self.store = store
        self.channels = channels
        self.ages = tuple(ages)
        self.policy = policy or RetryPolicy()
        self.clock = clock
        #: Accounts whose reads were rate-limited, and until when. Kept here, not in the
        #: store's account state, so that a limit on reading never holds up publishing.
        self.resting_until: dict[str, datetime] = {}

    def sample_due(self) -> SampleReport:
        """Take every sample that is due now."""
        report = SampleReport()
        taken = self.store.sample_ages_taken()
        resting: set[str] = set()
        for row in self.store.published():
            assert row.id is not None
            account = row.account
            channel = self.channels.get(account)
            if channel is None or channel.kind == "outbox" or row.published_at is None:
                continue
            if row.sampling_stopped is not None:
                continue
            if account in resting or not self._open(account):
                resting.add(account)
                continue
            now = self.clock()
            target = due_target(row.published_at, self.ages, taken.get(row.id, set()), now)
            if target is None or row.remote_id is None:
                continue
            try:
                metrics = channel.read_metrics(row.remote_id)
            except ChannelError as error:
                report.failed += 1
                if self._rest(channel, error):
                    resting.add(account)
                if error.error_class is ErrorClass.PERMANENT:
                    self.store.stop_sampling(row.id, error.message)
                    log.warning(
                        "engagement of %s on %s is no longer read: %s",
                        row.post_id,
                        channel.label,
                        error.message,
                    )
                else:
                    log.warning(
                        "engagement of %s on %s: %s", row.post_id, channel.label, error.message
                    )
                continue
            except Exception as problem:  # one post that breaks never stops the others'
                report.failed += 1
                log.warning(
                    "engagement of %s on %s failed unexpectedly (read again at the next check): %s",
                    row.post_id,
                    channel.label,
                    excerpt(f"{type(problem).__name__}: {problem}", 300),
                )
                continue
            sample = Sample(
                publication_id=row.id,
                taken_at=now,
                age_seconds=int((now - row.published_at).total_seconds()),
                target_age_seconds=target,
                reactions=metrics.reactions,
                comments=metrics.comments,
                shares=metrics.shares,
                saves=metrics.saves,
                views=metrics.views,
                reach=metrics.reach,
                clicks=metrics.clicks,
                raw_json=redact(json.dumps(metrics.raw, ensure_ascii=False, sort_keys=True)),
            )
            if self.store.add_sample(sample):
                report.taken += 1
        report.skipped_channels = len(resting)
        return report

    def _open(self, account: str) -> bool:
        now = self.clock()
        if self.resting_until.get(account, now) > now:
            return False
        state = self.store.channel_state(account)
        if state.paused_reason is not None:
            return False
        return state.cooldown_until is None or state.cooldown_until <= now

    def _rest(self, channel: Channel, error: ChannelError) -> bool:
        """Rest reading (a rate limit) or pause the account (a broken login, as publishing
        would); whether the account now rests."""
        now = self.clock()
        account = channel.account
        if error.error_class is ErrorClass.RATE_LIMITED:
            self.resting_until[account] = now + self.policy.cooldown(error.retry_after)
            return True
        if error.error_class is ErrorClass.AUTH:
            if self.store.pause_channel(account, error.message, now):
                alert_paused(self.store, channel.name, account, channel.label, error.message, now)
            return True
        return False
