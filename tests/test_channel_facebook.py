"""The Facebook channel through the real facebook-sdk, over HTTP, against a fake Graph API."""

from __future__ import annotations

import hashlib
import json
import logging
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import facebook
import pytest
import requests
import urllib3.exceptions
from PIL import Image

from campaign.config import FacebookSection
from scheduler.channels.base import MediaItem, PublishRequest
from scheduler.channels.errors import ChannelError, ErrorClass
from scheduler.channels.facebook import FacebookChannel
from scheduler.channels.facebook_errors import POLICY_BLOCK_SECONDS, classify_graph_error
from tests.fakes.graph_api import ANSWERS, FakeGraphAPI

# The fixture; importing it under its own name marks the import as intended.
from tests.fakes.graph_api import fake_graph as fake_graph

UNKNOWN = ErrorClass.UNKNOWN_OUTCOME
TRANSIENT = ErrorClass.TRANSIENT
RATE_LIMITED = ErrorClass.RATE_LIMITED
AUTH = ErrorClass.AUTH
PERMANENT = ErrorClass.PERMANENT

#: What each scripted answer means on the final write and on a read.
EXPECTED: dict[str, tuple[ErrorClass, ErrorClass]] = {
    "error_1": (UNKNOWN, TRANSIENT),
    "error_2": (UNKNOWN, TRANSIENT),
    "error_4": (RATE_LIMITED, RATE_LIMITED),
    "error_17": (RATE_LIMITED, RATE_LIMITED),
    "error_32": (RATE_LIMITED, RATE_LIMITED),
    "error_32_with_usage": (RATE_LIMITED, RATE_LIMITED),
    "error_341": (RATE_LIMITED, RATE_LIMITED),
    "error_368": (RATE_LIMITED, RATE_LIMITED),
    "error_613": (RATE_LIMITED, RATE_LIMITED),
    "error_80001": (RATE_LIMITED, RATE_LIMITED),
    "error_102": (AUTH, AUTH),
    "error_190_460": (AUTH, AUTH),
    "error_190_463": (AUTH, AUTH),
    "error_190_467": (AUTH, AUTH),
    "error_10": (AUTH, AUTH),
    "error_200": (AUTH, AUTH),
    "error_506": (UNKNOWN, PERMANENT),
    "error_324": (PERMANENT, PERMANENT),
    "error_100": (PERMANENT, PERMANENT),
    "error_100_echoing_token": (PERMANENT, PERMANENT),
    "error_1609005": (PERMANENT, PERMANENT),
    "error_500_without_error": (UNKNOWN, TRANSIENT),
    "html_502": (UNKNOWN, TRANSIENT),
    "html_404": (PERMANENT, PERMANENT),
    "truncated_json": (UNKNOWN, TRANSIENT),
    "create_then_500": (UNKNOWN, TRANSIENT),
    "create_then_drop": (UNKNOWN, TRANSIENT),
    "drop": (UNKNOWN, TRANSIENT),
}
#: Answers that only make the client wait (they need a short timeout to fail).
SLOW = ("slow", "create_then_hang")


# -- helpers -------------------------------------------------------------------------


def make_channel(fake: FakeGraphAPI, *, timeout: float = 10.0, **settings: str) -> FacebookChannel:
    values = {"page_id": fake.page_id, "graph_url": fake.url, "api_version": "v24.0"}
    values.update(settings)
    return FacebookChannel(FacebookSection(**values), fake.token, timeout)


def jpeg(folder: Path, name: str, colour: tuple[int, int, int], alt: str) -> MediaItem:
    path = folder / name
    Image.new("RGB", (96, 120), colour).save(path, "JPEG", quality=90)
    return MediaItem(path=path, alt=alt, sha256=hashlib.sha256(path.read_bytes()).hexdigest())


