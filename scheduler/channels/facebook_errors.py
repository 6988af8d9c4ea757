"""What facebook-sdk and requests raise, sorted into ChannelErrors a communicator can act on.

facebook-sdk 3.1.0 raises :class:`facebook.GraphAPIError` for an ``{"error": ...}`` body
(``e.result`` is the whole body, ``e.code`` the code; the subcode and ``is_transient`` are
only in ``e.result["error"]``) and also for any answer that is not JSON (``e.result`` is then
the string "Maintype was not text, image, or querystring"). It never looks at the HTTP
status, so the channel passes what it saw of the answer as :class:`ResponseInfo`.

The one rule that matters most: when the request could have created the post (``wrote``),
a server error, a dropped connection or a timeout means the post may exist now. That is
UNKNOWN_OUTCOME, never TRANSIENT, so nothing is retried before the Page has been searched.
With ``wrote=False`` the answer is never UNKNOWN_OUTCOME.

| Facebook says                                  | Class                           |
|------------------------------------------------|---------------------------------|
| 190 (any subcode), 102                         | AUTH: make a new Page token     |
| 10, 200–299 (permission missing)               | AUTH (see below)                |
| 4, 17, 32, 341, 613, 80000–80014 (rate limits) | RATE_LIMITED (hint from headers)|
| 368 (blocked for a while for misuse)           | RATE_LIMITED, at least 6 hours  |
| 506 (duplicate post)                           | UNKNOWN_OUTCOME if wrote        |
| 1, 2, ``is_transient``, HTTP 5xx               | UNKNOWN_OUTCOME if wrote, else TRANSIENT |
| 324 (bad or missing image)                     | PERMANENT: re-export the image  |
| 100 and any other refusal                      | PERMANENT, with Facebook's words|

A missing permission (10, 200–299) is AUTH rather than PERMANENT: it is not about one post
but about the token, so every later post would fail the same way. AUTH pauses the channel
and alerts a human once, where PERMANENT would fail the campaign's posts one by one.
A rate-limit refusal in a 4xx answer means nothing was created, so it stays RATE_LIMITED
even for a write; the same code inside an HTTP 5xx answer to a write is UNKNOWN_OUTCOME.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
import urllib3.exceptions
from facebook import GraphAPIError

from scheduler.channels.errors import ChannelError, ErrorClass
from scheduler.redaction import excerpt, redact

#: How a message names the place the token lives; the channel passes the exact variable.
TOKEN_HINT = "the Page token environment variable"
#: The least rest after error 368: such blocks last hours or days, and trying early
#: while blocked can make them longer.
POLICY_BLOCK_SECONDS = 6 * 3600.0

SESSION_CODES = frozenset({102, 190})
PERMISSION_CODES = frozenset({10, *range(200, 300)})
TRANSIENT_CODES = frozenset({1, 2})
POLICY_BLOCK_CODE = 368
DUPLICATE_CODE = 506
BAD_IMAGE_CODE = 324
INVALID_PARAMETER_CODE = 100
LINK_ERROR_CODE = 1609005
RATE_LIMIT_CODES: Mapping[int, str] = {
    4: "the app has made too many requests",
    17: "the account behind the token has made too many requests",
    32: "too many requests were made for this Page",
    341: "the app has reached its posting limit",
    613: "too many calls of this kind were made",
    **{code: "the Page's request budget is used up" for code in range(80000, 80015)},
}
USAGE_HEADERS = ("x-business-use-case-usage", "x-page-usage", "x-app-usage", "x-ad-account-usage")
_REGAIN_KEY = "estimated_time_to_regain_access"
_EXCERPT_LENGTH = 300

_SUBCODE_REASONS: Mapping[int, str] = {
    458: "the app that made it was removed from the Facebook account",
    459: "Facebook wants the account that made it to log in on facebook.com and pass a "
    "security check",
    460: "the password of the Facebook account that made it was changed",
    463: "it has expired",
    464: "the Facebook account that made it is not confirmed",
    467: "it is no longer valid (it was revoked, or its account logged out)",
    492: "the account that made it is no longer an admin of the Page",
}


@dataclass(frozen=True)
class ResponseInfo:
    """What the channel saw of an HTTP answer: facebook-sdk keeps none of it."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str = ""
    excerpt: str | None = None

    @classmethod
    def from_response(cls, response: requests.Response) -> ResponseInfo:
        """Status, headers (lower-case names) and, for a non-JSON body, a short excerpt."""
        headers = {name.lower(): value for name, value in response.headers.items()}
        content_type = headers.get("content-type", "")
        excerpt = None
        if "json" not in content_type:
            excerpt = _page_excerpt(response.content[:20000].decode("utf-8", "replace"))
        return cls(response.status_code, headers, content_type, excerpt)


