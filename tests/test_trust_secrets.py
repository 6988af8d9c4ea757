"""No secret out, and the public record exact (issue 10, items 10 and 11).

Redaction removes whole secrets and secret-shaped text from what we *say* (logs, errors,
alerts, the platforms' answers), never from what was *sent*: the caption, link, alt texts
and first comment are stored and exported exactly, whatever secrets are registered.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from PIL import Image

from campaign.config import FacebookSection, InstagramSection
from scheduler import redaction
from scheduler.channels.base import Channel, MediaItem, PublishRequest
from scheduler.channels.facebook import FacebookChannel
from scheduler.channels.instagram import InstagramChannel
from scheduler.engagement.archive import archive_records, write_archive
from scheduler.notify import Notifier
from scheduler.prepare import content_fingerprint, media_json
from scheduler.publisher import Publisher
from scheduler.redaction import REDACTED, redact, register_secret
from scheduler.retry_policy import RetryPolicy
from scheduler.store.models import State
from scheduler.store.store import Store
from tests.conftest import Campaign, HandClock
from tests.fakes.graph_api import FakeGraphAPI
from tests.fakes.instagram_api import USERNAME, FakeInstagram

RETRY = RetryPolicy(
    max_attempts=3,
    first_retry=timedelta(seconds=60),
    longest_retry=timedelta(minutes=10),
    rate_limit_cooldown=timedelta(minutes=30),
    reconcile_after=timedelta(seconds=30),
    auth_check_every=timedelta(minutes=15),
    request_timeout=timedelta(seconds=2),
)

SECRET_SHAPED = [
    # URL-encoded, as in a `next=` or `redirect_uri=` parameter
    ("next=https%3A%2F%2Fgraph.facebook.com%2Fme%3Faccess_token%3DZZtok9Q1%26x%3D1", "ZZtok9Q1"),
    ("u=%2Fme%3Faccess_token%253DZZtok9Q2%2526x%253D1", "ZZtok9Q2"),
    # keys beyond access_token and password
    ("GET /oauth?grant_type=fb_exchange_token&fb_exchange_token=ZZtok9Q3&x=1", "ZZtok9Q3"),
    ("client_id=1&client_secret=ZZsec9Q4&redirect_uri=x", "ZZsec9Q4"),
    ('{"token": "ZZtok9Q5", "id": 1}', "ZZtok9Q5"),
    ("refresh?token=ZZtok9Q6&a=1", "ZZtok9Q6"),
    ("passwd=ZZpw9Q7&user=kommunen", "ZZpw9Q7"),
    ("login pwd: ZZpw9Q8", "ZZpw9Q8"),
    ("{'app_secret': 'ZZsec9Q9'}", "ZZsec9Q9"),
    (
        "GET https://s3.example/b/campaign/x.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Signature=ZZsig9a1b2c3&X-Amz-Expires=600",
        "ZZsig9a1b2c3",
    ),
    ("x-amz-security-token: ZZsts9a1b2c3", "ZZsts9a1b2c3"),
    # Instagram cookies
    ("Set-Cookie: csrftoken=ZZcsrf10; Path=/; sessionid=ZZsess10%3A1", "ZZcsrf10"),
    ("Set-Cookie: csrftoken=ZZcsrf10; Path=/; sessionid=ZZsess10%3A1", "ZZsess10"),
    ('{"cookies": {"csrftoken": "ZZcsrf11", "sessionid": "ZZsess11"}}', "ZZcsrf11"),
    ('{"cookies": {"csrftoken": "ZZcsrf11", "sessionid": "ZZsess11"}}', "ZZsess11"),
    ("<Cookie sessionid=ZZsess12 for .instagram.com/>", "ZZsess12"),
    # Authorization of any scheme, in any shape
    ("Authorization=Basic%20ZZbasic13", "ZZbasic13"),
    ("Proxy-Authorization: Basic ZZbasic14==", "ZZbasic14"),
    ("send: AUTH PLAIN ZZplain15AGhp", "ZZplain15"),
    ("Bearer ZZbearer16abc.def", "ZZbearer16"),
    # passwords with spaces and quotes
    ('{"password": "correct ZZhorse17 \\"battery\\" staple"}', "ZZhorse17"),
    ('{"password": "correct horse \\"ZZbattery18\\" staple"}', "ZZbattery18"),
    ("{'password': \"it's ZZmine19\"}", "ZZmine19"),
    ("password: correct horse ZZbattery20 staple", "ZZbattery20"),
    ('body="{\\"password\\": \\"two ZZwords21\\"}"', "ZZwords21"),
    # a password in a URL
    ("postgresql+psycopg://campaign:ZZdb22pw@db.example:5432/campaign", "ZZdb22pw"),
    ("postgresql://campaign:ZZ/db23@pw@db.example/campaign", "ZZ/db23"),
    ("postgresql://db.example/campaign?user=x&password=ZZdb24pw", "ZZdb24pw"),
]


@pytest.fixture(autouse=True)
def own_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test registers into a registry of its own, so none leaks into other tests."""
    monkeypatch.setattr(redaction, "_secrets", set())
    monkeypatch.setattr(redaction, "_url_parts", set(), raising=False)


