"""Several processes publish the same post at the same moment: exactly one of them posts it.

Each process has its own Publisher, its own Store on the same database and its own
FacebookChannel, all talking to one fake Graph API that runs in this (the parent) process.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

from PIL import Image

from campaign.config import FacebookSection
from scheduler.channels.base import MediaItem, PublishRequest
from scheduler.channels.facebook import FacebookChannel
from scheduler.prepare import content_fingerprint, media_json
from scheduler.publisher import Publisher
from scheduler.retry_policy import RetryPolicy
from scheduler.store.models import State
from scheduler.store.store import Store
from tests.database import database_url as database_url
from tests.fakes.graph_api import FakeGraphAPI
from tests.fakes.graph_api import fake_graph as fake_graph

PROCESSES = 4
POST_ID = "2030-09-15-demokratins-dag"
CAPTION = "Idag är det demokratins dag. Kom och prata med oss.\n#demokrati100"
POLICY = RetryPolicy(request_timeout=timedelta(seconds=5))
#: What a process that did not get the post may say.
LOSER_SAYS = ("another process has it", "already published")
#: What a loser must not say: the winner's claim is not an unclear answer.
MISLEADING = "the last try had no clear answer"


def photo_request(folder: Path) -> PublishRequest:
    path = folder / "bild.jpg"
    Image.new("RGB", (96, 120), (27, 54, 93)).save(path, "JPEG", quality=90)
    media = (
        MediaItem(
            path=path,
            alt="Tre personer framför en vallokal.",
            sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        ),
    )
    return PublishRequest(
        post_id=POST_ID,
        channel="facebook",
        caption=CAPTION,
        media=media,
        fingerprint=content_fingerprint("facebook", CAPTION, None, None, media),
    )


def publish_at_once(
    url: str,
    token: str,
    page_id: str,
    version: str,
    db_url: str,
    request: PublishRequest,
    barrier: Barrier,
    results: Any,
) -> None:
    """One contender: set up, wait for the others, then publish the post."""
    try:
        store = Store.open(db_url)
        settings = FacebookSection(page_id=page_id, graph_url=url, api_version=version)
        channel = FacebookChannel(settings, token, POLICY.request_timeout.total_seconds())
        publisher = Publisher(store, {"facebook": channel}, POLICY)
        barrier.wait(timeout=60)
        now = datetime.now(UTC)
        store.ensure_publication(request.post_id, request.channel, now - timedelta(minutes=1), now)
        outcome = publisher.publish(request)
        results.put(
            (os.getpid(), outcome.state.value, outcome.message, outcome.called_platform, None)
        )
        store.close()
    except BaseException as problem:  # report it to the parent rather than die silently
        results.put((os.getpid(), None, None, None, f"{type(problem).__name__}: {problem}"))


def run_contenders(fake: FakeGraphAPI, db_url: str, request: PublishRequest) -> list[tuple]:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    results = context.Queue()
    args = (fake.url, fake.token, fake.page_id, fake.version, db_url, request, barrier, results)
    processes = [context.Process(target=publish_at_once, args=args) for _ in range(PROCESSES)]
    for process in processes:
        process.start()
    try:
        answers = [results.get(timeout=90) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
                process.join()
    assert [a[4] for a in answers] == [None] * PROCESSES, answers
    assert all(process.exitcode == 0 for process in processes)
    return answers


def test_several_processes_publishing_one_post_post_it_once(
    fake_graph: FakeGraphAPI, database_url: str, tmp_path: Path
) -> None:
    request = photo_request(tmp_path)
    Store.open(database_url).close()  # the tables exist before the race
    # The winner's call takes a moment, so that the others arrive while it is out.
    fake_graph.script("POST photos", {"delay": 0.5})

    answers = run_contenders(fake_graph, database_url, request)

    assert len(fake_graph.of_kind("POST photos")) == 1
    assert len(fake_graph.posts) == 1
    [post] = fake_graph.posts
    winners = [a for a in answers if a[3]]
    assert len(winners) == 1
    assert winners[0][1] == State.PUBLISHED.value
    for _, state, message, _, _ in answers:
        if (state, message) == winners[0][1:3]:
            continue
        assert state in (State.PUBLISHING.value, State.PUBLISHED.value), message
        assert any(says in message for says in LOSER_SAYS), message
    store = Store.open(database_url)
    try:
        row = store.get(POST_ID, "facebook")
        assert row is not None and row.id is not None
        assert row.state == State.PUBLISHED
        assert row.remote_id == post.id
        assert row.attempt_count == 1
        assert [(a.kind, a.outcome) for a in store.attempts(row.id)] == [("publish", "published")]
    finally:
        store.close()


def test_a_process_that_finds_the_post_being_published_says_another_process_has_it(
    fake_graph: FakeGraphAPI, database_url: str, tmp_path: Path
) -> None:
    request = photo_request(tmp_path)
    store = Store.open(database_url)
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        now = datetime.now(UTC)
        row = store.ensure_publication(POST_ID, "facebook", now - timedelta(minutes=1), now)
        assert row.id is not None
        claim = store.claim(
            row.id,
            now=now,
            claimed_by=f"{socket.gethostname()}:{live.pid}:0badcafe",
            fingerprint=request.fingerprint,
            caption=request.caption,
            media_json=media_json(request.media),
            link=None,
            first_comment=None,
        )
        assert claim is not None
        channel = FacebookChannel(
            FacebookSection(
                page_id=fake_graph.page_id, graph_url=fake_graph.url, api_version=fake_graph.version
            ),
            fake_graph.token,
            5.0,
        )

        outcome = Publisher(store, {"facebook": channel}, POLICY).publish(request)

        assert fake_graph.requests == []
        assert outcome.state is State.PUBLISHING
        assert not outcome.called_platform
        assert "another process" in outcome.message
        assert MISLEADING not in outcome.message
    finally:
        live.kill()
        live.wait()
        store.close()