class UnexpectedAnswer(Exception):
    """An answer facebook-sdk accepted but the channel cannot use: an HTTP error status
    whose JSON body holds no ``error``, or JSON that is not an object."""

    def __init__(self, status: int, what: str = "no error in the body") -> None:
        super().__init__(f"HTTP {status} with {what}")
        self.status = status


def classify_graph_error(
    exc: Exception,
    *,
    wrote: bool,
    response: ResponseInfo | None = None,
    token_hint: str = TOKEN_HINT,
) -> ChannelError:
    """The ChannelError for ``exc``; ``wrote`` says whether the request could have created
    the post, ``response`` is the HTTP answer when there was one."""
    if isinstance(exc, GraphAPIError):
        result = exc.result
        if isinstance(result, dict) and isinstance(result.get("error"), dict):
            return _graph_error(result["error"], wrote, response, token_hint)
        return _odd_answer(wrote, response, _text(exc))
    if isinstance(exc, UnexpectedAnswer):
        return _odd_answer(wrote, response or ResponseInfo(exc.status), str(exc))
    if isinstance(exc, requests.RequestException):
        return _transport_error(exc, wrote)
    detail = _text(exc)
    if wrote:
        return _unknown(f"an unexpected error ({detail}) happened while creating the post", detail)
    return ChannelError(
        ErrorClass.TRANSIENT,
        f"an unexpected error happened while talking to Facebook ({detail}). "
        "It will be tried again later; if it keeps happening, report it.",
        platform_message=detail,
    )


def _graph_error(
    error: Mapping[str, Any], wrote: bool, response: ResponseInfo | None, token_hint: str
) -> ChannelError:
    code = _as_int(error.get("code"))
    subcode = _as_int(error.get("error_subcode"))
    said = platform_text(error)
    server_error = response is not None and response.status >= 500

    def make(
        error_class: ErrorClass, message: str, retry_after: float | None = None
    ) -> ChannelError:
        return ChannelError(
            error_class,
            redact(message) or message,
            code=code,
            subcode=subcode,
            platform_message=said,
            retry_after=retry_after,
        )

    if code in SESSION_CODES:
        reason = _SUBCODE_REASONS.get(subcode or 0, "it is no longer valid")
        return make(
            ErrorClass.AUTH,
            f"Facebook no longer accepts the Page token: {reason}.{_nothing(wrote)} "
            "A Page admin must make a new Page access token (from a long-lived user token, "
            f"so that it does not expire), put it in {token_hint} and restart the scheduler.",
        )
    if code in PERMISSION_CODES:
        return make(
            ErrorClass.AUTH,
            "Facebook says the Page token lacks a permission this needs "
            f"({_short(said)}).{_nothing(wrote)} A Page admin must make a new Page "
            "access token with the pages_manage_posts and pages_read_engagement permissions, "
            f"put it in {token_hint} and restart the scheduler.",
        )
    if code is not None and (code in RATE_LIMIT_CODES or code == POLICY_BLOCK_CODE):
        if wrote and server_error:
            return make(ErrorClass.UNKNOWN_OUTCOME, _server_error_on_write(response))
        hint = retry_hint(error, response)
        if code == POLICY_BLOCK_CODE:
            hint = max(hint or 0.0, POLICY_BLOCK_SECONDS)
            return make(
                ErrorClass.RATE_LIMITED,
                "Facebook has blocked posting from this Page for a while, because it looked "
                f"like misuse (for example posting too fast).{_nothing(wrote)} The "
                f"channel rests for {duration(hint)} and then tries again; if this happens "
                "again, look for a notice in Meta Business Suite (Page quality).",
                hint,
            )
        return make(
            ErrorClass.RATE_LIMITED,
            f"Facebook asked us to slow down: {RATE_LIMIT_CODES[code]}.{_nothing(wrote)} "
            f"The channel rests for {duration(hint)} and then tries again; "
            "nothing to do unless it keeps happening.",
            hint,
        )
    if code == DUPLICATE_CODE:
        if wrote:
            return make(
                ErrorClass.UNKNOWN_OUTCOME,
                "Facebook refused the post as a duplicate of a recent one: the same text was "
                "most likely published by an earlier try. The scheduler will look for it on "
                "the Page before doing anything else.",
            )
        return make(
            ErrorClass.PERMANENT,
            "Facebook refused this as a duplicate of a recent post. Change the text if it "
            "should be posted again.",
        )
    if code in TRANSIENT_CODES or error.get("is_transient") is True or server_error:
        what = f"HTTP {response.status}" if response is not None else "a temporary error"
        if wrote:
            return make(ErrorClass.UNKNOWN_OUTCOME, _server_error_on_write(response))
        return make(
            ErrorClass.TRANSIENT,
            f"Facebook had a temporary problem ({what}: {_short(said)}). It will be tried "
            "again later.",
        )
    if code == BAD_IMAGE_CODE:
        return make(
            ErrorClass.PERMANENT,
            f"Facebook could not use the image ({_short(said)}). Re-export the image (a "
            "plain JPEG or PNG), run `campaign render` and publish the post again.",
        )
    if code == LINK_ERROR_CODE:
        return make(
            ErrorClass.PERMANENT,
            f"Facebook could not read the link in the post ({_short(said)}). Check that the "
            "address opens in a browser, fix it in the post file and publish the post again.",
        )
    if code == INVALID_PARAMETER_CODE:
        return make(
            ErrorClass.PERMANENT,
            f"Facebook did not accept a value in the request: {_short(said)}. Fix the post "
            "file or the [channels.facebook] settings and publish the post again.",
        )
    return make(
        ErrorClass.PERMANENT,
        f"Facebook refused the request: {_short(said)}. Retrying will not help; check the "
        "post and the Page, then publish the post again.",
    )


