"""Secrets in the answers of others (issue 10, items 10–12, as a reviewer attacked them).

A platform, a proxy, a webhook receiver or a mail server may quote back what it was sent:
a session id, the Page token, the webhook's path, the SMTP password as base64. Whatever
they quote is redacted whole before anything is cut short for the record, a log or an
alert, and nothing of it reaches the attempts or alerts tables, the archive or a log line.
"""

# ruff: noqa: F811

from __future__ import annotations

import base64
import json
import logging
import random
import socketserver
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from sqlalchemy import inspect, text

from campaign.config import FacebookSection, InstagramSection
from scheduler import redaction
from scheduler.channels.base import Channel, MediaItem, PublishRequest, RemotePost
from scheduler.channels.facebook import FacebookChannel
from scheduler.channels.instagram import InstagramChannel
from scheduler.engagement.archive import archive_records, write_archive
from scheduler.notify import Message, Notifier, WebhookTarget, _register_url
from scheduler.prepare import content_fingerprint
from scheduler.publisher import Publisher
from scheduler.reconcile import Reconciler
from scheduler.redaction import REDACTED, excerpt, register_secret
from scheduler.retry_policy import RetryPolicy
from scheduler.store.models import State
from scheduler.store.store import Store
from tests.conftest import Campaign, HandClock
from tests.database import database_url, store  # noqa: F401
from tests.fakes import instagram_api
from tests.fakes.graph_api import FakeGraphAPI
from tests.fakes.instagram_api import USER_ID, USERNAME, FakeInstagram, Scenario

