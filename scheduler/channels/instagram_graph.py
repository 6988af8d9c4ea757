"""Instagram through Meta's official Instagram Graph API (content publishing).

Publishing one post: read the publishing limit; put each rendition on the media host (Meta
downloads images from a URL, it takes no uploads); make a container per image (children
with ``is_carousel_item`` and a ``CAROUSEL`` parent for several images); wait until each
container is ``FINISHED``; ``media_publish`` the container; add the first comment; read the
permalink. Only ``media_publish`` creates a post; see instagram_graph_errors.py for what each
failure means.

Calls go through ``requests`` directly rather than facebook-sdk: the library checks no HTTP
status, sets no timeout, puts the token in URLs and only knows API versions up to 3.1, which
the Facebook channel has to work around with its own session. Here every call has a
timeout, the token travels only in an ``Authorization`` header to the configured Graph API
(never in a URL, an error text or a log line), and the HTTP answer is at hand for
classification.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from scheduler.channels.base import (
    Channel,
    CredentialCheck,
    MediaItem,
    Metrics,
    PublishRequest,
    PublishResult,
    RemotePost,
    captions_match,
)
from scheduler.channels.errors import ChannelError, ErrorClass
from scheduler.channels.facebook_errors import ResponseInfo, duration
from scheduler.channels.instagram_graph_errors import (
    INVALID_PARAMETER_CODE,
    PUBLISHING_LIMIT_CODE,
    classify_answer,
    classify_odd_answer,
    classify_transport,
    container_failed,
)
from scheduler.channels.meta_time import as_utc, parse_meta_time
from scheduler.media_host.base import HostedImage, MediaHost, MediaHostError
from scheduler.redaction import redact, register_secret

log = logging.getLogger(__name__)

MAX_CAROUSEL = 10
#: How long a hosted image's URL keeps working unless the constructor is told otherwise
#: ([media_host] url_expires_minutes): Meta fetches it while the container is made; the
#: margin covers a slow fetch and the wait for the container.
URL_VALID_FOR = timedelta(minutes=30)
#: The rolling window of Instagram's publishing limit, when Meta does not say.
QUOTA_WINDOW = timedelta(hours=24)
#: The rest when the limit is used up and the oldest post in the window cannot be read.
QUOTA_FALLBACK_REST = timedelta(hours=1)
MEDIA_FIELDS = "id,caption,timestamp,permalink"
SEARCH_PAGE_SIZE = 25
SEARCH_MAX_PAGES = 4
QUOTA_PAGE_SIZE = 100
#: Insights metrics, asked one by one, and the Metrics field each fills (None: raw only).
INSIGHTS: Mapping[str, str | None] = {
    "views": "views",
    "reach": "reach",
    "likes": "reactions",
    "comments": "comments",
    "shares": "shares",
    "saved": "saves",
    "total_interactions": None,
}


@dataclass(frozen=True)
class InstagramGraphSettings:
    """Where the Instagram professional account is reached."""

    ig_user_id: str
    graph_url: str
    api_version: str


@dataclass(frozen=True)
class PollPolicy:
    """How long to wait for a container: ``first_wait`` seconds, growing by ``factor`` up
    to ``longest_wait``, until the waits add up to ``give_up_after`` seconds."""

    first_wait: float = 2.0
    factor: float = 1.6
    longest_wait: float = 15.0
    give_up_after: float = 120.0


class InstagramGraphChannel(Channel):
    """An Instagram professional account, written to through the Instagram Graph API."""

    name = "instagram"
    kind = "instagram-graph"

    def __init__(
        self,
        settings: InstagramGraphSettings,
        token: str,
        host: MediaHost,
        timeout: float,
        *,
        remove_after: bool,
        poll: PollPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] | None = None,
        token_hint: str = "the Instagram token environment variable",
        url_valid_for: timedelta = URL_VALID_FOR,
    ) -> None:
        ig_user_id = settings.ig_user_id.strip()
        if not ig_user_id:
            raise ValueError("[channels.instagram] ig_user_id is empty: there is no account")
        if not token:
            raise ValueError("the Instagram token is empty")
        register_secret(token)
        self.settings = settings
        self.ig_user_id = ig_user_id
        self.host = host
        self.timeout = timeout
        self.remove_after = remove_after
        self.url_valid_for = url_valid_for
        self.poll = poll or PollPolicy()
        self._sleep = sleep
        self._clock = clock or (lambda: datetime.now(UTC))
        self._token_hint = token_hint
        self._base = f"{settings.graph_url.rstrip('/')}/{settings.api_version.strip('/')}/"
        self._session = requests.Session()
        self._session.headers["Authorization"] = f"Bearer {token}"

    # -- publishing --------------------------------------------------------------

    def publish(self, request: PublishRequest) -> PublishResult:
        """Make the post; only ``media_publish`` can create it."""
        self._check_media(request)
        self._check_quota()
        hosted: list[HostedImage] = []
        warnings: list[str] = []
        try:
            for item in request.media:
                hosted.append(self._put(item))
            creation_id = self._containers(request, hosted)
            answer = self._call(
                "POST",
                f"{self.ig_user_id}/media_publish",
                wrote=True,
                data={"creation_id": creation_id},
            )
        except ChannelError as error:
            if error.code == str(PUBLISHING_LIMIT_CODE) and error.retry_after is None:
                error.retry_after = self._quota_rest()
            raise
        finally:
            warnings.extend(self._remove(hosted))
        media_id = str(answer.get("id") or "")
        if not media_id:
            raise ChannelError(
                ErrorClass.UNKNOWN_OUTCOME,
                "Instagram accepted the post but did not say its id. The scheduler will look "
                "for it on the account before any new try.",
            )
        rest: float | None = None
        if request.first_comment:
            try:
                self._call("POST", f"{media_id}/comments", data={"message": request.first_comment})
            except ChannelError as problem:
                warnings.append(
                    "The post is on Instagram, but its first comment could not be added "
                    f"({problem.message}). Add it by hand in the Instagram app."
                )
                if problem.error_class is ErrorClass.RATE_LIMITED:
                    rest = problem.retry_after or 0.0
        return PublishResult(
            remote_id=media_id,
            url=self._permalink(media_id),
            warnings=tuple(warnings),
            rest_seconds=rest,
        )

    def _check_media(self, request: PublishRequest) -> None:
        if not request.media:
            raise ChannelError(
                ErrorClass.PERMANENT,
                f"Instagram needs at least one image, and post {request.post_id} has none. "
                "Add an image under `images:` or leave Instagram out of `channels:`.",
            )
        if len(request.media) > MAX_CAROUSEL:
            raise ChannelError(
                ErrorClass.PERMANENT,
                f"Instagram shows at most {MAX_CAROUSEL} images in one post, and post "
                f"{request.post_id} has {len(request.media)}. Remove some and publish again.",
            )
        for item in request.media:
            if not item.path.is_file():
                raise ChannelError(
                    ErrorClass.PERMANENT,
                    f"The picture {item.path.name} for post {request.post_id} is missing. "
                    "Run `campaign render`, then publish again.",
                )

    def _check_quota(self) -> None:
        """Rest, rather than fail, when the 24-hour publishing limit is used up."""
        answer = self._call(
            "GET",
            f"{self.ig_user_id}/content_publishing_limit",
            params={"fields": "config,quota_usage"},
        )
        data = answer.get("data")
        entry = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}
        config = entry.get("config") if isinstance(entry.get("config"), dict) else {}
        used, total = _as_int(entry.get("quota_usage")), _as_int(config.get("quota_total"))
        if used is None or total is None or used < total:
            return
        window = _as_int(config.get("quota_duration"))
        rest = self._quota_rest(timedelta(seconds=window) if window else QUOTA_WINDOW)
        raise ChannelError(
            ErrorClass.RATE_LIMITED,
            f"Instagram's limit of {total} posts published through its API in 24 hours is used "
            f"up ({used} so far). Nothing was published. The channel rests for "
            f"{duration(rest)}, until the limit frees, and then publishes; nothing to do.",
            code=PUBLISHING_LIMIT_CODE,
            platform_message=f"content_publishing_limit: quota_usage {used} of {total}",
            retry_after=rest,
        )

    def _quota_rest(self, window: timedelta = QUOTA_WINDOW) -> float:
        """Seconds until the oldest post of the window leaves it, read from the account's
        media (posts made by hand are in that list too, so this is the earliest the limit
        can free); an hour when the list cannot be read."""
        now = self._clock()
        try:
            page = self._call(
                "GET",
                f"{self.ig_user_id}/media",
                params={"fields": "id,timestamp", "limit": str(QUOTA_PAGE_SIZE)},
            )
        except ChannelError:
            return QUOTA_FALLBACK_REST.total_seconds()
        times = [parse_meta_time(item.get("timestamp")) for item in _items(page)]
        inside = [t for t in times if t is not None and now - t < window]
        if not inside:
            return QUOTA_FALLBACK_REST.total_seconds()
        return max(60.0, (min(inside) + window - now).total_seconds())

    def _put(self, item: MediaItem) -> HostedImage:
        try:
            return self.host.put(item.path, valid_for=self.url_valid_for)
        except MediaHostError as problem:
            kind = ErrorClass.TRANSIENT if problem.temporary else ErrorClass.PERMANENT
            then = (
                "It will be tried again later."
                if problem.temporary
                else "Fix the [media_host] settings in config.toml and publish the post again."
            )
            raise ChannelError(
                kind,
                f"the image {item.path.name} could not be put on the media host "
                f"({problem.message}), so nothing was published. {then}",
                platform_message=redact(problem.message),
            ) from None

    def _containers(self, request: PublishRequest, hosted: list[HostedImage]) -> str:
        """Make and wait for the containers; the id to publish."""
        items = list(zip(request.media, hosted, strict=True))
        if len(items) == 1:
            item, image = items[0]
            fields = {"image_url": image.url, "caption": request.caption}
            if item.alt:
                fields["alt_text"] = item.alt
            container = self._create(fields)
            self._wait(container, item.path.name)
            return container
        children = []
        for item, image in items:
            fields = {"image_url": image.url, "is_carousel_item": "true"}
            if item.alt:
                fields["alt_text"] = item.alt
            children.append((self._create(fields), item.path.name))
        for child, name in children:
            self._wait(child, name)
        parent = self._create(
            {
                "media_type": "CAROUSEL",
                "children": ",".join(child for child, _ in children),
                "caption": request.caption,
            }
        )
        self._wait(parent, "the carousel")
        return parent

    def _create(self, fields: dict[str, str]) -> str:
        answer = self._call("POST", f"{self.ig_user_id}/media", data=fields)
        container = str(answer.get("id") or "")
        if not container:
            raise ChannelError(
                ErrorClass.TRANSIENT,
                "Instagram took an image but did not say the id of its upload. Nothing was "
                "published; it will be tried again later.",
            )
        return container

    def _wait(self, container: str, name: str) -> None:
        """Poll ``status_code`` with growing waits until FINISHED, within the bound."""
        waited, wait = 0.0, self.poll.first_wait
        while True:
            answer = self._call("GET", container, params={"fields": "status_code,status"})
            status = str(answer.get("status_code") or "")
            if status in ("FINISHED", "PUBLISHED"):
                return
            if status == "ERROR":
                raise container_failed(str(answer.get("status") or ""), image_names=name)
            if status == "EXPIRED":
                raise ChannelError(
                    ErrorClass.TRANSIENT,
                    f"Instagram's prepared upload of {name} expired before it was published. "
                    "Nothing was published; the next try makes a new one.",
                    platform_message="status_code EXPIRED",
                )
            if waited >= self.poll.give_up_after:
                raise ChannelError(
                    ErrorClass.TRANSIENT,
                    f"Instagram was still preparing {name} after {duration(waited)}. Nothing "
                    "was published; it will be tried again later with a new upload.",
                    platform_message=f"status_code {status or 'missing'}",
                )
            wait = min(wait, self.poll.longest_wait, self.poll.give_up_after - waited)
            self._sleep(wait)
            waited += wait
            wait *= self.poll.factor

    def _remove(self, hosted: list[HostedImage]) -> list[str]:
        if not self.remove_after:
            return []
        problems = []
        for image in hosted:
            try:
                self.host.remove(image)
            except MediaHostError as problem:
                log.warning("could not remove a hosted image: %s", problem.message)
                problems.append(
                    f"An image could not be removed from the media host ({problem.message}); "
                    "remove it by hand if it must not stay public."
                )
        return problems

    def _permalink(self, media_id: str) -> str | None:
        try:
            answer = self._call("GET", media_id, params={"fields": "permalink"})
        except ChannelError as problem:
            log.info("instagram permalink of %s not read: %s", media_id, problem.message)
            return None
        link = answer.get("permalink")
        return str(link) if link else None

    # -- reconciling -------------------------------------------------------------

    def find_published(self, request: PublishRequest, since: datetime) -> RemotePost | None:
        """The account's newest media with this caption made at or after ``since``."""
        since = as_utc(since).replace(microsecond=0)
        params: dict[str, str] | None = {"fields": MEDIA_FIELDS, "limit": str(SEARCH_PAGE_SIZE)}
        for _ in range(SEARCH_MAX_PAGES):
            if params is None:
                break
            page = self._call("GET", f"{self.ig_user_id}/media", params=params)
            older = False
            for item in _items(page):
                created = parse_meta_time(item.get("timestamp"))
                if created is not None and created < since:
                    older = True
                    continue
                if item.get("id") and captions_match(
                    request.caption, str(item.get("caption") or "")
                ):
                    return RemotePost(
                        remote_id=str(item["id"]),
                        url=str(item["permalink"]) if item.get("permalink") else None,
                        created_at=created,
                        caption=str(item.get("caption") or ""),
                    )
            params = None if older else _next_page(page, params)
        return None

    # -- engagement --------------------------------------------------------------

    def read_metrics(self, remote_id: str) -> Metrics:
        """Insights one metric at a time; one Meta refuses with error 100 (retired, or not
        available for this media) stays None."""
        values: dict[str, int | None] = {}
        raw: dict[str, Any] = {"insights": {}}
        for metric in INSIGHTS:
            try:
                answer = self._call("GET", f"{remote_id}/insights", params={"metric": metric})
            except ChannelError as error:
                if error.code != str(INVALID_PARAMETER_CODE):
                    raise
                raw.setdefault("unavailable", {})[metric] = error.platform_message
                continue
            raw["insights"][metric] = _insight_entries(answer)
            values[metric] = _insight_value(answer, metric)
        by_field = {field: values.get(metric) for metric, field in INSIGHTS.items() if field}
        return Metrics(
            reactions=by_field["reactions"],
            comments=by_field["comments"],
            shares=by_field["shares"],
            saves=by_field["saves"],
            views=by_field["views"],
            reach=by_field["reach"],
            raw=raw,
        )

    def check_credentials(self) -> CredentialCheck:
        """One read of the account's user name with the token."""
        try:
            answer = self._call("GET", self.ig_user_id, params={"fields": "id,username"})
        except ChannelError as error:
            return CredentialCheck(False, error.message)
        name = answer.get("username") or "(no user name)"
        return CredentialCheck(
            True, f"the token works for the Instagram account @{name} ({self.ig_user_id})"
        )

    # -- one call ----------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        wrote: bool = False,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """One Graph API call; every failure becomes a classified ChannelError."""
        what = f"{method} {path.split('/')[-1] if '/' in path else 'object'}"
        try:
            response = self._session.request(
                method, self._base + path, params=params, data=data, timeout=self.timeout
            )
            info = ResponseInfo.from_response(response)
            try:
                body = response.json()
            except ValueError:
                body = None
        except requests.RequestException as exc:
            error = classify_transport(exc, wrote=wrote)
            log.debug("instagram %s failed: %s", what, error.platform_message)
            raise error from None
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            error = classify_answer(
                body["error"], wrote=wrote, response=info, token_hint=self._token_hint
            )
        elif info.status >= 400 or not isinstance(body, dict):
            shape = "no JSON object" if not isinstance(body, dict) else "no error in the body"
            error = classify_odd_answer(info, wrote=wrote, what=shape)
        else:
            return body
        log.debug(
            "instagram %s failed: %s (%s, code %s)",
            what,
            error.platform_message,
            error.error_class.value,
            error.code,
        )
        raise error


def _items(page: Mapping[str, Any]) -> list[dict[str, Any]]:
    data = page.get("data")
    return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []


def _next_page(page: Mapping[str, Any], params: dict[str, str]) -> dict[str, str] | None:
    """The next page by its ``after`` cursor (``paging.next`` carries the token: unused)."""
    paging = page.get("paging")
    cursors = paging.get("cursors") if isinstance(paging, dict) else None
    after = cursors.get("after") if isinstance(cursors, dict) else None
    if not after or not isinstance(paging, dict) or not paging.get("next"):
        return None
    return {**params, "after": str(after)}


def _insight_entries(answer: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The metric entries only (no paging: its URLs may carry the token)."""
    return [
        {"name": entry.get("name"), "period": entry.get("period"), "values": entry.get("values")}
        for entry in _items(answer)
    ]


def _insight_value(answer: Mapping[str, Any], metric: str) -> int | None:
    for entry in _items(answer):
        if entry.get("name") == metric:
            values = entry.get("values")
            if isinstance(values, list) and values and isinstance(values[-1], dict):
                return _as_int(values[-1].get("value"))
            total = entry.get("total_value")
            if isinstance(total, dict):
                return _as_int(total.get("value"))
    return None


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return int(value)
    except ValueError:
        return None
