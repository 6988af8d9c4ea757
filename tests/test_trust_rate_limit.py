"""A post held back by our own rate-limit rest, pause or retry is never "missed".

The rule (scheduler.timing.on_time_from): a publication is judged late against the last
time we gave it ourselves — its retry time — not its original time. These tests publish
through the real Facebook channel into the fake Graph API with a hand-set clock, close the
store and open it again (a restart) before asking what to do next.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from campaign.config import FacebookSection
from scheduler.channels.facebook import FacebookChannel
from scheduler.publisher import Publisher
from scheduler.retry_policy import RetryPolicy
from scheduler.store.models import Publication, State
from scheduler.store.store import Store
from scheduler.timing import decide, on_time_from
from tests.conftest import NOW, HandClock
from tests.fakes.graph_api import FakeGraphAPI
from tests.fakes.graph_api import fake_graph as fake_graph
from tests.test_publish_race import POST_ID, photo_request

GRACE = timedelta(minutes=30)  # the defaults: a 60-minute rest is longer than the grace
POLICY = RetryPolicy(
    request_timeout=timedelta(seconds=5),
    rate_limit_cooldown=timedelta(minutes=60),
    auth_check_every=timedelta(minutes=60),
)
DUE = NOW


def channel(fake: FakeGraphAPI) -> FacebookChannel:
    settings = FacebookSection(page_id=fake.page_id, graph_url=fake.url, api_version=fake.version)
    return FacebookChannel(settings, fake.token, 5.0)


def restarted(path: Path) -> Store:
    return Store.open(f"sqlite:///{path / 'campaign.db'}")


def row_after_restart(path: Path) -> Publication:
    store = restarted(path)
    try:
        found = store.get(POST_ID, "facebook")
        assert found is not None
        return found
    finally:
        store.close()


# -- the rule --------------------------------------------------------------------------------


def test_a_rested_post_is_judged_against_its_retry_time_not_its_due_time() -> None:
    rested_until = DUE + timedelta(minutes=60)
    row = Publication(
        post_id=POST_ID,
        channel="facebook",
        due_at=DUE,
        next_attempt_at=rested_until,
        attempt_count=0,  # a rate-limited try is not counted
        claimed_at=DUE,
    )
    assert on_time_from(row, DUE, rested_until) == rested_until
    for now in (rested_until, rested_until + GRACE - timedelta(seconds=1)):
        decision = decide(row, DUE, now, GRACE, timedelta(seconds=30))
        assert (decision.action, decision.run_at) == ("publish", now)
    late = decide(row, DUE, rested_until + GRACE + timedelta(minutes=1), GRACE, timedelta(0))
    assert late.action == "missed"  # the scheduler itself was down past the retry + grace
    assert "past its next try" in late.reason
    assert late.since == rested_until


# -- through the real channel and the store, across a restart -----------------------------


@pytest.mark.parametrize("answer", ["error_32", "error_4", "error_17", "error_613"])
def test_a_rate_limited_post_rests_then_goes_out_after_a_restart(
    fake_graph: FakeGraphAPI, tmp_path: Path, answer: str
) -> None:
    clock = HandClock(DUE)
    request = photo_request(tmp_path)
    store = restarted(tmp_path)
    store.ensure_publication(POST_ID, "facebook", DUE, clock())
    fake_graph.script("POST photos", answer)
    first = Publisher(store, {"facebook": channel(fake_graph)}, POLICY, clock).publish(request)
    store.close()  # the daemon stops during the rest
    assert first.state is State.SCHEDULED and fake_graph.posts == []

    clock.advance(timedelta(minutes=60, seconds=5))  # the rest is over: 65 min after due
    row = row_after_restart(tmp_path)
    decision = decide(row, DUE, clock(), GRACE, POLICY.reconcile_after)

    assert decision.action == "publish", decision
    store = restarted(tmp_path)
    try:
        again = Publisher(store, {"facebook": channel(fake_graph)}, POLICY, clock).publish(request)
        assert again.state is State.PUBLISHED, again.message
        assert len(fake_graph.posts) == 1
    finally:
        store.close()


def test_a_post_held_by_a_rest_before_its_first_try_is_not_missed(
    fake_graph: FakeGraphAPI, tmp_path: Path
) -> None:
    """Another post's rate limit made the channel rest across this post's time."""
    clock = HandClock(DUE)
    request = photo_request(tmp_path)
    store = restarted(tmp_path)
    store.ensure_publication(POST_ID, "facebook", DUE, clock())
    store.cool_down("facebook", DUE + timedelta(minutes=60), "(#32) Page request limit reached")
    held = Publisher(store, {"facebook": channel(fake_graph)}, POLICY, clock).publish(request)
    store.close()
    assert "resting" in held.message and fake_graph.requests == []

    clock.advance(timedelta(minutes=61))
    row = row_after_restart(tmp_path)
    assert decide(row, DUE, clock(), GRACE, POLICY.reconcile_after).action == "publish"


def test_a_post_held_by_a_paused_channel_is_not_missed_when_the_login_is_repaired(
    fake_graph: FakeGraphAPI, tmp_path: Path
) -> None:
    clock = HandClock(DUE)
    request = photo_request(tmp_path)
    store = restarted(tmp_path)
    store.ensure_publication(POST_ID, "facebook", DUE, clock())
    fake_graph.script("POST photos", "error_190_463")
    paused = Publisher(store, {"facebook": channel(fake_graph)}, POLICY, clock).publish(request)
    store.close()
    assert paused.state is State.SCHEDULED

    clock.advance(POLICY.auth_check_every + timedelta(seconds=1))  # the next credentials check
    row = row_after_restart(tmp_path)
    assert decide(row, DUE, clock(), GRACE, POLICY.reconcile_after).action == "publish"
    store = restarted(tmp_path)
    try:
        out = Publisher(store, {"facebook": channel(fake_graph)}, POLICY, clock).publish(request)
        assert out.state is State.PUBLISHED, out.message
    finally:
        store.close()


def test_moving_a_held_post_later_drops_the_hold(fake_graph: FakeGraphAPI, tmp_path: Path) -> None:
    clock = HandClock(DUE)
    request = photo_request(tmp_path)
    store = restarted(tmp_path)
    try:
        store.ensure_publication(POST_ID, "facebook", DUE, clock())
        store.cool_down("facebook", DUE + timedelta(minutes=10), "(#32) Page request limit reached")
        Publisher(store, {"facebook": channel(fake_graph)}, POLICY, clock).publish(request)
        moved_to: datetime = DUE + timedelta(days=1)
        row = store.ensure_publication(POST_ID, "facebook", moved_to, clock())
        assert (row.due_at, row.next_attempt_at) == (moved_to, None)
    finally:
        store.close()