def canary(prefix: str = "canary") -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


@pytest.mark.parametrize(("text", "secret"), SECRET_SHAPED)
def test_secret_shaped_text_is_removed(text: str, secret: str) -> None:
    result = redact(text)
    assert result is not None and secret not in result, result
    assert REDACTED in result


def test_the_text_around_a_secret_is_kept() -> None:
    assert redact("client_secret=abcdef123&redirect_uri=https://x.se/") == (
        f"client_secret={REDACTED}&redirect_uri=https://x.se/"
    )
    assert redact('{"token": "abcdef123", "id": 1}') == f'{{"token": "{REDACTED}", "id": 1}}'
    assert redact("a%3Faccess_token%3Dabcdef123%26fields%3Did") == (
        f"a%3Faccess_token%3D{REDACTED}%26fields%3Did"
    )
    assert redact("postgresql://u:pw123456@db.example/x failed") == (
        f"postgresql://u:{REDACTED}@db.example/x failed"
    )


@pytest.mark.parametrize(
    "text",
    [
        "Facebook no longer accepts the Page token: Error validating access token.",
        "the environment variable CAMPAIGN_FACEBOOK_TOKEN (the Page token) is not set",
        "token_env = CAMPAIGN_FACEBOOK_TOKEN",
        "Glömt lösenord? Ring växeln. Ange ditt lösenord.",
        "https://www.sodertalje.se/kampanj?utm_source=facebook",
    ],
)
def test_sentences_about_secrets_are_not_redacted(text: str) -> None:
    assert redact(text) == text


@pytest.mark.parametrize(
    "secret", ["pa ss/wörd \"quoted\" 'too' & more", "p@ss:w/rd?x=1#frag", "tab\tand\\slash"]
)
def test_a_registered_secret_is_found_in_the_shapes_libraries_write_it(secret: str) -> None:
    register_secret(secret)
    for shape in (
        secret,
        quote(secret, safe=""),
        quote_plus(secret),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
    ):
        result = redact(f"before {shape} after")
        assert result == f"before {REDACTED} after", (shape, result)


def test_a_webhook_url_is_a_secret_whole_and_its_path_is_not_a_secret_of_its_own(
    campaign: Campaign,
) -> None:
    webhook = "https://hooks.example.org/kampanj"
    Notifier.from_config(campaign.config(), {"CAMPAIGN_ALERT_WEBHOOK": webhook})

    page = "Läs mer på https://www.sodertalje.se/kampanj och /kampanj/val2022."
    assert redact(page) == page
    assert redact(f"POST {webhook} failed") == f"POST {REDACTED} failed"
    # An HTTP library quotes the path without the host: removed there, and only there.
    from scheduler.redaction import redact_http_text

    refused = "HTTPSConnectionPool(host='hooks.example.org', port=443): url: /kampanj (Caused"
    assert "/kampanj" not in (redact_http_text(refused) or "")


def test_json_log_lines_redact_extra_fields(capsys: pytest.CaptureFixture[str]) -> None:
    from scheduler.logs import configure_logging

    secret = canary()
    register_secret(secret)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        configure_logging("json")
        logging.getLogger("test.trust").warning(
            "calling %s", "x", extra={"url": f"https://x.se/?t={secret}", "answer": {"k": secret}}
        )
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)
    line = capsys.readouterr().out
    assert "calling x" in line and secret not in line


# What was sent is stored and exported exactly -------------------------------------------

