"""An unknown outcome whose lookup fails is looked for again after a backoff, never in a loop.

The daemon used to come back to such a publication every second: with Facebook down (or
rate-limiting), it asked again and wrote an attempt row each second. Now a failed lookup
gives the publication the time it is looked for again (a growing backoff, or the end of
the channel's rest), and the daemon's job, a rescan and an early job all respect it. The
real daemon's jobs with a hand-set clock, the real Facebook channel against the fake.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from campaign.config import FacebookSection
from scheduler.channels.facebook import FacebookChannel
from scheduler.channels.factory import ChannelSetup
from scheduler.daemon import Daemon
from scheduler.store.models import State
from tests.conftest import Campaign, HandClock
from tests.fakes.graph_api import FakeGraphAPI
from tests.fakes.graph_api import fake_graph as fake_graph
from tests.test_daemon import Setup, at, post_text, publish_jobs, start_job_store
from tests.test_daemon import clock as clock
from tests.test_daemon import setup as setup

POST_ID = "2030-09-15-nere"
KEY = (POST_ID, "facebook")


@pytest.fixture
def live_daemon(setup: Setup, clock: HandClock, fake_graph: FakeGraphAPI) -> Iterator[Daemon]:
    setup.post(POST_ID, post_text("2030-09-15 09:00", "[facebook]"))
    settings = FacebookSection(
        page_id=fake_graph.page_id, graph_url=fake_graph.url, api_version=fake_graph.version
    )
    channel = FacebookChannel(settings, fake_graph.token, 30.0)
    daemon = Daemon(
        setup.config, setup.store(), {"facebook": ChannelSetup(channel, None)}, clock=clock
    )
    setup.daemons.append(daemon)
    yield daemon


def test_a_failing_lookup_is_retried_after_a_backoff_and_after_a_rest_never_every_second(
    live_daemon: Daemon, clock: HandClock, fake_graph: FakeGraphAPI, campaign: Campaign
) -> None:
    daemon = live_daemon
    policy = daemon.policy
    clock.now = at("2030-09-15 09:00")
    start_job_store(daemon)
    daemon.rescan(force=True)
    fake_graph.script("POST photos", "error_500_without_error")  # no clear answer
    fake_graph.script("GET posts", "error_2", "error_2", "error_32")

    daemon.publish_job(*KEY)
    row = daemon.store.get(*KEY)
    assert row is not None and row.state == State.UNKNOWN
    clock.now = publish_jobs(daemon)[KEY]

    daemon.publish_job(*KEY)  # lookup 1: Facebook is down
    assert len(fake_graph.of_kind("GET posts")) == 1
    first_wait = publish_jobs(daemon)[KEY] - clock.now
    assert first_wait >= policy.first_retry / 2, first_wait
    daemon.rescan(force=True)  # a rescan keeps the backoff
    assert publish_jobs(daemon)[KEY] - clock.now == first_wait
    clock.advance(timedelta(seconds=1))
    daemon.publish_job(*KEY)  # a job that comes early does not look
    assert len(fake_graph.of_kind("GET posts")) == 1
    clock.now = publish_jobs(daemon)[KEY]

    daemon.publish_job(*KEY)  # lookup 2: still down, a longer wait
    assert len(fake_graph.of_kind("GET posts")) == 2
    assert publish_jobs(daemon)[KEY] - clock.now >= policy.first_retry
    clock.now = publish_jobs(daemon)[KEY]

    daemon.publish_job(*KEY)  # lookup 3: rate-limited, the channel rests
    assert len(fake_graph.of_kind("GET posts")) == 3
    rested_until = daemon.store.channel_state("facebook").cooldown_until
    assert rested_until is not None and rested_until >= clock.now + policy.rate_limit_cooldown
    assert publish_jobs(daemon)[KEY] == rested_until
    clock.now = rested_until

    daemon.publish_job(*KEY)  # lookup 4: not there; tried again, once
    assert len(fake_graph.of_kind("GET posts")) == 4
    assert len(fake_graph.of_kind("POST photos")) == 2
    assert len(fake_graph.posts) == 1
    row = daemon.store.get(*KEY)
    assert row is not None and row.id is not None and row.state == State.PUBLISHED
    attempts = daemon.store.attempts(row.id)
    assert [(a.kind, a.outcome) for a in attempts] == [
        ("publish", "unknown"),
        ("reconcile", "lookup_failed"),
        ("reconcile", "lookup_failed"),
        ("reconcile", "lookup_failed"),
        ("reconcile", "not_found"),
        ("publish", "published"),
    ]
    assert all(a.finished_at is not None for a in attempts)
