"""Engagement: when a published post is sampled (a plain function of its age), and the Sampler
reading real counts through the Facebook and Instagram channels from the fakes of Meta's
servers, with a real SQLite store and a clock moved by hand.

The fake Instagram has no insights endpoint and its posts say nothing of the account type;
the tests that need them add both themselves (:func:`business_account`), through the
fixture's own requests-mock ``mocker`` and by wrapping the fake's media JSON.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from PIL import Image

from campaign.config import FacebookSection, InstagramSection
from scheduler.channels.base import Channel, MediaItem, PublishRequest
from scheduler.channels.errors import ChannelError, ErrorClass
from scheduler.channels.facebook import FacebookChannel
from scheduler.channels.instagram import InstagramChannel
from scheduler.channels.outbox import OutboxChannel
from scheduler.engagement.sampler import Sampler
from scheduler.engagement.sampling import ages_from_hours, due_target, next_due
from scheduler.prepare import content_fingerprint
from scheduler.publisher import Publisher
from scheduler.retry_policy import RetryPolicy
from scheduler.store.models import Mode, Sample, State
from scheduler.store.store import Store
from tests.conftest import HandClock
from tests.fakes.graph_api import FakeGraphAPI, FakePost
from tests.fakes.graph_api import fake_graph as fake_graph
from tests.fakes.instagram_api import USERNAME, FakeInstagram
from tests.fakes.instagram_api import Post as InstagramPost
from tests.fakes.instagram_api import fake_instagram as fake_instagram

HOUR = 3600
AGES = ages_from_hours((1, 6, 24, 72, 168, 720))
POLICY = RetryPolicy(
    max_attempts=3,
    first_retry=timedelta(seconds=60),
    longest_retry=timedelta(minutes=10),
    rate_limit_cooldown=timedelta(minutes=30),
    reconcile_after=timedelta(seconds=30),
    auth_check_every=timedelta(minutes=15),
    request_timeout=timedelta(seconds=1),
)
TIMEOUT = 1.0
CAPTION = "Idag är det demokratins dag. Kom och prata med oss.\n#demokrati100"
INSIGHTS_URL = "https://i.instagram.com/api/v1/ads/graphql/"
PUBLISHED = datetime(2021, 9, 15, 7, 0, tzinfo=UTC)


# -- when: due_target and next_due -------------------------------------------------------------


def at(hours: float) -> datetime:
    return PUBLISHED + timedelta(hours=hours)


def test_the_default_ages_are_whole_seconds() -> None:
    assert AGES == (HOUR, 6 * HOUR, 24 * HOUR, 72 * HOUR, 168 * HOUR, 720 * HOUR)


@pytest.mark.parametrize("hours", [0, 0.25, 0.5, 59 / 60, 3599 / 3600])
def test_nothing_is_due_before_the_first_hour(hours: float) -> None:
    assert due_target(PUBLISHED, AGES, set(), at(hours)) is None


def test_each_age_is_sampled_once_in_order_when_checked_every_ten_minutes() -> None:
    taken: set[int] = set()
    sampled: list[tuple[int, float]] = []
    moment = PUBLISHED
    while moment <= at(61 * 24):
        target = due_target(PUBLISHED, AGES, taken, moment)
        if target is not None:
            taken.add(target)
            sampled.append((target, (moment - PUBLISHED).total_seconds()))
        moment += timedelta(minutes=10)

    assert [target for target, _ in sampled] == list(AGES)
    # Each was taken at the first check at or after its age.
    assert all(0 <= age - target < 600 for target, age in sampled)


def test_an_age_is_due_exactly_at_it_and_not_again() -> None:
    assert due_target(PUBLISHED, AGES, set(), at(1)) == HOUR
    assert due_target(PUBLISHED, AGES, {HOUR}, at(1)) is None
    assert due_target(PUBLISHED, AGES, {HOUR}, at(5.99)) is None
    assert due_target(PUBLISHED, AGES, {HOUR}, at(6)) == 6 * HOUR


def test_ages_missed_while_the_scheduler_was_down_are_not_filled_in() -> None:
    # Sampled nothing at 30 min (too early), then down until 7 h.
    assert due_target(PUBLISHED, AGES, set(), at(0.5)) is None

    target = due_target(PUBLISHED, AGES, set(), at(7))

    assert target == 6 * HOUR  # the latest age passed, never the 1 h one
    taken = {6 * HOUR}
    assert due_target(PUBLISHED, AGES, taken, at(7)) is None
    assert due_target(PUBLISHED, AGES, taken, at(23.9)) is None
    assert next_due(PUBLISHED, AGES, taken) == at(24)
    assert due_target(PUBLISHED, AGES, taken, at(24)) == 24 * HOUR


def test_next_due() -> None:
    assert next_due(PUBLISHED, AGES, set()) == at(1)
    assert next_due(PUBLISHED, AGES, {HOUR}) == at(6)
    assert next_due(PUBLISHED, AGES, {HOUR, 6 * HOUR, 24 * HOUR}) == at(72)
    assert next_due(PUBLISHED, AGES, {720 * HOUR}) is None


def test_nothing_after_the_last_age() -> None:
    taken = set(AGES)
    for hours in (720, 721, 24 * 60, 24 * 365):
        assert due_target(PUBLISHED, AGES, taken, at(hours)) is None
    assert next_due(PUBLISHED, AGES, taken) is None
    # A post first sampled after 30 days gets one last sample, then none.
    assert due_target(PUBLISHED, AGES, set(), at(24 * 40)) == 720 * HOUR
    assert due_target(PUBLISHED, AGES, {720 * HOUR}, at(24 * 41)) is None


# -- fixtures and helpers for the Sampler ------------------------------------------------------


@pytest.fixture
def clock() -> HandClock:
    # Real time: the fakes stamp their posts with it.
    return HandClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def session_file(fake_instagram: FakeInstagram, tmp_path: Path) -> Path:
    return fake_instagram.saved_session(tmp_path / "secrets")


def facebook(fake: FakeGraphAPI) -> FacebookChannel:
    settings = FacebookSection(page_id=fake.page_id, graph_url=fake.url, api_version=fake.version)
    return FacebookChannel(settings, fake.token, TIMEOUT)


def instagram(session_file: Path) -> InstagramChannel:
    return InstagramChannel(InstagramSection(username=USERNAME), session_file, None, TIMEOUT)


def picture(folder: Path, number: int) -> MediaItem:
    """A small 4:5 JPEG that both channels take as it is; each number a different one."""
    path = folder / f"bild-{number}.jpg"
    Image.new("RGB", (320, 400), (20 * number % 256, 54, 93)).save(path, "JPEG", quality=90)
    return MediaItem(path, f"Bild {number}: tre personer framför en vallokal.", _sha(path))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def request(post_id: str, channel: str, media: tuple[MediaItem, ...]) -> PublishRequest:
    caption = f"{CAPTION} ({post_id})"
    return PublishRequest(
        post_id=post_id,
        channel=channel,  # type: ignore[arg-type]
        caption=caption,
        media=media,
        fingerprint=content_fingerprint(channel, caption, None, None, media),
    )


def publish_now(
    store: Store,
    clock: HandClock,
    channel: Channel,
    post_id: str,
    media: tuple[MediaItem, ...],
    *,
    mode: Mode = Mode.LIVE,
) -> int:
    """Schedule ``post_id`` on ``channel`` due now, publish it; the publication's id."""
    sent = request(post_id, channel.name, media)
    row = store.ensure_publication(post_id, channel.name, clock(), clock(), mode)
    outcome = Publisher(store, {channel.name: channel}, POLICY, clock, random.Random(1)).publish(
        sent
    )
    assert outcome.state is State.PUBLISHED, outcome.message
    assert row.id is not None
    return row.id


