"""A fake Instagram Graph API (content publishing) on 127.0.0.1: real HTTP, Meta's shapes.

It answers what the Instagram Graph channel sends: ``POST /{v}/{ig}/media`` (containers),
``GET /{v}/{container}?fields=status_code,status``, ``POST /{v}/{ig}/media_publish``,
``GET /{v}/{ig}/content_publishing_limit``, ``POST /{v}/{media}/comments``,
``GET /{v}/{media}?fields=permalink``, ``GET /{v}/{ig}/media`` (the account's media, newest
first), ``GET /{v}/{media}/insights?metric=…`` and ``GET /{v}/{ig}?fields=username``.

Like Meta it checks the token (header or query), and on container creation it really
downloads ``image_url`` over HTTP (short timeout) and refuses, with Meta's error bodies, an
address it cannot fetch, an image that is not a JPEG, one over 8 MiB, or one whose shape is
outside 4:5…1.91:1. Containers stay ``IN_PROGRESS`` for :attr:`polls_in_progress` status
reads, then ``FINISHED``. ``media_publish`` counts against a 24-hour quota
(:attr:`quota_total`, default 100).

Failures are data, as in tests/fakes/graph_api.py: queue named answers from :data:`ANSWERS`
(or dicts of that shape) per request kind with :meth:`script`; queue what happens to the
next containers from :data:`FATES` with :meth:`fate`.
"""

from __future__ import annotations

import io
import json
import secrets
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PIL import Image

from tests.fakes.graph_api import (
    RecordedRequest,
    ServedFake,
    _Answer,
    _Handler,
    _json_answer,
    _token_of,
)
from tests.fakes.graph_api import _meta_error as meta_error

IG_USER_ID = "17841400000000001"
USERNAME = "sodertaljekommun"
VERSION = "v24.0"
MAX_IMAGE_BYTES = 8 * 1024 * 1024
FETCH_TIMEOUT = 5.0

#: The request kinds answers can be scripted for.
KINDS = (
    "POST media",
    "GET container",
    "POST media_publish",
    "GET publishing_limit",
    "POST comments",
    "GET media",
    "GET media_list",
    "GET insights",
    "GET user",
)

#: Insights of a new media object (values read_metrics will see).
METRICS: Mapping[str, int] = {
    "views": 640,
    "reach": 410,
    "likes": 37,
    "comments": 4,
    "shares": 6,
    "saved": 9,
    "total_interactions": 56,
    "impressions": 700,
    "plays": 0,
}
#: Metrics Meta has retired for media: asking for them is error 100.
RETIRED_METRICS = frozenset({"impressions", "plays", "video_views", "engagement"})


def _ig_error(status: int, code: int, subcode: int | None, message: str, **extra: Any) -> dict:
    if subcode is not None:
        extra["error_subcode"] = subcode
    extra.setdefault("is_transient", False)
    return meta_error(status, code, message, **extra)


def _fetch_failed(url: str) -> dict[str, Any]:
    return _ig_error(
        400,
        9004,
        2207052,
        "Only photo or video can be accepted as media type.",
        error_user_title="Media download has failed.",
        error_user_msg=f"The media could not be fetched from this uri: {url}",
    )


