"""A fake Facebook Graph API on 127.0.0.1: real HTTP, Meta's answer shapes, scripted failures.

It understands what the Facebook channel sends (``/{version}/{page}/photos``, ``/feed``,
``/posts``, ``/{post}``, ``/{post}/insights``, ``/{page}``), keeps the posts it creates,
and checks the token like Meta does (header, query or form). Failures are data: queue
named answers from :data:`ANSWERS` (or dicts of the same shape) per request kind with
:meth:`FakeGraphAPI.script`; each overrides the next request of that kind.

An answer is a dict with any of: ``status`` and ``json`` (or ``body`` and
``content_type``), ``headers``, ``delay`` (seconds before answering), ``create`` (do the
real work first, e.g. create the post, then answer as scripted) and ``drop`` (close the
connection without answering). Without ``status`` the normal answer is sent, after the
delay. In strings, ``{access_token}`` and ``{path}`` become the request's token and path.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import json
import secrets
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

PAGE_ID = "1234567890"
PAGE_NAME = "Demokratin 100 år"
VERSION = "v24.0"

#: The request kinds answers can be scripted for.
KINDS = ("POST photos", "POST feed", "GET posts", "GET post", "GET insights", "GET page")

#: The insights metrics the fake knows, with the values of a new post.
METRICS: Mapping[str, Any] = {
    "post_media_view": 120,
    "post_total_media_view_unique": 95,
    "post_clicks": 7,
    "post_reactions_by_type_total": {"like": 3, "love": 1},
    "post_impressions": 130,
    "post_impressions_unique": 99,
    "post_engaged_users": 9,
}
#: Metrics Meta has retired: asking for them is error 100.
RETIRED_METRICS = frozenset({"post_impressions", "post_impressions_unique", "post_engaged_users"})


def _meta_error(status: int, code: int, message: str, **extra: Any) -> dict[str, Any]:
    error = {"message": message, "type": "OAuthException", "code": code, **extra}
    error.setdefault("fbtrace_id", "AbCdEfGhIjK")
    return {"status": status, "json": {"error": error}}


_SORRY_PAGE = """<!DOCTYPE html>
<html lang="en" id="facebook"><head><title>Facebook | Error</title>
<meta charset="utf-8"><style>body{font-family:Helvetica}</style></head>
<body><div id="content"><h2>Sorry, something went wrong.</h2>
<p>We're working on it and we'll get it fixed as soon as we can.</p>
<p>Request: {path}</p></div></body></html>
"""

_USAGE = json.dumps(
    {
        PAGE_ID: [
            {
                "type": "pages",
                "call_count": 100,
                "total_cputime": 12,
                "total_time": 14,
                "estimated_time_to_regain_access": 17,
            }
        ]
    }
)

_UNEXPECTED = _meta_error(
    500, 2, "An unexpected error has occurred. Please retry your request later.", is_transient=True
)

#: Named answers: Meta's error bodies with their HTTP statuses, and failure behaviours.
ANSWERS: dict[str, dict[str, Any]] = {
    "error_1": _meta_error(500, 1, "An unknown error has occurred.", is_transient=False),
    "error_2": _UNEXPECTED,
    "error_4": _meta_error(403, 4, "(#4) Application request limit reached", is_transient=True),
    "error_10": _meta_error(403, 10, "(#10) Application does not have permission for this action"),
    "error_17": _meta_error(
        403, 17, "(#17) User request limit reached", is_transient=True, error_subcode=2446079
    ),
    "error_32": _meta_error(403, 32, "(#32) Page request limit reached", is_transient=True),
    "error_32_with_usage": {
        **_meta_error(403, 32, "(#32) Page request limit reached", is_transient=True),
        "headers": {"X-Business-Use-Case-Usage": _USAGE},
    },
    "error_102": _meta_error(400, 102, "Session key invalid or no longer valid"),
    "error_190_460": _meta_error(
        400,
        190,
        "Error validating access token: The session has been invalidated because the user "
        "changed their password or Facebook has changed the session for security reasons.",
        error_subcode=460,
    ),
    "error_190_463": _meta_error(
        400,
        190,
        "Error validating access token: Session has expired on Tuesday, 15-Sep-26 07:00:00 "
        "PDT. The current time is Tuesday, 15-Sep-26 09:12:31 PDT.",
        error_subcode=463,
    ),
    "error_190_467": _meta_error(400, 190, "Invalid OAuth access token.", error_subcode=467),
    "error_200": _meta_error(
        403,
        200,
        "(#200) The permission(s) pages_manage_posts are not available. It could because "
        "either they are deprecated or need to be approved by App Review.",
    ),
    "error_324": _meta_error(400, 324, "(#324) Missing or invalid image file"),
    "error_341": _meta_error(400, 341, "(#341) Feed action request limit reached"),
    "error_368": _meta_error(
        400,
        368,
        "It looks like you were misusing this feature by going too fast. You've been "
        "temporarily blocked from using it.",
        error_subcode=1390008,
        is_transient=True,
        error_user_title="You Can't Use This Feature Right Now",
        error_user_msg="It looks like you were misusing this feature by going too fast.",
    ),
    "error_506": _meta_error(
        400,
        506,
        "Duplicate status message",
        error_subcode=1455006,
        is_transient=False,
        error_user_title="Duplicate Status Update",
        error_user_msg="This status update is identical to the last one you posted. Try "
        "posting something different, or delete your previous update.",
    ),
    "error_613": _meta_error(
        400, 613, "(#613) Calls to this api have exceeded the rate limit.", is_transient=True
    ),
    "error_80001": _meta_error(
        400,
        80001,
        "There have been too many calls to this Page account. Wait a bit and try again.",
        is_transient=True,
    ),
    "error_100": _meta_error(400, 100, "(#100) Invalid parameter", error_subcode=1487124),
    "error_100_echoing_token": _meta_error(
        400, 100, "(#100) Invalid parameter near '{access_token}'"
    ),
    "error_1609005": _meta_error(400, 1609005, "Error Posting Link"),
    "error_500_without_error": {"status": 500, "json": {"ok": False}},
    "html_502": {
        "status": 502,
        "content_type": "text/html; charset=utf-8",
        "body": _SORRY_PAGE,
    },
    "html_404": {
        "status": 404,
        "content_type": "text/html; charset=utf-8",
        "body": "<html><head><title>404 Not Found</title></head><body>{path}</body></html>",
    },
    "truncated_json": {
        "status": 200,
        "content_type": "application/json; charset=UTF-8",
        "body": '{"id": "12',
    },
    "slow": {"delay": 1.0},
    "create_then_500": {"create": True, **_UNEXPECTED},
    "create_then_hang": {"create": True, "delay": 30.0},
    "create_then_drop": {"create": True, "drop": True},
    "drop": {"drop": True},
}


@dataclass(frozen=True)
class UploadedFile:
    """A file received in a multipart request."""

    filename: str | None
    content_type: str | None
    sha256: str
    size: int


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake received it."""

    method: str
    path: str
    kind: str | None
    query: dict[str, str]
    form: dict[str, str]
    files: dict[str, UploadedFile]
    headers: dict[str, str]

    @property
    def params(self) -> dict[str, str]:
        """Query and form fields together, as the Graph API reads them."""
        return {**self.query, **self.form}


