"""The real daemon: a rate-limited post rests, survives a restart, and then goes out.

The rest (1 minute, the shortest allowed) is longer than the grace (30 s), as with the
defaults (60 minutes and 30 minutes): the post must not be recorded as missed. Waits are
generous and bounded on conditions, never on how long something took.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from scheduler.store.models import State
from tests.test_daemon_process import Live, post_name, wait_for
from tests.test_daemon_process import live as live

REST_MINUTES = 1
GRACE_MINUTES = 0.5


def test_a_rate_limited_post_rests_across_a_restart_then_goes_out_not_missed(live: Live) -> None:
    live.configure(grace_minutes=GRACE_MINUTES)
    live.campaign.config_text = live.campaign.config_text.replace(
        "reconcile_after_seconds = 0",
        f"reconcile_after_seconds = 0\nrate_limit_cooldown_minutes = {REST_MINUTES}",
    )
    live.campaign.config()
    due = datetime.now(UTC) + timedelta(seconds=3)
    live.post(due, "vilar", "Ett inlägg som får vila.")
    post_id = post_name(due, "vilar")
    live.fake.script("POST photos", "error_32")
    process, log = live.start_and_wait()

    wait_for(
        lambda: (
            live.attempts(post_id) == [("publish", "retry")] if post_id in live.rows() else False
        ),
        process,
        log,
        "the rate-limited try to be recorded",
        timeout=120,
    )
    assert live.stop(process, log) == 0  # a restart during the rest
    again, again_log = live.start_and_wait()

    wait_for(
        lambda: live.rows()[post_id].state in (State.PUBLISHED, State.MISSED),
        again,
        again_log,
        "the post to go out after its rest",
        timeout=REST_MINUTES * 60 + 120,
    )
    row = live.rows()[post_id]
    assert live.stop(again, again_log) == 0
    assert row.state == State.PUBLISHED, (row.state, row.last_error, again_log.read_text())
    assert live.alerts("missed") == []
    assert len(live.fake.posts) == 1
    assert live.attempts(post_id) == [("publish", "retry"), ("publish", "published")]
