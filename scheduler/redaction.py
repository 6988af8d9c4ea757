"""Keep secrets out of logs, error messages and the platforms' answers we store.

What was *sent* (a caption, a link, alt texts, a first comment) is never passed through
here: it is stored and exported exactly. Redaction applies to what we *say* about a try.

Two nets:

- the exact values of the secrets this process has read (the Page token, the Instagram
  password and session values, the SMTP password, the webhook URL, the database URL and
  its password), registered whole when they are read, and also found in the shapes a
  library writes them in (percent-encoded, JSON-escaped). A fragment of a secret, such as
  a webhook URL's path, is never a secret on its own: ``/kampanj`` must not vanish from
  ``https://www.sodertalje.se/kampanj``. The one place a URL's path is written without
  its host is an HTTP library's own line; :func:`redact_http_text` and
  :class:`HttpLibraryFilter` remove registered URLs' paths there, and only there;
- patterns that catch secret-shaped text we were never told about: ``access_token=`` in
  a URL (also percent-encoded), keys such as ``token``, ``client_secret``, ``password``,
  ``passwd``, ``pwd``, ``sessionid``, ``csrftoken`` with their values (quoted values may
  hold spaces and quotes), ``Authorization`` headers of any scheme, a password in a URL's
  ``user:password@``, Facebook tokens, Instagram's ``IGT:`` header.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterable
from urllib.parse import quote, quote_plus, unquote, urlsplit

REDACTED = "[redacted]"
#: A shorter value is not registered: replacing every "2021" or "kaffe" in the logs would
#: make them unreadable. config.toml asks for passwords at least this long.
_MIN_SECRET_LENGTH = 6

# Keys whose value is a secret whatever separates them (`key: value`, `key=value`, JSON):
# any `..._token` or `..._secret`, Instagram's cookies, an S3 presigned link's signature
# (`X-Amz-Signature`: the link works for anyone until it expires), and passwords.
_TOKEN_KEYS = (
    r"(?:[A-Za-z0-9]+[_-])*(?:access_token|[A-Za-z0-9]+_token|csrftoken|"
    r"[A-Za-z0-9]+_secret|sessionid|api_?key|amz-signature|amz-security-token)"
)
_PASSWORD_KEYS = r"(?:[A-Za-z0-9]+[_-])*(?:ssl)?(?:password|passwd|pwd|passphrase)"
# Bare words that are secrets only as a key: quoted (`"token": …`) or with `=`. "the Page
# token: expired" is a sentence, not a key.
_WEAK_KEYS = r"(?:token|secret)"

_Q = r"(?:\\?[\"'])"  # a quote around a key: JSON's ", Python's ', or JSON-in-JSON \"
_QUOTED_VALUE = (
    r"\\\"(?:(?!\\\").)*\\\""  # \"…\" inside a JSON string
    r"|\"(?:[^\"\\\r\n]|\\.)*\""  # "…" with escapes
    r"|'(?:[^'\\\r\n]|\\.)*'"  # '…' with escapes
)
_TOKEN_VALUE = r"[^\s\"'&;,<>(){}\[\]\\]+"
_PASSWORD_VALUE = r"[^\r\n&\"'\\]*[^\s&\"'\\]"  # a password may hold spaces: to the line's end


def _keyed(keys: str, value: str, *, bare_colon: bool = True) -> re.Pattern[str]:
    """``key``, a separator, a value; ``bare_colon``: an unquoted key may take ':' too."""
    if bare_colon:
        key = rf"{_Q}?{keys}{_Q}?\s*[:=]\s*"
    else:
        key = rf"(?:{_Q}{keys}{_Q}\s*[:=]|{keys}\s*=)\s*"
    return re.compile(rf"(?i)(?<![A-Za-z0-9_%])(?P<key>{key})(?P<value>{_QUOTED_VALUE}|{value})")


def _keyed_value(match: re.Match[str]) -> str:
    """The key as it was, the value redacted inside its own quotes."""
    key, value = match["key"], match["value"]
    if value[:2] == '\\"':
        return f'{key}\\"{REDACTED}\\"'
    if value[:1] in "\"'":
        return f"{key}{value[0]}{REDACTED}{value[0]}"
    return f"{key}{REDACTED}"


_ENCODED_KEY = re.compile(
    rf"(?i)(?<![A-Za-z0-9_])(?P<key>{_TOKEN_KEYS}|{_PASSWORD_KEYS}|{_WEAK_KEYS})(?P<eq>%(?:25)?3D)"
    r"(?P<value>(?:[^\s\"'&<>%]|%(?!26|2526)[0-9A-Fa-f]{2})+)"
)
_PATTERNS: tuple[tuple[re.Pattern[str], object], ...] = (
    # A password in a URL: scheme://user:PASSWORD@host (up to the last @ before a space).
    (
        re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s/:@\"'<>]*:)[^\s\"'<>]*(@)"),
        rf"\1{REDACTED}\2",
    ),
    (re.compile(r"(access_token=)[^&\s\"'<>]+"), rf"\1{REDACTED}"),
    (
        re.compile(
            rf"(?i)({_Q}?(?:proxy-)?authorization{_Q}?\s*[:=]\s*{_Q}?)"
            r"([A-Za-z]+(?:\s+|%20|\+))?[^\s\"',}}]+"
        ),
        rf"\1\2{REDACTED}",
    ),
    (re.compile(r"(?i)\b(AUTH\s+(?:PLAIN|LOGIN|XOAUTH2)\s+)[A-Za-z0-9+/=]+"), rf"\1{REDACTED}"),
    (re.compile(r"\b(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}"), rf"\1{REDACTED}"),
    (re.compile(r"IGT:\d:[A-Za-z0-9+/=._-]+"), REDACTED),
    (_keyed(_PASSWORD_KEYS, _PASSWORD_VALUE), _keyed_value),
    (_keyed(_TOKEN_KEYS, _TOKEN_VALUE), _keyed_value),
    (_keyed(_WEAK_KEYS, _TOKEN_VALUE, bare_colon=False), _keyed_value),
    (_ENCODED_KEY, rf"\g<key>\g<eq>{REDACTED}"),
    (re.compile(r"\bEAA[A-Za-z0-9]{20,}"), REDACTED),
)

_lock = threading.Lock()
_secrets: set[str] = set()
_url_parts: set[str] = set()


def _shapes(value: str) -> Iterable[str]:
    """``value`` as libraries write it: as it is, percent-encoded, JSON-escaped."""
    yield value
    yield quote(value, safe="")
    yield quote_plus(value)
    yield json.dumps(value)[1:-1]
    yield json.dumps(value, ensure_ascii=False)[1:-1]
    if "%" in value:
        yield unquote(value)


def register_secret(value: str | None) -> None:
    """Remember a secret's whole value so that :func:`redact` removes it wherever it appears."""
    if not value or len(value) < _MIN_SECRET_LENGTH:
        return
    with _lock:
        _secrets.update(shape for shape in _shapes(value) if len(shape) >= _MIN_SECRET_LENGTH)