def sampler(store: Store, clock: HandClock, *channels: Channel) -> Sampler:
    return Sampler(store, {c.name: c for c in channels}, AGES, POLICY, clock)


def fb_post(fake: FakeGraphAPI, store: Store, publication: int) -> FakePost:
    remote = store.get_by_id(publication).remote_id
    return next(post for post in fake.posts if post.id == remote)


def ig_post(fake: FakeInstagram, store: Store, publication: int) -> InstagramPost:
    remote = store.get_by_id(publication).remote_id
    return next(post for post in fake.posts if str(post.pk) == remote)


def count_reads(fake: FakeGraphAPI) -> int:
    return len(fake.of_kind("GET post"))


def ig_reads(fake: FakeInstagram) -> int:
    return len([r for r in fake.requests if r.path.endswith("/info/")])


def business_account(
    fake: FakeInstagram,
    monkeypatch: pytest.MonkeyPatch,
    account_type: int = 2,
    insights: Callable[[Any, Any], Any] | None = None,
    status: int = 200,
) -> list[dict[str, Any]]:
    """Make the fake's posts carry ``user.account_type`` and answer ``POST ads/graphql/``
    (the insights query instagrapi's ``insights_media`` sends) for its posts; returns the
    decoded queries the fake received."""
    media_json = fake._media_json

    def typed(post: InstagramPost) -> dict[str, Any]:
        media = media_json(post)
        media["user"] = {**media["user"], "account_type": account_type}
        return media

    monkeypatch.setattr(fake, "_media_json", typed)
    queries: list[dict[str, Any]] = []

    def answer(req: Any, context: Any) -> Any:
        signed = parse_qs(req.text)["signed_body"][0]
        sent = json.loads(signed.split(".", 1)[1])
        queries.append(sent)
        context.status_code = status
        if insights is not None:
            return insights(req, context)
        pk = json.loads(sent["query_params"])["query_params"]["id"]
        post = next(p for p in fake.posts if str(p.pk) == str(pk))
        return {"data": {"instagram_post_by_igid": insights_of(post)}, "status": "ok"}

    assert fake.mocker is not None
    fake.mocker.post(INSIGHTS_URL, json=answer)
    return queries


