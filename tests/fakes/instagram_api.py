"""A fake of Instagram's private API, good enough for instagrapi 3.2.2's real code paths.

It answers through requests-mock, which replaces ``Session.get_adapter`` and so
intercepts instagrapi's requests *and* curl transports alike. Anything it does not
know is recorded in ``unhandled`` and answered with requests-mock's NoMockAddress,
so nothing can reach the internet; the fixture fails a test that made such a call.

What it fakes:

- the CAA login of ``Client.login()`` (USDID registration, the Bloks login screens,
  the password encrypted with this fake's RSA key, two-factor by TOTP or SMS code),
  the legacy ``accounts/login/`` it falls back to on a wrong password, and the
  challenge step of a login (a code sent by e-mail);
- sessions: only the session ids it issued (or was told about) are logged in;
  :meth:`FakeInstagram.log_everyone_out` makes the next request answer
  ``login_required``;
- photo uploads (``rupload_igphoto``), ``media/configure/``, ``media/configure_sidecar/``,
  comments, the account's feed (``feed/user/{id}/``), ``media/{pk}/info/`` and
  ``accounts/current_user/``. Uploaded bytes are hashed; created posts show up in the feed.

Failures are data: ``fake.queue("configure", "feedback_required")`` makes the next
configure call answer as Instagram does when it blocks an action. See ``SCENARIOS``.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import os
import stat
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import requests
import requests_mock
from Cryptodome.Cipher import AES, PKCS1_v1_5
from Cryptodome.PublicKey import RSA
from instagrapi import Client
from instagrapi.mixins.totp import TOTP

USER_ID = 48151623420
USERNAME = "sodertalje.demokrati"
FULL_NAME = "Södertälje demokrati"
PASSWORD = "rätt-lösenord-2021"
TOTP_SEED = "JBSWY3DPEHPK3PXPJBSWY3DP"
SMS_CODE = "246810"
EMAIL_CODE = "135790"
CHALLENGE_PATH = f"/challenge/{USER_ID}/Fk3NonCe/"
AUTOMATIC_ALT_TEXT = "Photo by Södertälje demokrati. May be an image of 3 people."
_PASSWORD_KEY_ID = 41
_FIRST_MEDIA_PK = 3300000000000000001


@dataclass(frozen=True)
class Scenario:
    """One way an endpoint can fail: an HTTP answer, or an exception from the transport."""

    status: int = 200
    body: dict[str, Any] | str | None = None
    raises: type[Exception] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    #: The post is created first, then the answer fails ("created then error").
    create_first: bool = False


_CHALLENGE_BODY = {
    "message": "challenge_required",
    "challenge": {
        "url": f"https://i.instagram.com{CHALLENGE_PATH}",
        "api_path": CHALLENGE_PATH,
        "hide_webview_header": True,
        "lock": True,
        "logout": False,
        "native_flow": True,
    },
    "status": "fail",
}

#: Every scenario a test can queue, by name.
SCENARIOS: dict[str, Scenario] = {
    "feedback_required": Scenario(
        400,
        {
            "message": "feedback_required",
            "spam": True,
            "feedback_title": "Try Again Later",
            "feedback_message": "We restrict certain activity to protect our community.",
            "status": "fail",
        },
    ),
    "login_required": Scenario(
        403,
        {
            "message": "login_required",
            "error_title": "You've Been Logged Out",
            "error_body": "Please log back in.",
            "logout_reason": 8,
            "status": "fail",
        },
    ),
    "challenge_required": Scenario(400, _CHALLENGE_BODY),
    "two_factor_required": Scenario(
        400,
        {
            "message": "",
            "two_factor_required": True,
            "two_factor_info": {"username": USERNAME, "two_factor_identifier": "2fa-id"},
            "error_type": "two_factor_required",
            "status": "fail",
        },
    ),
    "bad_password": Scenario(
        400,
        {
            "message": "The password you entered is incorrect. Please try again.",
            "invalid_credentials": True,
            "error_type": "bad_password",
            "status": "fail",
        },
    ),
    "ip_blocked": Scenario(
        400,
        {
            "message": "The username you entered doesn't appear to belong to an account.",
            "status": "fail",
        },
    ),
    "forbidden": Scenario(403, {"message": "Not allowed", "status": "fail"}),
    "http_429": Scenario(
        429, {"message": "rate limited", "status": "fail"}, headers={"Retry-After": "120"}
    ),
    "please_wait": Scenario(
        400, {"message": "Please wait a few minutes before you try again.", "status": "fail"}
    ),
    "rate_limit_error": Scenario(
        400,
        {"message": "Too many requests", "error_type": "rate_limit_error", "status": "fail"},
    ),
    "sentry_block": Scenario(
        400, {"message": "Sorry, there was a problem", "error_type": "sentry_block"}
    ),
    "server_error": Scenario(500, "<html><body>Internal Server Error</body></html>"),
    "bad_gateway": Scenario(502, "Bad Gateway"),
    "read_timeout": Scenario(raises=requests.exceptions.ReadTimeout),
    "connect_timeout": Scenario(raises=requests.exceptions.ConnectTimeout),
    "connection_error": Scenario(raises=requests.exceptions.ConnectionError),
    "created_then_server_error": Scenario(500, "Internal Server Error", create_first=True),
    "created_then_timeout": Scenario(raises=requests.exceptions.ReadTimeout, create_first=True),
    "media_refused": Scenario(
        400,
        {
            "message": "Uploaded image isn't in an allowed aspect ratio",
            "error_type": "invalid_aspect_ratio",
            "status": "fail",
        },
    ),
    "upload_refused": Scenario(
        400, {"message": "Invalid image: could not decode the photo", "status": "fail"}
    ),
    "not_found": Scenario(404, {"message": "Media not found or unavailable", "status": "fail"}),
}


@dataclass
class Upload:
    """What arrived at ``rupload_igphoto``."""

    upload_id: str
    sha256: str
    size: int
    content_type: str
    is_sidecar: bool


@dataclass
class Post:
    """A post the fake holds, as created by a configure call."""

    pk: int
    code: str
    caption: str
    taken_at: int
    uploads: list[Upload]
    alt_texts: list[str | None]
    like_count: int = 0
    comment_count: int = 0
    play_count: int | None = None
    comments: list[str] = field(default_factory=list)

    @property
    def media_id(self) -> str:
        return f"{self.pk}_{USER_ID}"


def _password_key() -> RSA.RsaKey:
    global _RSA_KEY
    if _RSA_KEY is None:
        _RSA_KEY = RSA.generate(2048)
    return _RSA_KEY


_RSA_KEY: RSA.RsaKey | None = None


def session_id(token: str) -> str:
    """A session id shaped like Instagram's (``USERID%3A...``)."""
    return f"{USER_ID}%3A{token}%3A21%3AAYfake"


