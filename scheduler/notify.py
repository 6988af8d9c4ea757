"""Tell a human: alerts from the store go out by e-mail and/or a chat webhook.

The rules, in full:

- **Nothing is dropped.** An alert is marked delivered only when every configured target
  accepted a message that contains it. A target that fails (SMTP error, refused
  connection, timeout, a webhook answer that is not 2xx) is logged, redacted; the alert
  stays undelivered and the next call tries again. Delivery failures never raise.
- **One target accepts, the other fails.** Which target accepted which alert is kept in
  memory for the life of this :class:`Notifier`, so the retry goes only to the target that
  failed: no duplicate at the one that accepted. After a restart that memory is gone and
  an alert not yet marked delivered goes to every target again (at least once, never lost).
  A webhook that timed out may have posted the message all the same: a duplicate is
  possible there too.
- **Rate limit.** Each target gets at most ``max_per_hour`` messages in any rolling hour.
  When more alerts wait than the hour's remaining budget, they go out together as digests
  ("5 alerts: …", at most :data:`DIGEST_MAX_ALERTS` each) instead of one message each;
  with no budget left they wait for a later call. After a restart, each distinct
  ``delivered_at`` in the store within the last hour counts as one message already sent.
- **No target configured.** Each alert is logged once at WARNING (journald keeps it) and
  marked delivered.
- **Secrets.** The SMTP password and the whole webhook URL are registered with
  :mod:`scheduler.redaction`; every text sent and every line logged is passed through
  ``redact()``. The webhook's path alone is never a secret (``/kampanj`` must not vanish
  from a caption's link); where an HTTP library quotes it without its host (a
  ``requests`` error, urllib3's request line) it is removed there, and only there.
- **Where secrets may go.** A webhook URL must be ``https`` (``http`` only to a loopback
  address, for tests); the config refuses an SMTP password over ``smtp_security = none``
  to a host that is not loopback.
- **Teams** gets an Adaptive Card in a ``"message"`` envelope: the format of Teams
  Workflows webhooks ("Post to a channel when a webhook request is received"), which
  replace the Office 365 connectors that Microsoft retires, and which the legacy incoming
  webhooks accept too. Slack gets ``{"text": ...}``; ``json`` gets
  ``{"alerts": [{kind, channel, post_id, message, created_at}, ...]}``, with ``account``
  after ``channel`` for an alert about an account of [accounts.*].
"""

from __future__ import annotations

import base64
import hmac
import logging
import os
import re
import smtplib
import ssl
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import requests

from campaign.config import Config, NotifySection
from campaign.setting_checks import is_loopback_host, secure_url_problem
from scheduler.clock import Clock, system_clock
from scheduler.redaction import (
    excerpt,
    install_http_library_redaction,
    redact,
    redact_http_text,
    register_secret,
    register_secret_url,
)
from scheduler.store.models import Alert
from scheduler.store.store import Store

log = logging.getLogger("campaign.notify")

HOUR = timedelta(hours=1)
#: The most alerts one digest message carries; more make several digests.
DIGEST_MAX_ALERTS = 25
SUBJECT_PREFIX = "[campaign]"
_SUBJECT_LIMIT = 150
#: Chat services cap a message's size (Teams about 28 KB): each alert's text is cut there.
_CHAT_TEXT_LIMIT = 800
_ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"


@dataclass(frozen=True)
class DeliveryReport:
    """What one :meth:`Notifier.deliver_pending` call did."""

    delivered: int = 0  # alerts marked delivered by this call
    pending: int = 0  # alerts still waiting: a target failed, or the hour's budget is spent
    messages: int = 0  # messages a target accepted (a digest counts once)
    failures: tuple[str, ...] = ()  # redacted, one per failing target

    @property
    def ok(self) -> bool:
        return not self.failures


@dataclass(frozen=True)
class _Item:
    """One alert's fields, redacted, ready to be written into a message."""

    id: int
    kind: str
    channel: str | None
    post_id: str | None
    message: str
    created_at: datetime
    #: The account it is about (None: the platform's default account, or none).
    account: str | None = None

    @classmethod
    def of(cls, alert: Alert, zone: ZoneInfo | None = None) -> _Item:
        """The alert's fields, redacted; its UTC times in ``zone`` (see :func:`local_times`)."""
        assert alert.id is not None
        account = getattr(alert, "account", None)
        return cls(
            id=alert.id,
            kind=_clean(alert.kind),
            channel=_clean(alert.channel) if alert.channel else None,
            post_id=_clean(alert.post_id) if alert.post_id else None,
            message=local_times((redact(alert.message) or "").strip(), zone),
            created_at=alert.created_at,
            account=_clean(account) if account and account != alert.channel else None,
        )

    @property
    def headline(self) -> str:
        """``failed 2021-09-15-demokratidagen on facebook``; an account of [accounts.*]
        by its name: ``… on bibliotek-fb``."""
        parts = [self.kind]
        if self.post_id:
            parts.append(self.post_id)
        if self.account or self.channel:
            parts.append(f"on {self.account or self.channel}")
        return " ".join(parts)