def insights_of(post: InstagramPost) -> dict[str, Any]:
    """An ``instagram_post_by_igid`` answer shaped like Instagram's, with a person in it."""
    return {
        "id": f"178{post.pk}",
        "instagram_media_id": str(post.pk),
        "like_count": post.like_count,
        "comment_count": post.comment_count,
        "save_count": 4,
        "instagram_actor": {"instagram_actor_id": "1", "id": "2"},
        "inline_insights_node": {
            "state": "AVAILABLE",
            "metrics": {
                "reach_count": 321,
                "impression_count": 456,
                "owner_profile_views_count": 2,
                "share_count": {"post": {"value": 5, "nodes": []}, "tray": {"value": 1}},
                "profile_actions": {"actions": {"value": 1, "nodes": []}},
                "reach": {
                    "value": 321,
                    "follow_status": {"nodes": [{"name": "Anna Andersson", "value": 1}]},
                },
            },
            "error": None,
        },
    }


def samples_of(store: Store, publication: int) -> list[Sample]:
    return store.samples(publication)


# -- Facebook through the Sampler --------------------------------------------------------------


def test_facebook_counts_and_insights_are_mapped_and_stored(
    fake_graph: FakeGraphAPI, store: Store, clock: HandClock, tmp_path: Path
) -> None:
    channel = facebook(fake_graph)
    publication = publish_now(store, clock, channel, "2030-09-15-bild", (picture(tmp_path, 1),))
    post = fb_post(fake_graph, store, publication)
    post.reactions, post.comments, post.shares = 12, 3, 2
    sample_now = sampler(store, clock, channel)

    clock.advance(timedelta(minutes=59))
    assert sample_now.sample_due().taken == 0
    assert count_reads(fake_graph) == 0

    clock.advance(timedelta(minutes=1))
    report = sample_now.sample_due()

    assert (report.taken, report.failed) == (1, 0)
    [sample] = samples_of(store, publication)
    assert (sample.age_seconds, sample.target_age_seconds) == (HOUR, HOUR)
    assert sample.taken_at == clock()
    counts = (sample.reactions, sample.comments, sample.shares, sample.saves)
    assert counts == (12, 3, 2, None)
    assert (sample.views, sample.reach, sample.clicks) == (120, 95, 7)
    raw = json.loads(sample.raw_json or "{}")
    assert raw["fields"] == {
        "id": post.id,
        "shares": {"count": 2},
        "reactions": {"summary": {"total_count": 12}},
        "comments": {"summary": {"total_count": 3}},
    }
    assert set(raw["insights"]) == {
        "post_media_view",
        "post_total_media_view_unique",
        "post_clicks",
        "post_reactions_by_type_total",
    }
    assert fake_graph.token not in (sample.raw_json or "")
    assert "paging" not in (sample.raw_json or "")
    # Each metric asked for on its own; none of the retired ones.
    asked = [r.query.get("metric") for r in fake_graph.of_kind("GET insights")]
    assert sorted(asked) == sorted(raw["insights"])
    assert len(asked) == len(set(asked)) == 4


