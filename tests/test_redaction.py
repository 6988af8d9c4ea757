"""Secrets never reach logs, the database or messages: known values and token shapes."""

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import Iterator

import pytest

from scheduler import redaction
from scheduler.redaction import (
    REDACTED,
    RedactingFilter,
    install_log_redaction,
    redact,
    register_secret,
)


@pytest.fixture(autouse=True)
def own_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test registers into a registry of its own, so none leaks into other tests."""
    monkeypatch.setattr(redaction, "_secrets", set())


def canary(prefix: str = "canary") -> str:
    """A unique secret-looking value, so tests never share registered secrets."""
    return f"{prefix}-{uuid.uuid4().hex}"


def test_a_registered_secret_is_removed_wherever_it_appears() -> None:
    secret = canary()
    register_secret(secret)
    texts = [
        secret,
        f"token {secret} expired",
        f"https://example.org/x?t={secret}&u=1",
        f'{{"headers": {{"X-Token": "{secret}"}}}}',
        f"{secret}{secret}",
        f"Fel: {secret}\nRad två {secret}.",
    ]
    for text in texts:
        result = redact(text)
        assert result is not None
        assert secret not in result
        assert REDACTED in result
    assert redact(f"token {secret} expired") == f"token {REDACTED} expired"


def test_a_longer_secret_containing_a_shorter_one_is_removed_whole() -> None:
    short = canary("kort")
    register_secret(short)
    long = f"{short}-och-längre-{uuid.uuid4().hex}"
    register_secret(long)
    assert redact(f"a {long} b") == f"a {REDACTED} b"


@pytest.mark.parametrize("value", ["", None, "a", "abc12", "Ö5x!z"])
def test_short_values_are_not_registered(value: str | None) -> None:
    register_secret(value)
    text = "abc12 Ö5x!z a är inte hemliga."
    assert redact(text) == text


def test_six_characters_are_enough_to_register() -> None:
    value = "ẞ" + uuid.uuid4().hex[:4] + "ŧ"
    assert len(value) == 6
    register_secret(value)
    assert redact(f"x {value} y") == f"x {REDACTED} y"


def test_none_and_empty_text_pass_through() -> None:
    assert redact(None) is None
    assert redact("") == ""


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (
            "https://graph.facebook.com/v24.0/123/photos?access_token=abc123XYZ&published=true",
            "abc123XYZ",
        ),
        ("GET /me?fields=id&access_token=abc123%2Bdef HTTP/1.1", "abc123%2Bdef"),
        ('{"access_token": "tok.en-VALUE_123", "id": 1}', "tok.en-VALUE_123"),
        ('{"access_token":"tok.en-VALUE_123"}', "tok.en-VALUE_123"),
        ("Authorization: Bearer abc.def.ghi-123", "abc.def.ghi-123"),
        ('{"authorization": "Bearer zz_TOP_secret"}', "zz_TOP_secret"),
        ("authorization=bearer lowercase-token", "lowercase-token"),
        ("x-ig-www-claim: 0 IGT:2:eyJkc191c2VyX2lkIjoiMTIzIn0= end", "eyJkc191c2VyX2lkIjoiMTIzIn0"),
        (
            "Cookie: csrftoken=abc; sessionid=12345%3AAbCdEf%3A12; ds_user_id=12345",
            "12345%3AAbCdEf%3A12",
        ),
        ('{"sessionid": "12345:AbCdEf:12"}', "12345:AbCdEf:12"),
        ("password=hunter2-lösen&username=kommunen", "hunter2-lösen"),
        ('{"password": "hunter2", "username": "kommunen"}', "hunter2"),
        ("enc_password=#PWD_INSTAGRAM:0:1700000000:hunter2", "hunter2"),
        ("token EAABsbCS1iHgBAKZCZBZAtoken12 is invalid", "EAABsbCS1iHgBAKZCZBZA"),
    ],
)
def test_token_shaped_text_is_removed(text: str, secret: str) -> None:
    result = redact(text)
    assert result is not None
    assert secret not in result, result
    assert REDACTED in result


def test_redaction_keeps_the_surrounding_text() -> None:
    text = "GET /v24.0/me?access_token=abc123&fields=id failed: (#190) expired"
    assert redact(text) == f"GET /v24.0/me?access_token={REDACTED}&fields=id failed: (#190) expired"
    assert redact("Authorization: Bearer abc123") == f"Authorization: Bearer {REDACTED}"
    cookies = "csrftoken=abc; sessionid=1%3Aa%3A2; ds_user_id=1"
    assert redact(cookies) == f"csrftoken={REDACTED}; sessionid={REDACTED}; ds_user_id=1"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("params={'access_token': 'abcdefghij12345'}", "abcdefghij12345"),
        ("data={'username': 'kommunen', 'password': 'hunter2hunter2'}", "hunter2hunter2"),
        ("cookies={'sessionid': 'canary%3AabcDEF%3A12'}", "canary%3AabcDEF%3A12"),
        ("headers={'Authorization': 'Bearer abcdef123456'}", "abcdef123456"),
    ],
    ids=["access_token", "password", "sessionid", "authorization"],
)
def test_python_dict_reprs_are_redacted(text: str, secret: str) -> None:
    result = redact(text)
    assert result is not None
    assert secret not in result, result


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA=="),
        ("Authorization: OAuth zzzzzzzzzzzz-page-token", "zzzzzzzzzzzz-page-token"),
    ],
    ids=["basic", "oauth"],
)
def test_authorization_headers_of_any_scheme_are_redacted(text: str, secret: str) -> None:
    result = redact(text)
    assert result is not None
    assert secret not in result, result


@pytest.mark.parametrize(
    "text",
    [
        "Idag är det demokratins dag. Kom och prata med oss på torget i Södertälje!",
        "Om ett år är det val – den 11 september 2022. #demokrati100 #södertälje",
        "اليوم هو يوم الديمقراطية.",
        "https://www.sodertalje.se/demokrati?utm_source=facebook&utm_medium=social",
        "https://graph.facebook.com/v24.0/123456789/photos?published=true&caption=Hej",
        "Lösenordet ska du aldrig skriva här. Glömt lösenord? Ring växeln.",
        "EAA-reglerna gäller; se EAAB.",  # too short to be a Facebook token
        "published 2030-09-15-demokratidagen to instagram (outbox), try 1",
    ],
)
def test_text_without_secrets_is_unchanged(text: str) -> None:
    assert redact(text) == text


@pytest.fixture
def logger() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger of its own writing to a string, with redaction installed on its handler."""
    name = f"test.redaction.{uuid.uuid4().hex}"
    log = logging.getLogger(name)
    log.propagate = False
    log.setLevel(logging.DEBUG)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    log.addHandler(handler)
    install_log_redaction(log)
    try:
        yield log, stream
    finally:
        log.removeHandler(handler)