@dataclass
class FakePhoto:
    """An uploaded photo; unpublished ones wait to be attached to a feed post."""

    id: str
    sha256: str
    size: int
    alt_text: str | None
    caption: str | None
    published: bool


@dataclass
class FakePost:
    """A post on the fake Page, with the counts read_metrics will see."""

    id: str
    message: str | None
    created_time: datetime
    link: str | None = None
    photos: list[FakePhoto] = field(default_factory=list)
    shares: int = 0
    reactions: int = 0
    comments: int = 0
    insights: dict[str, Any] = field(default_factory=lambda: dict(METRICS))

    @property
    def permalink_url(self) -> str:
        page, _, number = self.id.partition("_")
        return f"https://www.facebook.com/{page}/posts/{number}"

    @property
    def alt_texts(self) -> list[str | None]:
        return [photo.alt_text for photo in self.photos]


class _Answer:
    def __init__(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/json; charset=UTF-8",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = dict(headers or {})


def _json_answer(status: int, payload: Any) -> _Answer:
    return _Answer(status, json.dumps(payload).encode("utf-8"))


class ServedFake:
    """What the fakes of Meta's Graph APIs share: serving on a free port of 127.0.0.1 in a
    daemon thread, answers scripted per request kind, and every request recorded.

    A subclass names its request :attr:`kinds` and scripted :attr:`answers`, and answers a
    request in ``_answer`` (see :class:`_Handler`).
    """

    kinds: tuple[str, ...] = ()
    answers: Mapping[str, Mapping[str, Any]] = {}

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._scripts: dict[str, deque[dict[str, Any] | None]] = {}
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        """The base address, e.g. ``http://127.0.0.1:PORT``."""
        assert self._server is not None, f"{type(self).__name__} is not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Self:
        """Listen on a free port of 127.0.0.1 in a daemon thread."""
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        """Stop serving and release any answer that is still being delayed."""
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def script(self, kind: str, *answers: str | Mapping[str, Any] | None) -> None:
        """Queue answers for the next requests of ``kind`` (one of :attr:`kinds`): names
        from :attr:`answers`, answer dicts, or None for the normal answer."""
        if kind not in self.kinds:
            raise ValueError(f"unknown request kind {kind!r}; use one of {self.kinds}")
        resolved = []
        for answer in answers:
            if isinstance(answer, str):
                if answer not in self.answers:
                    raise ValueError(f"unknown answer {answer!r}; see ANSWERS")
                answer = self.answers[answer]
            resolved.append(None if answer is None else dict(answer))
        with self._lock:
            self._scripts.setdefault(kind, deque()).extend(resolved)

    def of_kind(self, kind: str) -> list[RecordedRequest]:
        """The recorded requests of one kind, in order."""
        return [request for request in self.requests if request.kind == kind]


class FakeGraphAPI(ServedFake):
    """The fake server. ``start()`` it (or use the ``fake_graph`` fixture), then point
    ``graph_url`` at :attr:`url`."""

    kinds = KINDS
    answers = ANSWERS

    def __init__(
        self,
        *,
        token: str | None = None,
        page_id: str = PAGE_ID,
        page_name: str = PAGE_NAME,
        version: str = VERSION,
    ) -> None:
        self.token = token or f"canary-page-token-{secrets.token_hex(8)}"
        self.page_id = page_id
        self.page_name = page_name
        self.version = version
        super().__init__()
        self.posts: list[FakePost] = []
        self.photos: dict[str, FakePhoto] = {}
        self.retired_metrics: set[str] = set(RETIRED_METRICS)
        #: Whether /posts filters on ``since`` (Meta does; off to test the client's check).
        self.honour_since = True
        self._next_number = 1000

    def release_delayed(self) -> None:
        """Let every answer that is being delayed go now (and later ones wait again)."""
        with self._lock:
            self._release.set()
            self._release = threading.Event()

    def reset(self) -> None:
        """Forget posts, photos, requests and scripts; release delayed answers."""
        with self._lock:
            self._release.set()
            self._release = threading.Event()
            self.requests.clear()
            self.posts.clear()
            self.photos.clear()
            self._scripts.clear()
            self.retired_metrics = set(RETIRED_METRICS)
            self.honour_since = True

    # -- scripting and state -----------------------------------------------------

    def add_post(
        self, message: str | None, created_time: datetime | None = None, **counts: Any
    ) -> FakePost:
        """A post already on the Page (made by hand, or long ago)."""
        with self._lock:
            post = FakePost(self._new_post_id(), message, _second(created_time), **counts)
            self.posts.append(post)
        return post

    def wait_for_posts(self, count: int, timeout: float = 30.0) -> bool:
        """Whether ``count`` posts exist within ``timeout`` (a slow answer creates late)."""
        deadline = time.monotonic() + timeout
        while len(self.posts) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return len(self.posts) >= count

    def _new_post_id(self) -> str:
        self._next_number += 1
        return f"{self.page_id}_{self._next_number}"

    def _new_photo_id(self) -> str:
        self._next_number += 1
        return str(9_000_000 + self._next_number)

    # -- answering ---------------------------------------------------------------

    def _answer(self, handler: _Handler, request: RecordedRequest) -> _Answer | None:
        with self._lock:
            self.requests.append(request)
            queue = self._scripts.get(request.kind or "")
            scripted = queue.popleft() if queue else None
            release = self._release
        if scripted is None:
            return self._normal(request)
        normal = None
        if scripted.get("create"):
            normal = self._normal(request)
        if scripted.get("delay"):
            release.wait(float(scripted["delay"]))
        if scripted.get("drop"):
            return None
        if "status" not in scripted:
            return normal or self._normal(request)
        token = _token_of(request) or ""
        if "json" in scripted:
            text = json.dumps(scripted["json"])
            content_type = "application/json; charset=UTF-8"
        else:
            text = scripted.get("body", "")
            content_type = scripted.get("content_type", "text/plain")
        text = text.replace("{access_token}", token).replace("{path}", handler.path)
        return _Answer(
            int(scripted["status"]), text.encode("utf-8"), content_type, scripted.get("headers")
        )

    def _normal(self, request: RecordedRequest) -> _Answer:
        if _token_of(request) != self.token:
            return _answer_of(ANSWERS["error_190_463"])
        parts = request.path.strip("/").split("/")
        if not parts or parts[0] != self.version:
            return _answer_of(
                _meta_error(400, 2500, f"Unknown path components: /{'/'.join(parts)}")
            )
        handlers = {
            "POST photos": self._post_photo,
            "POST feed": self._post_feed,
            "GET posts": self._get_posts,
            "GET post": self._get_post,
            "GET insights": self._get_insights,
            "GET page": self._get_page,
        }
        handler = handlers.get(request.kind or "")
        if handler is None:
            return _answer_of(_meta_error(400, 2500, f"Unknown path components: {request.path}"))
        with self._lock:
            return handler(request, parts[1:])

    def _post_photo(self, request: RecordedRequest, parts: list[str]) -> _Answer:
        params = request.params
        upload = request.files.get("source")
        if upload is None:
            return _answer_of(_meta_error(400, 324, "(#324) Requires upload file"))
        if upload.size == 0:
            return _answer_of(ANSWERS["error_324"])
        published = params.get("published", "true")
        if published not in ("true", "false", "1", "0"):
            return _answer_of(_meta_error(400, 100, "(#100) Param published must be a boolean"))
        photo = FakePhoto(
            self._new_photo_id(),
            upload.sha256,
            upload.size,
            params.get("alt_text_custom"),
            params.get("caption"),
            published in ("true", "1"),
        )
        self.photos[photo.id] = photo
        if not photo.published:
            return _json_answer(200, {"id": photo.id})
        post = FakePost(self._new_post_id(), photo.caption, _second(None), photos=[photo])
        self.posts.append(post)
        return _json_answer(200, {"id": photo.id, "post_id": post.id})

    def _post_feed(self, request: RecordedRequest, parts: list[str]) -> _Answer:
        params = request.params
        photos = []
        for index in range(len(params)):
            value = params.get(f"attached_media[{index}]")
            if value is None:
                break
            try:
                photo = self.photos[str(json.loads(value)["media_fbid"])]
            except (ValueError, KeyError, TypeError):
                return _answer_of(
                    _meta_error(400, 100, f"(#100) param attached_media[{index}] is invalid")
                )
            photos.append(photo)
        message, link = params.get("message"), params.get("link")
        if not (message or link or photos):
            return _answer_of(_meta_error(400, 100, "(#100) Missing message or attachment"))
        post = FakePost(self._new_post_id(), message, _second(None), link=link, photos=photos)
        self.posts.append(post)
        return _json_answer(200, {"id": post.id})

    def _get_posts(self, request: RecordedRequest, parts: list[str]) -> _Answer:
        params = request.query
        since = int(params["since"]) if params.get("since") else None
        fields = _fields(params.get("fields", ""))
        limit = int(params.get("limit", "25"))
        start = int(params.get("after", "0"))
        listed = sorted(self.posts, key=lambda p: (p.created_time, p.id), reverse=True)
        if since is not None and self.honour_since:
            listed = [p for p in listed if p.created_time.timestamp() >= since]
        window = listed[start : start + limit]
        data = [_post_fields(post, fields) for post in window]
        paging: dict[str, Any] = {"cursors": {"before": str(start), "after": str(start + limit)}}
        if start + limit < len(listed):
            query = {k: v for k, v in params.items() if k != "after"}
            query.update(after=str(start + limit), access_token=_token_of(request) or "")
            paging["next"] = f"{self.url}{request.path}?{urlencode(query)}"
        return _json_answer(200, {"data": data, "paging": paging})

    def _get_post(self, request: RecordedRequest, parts: list[str]) -> _Answer:
        post = self._find(parts[0])
        if post is None:
            return _answer_of(_unsupported_get(parts[0]))
        fields = _fields(request.query.get("fields", "id,created_time,message"))
        return _json_answer(200, _post_fields(post, fields))

    def _get_insights(self, request: RecordedRequest, parts: list[str]) -> _Answer:
        post = self._find(parts[0])
        if post is None:
            return _answer_of(_unsupported_get(parts[0]))
        data = []
        for metric in request.query.get("metric", "").split(","):
            if metric in self.retired_metrics or metric not in post.insights:
                return _answer_of(
                    _meta_error(400, 100, "(#100) The value must be a valid insights metric")
                )
            data.append(
                {
                    "name": metric,
                    "period": "lifetime",
                    "values": [{"value": post.insights[metric]}],
                    "title": metric.replace("_", " ").capitalize(),
                    "id": f"{post.id}/insights/{metric}/lifetime",
                }
            )
        token = _token_of(request) or ""
        here = f"{self.url}{request.path}?metric={data[0]['name'] if data else ''}"
        paging = {
            "previous": f"{here}&since=1&access_token={token}",
            "next": f"{here}&until=2&access_token={token}",
        }
        return _json_answer(200, {"data": data, "paging": paging})

    def _get_page(self, request: RecordedRequest, parts: list[str]) -> _Answer:
        return _json_answer(200, {"id": self.page_id, "name": self.page_name})

    def _find(self, post_id: str) -> FakePost | None:
        return next((post for post in self.posts if post.id == post_id), None)

    def _kind(self, method: str, path: str) -> str | None:
        parts = path.strip("/").split("/")[1:]
        if method == "POST" and len(parts) == 2 and parts[0] == self.page_id:
            return {"photos": "POST photos", "feed": "POST feed"}.get(parts[1])
        if method != "GET":
            return None
        if len(parts) == 2:
            if parts[1] == "posts" and parts[0] == self.page_id:
                return "GET posts"
            if parts[1] == "insights":
                return "GET insights"
        if len(parts) == 1:
            return "GET page" if parts[0] == self.page_id else "GET post"
        return None


class _Server(ThreadingHTTPServer):
    """Serves a fake of Meta's Graph API (this one, or the Instagram Graph API's): the
    fake names each request's kind (``_kind``) and answers it (``_answer``)."""

    daemon_threads = True
    block_on_close = False
    fake: Any

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (timeout) makes the late answer fail: that is expected."""


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "FakeGraph/1.0"

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests read the fake's ``requests`` instead."""

    def _handle(self) -> None:
        fake = self.server.fake
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        form, files = _parse_body(self.headers.get("Content-Type", ""), body)
        request = RecordedRequest(
            method=self.command,
            path=split.path,
            kind=fake._kind(self.command, split.path),
            query={k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()},
            form=form,
            files=files,
            headers=dict(self.headers.items()),
        )
        answer = fake._answer(self, request)
        if answer is None:
            self.close_connection = True
            return
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        self.send_header("facebook-api-version", fake.version)
        self.send_header("x-fb-trace-id", "AbCdEfGhIjK")
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(answer.body)


def _parse_body(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, UploadedFile]]:
    if content_type.startswith("application/x-www-form-urlencoded"):
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True)
        return {k: v[-1] for k, v in parsed.items()}, {}
    if not content_type.startswith("multipart/form-data"):
        return {}, {}
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    form: dict[str, str] = {}
    files: dict[str, UploadedFile] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None:
            files[str(name)] = UploadedFile(
                filename, part.get("Content-Type"), hashlib.sha256(data).hexdigest(), len(data)
            )
        else:
            form[str(name)] = data.decode(part.get_content_charset() or "utf-8")
    return form, files