def publish_request(
    caption: str, media: tuple[MediaItem, ...] = (), link: str | None = None
) -> PublishRequest:
    return PublishRequest(
        post_id="2026-09-15-demokratins-dag",
        channel="facebook",
        caption=caption,
        media=media,
        fingerprint="f" * 64,
        link=link,
    )


def failure(call) -> ChannelError:
    with pytest.raises(ChannelError) as caught:
        call()
    return caught.value


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def photo(tmp_path: Path) -> MediaItem:
    return jpeg(tmp_path, "bild.jpg", (27, 54, 93), "Tre personer framför en vallokal.")


@pytest.fixture
def since() -> datetime:
    return datetime.now(UTC) - timedelta(minutes=5)


# -- publishing ----------------------------------------------------------------------


def test_photo_post_sends_caption_alt_text_and_the_rendition(fake_graph, photo):
    channel = make_channel(fake_graph)
    request = publish_request("Idag är det demokratins dag.\n\nhttps://example.org/dag", (photo,))

    result = channel.publish(request)

    [sent] = fake_graph.requests
    assert sent.method == "POST"
    assert sent.path == f"/v24.0/{fake_graph.page_id}/photos"
    assert sent.form["caption"] == request.caption
    assert sent.form["alt_text_custom"] == photo.alt
    assert "published" not in sent.form and "link" not in sent.form
    assert sent.files["source"].sha256 == photo.sha256
    assert sent.files["source"].size == photo.path.stat().st_size
    [post] = fake_graph.posts
    assert post.message == request.caption
    assert post.alt_texts == [photo.alt]
    assert result.remote_id == post.id
    assert result.url == f"https://www.facebook.com/{post.id}"
    assert result.warnings == ()


def test_the_version_comes_from_the_settings(fake_graph, photo):
    fake = FakeGraphAPI(token=fake_graph.token, version="v23.0").start()
    try:
        make_channel(fake, api_version="v23.0").publish(publish_request("Hej", (photo,)))
    finally:
        fake.stop()
    assert [r.path for r in fake.requests] == [f"/v23.0/{fake.page_id}/photos"]
    assert facebook.FACEBOOK_GRAPH_URL == "https://graph.facebook.com/"


def test_the_token_travels_in_a_header_never_in_a_url_or_form(fake_graph, photo, since):
    channel = make_channel(fake_graph)
    request = publish_request("Hej", (photo,))
    channel.publish(request)
    channel.find_published(request, since)
    channel.read_metrics(fake_graph.posts[0].id)
    channel.check_credentials()

    assert len(fake_graph.requests) == 8
    for sent in fake_graph.requests:
        assert sent.headers["Authorization"] == f"Bearer {fake_graph.token}"
        assert "access_token" not in sent.params
        assert fake_graph.token not in sent.path


def test_album_uploads_unpublished_photos_then_one_feed_post(fake_graph, tmp_path):
    first = jpeg(tmp_path, "1.jpg", (200, 30, 30), "En röd affisch.")
    second = jpeg(tmp_path, "2.jpg", (30, 200, 30), "En grön affisch.")
    request = publish_request("Två affischer inför valet.", (first, second))

    result = make_channel(fake_graph).publish(request)

    uploads = fake_graph.of_kind("POST photos")
    assert [u.form["published"] for u in uploads] == ["false", "false"]
    assert [u.form["alt_text_custom"] for u in uploads] == [first.alt, second.alt]
    assert [u.files["source"].sha256 for u in uploads] == [first.sha256, second.sha256]
    assert all("caption" not in u.form for u in uploads)
    [feed] = fake_graph.of_kind("POST feed")
    photo_ids = [p.id for p in fake_graph.photos.values()]
    assert feed.form["message"] == request.caption
    assert [json.loads(feed.form[f"attached_media[{i}]"]) for i in (0, 1)] == [
        {"media_fbid": photo_ids[0]},
        {"media_fbid": photo_ids[1]},
    ]
    [post] = fake_graph.posts
    assert post.alt_texts == [first.alt, second.alt]
    assert result.remote_id == post.id