def test_install_log_redaction_adds_one_filter_per_handler(
    logger: tuple[logging.Logger, io.StringIO],
) -> None:
    log, stream = logger
    install_log_redaction(log)  # twice: still one filter
    [handler] = [h for h in log.handlers if getattr(h, "stream", None) is stream]
    assert sum(isinstance(f, RedactingFilter) for f in handler.filters) == 1


def test_percent_formatted_arguments_are_redacted(
    logger: tuple[logging.Logger, io.StringIO],
) -> None:
    log, stream = logger
    secret = canary()
    register_secret(secret)
    log.info("calling %s with token %s (%d)", "https://graph.facebook.com/me", secret, 3)
    log.warning("url %s", "https://x.org/me?access_token=abcdefSECRET&a=1")
    log.info("100%% klart för %s", "Södertälje")
    text = stream.getvalue()
    assert secret not in text and "abcdefSECRET" not in text
    assert f"INFO calling https://graph.facebook.com/me with token {REDACTED} (3)" in text
    assert f"access_token={REDACTED}&a=1" in text
    assert "INFO 100% klart för Södertälje" in text


def test_exception_tracebacks_are_redacted(logger: tuple[logging.Logger, io.StringIO]) -> None:
    log, stream = logger
    secret = canary()
    register_secret(secret)
    try:
        try:
            raise ValueError(f"bad token {secret}")
        except ValueError as inner:
            raise RuntimeError("GET /me?access_token=EAAinnerSECRETvalue failed") from inner
    except RuntimeError:
        log.exception("publishing failed for %s", "2030-09-15-bra")
    text = stream.getvalue()
    assert "ERROR publishing failed for 2030-09-15-bra" in text
    assert "Traceback (most recent call last)" in text
    assert "RuntimeError" in text and "ValueError" in text
    assert secret not in text
    assert "EAAinnerSECRETvalue" not in text
    assert text.count(REDACTED) >= 2


def test_caplog_sees_redacted_records(caplog: pytest.LogCaptureFixture) -> None:
    secret = canary()
    register_secret(secret)
    caplog.handler.addFilter(RedactingFilter())
    log = logging.getLogger("test.redaction.caplog")
    with caplog.at_level(logging.INFO, logger="test.redaction.caplog"):
        log.info("session %s", secret)
        try:
            raise ConnectionError(f"refused with {secret}")
        except ConnectionError:
            log.exception("lost")
    assert secret not in caplog.text
    assert f"session {REDACTED}" in caplog.text
    assert f"ConnectionError: refused with {REDACTED}" in caplog.text
