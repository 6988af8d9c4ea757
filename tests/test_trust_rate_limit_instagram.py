"""Instagram's rate limits (429, "Please wait a few minutes", feedback_required) rest the
channel, and the post goes out after the rest, never "missed" because of it.

Instagram through instagrapi's real code against the fake private API (requests-mock),
the defaults' shape (a 60-minute rest, longer than the 30-minute grace), a hand-set clock,
and the store closed and opened again (a restart) during the rest.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from scheduler.publisher import Publisher
from scheduler.retry_policy import RetryPolicy
from scheduler.store.models import State
from scheduler.store.store import Store
from scheduler.timing import decide
from tests.conftest import HandClock
from tests.fakes.instagram_api import FakeInstagram
from tests.fakes.instagram_api import fake_instagram as fake_instagram
from tests.test_publish_flow import clock as clock
from tests.test_publish_flow import ig_request, instagram, rendition
from tests.test_publish_flow import session_file as session_file

GRACE = timedelta(minutes=30)
POLICY = RetryPolicy(
    rate_limit_cooldown=timedelta(minutes=60),
    request_timeout=timedelta(seconds=1),
)


@pytest.mark.parametrize(
    ("endpoint", "scenario"),
    [
        ("configure", "http_429"),
        ("rupload", "http_429"),
        ("configure", "please_wait"),
        ("configure", "feedback_required"),
        ("configure", "rate_limit_error"),
    ],
)
def test_an_instagram_rate_limit_rests_then_the_post_goes_out_not_missed(
    fake_instagram: FakeInstagram,
    session_file: Path,
    clock: HandClock,
    tmp_path: Path,
    endpoint: str,
    scenario: str,
) -> None:
    url = f"sqlite:///{tmp_path / 'campaign.db'}"
    request = ig_request("2030-09-15-vila", (rendition(tmp_path, 1),), "Ett inlägg som vilar.")
    due = clock()
    store = Store.open(url)
    store.ensure_publication(request.post_id, "instagram", due, clock())
    fake_instagram.queue(endpoint, scenario)

    first = Publisher(store, {"instagram": instagram(session_file)}, POLICY, clock).publish(request)
    rested_until = store.channel_state("instagram").cooldown_until
    store.close()  # the daemon stops during the rest

    assert first.state is State.SCHEDULED, first.message
    assert rested_until is not None and rested_until - due >= POLICY.rate_limit_cooldown
    assert fake_instagram.posts == []
    clock.now = rested_until + GRACE - timedelta(minutes=1)  # more than the grace after due
    store = Store.open(url)
    try:
        row = store.get(request.post_id, "instagram")
        assert row is not None and row.id is not None
        assert row.attempt_count == 0  # a rate limit is not a try that counts
        decision = decide(row, due, clock(), GRACE, POLICY.reconcile_after)
        assert decision.action == "publish", decision

        again = Publisher(store, {"instagram": instagram(session_file)}, POLICY, clock).publish(
            request
        )

        assert again.state is State.PUBLISHED, again.message
        assert len(fake_instagram.posts) == 1
        assert [a.outcome for a in store.attempts(row.id)] == ["retry", "published"]
        assert [a.kind for a in store.alerts()] == []
    finally:
        store.close()
