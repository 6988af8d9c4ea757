"""A daemon that starts while `campaign publish` waits for Facebook's answer.

The daemon holds the one-daemon lock, but a by-hand publish does not take it: its claim
is a live process's, not an abandoned one. Taking it for abandoned at start, the daemon
looked for the post before Facebook had made it, found nothing, and sent it again: two
posts. Real processes against the fake Graph API; waits are on conditions, bounded.
"""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta

from scheduler.store.models import State
from tests.test_daemon_process import Live, post_name, wait_for
from tests.test_daemon_process import live as live


def test_a_daemon_starting_during_a_publish_by_hand_never_posts_it_again(live: Live) -> None:
    live.configure(request_timeout=300)
    due = datetime.now(UTC) + timedelta(hours=3)  # the daemon has no reason of its own
    live.post(due, "for-hand", "Ett inlägg som publiceras för hand.")
    post_id = post_name(due, "for-hand")
    live.fake.script("POST photos", {"delay": 240})  # held until released below
    by_hand_log = live.root / "publish.log"
    with by_hand_log.open("wb") as output:
        by_hand = subprocess.Popen(
            live.command("publish", post_id),
            env=live.environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    live.processes.append(by_hand)  # type: ignore[arg-type]
    wait_for(
        lambda: len(live.fake.of_kind("POST photos")) == 1,
        by_hand,  # type: ignore[arg-type]
        by_hand_log,
        "the publish by hand to call Facebook",
    )

    daemon, log = live.start_and_wait()
    wait_for(
        lambda: (
            "another process has it" in log.read_text() or len(live.fake.of_kind("POST photos")) > 1
        ),
        daemon,
        log,
        "the daemon to look at the publication being published by hand",
    )
    live.fake.release_delayed()
    assert by_hand.wait(timeout=60) == 0, by_hand_log.read_text()
    assert live.stop(daemon, log) == 0

    assert len(live.fake.of_kind("POST photos")) == 1, log.read_text()
    assert len(live.fake.posts) == 1
    row = live.rows()[post_id]
    assert row.state == State.PUBLISHED, (row.state, row.last_error)
    assert row.remote_id == live.fake.posts[0].id
    assert ("publish", "published") in live.attempts(post_id)
    assert live.alerts("unknown") == []