def test_facebook_sample_keeps_no_names_of_people(
    fake_graph: FakeGraphAPI, store: Store, clock: HandClock, tmp_path: Path
) -> None:
    channel = facebook(fake_graph)
    publication = publish_now(store, clock, channel, "2030-09-15-bild", (picture(tmp_path, 1),))
    post = fb_post(fake_graph, store, publication)
    people = {
        "id": post.id,
        "shares": {"count": 1},
        "reactions": {
            "data": [{"id": "100001", "name": "Anna Andersson", "type": "LIKE"}],
            "summary": {"total_count": 1, "viewer_reaction": "NONE"},
        },
        "comments": {
            "data": [
                {
                    "id": "c1",
                    "message": "Bra initiativ!",
                    "from": {"id": "100002", "name": "Bertil Berg"},
                }
            ],
            "summary": {"order": "ranked", "total_count": 1, "can_comment": True},
        },
    }
    fake_graph.script("GET post", {"status": 200, "json": people})
    clock.advance(timedelta(hours=1))

    assert sampler(store, clock, channel).sample_due().taken == 1

    [sample] = samples_of(store, publication)
    assert (sample.reactions, sample.comments, sample.shares) == (1, 1, 1)
    stored = sample.raw_json or ""
    for personal in ("Anna", "Bertil", "100001", "100002", "Bra initiativ"):
        assert personal not in stored


def test_a_facebook_metric_refused_with_error_100_leaves_the_others(
    fake_graph: FakeGraphAPI, store: Store, clock: HandClock, tmp_path: Path
) -> None:
    channel = facebook(fake_graph)
    publication = publish_now(store, clock, channel, "2030-09-15-bild", (picture(tmp_path, 1),))
    fake_graph.retired_metrics.add("post_clicks")  # as Meta did with post_impressions
    clock.advance(timedelta(hours=1))

    report = sampler(store, clock, channel).sample_due()

    assert (report.taken, report.failed) == (1, 0)
    [sample] = samples_of(store, publication)
    assert (sample.views, sample.reach, sample.clicks) == (120, 95, None)
    assert sample.reactions == 0 and sample.comments == 0
    raw = json.loads(sample.raw_json or "{}")
    assert "post_clicks" in raw["unavailable"]
    assert "post_clicks" not in raw["insights"]
    assert store.channel_state("facebook").cooldown_until is None


def test_a_missed_age_is_sampled_once_with_its_real_age(
    fake_graph: FakeGraphAPI, store: Store, clock: HandClock, tmp_path: Path
) -> None:
    channel = facebook(fake_graph)
    publication = publish_now(store, clock, channel, "2030-09-15-bild", (picture(tmp_path, 1),))
    sample_now = sampler(store, clock, channel)
    clock.advance(timedelta(minutes=30))
    assert sample_now.sample_due().taken == 0
    # The daemon is down from 30 min to 7 h.
    clock.advance(timedelta(hours=6, minutes=30))

    assert sample_now.sample_due().taken == 1
    assert sample_now.sample_due().taken == 0

    [sample] = samples_of(store, publication)
    assert (sample.target_age_seconds, sample.age_seconds) == (6 * HOUR, 7 * HOUR)
    assert store.sample_ages_taken() == {publication: {6 * HOUR}}
    assert count_reads(fake_graph) == 1


