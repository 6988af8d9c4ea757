"""A `campaign publish` process killed after Facebook made the post, before the answer came.

The fake Graph API creates the post and then holds its answer back; the process is killed
once the post exists. `campaign reconcile` must then find the post, and a second
`campaign publish` must say it is already published: one post on the Page, never two.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from PIL import Image

from scheduler.store.models import State
from scheduler.store.store import Store
from tests.conftest import GOOD_POST, Campaign
from tests.fakes.graph_api import FakeGraphAPI
from tests.fakes.graph_api import fake_graph as fake_graph

POST_ID = "2030-09-15-demokratins-dag"
TOKEN_ENV = "CRASH_TEST_PAGE_TOKEN"
CAPTION = "Idag är det demokratins dag. Kom och prata med oss.\n#demokrati100"


def crash_campaign(campaign: Campaign, fake: FakeGraphAPI) -> Path:
    """A campaign with one Facebook post, live against the fake, its own database."""
    Image.new("RGBA", (100, 50), (230, 0, 0, 255)).save(campaign.root / "logo.png")
    campaign.post(POST_ID, GOOD_POST.replace("[facebook, instagram]", "[facebook]"))
    campaign.config_text += f"""
[brand]
logo = "logo.png"

[render]
width = 320

[database]
url = "sqlite:///{campaign.root / "data" / "campaign.db"}"

[publishing]
outbox = "{campaign.root / "outbox"}"
# Longer than the test lives: the process is killed while it waits.
request_timeout_seconds = 120

[channels.facebook]
page_id = "{fake.page_id}"
graph_url = "{fake.url}"
api_version = "{fake.version}"
token_env = "{TOKEN_ENV}"

[channels.instagram]
enabled = false
"""
    campaign.config()  # writes config.toml (and checks it)
    return campaign.config_path


def environment(fake: FakeGraphAPI) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAMPAIGN_")}
    env[TOKEN_ENV] = fake.token
    return env


def campaign_command(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "scheduler.cli", "--config", str(config), *args]


def run(config: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        campaign_command(config, *args), env=env, capture_output=True, text=True, timeout=60
    )


def test_a_publish_killed_after_the_post_was_made_is_found_not_posted_twice(
    campaign: Campaign, fake_graph: FakeGraphAPI, tmp_path: Path
) -> None:
    config = crash_campaign(campaign, fake_graph)
    env = environment(fake_graph)
    fake_graph.script("POST photos", "create_then_hang")
    output = tmp_path / "publish.log"

    with output.open("w") as log:
        publishing = subprocess.Popen(
            campaign_command(config, "publish", POST_ID),
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while not fake_graph.posts and publishing.poll() is None:
                assert time.monotonic() < deadline, "the post was never made"
                time.sleep(0.05)
            assert publishing.poll() is None, output.read_text()
            assert fake_graph.wait_for_posts(1, timeout=0)
            publishing.send_signal(signal.SIGKILL)
        finally:
            publishing.kill()
            publishing.wait(timeout=30)  # reaped: its pid is gone
    assert publishing.returncode == -signal.SIGKILL
    assert "publishing 2030-09-15-demokratins-dag to facebook (facebook), try 1" in (
        output.read_text()
    )

    store = Store.open(f"sqlite:///{campaign.root / 'data' / 'campaign.db'}")
    try:
        row = store.get(POST_ID, "facebook")
        assert row is not None and row.id is not None
        assert row.state == State.PUBLISHING  # the claim, and nothing after it
        assert row.claimed_by is not None and f":{publishing.pid}:" in row.claimed_by
    finally:
        store.close()

    reconciled = run(config, env, "reconcile")

    [post] = fake_graph.posts
    assert reconciled.returncode == 0, reconciled.stdout + reconciled.stderr
    assert f"published {POST_ID} → facebook: found online: {post.permalink_url}" in (
        reconciled.stdout
    )

    again = run(config, env, "publish", POST_ID)

    assert again.returncode == 0, again.stdout + again.stderr
    said = f"published {POST_ID} → facebook: already published, found in the database: "
    assert f"{said}{post.permalink_url}" in again.stdout
    assert "publishing " not in again.stderr  # no new call to Facebook
    assert len(fake_graph.posts) == 1
    assert len(fake_graph.of_kind("POST photos")) == 1
    assert post.message == CAPTION
    for result in (reconciled, again):
        assert fake_graph.token not in result.stdout + result.stderr
    assert fake_graph.token not in output.read_text()
    store = Store.open(f"sqlite:///{campaign.root / 'data' / 'campaign.db'}")
    try:
        row = store.get(POST_ID, "facebook")
        assert row is not None and row.id is not None
        assert (row.state, row.remote_id, row.attempt_count) == (State.PUBLISHED, post.id, 1)
        assert [(a.kind, a.outcome) for a in store.attempts(row.id)] == [
            ("publish", "unknown"),
            ("reconcile", "found"),
        ]
    finally:
        store.close()
