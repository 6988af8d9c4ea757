"""The Instagram Graph channel over real HTTP against a fake Instagram Graph API that really
downloads the images from a loopback media host; sleeps are recorded, never slept."""

from __future__ import annotations

import hashlib
import logging
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from scheduler.channels.base import MediaItem, PublishRequest
from scheduler.channels.errors import ChannelError, ErrorClass
from scheduler.channels.instagram_graph import (
    InstagramGraphChannel,
    InstagramGraphSettings,
    PollPolicy,
)
from scheduler.prepare import content_fingerprint
from scheduler.publisher import Publisher
from scheduler.retry_policy import RetryPolicy
from scheduler.store.models import State
from scheduler.store.store import Store
from tests.conftest import HandClock
from tests.fakes.instagram_graph_api import FakeInstagramGraphAPI

# The fixtures; importing them under their own names marks the imports as intended.
from tests.fakes.instagram_graph_api import fake_ig_graph as fake_ig_graph
from tests.fakes.media_server import LoopbackMediaHost
from tests.fakes.media_server import media_host as media_host

UNKNOWN = ErrorClass.UNKNOWN_OUTCOME
TRANSIENT = ErrorClass.TRANSIENT
RATE_LIMITED = ErrorClass.RATE_LIMITED
AUTH = ErrorClass.AUTH
PERMANENT = ErrorClass.PERMANENT
CAPTION = "Idag är det demokratins dag. Kom och prata med oss.\n#demokrati100"
#: A fixed moment for the channel's clock; the fake stamps with the real time.
T = datetime(2026, 9, 15, 7, 0, tzinfo=UTC)

#: Scripted answers and what each means on container creation and on media_publish.
EXPECTED: dict[str, tuple[ErrorClass, ErrorClass]] = {
    "error_4": (RATE_LIMITED, RATE_LIMITED),
    "error_4_spam": (RATE_LIMITED, RATE_LIMITED),
    "error_9": (RATE_LIMITED, RATE_LIMITED),
    "error_17": (RATE_LIMITED, RATE_LIMITED),
    "error_32_with_usage": (RATE_LIMITED, RATE_LIMITED),
    "error_613": (RATE_LIMITED, RATE_LIMITED),
    "error_10": (AUTH, AUTH),
    "error_200": (AUTH, AUTH),
    "error_190": (AUTH, AUTH),
    "error_190_echoing_token": (AUTH, AUTH),
    "error_account_restricted": (AUTH, AUTH),
    "error_server": (TRANSIENT, UNKNOWN),
    "error_not_ready": (TRANSIENT, TRANSIENT),
    "error_caption_too_long": (PERMANENT, PERMANENT),
    "error_500": (TRANSIENT, UNKNOWN),
    "html_502": (TRANSIENT, UNKNOWN),
    "truncated_json": (TRANSIENT, UNKNOWN),
    "drop": (TRANSIENT, UNKNOWN),
}


# -- helpers -------------------------------------------------------------------------