def _odd_answer(wrote: bool, response: ResponseInfo | None, detail: str) -> ChannelError:
    """An answer that is not Graph API JSON: an error page from a proxy or a load balancer."""
    status = response.status if response is not None else None
    if response is not None and "json" not in response.content_type:
        detail = f"HTTP {status} {response.content_type or 'without a content type'}"
        if response.excerpt:
            detail += f": {response.excerpt}"
    elif status is not None and not detail.startswith("HTTP"):
        detail = f"HTTP {status}: {detail}"
    detail = redact(detail) or detail
    if status == 429:
        hint = retry_hint({}, response)
        return ChannelError(
            ErrorClass.RATE_LIMITED,
            f"Facebook asked us to slow down (HTTP 429).{_nothing(wrote)} The channel "
            f"rests for {duration(hint)} and then tries again.",
            code=status,
            platform_message=detail,
            retry_after=hint,
        )
    if status is not None and 400 <= status < 500 and status != 408:
        return ChannelError(
            ErrorClass.PERMANENT,
            f"something other than the Graph API answered (HTTP {status}).{_nothing(wrote)} "
            "Check graph_url in [channels.facebook] of config.toml and any proxy "
            "in between.",
            code=status,
            platform_message=detail,
        )
    what = "an error page" if status is None or status >= 400 else "an answer it cannot use"
    if status is not None:
        what += f" (HTTP {status})"
    if wrote:
        return _unknown(f"Facebook answered with {what} while creating the post", detail, status)
    return ChannelError(
        ErrorClass.TRANSIENT,
        f"Facebook answered with {what}. Nothing was changed; it will be tried again later.",
        code=status,
        platform_message=detail,
    )


def _transport_error(exc: requests.RequestException, wrote: bool) -> ChannelError:
    detail = _text(exc)
    if isinstance(exc, requests.exceptions.ConnectTimeout) or _never_connected(exc):
        return ChannelError(
            ErrorClass.TRANSIENT,
            f"could not connect to Facebook ({_connect_problem(exc)}), so nothing was sent. "
            "It will be tried again later; if it keeps happening, check the internet "
            "connection and graph_url in [channels.facebook] of config.toml.",
            platform_message=detail,
        )
    bad_address = (
        requests.exceptions.InvalidURL,
        requests.exceptions.InvalidSchema,
        requests.exceptions.MissingSchema,
        requests.exceptions.URLRequired,
        requests.exceptions.InvalidHeader,
    )
    if isinstance(exc, bad_address):
        return ChannelError(
            ErrorClass.PERMANENT,
            "the address of the Graph API is not valid, so nothing was sent. Check graph_url "
            "in [channels.facebook] of config.toml.",
            platform_message=detail,
        )
    if isinstance(exc, requests.exceptions.Timeout):
        what = "Facebook did not answer in time"
    elif isinstance(exc, requests.exceptions.JSONDecodeError):
        what = "Facebook's answer was cut off or garbled"
    else:
        what = "the connection to Facebook broke"
    if wrote:
        return _unknown(f"{what} while creating the post", detail)
    return ChannelError(
        ErrorClass.TRANSIENT,
        f"{what}; nothing was changed. It will be tried again later.",
        platform_message=detail,
    )