@dataclass(frozen=True)
class Message:
    """One notification: a single alert or a digest of several."""

    items: tuple[_Item, ...]
    title: str
    body: str
    campaign: str
    zone: ZoneInfo

    @property
    def subject(self) -> str:
        return f"{SUBJECT_PREFIX} {self.title}"

    def when(self, item: _Item) -> str:
        return _local(item.created_at, self.zone)


def _local(moment: datetime, zone: ZoneInfo) -> str:
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M %Z}"


#: A time in UTC as the scheduler writes it into a message: ``2030-09-15 07:00 UTC`` or
#: ``2030-09-15T07:00:00+00:00``.
_UTC_TIME = re.compile(
    r"\b(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?(?: UTC\b|\+00:00|Z\b)"
)


def local_times(text: str, zone: ZoneInfo | None) -> str:
    """``text`` with each UTC time the scheduler wrote in it shown in ``zone`` instead
    (people read local times): ``2030-09-15 07:00 UTC`` → ``2030-09-15 09:00 CEST``."""
    if zone is None:
        return text

    def local(found: re.Match[str]) -> str:
        try:
            moment = datetime.fromisoformat(f"{found[1]}T{found[2]}+00:00")
        except ValueError:
            return found[0]
        return _local(moment, zone)

    return _UTC_TIME.sub(local, text)


def _clean(text: str | None) -> str:
    """Redacted, on one line (a header or a title must not break)."""
    return re.sub(r"\s+", " ", redact(text) or "").strip()


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def render(items: Sequence[_Item], campaign: str, zone: ZoneInfo) -> Message:
    """The title and plain-text body for ``items`` (one alert, or a digest)."""
    if len(items) == 1:
        title = items[0].headline
    else:
        headlines = list(dict.fromkeys(item.headline for item in items))
        title = f"{len(items)} alerts: " + ", ".join(headlines)
    title = _cut(_clean(title), _SUBJECT_LIMIT)
    name = _clean(campaign)
    count = "1 alert" if len(items) == 1 else f"{len(items)} alerts"
    lines = [f"{name}: {count}.", ""]
    for item in items:
        lines.append(f"{item.headline} — {_local(item.created_at, zone)}")
        lines.extend(f"  {line}" for line in item.message.splitlines() or [""])
        lines.append("")
    lines.append("-- ")
    lines.append("The campaign scheduler. `campaign status` shows what needs a human.")
    body = redact("\n".join(lines)) or ""
    return Message(tuple(items), title, body, name, zone)


# Targets ---------------------------------------------------------------------------


class DeliveryError(Exception):
    """A target did not accept a message; the text is already redacted."""


class Target(Protocol):
    """Somewhere a message goes: ``send`` returns when it was accepted, else raises."""

    name: str
    description: str

    def send(self, message: Message) -> None: ...