def test_sampling_stops_after_the_last_age(
    fake_graph: FakeGraphAPI, store: Store, clock: HandClock, tmp_path: Path
) -> None:
    channel = facebook(fake_graph)
    publication = publish_now(store, clock, channel, "2030-09-15-bild", (picture(tmp_path, 1),))
    published_at = clock()
    sample_now = sampler(store, clock, channel)
    for age in AGES:
        clock.now = published_at + timedelta(seconds=age)
        assert sample_now.sample_due().taken == 1
    reads = count_reads(fake_graph)

    for days in (31, 45, 365):
        clock.now = published_at + timedelta(days=days)
        assert sample_now.sample_due().taken == 0

    assert count_reads(fake_graph) == reads == len(AGES)
    assert [s.target_age_seconds for s in samples_of(store, publication)] == list(AGES)


def test_samples_are_unique_per_age(
    fake_graph: FakeGraphAPI,
    store: Store,
    clock: HandClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    channel = facebook(fake_graph)
    publication = publish_now(store, clock, channel, "2030-09-15-bild", (picture(tmp_path, 1),))
    clock.advance(timedelta(hours=1))

    first = sampler(store, clock, channel).sample_due()
    second = sampler(store, clock, channel).sample_due()  # another round at the same time

    assert (first.taken, second.taken) == (1, 0)
    assert count_reads(fake_graph) == 1
    # A second process that looked before the first wrote: the database keeps one.
    monkeypatch.setattr(store, "sample_ages_taken", lambda: {})
    racing = sampler(store, clock, channel).sample_due()
    assert racing.taken == 0
    assert len(samples_of(store, publication)) == 1


def test_dry_run_publications_are_never_sampled(
    fake_graph: FakeGraphAPI, store: Store, clock: HandClock, tmp_path: Path
) -> None:
    outbox = OutboxChannel("facebook", tmp_path / "outbox", clock)
    rehearsed = publish_now(
        store, clock, outbox, "2030-09-15-prov", (picture(tmp_path, 1),), mode=Mode.DRY_RUN
    )
    assert store.get_by_id(rehearsed).remote_id
    clock.advance(timedelta(hours=7))

    # Even with the live Facebook channel at hand, the dry-run row is not read.
    live = sampler(store, clock, facebook(fake_graph)).sample_due()
    dry = sampler(store, clock, outbox).sample_due()

    assert (live.taken, live.failed, dry.taken, dry.failed) == (0, 0, 0, 0)
    assert fake_graph.requests == []
    assert samples_of(store, rehearsed) == []


# -- Instagram through the Sampler -------------------------------------------------------------


def test_instagram_likes_comments_and_views_of_a_personal_account(
    fake_instagram: FakeInstagram,
    session_file: Path,
    store: Store,
    clock: HandClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    channel = instagram(session_file)
    publication = publish_now(store, clock, channel, "2030-09-15-bild", (picture(tmp_path, 1),))
    queries = business_account(fake_instagram, monkeypatch, account_type=1)
    post = ig_post(fake_instagram, store, publication)
    post.like_count, post.comment_count, post.play_count = 40, 6, 900
    clock.advance(timedelta(hours=1))

    report = sampler(store, clock, channel).sample_due()

    assert (report.taken, report.failed) == (1, 0)
    [sample] = samples_of(store, publication)
    assert (sample.reactions, sample.comments, sample.views) == (40, 6, 900)
    assert (sample.reach, sample.saves, sample.shares, sample.clicks) == (None,) * 4
    assert json.loads(sample.raw_json or "{}") == {
        "like_count": 40,
        "comment_count": 6,
        "play_count": 900,
    }
    assert queries == []  # a personal account has no insights: none asked for


def test_instagram_without_an_account_type_asks_for_no_insights(
    fake_instagram: FakeInstagram,
    session_file: Path,
    store: Store,
    clock: HandClock,
    tmp_path: Path,
) -> None:
    channel = instagram(session_file)
    publication = publish_now(store, clock, channel, "2030-09-15-bild", (picture(tmp_path, 1),))
    clock.advance(timedelta(hours=1))

    assert sampler(store, clock, channel).sample_due().taken == 1

    [sample] = samples_of(store, publication)
    assert (sample.reactions, sample.reach, sample.saves) == (0, None, None)
    assert not fake_instagram.requests_to("ads/graphql")


@pytest.mark.parametrize("account_type", [2, 3], ids=["business", "creator"])
def test_instagram_insights_of_a_business_account(
    fake_instagram: FakeInstagram,
    session_file: Path,
    store: Store,
    clock: HandClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    account_type: int,
) -> None:
    channel = instagram(session_file)
    publication = publish_now(store, clock, channel, "2030-09-15-bild", (picture(tmp_path, 1),))
    queries = business_account(fake_instagram, monkeypatch, account_type)
    post = ig_post(fake_instagram, store, publication)
    post.like_count, post.comment_count = 40, 6
    clock.advance(timedelta(hours=1))

    assert sampler(store, clock, channel).sample_due().taken == 1

    [sample] = samples_of(store, publication)
    assert (sample.reactions, sample.comments, sample.views) == (40, 6, None)
    assert (sample.reach, sample.saves, sample.shares) == (321, 4, 5)
    raw = json.loads(sample.raw_json or "{}")
    assert raw["insights"] == {
        "reach_count": 321,
        "impression_count": 456,
        "save_count": 4,
        "share_count": 5,
    }
    assert "Anna" not in (sample.raw_json or "")
    [query] = queries
    assert query["doc_id"] == 3221905377882880  # instagrapi 3.2.2's insights_media query
    assert json.loads(query["query_params"])["query_params"]["id"] == str(post.pk)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (200, {"data": {"instagram_post_by_igid": None}, "status": "ok"}),
        (200, {"data": {"instagram_post_by_igid": {"inline_insights_node": None}}}),
        (400, {"message": "Account is not business account", "status": "fail"}),
        (500, "Internal Server Error"),
    ],
    ids=["no-media", "no-insights", "refused", "server-error"],
)
def test_instagram_insights_that_fail_leave_the_counts(
    fake_instagram: FakeInstagram,
    session_file: Path,
    store: Store,
    clock: HandClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    status: int,
    body: Any,
) -> None:
    channel = instagram(session_file)
    publication = publish_now(store, clock, channel, "2030-09-15-bild", (picture(tmp_path, 1),))
    business_account(fake_instagram, monkeypatch, insights=lambda req, ctx: body, status=status)
    ig_post(fake_instagram, store, publication).like_count = 9
    clock.advance(timedelta(hours=1))

    report = sampler(store, clock, channel).sample_due()

    assert (report.taken, report.failed) == (1, 0)
    [sample] = samples_of(store, publication)
    assert (sample.reactions, sample.reach, sample.saves, sample.shares) == (9, None, None, None)
    raw = json.loads(sample.raw_json or "{}")
    assert raw["insights_unavailable"]
    assert "insights" not in raw
    assert store.channel_state("instagram").cooldown_until is None
    assert store.channel_state("instagram").paused_reason is None