#: Named answers: Meta's error bodies with their HTTP statuses, and failure behaviours.
ANSWERS: dict[str, dict[str, Any]] = {
    "error_4": _ig_error(403, 4, None, "(#4) Application request limit reached", is_transient=True),
    "error_4_spam": _ig_error(
        400,
        4,
        2207051,
        "Application request limit reached",
        error_user_title="Action is blocked",
        error_user_msg="We restrict certain activity to protect our community. Tell us if you "
        "think we made a mistake.",
    ),
    "error_9": _ig_error(
        400,
        9,
        2207042,
        "Application request limit reached",
        error_user_title="Max requests limit reached",
        error_user_msg="You reached maximum number of posts that is allowed to be published "
        "by Content Publishing API.",
    ),
    "error_10": _ig_error(
        403, 10, None, "(#10) Application does not have permission for this action"
    ),
    "error_17": _ig_error(403, 17, 2446079, "(#17) User request limit reached", is_transient=True),
    "error_32_with_usage": {
        **_ig_error(403, 32, None, "(#32) Page request limit reached", is_transient=True),
        "headers": {
            "X-Business-Use-Case-Usage": json.dumps(
                {IG_USER_ID: [{"type": "instagram", "estimated_time_to_regain_access": 25}]}
            )
        },
    },
    "error_190": _ig_error(
        400,
        190,
        463,
        "Error validating access token: Session has expired on Tuesday, 15-Sep-26 07:00:00 "
        "PDT. The current time is Tuesday, 15-Sep-26 09:12:31 PDT.",
    ),
    "error_190_echoing_token": _ig_error(
        400, 190, 467, "Invalid OAuth access token - Cannot parse access token: {access_token}"
    ),
    "error_200": _ig_error(
        403, 200, None, "(#200) The user has not authorized application to publish content"
    ),
    "error_613": _ig_error(
        400, 613, None, "(#613) Calls to this api have exceeded the rate limit."
    ),
    "error_account_restricted": _ig_error(
        400,
        25,
        2207050,
        "The Instagram account is restricted.",
        error_user_title="Restricted account",
        error_user_msg="The app user's Instagram Professional account is inactive, "
        "checkpointed, or restricted.",
    ),
    "error_server": _ig_error(
        400,
        -1,
        2207001,
        "An unexpected error has occurred. Please retry your request later.",
        is_transient=True,
        error_user_title="Server error",
        error_user_msg="Instagram server error. Try again.",
    ),
    "error_not_ready": _ig_error(
        400,
        9007,
        2207027,
        "Media ID is not available",
        error_user_title="Media not ready for publishing",
        error_user_msg="The media is not ready for publishing, please wait for a moment",
    ),
    "error_caption_too_long": _ig_error(
        400,
        100,
        2207010,
        "Invalid parameter",
        error_user_title="Caption too long",
        error_user_msg="The caption is too long.",
    ),
    "error_500": _ig_error(
        500,
        2,
        None,
        "An unexpected error has occurred. Please retry your request later.",
        is_transient=True,
    ),
    "html_502": {
        "status": 502,
        "content_type": "text/html; charset=utf-8",
        "body": "<html><head><title>502 Bad Gateway</title></head><body>{path}</body></html>",
    },
    "truncated_json": {
        "status": 200,
        "content_type": "application/json; charset=UTF-8",
        "body": '{"id": "17',
    },
    "create_then_500": {
        "create": True,
        **_ig_error(500, 2, None, "Unexpected error", is_transient=True),
    },
    "create_then_hang": {"create": True, "delay": 30.0},
    "create_then_drop": {"create": True, "drop": True},
    "create_then_truncated": {
        "create": True,
        "status": 200,
        "content_type": "application/json; charset=UTF-8",
        "body": '{"id": "17',
    },
    "hang": {"delay": 30.0},
    "drop": {"drop": True},
}

#: What happens to a container after it is made: (status codes over the status reads,
#: then for good, and the ``status`` text Meta gives with it).
FATES: dict[str, tuple[str, str]] = {
    "finished": ("FINISHED", "Finished: Media has been uploaded and it is ready to be published."),
    "error_aspect_ratio": ("ERROR", "Error: Media upload has failed with error code 2207009"),
    "error_format": ("ERROR", "Error: Media upload has failed with error code 2207026"),
    "error_server": ("ERROR", "Error: Media upload has failed with error code 2207001"),
    "error_unexplained": ("ERROR", "Error: Something went wrong"),
    "expired": ("EXPIRED", "Expired: the container was not published within 24 hours."),
    "stuck": ("IN_PROGRESS", "In Progress: Media is still being processed."),
}


@dataclass
class FakeContainer:
    """A media container as created; ``fate`` is what its status reads end in."""

    id: str
    image_url: str | None
    caption: str | None
    alt_text: str | None
    is_carousel_item: bool
    media_type: str
    children: list[str]
    fate: str = "finished"
    polls: int = 0
    image_bytes: int = 0
    published: bool = False


@dataclass
class FakeMedia:
    """A published Instagram post."""

    id: str
    caption: str | None
    timestamp: datetime
    media_type: str
    container_id: str
    alt_texts: list[str | None] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    insights: dict[str, int] = field(default_factory=lambda: dict(METRICS))

    @property
    def permalink(self) -> str:
        return f"https://www.instagram.com/p/C{self.id[-8:]}/"