def test_text_post_with_link(fake_graph):
    request = publish_request("Läs mer om demokratins dag.", link="https://example.org/dag")

    result = make_channel(fake_graph).publish(request)

    [sent] = fake_graph.requests
    assert sent.path == f"/v24.0/{fake_graph.page_id}/feed"
    assert sent.form == {"message": request.caption, "link": "https://example.org/dag"}
    assert fake_graph.posts[0].link == "https://example.org/dag"
    assert result.remote_id == fake_graph.posts[0].id


def test_a_missing_image_file_is_permanent_and_nothing_is_sent(fake_graph, photo):
    photo.path.unlink()
    error = failure(lambda: make_channel(fake_graph).publish(publish_request("Hej", (photo,))))
    assert error.error_class is PERMANENT
    assert "Re-export" in error.message
    assert fake_graph.requests == []


def test_empty_page_id_is_refused():
    with pytest.raises(ValueError, match="page_id"):
        FacebookChannel(FacebookSection(page_id="  "), "some-page-token", 1.0)


# -- errors --------------------------------------------------------------------------


def test_every_scripted_answer_has_an_expected_class():
    assert set(ANSWERS) == set(EXPECTED) | set(SLOW)


@pytest.mark.parametrize("answer", sorted(EXPECTED))
def test_error_on_the_final_write(fake_graph, photo, answer):
    fake_graph.script("POST photos", answer)
    error = failure(lambda: make_channel(fake_graph).publish(publish_request("Hej", (photo,))))
    assert error.error_class is EXPECTED[answer][0]
    assert error.message and error.platform_message


@pytest.mark.parametrize("answer", sorted(EXPECTED))
def test_error_on_a_read(fake_graph, since, answer):
    fake_graph.script("GET posts", answer)
    channel = make_channel(fake_graph)
    error = failure(lambda: channel.find_published(publish_request("Hej"), since))
    assert error.error_class is EXPECTED[answer][1]


@pytest.mark.parametrize("answer", ["error_1", "error_2", "html_502", "drop", "error_506"])
def test_errors_before_the_final_write_are_never_unknown(fake_graph, tmp_path, answer):
    media = (jpeg(tmp_path, "1.jpg", (1, 2, 3), "Ett."), jpeg(tmp_path, "2.jpg", (4, 5, 6), "Två."))
    fake_graph.script("POST photos", None, answer)
    error = failure(lambda: make_channel(fake_graph).publish(publish_request("Album", media)))
    assert error.error_class in (TRANSIENT, PERMANENT)
    assert fake_graph.of_kind("POST feed") == []
    assert fake_graph.posts == []


def test_the_album_feed_post_is_the_final_write(fake_graph, tmp_path):
    media = (jpeg(tmp_path, "1.jpg", (1, 2, 3), "Ett."), jpeg(tmp_path, "2.jpg", (4, 5, 6), "Två."))
    fake_graph.script("POST feed", "error_2")
    error = failure(lambda: make_channel(fake_graph).publish(publish_request("Album", media)))
    assert error.error_class is UNKNOWN


@pytest.mark.parametrize(
    ("answer", "code", "subcode"),
    [("error_190_463", "190", "463"), ("error_190_460", "190", "460"), ("error_200", "200", None)],
)
def test_auth_errors_tell_a_human_which_variable_to_fill(fake_graph, photo, answer, code, subcode):
    fake_graph.script("POST photos", answer)
    channel = make_channel(fake_graph, token_env="FB_PAGE_TOKEN")
    error = failure(lambda: channel.publish(publish_request("Hej", (photo,))))
    assert (error.error_class, error.code, error.subcode) == (AUTH, code, subcode)
    assert "new Page access token" in error.message
    assert "FB_PAGE_TOKEN" in error.message


