"""An unexpected error on the publishing path never leaves a post silently unpublished.

Whatever breaks between "decided to publish" and "recorded the answer" — here the
database refusing a caption (PostgreSQL refuses NUL in text; SQLite's driver refuses a
lone surrogate), or a bug in the daemon's publish job — ends as a finished attempt row
with the (redacted) error, a counted try, an alert, and the daemon going on.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest

import scheduler.daemon as daemon_module
from campaign.config import FacebookSection
from scheduler.channels.facebook import FacebookChannel
from scheduler.publisher import Publisher
from scheduler.retry_policy import RetryPolicy
from scheduler.store.models import Mode, State
from scheduler.store.store import Store
from tests.conftest import NOW, HandClock
from tests.database import database_url as database_url
from tests.fakes.graph_api import FakeGraphAPI
from tests.fakes.graph_api import fake_graph as fake_graph
from tests.test_daemon import Setup, at, post_text, publish_jobs, start_job_store
from tests.test_daemon import clock as clock
from tests.test_daemon import setup as setup
from tests.test_publish_race import POST_ID, photo_request

POLICY = RetryPolicy(request_timeout=timedelta(seconds=5))


@pytest.mark.parametrize("by_hand", [False, True])
def test_a_caption_the_database_refuses_is_a_recorded_try_and_an_alert_never_a_crash(
    fake_graph: FakeGraphAPI, database_url: str, tmp_path: Path, by_hand: bool
) -> None:
    postgres = not database_url.startswith("sqlite")
    refused = "Idag är det demokratins dag.\x00" if postgres else "Idag \ud800 demokratins dag."
    request = dataclasses.replace(photo_request(tmp_path), caption=refused)
    clock = HandClock(NOW)
    store = Store.open(database_url)
    try:
        row = store.ensure_publication(POST_ID, "facebook", NOW, NOW)
        assert row.id is not None
        settings = FacebookSection(
            page_id=fake_graph.page_id, graph_url=fake_graph.url, api_version=fake_graph.version
        )
        channel = FacebookChannel(settings, fake_graph.token, 5.0)

        outcome = Publisher(store, {"facebook": channel}, POLICY, clock).publish(
            request, by_hand=by_hand
        )

        assert fake_graph.requests == []  # nothing was sent
        assert not outcome.called_platform
        after = store.get_by_id(row.id)
        assert after.attempt_count == 1  # counted
        [attempt] = store.attempts(row.id)
        assert (attempt.kind, attempt.outcome) == ("publish", "error")
        assert attempt.finished_at == NOW
        assert attempt.message is not None and "Error" in attempt.message
        assert "[SQL" not in attempt.message  # the statement and the caption are not echoed
        alerts = {alert.kind: alert.message for alert in store.alerts()}
        assert "error" in alerts and POST_ID in alerts["error"]
        if postgres:  # the database will never take this text: failed at once, told so
            assert (outcome.state, after.state) == (State.FAILED, State.FAILED)
            assert "NUL" in (attempt.message or "")
            assert "campaign check" in outcome.message
            assert "failed" in alerts
        else:  # tried again later, with a backoff, until out of tries
            assert (outcome.state, after.state) == (State.SCHEDULED, State.SCHEDULED)
            assert after.next_attempt_at is not None and after.next_attempt_at > NOW
    finally:
        store.close()


def test_a_bug_in_the_publish_job_is_recorded_alerted_and_tried_again(
    setup: Setup, clock: HandClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup.post("2030-09-15-trasig", post_text("2030-09-15 09:00", "[facebook]"))
    setup.post("2030-09-15-hel", post_text("2030-09-15 09:00", "[instagram]"))
    daemon = setup.daemon()
    daemon.rescan(force=True)
    start_job_store(daemon)
    daemon.prepared.pop("2030-09-15-trasig", None)
    real_prepare = daemon_module.prepare_posts

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("a bug in preparing the images")

    monkeypatch.setattr(daemon_module, "prepare_posts", broken)
    clock.now = at("2030-09-15 09:00")

    daemon.publish_job("2030-09-15-trasig", "facebook")
    daemon.publish_job("2030-09-15-hel", "instagram")  # the daemon goes on with the others

    store = daemon.store
    good = store.get("2030-09-15-hel", "instagram", Mode.DRY_RUN)
    assert good is not None and good.state == State.PUBLISHED
    row = store.get("2030-09-15-trasig", "facebook", Mode.DRY_RUN)
    assert row is not None and row.id is not None
    assert (row.state, row.attempt_count) == (State.SCHEDULED, 1)
    [attempt] = store.attempts(row.id)
    assert attempt.outcome == "error" and attempt.finished_at == clock.now
    assert "RuntimeError: a bug in preparing the images" in (attempt.message or "")
    assert any(
        alert.kind == "error" and alert.post_id == "2030-09-15-trasig" for alert in store.alerts()
    )
    retry_at = publish_jobs(daemon)[("2030-09-15-trasig", "facebook")]  # never left jobless
    assert retry_at > clock.now

    monkeypatch.setattr(daemon_module, "prepare_posts", real_prepare)  # the bug is fixed
    clock.now = retry_at
    daemon.publish_job("2030-09-15-trasig", "facebook")

    row = store.get_by_id(row.id)
    assert (row.state, row.attempt_count) == (State.PUBLISHED, 2)
    assert store.alerts() and not [a for a in store.alerts() if a.kind == "missed"]
