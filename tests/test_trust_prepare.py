"""Image preparation that breaks never loses a post silently, nor the other posts' jobs.

- An unexpected error while the daemon prepares images ahead (at start or at a rescan)
  used to abort the whole rescan: at start, `campaign run` died; later, every post after
  it was left without a job and the next rescan saw nothing new. Now the one post that
  breaks it is reported, the others are prepared and scheduled.
- A known problem at publish time (the logo gone, say) only raised a "broken" alert and
  left the post scheduled with no try and no job. Now it is a counted try with the
  problem, an alert, and a retry; failed, and a human told, when out of tries.
The real daemon's jobs with a hand-set clock, the outbox channels.
"""

from __future__ import annotations

import pytest

import scheduler.daemon as daemon_module
from scheduler.store.models import Mode, State
from tests.conftest import HandClock
from tests.test_daemon import Setup, alerts_of, at, post_text, publish_jobs, start_job_store
from tests.test_daemon import clock as clock
from tests.test_daemon import setup as setup


def test_a_post_that_breaks_preparation_at_start_never_stops_the_others(
    setup: Setup, clock: HandClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup.post("2030-09-15-trasig", post_text("2030-09-15 09:00", "[facebook]"))
    setup.post("2030-09-15-hel", post_text("2030-09-15 10:00", "[facebook]"))
    real_prepare = daemon_module.prepare_posts

    def breaks_on_one(posts: list, *args: object, **kwargs: object) -> object:
        if any(post.id == "2030-09-15-trasig" for post in posts):
            raise OSError("a bug while preparing the images")
        return real_prepare(posts, *args, **kwargs)

    monkeypatch.setattr(daemon_module, "prepare_posts", breaks_on_one)
    daemon = setup.daemon()
    start_job_store(daemon)

    daemon.rescan(force=True, workers=None)  # what run() does at start

    assert set(publish_jobs(daemon)) == {
        ("2030-09-15-trasig", "facebook"),
        ("2030-09-15-hel", "facebook"),
    }
    assert "2030-09-15-hel" in daemon.prepared
    [broken] = alerts_of(daemon.store, "broken")
    assert "2030-09-15-trasig" in broken and "OSError: a bug while preparing" in broken


def test_a_rescan_that_breaks_is_alerted_and_done_again_at_the_next_one(
    setup: Setup, clock: HandClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup.post("2030-09-15-hel", post_text("2030-09-15 10:00", "[facebook]"))
    daemon = setup.daemon()
    start_job_store(daemon)
    real_load = daemon_module.load_campaign

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("a bug while loading")

    monkeypatch.setattr(daemon_module, "load_campaign", broken)
    daemon.rescan(force=True)  # never raises (at start, `campaign run` used to die here)

    assert publish_jobs(daemon) == {}
    [error] = alerts_of(daemon.store, "error")
    assert "RuntimeError: a bug while loading" in error
    monkeypatch.setattr(daemon_module, "load_campaign", real_load)

    daemon.rescan()  # nothing changed on disk, and yet it looks again

    assert set(publish_jobs(daemon)) == {("2030-09-15-hel", "facebook")}


def test_a_known_preparation_problem_at_publish_time_is_a_try_an_alert_and_a_retry(
    setup: Setup, clock: HandClock
) -> None:
    post_id = "2030-09-20-utan-logga"  # beyond the 48 hours prepared ahead
    setup.post(post_id, post_text("2030-09-20 09:00", "[facebook]"))
    daemon = setup.daemon()
    start_job_store(daemon)
    daemon.rescan(force=True)
    assert post_id not in daemon.prepared
    logo = setup.root / "logo.png"
    logo.unlink()  # the branding cannot be made any more
    clock.now = at("2030-09-20 09:00")
    store = daemon.store

    for attempt in range(1, daemon.policy.max_attempts + 1):
        daemon.publish_job(post_id, "facebook")
        row = store.get(post_id, "facebook", Mode.DRY_RUN)
        assert row is not None and row.id is not None
        assert row.attempt_count == attempt
        tries = store.attempts(row.id)
        assert len(tries) == attempt and all(a.finished_at is not None for a in tries)
        assert "logo" in (tries[-1].message or "")
        if attempt < daemon.policy.max_attempts:
            assert row.state == State.SCHEDULED
            retry_at = publish_jobs(daemon)[(post_id, "facebook")]  # never left jobless
            assert retry_at == row.next_attempt_at and retry_at > clock.now
            clock.now = retry_at
    assert row.state == State.FAILED
    assert publish_jobs(daemon)[(post_id, "facebook")] <= clock.now  # no new try after it
    assert alerts_of(store, "error") and "logo" in alerts_of(store, "error")[0]
    [failed] = alerts_of(store, "failed")
    assert "NOT published" in failed and "publish it by hand" in failed
    assert alerts_of(store, "missed") == []
    assert not setup.outbox(post_id).exists()
