"""Turn instagrapi's and requests' exceptions into a ChannelError a communicator can act on.

instagrapi raises one exception class per kind of answer (``FeedbackRequired``,
``ChallengeRequired``, ...), but some answers arrive in other shapes: a read
timeout on its private session is a bare ``requests.exceptions.ReadTimeout``, a
refused photo upload is ``PhotoNotUpload`` carrying the HTTP status, and a 5xx is
a plain ``ClientError`` with ``code`` set. :func:`classify_instagram_error` looks
at all of them. ``wrote`` says whether the failing call may have created the post
(the configure call, or a later step): then a lost answer is an unknown outcome,
never a plain retry.

Every message and platform text goes through :func:`scheduler.redaction.redact`.
"""

from __future__ import annotations

import requests
from instagrapi import exceptions as ig

from scheduler.channels.errors import ChannelError, ErrorClass
from scheduler.redaction import excerpt, redact

LOGIN_AGAIN = "log in again with `campaign login instagram`"
_PLATFORM_TEXT_LIMIT = 300

_RATE_LIMITED = (
    ig.ClientThrottledError,
    ig.PleaseWaitFewMinutes,
    ig.FeedbackRequired,
    ig.RateLimitError,
    ig.SentryBlock,
)
_CHALLENGE = (ig.ChallengeError, ig.CaptchaChallengeRequired)
_LOGGED_OUT = (
    ig.LoginRequired,
    ig.ClientLoginRequired,
    ig.ClientUnauthorizedError,
    ig.ReloginAttemptExceeded,
)
_NETWORK = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
    ig.ClientConnectionError,
    ig.ClientIncompleteReadError,
    ig.ClientRequestTimeout,
    ig.ClientJSONDecodeError,
)
_GONE = (ig.MediaNotFound, ig.MediaUnavailable, ig.InvalidMediaId, ig.ClientNotFoundError)
_MEDIA_WORDS = ("image", "photo", "media", "aspect ratio", "upload", "jpeg", "resolution", "size")
_NO_MEDIA_PAYLOAD = "configure succeeded without media payload"


def status_code(exc: BaseException) -> int | None:
    """The HTTP status of the answer behind ``exc``, when there was one."""
    response = getattr(exc, "response", None)
    code = getattr(response, "status_code", None)
    if code is None and isinstance(exc, ig.ClientError):
        code = exc.code
    try:
        return None if code is None else int(code)
    except (TypeError, ValueError):
        return None


def platform_text(exc: BaseException) -> str:
    """The platform's own words for ``exc``, redacted and shortened for the attempt log."""
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    feedback = getattr(exc, "feedback_message", None)
    if feedback and str(feedback) not in str(text):
        text = f"{text}: {feedback}"
    # Redacted before it is cut: a cut secret's first half would no longer be found.
    return excerpt(" ".join(str(text).split()), _PLATFORM_TEXT_LIMIT) or type(exc).__name__


def is_login_required(exc: BaseException) -> bool:
    """Whether Instagram said the session is logged out (in any of the shapes it arrives in)."""
    if isinstance(exc, ig.LoginRequired | ig.ClientLoginRequired | ig.ClientUnauthorizedError):
        return True
    if isinstance(exc, ig.PhotoNotUpload) and status_code(exc) == 403:
        return "login_required" in str(getattr(exc, "message", "") or exc)
    return False


def classify_instagram_error(exc: BaseException, *, wrote: bool) -> ChannelError:
    """The ChannelError for ``exc``; ``wrote`` is True once the post may have been created."""
    if isinstance(exc, ChannelError):
        return exc
    error_class, message = _decide(exc, wrote=wrote)
    return ChannelError(
        error_class,
        redact(message) or message,
        code=status_code(exc),
        subcode=getattr(exc, "error_type", None) or type(exc).__name__,
        platform_message=platform_text(exc),
        retry_after=_retry_after(exc) if error_class is ErrorClass.RATE_LIMITED else None,
    )


def _decide(exc: BaseException, *, wrote: bool) -> tuple[ErrorClass, str]:
    said = platform_text(exc)
    status = status_code(exc)
    if isinstance(exc, _RATE_LIMITED) or status == 429:
        return ErrorClass.RATE_LIMITED, _rate_limited_message(exc, said)
    auth = _auth_message(exc, said, status)
    if auth is not None:
        return ErrorClass.AUTH, auth
    if _never_sent(exc):
        return ErrorClass.TRANSIENT, _not_reached(said)
    if isinstance(exc, _NETWORK) or (status is not None and status >= 500) or status == 408:
        return _lost_answer(said, wrote=wrote)
    configure_error = isinstance(exc, ig.PhotoConfigureError | ig.AlbumConfigureError)
    if configure_error and _NO_MEDIA_PAYLOAD in said:
        return _lost_answer(said, wrote=wrote)
    if isinstance(exc, _GONE):
        return ErrorClass.PERMANENT, (
            f"Instagram says this post does not exist (any more): {said}. "
            "It may have been deleted in the app."
        )
    refusal = _refusal_message(exc, said, status)
    if refusal is not None:
        return ErrorClass.PERMANENT, refusal
    if wrote:
        return ErrorClass.UNKNOWN_OUTCOME, (
            f"Something unexpected happened after the post was sent to Instagram ({said}). "
            "The scheduler will look for the post on the account before trying again."
        )
    return ErrorClass.TRANSIENT, (
        f"Something unexpected went wrong talking to Instagram ({said}); nothing was posted. "
        "It will be tried again later."
    )


