"""The Instagram channel through instagrapi's real code, against the fake private API."""

from __future__ import annotations

import builtins
import hashlib
import json
import logging
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from instagrapi import exceptions as ig
from PIL import Image

from campaign.config import InstagramSection
from scheduler.channels.base import MediaItem, PublishRequest
from scheduler.channels.errors import ChannelError, ErrorClass
from scheduler.channels.instagram import InstagramChannel
from scheduler.channels.instagram_errors import classify_instagram_error
from tests.fakes.instagram_api import PASSWORD, USERNAME, FakeInstagram
from tests.fakes.instagram_api import fake_instagram as fake_instagram  # the fixture

TIMEOUT = 7.5
CAPTION = "Idag är det den internationella demokratidagen.\n#demokrati100 #södertälje"


@pytest.fixture(autouse=True)
def no_typing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The channel runs in a daemon: it must never wait for someone to type."""

    def refuse(*args: object) -> str:
        raise AssertionError("input() was called")

    monkeypatch.setattr(builtins, "input", refuse)


@pytest.fixture
def settings() -> InstagramSection:
    return InstagramSection(username=USERNAME)


@pytest.fixture
def session_file(fake_instagram: FakeInstagram, tmp_path: Path) -> Path:
    return fake_instagram.saved_session(tmp_path / "secrets")


@pytest.fixture
def channel(settings: InstagramSection, session_file: Path) -> InstagramChannel:
    return InstagramChannel(settings, session_file, None, TIMEOUT)


@pytest.fixture
def with_password(settings: InstagramSection, session_file: Path) -> InstagramChannel:
    return InstagramChannel(settings, session_file, PASSWORD, TIMEOUT)


def rendition(folder: Path, number: int = 1, size: tuple[int, int] = (1080, 1350)) -> MediaItem:
    """A branded-rendition-like JPEG, each number a different picture."""
    path = folder / f"instagram-{number}.jpg"
    Image.new("RGB", size, (20 * number, 54, 93)).save(path, "JPEG", quality=90)
    return MediaItem(
        path=path,
        alt=f"Bild {number}: tre personer framför en vallokal i Södertälje.",
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
    )


def post_request(
    media: tuple[MediaItem, ...], caption: str = CAPTION, first_comment: str | None = None
) -> PublishRequest:
    return PublishRequest(
        post_id="2021-09-15-demokratidagen",
        channel="instagram",
        caption=caption,
        media=media,
        fingerprint="fp-1",
        first_comment=first_comment,
    )


def an_hour_ago() -> datetime:
    return datetime.now(UTC) - timedelta(hours=1)


# -- publishing -------------------------------------------------------------------------------


def test_photo_sends_caption_alt_text_and_the_rendition_unchanged(
    channel: InstagramChannel, fake_instagram: FakeInstagram, tmp_path: Path
) -> None:
    item = rendition(tmp_path)

    result = channel.publish(post_request((item,)))

    [post] = fake_instagram.posts
    assert result.remote_id == str(post.pk)
    assert result.url == f"https://www.instagram.com/p/{post.code}/"
    assert result.warnings == ()
    assert post.caption == CAPTION
    assert post.alt_texts == [item.alt]
    [upload] = post.uploads
    assert upload.sha256 == item.sha256
    assert upload.content_type == "image/jpeg"
    assert not upload.is_sidecar


def test_a_picture_instagram_would_not_take_as_is_goes_through_instagrapis_resizing(
    channel: InstagramChannel, fake_instagram: FakeInstagram, tmp_path: Path
) -> None:
    item = rendition(tmp_path, size=(2160, 2700))

    channel.publish(post_request((item,)))

    [upload] = fake_instagram.posts[0].uploads
    assert upload.sha256 != item.sha256  # re-encoded at most 1080 wide by instagrapi
    assert upload.size < item.path.stat().st_size


def test_carousel_gives_every_image_its_alt_text(
    channel: InstagramChannel, fake_instagram: FakeInstagram, tmp_path: Path
) -> None:
    items = tuple(rendition(tmp_path, number) for number in (1, 2, 3))

    result = channel.publish(post_request(items))

    [post] = fake_instagram.posts
    assert result.remote_id == str(post.pk)
    assert post.caption == CAPTION
    assert post.alt_texts == [item.alt for item in items]
    assert [upload.sha256 for upload in post.uploads] == [item.sha256 for item in items]
    assert all(upload.is_sidecar for upload in post.uploads)
    assert result.warnings == ()


@pytest.mark.parametrize("images", [1, 2])
def test_alt_text_instagram_did_not_keep_is_a_warning(
    channel: InstagramChannel, fake_instagram: FakeInstagram, tmp_path: Path, images: int
) -> None:
    fake_instagram.ignore_alt_text = True
    items = tuple(rendition(tmp_path, number) for number in range(1, images + 1))

    result = channel.publish(post_request(items))

    assert len(fake_instagram.posts) == 1
    assert len(result.warnings) == images
    assert all("alt text of image" in warning for warning in result.warnings)


def test_first_comment_is_added_to_the_new_post(
    channel: InstagramChannel, fake_instagram: FakeInstagram, tmp_path: Path
) -> None:
    result = channel.publish(post_request((rendition(tmp_path),), first_comment="#val2022"))

    [post] = fake_instagram.posts
    assert post.comments == ["#val2022"]
    assert result.warnings == ()


@pytest.mark.parametrize("scenario", ["feedback_required", "server_error", "read_timeout"])
def test_a_failed_first_comment_is_a_warning_and_the_post_stands(
    channel: InstagramChannel, fake_instagram: FakeInstagram, tmp_path: Path, scenario: str
) -> None:
    fake_instagram.queue("comment", scenario)

    result = channel.publish(post_request((rendition(tmp_path),), first_comment="#val2022"))

    [post] = fake_instagram.posts
    assert result.remote_id == str(post.pk)
    assert post.comments == []
    [warning] = result.warnings
    assert "first comment" in warning
    assert "by hand" in warning


def test_instagram_needs_an_image(channel: InstagramChannel, fake_instagram: FakeInstagram) -> None:
    with pytest.raises(ChannelError) as caught:
        channel.publish(post_request(()))

    assert caught.value.error_class is ErrorClass.PERMANENT
    assert "at least one image" in caught.value.message
    assert fake_instagram.requests == []


def test_a_missing_rendition_is_permanent(
    channel: InstagramChannel, fake_instagram: FakeInstagram, tmp_path: Path
) -> None:
    item = rendition(tmp_path)
    item.path.unlink()

    with pytest.raises(ChannelError) as caught:
        channel.publish(post_request((item,)))

    assert caught.value.error_class is ErrorClass.PERMANENT
    assert "campaign render" in caught.value.message


# -- errors -----------------------------------------------------------------------------------

E = ErrorClass
PUBLISH_FAILURES = [
    # Instagram asks to slow down: a long pause, whatever the step.
    ("configure", "feedback_required", E.RATE_LIMITED),
    ("configure", "please_wait", E.RATE_LIMITED),
    ("configure", "http_429", E.RATE_LIMITED),
    ("configure", "rate_limit_error", E.RATE_LIMITED),
    ("configure", "sentry_block", E.RATE_LIMITED),
    ("rupload", "http_429", E.RATE_LIMITED),
    # A human has to log in again.
    ("configure", "challenge_required", E.AUTH),
    ("configure", "two_factor_required", E.AUTH),
    ("configure", "bad_password", E.AUTH),
    ("configure", "ip_blocked", E.AUTH),
    ("configure", "forbidden", E.AUTH),
    # Nothing could exist yet: retry.
    ("rupload", "server_error", E.TRANSIENT),
    ("rupload", "read_timeout", E.TRANSIENT),
    ("rupload", "connection_error", E.TRANSIENT),
    ("configure", "connect_timeout", E.TRANSIENT),
    # The configure call was sent and its answer lost: look before retrying.
    ("configure", "server_error", E.UNKNOWN_OUTCOME),
    ("configure", "bad_gateway", E.UNKNOWN_OUTCOME),
    ("configure", "read_timeout", E.UNKNOWN_OUTCOME),
    ("configure", "connection_error", E.UNKNOWN_OUTCOME),
    ("configure", "created_then_server_error", E.UNKNOWN_OUTCOME),
    ("configure", "created_then_timeout", E.UNKNOWN_OUTCOME),
    # Instagram refused this post: a human must change it.
    ("configure", "media_refused", E.PERMANENT),
    ("rupload", "upload_refused", E.PERMANENT),
]


@pytest.mark.parametrize(("endpoint", "scenario", "expected"), PUBLISH_FAILURES)
def test_each_failure_of_a_photo_post_is_classified(
    channel: InstagramChannel,
    fake_instagram: FakeInstagram,
    tmp_path: Path,
    endpoint: str,
    scenario: str,
    expected: ErrorClass,
) -> None:
    fake_instagram.queue(endpoint, scenario)

    with pytest.raises(ChannelError) as caught:
        channel.publish(post_request((rendition(tmp_path),)))

    error = caught.value
    assert error.error_class is expected
    assert error.message and error.platform_message
    assert error.__cause__ is None
    if expected is E.AUTH:
        assert "campaign login instagram" in error.message
    created = scenario.startswith("created_then")
    assert len(fake_instagram.posts) == (1 if created else 0)


@pytest.mark.parametrize(
    ("scenario", "expected"),
    [
        ("read_timeout", E.UNKNOWN_OUTCOME),
        ("created_then_server_error", E.UNKNOWN_OUTCOME),
        ("feedback_required", E.RATE_LIMITED),
        ("media_refused", E.PERMANENT),
    ],
)
def test_each_failure_of_a_carousel_is_classified(
    channel: InstagramChannel,
    fake_instagram: FakeInstagram,
    tmp_path: Path,
    scenario: str,
    expected: ErrorClass,
) -> None:
    fake_instagram.queue("configure_sidecar", scenario)
    items = (rendition(tmp_path, 1), rendition(tmp_path, 2))

    with pytest.raises(ChannelError) as caught:
        channel.publish(post_request(items))

    assert caught.value.error_class is expected


def test_a_rate_limit_keeps_instagrams_retry_hint(
    channel: InstagramChannel, fake_instagram: FakeInstagram, tmp_path: Path
) -> None:
    fake_instagram.queue("configure", "http_429")

    with pytest.raises(ChannelError) as caught:
        channel.publish(post_request((rendition(tmp_path),)))

    assert caught.value.retry_after == 120
    assert caught.value.code == "429"


def test_created_then_lost_answer_is_found_when_reconciling(
    channel: InstagramChannel, fake_instagram: FakeInstagram, tmp_path: Path
) -> None:
    request = post_request((rendition(tmp_path),))
    fake_instagram.queue("configure", "created_then_timeout")
    with pytest.raises(ChannelError) as caught:
        channel.publish(request)
    assert caught.value.error_class is E.UNKNOWN_OUTCOME

    found = channel.find_published(request, an_hour_ago())

    [post] = fake_instagram.posts
    assert found is not None
    assert found.remote_id == str(post.pk)


def test_a_lost_answer_without_a_post_is_not_found_when_reconciling(
    channel: InstagramChannel, fake_instagram: FakeInstagram, tmp_path: Path
) -> None:
    request = post_request((rendition(tmp_path),))
    fake_instagram.queue("configure", "server_error")
    with pytest.raises(ChannelError):
        channel.publish(request)

    assert channel.find_published(request, an_hour_ago()) is None


def rq_error(cls: type[Exception], message: str) -> Exception:
    return cls(message)


CLASSIFIED = [
    (ig.ClientThrottledError("throttled"), False, E.RATE_LIMITED),
    (ig.PleaseWaitFewMinutes("Please wait a few minutes"), True, E.RATE_LIMITED),
    (ig.FeedbackRequired(message="feedback_required: blocked"), True, E.RATE_LIMITED),
    (ig.RateLimitError(message="rate"), False, E.RATE_LIMITED),
    (ig.ChallengeRequired(message="challenge_required"), False, E.AUTH),
    (ig.ChallengeUnknownStep("unknown step"), False, E.AUTH),
    (ig.RecaptchaChallengeForm("recaptcha"), False, E.AUTH),
    (ig.SelectContactPointRecoveryForm("contact point"), False, E.AUTH),
    (ig.TwoFactorRequired("two factor"), False, E.AUTH),
    (ig.BadPassword("bad password"), False, E.AUTH),
    (ig.ProxyAddressIsBlocked("blocked ip"), False, E.AUTH),
    (ig.LoginRequired(message="login_required"), False, E.AUTH),
    (ig.ClientUnauthorizedError("401 Unauthorized"), False, E.AUTH),
    (ig.ClientNeedsUpgradeError(message="needs upgrade"), False, E.AUTH),
    (ig.ClientConnectionError("ConnectionError boom"), False, E.TRANSIENT),
    (ig.ClientConnectionError("ConnectionError boom"), True, E.UNKNOWN_OUTCOME),
    (ig.ClientIncompleteReadError("cut off"), True, E.UNKNOWN_OUTCOME),
    (rq_error(requests.exceptions.ReadTimeout, "slow"), False, E.TRANSIENT),
    (rq_error(requests.exceptions.ReadTimeout, "slow"), True, E.UNKNOWN_OUTCOME),
    (rq_error(requests.exceptions.ConnectTimeout, "never connected"), True, E.TRANSIENT),
    (ig.ClientError("server", code=503), True, E.UNKNOWN_OUTCOME),
    (ig.ClientError("server", code=503), False, E.TRANSIENT),
    (
        ig.PhotoConfigureError("Photo upload configure succeeded without media payload"),
        True,
        E.UNKNOWN_OUTCOME,
    ),
    (ig.PhotoConfigureError("bad image input extra"), True, E.PERMANENT),
    (ig.PhotoNotUpload("not uploaded"), False, E.PERMANENT),
    (ig.UnknownError(message="Uploaded image isn't in an allowed aspect ratio"), True, E.PERMANENT),
    (
        ValueError("Invalid file format. Only JPG/JPEG/PNG/WEBP files are supported."),
        False,
        E.PERMANENT,
    ),
    (ig.MediaNotFound(message="Media not found"), False, E.PERMANENT),
    (RuntimeError("surprise"), True, E.UNKNOWN_OUTCOME),
    (RuntimeError("surprise"), False, E.TRANSIENT),
]


@pytest.mark.parametrize(("exc", "wrote", "expected"), CLASSIFIED)
def test_classify_instagram_error(exc: Exception, wrote: bool, expected: ErrorClass) -> None:
    error = classify_instagram_error(exc, wrote=wrote)

    assert error.error_class is expected
    assert error.message
    assert error.retry_after is None


# -- logged out -------------------------------------------------------------------------------


def test_logged_out_session_logs_in_again_once_and_posts(
    with_password: InstagramChannel,
    fake_instagram: FakeInstagram,
    session_file: Path,
    tmp_path: Path,
) -> None:
    before = json.loads(session_file.read_text())
    fake_instagram.log_everyone_out()

    result = with_password.publish(post_request((rendition(tmp_path),)))

    [post] = fake_instagram.posts
    assert result.remote_id == str(post.pk)
    assert fake_instagram.logins == 1
    after = json.loads(session_file.read_text())
    assert after["authorization_data"]["sessionid"] in fake_instagram.sessions
    assert after["uuids"] == before["uuids"]  # the same phone, as far as Instagram knows
    assert stat.S_IMODE(session_file.stat().st_mode) == 0o600


def test_a_logout_answer_on_upload_is_retried_after_logging_in_again(
    with_password: InstagramChannel, fake_instagram: FakeInstagram, tmp_path: Path
) -> None:
    fake_instagram.queue("rupload", "login_required")

    with_password.publish(post_request((rendition(tmp_path),)))

    assert len(fake_instagram.posts) == 1
    assert len(fake_instagram.requests_to("rupload_igphoto")) == 2


def test_a_logout_answer_to_the_configure_call_is_not_retried_at_once(
    with_password: InstagramChannel, fake_instagram: FakeInstagram, tmp_path: Path
) -> None:
    fake_instagram.queue("configure", "login_required")
    request = post_request((rendition(tmp_path),))

    with pytest.raises(ChannelError) as caught:
        with_password.publish(request)

    assert caught.value.error_class is E.TRANSIENT
    assert fake_instagram.posts == []
    assert len(fake_instagram.requests_to("media/configure/")) == 1
    with_password.publish(request)  # the scheduler's retry
    assert len(fake_instagram.posts) == 1


def test_logged_out_without_a_password_asks_a_human(
    channel: InstagramChannel, fake_instagram: FakeInstagram, tmp_path: Path
) -> None:
    fake_instagram.log_everyone_out()

    with pytest.raises(ChannelError) as caught:
        channel.publish(post_request((rendition(tmp_path),)))

    assert caught.value.error_class is E.AUTH
    assert "campaign login instagram" in caught.value.message
    assert "CAMPAIGN_INSTAGRAM_PASSWORD" in caught.value.message
    assert fake_instagram.posts == []


def test_logged_out_with_a_wrong_password_asks_a_human(
    settings: InstagramSection,
    session_file: Path,
    fake_instagram: FakeInstagram,
    tmp_path: Path,
) -> None:
    fake_instagram.log_everyone_out()
    fake_instagram.password = "a changed password"
    channel = InstagramChannel(settings, session_file, PASSWORD, TIMEOUT)

    with pytest.raises(ChannelError) as caught:
        channel.publish(post_request((rendition(tmp_path),)))

    assert caught.value.error_class is E.AUTH
    assert fake_instagram.posts == []


def test_a_challenge_while_logging_in_again_stops_without_typing(
    with_password: InstagramChannel, fake_instagram: FakeInstagram, tmp_path: Path
) -> None:
    fake_instagram.log_everyone_out()
    fake_instagram.challenge_on_login = True

    with pytest.raises(ChannelError) as caught:
        with_password.publish(post_request((rendition(tmp_path),)))

    assert caught.value.error_class is E.AUTH
    assert "approve" in caught.value.message
    assert fake_instagram.posts == []


def test_the_daemon_never_blocks_on_a_challenge(
    channel: InstagramChannel, fake_instagram: FakeInstagram, tmp_path: Path
) -> None:
    fake_instagram.queue("configure", "challenge_required")

    with pytest.raises(ChannelError) as caught:
        channel.publish(post_request((rendition(tmp_path),)))

    assert caught.value.error_class is E.AUTH
    assert not fake_instagram.requests_to("/challenge/")


# -- timeouts ----------------------------------------------------------------------------------


def test_every_request_carries_the_timeout(
    with_password: InstagramChannel, fake_instagram: FakeInstagram, tmp_path: Path
) -> None:
    fake_instagram.log_everyone_out()  # the login requests too
    request = post_request(
        (rendition(tmp_path, 1), rendition(tmp_path, 2)), first_comment="#val2022"
    )

    result = with_password.publish(request)
    with_password.find_published(request, an_hour_ago())
    with_password.read_metrics(result.remote_id)
    with_password.check_credentials()

    sent = fake_instagram.requests
    assert len(sent) > 15
    assert {r.timeout for r in sent} == {TIMEOUT}


def test_a_configure_answer_slower_than_the_timeout_is_an_unknown_outcome(
    channel: InstagramChannel, fake_instagram: FakeInstagram, tmp_path: Path
) -> None:
    fake_instagram.queue("configure", "created_then_timeout")

    with pytest.raises(ChannelError) as caught:
        channel.publish(post_request((rendition(tmp_path),)))

    assert caught.value.error_class is E.UNKNOWN_OUTCOME
    assert len(fake_instagram.requests_to("media/configure/")) == 1  # never resent
    assert len(fake_instagram.posts) == 1


# -- reconciling ------------------------------------------------------------------------------


def test_find_published_finds_the_post_by_caption_and_time(
    channel: InstagramChannel, fake_instagram: FakeInstagram, tmp_path: Path
) -> None:
    fake_instagram.add_post("Something else")
    request = post_request((rendition(tmp_path),))
    result = channel.publish(request)
    fake_instagram.add_post("Later, unrelated")
    # Instagram gives captions back with its own white space and normalisation.
    echoed = request.caption.replace("\n", "  \n ") + " "
    fake_instagram.posts[1].caption = echoed

    found = channel.find_published(request, an_hour_ago())

    assert found is not None
    assert found.remote_id == result.remote_id
    assert found.url == result.url
    assert found.caption == echoed
    assert found.created_at is not None and found.created_at >= an_hour_ago()


def test_find_published_ignores_other_captions_and_older_posts(
    channel: InstagramChannel, fake_instagram: FakeInstagram
) -> None:
    request = post_request(())
    fake_instagram.add_post("Another post")
    two_days_ago = int((datetime.now(UTC) - timedelta(days=2)).timestamp())
    fake_instagram.add_post(CAPTION, taken_at=two_days_ago)

    assert channel.find_published(request, an_hour_ago()) is None


@pytest.mark.parametrize(
    ("scenario", "expected"),
    [
        ("connection_error", E.TRANSIENT),
        ("server_error", E.TRANSIENT),
        ("http_429", E.RATE_LIMITED),
    ],
)
def test_find_published_never_mistakes_a_failure_for_not_posted(
    channel: InstagramChannel, fake_instagram: FakeInstagram, scenario: str, expected: ErrorClass
) -> None:
    fake_instagram.add_post(CAPTION)
    fake_instagram.queue("feed", scenario)

    with pytest.raises(ChannelError) as caught:
        channel.find_published(post_request(()), an_hour_ago())

    assert caught.value.error_class is expected


def test_find_published_logs_in_again_when_logged_out(
    with_password: InstagramChannel, fake_instagram: FakeInstagram
) -> None:
    post = fake_instagram.add_post(CAPTION)
    fake_instagram.log_everyone_out()

    found = with_password.find_published(post_request(()), an_hour_ago())

    assert found is not None and found.remote_id == str(post.pk)
    assert fake_instagram.logins == 1


# -- engagement and credentials --------------------------------------------------------------


def test_read_metrics_reads_fresh_counts_every_time(
    channel: InstagramChannel, fake_instagram: FakeInstagram
) -> None:
    post = fake_instagram.add_post(CAPTION)
    post.like_count, post.comment_count = 3, 1
    first = channel.read_metrics(str(post.pk))
    post.like_count, post.comment_count, post.play_count = 10, 4, 250

    second = channel.read_metrics(str(post.pk))

    assert (first.reactions, first.comments, first.views) == (3, 1, None)
    assert (second.reactions, second.comments, second.views) == (10, 4, 250)
    assert second.raw == {"like_count": 10, "comment_count": 4, "play_count": 250}
    assert len(fake_instagram.requests_to(f"media/{post.pk}/info/")) == 2


def test_read_metrics_of_a_deleted_post_is_permanent(
    channel: InstagramChannel, fake_instagram: FakeInstagram
) -> None:
    with pytest.raises(ChannelError) as caught:
        channel.read_metrics("3300000000000099999")

    assert caught.value.error_class is E.PERMANENT


def test_check_credentials(channel: InstagramChannel, fake_instagram: FakeInstagram) -> None:
    check = channel.check_credentials()

    assert check.ok
    assert USERNAME in check.detail


def test_check_credentials_of_a_logged_out_session(
    channel: InstagramChannel, fake_instagram: FakeInstagram
) -> None:
    fake_instagram.log_everyone_out()

    check = channel.check_credentials()

    assert not check.ok
    assert "campaign login instagram" in check.detail


def test_check_credentials_without_a_session_file(
    settings: InstagramSection, tmp_path: Path, fake_instagram: FakeInstagram
) -> None:
    channel = InstagramChannel(settings, tmp_path / "none.json", None, TIMEOUT)

    check = channel.check_credentials()

    assert not check.ok
    assert "campaign login instagram" in check.detail
    assert fake_instagram.requests == []


@pytest.mark.parametrize(
    ("spoil", "says"),
    [
        (lambda path: path.chmod(0o644), "chmod 600"),
        (lambda path: path.write_text("not a session"), "campaign login instagram"),
        (lambda path: path.unlink(), "campaign login instagram"),
    ],
)
def test_an_unusable_session_file_stops_the_channel_before_any_request(
    channel: InstagramChannel,
    fake_instagram: FakeInstagram,
    session_file: Path,
    tmp_path: Path,
    spoil: object,
    says: str,
) -> None:
    spoil(session_file)  # type: ignore[operator]

    with pytest.raises(ChannelError) as caught:
        channel.publish(post_request((rendition(tmp_path),)))

    assert caught.value.error_class is E.AUTH
    assert says in caught.value.message
    assert fake_instagram.requests == []


# -- secrets ------------------------------------------------------------------------------------

CANARY_PASSWORD = "canary-Pw-7f3k9Qz"
CANARY_TOKEN = "canaryTok9x2Lm"


def test_no_password_or_session_id_in_errors_repr_or_logs(
    settings: InstagramSection,
    fake_instagram: FakeInstagram,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    fake_instagram.password = CANARY_PASSWORD
    session_file = fake_instagram.saved_session(tmp_path / "secrets", token=CANARY_TOKEN)
    channel = InstagramChannel(settings, session_file, CANARY_PASSWORD, TIMEOUT)
    request = post_request((rendition(tmp_path),), first_comment="#val2022")
    errors: list[ChannelError] = []

    fake_instagram.log_everyone_out()  # a full login, whose answer carries the new session
    result = channel.publish(request)
    for scenario in ["login_required", "challenge_required", "read_timeout", "server_error"]:
        fake_instagram.queue("configure", scenario)
        with pytest.raises(ChannelError) as caught:
            channel.publish(request)
        errors.append(caught.value)
    fake_instagram.queue("feed", "server_error")
    with pytest.raises(ChannelError) as caught:
        channel.find_published(request, an_hour_ago())
    errors.append(caught.value)
    fake_instagram.log_everyone_out()
    fake_instagram.password = "changed by someone"
    with pytest.raises(ChannelError) as caught:
        channel.publish(request)
    errors.append(caught.value)

    assert result.remote_id
    assert len(fake_instagram.issued) == 2  # the saved one, and the one the login gave
    secrets = [CANARY_PASSWORD, CANARY_TOKEN, *fake_instagram.issued]
    texts = [caplog.text, repr(channel), str(channel.__dict__.keys())]
    for error in errors:
        texts += [error.message, repr(error), str(error), error.platform_message or ""]
    assert "sessionid" in caplog.text  # instagrapi did log a login answer...
    for secret in secrets:
        for text in texts:
            assert secret not in text  # ...but never a secret in it