class FakeInstagramGraphAPI(ServedFake):
    """The fake server. ``start()`` it (or use the ``fake_ig_graph`` fixture), then point
    ``graph_url`` at :attr:`url`."""

    kinds = KINDS
    answers = ANSWERS

    def __init__(
        self,
        *,
        token: str | None = None,
        ig_user_id: str = IG_USER_ID,
        version: str = VERSION,
        polls_in_progress: int = 1,
        quota_total: int = 100,
    ) -> None:
        self.token = token or f"canary-ig-token-{secrets.token_hex(8)}"
        self.ig_user_id = ig_user_id
        self.version = version
        #: Status reads a container answers IN_PROGRESS before its fate.
        self.polls_in_progress = polls_in_progress
        self.quota_total = quota_total
        self.quota_window = timedelta(hours=24)
        #: When each post counted against the quota was published (settable in tests).
        self.quota_uses: list[datetime] = []
        super().__init__()
        self.containers: dict[str, FakeContainer] = {}
        self.media: list[FakeMedia] = []
        self.retired_metrics: set[str] = set(RETIRED_METRICS)
        self._fates: deque[str] = deque()
        self._next_number = 17_900_000_000_000_000

    # -- scripting and state -----------------------------------------------------

    def fate(self, *fates: str) -> None:
        """What happens to the next containers made, one each (names from :data:`FATES`)."""
        for name in fates:
            if name not in FATES:
                raise ValueError(f"unknown fate {name!r}; see FATES")
        with self._lock:
            self._fates.extend(fates)

    def use_quota(self, count: int, at: datetime | None = None) -> None:
        """Posts already published through the API in the window (by another app, say)."""
        with self._lock:
            self.quota_uses.extend([at or datetime.now(UTC)] * count)

    def add_media(self, caption: str | None, timestamp: datetime | None = None) -> FakeMedia:
        """A post already on the account (made by hand, or long ago)."""
        with self._lock:
            media = FakeMedia(self._new_id(), caption, _second(timestamp), "IMAGE", "")
            self.media.append(media)
        return media

    def _quota_usage(self) -> int:
        now = datetime.now(UTC)
        return sum(1 for used in self.quota_uses if now - used < self.quota_window)

    def _new_id(self) -> str:
        self._next_number += 1 + secrets.randbelow(1000)
        return str(self._next_number)

    # -- answering ---------------------------------------------------------------

    def _answer(self, handler: _Handler, request: RecordedRequest) -> _Answer | None:
        with self._lock:
            self.requests.append(request)
            queue = self._scripts.get(request.kind or "")
            scripted = queue.popleft() if queue else None
            release = self._release
        if scripted is None:
            return self._normal(request)
        normal = self._normal(request) if scripted.get("create") else None
        if scripted.get("delay"):
            release.wait(float(scripted["delay"]))
        if scripted.get("drop"):
            return None
        if "status" not in scripted:
            return normal or self._normal(request)
        if "json" in scripted:
            text = json.dumps(scripted["json"])
            content_type = "application/json; charset=UTF-8"
        else:
            text = scripted.get("body", "")
            content_type = scripted.get("content_type", "text/plain")
        text = text.replace("{access_token}", _token_of(request) or "")
        text = text.replace("{path}", handler.path)
        return _Answer(
            int(scripted["status"]), text.encode(), content_type, scripted.get("headers")
        )

    def _normal(self, request: RecordedRequest) -> _Answer:
        if _token_of(request) != self.token:
            return _of(ANSWERS["error_190"])
        parts = request.path.strip("/").split("/")
        if not parts or parts[0] != self.version:
            return _of(meta_error(400, 2500, f"Unknown path components: {request.path}"))
        if request.kind == "POST media":
            return self._create_container(request)  # downloads: outside the lock
        handlers = {
            "GET container": self._get_container,
            "POST media_publish": self._publish,
            "GET publishing_limit": self._publishing_limit,
            "POST comments": self._comment,
            "GET media": self._get_media,
            "GET media_list": self._media_list,
            "GET insights": self._insights,
            "GET user": self._user,
        }
        handler = handlers.get(request.kind or "")
        if handler is None:
            return _of(meta_error(400, 2500, f"Unknown path components: {request.path}"))
        with self._lock:
            return handler(request, parts[1:])

    def _create_container(self, request: RecordedRequest) -> _Answer:
        params = request.params
        media_type = params.get("media_type", "IMAGE").upper()
        carousel_item = params.get("is_carousel_item", "false").lower() in ("true", "1")
        size = 0
        children: list[str] = []
        if media_type == "CAROUSEL":
            children = [c for c in params.get("children", "").split(",") if c]
            with self._lock:
                known = [self.containers.get(child) for child in children]
            if not 2 <= len(children) <= 10 or any(
                c is None or not c.is_carousel_item for c in known
            ):
                return _of(
                    _ig_error(
                        400,
                        100,
                        2207028,
                        "Invalid parameter",
                        error_user_title="Carousel validation failed",
                        error_user_msg="The carousel could not be published.",
                    )
                )
        elif "image_url" not in params:
            return _of(meta_error(400, 100, "(#100) The parameter image_url is required"))
        else:
            refusal, size = _check_image(params["image_url"])
            if refusal is not None:
                return _of(refusal)
        with self._lock:
            container = FakeContainer(
                id=self._new_id(),
                image_url=params.get("image_url"),
                caption=params.get("caption"),
                alt_text=params.get("alt_text"),
                is_carousel_item=carousel_item,
                media_type=media_type,
                children=children,
                fate=self._fates.popleft() if self._fates else "finished",
                image_bytes=size,
            )
            self.containers[container.id] = container
        return _json_answer(200, {"id": container.id})

    def _status(self, container: FakeContainer) -> tuple[str, str]:
        if container.published:
            return "PUBLISHED", "Published: Media has been published."
        if container.polls <= self.polls_in_progress:
            return FATES["stuck"]
        return FATES[container.fate]

    def _get_container(self, request: RecordedRequest, parts: list[str]) -> _Answer:
        container = self.containers[parts[0]]
        container.polls += 1
        code, text = self._status(container)
        return _json_answer(200, {"status_code": code, "status": text, "id": container.id})

    def _publish(self, request: RecordedRequest, parts: list[str]) -> _Answer:
        container = self.containers.get(request.params.get("creation_id", ""))
        if container is None or container.is_carousel_item:
            return _of(
                _ig_error(
                    400,
                    100,
                    2207006,
                    "Media ID is not available",
                    error_user_title="The media was not found",
                    error_user_msg="The media with the given ID was not found.",
                )
            )
        if self._quota_usage() >= self.quota_total:
            return _of(ANSWERS["error_9"])
        if container.published or self._status(container)[0] != "FINISHED":
            return _of(ANSWERS["error_not_ready"])
        items = [self.containers[c] for c in container.children] or [container]
        media = FakeMedia(
            id=self._new_id(),
            caption=container.caption,
            timestamp=_second(None),
            media_type="CAROUSEL_ALBUM" if container.children else "IMAGE",
            container_id=container.id,
            alt_texts=[item.alt_text for item in items],
        )
        container.published = True
        self.media.append(media)
        self.quota_uses.append(datetime.now(UTC))
        return _json_answer(200, {"id": media.id})

    def _publishing_limit(self, request: RecordedRequest, parts: list[str]) -> _Answer:
        entry = {
            "config": {"quota_total": self.quota_total, "quota_duration": 86400},
            "quota_usage": self._quota_usage(),
        }
        return _json_answer(200, {"data": [entry]})

    def _comment(self, request: RecordedRequest, parts: list[str]) -> _Answer:
        media = self._find(parts[0])
        if media is None:
            return _of(_unsupported(parts[0]))
        message = request.params.get("message", "")
        if not message:
            return _of(meta_error(400, 100, "(#100) The parameter message is required"))
        media.comments.append(message)
        return _json_answer(200, {"id": self._new_id()})

    def _get_media(self, request: RecordedRequest, parts: list[str]) -> _Answer:
        media = self._find(parts[0])
        if media is None:
            return _of(_unsupported(parts[0]))
        return _json_answer(200, _media_fields(media, request.query.get("fields", "id")))

    def _media_list(self, request: RecordedRequest, parts: list[str]) -> _Answer:
        fields = request.query.get("fields", "id")
        limit = int(request.query.get("limit", "25"))
        start = int(request.query.get("after", "0") or 0)
        listed = sorted(self.media, key=lambda m: (m.timestamp, m.id), reverse=True)
        window = listed[start : start + limit]
        paging: dict[str, Any] = {"cursors": {"before": str(start), "after": str(start + limit)}}
        if start + limit < len(listed):
            token = _token_of(request) or ""
            paging["next"] = f"{self.url}{request.path}?after={start + limit}&access_token={token}"
        return _json_answer(
            200, {"data": [_media_fields(m, fields) for m in window], "paging": paging}
        )

    def _insights(self, request: RecordedRequest, parts: list[str]) -> _Answer:
        media = self._find(parts[0])
        if media is None:
            return _of(_unsupported(parts[0]))
        data = []
        for metric in request.query.get("metric", "").split(","):
            if metric in self.retired_metrics or metric not in media.insights:
                return _of(
                    meta_error(
                        400,
                        100,
                        f"(#100) metric[0] must be one of the following values: "
                        f"{', '.join(m for m in METRICS if m not in self.retired_metrics)}",
                    )
                )
            data.append(
                {
                    "name": metric,
                    "period": "lifetime",
                    "values": [{"value": media.insights[metric]}],
                    "title": metric.replace("_", " ").capitalize(),
                    "id": f"{media.id}/insights/{metric}/lifetime",
                }
            )
        return _json_answer(200, {"data": data})

    def _user(self, request: RecordedRequest, parts: list[str]) -> _Answer:
        return _json_answer(200, {"id": self.ig_user_id, "username": USERNAME})

    def _find(self, media_id: str) -> FakeMedia | None:
        return next((media for media in self.media if media.id == media_id), None)

    def _kind(self, method: str, path: str) -> str | None:
        parts = path.strip("/").split("/")[1:]
        if len(parts) == 2 and parts[0] == self.ig_user_id:
            return {
                ("POST", "media"): "POST media",
                ("POST", "media_publish"): "POST media_publish",
                ("GET", "content_publishing_limit"): "GET publishing_limit",
                ("GET", "media"): "GET media_list",
            }.get((method, parts[1]))
        if len(parts) == 2:
            return {("POST", "comments"): "POST comments", ("GET", "insights"): "GET insights"}.get(
                (method, parts[1])
            )
        if len(parts) == 1 and method == "GET":
            if parts[0] == self.ig_user_id:
                return "GET user"
            return "GET container" if parts[0] in self.containers else "GET media"
        return None


