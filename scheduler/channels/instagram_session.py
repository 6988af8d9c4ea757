"""The Instagram session: a hardened instagrapi client, loaded from and saved to the session file.

The session file is a secret (it logs in as the account): it must be mode 0600 and
outside any git work tree, and it is written atomically. It also keeps the device
and its ids, so Instagram keeps seeing the same phone.

What instagrapi 3.2.2 does by default, and what :func:`load_client` changes:

- No HTTP timeout on its private, public and GraphQL sessions (``request_timeout``
  is a *sleep* before each private request, not a timeout): every request of every
  session gets ``timeout`` unless the call gave its own.
- urllib3 retries of POSTs on 429/5xx and read errors (``session_retry_total=3``)
  and a resend of a request whose answer was cut off or timed out (HTTP 408): a
  resent configure call can post twice. Both are off; retries are the scheduler's.
- Challenge handlers that call ``input()``: they raise instead, and the automatic
  challenge flow is off, so the daemon never blocks.
- It re-encodes every photo as a JPEG at quality 75 before uploading: a rendition that
  already fits Instagram is uploaded byte for byte instead.
"""

from __future__ import annotations

import json
import logging
import os
import random
import stat
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import requests
from instagrapi import Client, config
from instagrapi.exceptions import (
    BadCredentials,
    BadPassword,
    ChallengeError,
    ChallengeRequired,
    ClientConnectionError,
    ClientError,
    ClientIncompleteReadError,
    ClientRequestTimeout,
    PhotoNotUpload,
    TwoFactorRequired,
)
from PIL import Image

from campaign.config import InstagramSection
from scheduler.redaction import RedactingFilter, excerpt, redact, register_secret

#: Seconds instagrapi waits before each private request (its ``request_timeout``).
PAUSE_SECONDS = 1.0
#: Endpoints that create the post: once one is sent, the post may exist.
CONFIGURE_ENDPOINTS = ("media/configure/", "media/configure_sidecar/")
CLIENT_LOGGER = "scheduler.channels.instagram.instagrapi"
_INSTAGRAPI_LOGGERS = (CLIENT_LOGGER, "private_request", "public_request")
# What instagrapi's prepare_image() lets through unchanged in size and shape.
_FEED_RATIOS = (4.0 / 5.0, 90.0 / 47.0)
_FEED_MAX = (1080, 1350)
_FEED_MIN = (320, 167)


class UnsafeSessionFile(ValueError):
    """The session file is somewhere or readable by someone it must not be."""


class InstagramLoginProblem(ValueError):
    """An interactive login failed; the message says what to do, in plain words."""


class SessionClient(Client):
    """instagrapi's Client with byte-exact photo uploads and no resent writes.

    ``configure_sent`` turns True when a configure call (the one that creates the
    post) has been sent; the channel reads it to tell a lost answer from a failure
    before anything could exist.
    """

    configure_sent = False
    _last_upload_id = 0

    def photo_rupload(
        self,
        path: Path,
        upload_id: str = "",
        to_album: bool = False,
        for_story: bool = False,
        resize_mode: Any = "fill",
    ) -> tuple[str, int, int]:
        """Upload a feed photo as it is when it already fits Instagram, else as instagrapi does."""
        path = Path(path)
        size = None if for_story else _feed_ready_jpeg_size(path)
        if size is None:
            return super().photo_rupload(path, upload_id, to_album, for_story, resize_mode)
        data = path.read_bytes()
        upload_id = upload_id or self._next_upload_id()
        upload_name = f"{upload_id}_0_{random.randint(1000000000, 9999999999)}"
        rupload_params = {
            "retry_context": '{"num_step_auto_retry":0,"num_reupload":0,"num_step_manual_retry":0}',
            "media_type": "1",
            "xsharing_user_ids": "[]",
            "upload_id": upload_id,
            "image_compression": json.dumps(
                {"lib_name": "moz", "lib_version": "3.1.m", "quality": "80"}
            ),
        }
        if to_album:
            rupload_params["is_sidecar"] = "1"
        headers = self.private_headers(
            {
                "Accept-Encoding": "gzip",
                "X-Instagram-Rupload-Params": json.dumps(rupload_params),
                "X_FB_PHOTO_WATERFALL_ID": self.generate_uuid(),
                "X-Entity-Type": "image/jpeg",
                "Offset": "0",
                "X-Entity-Name": upload_name,
                "X-Entity-Length": str(len(data)),
                "Content-Type": "application/octet-stream",
                "Content-Length": str(len(data)),
            }
        )
        response = self.private.post(
            f"https://{config.API_DOMAIN}/rupload_igphoto/{upload_name}", data=data, headers=headers
        )
        self.request_log(response)
        if response.status_code != 200:
            raise PhotoNotUpload(excerpt(response.text, 500), response=response)
        return upload_id, size[0], size[1]

    def _next_upload_id(self) -> str:
        # instagrapi uses the time in ms; two uploads in one ms would share an id.
        upload_id = max(int(time.time() * 1000), self._last_upload_id + 1)
        self._last_upload_id = upload_id
        return str(upload_id)

    def _send_private_request(self, endpoint: str, data: Any = None, *args: Any, **kwargs: Any):
        if endpoint in CONFIGURE_ENDPOINTS:
            self.configure_sent = True
        try:
            return super()._send_private_request(endpoint, data, *args, **kwargs)
        except (ClientIncompleteReadError, ClientRequestTimeout) as exc:
            if data is None:
                raise
            # private_request() would send this POST again; its answer was lost, so the
            # first one may have worked. Hand it back as a connection error instead.
            raise ClientConnectionError(f"{type(exc).__name__} {exc} (not resent)") from exc


