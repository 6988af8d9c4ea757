"""Exactly once under races: by-hand publishes and reconciliations racing each other.

Every state change is a compare-and-set on the state (and the try) its caller saw. These
tests interleave two real Publishers (or Reconcilers), each with its own Store on one
database, at the exact moment that used to let the second overwrite the first; and race
four real processes publishing one post by hand. The platform is the fake Graph API.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from campaign.config import FacebookSection
from scheduler.channels.base import PublishRequest, RemotePost
from scheduler.channels.facebook import FacebookChannel
from scheduler.prepare import media_json
from scheduler.publisher import Publisher
from scheduler.reconcile import Reconciler
from scheduler.retry_policy import RetryPolicy
from scheduler.store.models import Publication, State
from scheduler.store.store import Store
from tests.database import database_url as database_url
from tests.fakes.graph_api import FakeGraphAPI
from tests.fakes.graph_api import fake_graph as fake_graph
from tests.test_publish_race import POST_ID, photo_request

POLICY = RetryPolicy(request_timeout=timedelta(seconds=5), max_attempts=3)
PROCESSES = 4
LOSER_SAYS = (
    "another process has it",
    "already published, found in the database",
    "already published, found online",
    "another process looked first",
)


class LooksThenWaits(Store):
    """A store that runs ``meanwhile`` (once) right after its first look at a publication:
    the moment between "seen" and "claimed" in which another process may act."""

    meanwhile: Callable[[], None] | None = None

    def get(self, *args: Any, **kwargs: Any) -> Publication | None:
        row = super().get(*args, **kwargs)
        todo, self.meanwhile = self.meanwhile, None
        if todo is not None:
            todo()
        return row


class LooksThenLets(FacebookChannel):
    """A Facebook channel that, after it has looked for a post, lets ``meanwhile`` run
    (once) before it answers: another process acting during a reconciliation."""

    meanwhile: Callable[[], None] | None = None

    def find_published(self, request: PublishRequest, since: datetime) -> RemotePost | None:
        found = super().find_published(request, since)
        todo, self.meanwhile = self.meanwhile, None
        if todo is not None:
            todo()
        return found


def facebook(fake: FakeGraphAPI, kind: type[FacebookChannel] = FacebookChannel) -> Any:
    settings = FacebookSection(page_id=fake.page_id, graph_url=fake.url, api_version=fake.version)
    return kind(settings, fake.token, POLICY.request_timeout.total_seconds())


def open_attempts(store: Store, publication_id: int) -> list[int | None]:
    return [a.id for a in store.attempts(publication_id) if a.finished_at is None]


def put_in_state(store: Store, request: PublishRequest, state: str) -> int:
    """A publication that was due a while ago and is now ``state``."""
    now = datetime.now(UTC)
    row = store.ensure_publication(POST_ID, "facebook", now - timedelta(hours=3), now)
    assert row.id is not None
    if state in ("unknown", "unknown_then_failed"):
        for _ in range(POLICY.max_attempts if state == "unknown_then_failed" else 1):
            claim = store.claim(
                row.id,
                now=now - timedelta(hours=2),
                claimed_by="a-host-that-is-gone:999999:deadbeef",
                fingerprint=request.fingerprint,
                caption=request.caption,
                media_json=media_json(request.media),
                link=None,
                first_comment=None,
                from_states=(State.SCHEDULED, State.FAILED),
            )
            assert claim is not None
            store.finish(
                claim,
                row.id,
                now=now - timedelta(hours=2),
                state=State.UNKNOWN,
                outcome="unknown",
                message="no answer before the timeout",
            )
            if state == "unknown_then_failed":
                store.set_state(row.id, State.FAILED, now, "out of tries")
        if state == "unknown_then_failed":
            store.set_state(row.id, State.UNKNOWN, now, "no answer before the timeout")
    else:
        store.set_state(row.id, State(state), now, f"{state} earlier")
    return row.id


# -- two processes, interleaved at the worst moment ------------------------------------------


@pytest.mark.parametrize("state", ["missed", "failed", "scheduled"])
def test_a_publish_by_hand_never_overwrites_what_another_did_after_it_looked(
    fake_graph: FakeGraphAPI, database_url: str, tmp_path: Path, state: str
) -> None:
    request = photo_request(tmp_path)
    first = LooksThenWaits.open(database_url)
    second = Store.open(database_url)
    try:
        publication_id = put_in_state(second, request, state)
        other = Publisher(second, {"facebook": facebook(fake_graph)}, POLICY)
        answers = []
        first.meanwhile = lambda: answers.append(other.publish(request, by_hand=True))

        outcome = Publisher(first, {"facebook": facebook(fake_graph)}, POLICY).publish(
            request, by_hand=True
        )

        [theirs] = answers
        assert theirs.state is State.PUBLISHED and theirs.called_platform
        assert len(fake_graph.posts) == 1, "posted twice"
        assert len(fake_graph.of_kind("POST photos")) == 1
        assert not outcome.called_platform
        assert outcome.state is State.PUBLISHED
        assert outcome.message.startswith("already published, found in the database: ")
        row = second.get_by_id(publication_id)
        assert (row.state, row.remote_id) == (State.PUBLISHED, fake_graph.posts[0].id)
        assert open_attempts(second, publication_id) == []
    finally:
        first.close()
        second.close()


def test_a_reconciliation_overtaken_by_a_newer_try_never_clears_that_try(
    fake_graph: FakeGraphAPI, database_url: str, tmp_path: Path
) -> None:
    """A looks for try 1 and finds nothing; meanwhile B reconciles try 1, makes try 2, and
    try 2 (which did create the post) ends unknown. A's "not found" is about try 1: it must
    not send try 2's post out again."""
    request = photo_request(tmp_path)
    first = Store.open(database_url)
    second = Store.open(database_url)
    try:
        publication_id = put_in_state(second, request, "unknown")
        fake_graph.script("POST photos", "create_then_drop")
        other = Publisher(second, {"facebook": facebook(fake_graph)}, POLICY)
        answers = []
        looking = facebook(fake_graph, LooksThenLets)
        looking.meanwhile = lambda: answers.append(other.publish(request, by_hand=True))
        reconciler = Reconciler(first, {"facebook": looking}, POLICY)

        result = reconciler.reconcile_one(first.get_by_id(publication_id), force=True)

        [theirs] = answers
        assert theirs.state is State.UNKNOWN  # try 2 made the post, and then no answer
        assert len(fake_graph.posts) == 1
        assert result.state is State.UNKNOWN, result
        assert "another process looked first" in result.message
        assert open_attempts(first, publication_id) == []
        # The next publish looks for try 2's post first, and finds it: no second post.
        again = Publisher(first, {"facebook": facebook(fake_graph)}, POLICY).publish(
            request, by_hand=True
        )
        assert again.state is State.PUBLISHED
        assert "found online" in again.message
        assert len(fake_graph.posts) == 1
        assert len(fake_graph.of_kind("POST photos")) == 1  # try 2 only (try 1 is made up)
        assert open_attempts(first, publication_id) == []
    finally:
        first.close()
        second.close()