def _never_sent(exc: BaseException) -> bool:
    """A connect timeout: the connection never opened, so the request never left."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    # instagrapi wraps it as ClientConnectionError("ConnectTimeout <details>").
    return isinstance(exc, ig.ClientConnectionError) and str(exc).startswith("ConnectTimeout")


def _rate_limited_message(exc: BaseException, said: str) -> str:
    if isinstance(exc, ig.FeedbackRequired):
        return (
            f"Instagram has blocked this action for now ({said}). Such blocks usually lift "
            "after some hours; Instagram publishing is paused until then. If it keeps "
            "happening, post less often and check the account in the Instagram app."
        )
    return (
        f"Instagram asked us to slow down ({said}). Instagram publishing is paused for a "
        "while and will resume by itself; nothing was posted."
    )


def _auth_message(exc: BaseException, said: str, status: int | None) -> str | None:
    if isinstance(exc, ig.TwoFactorRequired):
        return f"Instagram asks for a two-factor code ({said}). Please {LOGIN_AGAIN}."
    if isinstance(exc, ig.BadPassword | ig.BadCredentials):
        return (
            f"Instagram did not accept the account's password ({said}). Check the password, "
            f"then {LOGIN_AGAIN}."
        )
    if isinstance(exc, _CHALLENGE):
        return (
            "Instagram wants to make sure it is really you (a security check). Open the "
            "Instagram app on a phone where the account is logged in and approve the login, "
            f"then {LOGIN_AGAIN}. Instagram publishing is paused until then."
        )
    if isinstance(exc, ig.ProxyAddressIsBlocked):
        return (
            "Instagram is refusing logins from this machine's network address. Try from "
            f"another network, then {LOGIN_AGAIN}. ({said})"
        )
    if isinstance(exc, ig.AccountSuspended):
        return (
            "Instagram has suspended or locked the account. Open the Instagram app and follow "
            f"its instructions, then {LOGIN_AGAIN}. ({said})"
        )
    if isinstance(exc, ig.ClientNeedsUpgradeError):
        return (
            "Instagram no longer accepts the app version instagrapi presents itself as. "
            f"Update instagrapi (pip install -U instagrapi), then {LOGIN_AGAIN}. ({said})"
        )
    if is_login_required(exc) or isinstance(exc, _LOGGED_OUT):
        return (
            "Instagram has logged the account out, and logging in again from the saved "
            f"session did not work. Please {LOGIN_AGAIN}. ({said})"
        )
    if isinstance(exc, ig.ClientForbiddenError) or status == 403:
        return (
            f"Instagram refused access to the account ({said}). Check the account in the "
            f"Instagram app, then {LOGIN_AGAIN}."
        )
    return None


def _refusal_message(exc: BaseException, said: str, status: int | None) -> str | None:
    media_problem = (
        isinstance(exc, ig.PhotoNotUpload | ig.AlbumConfigureError | ig.AlbumUnknownFormat)
        # instagrapi's own check of the file name: "Invalid file format. Only JPG/...".
        or (isinstance(exc, ValueError) and "file format" in said.lower())
    ) or (
        isinstance(exc, ig.UnknownError | ig.ClientBadRequestError)
        and any(word in said.lower() for word in _MEDIA_WORDS)
    )
    if media_problem:
        return (
            f"Instagram refused the image ({said}). Instagram takes JPEG, PNG or WebP pictures "
            "with an aspect ratio between 4:5 (portrait) and 1.91:1 (landscape), at most "
            "1080 pixels wide. Fix the image, run `campaign render` and publish again."
        )
    if isinstance(exc, ig.ClientError) and (status is None or 400 <= status < 500):
        return (
            f"Instagram refused this post ({said}). Trying again will not help: change the "
            "post, then publish it again."
        )
    return None


def _lost_answer(said: str, *, wrote: bool) -> tuple[ErrorClass, str]:
    if wrote:
        return ErrorClass.UNKNOWN_OUTCOME, (
            f"Instagram did not answer clearly whether the post was created ({said}). The "
            "scheduler will look for it on the account before trying again."
        )
    return ErrorClass.TRANSIENT, _not_reached(said)


def _not_reached(said: str) -> str:
    return (
        f"Could not get through to Instagram ({said}); nothing was posted. "
        "It will be tried again later."
    )


def _retry_after(exc: BaseException) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    value = headers.get("Retry-After") if hasattr(headers, "get") else None
    try:
        seconds = float(value) if value is not None else None
    except (TypeError, ValueError):
        return None
    return seconds if seconds is not None and seconds >= 0 else None