def register_secret_url(url: str | None) -> None:
    """A URL that is a secret as a whole (a webhook): the whole URL is redacted everywhere;
    its path and query only in an HTTP library's own lines (:func:`redact_http_text`)."""
    if not url:
        return
    register_secret(url)
    parts = urlsplit(url)
    fragments = [parts.path, parts.query, f"{parts.path}?{parts.query}" if parts.query else ""]
    with _lock:
        _url_parts.update(f for f in fragments if len(f) >= _MIN_SECRET_LENGTH)


def _replace_known(text: str, known: Iterable[str]) -> str:
    for secret in sorted(known, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def redact(text: str | None) -> str | None:
    """``text`` with every known secret and secret-shaped string replaced."""
    if not text:
        return text
    with _lock:
        known = tuple(_secrets)
    text = _replace_known(text, known)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)  # type: ignore[arg-type]
    return text


#: How much of a text :func:`excerpt` reads: answers can be megabytes; a quote is a line.
_EXCERPT_INPUT = 64 * 1024


def excerpt(text: str | None, limit: int, *, http: bool = False) -> str:
    """``text`` redacted *first*, then cut to ``limit`` characters (with "…").

    Cutting first would split a registered secret, and its first half would no longer be
    found: a quote of an answer is only ever made here. ``http``: an HTTP library's or an
    HTTP server's text, which may quote a registered URL's path without its host
    (:func:`redact_http_text`).
    """
    if not text:
        return ""
    text = text[:_EXCERPT_INPUT]
    cleaned = (redact_http_text(text) if http else redact(text)) or ""
    if len(cleaned) <= limit:
        return cleaned
    cut = cleaned[: max(limit - 1, 0)]
    partial = cut.rfind("[")  # never leave half a "[redacted]"
    if partial >= 0 and REDACTED.startswith(cut[partial:]) and cut[partial:] != REDACTED:
        cut = cut[:partial]
    return cut.rstrip() + "…"


def redact_http_text(text: str | None) -> str | None:
    """An HTTP library's message (urllib3's request line, a requests exception, which quote
    a URL's path without its host): :func:`redact`, and registered URLs' paths removed."""
    if not text:
        return text
    with _lock:
        parts = tuple(_url_parts)
    return redact(_replace_known(text, parts))


_STANDARD_FIELDS = frozenset(vars(logging.makeLogRecord({})))


class RedactingFilter(logging.Filter):
    """A logging filter that formats each record and redacts the result (message,
    traceback, stack and any ``extra=`` text fields, which JSON lines carry)."""

    def __init__(self, redactor: object = None) -> None:
        super().__init__()
        self._redact = redactor or redact

    def filter(self, record: logging.LogRecord) -> bool:
        redactor = self._redact
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg = redactor(message)  # type: ignore[operator]
        record.args = None
        if record.exc_text:
            record.exc_text = redactor(record.exc_text)  # type: ignore[operator]
        if record.stack_info:
            record.stack_info = redactor(record.stack_info)  # type: ignore[operator]
        for key, value in list(vars(record).items()):
            if key not in _STANDARD_FIELDS and not key.startswith("_"):
                if isinstance(value, str):
                    setattr(record, key, redactor(value))  # type: ignore[operator]
                elif not isinstance(value, int | float | bool | type(None)):
                    setattr(record, key, redactor(str(value)))  # type: ignore[operator]
        return True


class HttpLibraryFilter(RedactingFilter):
    """On urllib3's loggers: their lines quote a request's path without its host."""

    def __init__(self) -> None:
        super().__init__(redact_http_text)


HTTP_LIBRARY_LOGGERS = ("urllib3", "urllib3.connectionpool", "urllib3.util.retry", "requests")


def install_http_library_redaction() -> None:
    """Redact registered URLs' paths in the HTTP libraries' own log records."""
    for name in HTTP_LIBRARY_LOGGERS:
        target = logging.getLogger(name)
        if not any(isinstance(f, HttpLibraryFilter) for f in target.filters):
            target.addFilter(HttpLibraryFilter())


def install_log_redaction(logger: logging.Logger | None = None) -> None:
    """Redact every record passing through the handlers of ``logger`` (default: root)."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
    install_http_library_redaction()
