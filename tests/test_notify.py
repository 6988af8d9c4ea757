"""Alerts to humans, against a real SMTP server (aiosmtpd) and a real HTTP receiver on loopback."""

from __future__ import annotations

import email
import email.policy
import json
import logging
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from scheduler import notify
from scheduler.notify import Notifier
from scheduler.store.store import Store
from tests.conftest import Campaign

T0 = datetime(2021, 9, 15, 7, 5, tzinfo=UTC)  # 09:05 in Stockholm
SMTP_USER = "kampanj@sodertalje.example"
MESSAGE = "Inlägget kunde inte publiceras: Facebook svarade 368 (för många inlägg). Åtgärd: vänta."


# A real SMTP server ------------------------------------------------------------------


@dataclass
class Mail:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    authenticated: bool

    @property
    def parsed(self) -> email.message.EmailMessage:
        return email.message_from_bytes(self.raw, policy=email.policy.default)  # type: ignore[return-value]

    @property
    def subject(self) -> str:
        return str(self.parsed["Subject"])

    @property
    def body(self) -> str:
        return self.parsed.get_content()


@dataclass
class SmtpServer:
    port: int
    password: str
    mails: list[Mail] = field(default_factory=list)
    logins: list[tuple[str, str, bool]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        self.mails.append(
            Mail(envelope.mail_from, list(envelope.rcpt_tos), raw, bool(session.authenticated))
        )
        return "250 OK"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == SMTP_USER
            and auth_data.password.decode() == self.password
        )
        login = auth_data.login.decode() if isinstance(auth_data, LoginPassword) else "?"
        self.logins.append((mechanism, login, ok))
        return AuthResult(success=ok, handled=False)


