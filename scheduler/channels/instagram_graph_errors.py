"""What Meta's Instagram Graph API answers, sorted into ChannelErrors a communicator can act on.

The channel calls the API with ``requests`` and passes every failure here: an ``{"error":
...}`` body with the HTTP answer it came in (:func:`classify_answer`), a transport failure
(:func:`classify_transport`), or a container whose ``status_code`` is ``ERROR``
(:func:`container_failed`). README's table "What happens when Meta refuses" lists them.

The one rule that matters most: only ``POST /{ig-user-id}/media_publish`` creates a post
(``wrote=True``). A container made but not published is not a post, so before that call
nothing is UNKNOWN_OUTCOME. On ``media_publish`` a timeout, a dropped connection, an HTTP
5xx, an answer that is not JSON, or Meta's "server error" means the post may exist now:
UNKNOWN_OUTCOME, and the account's media is searched before any new try.

| Meta says                                           | Class                                 |
|-----------------------------------------------------|---------------------------------------|
| 190, 102                                            | AUTH: make a new token                |
| 10, 200–299 (permission missing)                    | AUTH: a token with the permissions    |
| subcode 2207050 (account inactive or restricted)    | AUTH: sign in to the Instagram app    |
| 9 / 2207042 (publishing limit reached)              | RATE_LIMITED until the window frees   |
| 4, 17, 32, 613, 80002 (rate limits), HTTP 429       | RATE_LIMITED (hint from headers)      |
| 4 / 2207051, 368 (blocked as possible spam)         | RATE_LIMITED, at least 6 hours        |
| 1, 2, -1/-2, ``is_transient``, 2207001/3/20/32/53,  | TRANSIENT; on media_publish 5xx, 1, 2,|
| 2207008, 2207027, 2207006, 2207052/9004, HTTP 5xx   | 2207001: UNKNOWN_OUTCOME              |
| 2207004 (over 8 MB), 2207005/2207026 (format),      | PERMANENT, with what to fix           |
| 2207009 (aspect ratio), 2207010 (caption), 2207028  |                                       |
| 100 and any other refusal                           | PERMANENT, with Meta's words          |
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import requests
import urllib3.exceptions

from scheduler.channels.errors import ChannelError, ErrorClass
from scheduler.channels.facebook_errors import ResponseInfo, duration, platform_text, retry_hint
from scheduler.redaction import excerpt, redact

#: How a message names the place the token lives; the channel passes the exact variable.
TOKEN_HINT = "the Instagram token environment variable"
PERMISSIONS = "instagram_basic, instagram_content_publish and pages_read_engagement"
#: The least rest after a block for suspected spam: such blocks last hours.
SPAM_BLOCK_SECONDS = 6 * 3600.0

SESSION_CODES = frozenset({102, 190})
PERMISSION_CODES = frozenset({10, *range(200, 300)})
PUBLISHING_LIMIT_CODE = 9
PUBLISHING_LIMIT_SUBCODE = 2207042
SPAM_SUBCODE = 2207051
POLICY_BLOCK_CODE = 368
ACCOUNT_RESTRICTED_SUBCODE = 2207050
INVALID_PARAMETER_CODE = 100
RATE_LIMIT_CODES: Mapping[int, str] = {
    4: "the app has made too many requests",
    17: "the account behind the token has made too many requests",
    32: "too many requests were made for this account",
    613: "too many calls of this kind were made",
    80002: "the Instagram account's request budget is used up",
}
TRANSIENT_CODES = frozenset({1, 2, -1, -2})
#: Meta's "server error": on media_publish the post may exist all the same.
SERVER_ERROR_SUBCODES = frozenset({2207001})
#: Subcodes for a temporary problem: new containers on the next try fix them.
TRANSIENT_SUBCODES: Mapping[int, str] = {
    2207001: "Instagram had a server error",
    2207003: "Instagram took too long to download the image",
    2207008: "Instagram had a temporary problem publishing the post",
    2207020: "the prepared upload expired before it was published",
    2207027: "Instagram had not finished preparing the image",
    2207032: "Instagram could not prepare the upload",
    2207053: "Instagram had an unknown problem with the upload",
    2207006: "Instagram could not find the prepared upload",
    2207052: "Instagram could not download the image from the media host",
}
#: Subcodes about the post or its images: what a communicator must change.
REFUSED_SUBCODES: Mapping[int, str] = {
    2207004: "an image is larger than Instagram's 8 MB. Export it smaller (or at a lower "
    "JPEG quality), run `campaign render` and publish the post again.",
    2207005: "an image is in a format Instagram does not take. Instagram's API takes JPEG "
    "only: run `campaign render` (it writes JPEGs) and publish the post again.",
    2207026: "an image is in a format Instagram does not take. Instagram's API takes JPEG "
    "only: run `campaign render` (it writes JPEGs) and publish the post again.",
    2207009: "an image's shape is outside what Instagram shows (between 4:5 upright and "
    "1.91:1 wide). Crop it to that range, or set `fit: pad` under `brand:`, run `campaign "
    "render` and publish the post again.",
    2207010: "the caption is too long for Instagram (at most 2,200 characters, 30 hashtags "
    "and 20 mentions). Shorten it under `instagram:` → `caption:` and publish the post again.",
    2207028: "Instagram could not make a carousel of these images (2 to 10 images, all JPEG, "
    "all in the allowed shapes). Check the images and publish the post again.",
    2207023: "Instagram did not recognise the kind of media sent. Report this: it is a bug.",
}
MEDIA_FETCH_CODE = 9004
_EXCERPT_LENGTH = 300
_SUBCODE_IN_TEXT = re.compile(r"\b(22070\d\d)\b")


def classify_answer(
    error: Mapping[str, Any],
    *,
    wrote: bool,
    response: ResponseInfo,
    token_hint: str = TOKEN_HINT,
) -> ChannelError:
    """The ChannelError for Meta's ``error`` object, received in ``response``; ``wrote``
    says whether the request was ``media_publish``."""
    code = _as_int(error.get("code"))
    subcode = _as_int(error.get("error_subcode"))
    said = platform_text(error)
    server_error = response.status >= 500

    def make(kind: ErrorClass, message: str, retry_after: float | None = None) -> ChannelError:
        return ChannelError(
            kind,
            redact(message) or message,
            code=code,
            subcode=subcode,
            platform_message=said,
            retry_after=retry_after,
        )

    if wrote and server_error:
        return make(
            ErrorClass.UNKNOWN_OUTCOME, _maybe_posted(f"a server error (HTTP {response.status})")
        )
    if code in SESSION_CODES:
        return make(
            ErrorClass.AUTH,
            f"Meta no longer accepts the Instagram token ({_short(said)}).{_nothing(wrote)} "
            "Someone who manages the Facebook Page linked to the Instagram account must make a "
            f"new token that does not expire, put it in {token_hint} and restart the scheduler.",
        )
    if subcode == ACCOUNT_RESTRICTED_SUBCODE:
        return make(
            ErrorClass.AUTH,
            "Instagram says the account is inactive, checked or restricted."
            f"{_nothing(wrote)} Sign in to the Instagram app with the account, do what it "
            "asks, then restart the scheduler.",
        )
    if code in PERMISSION_CODES:
        return make(
            ErrorClass.AUTH,
            f"the Instagram token lacks a permission this needs ({_short(said)})."
            f"{_nothing(wrote)} Make a new token with the {PERMISSIONS} permissions, put it in "
            f"{token_hint} and restart the scheduler.",
        )
    if code == PUBLISHING_LIMIT_CODE or subcode == PUBLISHING_LIMIT_SUBCODE:
        return make(
            ErrorClass.RATE_LIMITED,
            "Instagram's limit of posts published through its API in 24 hours is used up."
            f"{_nothing(wrote)} The channel rests until the limit frees and then publishes; "
            "nothing to do.",
            retry_hint(error, response),
        )
    if subcode == SPAM_SUBCODE or code == POLICY_BLOCK_CODE:
        hint = max(retry_hint(error, response) or 0.0, SPAM_BLOCK_SECONDS)
        return make(
            ErrorClass.RATE_LIMITED,
            "Instagram has restricted publishing from this account for a while, because it "
            f"looked like spam.{_nothing(wrote)} The channel rests for {duration(hint)} and "
            "then tries again; if it happens again, look for a notice in the Instagram app.",
            hint,
        )
    if code in RATE_LIMIT_CODES or response.status == 429:
        hint = retry_hint(error, response)
        reason = RATE_LIMIT_CODES.get(code or 0, "too many requests")
        return make(
            ErrorClass.RATE_LIMITED,
            f"Meta asked us to slow down: {reason}.{_nothing(wrote)} The channel rests for "
            f"{duration(hint)} and then tries again; nothing to do unless it keeps happening.",
            hint,
        )
    if subcode in REFUSED_SUBCODES:
        return make(
            ErrorClass.PERMANENT,
            f"Instagram refused the post: {REFUSED_SUBCODES[subcode]}",
        )
    if subcode in TRANSIENT_SUBCODES or code == MEDIA_FETCH_CODE:
        if wrote and subcode in SERVER_ERROR_SUBCODES:
            return make(ErrorClass.UNKNOWN_OUTCOME, _maybe_posted("a server error"))
        what = TRANSIENT_SUBCODES.get(subcode or 0, TRANSIENT_SUBCODES[2207052])
        hint = ""
        if code == MEDIA_FETCH_CODE or subcode == 2207052:
            hint = (
                " If it keeps happening, check that the media host's address works from "
                "the internet."
            )
        return make(
            ErrorClass.TRANSIENT,
            f"{what} ({_short(said)}). Nothing was published; the scheduler tries again later "
            f"with a new upload.{hint}",
        )
    if code in TRANSIENT_CODES or error.get("is_transient") is True or server_error:
        if wrote:
            return make(ErrorClass.UNKNOWN_OUTCOME, _maybe_posted("a temporary error"))
        return make(
            ErrorClass.TRANSIENT,
            f"Meta had a temporary problem ({_short(said)}). Nothing was published; it will "
            "be tried again later.",
        )
    if code == INVALID_PARAMETER_CODE:
        return make(
            ErrorClass.PERMANENT,
            f"Instagram did not accept a value in the request: {_short(said)}. Fix the post "
            "file or ig_user_id in [channels.instagram] and publish the post again.",
        )
    return make(
        ErrorClass.PERMANENT,
        f"Instagram refused the request: {_short(said)}. Retrying will not help; check the "
        "post and the account, then publish the post again.",
    )


def classify_odd_answer(response: ResponseInfo, *, wrote: bool, what: str) -> ChannelError:
    """An answer that is not Meta's JSON (an error page, a cut-off body, no ``error``)."""
    detail = f"HTTP {response.status} {response.content_type or 'without a content type'}"
    if response.excerpt:
        detail += f": {response.excerpt}"
    detail = redact(f"{detail} ({what})") or detail
    status = response.status
    if status == 429:
        return classify_answer({}, wrote=wrote, response=response)
    if wrote and (status >= 500 or status < 400):
        return ChannelError(
            ErrorClass.UNKNOWN_OUTCOME,
            _maybe_posted(f"an answer it cannot use (HTTP {status})"),
            code=status,
            platform_message=detail,
        )
    if 400 <= status < 500 and status != 408:
        return ChannelError(
            ErrorClass.PERMANENT,
            f"something other than Meta's Graph API answered (HTTP {status}).{_nothing(wrote)} "
            "Check graph_url in [channels.instagram] (or [channels.facebook]) of config.toml "
            "and any proxy in between.",
            code=status,
            platform_message=detail,
        )
    return ChannelError(
        ErrorClass.TRANSIENT,
        f"Meta answered with an answer it cannot use (HTTP {status}). Nothing was published; "
        "it will be tried again later.",
        code=status,
        platform_message=detail,
    )