def _unknown(what: str, detail: str, code: int | None = None) -> ChannelError:
    return ChannelError(
        ErrorClass.UNKNOWN_OUTCOME,
        f"{what}. Facebook sometimes creates the post all the same, so the scheduler will "
        "look for it on the Page before any new try; nothing to do unless it stays unknown.",
        code=code,
        platform_message=detail,
    )


def _nothing(wrote: bool) -> str:
    """Reassurance for a refused write; a read has nothing to reassure about."""
    return " Nothing was published." if wrote else ""


def _server_error_on_write(response: ResponseInfo | None) -> str:
    what = f"a server error (HTTP {response.status})" if response else "a temporary error"
    return (
        f"Facebook answered with {what} while creating the post. Facebook sometimes creates "
        "the post all the same, so the scheduler will look for it on the Page before any new "
        "try; nothing to do unless it stays unknown."
    )


def _never_connected(exc: requests.RequestException) -> bool:
    """Whether the failure happened before a connection existed (refused, DNS, proxy)."""
    if isinstance(exc, requests.exceptions.ProxyError):
        return True
    if not isinstance(exc, requests.exceptions.ConnectionError) or not exc.args:
        return False
    reason = getattr(exc.args[0], "reason", None)
    return isinstance(reason, urllib3.exceptions.ConnectTimeoutError)


def _connect_problem(exc: requests.RequestException) -> str:
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    if isinstance(reason, urllib3.exceptions.NameResolutionError):
        return "the server name could not be looked up"
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "no connection within the time limit"
    if isinstance(exc, requests.exceptions.ProxyError):
        return "the proxy could not be reached"
    return "the connection was refused or the network is unreachable"


def retry_hint(error: Mapping[str, Any], response: ResponseInfo | None) -> float | None:
    """Seconds to wait, from ``estimated_time_to_regain_access`` (minutes) in the error or
    the usage headers, or from ``Retry-After``; the longest wins. None when there is none."""
    minutes = list(_regain_minutes(error))
    headers = response.headers if response is not None else {}
    for name in USAGE_HEADERS:
        if name in headers:
            minutes.extend(_regain_minutes(headers[name]))
    hints = [m * 60.0 for m in minutes if m > 0]
    retry_after = headers.get("retry-after", "").strip()
    if retry_after.isdigit() and int(retry_after) > 0:
        hints.append(float(retry_after))
    return max(hints) if hints else None


def _regain_minutes(value: Any) -> Iterator[float]:
    if isinstance(value, str) and value.lstrip().startswith(("{", "[")):
        try:
            value = json.loads(value)
        except ValueError:
            return
    if isinstance(value, Mapping):
        for key, inner in value.items():
            if (
                key == _REGAIN_KEY
                and isinstance(inner, int | float)
                and not isinstance(inner, bool)
            ):
                yield float(inner)
            else:
                yield from _regain_minutes(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _regain_minutes(inner)


def duration(seconds: float | None) -> str:
    """A rest in words: "about 40 minutes", "about 5 hours"."""
    if not seconds:
        return "a while"
    if seconds >= 2 * 3600:
        return f"about {round(seconds / 3600)} hours"
    minutes = max(1, round(seconds / 60))
    return f"about {minutes} minute{'s' if minutes != 1 else ''}"


def platform_text(error: Mapping[str, Any]) -> str:
    """Meta's own words for the attempt log: message, user message, trace id."""
    message = str(error.get("message") or "").strip()
    user_message = str(error.get("error_user_msg") or "").strip()
    text = message or user_message or "no message"
    if message and user_message and user_message not in message:
        text += f" — {user_message}"
    if error.get("fbtrace_id"):
        text += f" (fbtrace_id {error['fbtrace_id']})"
    return redact(text) or text


def _page_excerpt(text: str) -> str | None:
    title = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
    words = " ".join(re.sub(r"<[^>]+>", " ", title.group(1) if title else text).split())
    return excerpt(words, _EXCERPT_LENGTH) or None


def _short(text: str) -> str:
    text = text.split(" (fbtrace_id ")[0]
    return text if len(text) <= _EXCERPT_LENGTH else text[: _EXCERPT_LENGTH - 1] + "…"


def _text(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return redact(text) or text


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