RETRY = RetryPolicy(
    max_attempts=3,
    first_retry=timedelta(seconds=60),
    longest_retry=timedelta(minutes=10),
    rate_limit_cooldown=timedelta(minutes=30),
    reconcile_after=timedelta(seconds=30),
    auth_check_every=timedelta(minutes=15),
    request_timeout=timedelta(seconds=5),
)
NOW = datetime(2021, 9, 15, 7, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def own_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(redaction, "_secrets", set())
    monkeypatch.setattr(redaction, "_url_parts", set(), raising=False)


def canary(prefix: str) -> str:
    """A value no real token or password looks like, long enough to be found in halves."""
    return f"{prefix}CANARY{uuid.uuid4().hex}"


def pieces(secret: str, size: int = 8) -> list[str]:
    """Every stretch of ``size`` characters of ``secret``: a cut-off half is found too."""
    return [secret[i : i + size] for i in range(len(secret) - size + 1)]


def leaked(secret: str, text: str) -> list[str]:
    return [piece for piece in pieces(secret) if piece in text]


def everything_stored(store: Store) -> str:
    """Every value of every table, as text."""
    lines = []
    with store.engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                lines.append(" | ".join(str(value) for value in row))
    return "\n".join(lines)


# redact first, cut second ---------------------------------------------------------------


@pytest.mark.parametrize("offset", [150, 195, 280, 295, 299, 305])
def test_an_excerpt_never_holds_part_of_a_secret_cut_in_two(offset: int) -> None:
    secret = canary("Zq")
    register_secret(secret)
    said = excerpt("x" * offset + " " + secret + " and more words", 300)
    assert not leaked(secret, said), said
    assert len(said) <= 300
    assert "[redac" not in said.replace(REDACTED, "")  # never half a marker


def _photo(tmp_path: Path, name: str) -> MediaItem:
    path = tmp_path / f"{name}.jpg"
    Image.new("RGB", (320, 400), (27, 54, 93)).save(path, "JPEG")
    return MediaItem(path, "Tre personer framför en vallokal.", "0" * 64)


def _request(tmp_path: Path, post_id: str, channel: str) -> PublishRequest:
    media = (_photo(tmp_path, f"{post_id}-{channel}"),)
    caption = "Idag är det demokratins dag. #demokrati100"
    return PublishRequest(
        post_id=post_id,
        channel=channel,  # type: ignore[arg-type]
        caption=caption,
        media=media,
        fingerprint=content_fingerprint(channel, caption, None, None, media),  # type: ignore[arg-type]
    )


def _publish_once(store: Store, channel: Channel, request: PublishRequest) -> None:
    clock = HandClock(NOW)
    publisher = Publisher(store, {request.channel: channel}, RETRY, clock, random.Random(1))
    store.ensure_publication(request.post_id, request.channel, clock(), clock())
    publisher.publish(request)


def test_an_instagram_answer_quoting_the_session_near_the_cut_leaves_nothing_of_it(
    fake_instagram: FakeInstagram,
    store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    token = canary("sess")
    session = fake_instagram.saved_session(tmp_path / "secrets", token=token)
    sessionid = instagram_api.session_id(token)
    # Some answers quote the request back; here the session id straddles the 300th character.
    message = "Bad request. " + "x" * 254 + f" session {sessionid} was refused"
    monkeypatch.setitem(instagram_api.SCENARIOS, "echo", Scenario(400, {"message": message}))
    fake_instagram.queue("configure", "echo")
    channel = InstagramChannel(InstagramSection(username=USERNAME), session, None, 5.0)
    with caplog.at_level(logging.DEBUG):
        _publish_once(store, channel, _request(tmp_path, "2021-09-15-eko", "instagram"))

    stored = everything_stored(store)
    assert "Bad request" in stored  # the platform's words were recorded…
    assert not leaked(token, stored + caplog.text), leaked(token, stored)  # …not the session
    assert str(USER_ID) in sessionid


def test_a_facebook_error_page_quoting_the_token_near_the_cut_leaves_nothing_of_it(
    graph_through: FakeGraphAPI, store: Store, tmp_path: Path
) -> None:
    page = "<html><body><p>" + "y" * 285 + " {access_token} refused</p></body></html>"
    graph_through.script(
        "POST photos",
        {"status": 400, "content_type": "text/html; charset=utf-8", "body": page},
    )
    settings = FacebookSection(
        page_id=graph_through.page_id, graph_url=graph_through.url, api_version="v24.0"
    )
    channel = FacebookChannel(settings, graph_through.token, 5.0)
    _publish_once(store, channel, _request(tmp_path, "2021-09-15-sida", "facebook"))

    stored = everything_stored(store)
    assert "yyyy" in stored
    assert not leaked(graph_through.token, stored), leaked(graph_through.token, stored)


def test_the_archive_of_a_post_whose_tries_were_refused_holds_no_secret(
    fake_instagram: FakeInstagram, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = canary("arch")
    session = fake_instagram.saved_session(tmp_path / "secrets", token=token)
    body = {"message": f"feedback_required for {instagram_api.session_id(token)}"}
    monkeypatch.setitem(instagram_api.SCENARIOS, "echo", Scenario(400, body))
    fake_instagram.queue("configure", "echo")
    channel = InstagramChannel(InstagramSection(username=USERNAME), session, None, 5.0)
    request = _request(tmp_path, "2021-09-15-arkiv", "instagram")
    _publish_once(store, channel, request)
    json_path, csv_path = write_archive(archive_records(store), tmp_path / "archive", UTC)
    archived = json_path.read_text(encoding="utf-8") + csv_path.read_text(encoding="utf-8-sig")
    assert not leaked(token, archived)


# a webhook receiver that quotes the webhook -------------------------------------------


@pytest.fixture
def quoting_receiver() -> Iterator[tuple[ThreadingHTTPServer, list[str]]]:
    """Answers every POST 404 with a body scripted per path: ``bodies[0]`` for the first."""
    bodies: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            base = f"http://127.0.0.1:{self.server.server_address[1]}"
            body = bodies.pop(0).format(path=self.path, url=base + self.path).encode()
            self.send_response(404)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server, bodies
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    "body",
    [
        "<pre>Cannot POST {path}</pre>",  # Express's 404: the path without the host
        "x" * 150 + " no such hook: {url}",  # the URL straddling the 200th character
        '{{"error": "invalid_token", "hook": "{path}"}}',
    ],
)
def test_a_webhook_answer_never_quotes_the_webhook_back(
    body: str, quoting_receiver: tuple[ThreadingHTTPServer, list[str]]
) -> None:
    server, bodies = quoting_receiver
    secret = canary("hook")
    url = f"http://127.0.0.1:{server.server_address[1]}/services/T01/B02/{secret}"
    _register_url(url)
    bodies.append(body)
    target = WebhookTarget(url, "json", 5.0, "CAMPAIGN_ALERT_WEBHOOK")
    with pytest.raises(Exception) as raised:
        target.send(Message((), "t", "b", "c", ZoneInfo("UTC")))
    said = str(raised.value)
    assert said.startswith("HTTP 404") and not leaked(secret, said), said
    assert "/services/T01" not in said


def test_json_log_lines_of_a_quoted_secret_hold_nothing_of_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from scheduler.logs import configure_logging

    secret = canary("log")
    register_secret(secret)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        configure_logging("json")
        logging.getLogger("test.leaks").warning(
            "said: %s", excerpt("z" * 290 + secret, 300), extra={"answer": {"k": secret}}
        )
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)
    line = capsys.readouterr().out
    assert json.loads(line)["message"].startswith("said: zzz") and not leaked(secret, line)


def test_an_unexpected_error_quoting_a_secret_near_the_cut_is_recorded_without_it() -> None:
    from scheduler.publisher import describe_error

    secret = canary("boom")
    register_secret(secret)
    said = describe_error(RuntimeError("w" * 280 + " " + secret))
    assert said.startswith("RuntimeError: www") and not leaked(secret, said), said


# a mail server that quotes the login back ---------------------------------------------


class _EchoingSmtp(socketserver.StreamRequestHandler):
    """Offers one AUTH mechanism and refuses the login quoting the line it got."""

    def handle(self) -> None:
        def say(line: str) -> None:
            self.wfile.write(f"{line}\r\n".encode())

        say("220 mail.example ESMTP")
        while line := self.rfile.readline().decode("ascii", "replace").strip():
            command = line.upper()
            if command.startswith(("EHLO", "HELO")):
                say("250-mail.example")
                say(f"250 AUTH {self.server.mechanism}")  # type: ignore[attr-defined]
            elif command.startswith("AUTH LOGIN"):
                say("334 UGFzc3dvcmQ6")
                answer = self.rfile.readline().decode("ascii", "replace").strip()
                say(f"535 5.7.8 authentication failed: {answer}")
            elif command.startswith("AUTH PLAIN"):
                say(f"535 5.7.8 bad credentials in {line}".replace("AUTH PLAIN ", ""))
            elif command.startswith("QUIT"):
                say("221 bye")
                return
            else:
                say("250 OK")


@pytest.mark.parametrize("mechanism", ["LOGIN", "PLAIN"])
def test_a_mail_server_quoting_the_base64_login_back_never_shows_it(
    mechanism: str, campaign: Campaign, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _EchoingSmtp)
    server.mechanism = mechanism  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    password = canary("Smtp") + " 9#%"
    user = "kampanj@sodertalje.example"
    config = campaign.config(
        f"""
        [notify]
        email_to = ["kommunikation@sodertalje.example"]
        smtp_host = "127.0.0.1"
        smtp_port = {server.server_address[1]}
        smtp_security = "none"
        smtp_user = "{user}"
        """
    )
    try:
        notifier = Notifier.from_config(config, {"CAMPAIGN_SMTP_PASSWORD": password})
        store.raise_alert("failed:eko", "failed", "Facebook refused it.", NOW, channel="facebook")
        with caplog.at_level(logging.DEBUG):
            report = notifier.deliver_pending(store)
    finally:
        server.shutdown()
        server.server_close()
    said = " ".join(report.failures) + caplog.text
    assert report.failures and "535" in said, said
    shapes = [password, base64.b64encode(password.encode()).decode()]
    shapes.append(base64.b64encode(f"\0{user}\0{password}".encode()).decode())
    for shape in shapes:
        assert not leaked(shape, said), (shape, said)


@pytest.mark.parametrize("mechanism", ["LOGIN", "PLAIN"])
def test_a_password_with_swedish_letters_logs_in_to_a_real_mail_server(
    mechanism: str, campaign: Campaign, store: Store
) -> None:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    password = "Sommarö 100% #1 @kommunen"
    logins: list[tuple[str, bool]] = []
    mails: list[bytes] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            mails.append(envelope.original_content or envelope.content)
            return "250 OK"

    def authenticate(*args: Any) -> AuthResult:
        mechanism_used, data = args[3], args[4]
        ok = isinstance(data, LoginPassword) and data.password.decode("utf-8") == password
        logins.append((mechanism_used, ok))
        return AuthResult(success=ok, handled=False)

    with socketserver.TCPServer(("127.0.0.1", 0), socketserver.BaseRequestHandler) as probe:
        port = probe.server_address[1]
    controller = Controller(
        Handler(),
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticate,
        auth_require_tls=False,
        auth_exclude_mechanism={"LOGIN": ["PLAIN"], "PLAIN": ["LOGIN"]}[mechanism],
    )
    controller.start()
    try:
        config = campaign.config(
            f"""
            [notify]
            email_to = ["kommunikation@sodertalje.example"]
            smtp_host = "127.0.0.1"
            smtp_port = {port}
            smtp_security = "none"
            smtp_user = "kampanj"
            """
        )
        notifier = Notifier.from_config(config, {"CAMPAIGN_SMTP_PASSWORD": password})
        store.raise_alert("failed:eko", "failed", "Facebook refused it.", NOW, channel="facebook")
        report = notifier.deliver_pending(store)
    finally:
        controller.stop()
    assert report.ok and report.delivered == 1, report
    assert logins == [(mechanism, True)] and len(mails) == 1


@pytest.mark.parametrize(
    "said",
    [
        "connection to server failed: sslpassword=ZqCANARYssl9 sslkey=/etc/campaign/key.pem",
        "postgresql+psycopg://db.example/campaign?sslmode=require&sslpassword=ZqCANARYssl9",
    ],
)
def test_a_libpq_ssl_password_is_a_password(said: str) -> None:
    result = redaction.redact(said) or ""
    assert "ZqCANARYssl9" not in result and result.count(REDACTED) == 1, result


class _LookupQuotingASecret(FacebookChannel):
    """A lookup that breaks with an error text quoting a secret just before the cut."""

    secret = ""

    def find_published(self, request: PublishRequest, since: datetime) -> RemotePost | None:
        raise RuntimeError("v" * 285 + " " + self.secret + " and the rest")


def test_a_lookup_that_breaks_quoting_a_secret_near_the_cut_records_nothing_of_it(
    fake_graph: FakeGraphAPI, store: Store, tmp_path: Path
) -> None:
    from tests.test_publish_race import photo_request
    from tests.test_trust_exactly_once import POLICY, facebook, put_in_state

    secret = canary("look")
    register_secret(secret)
    channel = facebook(fake_graph, _LookupQuotingASecret)
    channel.secret = secret
    publication_id = put_in_state(store, photo_request(tmp_path), "unknown")

    result = Reconciler(store, {"facebook": channel}, POLICY).reconcile_one(
        store.get_by_id(publication_id), force=True
    )

    assert result.state is State.UNKNOWN  # still to be looked for
    assert "RuntimeError: vvv" in (store.attempts(publication_id)[-1].message or "")
    assert not leaked(secret, everything_stored(store))