def test_rate_limit_hint_comes_from_the_usage_header(fake_graph, photo):
    fake_graph.script("POST photos", "error_32_with_usage", "error_32")
    channel = make_channel(fake_graph)
    hinted = failure(lambda: channel.publish(publish_request("Hej", (photo,))))
    plain = failure(lambda: channel.publish(publish_request("Hej", (photo,))))
    assert (hinted.retry_after, plain.retry_after) == (17 * 60, None)
    assert "17 minutes" in hinted.message


def test_a_policy_block_rests_for_hours(fake_graph, photo):
    fake_graph.script("POST photos", "error_368")
    error = failure(lambda: make_channel(fake_graph).publish(publish_request("Hej", (photo,))))
    assert error.error_class is RATE_LIMITED
    assert error.retry_after == POLICY_BLOCK_SECONDS
    assert "misusing this feature" in (error.platform_message or "")


def test_bad_image_and_invalid_parameter_say_what_to_do(fake_graph, photo):
    fake_graph.script("POST photos", "error_324", "error_100")
    channel = make_channel(fake_graph)
    bad_image = failure(lambda: channel.publish(publish_request("Hej", (photo,))))
    invalid = failure(lambda: channel.publish(publish_request("Hej", (photo,))))
    assert "Re-export the image" in bad_image.message
    assert "(#100) Invalid parameter" in invalid.message


def test_html_502_is_unknown_on_the_final_write_and_transient_on_a_read(fake_graph, photo, since):
    fake_graph.script("POST photos", "html_502")
    fake_graph.script("GET posts", "html_502")
    channel = make_channel(fake_graph)
    write = failure(lambda: channel.publish(publish_request("Hej", (photo,))))
    read = failure(lambda: channel.find_published(publish_request("Hej"), since))
    assert (write.error_class, read.error_class) == (UNKNOWN, TRANSIENT)
    assert "HTTP 502" in write.message
    assert "text/html" in (write.platform_message or "")


def test_a_slow_write_is_unknown_and_the_post_turns_up_later(fake_graph, photo, since):
    fake_graph.script("POST photos", "slow")
    channel = make_channel(fake_graph, timeout=0.5)
    request = publish_request("Ett långsamt svar.", (photo,))

    error = failure(lambda: channel.publish(request))

    assert error.error_class is UNKNOWN
    assert fake_graph.wait_for_posts(1)
    found = channel.find_published(request, since)
    assert found is not None and found.remote_id == fake_graph.posts[0].id


def test_created_then_hang_is_unknown_and_found(fake_graph, photo, since):
    fake_graph.script("POST photos", "create_then_hang")
    channel = make_channel(fake_graph, timeout=0.3)
    request = publish_request("Skapad, men svaret dröjer.", (photo,))

    assert failure(lambda: channel.publish(request)).error_class is UNKNOWN
    found = channel.find_published(request, since)
    assert found is not None and found.remote_id == fake_graph.posts[0].id


def test_created_then_500_is_unknown_and_found(fake_graph, photo, since):
    fake_graph.script("POST photos", "create_then_500")
    channel = make_channel(fake_graph)
    request = publish_request("Skapad trots felet.", (photo,))

    error = failure(lambda: channel.publish(request))

    assert (error.error_class, error.code) == (UNKNOWN, "2")
    found = channel.find_published(request, since)
    assert found is not None
    assert found.remote_id == fake_graph.posts[0].id
    assert found.url == fake_graph.posts[0].permalink_url


def test_a_read_timeout_is_transient(fake_graph, since):
    fake_graph.script("GET posts", "slow")
    channel = make_channel(fake_graph, timeout=0.3)
    error = failure(lambda: channel.find_published(publish_request("Hej"), since))
    assert error.error_class is TRANSIENT