class EmailTarget:
    """One plain-text UTF-8 e-mail to all ``email_to`` over SMTP, SMTP_SSL or STARTTLS."""

    name = "email"

    def __init__(self, settings: NotifySection, password: str) -> None:
        self.settings = settings
        self.password = password
        self.recipients = tuple(settings.email_to)
        self.sender = settings.email_from or (
            settings.smtp_user if "@" in settings.smtp_user else (self.recipients or ("",))[0]
        )
        where = f"{settings.smtp_host}:{settings.smtp_port}" if settings.smtp_host else "nowhere"
        to = ", ".join(self.recipients) or "nobody"
        self.description = f"e-mail to {to} via {where} ({settings.smtp_security})"
        self.problem: str | None = None
        clear_text = settings.smtp_security == "none" and not is_loopback_host(settings.smtp_host)
        if not settings.smtp_host:
            self.problem = "[notify] email_to is set but smtp_host is empty"
        elif not self.recipients:
            self.problem = "[notify] smtp_host is set but email_to is empty"
        elif settings.smtp_user and not password:
            self.problem = (
                f"[notify] smtp_user is set but the environment variable "
                f"{settings.smtp_password_env} is empty"
            )
        elif settings.smtp_user and clear_text:
            self.problem = (
                "[notify] smtp_security = none would send the SMTP password unencrypted to "
                f"{settings.smtp_host}: use starttls or ssl"
            )

    def send(self, message: Message) -> None:
        if self.problem:
            raise DeliveryError(self.problem)
        settings = self.settings
        mail = EmailMessage()
        mail["Subject"] = message.subject
        mail["From"] = self.sender
        mail["To"] = ", ".join(self.recipients)
        mail["Date"] = formatdate(localtime=False, usegmt=True)
        mail["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or "localhost")
        mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies
        mail.set_content(message.body, subtype="plain", charset="utf-8")
        timeout = settings.timeout_seconds
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if settings.smtp_security == "ssl":
            smtp = _Utf8SMTPSSL(
                settings.smtp_host, settings.smtp_port, timeout=timeout, context=context
            )
        else:
            smtp = _Utf8SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
        with smtp:
            if settings.smtp_security == "starttls":
                smtp.starttls(context=context)
            if settings.smtp_user:
                smtp.login(settings.smtp_user, self.password)
            refused = smtp.send_message(mail)
        if refused:
            log.warning("the mail server refused some recipients: %s", ", ".join(refused))


class _Utf8Text(str):
    """Text that smtplib's ``.encode("ascii")`` turns into UTF-8 bytes."""

    def encode(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        return str.encode(self, "utf-8", errors)


class _Utf8SMTP(smtplib.SMTP):
    """smtplib sends its AUTH answers as ASCII, so a user name or password with å, ä or ö
    could never log in (an ``UnicodeEncodeError``, every time). PLAIN (RFC 4616) and LOGIN
    carry UTF-8; CRAM-MD5 hashes the password's UTF-8 bytes."""

    def auth(self, mechanism: str, authobject: Any, *, initial_response_ok: bool = True) -> Any:
        def utf8(challenge: bytes | None = None) -> str | None:
            answer = authobject() if challenge is None else authobject(challenge)
            return None if answer is None else _Utf8Text(answer)

        return super().auth(mechanism, utf8, initial_response_ok=initial_response_ok)

    def auth_cram_md5(self, challenge: bytes | None = None) -> str | None:
        if challenge is None:
            return None
        digest = hmac.HMAC(self.password.encode("utf-8"), challenge, "md5").hexdigest()
        return f"{self.user} {digest}"


class _Utf8SMTPSSL(_Utf8SMTP, smtplib.SMTP_SSL):
    """SMTP over TLS with UTF-8 logins."""


class WebhookTarget:
    """A JSON POST to a webhook URL (a secret), shaped for Slack, Teams or any receiver."""

    name = "webhook"

    def __init__(self, url: str, fmt: str, timeout: float, variable: str) -> None:
        self.url = url
        self.format = fmt
        self.timeout = timeout
        self.description = f"webhook ({fmt}) from ${variable}"
        self.problem: str | None = None
        if problem := secure_url_problem(url):
            self.problem = f"the webhook URL in ${variable} is not used: {problem}"

    def send(self, message: Message) -> None:
        if self.problem:
            raise DeliveryError(self.problem)
        payload = webhook_payload(message, self.format)
        try:
            response = requests.post(self.url, json=payload, timeout=self.timeout)
        except requests.RequestException as exc:
            raise DeliveryError(_describe(exc, http=True)) from None
        with response:
            if not 200 <= response.status_code < 300:
                # The receiver's answer may quote the webhook's path ("Cannot POST /…").
                said = _clean(excerpt(response.text, 200, http=True))
                raise DeliveryError(f"HTTP {response.status_code}: {said}".rstrip(": "))


def webhook_payload(message: Message, fmt: str) -> dict[str, Any]:
    """The JSON body for a webhook of format ``slack``, ``teams`` or ``json``."""
    if fmt == "slack":
        return {"text": redact(_slack_text(message))}
    if fmt == "teams":
        return _teams_card(message)
    return {"alerts": [_json_alert(item) for item in message.items]}


def _json_alert(item: _Item) -> dict[str, Any]:
    """One alert for a ``json`` webhook; ``account`` only for an account of [accounts.*]."""
    fields: dict[str, Any] = {"kind": item.kind, "channel": item.channel}
    if item.account:
        fields["account"] = item.account
    fields |= {
        "post_id": item.post_id,
        "message": item.message,
        "created_at": item.created_at.isoformat(),
    }
    return fields


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_text(message: Message) -> str:
    lines = [f"*{_slack_escape(message.subject)}*", f"_{_slack_escape(message.campaign)}_"]
    for item in message.items:
        lines.append("")
        lines.append(f"*{_slack_escape(item.headline)}* · {message.when(item)}")
        lines.append(_slack_escape(_cut(item.message, _CHAT_TEXT_LIMIT)))
    return "\n".join(lines)


def _teams_card(message: Message) -> dict[str, Any]:
    def block(text: str, **style: Any) -> dict[str, Any]:
        return {"type": "TextBlock", "text": redact(text), "wrap": True, **style}

    body = [
        block(message.subject, size="Medium", weight="Bolder"),
        block(message.campaign, isSubtle=True, spacing="None"),
    ]
    for item in message.items:
        body.append(block(f"{item.headline} · {message.when(item)}", weight="Bolder"))
        body.append(block(_cut(item.message, _CHAT_TEXT_LIMIT), spacing="Small"))
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "msteams": {"width": "Full"},
        "body": body,
    }
    return {
        "type": "message",
        "attachments": [{"contentType": _ADAPTIVE_CARD, "contentUrl": None, "content": card}],
    }


def _describe(exc: BaseException, *, http: bool = False) -> str:
    """An exception in one redacted line (no traceback: library errors quote URLs);
    ``http``: an HTTP library's error, which quotes the webhook's path without its host."""
    if isinstance(exc, DeliveryError):
        return _clean(str(exc))
    text = _clean(redact_http_text(str(exc)) if http else str(exc))
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _register_smtp_password(user: str, password: str) -> None:
    """The password, and the base64 forms AUTH LOGIN and AUTH PLAIN send it in: a mail
    server that refuses a login may quote the line it got back in its error."""
    register_secret(password)
    if not password:
        return
    for sent in (password, f"\0{user}\0{password}"):
        encoded = base64.b64encode(sent.encode("utf-8")).decode("ascii")
        register_secret(encoded)
        register_secret(encoded.rstrip("="))


def _register_url(url: str) -> None:
    """The webhook URL is a secret as a whole (its path only in HTTP libraries' lines)."""
    register_secret_url(url)
    install_http_library_redaction()


# The notifier -----------------------------------------------------------------------


class Notifier:
    """Sends the store's undelivered alerts to the configured targets (see the module doc)."""

    def __init__(
        self,
        targets: Sequence[Target],
        *,
        max_per_hour: int,
        campaign: str = "Campaign",
        zone: ZoneInfo | None = None,
        clock: Clock = system_clock,
        problems: Sequence[str] = (),
    ) -> None:
        self._targets = tuple(targets)
        self.max_per_hour = max_per_hour
        self.campaign = campaign
        self.zone = zone or ZoneInfo("UTC")
        self.clock = clock
        self.problems = tuple(problems)
        self._lock = threading.Lock()
        self._sent: dict[str, deque[datetime]] = {t.name: deque() for t in self._targets}
        self._seeded = False
        self._accepted: dict[int, set[str]] = {}  # alert id → targets that accepted it
        self._last_failure: dict[str, str] = {}

    @classmethod
    def from_config(
        cls,
        config: Config,
        environ: Mapping[str, str] | None = None,
        clock: Clock = system_clock,
    ) -> Notifier:
        """The targets [notify] configures; secrets come from ``environ`` (default: os.environ)."""
        env = os.environ if environ is None else environ
        settings = config.notify
        targets: list[Target] = []
        problems: list[str] = []
        if settings.email_to or settings.smtp_host:
            password = env.get(settings.smtp_password_env, "") if settings.smtp_user else ""
            _register_smtp_password(settings.smtp_user, password)
            email = EmailTarget(settings, password)
            targets.append(email)
            if email.problem:
                problems.append(email.problem)
            elif settings.smtp_user and settings.smtp_security == "none":
                problems.append("[notify] smtp_security = none sends the SMTP password unencrypted")
        url = env.get(settings.webhook_url_env, "").strip()
        if url:
            _register_url(url)
            webhook = WebhookTarget(
                url, settings.webhook_format, settings.timeout_seconds, settings.webhook_url_env
            )
            targets.append(webhook)
            if webhook.problem:
                problems.append(webhook.problem)
        return cls(
            targets,
            max_per_hour=settings.max_per_hour,
            campaign=config.campaign.name,
            zone=config.zone,
            clock=clock,
            problems=problems,
        )

    @property
    def enabled(self) -> bool:
        """Whether any target is configured (else alerts are only logged)."""
        return bool(self._targets)

    @property
    def targets(self) -> tuple[str, ...]:
        """Where alerts go, in words for `campaign status` (never a URL or a password)."""
        return tuple(t.description for t in self._targets)

    @property
    def summary(self) -> str:
        """The targets on one line, or that there is none."""
        return "; ".join(self.targets) or "no target: alerts are only logged (WARNING)"

    def deliver_pending(self, store: Store) -> DeliveryReport:
        """Send the store's undelivered alerts; mark each delivered once every target has it."""
        with self._lock:
            pending = store.alerts(undelivered_only=True)
            if not pending:
                return DeliveryReport()
            if not self._targets:
                return self._log_only(store, pending)
            return self._deliver(store, pending)

    def _log_only(self, store: Store, pending: Sequence[Alert]) -> DeliveryReport:
        now = self.clock()
        for alert in pending:
            item = _Item.of(alert, self.zone)
            log.warning(
                "alert (no [notify] target configured): %s: %s", item.headline, item.message
            )
            assert alert.id is not None
            store.mark_alert_delivered(alert.id, now)
        return DeliveryReport(delivered=len(pending))

    def _deliver(self, store: Store, pending: Sequence[Alert]) -> DeliveryReport:
        now = self.clock()
        if not self._seeded:
            self._seed(store, now)
        items = [_Item.of(alert, self.zone) for alert in pending]
        waiting = {item.id for item in items}
        self._accepted = {k: v for k, v in self._accepted.items() if k in waiting}
        everyone = {t.name for t in self._targets}
        delivered = messages = 0
        failures: list[str] = []
        for item in list(items):  # every target had it, but marking it failed last time
            if self._accepted.get(item.id, set()) >= everyone:
                store.mark_alert_delivered(item.id, now)
                del self._accepted[item.id]
                items.remove(item)
                delivered += 1
        for target in self._targets:
            todo = [i for i in items if target.name not in self._accepted.get(i.id, set())]
            for group in self._plan(target.name, todo, now):
                message = render(group, self.campaign, self.zone)
                try:
                    target.send(message)
                except Exception as exc:  # a notifier must never take the daemon down
                    failures.append(self._failed(target, exc, len(todo)))
                    break
                sent_at = self.clock()
                self._sent[target.name].append(sent_at)
                messages += 1
                if self._last_failure.pop(target.name, None) is not None:
                    log.warning("alerts reach %s again", target.description)
                log.info("alert message to %s: %s", target.name, message.subject)
                for item in group:
                    accepted = self._accepted.setdefault(item.id, set())
                    accepted.add(target.name)
                    if accepted >= everyone:
                        store.mark_alert_delivered(item.id, sent_at)
                        del self._accepted[item.id]
                        delivered += 1
        return DeliveryReport(
            delivered=delivered,
            pending=len(pending) - delivered,
            messages=messages,
            failures=tuple(failures),
        )

    def _plan(self, target: str, todo: Sequence[_Item], now: datetime) -> list[list[_Item]]:
        """One message per alert within the hour's budget, else digests; the rest wait."""
        sent = self._sent[target]
        while sent and sent[0] <= now - HOUR:
            sent.popleft()
        budget = self.max_per_hour - len(sent)
        if budget <= 0 or not todo:
            if todo:
                log.info(
                    "%d alert(s) wait: %s had its %d messages this hour",
                    len(todo),
                    target,
                    self.max_per_hour,
                )
            return []
        if len(todo) <= budget:
            return [[item] for item in todo]
        chunks = [
            list(todo[i : i + DIGEST_MAX_ALERTS]) for i in range(0, len(todo), DIGEST_MAX_ALERTS)
        ]
        return chunks[:budget]

    def _seed(self, store: Store, now: datetime) -> None:
        """Count what earlier processes sent this hour: one message per distinct delivered_at."""
        recent = sorted(
            {
                a.delivered_at
                for a in store.alerts()
                if a.delivered_at and a.delivered_at > now - HOUR
            }
        )
        for sent in self._sent.values():
            sent.extend(recent)
        self._seeded = True

    def _failed(self, target: Target, exc: BaseException, waiting: int) -> str:
        reason = _describe(exc)
        text = f"{target.description}: {reason}"
        if self._last_failure.get(target.name) == reason:
            log.info("alerts still cannot be sent by %s (%d waiting)", text, waiting)
        else:
            log.warning("alerts could not be sent by %s; %d wait for the next try", text, waiting)
        self._last_failure[target.name] = reason
        return redact(text) or ""
