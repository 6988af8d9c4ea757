"""What can go wrong when talking to a platform, sorted by what to do about it.

Every channel turns its library's exceptions into a :class:`ChannelError` with one
:class:`ErrorClass`; the publisher decides from the class alone, so its rules are
the same for every platform.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorClass(StrEnum):
    """What the scheduler does with an error."""

    #: Nothing was created; try again after a backoff with jitter.
    TRANSIENT = "transient"
    #: The platform asked us to slow down: pause the channel for a long cool-down.
    RATE_LIMITED = "rate_limited"
    #: The login or token no longer works: pause the channel and tell a human.
    AUTH = "auth"
    #: The platform refused this post; retrying cannot help. A human must fix it.
    PERMANENT = "permanent"
    #: The post may or may not exist now: look for it before any new try.
    UNKNOWN_OUTCOME = "unknown"


class ChannelError(Exception):
    """A platform call failed. ``message`` tells a communicator what happened and what to do.

    ``code``/``subcode``/``platform_message`` keep the platform's own words for the
    attempt log. ``retry_after`` is the platform's hint in seconds, when it gave one.
    Nothing here may contain a secret: channels build these from the platform's answer,
    and the store redacts them again before writing.
    """

    def __init__(
        self,
        error_class: ErrorClass,
        message: str,
        *,
        code: int | str | None = None,
        subcode: int | str | None = None,
        platform_message: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.error_class = error_class
        self.message = message
        self.code = None if code is None else str(code)
        self.subcode = None if subcode is None else str(subcode)
        self.platform_message = platform_message
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return f"ChannelError({self.error_class.value}, {self.message!r}, code={self.code})"