def test_connection_refused_is_transient_even_for_a_write(fake_graph, photo):
    channel = make_channel(fake_graph, graph_url=f"http://127.0.0.1:{closed_port()}")
    error = failure(lambda: channel.publish(publish_request("Hej", (photo,))))
    assert error.error_class is TRANSIENT
    assert "nothing was sent" in error.message
    check = channel.check_credentials()
    assert not check.ok and "could not connect" in check.detail


@pytest.mark.parametrize(
    ("exc", "on_write", "on_read"),
    [
        (requests.exceptions.ConnectTimeout("connect timed out"), TRANSIENT, TRANSIENT),
        (requests.exceptions.ReadTimeout("read timed out"), UNKNOWN, TRANSIENT),
        (requests.exceptions.ChunkedEncodingError("broken chunk"), UNKNOWN, TRANSIENT),
        (
            requests.exceptions.ConnectionError(
                urllib3.exceptions.ProtocolError("Connection aborted.", ConnectionResetError())
            ),
            UNKNOWN,
            TRANSIENT,
        ),
        (
            requests.exceptions.ConnectionError(
                urllib3.exceptions.MaxRetryError(
                    None,  # type: ignore[arg-type]
                    "/v24.0/1/feed",
                    urllib3.exceptions.NameResolutionError("graph.facebook.com", None, "DNS"),  # type: ignore[arg-type]
                )
            ),
            TRANSIENT,
            TRANSIENT,
        ),
        (requests.exceptions.MissingSchema("no scheme"), PERMANENT, PERMANENT),
        (
            facebook.GraphAPIError("Maintype was not text, image, or querystring"),
            UNKNOWN,
            TRANSIENT,
        ),
        (RuntimeError("something odd"), UNKNOWN, TRANSIENT),
    ],
)
def test_classify_transport_failures(exc, on_write, on_read):
    assert classify_graph_error(exc, wrote=True).error_class is on_write
    assert classify_graph_error(exc, wrote=False).error_class is on_read


def test_the_module_constant_is_neither_needed_nor_changed(fake_graph, monkeypatch):
    monkeypatch.setattr(facebook, "FACEBOOK_GRAPH_URL", f"http://127.0.0.1:{closed_port()}/")
    assert make_channel(fake_graph).check_credentials().ok


# -- reconciling ---------------------------------------------------------------------


def test_find_published_matches_the_caption_loosely_but_not_other_posts(fake_graph, since):
    caption = "Idag är det demokratins dag.\nKom och prata med oss!"
    fake_graph.add_post("Ett helt annat inlägg.")
    fake_graph.add_post(caption, datetime.now(UTC) - timedelta(hours=2))
    channel = make_channel(fake_graph)

    assert channel.find_published(publish_request(caption), since) is None
    fake_graph.honour_since = False  # the client checks created_time itself too
    assert channel.find_published(publish_request(caption), since) is None

    ours = fake_graph.add_post("Idag  är det demokratins dag. Kom och prata med oss! ")
    found = channel.find_published(publish_request(caption), since)
    assert found is not None
    assert (found.remote_id, found.url) == (ours.id, ours.permalink_url)
    assert found.created_at == ours.created_time
    sent = fake_graph.of_kind("GET posts")[0].query
    assert sent["fields"] == "id,message,created_time,permalink_url"
    assert sent["limit"] == "25"
    assert int(sent["since"]) == int(since.timestamp())


def test_find_published_follows_paging_up_to_four_pages(fake_graph, since):
    target = fake_graph.add_post("Vårt inlägg.", datetime.now(UTC) - timedelta(minutes=4))
    for number in range(30):
        fake_graph.add_post(f"Annat {number}")
    channel = make_channel(fake_graph)

    found = channel.find_published(publish_request("Vårt inlägg."), since)

    assert found is not None and found.remote_id == target.id
    pages = fake_graph.of_kind("GET posts")
    assert [p.query.get("after") for p in pages] == [None, "25"]
    fake_graph.requests.clear()
    for number in range(80):
        fake_graph.add_post(f"Ännu fler {number}")
    assert channel.find_published(publish_request("Vårt inlägg."), since) is None
    assert len(fake_graph.of_kind("GET posts")) == 4