def _check_image(url: str) -> tuple[dict[str, Any] | None, int]:
    """Download ``url`` like Meta does; Meta's refusal, or None and the size in bytes."""
    try:
        with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT) as answer:
            data = answer.read(MAX_IMAGE_BYTES + 1)
    except (urllib.error.URLError, OSError, ValueError):
        return _fetch_failed(url), 0
    if len(data) > MAX_IMAGE_BYTES:
        return (
            _ig_error(
                400,
                36000,
                2207004,
                "The image size is too large.",
                error_user_title="Image size too large",
                error_user_msg="The image is too large to download. It should be less than 8 MiB.",
            ),
            len(data),
        )
    if not data.startswith(b"\xff\xd8\xff"):
        return (
            _ig_error(
                400,
                36001,
                2207005,
                "The image format is not supported.",
                error_user_title="Unsupported image format",
                error_user_msg="The image format is not supported. Supported format: JPEG.",
            ),
            len(data),
        )
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
    except OSError:
        return _fetch_failed(url), len(data)
    ratio = width / height
    if not 0.8 - 1e-3 <= ratio <= 1.91 + 1e-3:
        return (
            _ig_error(
                400,
                36003,
                2207009,
                "The aspect ratio is not supported.",
                error_user_title="Cannot Post Image",
                error_user_msg=f"The submitted image with aspect ratio ('{ratio:.2f}',) cannot be "
                "published. Please submit an image with a valid aspect ratio.",
            ),
            len(data),
        )
    return None, len(data)


