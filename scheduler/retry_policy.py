"""When to try again: exponential backoff with full jitter, and rate-limit cool-downs."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from campaign.config import PublishingSection


@dataclass(frozen=True)
class RetryPolicy:
    """The [publishing] settings that govern retries, as durations."""

    max_attempts: int = 5
    first_retry: timedelta = timedelta(seconds=60)
    longest_retry: timedelta = timedelta(hours=1)
    rate_limit_cooldown: timedelta = timedelta(hours=1)
    reconcile_after: timedelta = timedelta(seconds=30)
    auth_check_every: timedelta = timedelta(minutes=15)
    request_timeout: timedelta = timedelta(seconds=60)

    @classmethod
    def from_settings(cls, settings: PublishingSection) -> RetryPolicy:
        return cls(
            max_attempts=settings.max_attempts,
            first_retry=timedelta(seconds=settings.retry_after_seconds),
            longest_retry=timedelta(seconds=settings.retry_max_seconds),
            rate_limit_cooldown=timedelta(minutes=settings.rate_limit_cooldown_minutes),
            reconcile_after=timedelta(seconds=settings.reconcile_after_seconds),
            auth_check_every=timedelta(minutes=settings.auth_check_minutes),
            request_timeout=timedelta(seconds=settings.request_timeout_seconds),
        )

    def backoff(self, attempt_number: int, rng: random.Random) -> timedelta:
        """The wait after try number ``attempt_number`` (1-based): between half and all of
        first_retry × 2^(n−1), capped, so that many failed posts do not retry in step."""
        ceiling = min(
            self.first_retry.total_seconds() * 2 ** (attempt_number - 1),
            self.longest_retry.total_seconds(),
        )
        return timedelta(seconds=rng.uniform(ceiling / 2, ceiling))

    def cooldown(self, hint_seconds: float | None) -> timedelta:
        """How long a rate-limited channel rests: the platform's hint or our floor."""
        hint = timedelta(seconds=hint_seconds) if hint_seconds else timedelta(0)
        return max(hint, self.rate_limit_cooldown)

    @property
    def claim_lease(self) -> timedelta:
        """After this long, a claim whose process cannot be checked counts as abandoned."""
        return self.request_timeout * 12 + timedelta(minutes=1)