# -- engagement and credentials -----------------------------------------------------


def test_read_metrics(fake_graph):
    post = fake_graph.add_post("Hej", shares=2, reactions=5, comments=3)

    metrics = make_channel(fake_graph).read_metrics(post.id)

    assert (metrics.reactions, metrics.comments, metrics.shares) == (5, 3, 2)
    assert (metrics.views, metrics.reach, metrics.clicks, metrics.saves) == (120, 95, 7, None)
    assert set(metrics.raw["insights"]) == {
        "post_media_view",
        "post_total_media_view_unique",
        "post_clicks",
        "post_reactions_by_type_total",
    }
    [counts, *insights] = [r.query for r in fake_graph.requests]
    assert counts["fields"] == (
        "shares,reactions.summary(total_count).limit(0),comments.summary(true).limit(0)"
    )
    assert [q["metric"] for q in insights] == list(metrics.raw["insights"])
    dumped = json.dumps(metrics.raw)
    assert "paging" not in dumped and fake_graph.token not in dumped


def test_read_metrics_keeps_the_others_when_a_metric_is_retired(fake_graph):
    post = fake_graph.add_post("Hej", reactions=1)
    fake_graph.retired_metrics.add("post_clicks")

    metrics = make_channel(fake_graph).read_metrics(post.id)

    assert (metrics.views, metrics.reach, metrics.clicks, metrics.shares) == (120, 95, None, 0)
    assert "valid insights metric" in metrics.raw["unavailable"]["post_clicks"]
    assert "post_clicks" not in metrics.raw["insights"]


def test_read_metrics_raises_other_errors(fake_graph):
    post = fake_graph.add_post("Hej")
    fake_graph.script("GET insights", None, "error_190_463")
    error = failure(lambda: make_channel(fake_graph).read_metrics(post.id))
    assert error.error_class is AUTH


def test_check_credentials_ok_and_expired(fake_graph):
    good = make_channel(fake_graph).check_credentials()
    assert good.ok and fake_graph.page_name in good.detail

    settings = FacebookSection(page_id=fake_graph.page_id, graph_url=fake_graph.url)
    expired = FacebookChannel(settings, "an-old-page-token", 2.0).check_credentials()
    assert not expired.ok
    assert "expired" in expired.detail and "CAMPAIGN_FACEBOOK_TOKEN" in expired.detail


# -- secrets -------------------------------------------------------------------------


def test_the_token_never_shows_in_errors_or_logs(fake_graph, photo, since, caplog):
    caplog.set_level(logging.DEBUG)
    channel = make_channel(fake_graph, timeout=0.3)
    errors = []
    for answer in [*EXPECTED, *SLOW]:
        fake_graph.script("POST photos", answer)
        fake_graph.script("GET posts", answer)
        errors.append(failure(lambda: channel.publish(publish_request("Hej", (photo,)))))
        errors.append(failure(lambda: channel.find_published(publish_request("Hej"), since)))
    refused = make_channel(fake_graph, graph_url=f"http://127.0.0.1:{closed_port()}")
    errors.append(failure(lambda: refused.publish(publish_request("Hej", (photo,)))))

    echoed = [r for r in fake_graph.requests if r.kind == "POST photos"]
    assert len(errors) == 2 * len(EXPECTED) + 2 * len(SLOW) + 1 and echoed
    for error in errors:
        for text in (error.message, error.platform_message, repr(error), str(error)):
            assert fake_graph.token not in (text or "")
        assert error.__cause__ is None
        assert error.__context__ is None or error.__suppress_context__
    assert any("[redacted]" in (e.platform_message or "") for e in errors)
    assert caplog.records and fake_graph.token not in caplog.text
    fake_graph.reset()  # release the answers still being delayed