class FakeInstagram:
    """The fake server's state, the scenario queue, and the request dispatcher."""

    def __init__(self) -> None:
        self.password = PASSWORD
        #: None, "totp" or "sms": whether the login asks for a second factor.
        self.two_factor: str | None = None
        #: The next login is met with a challenge (a code sent by e-mail).
        self.challenge_on_login = False
        #: Instagram drops the alt text sent and describes the picture itself.
        self.ignore_alt_text = False
        self.sessions: set[str] = set()
        #: Every session id ever handed out, logged out or not.
        self.issued: list[str] = []
        self.uploads: dict[str, Upload] = {}
        self.posts: list[Post] = []
        self.logins = 0
        self.unhandled: list[str] = []
        self.slept: list[float] = []
        self.mocker: requests_mock.Mocker | None = None
        self._queues: dict[str, deque[str]] = defaultdict(deque)
        self._pks = itertools.count(_FIRST_MEDIA_PK)
        self._tokens = itertools.count(1)
        self._challenge_pending = False
        self._usdid = 0

    # -- test helpers ---------------------------------------------------------------------

    def queue(self, endpoint: str, *scenarios: str) -> None:
        """Make the next calls to ``endpoint`` fail as ``scenarios`` say, one each, in order.

        Endpoints: rupload, configure, configure_sidecar, comment, feed, media_info,
        current_user, reels_tray, timeline, login.
        """
        for name in scenarios:
            if name not in SCENARIOS:
                raise KeyError(f"unknown scenario {name!r}; known: {sorted(SCENARIOS)}")
            self._queues[endpoint].append(name)

    def issue_session(self, token: str | None = None) -> str:
        """A new logged-in session id."""
        sid = session_id(token or f"s{next(self._tokens)}x{os.urandom(6).hex()}")
        self.sessions.add(sid)
        self.issued.append(sid)
        return sid

    def log_everyone_out(self) -> None:
        """Every existing session answers ``login_required`` from now on."""
        self.sessions.clear()

    def saved_session(self, folder: Path, *, token: str | None = None) -> Path:
        """Write a valid, logged-in session file (mode 0600) in ``folder``; return its path."""
        return write_session_file(folder / "instagram-session.json", self.issue_session(token))

    def add_post(self, caption: str, *, taken_at: int | None = None) -> Post:
        """A post made some other way (by hand in the app, say)."""
        return self._create_post(caption, [], [None], taken_at=taken_at)

    @property
    def requests(self) -> list[Any]:
        """Every request made so far (requests-mock's history, with ``timeout``)."""
        return list(self.mocker.request_history) if self.mocker else []

    def requests_to(self, fragment: str) -> list[Any]:
        return [r for r in self.requests if fragment in r.url]

    def record_sleep(self, seconds: float) -> None:
        self.slept.append(seconds)

    # -- dispatch -------------------------------------------------------------------------

    def install(self, mocker: requests_mock.Mocker) -> None:
        self.mocker = mocker
        mocker.add_matcher(self._dispatch)

    def _dispatch(self, request: Any) -> requests.Response | None:
        parts = urlsplit(request.url)
        if parts.hostname not in ("i.instagram.com", "b.i.instagram.com"):
            return self._unhandled(request)
        path = parts.path
        if path.startswith("/rupload_igphoto/"):
            return self._guarded(request, "rupload", self._rupload)
        if path == "/graphql_www":
            return _json(request, {"data": {"usdid_registration": {"success": True}}})
        for prefix in ("/api/v1/", "/api/"):
            if path.startswith(prefix):
                return self._api(request, path[len(prefix) :])
        return self._unhandled(request)

    def _api(self, request: Any, endpoint: str) -> requests.Response | None:
        method = request.method
        bloks = "bloks/async_action/com.bloks.www."
        login_routes = {
            ("POST", bloks + "bloks.caa.login.process_client_data_and_redirect/"): self._caa_home,
            ("POST", "attestation/create_android_keystore/"): self._attestation,
            ("POST", bloks + "caa.login.oauth.token.fetch.async/"): self._ok,
            ("POST", bloks + "bloks.caa.login.async.send_login_request/"): self._caa_login,
            ("GET", "qe/sync/"): self._password_keys,
            ("POST", "launcher/sync/"): self._ok,
            ("POST", "accounts/login/"): self._legacy_login,
            ("POST", "bloks/apps/com.bloks.www.two_step_verification.entrypoint/"): self._ok,
            ("POST", "bloks/apps/com.bloks.www.two_step_verification.method_picker/"): self._ok,
            ("POST", bloks + "two_step_verification.method_picker.navigation.async/"): self._ok,
            ("POST", bloks + "two_step_verification.verify_code.async/"): self._verify_code,
        }
        handler = login_routes.get((method, endpoint))
        if handler is not None:
            key = "login" if endpoint.endswith("send_login_request/") else endpoint
            return self._guarded(request, key, handler, needs_session=False)
        if endpoint.startswith("challenge/"):
            return self._challenge(request)
        routes = {
            ("POST", "feed/reels_tray/"): ("reels_tray", self._login_flow),
            ("POST", "feed/timeline/"): ("timeline", self._login_flow),
            ("GET", "accounts/current_user/"): ("current_user", self._current_user),
            ("POST", "media/configure/"): ("configure", self._configure),
            ("POST", "media/configure_sidecar/"): ("configure_sidecar", self._configure_sidecar),
        }
        if (method, endpoint) in routes:
            key, handler = routes[(method, endpoint)]
            return self._guarded(request, key, handler)
        if method == "GET" and endpoint == f"feed/user/{USER_ID}/":
            return self._guarded(request, "feed", self._feed)
        segments = endpoint.strip("/").split("/")
        if len(segments) == 3 and segments[0] == "media":
            if method == "GET" and segments[2] == "info":
                return self._guarded(request, "media_info", self._media_info)
            if method == "POST" and segments[2] == "comment":
                return self._guarded(request, "comment", self._comment)
        return self._unhandled(request)

    def _guarded(
        self, request: Any, key: str, handler: Any, *, needs_session: bool = True
    ) -> requests.Response:
        queued = self._queues.get(key)
        if queued:
            scenario = SCENARIOS[queued.popleft()]
            if scenario.create_first:
                handler(request)
            if scenario.raises is not None:
                raise scenario.raises(f"fake Instagram: {key} failed")
            return _answer(request, scenario.status, scenario.body, scenario.headers)
        if needs_session and self._session_of(request) not in self.sessions:
            scenario = SCENARIOS["login_required"]
            return _answer(request, scenario.status, scenario.body)
        if needs_session and self._challenge_pending and key in ("reels_tray", "timeline"):
            return _answer(request, 400, _CHALLENGE_BODY | {"challenge": _legacy_challenge()})
        return handler(request)

    def _unhandled(self, request: Any) -> None:
        self.unhandled.append(f"{request.method} {request.url}")
        return None  # requests-mock raises NoMockAddress

    @staticmethod
    def _session_of(request: Any) -> str | None:
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer IGT:2:"):
            try:
                data = json.loads(base64.b64decode(header.rsplit(":", 1)[-1]))
                return data.get("sessionid")
            except ValueError:
                return None
        for part in request.headers.get("Cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == "sessionid":
                return value
        return None

    # -- login ---------------------------------------------------------------------------------

    def _ok(self, request: Any) -> requests.Response:
        return _json(request, {"status": "ok"})

    def _caa_home(self, request: Any) -> requests.Response:
        aac_node = {"data": {"key": "CAA_ACCOUNT_ACCESS_CONTEXT:aac", "initial": "AAC-fake"}}
        return _json(request, {"layout": {"bloks_payload": {"data": [aac_node]}}, "status": "ok"})

    def _attestation(self, request: Any) -> requests.Response:
        return _json(request, {"challenge_nonce": "nonce-1", "key_nonce": "key-1", "status": "ok"})

    def _password_keys(self, request: Any) -> requests.Response:
        public = base64.b64encode(_password_key().publickey().export_key()).decode()
        headers = {
            "ig-set-password-encryption-key-id": str(_PASSWORD_KEY_ID),
            "ig-set-password-encryption-pub-key": public,
        }
        return _json(request, {"status": "ok"}, headers=headers)

    def _caa_login(self, request: Any) -> requests.Response:
        params = json.loads(_form(request)["params"])
        password = _decrypt_password(params["client_input_params"]["password"])
        if password != self.password:
            fallback = {"data": [{"data": {"key": "CAA_LOGIN_FALLBACK:accounts_login"}}]}
            return _json(request, {"layout": {"bloks_payload": fallback}, "status": "ok"})
        if self.two_factor:
            context = {
                "two_step_verification_context": "TSVC-fake",
                "sms_two_factor_on": self.two_factor == "sms",
                "totp_two_factor_on": self.two_factor == "totp",
            }
            return _json(
                request,
                {"layout": {"bloks_payload": {"data": [{"data": context}]}}, "status": "ok"},
            )
        return self._logged_in(request)

    def _legacy_login(self, request: Any) -> requests.Response:
        data = _signed(request)
        if _decrypt_password(data["enc_password"]) != self.password:
            scenario = SCENARIOS["bad_password"]
            return _answer(request, scenario.status, scenario.body)
        return _answer(request, 400, {"message": "use the CAA login", "status": "fail"})

    def _verify_code(self, request: Any) -> requests.Response:
        params = json.loads(_form(request)["params"])
        code = params["client_input_params"]["code"]
        method = params["server_params"]["challenge"]
        if method == "totp":
            now = int(time.time() // 30)
            accepted = {TOTP(TOTP_SEED).generate_otp(now + step) for step in (-1, 0, 1)}
        else:
            accepted = {SMS_CODE}
        if code not in accepted:
            action = '(bk.action.ShowError "That code is not valid.")'
            return _json(request, {"layout": {"bloks_payload": {"action": action}}, "status": "ok"})
        return self._logged_in(request)

    def _logged_in(self, request: Any) -> requests.Response:
        """A Bloks answer with the embedded login response instagrapi applies."""
        sid = self.issue_session()
        self.logins += 1
        self._challenge_pending = self.challenge_on_login
        authorization = base64.b64encode(
            json.dumps({"ds_user_id": str(USER_ID), "sessionid": sid}).encode()
        ).decode()
        embedded = {
            "login_response": json.dumps(
                {"logged_in_user": {"pk": USER_ID, "username": USERNAME}, "status": "ok"}
            ),
            "headers": json.dumps({"IG-Set-Authorization": f"Bearer IGT:2:{authorization}"}),
            "cookies": f"Set-Cookie: sessionid={sid}; ds_user_id={USER_ID}",
        }
        action = f"(bk.action.caa.HandleLoginResponse {json.dumps(json.dumps(embedded))})"
        return _json(request, {"layout": {"bloks_payload": {"action": action}}, "status": "ok"})

    def _login_flow(self, request: Any) -> requests.Response:
        return _json(request, {"tray": [], "feed_items": [], "status": "ok"})

    def _challenge(self, request: Any) -> requests.Response:
        if request.method == "GET":
            body = {
                "step_name": "verify_email",
                "step_data": {"security_code": "None", "email": "d*******i@sodertalje.se"},
                "user_id": USER_ID,
                "nonce_code": "Fk3NonCe",
                "status": "ok",
            }
            return _json(request, body)
        if _signed(request).get("security_code") != EMAIL_CODE:
            return _answer(
                request,
                400,
                {"message": "Please check the code we sent you and try again.", "status": "fail"},
            )
        self._challenge_pending = False
        return _json(request, {"action": "close", "status": "ok"})

    def _current_user(self, request: Any) -> requests.Response:
        user = {
            "pk": USER_ID,
            "username": USERNAME,
            "full_name": FULL_NAME,
            "is_private": False,
            "profile_pic_url": "https://scontent.cdninstagram.com/profile.jpg",
            "is_verified": False,
            "is_business": True,
        }
        return _json(request, {"user": user, "status": "ok"})

    # -- posting -------------------------------------------------------------------------------

    def _rupload(self, request: Any) -> requests.Response:
        params = json.loads(request.headers["X-Instagram-Rupload-Params"])
        body = request.body if isinstance(request.body, bytes) else request.body.encode()
        upload = Upload(
            upload_id=str(params["upload_id"]),
            sha256=hashlib.sha256(body).hexdigest(),
            size=len(body),
            content_type=request.headers.get("X-Entity-Type", ""),
            is_sidecar=params.get("is_sidecar") == "1",
        )
        self.uploads[upload.upload_id] = upload
        return _json(request, {"upload_id": upload.upload_id, "status": "ok"})

    def _configure(self, request: Any) -> requests.Response:
        data = _signed(request)
        upload = self.uploads.get(str(data["upload_id"]))
        if upload is None:
            return _answer(request, 400, {"message": "Upload not found", "status": "fail"})
        post = self._create_post(
            data["caption"], [upload], [data.get("custom_accessibility_caption")]
        )
        return _json(request, {"media": self._media_json(post), "status": "ok"})

    def _configure_sidecar(self, request: Any) -> requests.Response:
        data = _signed(request)
        children = data["children_metadata"]
        uploads = [self.uploads.get(str(child["upload_id"])) for child in children]
        if any(upload is None for upload in uploads):
            return _answer(request, 400, {"message": "Upload not found", "status": "fail"})
        alts = [child.get("custom_accessibility_caption") for child in children]
        post = self._create_post(data["caption"], uploads, alts)
        body = {"media": self._media_json(post), "client_sidecar_id": data["upload_id"]}
        return _json(request, body | {"status": "ok"})

    def _create_post(
        self,
        caption: str,
        uploads: list[Any],
        alts: list[str | None],
        *,
        taken_at: int | None = None,
    ) -> Post:
        pk = next(self._pks)
        if self.ignore_alt_text:
            alts = [AUTOMATIC_ALT_TEXT for _ in alts]
        post = Post(
            pk=pk,
            code=f"DFake{pk % 100000:05d}",
            caption=caption,
            taken_at=int(time.time()) if taken_at is None else taken_at,
            uploads=list(uploads),
            alt_texts=list(alts),
        )
        self.posts.append(post)
        return post

    def _comment(self, request: Any) -> requests.Response:
        media_id = urlsplit(request.url).path.strip("/").split("/")[-2]
        post = self._post(media_id)
        if post is None:
            scenario = SCENARIOS["not_found"]
            return _answer(request, scenario.status, scenario.body)
        text = _signed(request)["comment_text"]
        post.comments.append(text)
        post.comment_count += 1
        comment = {
            "pk": f"1790000000000{len(post.comments):04d}",
            "text": text,
            "user": {"pk": USER_ID, "username": USERNAME},
            "created_at_utc": int(time.time()),
            "content_type": "comment",
            "status": "Active",
        }
        return _json(request, {"comment": comment, "status": "ok"})

    # -- reading -------------------------------------------------------------------------------

    def _feed(self, request: Any) -> requests.Response:
        count = int(request.qs.get("count", ["20"])[0] or 20)
        items = [self._media_json(post) for post in reversed(self.posts)][:count]
        return _json(request, {"items": items, "num_results": len(items), "status": "ok"})

    def _media_info(self, request: Any) -> requests.Response:
        post = self._post(urlsplit(request.url).path.strip("/").split("/")[-2])
        if post is None:
            scenario = SCENARIOS["not_found"]
            return _answer(request, scenario.status, scenario.body)
        return _json(request, {"items": [self._media_json(post)], "status": "ok"})

    def _post(self, media_id: str) -> Post | None:
        pk = unquote(media_id).split("_", 1)[0]
        return next((post for post in self.posts if str(post.pk) == pk), None)

    def _media_json(self, post: Post) -> dict[str, Any]:
        user = {"pk": str(USER_ID), "username": USERNAME, "full_name": FULL_NAME}
        media: dict[str, Any] = {
            "pk": str(post.pk),
            "id": post.media_id,
            "code": post.code,
            "taken_at": post.taken_at,
            "user": user,
            "caption": {"text": post.caption, "pk": f"1780{post.pk}"},
            "like_count": post.like_count,
            "comment_count": post.comment_count,
        }
        if post.play_count is not None:
            media["play_count"] = post.play_count
        if len(post.uploads) > 1:
            media["media_type"] = 8
            media["carousel_media_count"] = len(post.uploads)
            media["carousel_media"] = [
                {
                    "pk": f"{post.pk}{index}",
                    "id": f"{post.pk}{index}_{USER_ID}",
                    "media_type": 1,
                    "image_versions2": {"candidates": [_candidate(post, index)]},
                    "accessibility_caption": alt,
                }
                for index, alt in enumerate(post.alt_texts)
            ]
        else:
            media["media_type"] = 1
            media["image_versions2"] = {"candidates": [_candidate(post, 0)]}
            media["accessibility_caption"] = post.alt_texts[0] if post.alt_texts else None
        return media


def write_session_file(path: Path, sessionid: str) -> Path:
    """A session file as ``dump_settings`` writes it, logged in with ``sessionid``, mode 0600."""
    client = Client()
    client.authorization_data = {
        "ds_user_id": str(USER_ID),
        "sessionid": sessionid,
        "should_use_header_over_cookies": True,
    }
    client.private.cookies.set("sessionid", sessionid)
    client.private.cookies.set("ds_user_id", str(USER_ID))
    client.username = USERNAME
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(client.get_settings(), indent=2), encoding="utf-8")
    path.chmod(stat.S_IRUSR | stat.S_IWUSR)
    return path


@pytest.fixture
def fake_instagram(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeInstagram]:
    """The fake answering every Instagram request; instagrapi's sleeps are recorded, not slept."""
    fake = FakeInstagram()
    monkeypatch.setattr(time, "sleep", fake.record_sleep)
    with requests_mock.Mocker(case_sensitive=True) as mocker:
        fake.install(mocker)
        yield fake
    assert not fake.unhandled, f"requests the fake does not know: {fake.unhandled}"


def _candidate(post: Post, index: int) -> dict[str, Any]:
    url = f"https://scontent.cdninstagram.com/v/{post.pk}_{index}.jpg"
    return {"url": url, "width": 1080, "height": 1350}


def _legacy_challenge() -> dict[str, Any]:
    return dict(_CHALLENGE_BODY["challenge"], native_flow=False)


def _text(request: Any) -> str:
    body = request.body or b""
    return body.decode("utf-8") if isinstance(body, bytes) else str(body)


def _form(request: Any) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(_text(request)).items()}


