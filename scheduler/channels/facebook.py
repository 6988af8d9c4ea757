"""The Facebook Page channel: posts, looks up and measures through facebook-sdk 3.1.0.

facebook-sdk builds every URL from the module constant ``facebook.FACEBOOK_GRAPH_URL``
and puts the token into the query string or the form. This channel gives the library
its own requests session (:class:`_GraphSession`) that, per instance and without touching
the module constant, sends each call to ``settings.graph_url`` and moves the token into an
``Authorization: Bearer`` header, so that it never appears in a URL: not in requests'
exception texts, not in urllib3's debug log, not in a proxy's access log. The session
also keeps what the library throws away: the HTTP status and headers of the last answer.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import facebook
import requests

from campaign.config import FacebookSection
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
from scheduler.channels.facebook_errors import (
    INVALID_PARAMETER_CODE,
    ResponseInfo,
    UnexpectedAnswer,
    classify_graph_error,
)
from scheduler.channels.meta_time import as_utc, parse_meta_time
from scheduler.redaction import register_secret

log = logging.getLogger(__name__)

POST_LINK = "https://www.facebook.com/{}"
SEARCH_FIELDS = "id,message,created_time,permalink_url"
SEARCH_PAGE_SIZE = 25
SEARCH_MAX_PAGES = 4
COUNT_FIELDS = "shares,reactions.summary(total_count).limit(0),comments.summary(true).limit(0)"
#: Insights metrics, asked one by one, and the Metrics field each fills (None: raw only).
INSIGHTS: Mapping[str, str | None] = {
    "post_media_view": "views",
    "post_total_media_view_unique": "reach",
    "post_clicks": "clicks",
    "post_reactions_by_type_total": None,
}


class _GraphSession(requests.Session):
    """facebook-sdk's HTTP session: our base URL, the token in a header, the answer kept."""

    def __init__(self, graph_url: str, token: str) -> None:
        super().__init__()
        self._base = graph_url.rstrip("/") + "/"
        self._token = token
        self._local = threading.local()

    @property
    def last(self) -> ResponseInfo | None:
        """The last answer this thread received, or None when the call got no answer."""
        return getattr(self._local, "last", None)

    def request(  # type: ignore[override]
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        self._local.last = None
        prefix = facebook.FACEBOOK_GRAPH_URL
        if url.startswith(prefix):
            url = self._base + url[len(prefix) :]
        headers = dict(headers or {})
        if url.startswith(self._base):  # the token goes to the configured Graph API only
            headers["Authorization"] = f"Bearer {self._token}"
        response = super().request(
            method,
            url,
            params=_without_token(params),
            data=_without_token(data),
            headers=headers,
            **kwargs,
        )
        if "content-type" not in response.headers:
            # facebook-sdk indexes the header and would raise KeyError; this way it raises
            # its GraphAPIError for a body that is not JSON.
            response.headers["Content-Type"] = "application/octet-stream"
        self._local.last = ResponseInfo.from_response(response)
        return response


class FacebookChannel(Channel):
    """A Facebook Page, written to with a Page access token."""

    name = "facebook"
    kind = "facebook"

    def __init__(self, settings: FacebookSection, token: str, timeout: float) -> None:
        page_id = settings.page_id.strip()
        if not page_id:
            raise ValueError("[channels.facebook] page_id is empty: there is no Page to post to")
        if not token:
            raise ValueError("the Facebook Page token is empty")
        register_secret(token)
        self.settings = settings
        self.page_id = page_id
        self.timeout = timeout
        self._token_hint = f"the environment variable {settings.token_env}"
        self._session = _GraphSession(settings.graph_url, token)
        self._graph = facebook.GraphAPI(access_token=token, timeout=timeout, session=self._session)
        # The library only accepts versions up to 3.1 in its constructor.
        self._graph.version = settings.api_version

    # -- publishing --------------------------------------------------------------

    def publish(self, request: PublishRequest) -> PublishResult:
        """A text/link post, a photo post or an album; only the last call can create it."""
        if not request.media:
            fields = {"message": request.caption}
            if request.link:
                fields["link"] = request.link
            answer = self._call(
                "POST feed", lambda: self._graph.put_object(self.page_id, "feed", **fields), True
            )
        elif len(request.media) == 1:
            answer = self._upload(request.media[0], wrote=True, caption=request.caption)
        else:
            attached = {}
            for index, item in enumerate(request.media):
                photo = self._upload(item, wrote=False, published="false")
                attached[f"attached_media[{index}]"] = json.dumps({"media_fbid": photo["id"]})
            answer = self._call(
                "POST feed",
                lambda: self._graph.put_object(
                    self.page_id, "feed", message=request.caption, **attached
                ),
                True,
            )
        post_id = str(answer.get("post_id") or answer.get("id") or "")
        if not post_id:
            raise ChannelError(
                ErrorClass.UNKNOWN_OUTCOME,
                "Facebook accepted the post but did not say its id. The scheduler will look "
                "for it on the Page before any new try.",
            )
        url = answer.get("permalink_url") or POST_LINK.format(post_id)
        warnings = ()
        if request.first_comment:
            warnings = ("the first comment was not posted: the Facebook channel posts none.",)
        return PublishResult(remote_id=post_id, url=url, warnings=warnings)

    def _upload(self, item: MediaItem, *, wrote: bool, **fields: str) -> dict[str, Any]:
        """``POST /{page}/photos`` with the file as ``source`` and its alt text."""
        if item.alt:
            fields["alt_text_custom"] = item.alt
        try:
            image = item.path.open("rb")
        except OSError as problem:
            raise ChannelError(
                ErrorClass.PERMANENT,
                f"the image {item.path.name} could not be read ({problem.strerror}), so "
                "nothing was sent. Re-export the image, run `campaign render` and publish the "
                "post again.",
            ) from None
        with image:
            answer = self._call(
                "POST photos",
                lambda: self._graph.put_photo(image, f"{self.page_id}/photos", **fields),
                wrote,
            )
        if not wrote and not answer.get("id"):
            raise ChannelError(
                ErrorClass.TRANSIENT,
                f"Facebook took the photo {item.path.name} but did not say its id. Nothing "
                "was published; it will be tried again later.",
            )
        return answer

    # -- reconciling -------------------------------------------------------------

    def find_published(self, request: PublishRequest, since: datetime) -> RemotePost | None:
        """The Page's newest post with this caption created at or after ``since``."""
        since = as_utc(since).replace(microsecond=0)
        args: dict[str, str] | None = {
            "fields": SEARCH_FIELDS,
            "since": str(int(since.timestamp())),
            "limit": str(SEARCH_PAGE_SIZE),
        }
        for _ in range(SEARCH_MAX_PAGES):
            if args is None:
                break
            page = self._call(
                "GET posts",
                lambda a=args: self._graph.get_connections(self.page_id, "posts", **a),
                False,
            )
            for item in page.get("data") or []:
                found = _matching_post(item, request.caption, since)
                if found is not None:
                    return found
            args = _next_page(page)
        return None

    # -- engagement --------------------------------------------------------------

    def read_metrics(self, remote_id: str) -> Metrics:
        """Counts of reactions, comments and shares, then insights one metric at a time;
        a metric Facebook refuses with error 100 (retired, not available) stays None."""
        counts = self._call(
            "GET post", lambda: self._graph.get_object(remote_id, fields=COUNT_FIELDS), False
        )
        values: dict[str, Any] = {}
        raw: dict[str, Any] = {"fields": _counts_only(counts), "insights": {}}
        for metric in INSIGHTS:
            try:
                answer = self._call(
                    "GET insights",
                    lambda m=metric: self._graph.get_connections(remote_id, "insights", metric=m),
                    False,
                )
            except ChannelError as error:
                if error.code != str(INVALID_PARAMETER_CODE):
                    raise
                raw.setdefault("unavailable", {})[metric] = error.platform_message
                continue
            raw["insights"][metric] = _without_paging(answer)
            values[metric] = _insight_value(answer, metric)
        by_field = {field: values.get(metric) for metric, field in INSIGHTS.items() if field}
        shares = counts.get("shares")
        return Metrics(
            reactions=_summary_count(counts, "reactions"),
            comments=_summary_count(counts, "comments"),
            # Facebook leaves ``shares`` out of the answer when nobody has shared the post.
            shares=_as_int(shares.get("count")) if isinstance(shares, dict) else 0,
            views=_as_int(by_field["views"]),
            reach=_as_int(by_field["reach"]),
            clicks=_as_int(by_field["clicks"]),
            raw=raw,
        )

    def check_credentials(self) -> CredentialCheck:
        """One read of the Page's id and name with the token."""
        try:
            page = self._call(
                "GET page",
                lambda: self._graph.get_object(self.page_id, fields="id,name"),
                False,
            )
        except ChannelError as error:
            return CredentialCheck(False, error.message)
        name = page.get("name") or "(no name)"
        page_id = page.get("id") or self.page_id
        return CredentialCheck(True, f"the token works for the Facebook Page {name} ({page_id})")

    # -- one call ----------------------------------------------------------------

    def _call(self, what: str, call: Callable[[], Any], wrote: bool) -> dict[str, Any]:
        """Run one facebook-sdk call; every failure becomes a classified ChannelError."""
        try:
            result = call()
            answer = self._session.last
            if answer is not None and answer.status >= 400:
                raise UnexpectedAnswer(answer.status)
        except (facebook.GraphAPIError, requests.RequestException, UnexpectedAnswer) as exc:
            error = classify_graph_error(
                exc, wrote=wrote, response=self._session.last, token_hint=self._token_hint
            )
            log.debug(
                "facebook %s failed: %s (%s, code %s)",
                what,
                error.platform_message,
                error.error_class.value,
                error.code,
            )
            # No chaining: the library's exception text may hold the token.
            raise error from None
        if not isinstance(result, dict):
            raise classify_graph_error(
                UnexpectedAnswer(200, "an answer that is not a JSON object"),
                wrote=wrote,
                response=self._session.last,
            )
        return result


def _without_token(fields: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if fields is None:
        return None
    return {key: value for key, value in fields.items() if key != "access_token"}


def _matching_post(item: Any, caption: str, since: datetime) -> RemotePost | None:
    if not isinstance(item, dict) or not item.get("id"):
        return None
    message = item.get("message") or ""
    created = parse_meta_time(item.get("created_time"))
    # Without a readable time, rely on the ``since`` Facebook was given.
    if created is not None and created < since:
        return None
    if not captions_match(caption, message):
        return None
    post_id = str(item["id"])
    url = item.get("permalink_url") or POST_LINK.format(post_id)
    return RemotePost(remote_id=post_id, url=url, created_at=created, caption=message)


def _next_page(page: Mapping[str, Any]) -> dict[str, str] | None:
    """The query of ``paging.next`` (which carries the token: dropped) or None."""
    paging = page.get("paging")
    following = paging.get("next") if isinstance(paging, dict) else None
    if not following or not page.get("data"):
        return None
    query = parse_qs(urlsplit(str(following)).query)
    return {key: values[-1] for key, values in query.items() if key != "access_token"}


def _counts_only(counts: Mapping[str, Any]) -> dict[str, Any]:
    """The count answer without anything that could name a person or carry the token."""
    kept: dict[str, Any] = {"id": counts.get("id")}
    if isinstance(counts.get("shares"), dict):
        kept["shares"] = {"count": counts["shares"].get("count")}
    for edge in ("reactions", "comments"):
        summary = (
            counts.get(edge, {}).get("summary") if isinstance(counts.get(edge), dict) else None
        )
        if isinstance(summary, dict):
            kept[edge] = {"summary": {"total_count": summary.get("total_count")}}
    return kept


def _without_paging(value: Any) -> Any:
    """``value`` without ``paging`` (its URLs carry the token)."""
    if isinstance(value, dict):
        return {k: _without_paging(v) for k, v in value.items() if k != "paging"}
    if isinstance(value, list):
        return [_without_paging(v) for v in value]
    return value


def _summary_count(counts: Mapping[str, Any], edge: str) -> int | None:
    summary = counts.get(edge, {}).get("summary") if isinstance(counts.get(edge), dict) else None
    return _as_int(summary.get("total_count")) if isinstance(summary, dict) else None


def _insight_value(answer: Mapping[str, Any], metric: str) -> Any:
    for entry in answer.get("data") or []:
        if isinstance(entry, dict) and entry.get("name") == metric and entry.get("values"):
            return entry["values"][-1].get("value")
    return None


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return int(value)
    except ValueError:
        return None