def _media_fields(media: FakeMedia, fields: str) -> dict[str, Any]:
    wanted = {name.strip() for name in fields.split(",")}
    out: dict[str, Any] = {"id": media.id}
    if "caption" in wanted and media.caption is not None:
        out["caption"] = media.caption
    if "timestamp" in wanted:
        out["timestamp"] = media.timestamp.strftime("%Y-%m-%dT%H:%M:%S+0000")
    if "permalink" in wanted:
        out["permalink"] = media.permalink
    if "media_type" in wanted:
        out["media_type"] = media.media_type
    return out


def _unsupported(object_id: str) -> dict[str, Any]:
    return meta_error(
        400,
        100,
        f"Unsupported get request. Object with ID '{object_id}' does not exist, cannot be "
        "loaded due to missing permissions, or does not support this operation.",
        error_subcode=33,
    )


def _of(spec: Mapping[str, Any]) -> _Answer:
    return _Answer(
        int(spec["status"]), json.dumps(spec["json"]).encode(), headers=spec.get("headers")
    )


def _second(moment: datetime | None) -> datetime:
    return (moment or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)


@pytest.fixture
def fake_ig_graph() -> Iterator[FakeInstagramGraphAPI]:
    """A started fake Instagram Graph API, stopped after the test."""
    fake = FakeInstagramGraphAPI().start()
    try:
        yield fake
    finally:
        fake.stop()