def free_port() -> int:
    """A loopback port nothing listens on (also: the "server down" port)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def canary() -> str:
    """A fresh secret-looking value per test (the redaction registry is process-wide)."""
    return f"CANARY{uuid.uuid4().hex[:12]}"


@pytest.fixture
def smtp(canary: str) -> Iterator[SmtpServer]:
    server = SmtpServer(port=free_port(), password=f"pw-{canary}")
    controller = Controller(
        server,
        hostname="127.0.0.1",
        port=server.port,
        authenticator=server.authenticate,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield server
    finally:
        controller.stop()


# A real HTTP receiver for webhooks -----------------------------------------------------


@dataclass
class Receiver:
    base: str
    posts: list[tuple[str, Any]] = field(default_factory=list)  # (path, JSON) of every POST
    statuses: list[int] = field(default_factory=list)  # what each POST was answered
    script: deque[int] = field(default_factory=deque)  # statuses to answer, then 200
    delay: float = 0.0

    def url(self, path: str = "/hook") -> str:
        return self.base + path

    def accepted(self) -> list[Any]:
        return [
            body
            for (_, body), status in zip(self.posts, self.statuses, strict=True)
            if status < 300
        ]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(base="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            status = state.script.popleft() if state.script else 200
            state.posts.append((self.path, body))
            state.statuses.append(status)
            if state.delay:
                time.sleep(state.delay)
            try:
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except OSError:
                pass  # the client gave up (timeout test)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


# The store, the clock, the config -------------------------------------------------------


class FakeClock:
    def __init__(self, now: datetime = T0, tick: timedelta = timedelta(0)) -> None:
        self.now = now
        self.tick = tick

    def __call__(self) -> datetime:
        now = self.now
        self.now += self.tick
        return now


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")


def notify_config(
    campaign: Campaign,
    *,
    smtp_port: int | None = None,
    security: str = "none",
    user: str = SMTP_USER,
    fmt: str = "json",
    max_per_hour: int = 20,
    timeout: float = 2,
) -> Any:
    email_part = (
        f"""
        email_to = ["kommunikation@sodertalje.example", "jour@sodertalje.example"]
        email_from = "kampanj@sodertalje.example"
        smtp_host = "127.0.0.1"
        smtp_port = {smtp_port}
        smtp_security = "{security}"
        smtp_user = "{user}"
        """
        if smtp_port
        else ""
    )
    return campaign.config(
        f"""
        [notify]
        {email_part}
        smtp_password_env = "TEST_SMTP_PASSWORD"
        webhook_url_env = "TEST_WEBHOOK"
        webhook_format = "{fmt}"
        max_per_hour = {max_per_hour}
        timeout_seconds = {timeout}
        """
    )


def make(
    campaign: Campaign,
    *,
    smtp: SmtpServer | None = None,
    webhook: str | None = None,
    clock: FakeClock | None = None,
    password: str | None = None,
    **options: Any,
) -> Notifier:
    environ = {}
    if smtp is not None:
        environ["TEST_SMTP_PASSWORD"] = smtp.password if password is None else password
    if webhook is not None:
        environ["TEST_WEBHOOK"] = webhook
    config = notify_config(campaign, smtp_port=smtp.port if smtp else None, **options)
    return Notifier.from_config(config, environ, clock=clock or FakeClock())


def alert(store: Store, n: int = 1, kind: str = "failed", message: str = MESSAGE) -> str:
    post_id = f"2021-09-{n:02d}-demokratidagen"
    store.raise_alert(
        f"{kind}:{post_id}:facebook", kind, message, T0, channel="facebook", post_id=post_id
    )
    return post_id


def undelivered(store: Store) -> list[str]:
    return [a.post_id or a.kind for a in store.alerts(undelivered_only=True)]


# Delivery ------------------------------------------------------------------------------


def test_both_targets_get_each_alert_and_it_is_marked_delivered(
    campaign: Campaign, store: Store, smtp: SmtpServer, receiver: Receiver
) -> None:
    notifier = make(campaign, smtp=smtp, webhook=receiver.url())
    first = alert(store, 15)
    store.raise_alert("paused:instagram", "paused", "Logga in igen.", T0, channel="instagram")

    report = notifier.deliver_pending(store)

    assert (report.delivered, report.pending, report.failures) == (2, 0, ())
    assert report.messages == 4  # two alerts, each one message to each target
    assert undelivered(store) == []
    assert all(a.delivered_at == T0 for a in store.alerts())

    assert [m.subject for m in smtp.mails] == [
        f"[campaign] failed {first} on facebook",
        "[campaign] paused on instagram",
    ]
    mail = smtp.mails[0]
    assert mail.rcpt_tos == ["kommunikation@sodertalje.example", "jour@sodertalje.example"]
    assert mail.mail_from == "kampanj@sodertalje.example"
    assert mail.parsed["To"] == "kommunikation@sodertalje.example, jour@sodertalje.example"
    assert mail.parsed.get_content_type() == "text/plain"
    assert mail.parsed.get_content_charset() == "utf-8"
    assert MESSAGE in mail.body  # å ä ö intact
    assert "2021-09-15 09:05 CEST" in mail.body  # the campaign's zone
    assert "Test campaign" in mail.body
    assert smtp.logins == [("PLAIN", SMTP_USER, True), ("PLAIN", SMTP_USER, True)]
    assert all(m.authenticated for m in smtp.mails)

    assert [path for path, _ in receiver.posts] == ["/hook", "/hook"]
    assert receiver.posts[0][1] == {
        "alerts": [
            {
                "kind": "failed",
                "channel": "facebook",
                "post_id": first,
                "message": MESSAGE,
                "created_at": "2021-09-15T07:05:00+00:00",
            }
        ]
    }

    again = notifier.deliver_pending(store)
    assert (again.delivered, again.messages, len(smtp.mails), len(receiver.posts)) == (0, 0, 2, 2)


def test_without_smtp_user_there_is_no_login(
    campaign: Campaign, store: Store, smtp: SmtpServer
) -> None:
    notifier = make(campaign, smtp=smtp, user="")
    alert(store)
    assert notifier.deliver_pending(store).delivered == 1
    assert smtp.logins == []
    assert [m.authenticated for m in smtp.mails] == [False]
    assert smtp.mails[0].mail_from == "kampanj@sodertalje.example"


def test_a_failing_webhook_is_retried_and_the_target_that_accepted_gets_no_duplicate(
    campaign: Campaign,
    store: Store,
    smtp: SmtpServer,
    receiver: Receiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    notifier = make(campaign, smtp=smtp, webhook=receiver.url())
    receiver.script.extend([500])
    post_id = alert(store)

    with caplog.at_level(logging.WARNING, logger="campaign.notify"):
        first = notifier.deliver_pending(store)

    assert first.delivered == 0 and first.pending == 1
    assert len(first.failures) == 1 and "HTTP 500" in first.failures[0]
    assert undelivered(store) == [post_id]
    assert len(smtp.mails) == 1  # e-mail accepted it
    assert any(
        "HTTP 500" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records
    )

    second = notifier.deliver_pending(store)

    assert (second.delivered, second.pending, second.failures) == (1, 0, ())
    assert undelivered(store) == []
    assert len(smtp.mails) == 1  # not sent again to the target that had it
    assert len(receiver.accepted()) == 1
    assert receiver.accepted()[0]["alerts"][0]["post_id"] == post_id

    assert notifier.deliver_pending(store).messages == 0
    assert (len(smtp.mails), len(receiver.posts)) == (1, 2)


def test_after_a_restart_an_undelivered_alert_goes_to_every_target_again(
    campaign: Campaign, store: Store, smtp: SmtpServer, receiver: Receiver
) -> None:
    receiver.script.extend([500])
    alert(store)
    make(campaign, smtp=smtp, webhook=receiver.url()).deliver_pending(store)
    assert len(smtp.mails) == 1

    restarted = make(campaign, smtp=smtp, webhook=receiver.url())
    assert restarted.deliver_pending(store).delivered == 1
    assert len(smtp.mails) == 2  # at least once: the in-memory record died with the process
    assert len(receiver.accepted()) == 1


def test_an_alert_every_target_accepted_is_marked_even_if_marking_failed_once(
    campaign: Campaign, store: Store, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    notifier = make(campaign, webhook=receiver.url())
    alert(store)

    def locked(alert_id: int, now: datetime) -> None:
        raise RuntimeError("database is locked")

    with monkeypatch.context() as patch:
        patch.setattr(store, "mark_alert_delivered", locked)
        with pytest.raises(RuntimeError):
            notifier.deliver_pending(store)

    report = notifier.deliver_pending(store)
    assert (report.delivered, report.messages) == (1, 0)
    assert undelivered(store) == [] and len(receiver.posts) == 1


def test_mail_server_down_raises_nothing_and_keeps_the_alert(
    campaign: Campaign, store: Store, canary: str, caplog: pytest.LogCaptureFixture
) -> None:
    closed = SmtpServer(port=free_port(), password=f"pw-{canary}")
    notifier = make(campaign, smtp=closed)
    post_id = alert(store)

    with caplog.at_level(logging.INFO, logger="campaign.notify"):
        report = notifier.deliver_pending(store)
        again = notifier.deliver_pending(store)

    assert report.delivered == 0 and report.pending == 1
    assert "ConnectionRefusedError" in report.failures[0]
    assert again.pending == 1
    assert undelivered(store) == [post_id]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1  # the same failure again is not repeated at WARNING
    assert "could not be sent" in warnings[0].getMessage()


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_the_server_cannot_do_is_a_failure_never_a_plaintext_fallback(
    campaign: Campaign, store: Store, smtp: SmtpServer, security: str
) -> None:
    notifier = make(campaign, smtp=smtp, security=security)
    alert(store)
    report = notifier.deliver_pending(store)
    assert report.delivered == 0 and len(report.failures) == 1
    assert smtp.mails == [] and smtp.logins == []
    assert len(undelivered(store)) == 1


def test_a_slow_webhook_times_out_and_the_alert_waits(
    campaign: Campaign, store: Store, receiver: Receiver
) -> None:
    receiver.delay = 1.5
    notifier = make(campaign, webhook=receiver.url(), timeout=0.3)
    alert(store)

    report = notifier.deliver_pending(store)

    # Without the timeout the webhook would answer (late) and the alert be delivered.
    assert "Timeout" in report.failures[0]
    assert report.pending == 1 and len(undelivered(store)) == 1

    receiver.delay = 0
    assert notifier.deliver_pending(store).delivered == 1


# Rate limit ----------------------------------------------------------------------------


def test_over_the_hourly_budget_alerts_go_out_as_one_digest_and_none_is_lost(
    campaign: Campaign, store: Store, smtp: SmtpServer
) -> None:
    clock = FakeClock()
    notifier = make(campaign, smtp=smtp, max_per_hour=3, clock=clock)
    for n in (1, 2):
        alert(store, n)
    assert notifier.deliver_pending(store).messages == 2  # within budget: one each

    clock.now += timedelta(minutes=10)
    burst = [alert(store, n) for n in range(3, 8)]
    report = notifier.deliver_pending(store)

    assert (report.messages, report.delivered, report.pending) == (1, 5, 0)
    digest = smtp.mails[-1]
    assert digest.subject.startswith("[campaign] 5 alerts: failed 2021-09-03-demokratidagen on")
    assert all(post_id in digest.body for post_id in burst)
    assert digest.body.count(MESSAGE) == 5

    clock.now += timedelta(minutes=10)
    late = alert(store, 8)
    waiting = notifier.deliver_pending(store)
    assert (waiting.messages, waiting.delivered, waiting.pending) == (0, 0, 1)
    assert undelivered(store) == [late]

    clock.now = T0 + timedelta(minutes=61)  # the first two messages leave the rolling hour
    assert notifier.deliver_pending(store).delivered == 1
    assert len(smtp.mails) == 4
    assert smtp.mails[-1].subject == f"[campaign] failed {late} on facebook"
    assert undelivered(store) == []


def test_digests_are_capped_and_the_rest_waits_for_budget(
    campaign: Campaign, store: Store, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(notify, "DIGEST_MAX_ALERTS", 2)
    clock = FakeClock()
    notifier = make(campaign, webhook=receiver.url(), max_per_hour=2, clock=clock)
    for n in range(1, 6):
        alert(store, n)

    report = notifier.deliver_pending(store)
    assert (report.messages, report.delivered, report.pending) == (2, 4, 1)
    assert [len(body["alerts"]) for _, body in receiver.posts] == [2, 2]

    clock.now += timedelta(hours=1, seconds=1)
    assert notifier.deliver_pending(store).delivered == 1
    sent = [a["post_id"] for _, body in receiver.posts for a in body["alerts"]]
    assert sorted(sent) == [f"2021-09-{n:02d}-demokratidagen" for n in range(1, 6)]


def test_a_restarted_notifier_counts_what_was_sent_this_hour_from_the_store(
    campaign: Campaign, store: Store, receiver: Receiver
) -> None:
    clock = FakeClock(tick=timedelta(seconds=1))
    for n in (1, 2):
        alert(store, n)
    make(campaign, webhook=receiver.url(), max_per_hour=2, clock=clock).deliver_pending(store)
    assert len(receiver.posts) == 2

    alert(store, 3)
    restarted = make(campaign, webhook=receiver.url(), max_per_hour=2, clock=clock)
    assert restarted.deliver_pending(store).pending == 1  # the hour's two messages are spent
    assert len(receiver.posts) == 2

    clock.now += timedelta(hours=1)
    assert restarted.deliver_pending(store).delivered == 1


# Secrets -------------------------------------------------------------------------------


class RawLog(logging.Handler):
    """Records each message as its logger emitted it, before any root handler's filter."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append((record.name, record.getMessage()))


