"""Exactly once, end to end: the Publisher and Reconciler with the real Facebook and Instagram
channels against the fakes of Meta's servers, a real SQLite store and a clock moved by hand.

The clock starts at the real time: the fakes stamp new posts with it, and reconciliation
looks for posts made since the claim (less ten minutes).
"""

from __future__ import annotations

import hashlib
import logging
import random
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from campaign.config import FacebookSection, InstagramSection
from campaign.post_loader import load_campaign
from scheduler.channels.base import Channel, MediaItem, PublishRequest
from scheduler.channels.errors import ChannelError
from scheduler.channels.facebook import FacebookChannel
from scheduler.channels.instagram import InstagramChannel
from scheduler.channels.outbox import OutboxChannel
from scheduler.prepare import content_fingerprint, media_json, prepare_posts
from scheduler.publisher import Outcome, Publisher
from scheduler.reconcile import Reconciler
from scheduler.redaction import RedactingFilter, install_log_redaction
from scheduler.retry_policy import RetryPolicy
from scheduler.store.models import Mode, State
from scheduler.store.store import Claim, Store
from tests.conftest import GOOD_POST, NOW, Campaign, HandClock
from tests.fakes.graph_api import FakeGraphAPI
from tests.fakes.graph_api import fake_graph as fake_graph
from tests.fakes.instagram_api import USERNAME, FakeInstagram
from tests.fakes.instagram_api import fake_instagram as fake_instagram

POLICY = RetryPolicy(
    max_attempts=3,
    first_retry=timedelta(seconds=60),
    longest_retry=timedelta(minutes=10),
    rate_limit_cooldown=timedelta(minutes=1),
    reconcile_after=timedelta(seconds=30),
    auth_check_every=timedelta(minutes=15),
    request_timeout=timedelta(seconds=1),
)
TIMEOUT = 1.0
CAPTION = "Idag är det demokratins dag. Kom och prata med oss.\n#demokrati100"
ALT = "Tre personer framför en vallokal med skylten Röstning."


# -- fixtures and helpers ----------------------------------------------------------------


@pytest.fixture
def clock() -> HandClock:
    return HandClock(datetime.now(UTC))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "campaign.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    opened = Store.open(f"sqlite:///{db_path}")
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def photo(tmp_path: Path) -> MediaItem:
    return jpeg(tmp_path, 1)


def jpeg(folder: Path, number: int, size: tuple[int, int] = (96, 120)) -> MediaItem:
    """A small JPEG, a different picture for each number."""
    path = folder / f"bild-{number}.jpg"
    Image.new("RGB", size, (20 * number % 256, 54, 93)).save(path, "JPEG", quality=90)
    return MediaItem(
        path=path,
        alt=f"Bild {number}: {ALT}",
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
    )


def make_request(
    post_id: str,
    caption: str = CAPTION,
    media: tuple[MediaItem, ...] = (),
    *,
    channel: str = "facebook",
    first_comment: str | None = None,
) -> PublishRequest:
    fingerprint = content_fingerprint(channel, caption, None, first_comment, media)
    return PublishRequest(
        post_id=post_id,
        channel=channel,  # type: ignore[arg-type]
        caption=caption,
        media=media,
        fingerprint=fingerprint,
        first_comment=first_comment,
    )


def schedule(
    store: Store, clock: HandClock, request: PublishRequest, *, dry_run: bool = False
) -> int:
    """The (live, or dry-run) publication row of ``request``, due a minute ago."""
    due, now = clock() - timedelta(minutes=1), clock()
    if dry_run:
        row = store.ensure_publication(request.post_id, request.channel, due, now, Mode.DRY_RUN)
    else:
        row = store.ensure_publication(request.post_id, request.channel, due, now)
    assert row.id is not None
    return row.id


def facebook(
    fake: FakeGraphAPI,
    *,
    token: str | None = None,
    timeout: float = TIMEOUT,
    graph_url: str | None = None,
) -> FacebookChannel:
    settings = FacebookSection(
        page_id=fake.page_id, graph_url=graph_url or fake.url, api_version=fake.version
    )
    return FacebookChannel(settings, token or fake.token, timeout)


def publisher(store: Store, clock: HandClock, *channels: Channel) -> Publisher:
    return Publisher(
        store, {channel.name: channel for channel in channels}, POLICY, clock, random.Random(7)
    )


def history(store: Store, publication_id: int) -> list[tuple[str, str | None]]:
    return [(a.kind, a.outcome) for a in store.attempts(publication_id)]