def classify_transport(exc: requests.RequestException, *, wrote: bool) -> ChannelError:
    """A request that got no usable answer: never connected, timed out, or broke off."""
    detail = redact(f"{type(exc).__name__}: {exc}") or type(exc).__name__
    never_connected = isinstance(
        exc, requests.exceptions.ConnectTimeout | requests.exceptions.ProxyError
    ) or (
        isinstance(exc, requests.exceptions.ConnectionError)
        and bool(exc.args)
        and isinstance(getattr(exc.args[0], "reason", None), urllib3.exceptions.NewConnectionError)
    )
    if never_connected:
        return ChannelError(
            ErrorClass.TRANSIENT,
            "could not connect to Meta's Graph API, so nothing was sent. It will be tried "
            "again later; if it keeps happening, check the internet connection and graph_url "
            "in config.toml.",
            platform_message=detail,
        )
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema):
        return ChannelError(
            ErrorClass.PERMANENT,
            "the address of the Graph API is not valid, so nothing was sent. Check graph_url "
            "in config.toml.",
            platform_message=detail,
        )
    if isinstance(exc, requests.exceptions.Timeout):
        what = "Meta did not answer in time"
    else:
        what = "the connection to Meta broke"
    if wrote:
        return ChannelError(
            ErrorClass.UNKNOWN_OUTCOME, _maybe_posted(what, said=True), platform_message=detail
        )
    return ChannelError(
        ErrorClass.TRANSIENT,
        f"{what}; nothing was published. It will be tried again later.",
        platform_message=detail,
    )