@pytest.fixture
def raw_log(caplog: pytest.LogCaptureFixture) -> Iterator[RawLog]:
    handler = RawLog()
    loggers = [logging.getLogger(name) for name in ("campaign.notify", "urllib3")]
    for logger in loggers:
        caplog.set_level(logging.DEBUG, logger=logger.name)
        logger.addHandler(handler)
    try:
        yield handler
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


def test_secrets_never_reach_logs_messages_or_reports(
    campaign: Campaign,
    store: Store,
    smtp: SmtpServer,
    receiver: Receiver,
    canary: str,
    raw_log: RawLog,
) -> None:
    password = smtp.password
    url = receiver.url(f"/hooks/T01/B02/url-{canary}")
    dead_url = f"http://127.0.0.1:{free_port()}/hooks/T01/B02/dead-{canary}"
    # Raised before the notifier registered the secrets, so the store kept them verbatim.
    store.raise_alert("x", "failed", f"login {password} at {url}", T0, channel="facebook")
    receiver.script.extend([500])

    notifier = make(campaign, smtp=smtp, webhook=url)
    wrong = make(campaign, smtp=smtp, password=f"pw-wrong-{canary}")  # rejected by the server
    dead = make(campaign, webhook=dead_url)  # connection refused: requests quotes the path
    reports = [notifier.deliver_pending(store), notifier.deliver_pending(store)]
    store.raise_alert("y", "failed", f"again {password}", T0, channel="instagram")
    reports += [wrong.deliver_pending(store), dead.deliver_pending(store)]

    assert reports[1].delivered == 1 and len(receiver.accepted()) == 1
    assert reports[2].failures and reports[3].failures
    texts = [
        *(failure for report in reports for failure in report.failures),
        *(m.raw.decode("utf-8", "replace") + m.body for m in smtp.mails),
        *(json.dumps(body, ensure_ascii=False) for _, body in receiver.posts),
        *notifier.targets,
        *dead.targets,
        notifier.summary,
    ]
    ours = [message for name, message in raw_log.lines if name.startswith("campaign")]
    library = [message for name, message in raw_log.lines if name.startswith("urllib3")]
    assert any("could not be sent" in message for message in ours)
    # urllib3 logs the request path without its host: the notifier put a filter on the
    # HTTP library's loggers that removes registered webhook paths there (and only there:
    # the path alone is no secret elsewhere, where it may be part of a caption's link).
    assert any("POST [redacted]" in message for message in library)
    texts += ours + library
    assert [t for t in texts if canary in t] == []
    assert "[redacted]" in smtp.mails[0].body
    assert receiver.posts[0][1]["alerts"][0]["message"] == "login [redacted] at [redacted]"