WEBHOOK = "https://hooks.example.org/kampanj"
LINK = "https://www.sodertalje.se/kampanj"
#: Texts a communicator may well write, which look like secrets to the patterns.
CAPTION = (
    "Frågesport! Lösenordet till tipspromenaden — password: ring — står på skylten.\n"
    f"Läs mer: {LINK}?token=valfri&pwd=1 och Authorization: Basic öppet hus.\n#demokrati100"
)
ALT = 'Skylt med texten "sessionid=gratis; csrftoken: fika" vid /kampanj-tältet.'
FIRST_COMMENT = "client_secret: ingen — access_token=EAAfriVärdeSomSerUtSomEnToken12345"


def _sent(tmp_path: Path, post_id: str, channel: str, **extra: object) -> PublishRequest:
    path = tmp_path / f"{post_id}-{channel}.jpg"
    Image.new("RGB", (320, 400), (27, 54, 93)).save(path, "JPEG")
    media = (MediaItem(path, ALT, hashlib.sha256(path.read_bytes()).hexdigest()),)
    first_comment = extra.get("first_comment")
    return PublishRequest(
        post_id=post_id,
        channel=channel,  # type: ignore[arg-type]
        caption=CAPTION,
        media=media,
        fingerprint=content_fingerprint(channel, CAPTION, None, first_comment, media),  # type: ignore[arg-type]
        first_comment=first_comment,  # type: ignore[arg-type]
    )


def test_what_was_sent_is_stored_and_exported_exactly_whatever_is_registered(
    campaign: Campaign,
    graph_through: FakeGraphAPI,
    fake_instagram: FakeInstagram,
    store: Store,
    tmp_path: Path,
) -> None:
    config = campaign.config()
    Notifier.from_config(config, {"CAMPAIGN_ALERT_WEBHOOK": WEBHOOK})
    register_secret("ring — står")  # a whole secret that happens to be in the caption
    clock = HandClock(datetime(2021, 9, 15, 7, 0, tzinfo=UTC))
    fb_settings = FacebookSection(
        page_id=graph_through.page_id, graph_url=graph_through.url, api_version="v24.0"
    )
    channels: dict[str, Channel] = {
        "facebook": FacebookChannel(fb_settings, graph_through.token, 2.0),
        "instagram": InstagramChannel(
            InstagramSection(username=USERNAME),
            fake_instagram.saved_session(tmp_path / "secrets"),
            None,
            2.0,
        ),
    }
    sent = [
        _sent(tmp_path, "2021-09-15-fraga", "facebook"),
        _sent(tmp_path, "2021-09-15-fraga", "instagram", first_comment=FIRST_COMMENT),
    ]
    publisher = Publisher(store, channels, RETRY, clock, random.Random(1))
    for request in sent:
        store.ensure_publication(request.post_id, request.channel, clock(), clock())
        assert publisher.publish(request).state is State.PUBLISHED

    for request in sent:
        row = store.get(request.post_id, request.channel)
        assert row is not None
        assert (row.caption, row.first_comment) == (request.caption, request.first_comment)
        assert row.media_json == media_json(request.media)
    [fb_post] = graph_through.posts
    assert fb_post.message == CAPTION and fb_post.alt_texts == [ALT]
    [ig_post] = fake_instagram.posts
    assert (ig_post.caption, ig_post.comments) == (CAPTION, [FIRST_COMMENT])

    json_path, csv_path = write_archive(archive_records(store), tmp_path / "archive", UTC)
    archived = json.loads(json_path.read_text(encoding="utf-8"))["publications"]
    assert [r["caption"] for r in archived] == [CAPTION, CAPTION]
    assert [r["images"][0]["alt"] for r in archived] == [ALT, ALT]
    assert [r["first_comment"] for r in archived] == [None, FIRST_COMMENT]
    table = csv_path.read_text(encoding="utf-8-sig")
    assert CAPTION in table.replace("\r\n", "\n") and ALT.replace('"', '""') in table
    assert REDACTED not in json_path.read_text(encoding="utf-8") + table


NOW = datetime(2021, 9, 15, 7, 0, tzinfo=UTC)


def test_a_link_is_stored_exactly(store: Store) -> None:
    register_secret(LINK.rpartition("/")[0])  # even a whole secret inside it: stored as sent
    row = store.ensure_publication("2021-09-15-lank", "facebook", NOW, NOW)
    assert row.id is not None
    claim = store.claim(
        row.id,
        now=NOW,
        claimed_by="test",
        fingerprint="f" * 64,
        caption=CAPTION,
        media_json="[]",
        link=LINK,
        first_comment=None,
    )
    assert claim is not None
    stored = store.get_by_id(row.id)
    assert (stored.caption, stored.link) == (CAPTION, LINK)
