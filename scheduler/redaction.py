"""Keep secrets out of logs, the database, the outbox and error messages.

Two nets: the exact values of the secrets this process has read (the Page token,
the Instagram password, the session's cookies), registered when they are read,
and patterns that catch token-shaped text we were never told about (an
``access_token=`` in a URL a library put into its exception, a Bearer header).
"""

from __future__ import annotations

import logging
import re
import threading

REDACTED = "[redacted]"
_MIN_SECRET_LENGTH = 6

_Q = "[\"']"  # a quote around a key or value: JSON's " or Python's '
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(access_token=)[^&\s\"'<>]+"), rf"\1{REDACTED}"),
    (
        re.compile(rf"(?i)({_Q}?access_token{_Q}?\s*[:=]\s*{_Q}?)[^\s\"',}}&]+"),
        rf"\1{REDACTED}",
    ),
    (
        re.compile(
            rf"(?i)({_Q}?(?:proxy-)?authorization{_Q}?\s*[:=]\s*{_Q}?)([A-Za-z]+\s+)?[^\s\"',}}]+"
        ),
        rf"\1\2{REDACTED}",
    ),
    (re.compile(r"IGT:\d:[A-Za-z0-9+/=._-]+"), REDACTED),
    (re.compile(rf"(?i)({_Q}?sessionid{_Q}?\s*[:=]\s*{_Q}?)[^;\s\"',}}]+"), rf"\1{REDACTED}"),
    (
        re.compile(rf"(?i)({_Q}?(?:enc_)?password{_Q}?\s*[:=]\s*{_Q}?)[^\s\"',}}&]+"),
        rf"\1{REDACTED}",
    ),
    (re.compile(r"\bEAA[A-Za-z0-9]{20,}"), REDACTED),
)

_lock = threading.Lock()
_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember a secret's value so that :func:`redact` removes it wherever it appears."""
    if value and len(value) >= _MIN_SECRET_LENGTH:
        with _lock:
            _secrets.add(value)


def redact(text: str | None) -> str | None:
    """``text`` with every known secret and token-shaped string replaced."""
    if not text:
        return text
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, REDACTED)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """A logging filter that formats each record and redacts the result."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg = redact(message)
        record.args = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def install_log_redaction(logger: logging.Logger | None = None) -> None:
    """Redact every record passing through the handlers of ``logger`` (default: root)."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
