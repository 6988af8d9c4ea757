"""Retry timing: exponential backoff with full jitter, capped; rate-limit cool-downs."""

from __future__ import annotations

import itertools
import random
from datetime import timedelta
from pathlib import Path

import pytest

from campaign.config import PublishingSection, parse_config
from scheduler.retry_policy import RetryPolicy

POLICY = RetryPolicy(
    first_retry=timedelta(seconds=60),
    longest_retry=timedelta(seconds=900),
    rate_limit_cooldown=timedelta(minutes=60),
)
SEEDS = range(200)


def ceiling(attempt: int) -> float:
    return min(60 * 2 ** (attempt - 1), 900)


@pytest.mark.parametrize("attempt", [1, 2, 3, 4, 5, 6, 10, 20])
def test_backoff_stays_between_half_and_all_of_the_ceiling(attempt: int) -> None:
    waits = [POLICY.backoff(attempt, random.Random(seed)).total_seconds() for seed in SEEDS]
    top = ceiling(attempt)
    assert all(top / 2 <= wait <= top for wait in waits), (min(waits), max(waits), top)
    # Full jitter: the waits spread over the range rather than bunching at one end.
    assert min(waits) < top * 0.6 and max(waits) > top * 0.9


def test_backoff_doubles_with_each_attempt_until_the_cap() -> None:
    seed = 7
    waits = [POLICY.backoff(n, random.Random(seed)).total_seconds() for n in range(1, 5)]
    # Same seed → same fraction of the ceiling, so each wait is twice the one before.
    for earlier, later in itertools.pairwise(waits):
        assert later == pytest.approx(2 * earlier)
    assert POLICY.backoff(5, random.Random(seed)) == POLICY.backoff(9, random.Random(seed))
    assert ceiling(5) == 900  # the cap: 60 × 2⁴ = 960 > 900


def test_backoff_never_exceeds_longest_retry() -> None:
    policy = RetryPolicy(first_retry=timedelta(minutes=10), longest_retry=timedelta(minutes=15))
    for seed in SEEDS:
        rng = random.Random(seed)
        for attempt in range(1, 21):
            assert policy.backoff(attempt, rng) <= timedelta(minutes=15)
    assert policy.backoff(1, random.Random(1)) <= timedelta(minutes=10)


def test_backoff_jitter_differs_across_seeds_and_repeats_for_one() -> None:
    waits = {POLICY.backoff(3, random.Random(seed)) for seed in range(20)}
    assert len(waits) == 20
    assert POLICY.backoff(3, random.Random(42)) == POLICY.backoff(3, random.Random(42))


def test_backoff_returns_a_timedelta() -> None:
    assert isinstance(RetryPolicy().backoff(1, random.Random(0)), timedelta)
    default = RetryPolicy().backoff(1, random.Random(0))
    assert timedelta(seconds=30) <= default <= timedelta(seconds=60)


@pytest.mark.parametrize(
    ("hint", "expected"),
    [
        (None, timedelta(minutes=60)),
        (0, timedelta(minutes=60)),
        (30, timedelta(minutes=60)),  # a shorter hint never goes under the floor
        (3599.0, timedelta(minutes=60)),
        (7200, timedelta(hours=2)),  # a longer hint is honoured
        (86400.5, timedelta(seconds=86400.5)),
    ],
)
def test_cooldown_takes_the_longer_of_hint_and_floor(
    hint: float | None, expected: timedelta
) -> None:
    assert POLICY.cooldown(hint) == expected


def test_from_settings_maps_the_publishing_keys(tmp_path: Path) -> None:
    (tmp_path / "posts").mkdir()
    text = """\
[publishing]
request_timeout_seconds = 20
max_attempts = 7
retry_after_seconds = 15
retry_max_seconds = 600
rate_limit_cooldown_minutes = 90
reconcile_after_seconds = 45
auth_check_minutes = 5
"""
    config = parse_config(text, tmp_path / "config.toml")
    policy = RetryPolicy.from_settings(config.publishing)
    assert policy == RetryPolicy(
        max_attempts=7,
        first_retry=timedelta(seconds=15),
        longest_retry=timedelta(seconds=600),
        rate_limit_cooldown=timedelta(minutes=90),
        reconcile_after=timedelta(seconds=45),
        auth_check_every=timedelta(minutes=5),
        request_timeout=timedelta(seconds=20),
    )
    assert policy.claim_lease == timedelta(seconds=20 * 12) + timedelta(minutes=1)


def test_from_default_settings_equals_the_default_policy() -> None:
    assert RetryPolicy.from_settings(PublishingSection()) == RetryPolicy()