# No target -----------------------------------------------------------------------------


def test_without_a_target_each_alert_is_logged_once_at_warning_and_marked_delivered(
    campaign: Campaign, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    notifier = make(campaign)
    assert not notifier.enabled and notifier.targets == ()
    assert "only logged" in notifier.summary
    post_id = alert(store)

    with caplog.at_level(logging.WARNING, logger="campaign.notify"):
        report = notifier.deliver_pending(store)
        notifier.deliver_pending(store)

    assert report.delivered == 1 and undelivered(store) == []
    logged = [r for r in caplog.records if r.name == "campaign.notify"]
    assert len(logged) == 1 and logged[0].levelno == logging.WARNING
    assert f"failed {post_id} on facebook" in logged[0].getMessage()
    assert MESSAGE in logged[0].getMessage()


def test_half_configured_email_keeps_alerts_and_says_why(campaign: Campaign, store: Store) -> None:
    config = campaign.config(
        """
        [notify]
        email_to = ["a@b.se"]
        """
    )
    notifier = Notifier.from_config(config, {}, clock=FakeClock())
    assert notifier.enabled
    assert notifier.problems == ("[notify] email_to is set but smtp_host is empty",)
    alert(store)
    report = notifier.deliver_pending(store)
    assert report.pending == 1 and "smtp_host is empty" in report.failures[0]


def test_targets_are_described_without_secrets(campaign: Campaign, smtp: SmtpServer) -> None:
    notifier = make(
        campaign, smtp=smtp, webhook="https://example.invalid/hook/secret-token", fmt="teams"
    )
    assert notifier.enabled
    assert notifier.targets == (
        "e-mail to kommunikation@sodertalje.example, jour@sodertalje.example "
        f"via 127.0.0.1:{smtp.port} (none)",
        "webhook (teams) from $TEST_WEBHOOK",
    )
    assert notifier.problems == (
        "[notify] smtp_security = none sends the SMTP password unencrypted",
    )


# Payload shapes ------------------------------------------------------------------------


def test_slack_payload_is_escaped_text(
    campaign: Campaign, store: Store, receiver: Receiver
) -> None:
    alert(store, 15, message="Svar <html> & mer: åäö")
    make(campaign, webhook=receiver.url(), fmt="slack").deliver_pending(store)
    [(_, body)] = receiver.posts
    assert list(body) == ["text"]
    assert body["text"].startswith("*[campaign] failed 2021-09-15-demokratidagen on facebook*")
    assert "Svar &lt;html&gt; &amp; mer: åäö" in body["text"]


def test_teams_payload_is_an_adaptive_card(
    campaign: Campaign, store: Store, receiver: Receiver
) -> None:
    alert(store, 15)
    make(campaign, webhook=receiver.url(), fmt="teams").deliver_pending(store)
    [(_, body)] = receiver.posts
    assert body["type"] == "message"
    [attachment] = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    texts = [block["text"] for block in card["body"]]
    assert all(block["type"] == "TextBlock" for block in card["body"])
    assert texts[0] == "[campaign] failed 2021-09-15-demokratidagen on facebook"
    assert MESSAGE in texts


def test_json_digest_lists_every_alert(
    campaign: Campaign, store: Store, receiver: Receiver
) -> None:
    notifier = make(campaign, webhook=receiver.url(), max_per_hour=1)
    ids = [alert(store, n) for n in (1, 2, 3)]
    assert notifier.deliver_pending(store).messages == 1
    [(_, body)] = receiver.posts
    assert list(body) == ["alerts"]
    assert [a["post_id"] for a in body["alerts"]] == ids
    assert all(
        set(a) == {"kind", "channel", "post_id", "message", "created_at"} for a in body["alerts"]
    )