def _signed(request: Any) -> dict[str, Any]:
    """The JSON of a ``signed_body=SIGNATURE.{json}`` form, as instagrapi sends it."""
    signed = _form(request)["signed_body"]
    return json.loads(signed.split(".", 1)[1])


def _decrypt_password(enc_password: str) -> str:
    """Undo instagrapi's ``password_encrypt`` with the fake's private key."""
    _, _version, timestamp, payload = enc_password.split(":", 3)
    raw = base64.b64decode(payload)
    iv = raw[2:14]
    size = int.from_bytes(raw[14:16], "little")
    session_key = PKCS1_v1_5.new(_password_key()).decrypt(raw[16 : 16 + size], None)
    tag = raw[16 + size : 32 + size]
    cipher = AES.new(session_key, AES.MODE_GCM, iv)
    cipher.update(timestamp.encode())
    return cipher.decrypt_and_verify(raw[32 + size :], tag).decode("utf-8")


def _json(
    request: Any, body: dict[str, Any], headers: dict[str, str] | None = None
) -> requests.Response:
    return _answer(request, 200, body, headers)


def _answer(
    request: Any,
    status: int,
    body: dict[str, Any] | str | None,
    headers: dict[str, str] | None = None,
) -> requests.Response:
    if isinstance(body, dict):
        return requests_mock.create_response(
            request, status_code=status, json=body, headers=headers or {}
        )
    return requests_mock.create_response(
        request, status_code=status, text=body or "", headers=headers or {}
    )