def check_session_location(path: Path) -> None:
    """Refuse a session file inside a git work tree, where it could be committed."""
    for folder in path.expanduser().absolute().parents:
        if (folder / ".git").exists():
            raise UnsafeSessionFile(
                f"The Instagram session file {path} is inside the git work tree {folder}, where "
                "it could be committed and published. Set [channels.instagram] session_file in "
                "config.toml to a path outside the repository (the default is "
                "~/.config/campaign/instagram-session.json), then run `campaign login instagram`."
            )


def check_session_file(path: Path) -> None:
    """Refuse a session file in git or readable by anyone but its owner."""
    check_session_location(path)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise UnsafeSessionFile(
            f"The Instagram session file {path} can be read by other users (mode {mode:o}); it "
            f"logs in as the account. Run `chmod 600 {path}` and try again."
        )


def new_client(timeout: float) -> SessionClient:
    """A fresh client (new device ids) with the hardening of :func:`harden`."""
    client = SessionClient(logger=_client_logger())
    harden(client, timeout)
    return client


def load_client(settings: InstagramSection, session_file: Path, timeout: float) -> SessionClient:
    """The client of the saved session, hardened; refuses an unsafe or missing session file."""
    if not settings.username:
        raise ValueError("[channels.instagram] username is empty in config.toml.")
    path = session_file.expanduser()
    if not path.is_file():
        raise FileNotFoundError(
            f"There is no saved Instagram session at {path}: run `campaign login instagram` first."
        )
    check_session_file(path)
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(
            f"The Instagram session file {path} cannot be read ({type(exc).__name__}). "
            "Run `campaign login instagram` to make a new one."
        ) from None
    if not isinstance(saved, dict):
        raise ValueError(f"The Instagram session file {path} is not a saved session.")
    client = SessionClient(logger=_client_logger())
    client.set_settings(saved)  # what load_settings() does, without reading the file again
    client.username = settings.username
    harden(client, timeout)
    register_client_secrets(client)
    return client


def harden(client: Client, timeout: float) -> None:
    """No retries or resends, non-blocking challenge handlers, a timeout on every request."""
    client.set_retry_config(
        request_timeout=PAUSE_SECONDS,
        session_retry_total=0,
        public_request_retries_count=1,
    )
    client.with_challenge_flow = False
    client.challenge_code_handler = _refuse_challenge
    client.change_password_handler = _refuse_password_change
    for name in ("private", "public", "graphql"):
        session = getattr(client, name, None)
        if isinstance(session, requests.Session):
            enforce_timeout(session, timeout)