def test_a_rate_limit_on_instagram_insights_rests_the_channel(
    fake_instagram: FakeInstagram,
    session_file: Path,
    store: Store,
    clock: HandClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    channel = instagram(session_file)
    publication = publish_now(store, clock, channel, "2030-09-15-bild", (picture(tmp_path, 1),))
    business_account(
        fake_instagram,
        monkeypatch,
        insights=lambda req, ctx: {"message": "Please wait a few minutes before you try again."},
        status=400,
    )
    clock.advance(timedelta(hours=1))

    with pytest.raises(ChannelError) as caught:
        channel.read_metrics(str(store.get_by_id(publication).remote_id))
    assert caught.value.error_class is ErrorClass.RATE_LIMITED

    reader = sampler(store, clock, channel)
    report = reader.sample_due()

    assert (report.taken, report.failed) == (0, 1)
    until = reader.resting_until.get("instagram")
    assert until is not None and until >= clock() + POLICY.rate_limit_cooldown
    assert store.channel_state("instagram").cooldown_until is None  # publishing goes on


# -- errors while sampling ---------------------------------------------------------------------


def three_posts(
    store: Store,
    clock: HandClock,
    tmp_path: Path,
    fb: Channel,
    ig: Channel,
) -> tuple[int, int, int]:
    """Two Facebook posts and one Instagram post, published now."""
    return (
        publish_now(store, clock, fb, "2030-09-15-forsta", (picture(tmp_path, 1),)),
        publish_now(store, clock, fb, "2030-09-15-andra", (picture(tmp_path, 2),)),
        publish_now(store, clock, ig, "2030-09-15-tredje", (picture(tmp_path, 3),)),
    )


def test_a_rate_limit_while_sampling_rests_that_channel_only(
    graph_through: FakeGraphAPI,
    fake_instagram: FakeInstagram,
    session_file: Path,
    store: Store,
    clock: HandClock,
    tmp_path: Path,
) -> None:
    fb, ig = facebook(graph_through), instagram(session_file)
    first, second, third = three_posts(store, clock, tmp_path, fb, ig)
    clock.advance(timedelta(hours=1))
    graph_through.script("GET post", "error_32")

    reader = sampler(store, clock, fb, ig)
    report = reader.sample_due()

    assert (report.taken, report.failed, report.skipped_channels) == (1, 1, 1)
    resting_until = reader.resting_until["facebook"]
    assert resting_until == clock() + POLICY.rate_limit_cooldown
    assert store.channel_state("facebook").cooldown_until is None  # publishing is not held up
    assert count_reads(graph_through) == 1  # the second Facebook post was not read
    assert samples_of(store, first) == samples_of(store, second) == []
    assert len(samples_of(store, third)) == 1
    assert store.get_by_id(first).state == store.get_by_id(second).state == State.PUBLISHED

    # Publishing is unaffected elsewhere: a due Instagram post goes out now.
    publish_now(store, clock, ig, "2030-09-15-fjarde", (picture(tmp_path, 4),))
    # Later rounds read nothing on Facebook until the rest is over, then catch up.
    clock.advance(timedelta(minutes=10))
    assert reader.sample_due().taken == 0
    assert count_reads(graph_through) == 1
    clock.now = resting_until
    assert reader.sample_due().taken == 2
    assert len(samples_of(store, first)) == len(samples_of(store, second)) == 1


def test_a_rate_limit_while_sampling_does_not_hold_up_a_due_facebook_post(
    fake_graph: FakeGraphAPI, store: Store, clock: HandClock, tmp_path: Path
) -> None:
    fb = facebook(fake_graph)
    publish_now(store, clock, fb, "2030-09-15-forsta", (picture(tmp_path, 1),))
    clock.advance(timedelta(hours=1))
    fake_graph.script("GET post", "error_32")
    assert sampler(store, clock, fb).sample_due().failed == 1

    # A post due now on the same Page still goes out on time.
    due = request("2030-09-15-andra", "facebook", (picture(tmp_path, 2),))
    store.ensure_publication(due.post_id, "facebook", clock(), clock())
    outcome = Publisher(store, {"facebook": fb}, POLICY, clock, random.Random(1)).publish(due)

    assert outcome.state is State.PUBLISHED, outcome.message


@pytest.mark.parametrize("where", ["facebook", "instagram"])
def test_an_auth_error_while_sampling_pauses_the_channel_and_alerts(
    graph_through: FakeGraphAPI,
    fake_instagram: FakeInstagram,
    session_file: Path,
    store: Store,
    clock: HandClock,
    tmp_path: Path,
    where: str,
) -> None:
    fb, ig = facebook(graph_through), instagram(session_file)
    _, _, third = three_posts(store, clock, tmp_path, fb, ig)
    clock.advance(timedelta(hours=1))
    if where == "facebook":
        graph_through.script("GET post", "error_190_463")
    else:
        fake_instagram.queue("media_info", "challenge_required")

    report = sampler(store, clock, fb, ig).sample_due()

    state = store.channel_state(where)
    assert state.paused_reason
    [alert] = store.alerts()
    assert (alert.kind, alert.channel, alert.key) == ("paused", where, f"paused:{where}")
    assert report.failed == 1
    if where == "facebook":
        assert "Page token" in (state.paused_reason or "")
        assert count_reads(graph_through) == 1
        assert report.taken == 1  # Instagram's post
        assert len(samples_of(store, third)) == 1
    else:
        assert "security check" in (state.paused_reason or "")
        assert report.taken == 2  # both Facebook posts
        assert samples_of(store, third) == []
    # A paused channel is not read again in later rounds, and no second alert is raised.
    reads = (count_reads(graph_through), ig_reads(fake_instagram))
    clock.advance(timedelta(hours=6))
    later = sampler(store, clock, fb, ig).sample_due()
    assert later.failed == 0
    if where == "facebook":
        assert count_reads(graph_through) == reads[0]
    else:
        assert ig_reads(fake_instagram) == reads[1]
    assert len(store.alerts()) == 1


def test_a_deleted_post_is_logged_and_the_others_are_sampled(
    graph_through: FakeGraphAPI,
    fake_instagram: FakeInstagram,
    session_file: Path,
    store: Store,
    clock: HandClock,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fb, ig = facebook(graph_through), instagram(session_file)
    first, second, third = three_posts(store, clock, tmp_path, fb, ig)
    ig_fourth = publish_now(store, clock, ig, "2030-09-15-fjarde", (picture(tmp_path, 4),))
    # Deleted by hand on both platforms.
    graph_through.posts.remove(fb_post(graph_through, store, first))
    fake_instagram.posts.remove(ig_post(fake_instagram, store, third))
    clock.advance(timedelta(hours=1))
    caplog.set_level(logging.WARNING, logger="campaign.engagement")

    report = sampler(store, clock, fb, ig).sample_due()

    assert (report.taken, report.failed, report.skipped_channels) == (2, 2, 0)
    assert samples_of(store, first) == samples_of(store, third) == []
    assert len(samples_of(store, second)) == len(samples_of(store, ig_fourth)) == 1
    logged = [r.getMessage() for r in caplog.records if r.name == "campaign.engagement"]
    assert any("2030-09-15-forsta on facebook" in m and "Unsupported get" in m for m in logged)
    assert any("2030-09-15-tredje on instagram" in m for m in logged)
    for name in ("facebook", "instagram"):
        state = store.channel_state(name)
        assert (state.paused_reason, state.cooldown_until) == (None, None)
    assert store.alerts() == []
    assert store.get_by_id(first).state == State.PUBLISHED


def test_a_deleted_post_is_not_read_for_ever(
    fake_graph: FakeGraphAPI, store: Store, clock: HandClock, tmp_path: Path
) -> None:
    channel = facebook(fake_graph)
    publication = publish_now(store, clock, channel, "2030-09-15-bild", (picture(tmp_path, 1),))
    published_at = clock()
    fake_graph.posts.remove(fb_post(fake_graph, store, publication))
    sample_now = sampler(store, clock, channel)
    clock.now = published_at + timedelta(seconds=AGES[0])
    assert sample_now.sample_due().failed == 1  # "does not exist": reading it stops here
    assert store.get_by_id(publication).sampling_stopped
    reads = count_reads(fake_graph)

    for days in (1, 3, 7, 30, 100, 365):
        clock.now = published_at + timedelta(days=days)
        sample_now.sample_due()

    assert count_reads(fake_graph) == reads


def test_one_post_whose_reading_breaks_never_stops_the_others(
    fake_graph: FakeGraphAPI, store: Store, clock: HandClock, tmp_path: Path
) -> None:
    channel = facebook(fake_graph)
    first = publish_now(store, clock, channel, "2030-09-15-forsta", (picture(tmp_path, 1),))
    second = publish_now(store, clock, channel, "2030-09-15-andra", (picture(tmp_path, 2),))
    broken_id = fb_post(fake_graph, store, first).id

    class BreaksOnOne(FacebookChannel):
        def read_metrics(self, remote_id: str):  # type: ignore[no-untyped-def]
            if remote_id == broken_id:
                raise ValueError("an answer no one expected")
            return super().read_metrics(remote_id)

    settings = FacebookSection(
        page_id=fake_graph.page_id, graph_url=fake_graph.url, api_version=fake_graph.version
    )
    breaking = BreaksOnOne(settings, fake_graph.token, TIMEOUT)
    clock.advance(timedelta(hours=1))

    report = sampler(store, clock, breaking).sample_due()

    assert (report.taken, report.failed) == (1, 1)
    assert samples_of(store, first) == [] and len(samples_of(store, second)) == 1
    assert store.get_by_id(first).sampling_stopped is None  # read again at the next check