def alert_kinds(store: Store) -> list[tuple[str, str | None, str | None]]:
    return [(a.kind, a.post_id, a.channel) for a in store.alerts()]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def ended_process() -> str:
    """A claimant in ``host:pid:token`` form whose process has ended (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait(timeout=30)
    return f"{socket.gethostname()}:{process.pid}:deadbeef"


def claim_as(
    store: Store, publication_id: int, request: PublishRequest, claimant: str, now: datetime
) -> Claim:
    claim = store.claim(
        publication_id,
        now=now,
        claimed_by=claimant,
        fingerprint=request.fingerprint,
        caption=request.caption,
        media_json=media_json(request.media),
        link=request.link,
        first_comment=request.first_comment,
    )
    assert claim is not None
    return claim


# -- Facebook: the happy path --------------------------------------------------------------


def test_a_real_post_is_published_once_and_only_once(
    campaign: Campaign, fake_graph: FakeGraphAPI, store: Store, clock: HandClock
) -> None:
    Image.new("RGBA", (100, 50), (230, 0, 0, 255)).save(campaign.root / "logo.png")
    config = campaign.config('[brand]\nlogo = "logo.png"\n\n[render]\nwidth = 320\n')
    campaign.post(
        "2030-09-15-bra",
        GOOD_POST + "facebook:\n  link: https://www.sodertalje.se/\n",
    )
    loaded = load_campaign(config, now=NOW)
    assert not loaded.errors
    prepared, problems = prepare_posts(loaded.posts, config)
    assert not problems
    request = prepared[0].requests["facebook"]
    assert request.caption == CAPTION + "\n\nhttps://www.sodertalje.se/"
    publication = schedule(store, clock, request)
    publish = publisher(store, clock, facebook(fake_graph))

    outcome = publish.publish(request)

    [post] = fake_graph.posts
    assert outcome.state is State.PUBLISHED
    assert outcome.called_platform
    assert outcome.remote_id == post.id
    assert outcome.url == f"https://www.facebook.com/{post.id}"
    assert post.message == request.caption
    assert post.alt_texts == [ALT]
    [sent] = fake_graph.requests
    assert sent.files["source"].sha256 == request.media[0].sha256
    row = store.get_by_id(publication)
    assert row.state == State.PUBLISHED
    assert (row.remote_id, row.url) == (post.id, outcome.url)
    assert row.caption == request.caption
    assert row.fingerprint == request.fingerprint
    assert row.attempt_count == 1
    assert history(store, publication) == [("publish", "published")]
    assert store.alerts() == []

    clock.advance(timedelta(hours=2))
    again = publish.publish(request)

    assert again.state is State.PUBLISHED
    assert again.message.startswith("already published, found in the database: ")
    assert not again.called_platform
    assert again.remote_id == post.id
    assert len(fake_graph.requests) == 1
    assert len(fake_graph.posts) == 1
    assert history(store, publication) == [("publish", "published")]


def test_an_album_is_one_post_with_every_photo_and_alt_text(
    fake_graph: FakeGraphAPI, store: Store, clock: HandClock, tmp_path: Path
) -> None:
    media = (jpeg(tmp_path, 1), jpeg(tmp_path, 2), jpeg(tmp_path, 3))
    request = make_request("2030-09-15-album", media=media)
    schedule(store, clock, request)

    outcome = publisher(store, clock, facebook(fake_graph)).publish(request)

    [post] = fake_graph.posts
    assert outcome.state is State.PUBLISHED
    assert outcome.remote_id == post.id
    assert post.message == CAPTION
    assert post.alt_texts == [item.alt for item in media]
    assert [photo.sha256 for photo in post.photos] == [item.sha256 for item in media]


# -- Facebook: each class of error through the publisher ---------------------------------


def test_a_transient_error_waits_for_its_backoff_then_tries_again(
    fake_graph: FakeGraphAPI, store: Store, clock: HandClock, tmp_path: Path
) -> None:
    # The first photo of an album is uploaded unpublished: a 500 there created nothing.
    fake_graph.script("POST photos", "error_2")
    request = make_request("2030-09-15-album", media=(jpeg(tmp_path, 1), jpeg(tmp_path, 2)))
    publication = schedule(store, clock, request)
    publish = publisher(store, clock, facebook(fake_graph))
    started = clock()

    first = publish.publish(request)

    row = store.get_by_id(publication)
    assert first.state is State.SCHEDULED
    assert first.called_platform
    assert "temporary problem" in first.message and "Next try after" in first.message
    assert row.state == State.SCHEDULED
    assert row.next_attempt_at is not None
    wait = row.next_attempt_at - started
    assert timedelta(seconds=30) <= wait <= timedelta(seconds=60)
    [attempt] = store.attempts(publication)
    assert (attempt.outcome, attempt.error_class, attempt.platform_code) == (
        "retry",
        "transient",
        "2",
    )
    assert fake_graph.posts == []
    sent = len(fake_graph.requests)

    clock.now = row.next_attempt_at - timedelta(seconds=1)
    early = publish.publish(request)

    assert early.state is State.SCHEDULED
    assert not early.called_platform
    assert "not due yet" in early.message
    assert len(fake_graph.requests) == sent
    assert store.get_by_id(publication).attempt_count == 1

    clock.now = row.next_attempt_at
    due = publish.publish(request)

    assert due.state is State.PUBLISHED
    [post] = fake_graph.posts
    assert len(post.photos) == 2
    assert history(store, publication) == [("publish", "retry"), ("publish", "published")]
    assert store.alerts() == []


def test_a_refused_connection_is_transient_and_retried_after_the_backoff(
    fake_graph: FakeGraphAPI, store: Store, clock: HandClock, photo: MediaItem
) -> None:
    request = make_request("2030-09-15-bild", media=(photo,))
    publication = schedule(store, clock, request)
    unreachable = facebook(fake_graph, graph_url=f"http://127.0.0.1:{closed_port()}")

    first = publisher(store, clock, unreachable).publish(request)

    assert first.state is State.SCHEDULED
    assert "could not connect" in first.message
    row = store.get_by_id(publication)
    assert row.next_attempt_at is not None and row.next_attempt_at > clock()
    # The network is back; the next try still waits for its time.
    publish = publisher(store, clock, facebook(fake_graph))
    assert publish.publish(request).state is State.SCHEDULED
    assert fake_graph.requests == []

    clock.now = row.next_attempt_at + timedelta(seconds=1)
    assert publish.publish(request).state is State.PUBLISHED
    assert len(fake_graph.posts) == 1
    assert history(store, publication) == [("publish", "retry"), ("publish", "published")]


def test_transient_errors_up_to_max_attempts_fail_with_one_alert(
    fake_graph: FakeGraphAPI, store: Store, clock: HandClock, tmp_path: Path
) -> None:
    fake_graph.script("POST photos", *["error_2"] * POLICY.max_attempts)
    request = make_request("2030-09-15-album", media=(jpeg(tmp_path, 1), jpeg(tmp_path, 2)))
    publication = schedule(store, clock, request)
    publish = publisher(store, clock, facebook(fake_graph))

    outcomes = []
    for _ in range(POLICY.max_attempts):
        outcomes.append(publish.publish(request))
        row = store.get_by_id(publication)
        if row.next_attempt_at is not None:
            clock.now = row.next_attempt_at

    assert [o.state for o in outcomes] == [State.SCHEDULED, State.SCHEDULED, State.FAILED]
    assert outcomes[-1].message.startswith("failed: ")
    row = store.get_by_id(publication)
    assert row.state == State.FAILED
    assert row.attempt_count == POLICY.max_attempts
    assert row.next_attempt_at is None
    assert history(store, publication) == [
        ("publish", "retry"),
        ("publish", "retry"),
        ("publish", "failed"),
    ]
    assert alert_kinds(store) == [("failed", "2030-09-15-album", "facebook")]
    sent = len(fake_graph.requests)

    clock.advance(timedelta(days=1))
    later = publish.publish(request)

    assert later.state is State.FAILED and not later.called_platform
    assert len(fake_graph.requests) == sent
    assert fake_graph.posts == []
    # A human asks for it by hand: one more try, which works.
    assert publish.publish(request, by_hand=True).state is State.PUBLISHED
    assert len(fake_graph.posts) == 1


@pytest.mark.parametrize(
    ("answer", "rest"),
    [
        ("error_4", POLICY.rate_limit_cooldown),
        ("error_32", POLICY.rate_limit_cooldown),
        ("error_32_with_usage", timedelta(minutes=17)),  # estimated_time_to_regain_access
    ],
)
def test_a_rate_limit_rests_the_channel_for_every_post(
    fake_graph: FakeGraphAPI,
    store: Store,
    clock: HandClock,
    tmp_path: Path,
    answer: str,
    rest: timedelta,
) -> None:
    fake_graph.script("POST photos", answer)
    limited = make_request("2030-09-15-forsta", "Första inlägget.", (jpeg(tmp_path, 1),))
    other = make_request("2030-09-15-andra", "Andra inlägget.", (jpeg(tmp_path, 2),))
    limited_id, other_id = schedule(store, clock, limited), schedule(store, clock, other)
    publish = publisher(store, clock, facebook(fake_graph))
    started = clock()

    first = publish.publish(limited)

    assert first.state is State.SCHEDULED
    assert "slow down" in first.message
    channel = store.channel_state("facebook")
    assert channel.cooldown_until == started + rest
    assert channel.paused_reason is None
    assert store.get_by_id(limited_id).next_attempt_at == started + rest
    assert history(store, limited_id) == [("publish", "retry")]
    assert store.attempts(limited_id)[0].error_class == "rate_limited"
    sent = len(fake_graph.requests)

    clock.now = started + rest - timedelta(seconds=1)
    resting = publish.publish(other)

    assert resting.state is State.SCHEDULED
    assert not resting.called_platform
    assert "resting after a rate limit" in resting.message
    assert len(fake_graph.requests) == sent
    assert store.get_by_id(other_id).attempt_count == 0

    clock.now = started + rest
    assert publish.publish(other).state is State.PUBLISHED
    assert publish.publish(limited).state is State.PUBLISHED
    assert len(fake_graph.posts) == 2
    assert store.alerts() == []


def test_an_expired_token_pauses_facebook_until_a_new_token_works(
    fake_graph: FakeGraphAPI, store: Store, clock: HandClock, photo: MediaItem
) -> None:
    posts = [
        make_request(f"2030-09-{day:02d}-inlagg", f"Inlägg {day}.", (photo,))
        for day in range(1, 12)
    ]
    for request in posts:
        schedule(store, clock, request)
    # The fake answers every call made with a token it does not know with 190/463.
    publish = publisher(store, clock, facebook(fake_graph, token="EAAexpiredPageToken"))

    first = publish.publish(posts[0])

    assert first.state is State.SCHEDULED
    assert "new Page access token" in first.message
    state = store.channel_state("facebook")
    assert state.paused_reason is not None and "expired" in state.paused_reason
    [paused] = store.alerts()
    assert (paused.kind, paused.channel) == ("paused", "facebook")
    assert "until a human acts" in paused.message
    assert [r.kind for r in fake_graph.requests] == ["POST photos"]

    for request in posts[1:]:
        clock.advance(timedelta(minutes=1))
        outcome = publish.publish(request)
        assert outcome.state is State.SCHEDULED
        assert not outcome.called_platform
        assert "paused until someone repairs its login" in outcome.message
    assert len(fake_graph.requests) == 1

    # Once per auth_check interval the token is checked with one cheap read, still broken.
    clock.advance(POLICY.auth_check_every)
    for request in posts[1:]:
        assert publish.publish(request).state is State.SCHEDULED
    assert [r.kind for r in fake_graph.requests] == ["POST photos", "GET page"]
    assert [a.kind for a in store.alerts()] == ["paused"]  # told once

    # A Page admin puts a new token in place; it is tried at the next check.
    renewed = publisher(store, clock, facebook(fake_graph))
    assert renewed.publish(posts[1]).state is State.SCHEDULED
    assert len(fake_graph.requests) == 2
    clock.advance(POLICY.auth_check_every)
    outcomes = [renewed.publish(request) for request in posts]

    assert [o.state for o in outcomes] == [State.PUBLISHED] * len(posts)
    assert len(fake_graph.posts) == len(posts)
    assert store.channel_state("facebook").paused_reason is None
    assert [r.kind for r in fake_graph.requests[2:]] == ["GET page"] + ["POST photos"] * len(posts)
    assert [a.kind for a in store.alerts()] == ["paused"]


@pytest.mark.parametrize(
    ("answer", "what_to_do"),
    [
        ("error_324", "Re-export the image"),
        ("error_100", "Fix the post file"),
    ],
)
def test_a_refusal_fails_at_once_and_says_what_to_fix(
    fake_graph: FakeGraphAPI,
    store: Store,
    clock: HandClock,
    photo: MediaItem,
    answer: str,
    what_to_do: str,
) -> None:
    fake_graph.script("POST photos", answer)
    request = make_request("2030-09-15-bild", media=(photo,))
    publication = schedule(store, clock, request)
    publish = publisher(store, clock, facebook(fake_graph))

    outcome = publish.publish(request)

    assert outcome.state is State.FAILED
    assert what_to_do in outcome.message
    row = store.get_by_id(publication)
    assert row.state == State.FAILED and row.attempt_count == 1
    assert row.last_error is not None and what_to_do in row.last_error
    [attempt] = store.attempts(publication)
    assert (attempt.outcome, attempt.error_class) == ("failed", "permanent")
    [alert] = store.alerts()
    assert (alert.kind, alert.post_id) == ("failed", request.post_id)
    assert what_to_do in alert.message
    clock.advance(timedelta(hours=1))
    assert publish.publish(request).state is State.FAILED
    assert len(fake_graph.requests) == 1
    assert fake_graph.posts == []


# -- Facebook: unknown outcomes ------------------------------------------------------------


@pytest.mark.parametrize("answer", ["create_then_500", "create_then_drop", "slow"])
def test_a_post_created_without_a_clear_answer_is_found_not_posted_again(
    fake_graph: FakeGraphAPI, store: Store, clock: HandClock, photo: MediaItem, answer: str
) -> None:
    fake_graph.script("POST photos", answer)
    request = make_request("2030-09-15-bild", media=(photo,))
    publication = schedule(store, clock, request)
    # "slow" answers after a second: the client gives up first, the post is made anyway.
    timeout = 0.3 if answer == "slow" else TIMEOUT
    publish = publisher(store, clock, facebook(fake_graph, timeout=timeout))

    first = publish.publish(request)

    assert first.state is State.UNKNOWN
    assert "looked for" in first.message
    assert fake_graph.wait_for_posts(1)
    assert store.get_by_id(publication).state == State.UNKNOWN
    sent = len(fake_graph.requests)

    clock.advance(POLICY.reconcile_after - timedelta(seconds=1))
    early = publish.publish(request)

    assert early.state is State.UNKNOWN
    assert not early.called_platform
    assert "could not be checked yet" in early.message
    assert len(fake_graph.requests) == sent

    clock.advance(timedelta(seconds=1))
    found = publish.publish(request)

    [post] = fake_graph.posts
    assert found.state is State.PUBLISHED
    assert found.remote_id == post.id
    assert [r.kind for r in fake_graph.requests[sent:]] == ["GET posts"]
    assert len(fake_graph.of_kind("POST photos")) == 1
    row = store.get_by_id(publication)
    assert (row.state, row.remote_id) == (State.PUBLISHED, post.id)
    assert row.url == post.permalink_url
    assert history(store, publication) == [("publish", "unknown"), ("reconcile", "found")]


@pytest.mark.parametrize("answer", ["html_502", "drop"])
def test_a_lost_answer_that_created_nothing_is_tried_once_more(
    fake_graph: FakeGraphAPI, store: Store, clock: HandClock, photo: MediaItem, answer: str
) -> None:
    fake_graph.script("POST photos", answer)
    request = make_request("2030-09-15-bild", media=(photo,))
    publication = schedule(store, clock, request)
    publish = publisher(store, clock, facebook(fake_graph))

    assert publish.publish(request).state is State.UNKNOWN
    assert fake_graph.posts == []
    sent = len(fake_graph.requests)
    clock.advance(POLICY.reconcile_after)

    outcome = publish.publish(request)

    assert outcome.state is State.PUBLISHED
    assert len(fake_graph.posts) == 1
    assert [r.kind for r in fake_graph.requests[sent:]] == ["GET posts", "POST photos"]
    assert history(store, publication) == [
        ("publish", "unknown"),
        ("reconcile", "not_found"),
        ("publish", "published"),
    ]
    assert store.get_by_id(publication).attempt_count == 2


@pytest.mark.parametrize("created", [True, False], ids=["post-created", "nothing-created"])
def test_a_crash_between_claim_and_answer_is_reconciled(
    fake_graph: FakeGraphAPI, store: Store, clock: HandClock, photo: MediaItem, created: bool
) -> None:
    request = make_request("2030-09-15-bild", media=(photo,))
    publication = schedule(store, clock, request)
    channel = facebook(fake_graph)
    claim_as(store, publication, request, ended_process(), clock())
    if created:  # the process got its post out, then died before recording it
        channel.publish(request)
    sent = len(fake_graph.requests)
    clock.advance(POLICY.reconcile_after)
    reconciler = Reconciler(store, {"facebook": channel}, POLICY, clock)

    [released] = reconciler.release_abandoned()
    assert released.state == State.UNKNOWN
    [result] = reconciler.reconcile_all()

    assert [r.kind for r in fake_graph.requests[sent:]] == ["GET posts"]
    outcome = publisher(store, clock, channel).publish(request)
    assert len(fake_graph.posts) == 1
    assert len(fake_graph.of_kind("POST photos")) == 1
    assert outcome.state is State.PUBLISHED
    if created:
        assert result.state is State.PUBLISHED
        assert "found online" in result.message
        assert outcome.message.startswith("already published")
        assert not outcome.called_platform
        assert outcome.remote_id == fake_graph.posts[0].id
        assert history(store, publication) == [("publish", "unknown"), ("reconcile", "found")]
    else:
        assert result.state is State.SCHEDULED
        assert "tried again" in result.message
        assert outcome.called_platform
        assert history(store, publication) == [
            ("publish", "unknown"),
            ("reconcile", "not_found"),
            ("publish", "published"),
        ]


def test_an_edited_post_is_never_published_again(
    fake_graph: FakeGraphAPI, store: Store, clock: HandClock, photo: MediaItem
) -> None:
    original = make_request("2030-09-15-bild", media=(photo,))
    publication = schedule(store, clock, original)
    publish = publisher(store, clock, facebook(fake_graph))
    assert publish.publish(original).state is State.PUBLISHED
    edited = make_request("2030-09-15-bild", CAPTION.replace("Kom och", "Välkommen att"), (photo,))
    assert edited.fingerprint != original.fingerprint
    clock.advance(timedelta(days=1))

    outcome = publish.publish(edited)
    publish.publish(edited)

    assert outcome.state is State.PUBLISHED
    assert not outcome.called_platform
    assert "already published" in outcome.message
    assert "NOT published" in outcome.message
    assert len(fake_graph.requests) == 1
    [post] = fake_graph.posts
    assert post.message == CAPTION
    row = store.get_by_id(publication)
    assert (row.caption, row.fingerprint) == (CAPTION, original.fingerprint)
    assert alert_kinds(store) == [("edited", "2030-09-15-bild", "facebook")]


def test_no_lookup_on_facebook_while_it_rests_after_a_rate_limit(
    fake_graph: FakeGraphAPI, store: Store, clock: HandClock, tmp_path: Path
) -> None:
    fake_graph.script("POST photos", "create_then_500", "error_32")
    unknown = make_request("2030-09-15-forsta", "Första inlägget.", (jpeg(tmp_path, 1),))
    limited = make_request("2030-09-15-andra", "Andra inlägget.", (jpeg(tmp_path, 2),))
    schedule(store, clock, unknown)
    schedule(store, clock, limited)
    publish = publisher(store, clock, facebook(fake_graph))
    assert publish.publish(unknown).state is State.UNKNOWN
    assert publish.publish(limited).state is State.SCHEDULED
    resting_until = store.channel_state("facebook").cooldown_until
    assert resting_until is not None
    clock.advance(POLICY.reconcile_after)
    assert clock() < resting_until
    sent = len(fake_graph.requests)

    outcome = publish.publish(unknown)

    assert len(fake_graph.requests) == sent  # the daemon waits for the cool-down
    assert outcome.state is State.UNKNOWN


def test_a_dry_run_does_not_lift_the_pause_of_the_live_channel(
    fake_graph: FakeGraphAPI, store: Store, clock: HandClock, photo: MediaItem, tmp_path: Path
) -> None:
    live = make_request("2030-09-15-live", "Skarpt.", (photo,))
    rehearsal = make_request("2030-09-16-prov", "Repetition.", (photo,))
    schedule(store, clock, live)
    schedule(store, clock, rehearsal, dry_run=True)
    broken = publisher(store, clock, facebook(fake_graph, token="EAAexpiredPageToken"))
    assert broken.publish(live).state is State.SCHEDULED
    assert store.channel_state("facebook").paused_reason is not None
    clock.advance(POLICY.auth_check_every)

    dry_run = publisher(store, clock, OutboxChannel("facebook", tmp_path / "outbox", clock))
    dry_run.publish(rehearsal)

    assert store.channel_state("facebook").paused_reason is not None  # the token is as broken


# -- Instagram -------------------------------------------------------------------------------


@pytest.fixture
def session_file(fake_instagram: FakeInstagram, tmp_path: Path) -> Path:
    return fake_instagram.saved_session(tmp_path / "secrets")


def instagram(session_file: Path, password: str | None = None) -> InstagramChannel:
    return InstagramChannel(InstagramSection(username=USERNAME), session_file, password, TIMEOUT)


def rendition(folder: Path, number: int) -> MediaItem:
    """A rendition Instagram takes as it is (4:5, at least 320 wide)."""
    return jpeg(folder, number, size=(320, 400))


def ig_request(
    post_id: str, media: tuple[MediaItem, ...], caption: str = CAPTION, **extra: str
) -> PublishRequest:
    return make_request(post_id, caption, media, channel="instagram", **extra)


def ig_calls(fake: FakeInstagram) -> list[str]:
    """The Instagram requests made so far (method and path)."""
    return [f"{r.method} {r.path}" for r in fake.requests if "instagram.com" in r.url]


@pytest.mark.parametrize("images", [1, 3], ids=["photo", "carousel"])
def test_instagram_photo_and_carousel_are_published_once_with_alt_texts(
    fake_instagram: FakeInstagram,
    session_file: Path,
    store: Store,
    clock: HandClock,
    tmp_path: Path,
    images: int,
) -> None:
    media = tuple(rendition(tmp_path, number) for number in range(1, images + 1))
    request = ig_request("2030-09-15-bild", media)
    publication = schedule(store, clock, request)
    publish = publisher(store, clock, instagram(session_file))

    outcome = publish.publish(request)

    [post] = fake_instagram.posts
    assert outcome.state is State.PUBLISHED
    assert outcome.remote_id == str(post.pk)
    assert outcome.url == f"https://www.instagram.com/p/{post.code}/"
    assert post.caption == CAPTION
    assert post.alt_texts == [item.alt for item in media]
    assert [upload.sha256 for upload in post.uploads] == [item.sha256 for item in media]
    row = store.get_by_id(publication)
    assert (row.state, row.remote_id, row.warnings) == (State.PUBLISHED, str(post.pk), None)
    assert history(store, publication) == [("publish", "published")]
    calls = len(ig_calls(fake_instagram))

    again = publish.publish(request)

    assert again.message.startswith("already published")
    assert len(ig_calls(fake_instagram)) == calls
    assert len(fake_instagram.posts) == 1


@pytest.mark.parametrize("scenario", ["server_error", "feedback_required"])
def test_instagram_first_comment_that_fails_is_a_warning_not_a_failure(
    fake_instagram: FakeInstagram,
    session_file: Path,
    store: Store,
    clock: HandClock,
    tmp_path: Path,
    scenario: str,
) -> None:
    fake_instagram.queue("comment", scenario)
    request = ig_request("2030-09-15-bild", (rendition(tmp_path, 1),), first_comment="#val2022")
    publication = schedule(store, clock, request)
    publish = publisher(store, clock, instagram(session_file))

    outcome = publish.publish(request)

    [post] = fake_instagram.posts
    assert outcome.state is State.PUBLISHED
    assert post.comments == []
    row = store.get_by_id(publication)
    assert row.state == State.PUBLISHED
    assert row.warnings is not None and "first comment" in row.warnings
    assert history(store, publication) == [("publish", "published")]
    [alert] = store.alerts()
    assert (alert.kind, alert.post_id, alert.channel) == ("warning", request.post_id, "instagram")
    assert "is online" in alert.message and "by hand" in alert.message
    clock.advance(timedelta(days=1))
    assert publish.publish(request).message.startswith("already published")
    assert len(fake_instagram.requests_to("/comment/")) == 1  # the comment is not retried


def test_an_action_block_on_the_first_comment_rests_the_channel(
    fake_instagram: FakeInstagram,
    session_file: Path,
    store: Store,
    clock: HandClock,
    tmp_path: Path,
) -> None:
    fake_instagram.queue("comment", "feedback_required")
    blocked = ig_request(
        "2030-09-15-forsta", (rendition(tmp_path, 1),), "Första.", first_comment="#val2022"
    )
    following = ig_request("2030-09-15-andra", (rendition(tmp_path, 2),), "Andra.")
    schedule(store, clock, blocked)
    schedule(store, clock, following)
    publish = publisher(store, clock, instagram(session_file))
    assert publish.publish(blocked).state is State.PUBLISHED
    clock.advance(timedelta(seconds=1))

    outcome = publish.publish(following)

    assert outcome.state is State.SCHEDULED
    assert "resting after a rate limit" in outcome.message
    assert len(fake_instagram.posts) == 1


def test_instagram_post_created_then_server_error_is_found_not_posted_again(
    fake_instagram: FakeInstagram,
    session_file: Path,
    store: Store,
    clock: HandClock,
    tmp_path: Path,
) -> None:
    fake_instagram.queue("configure", "created_then_server_error")
    request = ig_request("2030-09-15-bild", (rendition(tmp_path, 1),))
    publication = schedule(store, clock, request)
    publish = publisher(store, clock, instagram(session_file))

    assert publish.publish(request).state is State.UNKNOWN
    assert len(fake_instagram.posts) == 1
    calls = len(ig_calls(fake_instagram))
    clock.advance(POLICY.reconcile_after - timedelta(seconds=1))
    assert publish.publish(request).state is State.UNKNOWN
    assert len(ig_calls(fake_instagram)) == calls

    clock.advance(timedelta(seconds=1))
    outcome = publish.publish(request)

    [post] = fake_instagram.posts
    assert outcome.state is State.PUBLISHED
    assert outcome.remote_id == str(post.pk)
    assert len(fake_instagram.requests_to("media/configure/")) == 1
    assert history(store, publication) == [("publish", "unknown"), ("reconcile", "found")]


@pytest.mark.parametrize(
    ("scenario", "state", "outcome"),
    [
        ("server_error", State.SCHEDULED, "retry"),  # on the upload: nothing exists
        ("media_refused", State.FAILED, "failed"),
        ("read_timeout", State.UNKNOWN, "unknown"),
    ],
)
def test_instagram_errors_through_the_publisher(
    fake_instagram: FakeInstagram,
    session_file: Path,
    store: Store,
    clock: HandClock,
    tmp_path: Path,
    scenario: str,
    state: State,
    outcome: str,
) -> None:
    endpoint = "rupload" if scenario == "server_error" else "configure"
    fake_instagram.queue(endpoint, scenario)
    request = ig_request("2030-09-15-bild", (rendition(tmp_path, 1),))
    publication = schedule(store, clock, request)
    publish = publisher(store, clock, instagram(session_file))

    result = publish.publish(request)

    assert result.state is state
    assert history(store, publication) == [("publish", outcome)]
    row = store.get_by_id(publication)
    if state is State.SCHEDULED:
        assert row.next_attempt_at is not None and row.next_attempt_at > clock()
        clock.now = row.next_attempt_at
    elif state is State.UNKNOWN:
        clock.advance(POLICY.reconcile_after)
    else:
        assert "campaign render" in result.message
        return
    assert publish.publish(request).state is State.PUBLISHED
    assert len(fake_instagram.posts) == 1


@pytest.mark.parametrize(
    ("scenario", "rest"),
    [
        ("please_wait", POLICY.rate_limit_cooldown),
        ("feedback_required", POLICY.rate_limit_cooldown),
        ("http_429", timedelta(seconds=120)),  # Retry-After
    ],
)
def test_instagram_rate_limit_rests_the_channel(
    fake_instagram: FakeInstagram,
    session_file: Path,
    store: Store,
    clock: HandClock,
    tmp_path: Path,
    scenario: str,
    rest: timedelta,
) -> None:
    fake_instagram.queue("configure", scenario)
    limited = ig_request("2030-09-15-forsta", (rendition(tmp_path, 1),), "Första.")
    other = ig_request("2030-09-15-andra", (rendition(tmp_path, 2),), "Andra.")
    schedule(store, clock, limited)
    schedule(store, clock, other)
    publish = publisher(store, clock, instagram(session_file))
    started = clock()

    assert publish.publish(limited).state is State.SCHEDULED
    assert store.channel_state("instagram").cooldown_until == started + rest
    calls = len(ig_calls(fake_instagram))
    clock.now = started + rest - timedelta(seconds=1)
    resting = publish.publish(other)

    assert resting.state is State.SCHEDULED
    assert "resting after a rate limit" in resting.message
    assert len(ig_calls(fake_instagram)) == calls

    clock.now = started + rest
    assert publish.publish(other).state is State.PUBLISHED
    assert publish.publish(limited).state is State.PUBLISHED
    assert [post.caption for post in fake_instagram.posts] == ["Andra.", "Första."]


def test_an_instagram_security_check_pauses_the_channel_until_the_session_works(
    fake_instagram: FakeInstagram,
    session_file: Path,
    store: Store,
    clock: HandClock,
    tmp_path: Path,
) -> None:
    picture = (rendition(tmp_path, 1),)
    posts = [
        ig_request(f"2030-09-{day:02d}-inlagg", picture, f"Inlägg {day}.") for day in range(1, 12)
    ]
    for request in posts:
        schedule(store, clock, request)
    fake_instagram.queue("configure", "challenge_required")
    publish = publisher(store, clock, instagram(session_file))

    first = publish.publish(posts[0])

    assert first.state is State.SCHEDULED
    assert "campaign login instagram" in first.message
    assert store.channel_state("instagram").paused_reason is not None
    assert alert_kinds(store) == [("paused", None, "instagram")]
    calls = len(ig_calls(fake_instagram))

    for request in posts[1:]:
        clock.advance(timedelta(minutes=1))
        assert "paused" in publish.publish(request).message
    assert len(ig_calls(fake_instagram)) == calls

    clock.advance(POLICY.auth_check_every)
    fake_instagram.queue("current_user", "challenge_required")  # still not approved
    for request in posts[1:]:
        assert publish.publish(request).state is State.SCHEDULED
    assert ig_calls(fake_instagram)[calls:] == ["GET /api/v1/accounts/current_user/"]
    assert alert_kinds(store) == [("paused", None, "instagram")]

    clock.advance(POLICY.auth_check_every)  # approved in the app meanwhile
    outcomes = [publish.publish(request) for request in posts]

    assert [o.state for o in outcomes] == [State.PUBLISHED] * len(posts)
    assert len(fake_instagram.posts) == len(posts)
    assert store.channel_state("instagram").paused_reason is None


# -- secrets ---------------------------------------------------------------------------------

IG_CANARY_PASSWORD = "canary-Pw-5rT8kQ2x"
IG_CANARY_SESSION = "canarySess4Vb9Lm"


@contextmanager
def redacting_root_handlers() -> Iterator[None]:
    """What the CLI does (install_log_redaction on the root logger), undone afterwards."""
    root = logging.getLogger()
    before = {handler: list(handler.filters) for handler in root.handlers}
    install_log_redaction(root)
    try:
        yield
    finally:
        for handler in root.handlers:
            for added in [f for f in handler.filters if f not in before.get(handler, [])]:
                if isinstance(added, RedactingFilter):
                    handler.removeFilter(added)


def database_texts(db_path: Path) -> list[str]:
    """Every value of every row of every table, as text."""
    texts = []
    with closing(sqlite3.connect(db_path)) as connection:
        query = "SELECT name FROM sqlite_master WHERE type = 'table'"
        for (table,) in connection.execute(query).fetchall():
            for row in connection.execute(f'SELECT * FROM "{table}"'):
                texts.extend(str(value) for value in row if value is not None)
    return texts


def test_secrets_never_reach_logs_database_outbox_or_messages(
    graph_through: FakeGraphAPI,
    fake_instagram: FakeInstagram,
    store: Store,
    db_path: Path,
    clock: HandClock,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Facebook is real HTTP on 127.0.0.1; requests-mock answers only for Instagram.
    fake_graph = graph_through
    caplog.set_level(logging.DEBUG)
    fake_instagram.password = IG_CANARY_PASSWORD
    session = fake_instagram.saved_session(tmp_path / "secrets", token=IG_CANARY_SESSION)
    fb = facebook(fake_graph)
    ig = instagram(session, IG_CANARY_PASSWORD)
    outbox_folder = tmp_path / "outbox"
    publish = publisher(store, clock, fb, ig)
    dry_run = publisher(store, clock, OutboxChannel("facebook", outbox_folder, clock))
    picture = (rendition(tmp_path, 1),)
    outcomes: list[Outcome] = []
    messages: list[str] = []
    errors: list[ChannelError] = []

    def go(publisher_: Publisher, request: PublishRequest) -> None:
        schedule(store, clock, request, dry_run=publisher_ is dry_run)
        outcomes.append(publisher_.publish(request))

    with redacting_root_handlers():
        go(publish, make_request("p01-fb-ok", "Facebook, allt gick bra.", picture))
        fake_graph.script("POST photos", "error_100_echoing_token")
        go(publish, make_request("p02-fb-echo", "Facebook ekar token.", picture))
        fake_graph.script("POST photos", "html_502")
        go(publish, make_request("p03-fb-502", "Facebook 502.", picture))
        fake_graph.script("POST photos", "create_then_500")
        go(publish, make_request("p04-fb-500", "Facebook skapad sedan 500.", picture))
        fake_instagram.log_everyone_out()  # a full login with the password, a new session id
        go(publish, ig_request("p05-ig-ok", picture, "Instagram ok.", first_comment="#val2022"))
        fake_instagram.queue("configure", "login_required")
        go(publish, ig_request("p06-ig-logout", picture, "Instagram utloggad."))
        fake_instagram.queue("configure", "read_timeout")
        go(publish, ig_request("p07-ig-timeout", picture, "Instagram timeout."))
        go(dry_run, make_request("p08-outbox", "Torrsim.", picture))
        clock.advance(POLICY.reconcile_after)
        messages += [
            r.message for r in Reconciler(store, publish.channels, POLICY, clock).reconcile_all()
        ]
        fake_graph.script("POST photos", "error_190_463")
        go(publish, make_request("p09-fb-190", "Facebook 190.", picture))
        fake_instagram.queue("configure", "challenge_required")
        go(publish, ig_request("p10-ig-challenge", picture, "Instagram kontroll."))
        clock.advance(POLICY.auth_check_every)
        fake_instagram.queue("current_user", "login_required")
        go(publish, ig_request("p11-ig-paused", picture, "Instagram pausad."))
        expired = facebook(fake_graph, token="EAAexpiredPageToken")
        with pytest.raises(ChannelError) as caught:
            expired.publish(make_request("p12", "Utgången token.", picture))
        errors.append(caught.value)
        fake_graph.script("GET posts", "error_100_echoing_token")
        with pytest.raises(ChannelError) as caught:
            fb.find_published(make_request("p13", "Sökning."), clock())
        errors.append(caught.value)
        messages.append(expired.check_credentials().detail)
        fake_instagram.queue("feed", "server_error")
        with pytest.raises(ChannelError) as caught:
            ig.find_published(ig_request("p14", picture), clock())
        errors.append(caught.value)
        messages.append(fb.check_credentials().detail)
        messages.append(ig.check_credentials().detail)

    # The mix did what it should, so the places searched below hold real material.
    states = {o.post_id: o.state for o in outcomes}
    assert states["p01-fb-ok"] is State.PUBLISHED
    assert states["p02-fb-echo"] is State.FAILED
    assert states["p05-ig-ok"] is State.PUBLISHED
    assert states["p08-outbox"] is State.PUBLISHED
    assert states["p09-fb-190"] is State.SCHEDULED
    assert states["p10-ig-challenge"] is State.SCHEDULED
    assert store.get("p03-fb-502", "facebook").state == State.SCHEDULED  # type: ignore[union-attr]
    assert store.get("p04-fb-500", "facebook").state == State.PUBLISHED  # type: ignore[union-attr]
    assert store.channel_state("facebook").paused_reason is not None
    assert "sessionid" in caplog.text  # instagrapi logged the login answer
    assert fake_instagram.logins >= 1  # the password was sent
    store.close()

    secrets = [fake_graph.token, IG_CANARY_PASSWORD, IG_CANARY_SESSION, *fake_instagram.issued]
    texts = {
        "logs": caplog.text,
        "messages": "\n".join(m for o in outcomes for m in (o.message, o.url or "")),
        "reconcile and checks": "\n".join(messages),
        "errors": "\n".join(
            text for e in errors for text in (e.message, e.platform_message or "", str(e), repr(e))
        ),
        "database rows": "\n".join(database_texts(db_path)),
        "outbox": "\n".join(
            file.read_bytes().decode("utf-8", "replace")
            for file in outbox_folder.rglob("*")
            if file.is_file()
        ),
    }
    raw = b"".join(path.read_bytes() for path in tmp_path.glob("campaign.db*") if path.is_file())
    assert texts["outbox"] and texts["database rows"] and texts["errors"]
    for secret in secrets:
        for where, text in texts.items():
            assert secret not in text, f"a secret is in the {where}"
        assert secret.encode() not in raw, "a secret is in the database file"
    assert "[redacted]" in texts["messages"]  # the token the fake echoed was there