def _token_of(request: RecordedRequest) -> str | None:
    authorization = request.headers.get("Authorization") or request.headers.get("authorization")
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() in ("bearer", "oauth"):
            return value.strip()
    return request.params.get("access_token")


def _answer_of(spec: Mapping[str, Any]) -> _Answer:
    return _Answer(int(spec["status"]), json.dumps(spec["json"]).encode("utf-8"))


def _unsupported_get(object_id: str) -> dict[str, Any]:
    return _meta_error(
        400,
        100,
        f"Unsupported get request. Object with ID '{object_id}' does not exist, cannot be "
        "loaded due to missing permissions, or does not support this operation.",
        error_subcode=33,
    )


def _fields(text: str) -> set[str]:
    """Top-level field names of a ``fields`` parameter (``reactions.summary(...)`` → reactions)."""
    names = set()
    for part in text.split(","):
        name = part.split(".")[0].split("{")[0].split("(")[0].strip()
        if name:
            names.add(name)
    return names


def _post_fields(post: FakePost, fields: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "created_time" in fields:
        out["created_time"] = post.created_time.strftime("%Y-%m-%dT%H:%M:%S+0000")
    if "message" in fields and post.message:
        out["message"] = post.message
    if "permalink_url" in fields:
        out["permalink_url"] = post.permalink_url
    if "shares" in fields and post.shares:
        out["shares"] = {"count": post.shares}
    if "reactions" in fields:
        out["reactions"] = {
            "data": [],
            "summary": {"total_count": post.reactions, "viewer_reaction": "NONE"},
        }
    if "comments" in fields:
        out["comments"] = {
            "data": [],
            "summary": {"order": "ranked", "total_count": post.comments, "can_comment": True},
        }
    out["id"] = post.id
    return out


def _second(moment: datetime | None) -> datetime:
    return (moment or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)


@pytest.fixture
def fake_graph() -> Iterator[FakeGraphAPI]:
    """A started fake Graph API, stopped after the test."""
    fake = FakeGraphAPI().start()
    try:
        yield fake
    finally:
        fake.stop()