class Sleeps(list[float]):
    """An injected sleep that records instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def make_channel(
    fake: FakeInstagramGraphAPI,
    host: LoopbackMediaHost,
    sleeps: Sleeps | None = None,
    *,
    timeout: float = 10.0,
    poll: PollPolicy | None = None,
    remove_after: bool = True,
    token: str | None = None,
    clock: HandClock | None = None,
) -> InstagramGraphChannel:
    settings = InstagramGraphSettings(fake.ig_user_id, fake.url, fake.version)
    return InstagramGraphChannel(
        settings,
        token or fake.token,
        host,
        timeout,
        remove_after=remove_after,
        poll=poll,
        sleep=sleeps if sleeps is not None else Sleeps(),
        clock=clock or HandClock(T),
    )


def image(
    folder: Path, number: int, size: tuple[int, int] = (108, 135), fmt: str = "JPEG"
) -> MediaItem:
    path = folder / f"bild-{number}.{fmt.lower()}"
    Image.new("RGB", size, (27 * number % 256, 54, 93)).save(path, fmt)
    return MediaItem(
        path=path,
        alt=f"Bild {number}: tre personer framför en vallokal.",
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
    )


def ig_request(
    media: tuple[MediaItem, ...], caption: str = CAPTION, first_comment: str | None = None
) -> PublishRequest:
    return PublishRequest(
        post_id="2030-09-15-demokratins-dag",
        channel="instagram",
        caption=caption,
        media=media,
        fingerprint=content_fingerprint("instagram", caption, None, first_comment, media),
        first_comment=first_comment,
    )


def failure(call) -> ChannelError:
    with pytest.raises(ChannelError) as caught:
        call()
    return caught.value


@pytest.fixture
def photo(tmp_path: Path) -> MediaItem:
    return image(tmp_path, 1)


@pytest.fixture
def debug_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG)
    yield caplog


# -- publishing ----------------------------------------------------------------------


def test_a_single_image_is_fetched_from_the_host_published_and_the_host_emptied(
    fake_ig_graph, media_host, sleeps, photo
):
    channel = make_channel(fake_ig_graph, media_host, sleeps)

    result = channel.publish(ig_request((photo,)))

    [container] = fake_ig_graph.containers.values()
    assert container.caption == CAPTION
    assert container.alt_text == photo.alt
    assert container.image_url and container.image_url.startswith(media_host.base_url)
    assert container.image_bytes == photo.path.stat().st_size
    assert media_host.fetched == ["/" + container.image_url.rsplit("/", 1)[1]]
    [media] = fake_ig_graph.media
    assert (media.caption, media.media_type, media.alt_texts) == (CAPTION, "IMAGE", [photo.alt])
    assert result.remote_id == media.id
    assert result.url == media.permalink
    assert result.warnings == () and result.rest_seconds is None
    assert media_host.hosted_files() == []
    assert sleeps == [PollPolicy().first_wait]  # one IN_PROGRESS read, then FINISHED
    assert [r.kind for r in fake_ig_graph.requests] == [
        "GET publishing_limit",
        "POST media",
        "GET container",
        "GET container",
        "POST media_publish",
        "GET media",
    ]


def test_the_token_travels_only_in_the_authorization_header(fake_ig_graph, media_host, photo):
    make_channel(fake_ig_graph, media_host).publish(ig_request((photo,), first_comment="#val"))

    for sent in fake_ig_graph.requests:
        assert sent.headers["Authorization"] == f"Bearer {fake_ig_graph.token}"
        assert "access_token" not in sent.params
        assert fake_ig_graph.token not in sent.path


def test_a_carousel_has_alt_text_on_every_image_and_the_caption_on_the_parent(
    fake_ig_graph, media_host, tmp_path
):
    photos = tuple(
        image(tmp_path, n, size) for n, size in ((1, (108, 135)), (2, (100, 100)), (3, (191, 100)))
    )
    channel = make_channel(fake_ig_graph, media_host)

    result = channel.publish(ig_request(photos))

    *children, parent = fake_ig_graph.containers.values()
    assert [c.alt_text for c in children] == [p.alt for p in photos]
    assert all(c.is_carousel_item and c.caption is None for c in children)
    assert parent.media_type == "CAROUSEL"
    assert parent.children == [c.id for c in children]
    assert parent.caption == CAPTION
    [media] = fake_ig_graph.media
    assert media.media_type == "CAROUSEL_ALBUM"
    assert media.alt_texts == [p.alt for p in photos]
    assert result.remote_id == media.id
    assert len(media_host.fetched) == 3
    assert media_host.hosted_files() == []


def test_the_first_comment_is_added_to_the_new_post(fake_ig_graph, media_host, photo):
    result = make_channel(fake_ig_graph, media_host).publish(
        ig_request((photo,), first_comment="#val2022 #demokrati100")
    )

    [media] = fake_ig_graph.media
    assert media.comments == ["#val2022 #demokrati100"]
    assert result.warnings == ()


def test_a_rate_limited_first_comment_is_a_warning_and_a_rest_not_a_failure(
    fake_ig_graph, media_host, photo
):
    fake_ig_graph.script("POST comments", "error_32_with_usage")

    result = make_channel(fake_ig_graph, media_host).publish(
        ig_request((photo,), first_comment="#val2022")
    )

    [media] = fake_ig_graph.media
    assert result.remote_id == media.id and media.comments == []
    [warning] = result.warnings
    assert "first comment could not be added" in warning and "by hand" in warning
    assert result.rest_seconds == 25 * 60


def test_hosted_images_stay_when_remove_after_is_off(fake_ig_graph, media_host, photo):
    make_channel(fake_ig_graph, media_host, remove_after=False).publish(ig_request((photo,)))

    assert len(media_host.hosted_files()) == 1
    assert media_host.removed == []


# -- the publishing limit ------------------------------------------------------------


def test_a_used_up_quota_rests_until_the_oldest_post_leaves_the_window(
    fake_ig_graph, media_host, photo
):
    fake_ig_graph.use_quota(100)
    fake_ig_graph.add_media("Förra veckans inlägg", T - timedelta(hours=30))
    fake_ig_graph.add_media("Ett inlägg i går", T - timedelta(hours=20))
    fake_ig_graph.add_media("Ett inlägg i morse", T - timedelta(hours=2))
    channel = make_channel(fake_ig_graph, media_host, clock=HandClock(T))

    error = failure(lambda: channel.publish(ig_request((photo,))))

    assert error.error_class is RATE_LIMITED
    assert error.retry_after == timedelta(hours=4).total_seconds()
    assert "rests for about 4 hours" in error.message and "Nothing was published" in error.message
    assert fake_ig_graph.containers == {} and media_host.put_count == 0


def test_a_quota_used_up_by_another_app_rests_an_hour_when_no_post_shows_when(
    fake_ig_graph, media_host, photo
):
    fake_ig_graph.quota_total = 3
    fake_ig_graph.use_quota(3)

    error = failure(lambda: make_channel(fake_ig_graph, media_host).publish(ig_request((photo,))))

    assert (error.error_class, error.retry_after) == (RATE_LIMITED, 3600.0)


def test_error_9_on_media_publish_rests_like_a_used_up_quota(fake_ig_graph, media_host, photo):
    fake_ig_graph.script("POST media_publish", "error_9")
    fake_ig_graph.add_media("Ett inlägg i går", T - timedelta(hours=23))

    error = failure(lambda: make_channel(fake_ig_graph, media_host).publish(ig_request((photo,))))

    assert error.error_class is RATE_LIMITED
    assert (error.code, error.subcode) == ("9", "2207042")
    assert error.retry_after == timedelta(hours=1).total_seconds()
    assert fake_ig_graph.media[1:] == []
    assert media_host.hosted_files() == []


# -- containers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "fmt", "subcode", "fix"),
    [
        ((100, 200), "JPEG", "2207009", "between 4:5 upright and 1.91:1 wide"),
        ((300, 100), "JPEG", "2207009", "`fit: pad`"),
        ((108, 135), "PNG", "2207005", "JPEG only"),
    ],
    ids=["too-tall", "too-wide", "png"],
)
def test_an_image_meta_refuses_is_a_refused_post_with_what_to_fix(
    fake_ig_graph, media_host, tmp_path, size, fmt, subcode, fix
):
    bad = image(tmp_path, 1, size, fmt)

    error = failure(lambda: make_channel(fake_ig_graph, media_host).publish(ig_request((bad,))))

    assert error.error_class is PERMANENT
    assert error.subcode == subcode
    assert fix in error.message and "publish the post again" in error.message
    assert fake_ig_graph.media == [] and media_host.hosted_files() == []


def test_an_image_meta_cannot_download_is_temporary(fake_ig_graph, media_host, photo):
    class Unreachable(LoopbackMediaHost):
        def put(self, path, *, valid_for):
            hosted = super().put(path, valid_for=valid_for)
            return type(hosted)("http://127.0.0.1:9/" + hosted.key, hosted.key, None)

    host = Unreachable(media_host.folder.parent / "unreachable")
    try:
        error = failure(lambda: make_channel(fake_ig_graph, host).publish(ig_request((photo,))))
    finally:
        host.stop()

    assert error.error_class is TRANSIENT
    assert (error.code, error.subcode) == ("9004", "2207052")
    assert "media host" in error.message and "Nothing was published" in error.message
    assert host.hosted_files() == []


def test_an_image_over_8_mb_is_refused(fake_ig_graph, media_host, tmp_path):
    big = image(tmp_path, 1)
    big.path.write_bytes(big.path.read_bytes() + b"\0" * (8 * 1024 * 1024))

    error = failure(lambda: make_channel(fake_ig_graph, media_host).publish(ig_request((big,))))

    assert (error.error_class, error.subcode) == (PERMANENT, "2207004")
    assert "8 MB" in error.message


@pytest.mark.parametrize(
    ("fate", "kind", "words"),
    [
        ("error_aspect_ratio", PERMANENT, "1.91:1"),
        ("error_format", PERMANENT, "JPEG only"),
        ("error_unexplained", PERMANENT, "Something went wrong"),
        ("error_server", TRANSIENT, "server error"),
        ("expired", TRANSIENT, "expired"),
    ],
)
def test_a_container_that_fails_is_not_a_post(fake_ig_graph, media_host, photo, fate, kind, words):
    fake_ig_graph.fate(fate)

    error = failure(lambda: make_channel(fake_ig_graph, media_host).publish(ig_request((photo,))))

    assert error.error_class is kind
    assert words in error.message and "Nothing was published" in error.message
    assert photo.path.name in error.message
    assert fake_ig_graph.of_kind("POST media_publish") == []
    assert media_host.hosted_files() == []


def test_an_expired_container_is_replaced_by_a_new_one_on_the_next_try(
    fake_ig_graph, media_host, photo
):
    fake_ig_graph.fate("expired")
    channel = make_channel(fake_ig_graph, media_host)
    assert failure(lambda: channel.publish(ig_request((photo,)))).error_class is TRANSIENT

    result = channel.publish(ig_request((photo,)))

    first, second = fake_ig_graph.containers.values()
    [media] = fake_ig_graph.media
    assert media.container_id == second.id != first.id
    assert result.remote_id == media.id


def test_a_carousel_child_that_fails_names_its_image(fake_ig_graph, media_host, tmp_path):
    photos = (image(tmp_path, 1), image(tmp_path, 2))
    fake_ig_graph.fate("finished", "error_aspect_ratio")

    error = failure(lambda: make_channel(fake_ig_graph, media_host).publish(ig_request(photos)))

    assert error.error_class is PERMANENT and "bild-2.jpeg" in error.message
    assert len(fake_ig_graph.containers) == 2  # no parent was made


def test_a_container_still_in_progress_at_the_bound_is_temporary(
    fake_ig_graph, media_host, sleeps, photo
):
    fake_ig_graph.fate("stuck")
    poll = PollPolicy(first_wait=1.0, factor=2.0, longest_wait=4.0, give_up_after=10.0)

    error = failure(
        lambda: make_channel(fake_ig_graph, media_host, sleeps, poll=poll).publish(
            ig_request((photo,))
        )
    )

    assert error.error_class is TRANSIENT
    assert "still preparing" in error.message
    assert sleeps == [1.0, 2.0, 4.0, 3.0]
    assert len(fake_ig_graph.of_kind("GET container")) == 5
    assert fake_ig_graph.of_kind("POST media_publish") == []


def test_a_media_host_failure_is_temporary_or_a_settings_problem(fake_ig_graph, media_host, photo):
    channel = make_channel(fake_ig_graph, media_host)
    media_host.fail_next_put = True
    assert failure(lambda: channel.publish(ig_request((photo,)))).error_class is TRANSIENT
    media_host.fail_next_put = False
    error = failure(lambda: channel.publish(ig_request((photo,))))
    assert error.error_class is PERMANENT and "[media_host]" in error.message
    assert fake_ig_graph.containers == {}


# -- what each answer means ----------------------------------------------------------


@pytest.mark.parametrize("answer", sorted(EXPECTED))
def test_an_answer_to_container_creation_is_never_unknown(fake_ig_graph, media_host, photo, answer):
    fake_ig_graph.script("POST media", answer)

    error = failure(lambda: make_channel(fake_ig_graph, media_host).publish(ig_request((photo,))))

    assert error.error_class is EXPECTED[answer][0]
    assert fake_ig_graph.media == [] and media_host.hosted_files() == []


@pytest.mark.parametrize("answer", sorted(EXPECTED))
def test_an_answer_to_media_publish_is_classified(fake_ig_graph, media_host, photo, answer):
    fake_ig_graph.script("POST media_publish", answer)

    error = failure(lambda: make_channel(fake_ig_graph, media_host).publish(ig_request((photo,))))

    assert error.error_class is EXPECTED[answer][1]
    assert media_host.hosted_files() == []


@pytest.mark.parametrize(
    "answer", ["create_then_hang", "create_then_drop", "create_then_500", "create_then_truncated"]
)
def test_media_publish_without_a_clear_answer_is_unknown_and_found_online(
    fake_ig_graph, media_host, photo, answer
):
    fake_ig_graph.script("POST media_publish", answer)
    channel = make_channel(fake_ig_graph, media_host, timeout=3.0)
    request = ig_request((photo,))
    since = datetime.now(UTC) - timedelta(minutes=10)

    error = failure(lambda: channel.publish(request))

    assert error.error_class is UNKNOWN
    assert "look for it" in error.message
    [media] = fake_ig_graph.media
    found = channel.find_published(request, since)
    assert found is not None
    assert (found.remote_id, found.url) == (media.id, media.permalink)


def test_find_published_skips_other_captions_and_older_posts(fake_ig_graph, media_host):
    now = datetime.now(UTC)
    fake_ig_graph.add_media(CAPTION, now - timedelta(days=2))
    fake_ig_graph.add_media("Något annat", now)
    for n in range(30):
        fake_ig_graph.add_media(f"Inlägg {n}", now - timedelta(minutes=n + 1))
    channel = make_channel(fake_ig_graph, media_host)
    request = ig_request(())

    assert channel.find_published(request, now - timedelta(hours=1)) is None
    wanted = fake_ig_graph.add_media(
        "  " + CAPTION.replace("\n", " ") + " ", now - timedelta(minutes=45)
    )
    found = channel.find_published(request, now - timedelta(hours=1))
    assert found is not None and found.remote_id == wanted.id
    assert len(fake_ig_graph.of_kind("GET media_list")) == 2 + 2  # two pages each time


def test_the_publisher_records_an_unknown_post_found_online_and_posts_it_once(
    fake_ig_graph, media_host, photo, store: Store
):
    clock = HandClock(datetime.now(UTC))
    policy = RetryPolicy(
        reconcile_after=timedelta(seconds=30), request_timeout=timedelta(seconds=3)
    )
    channel = make_channel(fake_ig_graph, media_host, timeout=3.0, clock=clock)
    publisher = Publisher(store, {"instagram": channel}, policy, clock, random.Random(7))
    request = ig_request((photo,))
    row = store.ensure_publication(
        request.post_id, "instagram", clock() - timedelta(minutes=1), clock()
    )
    fake_ig_graph.script("POST media_publish", "create_then_hang")

    assert publisher.publish(request).state is State.UNKNOWN
    clock.advance(timedelta(seconds=30))
    outcome = publisher.publish(request)

    [media] = fake_ig_graph.media
    assert outcome.state is State.PUBLISHED and outcome.remote_id == media.id
    assert store.get_by_id(row.id).url == media.permalink
    assert len(fake_ig_graph.of_kind("POST media_publish")) == 1
    assert publisher.publish(request).state is State.PUBLISHED
    assert len(fake_ig_graph.of_kind("POST media_publish")) == 1


# -- the token -----------------------------------------------------------------------


@pytest.mark.parametrize("answer", ["error_190_echoing_token", "error_190", "html_502", "drop"])
def test_the_token_is_in_no_error_and_no_log_line(
    fake_ig_graph, media_host, photo, debug_log, answer
):
    fake_ig_graph.script("GET publishing_limit", answer)

    error = failure(lambda: make_channel(fake_ig_graph, media_host).publish(ig_request((photo,))))

    token = fake_ig_graph.token
    for text in (error.message, error.platform_message or "", str(error), repr(error)):
        assert token not in text
    assert token not in debug_log.text
    assert all(token not in r.getMessage() for r in debug_log.records)


def test_a_wrong_token_pauses_the_channel_with_what_to_do(fake_ig_graph, media_host, photo):
    channel = make_channel(fake_ig_graph, media_host, token="not-the-token-at-all")

    error = failure(lambda: channel.publish(ig_request((photo,))))

    assert (error.error_class, error.code) == (AUTH, "190")
    assert "new token" in error.message
    assert media_host.put_count == 0
    check = channel.check_credentials()
    assert not check.ok and "new token" in check.detail


def test_check_credentials_names_the_account(fake_ig_graph, media_host):
    check = make_channel(fake_ig_graph, media_host).check_credentials()

    assert check.ok and "@sodertaljekommun" in check.detail
    [sent] = fake_ig_graph.requests
    assert (sent.kind, sent.query["fields"]) == ("GET user", "id,username")


# -- engagement ----------------------------------------------------------------------


def test_insights_are_read_one_by_one_and_a_retired_metric_stays_empty(fake_ig_graph, media_host):
    media = fake_ig_graph.add_media(CAPTION)
    fake_ig_graph.retired_metrics.add("views")

    metrics = make_channel(fake_ig_graph, media_host).read_metrics(media.id)

    assert metrics.views is None and "views" in metrics.raw["unavailable"]
    assert (metrics.reactions, metrics.comments, metrics.shares) == (37, 4, 6)
    assert (metrics.saves, metrics.reach, metrics.clicks) == (9, 410, None)
    assert metrics.raw["insights"]["total_interactions"][0]["values"] == [{"value": 56}]
    asked = [r.query["metric"] for r in fake_ig_graph.of_kind("GET insights")]
    assert asked == ["views", "reach", "likes", "comments", "shares", "saved", "total_interactions"]


def test_insights_stop_on_an_auth_error(fake_ig_graph, media_host):
    media = fake_ig_graph.add_media(CAPTION)
    fake_ig_graph.script("GET insights", "error_190")

    error = failure(lambda: make_channel(fake_ig_graph, media_host).read_metrics(media.id))

    assert error.error_class is AUTH