def test_two_reconciliations_of_one_unknown_finish_both_attempt_rows(
    fake_graph: FakeGraphAPI, database_url: str, tmp_path: Path
) -> None:
    request = photo_request(tmp_path)
    first = Store.open(database_url)
    second = Store.open(database_url)
    try:
        publication_id = put_in_state(second, request, "unknown")
        answers = []
        other = Reconciler(second, {"facebook": facebook(fake_graph)}, POLICY)
        looking = facebook(fake_graph, LooksThenLets)
        looking.meanwhile = lambda: answers.append(
            other.reconcile_one(second.get_by_id(publication_id), force=True)
        )

        result = Reconciler(first, {"facebook": looking}, POLICY).reconcile_one(
            first.get_by_id(publication_id), force=True
        )

        [theirs] = answers
        assert theirs.state is State.SCHEDULED  # not found: to be tried again
        assert result.state is State.SCHEDULED
        assert "another process looked first" in result.message
        attempts = first.attempts(publication_id)
        assert [a.kind for a in attempts] == ["publish", "reconcile", "reconcile"]
        assert open_attempts(first, publication_id) == []
        assert "not recorded on the publication" in (attempts[1].message or "")  # the loser
        assert fake_graph.posts == []
    finally:
        first.close()
        second.close()


# -- four processes at once ------------------------------------------------------------------


def publish_by_hand(
    url: str,
    token: str,
    page_id: str,
    version: str,
    db_url: str,
    request: PublishRequest,
    barrier: Any,
    results: Any,
) -> None:
    """One contender: `campaign publish`'s path, started together with the others."""
    try:
        store = Store.open(db_url)
        settings = FacebookSection(page_id=page_id, graph_url=url, api_version=version)
        channel = FacebookChannel(settings, token, POLICY.request_timeout.total_seconds())
        publisher = Publisher(store, {"facebook": channel}, POLICY)
        barrier.wait(timeout=60)
        outcome = publisher.publish(request, by_hand=True)
        results.put((os.getpid(), outcome.state.value, outcome.message, outcome.called_platform))
        store.close()
    except BaseException as problem:
        results.put((os.getpid(), None, f"{type(problem).__name__}: {problem}", None))


@pytest.mark.parametrize("state", ["missed", "failed", "unknown_then_failed"])
def test_four_processes_publishing_by_hand_post_once(
    fake_graph: FakeGraphAPI, database_url: str, tmp_path: Path, state: str
) -> None:
    request = photo_request(tmp_path)
    store = Store.open(database_url)
    try:
        publication_id = put_in_state(store, request, state)
    finally:
        store.close()
    fake_graph.script("POST photos", {"delay": 0.5})
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    results = context.Queue()
    args = (
        fake_graph.url,
        fake_graph.token,
        fake_graph.page_id,
        fake_graph.version,
        database_url,
        request,
        barrier,
        results,
    )
    processes = [context.Process(target=publish_by_hand, args=args) for _ in range(PROCESSES)]
    for process in processes:
        process.start()
    try:
        answers = [results.get(timeout=120) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
                process.join()

    assert all(answer[1] is not None for answer in answers), answers
    assert len(fake_graph.of_kind("POST photos")) == 1, answers
    assert len(fake_graph.posts) == 1
    winners = [answer for answer in answers if answer[3]]
    assert len(winners) == 1, answers
    assert winners[0][1] == State.PUBLISHED.value
    for answer in answers:
        if answer is not winners[0]:
            assert any(says in answer[2] for says in LOSER_SAYS), answer
    store = Store.open(database_url)
    try:
        row = store.get_by_id(publication_id)
        assert (row.state, row.remote_id) == (State.PUBLISHED, fake_graph.posts[0].id)
        assert open_attempts(store, publication_id) == []
        assert [a.outcome for a in store.attempts(publication_id)].count("published") == 1
    finally:
        store.close()