def container_failed(status_text: str, *, image_names: str) -> ChannelError:
    """A container whose ``status_code`` is ``ERROR``: Meta's ``status`` text (which holds a
    subcode such as 2207009) turned into what to fix."""
    said = redact(status_text.strip() or "no reason given") or "no reason given"
    found = _SUBCODE_IN_TEXT.search(said)
    subcode = int(found.group(1)) if found else None
    if subcode in REFUSED_SUBCODES:
        return ChannelError(
            ErrorClass.PERMANENT,
            f"Instagram could not use {image_names}: {REFUSED_SUBCODES[subcode]} Nothing was "
            "published.",
            subcode=subcode,
            platform_message=said,
        )
    if subcode in TRANSIENT_SUBCODES:
        return ChannelError(
            ErrorClass.TRANSIENT,
            f"{TRANSIENT_SUBCODES[subcode]} while preparing {image_names} ({said}). Nothing "
            "was published; the scheduler tries again later with a new upload.",
            subcode=subcode,
            platform_message=said,
        )
    return ChannelError(
        ErrorClass.PERMANENT,
        f"Instagram could not prepare {image_names} ({said}). Nothing was published. Check "
        "that the images are plain JPEGs under 8 MB, between 4:5 upright and 1.91:1 wide, "
        "then publish the post again.",
        subcode=subcode,
        platform_message=said,
    )


def _maybe_posted(what: str, *, said: bool = False) -> str:
    lead = what if said else f"Meta answered with {what}"
    return (
        f"{lead} while publishing the post. Instagram may have published it all the same, "
        "so the scheduler will look for it on the account before any new try; nothing to do "
        "unless it stays unknown."
    )


def _nothing(wrote: bool) -> str:
    return " Nothing was published." if wrote else ""


def _short(text: str) -> str:
    """Meta's words, redacted before they are cut (a cut secret would not be found)."""
    return excerpt(text.split(" (fbtrace_id ")[0], _EXCERPT_LENGTH)


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
