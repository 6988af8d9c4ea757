"""Who holds a claim: host and process, so an abandoned claim can be recognised."""

from __future__ import annotations

import os
import socket
import uuid

_TOKEN = uuid.uuid4().hex[:8]


def this_process() -> str:
    """``host:pid:token``; the token tells apart two processes that reused one pid."""
    return f"{socket.gethostname()}:{os.getpid()}:{_TOKEN}"


def is_gone(claimed_by: str | None) -> bool:
    """Whether the process that wrote ``claimed_by`` has certainly ended.

    Only a claim made on this host can be checked; for another host the answer is
    False and the caller falls back to the claim's age.
    """
    if not claimed_by:
        return True
    host, _, rest = claimed_by.partition(":")
    pid_text, _, token = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    if int(pid_text) == os.getpid():
        return token != _TOKEN
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