def enforce_timeout(session: requests.Session, timeout: float) -> None:
    """Give every request of ``session`` ``timeout`` seconds unless the caller set its own."""
    original = getattr(session.request, "_without_timeout", session.request)

    def request(method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        # Positional arguments after url: params, data, headers, cookies, files, auth, timeout.
        if len(args) < 7 and kwargs.get("timeout") is None:
            kwargs["timeout"] = timeout
        return original(method, url, *args, **kwargs)

    request._without_timeout = original  # type: ignore[attr-defined]
    session.request = request  # type: ignore[method-assign]


def save_client(client: Client, session_file: Path) -> None:
    """Write the session atomically, mode 0600, creating missing folders with mode 0700."""
    path = session_file.expanduser()
    check_session_location(path)
    _make_private_dirs(path.parent)
    text = json.dumps(client.get_settings(), indent=2)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            os.fchmod(out.fileno(), 0o600)
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    register_client_secrets(client)


def register_client_secrets(client: Client, password: str | None = None) -> None:
    """Tell the redaction what this client's session looks like (cookie, header, keys)."""
    register_secret(password)
    authorization = client.authorization
    values = [
        client.sessionid,
        (client.authorization_data or {}).get("sessionid"),
        client.private.cookies.get("sessionid"),
        authorization,
        authorization.rsplit(":", 1)[-1] if authorization else None,
        getattr(client, "usdid_private_key", None),
    ]
    for value in values:
        if value:
            register_secret(str(value))
            register_secret(unquote(str(value)))


def login_interactively(
    settings: InstagramSection,
    session_file: Path,
    password: str,
    ask: Callable[[str], str],
    totp_seed: str | None = None,
    timeout: float = 60,
) -> str:
    """Log in (answering 2FA and challenges through ``ask``), save the session, say so.

    A saved session is reused when it still works, and its device ids are kept. With
    ``totp_seed`` the two-factor code is computed; otherwise ``ask`` is asked for it.
    Raises :class:`InstagramLoginProblem` with a message for a human.
    """
    if not settings.username:
        raise InstagramLoginProblem("Set `username` under [channels.instagram] in config.toml.")
    if not password:
        raise InstagramLoginProblem("No password was given for the Instagram account.")
    register_secret(password)
    path = session_file.expanduser()
    try:
        check_session_location(path)
        client = _client_for_login(settings, path, timeout)
    except UnsafeSessionFile as exc:
        raise InstagramLoginProblem(str(exc)) from None
    client.username = settings.username
    client.with_challenge_flow = True
    client.challenge_code_handler = _asking_challenge_handler(ask)
    try:
        try:
            client.login(settings.username, password)
        except TwoFactorRequired:
            code = (
                client.totp_generate_code(_clean_seed(totp_seed))
                if totp_seed
                else ask("Code from your authenticator app or SMS: ").strip()
            )
            try:
                client.login(settings.username, password, verification_code=code)
            except TwoFactorRequired:
                raise InstagramLoginProblem(
                    "Instagram did not accept the two-factor code. Check the code (or the "
                    "authenticator seed) and the computer's clock, then try again."
                ) from None
        account = client.account_info()
    except InstagramLoginProblem:
        raise
    except Exception as exc:
        raise InstagramLoginProblem(_login_problem(exc)) from None
    finally:
        client.challenge_code_handler = _refuse_challenge
        client.with_challenge_flow = False
    if account.username.casefold() != settings.username.casefold():
        raise InstagramLoginProblem(
            f"The saved session at {path} belongs to @{account.username}, but config.toml says "
            f"@{settings.username}. Delete the session file and log in again."
        )
    save_client(client, path)
    register_client_secrets(client, password)
    return f"logged in as {account.username}; session saved to {path}"


def _client_for_login(settings: InstagramSection, path: Path, timeout: float) -> SessionClient:
    """The saved session when there is a readable one (keeping its device), else a new one."""
    if not path.exists():
        return new_client(timeout)
    try:
        return load_client(settings, path, timeout)
    except UnsafeSessionFile:
        raise
    except (ValueError, KeyError, TypeError):
        return new_client(timeout)  # unreadable: it is replaced by the new login


def _login_problem(exc: BaseException) -> str:
    said = redact(getattr(exc, "message", None) or str(exc) or type(exc).__name__)
    if isinstance(exc, BadPassword | BadCredentials):
        return (
            "Instagram did not accept the username and password. Check them (Instagram also "
            "says this when it distrusts the network or device) and try again."
        )
    if isinstance(exc, ChallengeError):
        return (
            "Instagram wants to make sure it is really you. Open the Instagram app on a phone "
            "where the account is logged in, approve the login, then run this again. "
            f"(Instagram said: {said})"
        )
    if isinstance(exc, requests.RequestException | ClientConnectionError):
        return f"Could not reach Instagram ({said}). Check the network and try again."
    if isinstance(exc, ClientError):
        return f"Instagram refused the login: {said}"
    return f"The login failed: {type(exc).__name__}: {said}"


def _asking_challenge_handler(ask: Callable[[str], str]) -> Callable[[str, Any], str]:
    def handler(username: str, choice: Any) -> str:
        where = "phone (SMS)" if getattr(choice, "name", "") == "SMS" else "e-mail"
        return ask(f"Instagram sent a security code to the {where} of @{username}. Code: ").strip()

    return handler


def _refuse_challenge(username: str, choice: Any = None) -> str:
    raise ChallengeRequired(
        "Instagram asks for a security code, and the scheduler never waits for typing: "
        "log in again with `campaign login instagram`."
    )


def _refuse_password_change(username: str) -> str:
    raise ChallengeRequired(
        "Instagram asks for a new password: change it in the Instagram app, then "
        "log in again with `campaign login instagram`."
    )


def _clean_seed(seed: str) -> str:
    return "".join(seed.split()).upper()


def _feed_ready_jpeg_size(path: Path) -> tuple[int, int] | None:
    """The size of a JPEG that instagrapi would send unchanged in shape, else None."""
    try:
        with Image.open(path) as image:
            if image.format != "JPEG" or image.mode not in ("RGB", "L"):
                return None
            width, height = image.size
    except OSError:
        return None
    ratio = width / height
    fits = (
        _FEED_RATIOS[0] <= ratio <= _FEED_RATIOS[1]
        and width <= _FEED_MAX[0]
        and height <= _FEED_MAX[1]
        and width >= _FEED_MIN[0]
        and height >= _FEED_MIN[1]
    )
    return (width, height) if fits else None


def _make_private_dirs(folder: Path) -> None:
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for new in reversed(missing):
        new.mkdir(mode=0o700, exist_ok=True)
        new.chmod(0o700)


_logger_lock = threading.Lock()


def _client_logger() -> logging.Logger:
    """instagrapi logs whole answers (a login's cookies included) at DEBUG: redact them."""
    with _logger_lock:
        for name in _INSTAGRAPI_LOGGERS:
            logger = logging.getLogger(name)
            if not any(isinstance(f, RedactingFilter) for f in logger.filters):
                logger.addFilter(RedactingFilter())
    return logging.getLogger(CLIENT_LOGGER)
