"""The Instagram channel: posts photos and carousels through instagrapi's private API.

It works from the session saved by ``campaign login instagram`` (see
:mod:`scheduler.channels.instagram_session`) and never asks anyone anything: a
security check becomes an AUTH error that tells a human to log in again.

Alt text: a single photo sends ``custom_accessibility_caption`` with its configure
call, as instagrapi documents. ``album_upload`` in instagrapi 3.2.2 has no alt text
parameter, so each carousel item gets its ``custom_accessibility_caption`` in the
``children_metadata`` of ``media/configure_sidecar/`` through ``album_upload``'s
``configure_handler``. When Instagram answers with an item's alt text and it is not
ours, the publish succeeds with a warning to add it in the app.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from instagrapi.extractors import extract_media_v1
from instagrapi.types import Media

from campaign.config import InstagramSection
from scheduler.channels.base import (
    Channel,
    CredentialCheck,
    Metrics,
    PublishRequest,
    PublishResult,
    RemotePost,
    captions_match,
    normalised_caption,
)
from scheduler.channels.errors import ChannelError, ErrorClass
from scheduler.channels.instagram_errors import (
    LOGIN_AGAIN,
    classify_instagram_error,
    is_login_required,
)
from scheduler.channels.instagram_session import SessionClient, load_client, save_client
from scheduler.redaction import redact, register_secret

log = logging.getLogger(__name__)

#: How many of the account's latest posts reconciliation looks through.
RECENT_POSTS = 20
#: The aggregate numbers of a media item kept as the raw engagement sample.
AGGREGATE_FIELDS = (
    "like_count",
    "comment_count",
    "play_count",
    "view_count",
    "ig_play_count",
    "fb_like_count",
    "fb_play_count",
    "save_count",
    "reshare_count",
    "share_count",
    "carousel_media_count",
)
T = TypeVar("T")


class InstagramChannel(Channel):
    """Publishes to one Instagram account from its saved session.

    The instagrapi client is made on first use and shared under a lock: it keeps
    per-request state and is not safe to use from two threads at once.
    """

    name = "instagram"
    kind = "instagram"

    def __init__(
        self,
        settings: InstagramSection,
        session_file: Path,
        password: str | None,
        timeout: float,
    ) -> None:
        self.settings = settings
        self.session_file = session_file
        self.timeout = timeout
        self._password = password or None
        register_secret(self._password)
        self._client: SessionClient | None = None
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        password = "set" if self._password else None
        return (
            f"InstagramChannel(username={self.settings.username!r}, "
            f"session_file={str(self.session_file)!r}, password={password})"
        )

    # -- publishing -------------------------------------------------------------------

    def publish(self, request: PublishRequest) -> PublishResult:
        """Post the photo or carousel, then the first comment (whose failure is only a warning).

        On a logged-out session it logs in again once from the saved session (with the
        password when there is one); the post is then tried again only if nothing could
        have been created yet.
        """
        self._check_media(request)
        with self._lock:
            client = self._session()
            client.configure_sent = False
            try:
                media = self._create(client, request)
            except Exception as exc:
                if not is_login_required(exc):
                    raise classify_instagram_error(exc, wrote=client.configure_sent) from None
                wrote = client.configure_sent
                client = self._login_again()
                if wrote:
                    # Instagram answered the configure call itself with "log in": no post.
                    raise ChannelError(
                        ErrorClass.TRANSIENT,
                        "Instagram had logged the account out when the post was sent, so "
                        "nothing was posted. The scheduler has logged in again and will try "
                        "the post again.",
                        code=403,
                        subcode="login_required",
                    ) from None
                client.configure_sent = False
                try:
                    media = self._create(client, request)
                except Exception as again:
                    raise classify_instagram_error(again, wrote=client.configure_sent) from None
            warnings = self._alt_text_warnings(client, request, media)
            rest: float | None = None
            if request.first_comment:
                problem = self._comment(client, media, request.first_comment)
                if problem is not None:
                    warnings.append(
                        redact(
                            "The post is on Instagram, but its first comment could not be "
                            f"added ({problem.platform_message or problem.message}). Add it "
                            "by hand in the Instagram app."
                        )
                        or ""
                    )
                    if problem.error_class is ErrorClass.RATE_LIMITED:
                        rest = problem.retry_after or 0.0
        return PublishResult(
            remote_id=str(media.pk),
            url=f"https://www.instagram.com/p/{media.code}/",
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
        for item in request.media:
            if not item.path.is_file():
                raise ChannelError(
                    ErrorClass.PERMANENT,
                    f"The picture {item.path} for post {request.post_id} is missing. "
                    "Run `campaign render`, then publish again.",
                )

    def _create(self, client: SessionClient, request: PublishRequest) -> Media:
        if len(request.media) == 1:
            item = request.media[0]
            return client.photo_upload(
                item.path,
                request.caption,
                extra_data={"custom_accessibility_caption": item.alt},
            )
        alts = [item.alt for item in request.media]

        def configure_with_alt_text(
            children: list[dict[str, Any]],
            caption: str,
            usertags: Any,
            location: Any,
            extra_data: dict[str, Any] | None = None,
        ) -> dict[str, Any]:
            described = [
                {**child, "custom_accessibility_caption": alt}
                for child, alt in zip(children, alts, strict=True)
            ]
            return client.album_configure(
                described, caption, usertags, location, extra_data=extra_data or {}
            )

        return client.album_upload(
            [item.path for item in request.media],
            request.caption,
            configure_handler=configure_with_alt_text,
        )

    def _alt_text_warnings(
        self, client: SessionClient, request: PublishRequest, media: Media
    ) -> list[str]:
        """Warnings for images whose alt text Instagram gave back different from ours."""
        try:
            if len(request.media) == 1:
                returned = [media.accessibility_caption]
            else:  # instagrapi's Media keeps no alt text per item: read the configure answer
                answer = client.last_json if isinstance(client.last_json, dict) else {}
                items = (answer.get("media") or {}).get("carousel_media") or []
                returned = [item.get("accessibility_caption") for item in items]
        except (AttributeError, TypeError):
            return []  # the post exists; an odd answer must not turn into a failure
        warnings = []
        for number, (item, alt) in enumerate(zip(request.media, returned, strict=False), 1):
            if alt is not None and normalised_caption(alt) != normalised_caption(item.alt):
                warnings.append(
                    f"Instagram did not keep the alt text of image {number}. Add it in the "
                    "Instagram app: edit the post, then Accessibility (alt text)."
                )
        return warnings

    def _comment(self, client: SessionClient, media: Media, text: str) -> ChannelError | None:
        """Add the first comment; the classified problem if that failed (the post stands)."""
        try:
            client.media_comment(media.id, text)
        except Exception as exc:
            problem = classify_instagram_error(exc, wrote=False)
            log.warning("Instagram post %s made, first comment failed: %s", media.pk, problem)
            return problem
        return None

    # -- reading ------------------------------------------------------------------------

    def find_published(self, request: PublishRequest, since: datetime) -> RemotePost | None:
        """The account's post with this caption made at or after ``since``, among the latest."""
        since = since if since.tzinfo else since.replace(tzinfo=UTC)

        def recent(client: SessionClient) -> list[dict[str, Any]]:
            answer = client.private_request(
                f"feed/user/{client.user_id}/",
                params={
                    "count": RECENT_POSTS,
                    "rank_token": client.rank_token,
                    "ranked_content": "true",
                },
            )
            return list(answer.get("items") or [])

        # Not user_medias(): it turns network errors into an empty list, which would
        # read as "not posted" and lead to a second post.
        for item in self._read(recent):
            media = extract_media_v1(item)
            taken_at = (
                media.taken_at if media.taken_at.tzinfo else media.taken_at.replace(tzinfo=UTC)
            )
            if taken_at >= since and captions_match(request.caption, media.caption_text):
                return RemotePost(
                    remote_id=str(media.pk),
                    url=f"https://www.instagram.com/p/{media.code}/",
                    created_at=taken_at,
                    caption=media.caption_text,
                )
        return None

    def read_metrics(self, remote_id: str) -> Metrics:
        """Likes, comments and (for videos) plays of the post, read fresh every time; for a
        business or creator account also reach, saves and shares from its insights.

        The account type comes with the post (``user.account_type``: 1 personal, 2 business,
        3 creator). Insights are asked for only for 2 and 3; when they are missing or refused,
        those counts stay None (and ``raw["insights_unavailable"]`` says why). Only a rate
        limit on the insights call is raised, so that the channel rests.
        """
        pk = remote_id.split("_", 1)[0]

        # media_info(use_cache=False) would answer any private-API failure (a logout
        # included) from the public web instead; read the private answer directly.
        def info(client: SessionClient) -> dict[str, Any]:
            items = client.private_request(f"media/{pk}/info/").get("items") or []
            if not items:
                raise ChannelError(ErrorClass.PERMANENT, f"Instagram has no post {pk} (any more).")
            return dict(items[0])

        item = self._read(info)
        raw: dict[str, Any] = {
            key: item[key] for key in AGGREGATE_FIELDS if isinstance(item.get(key), int)
        }
        views = raw.get("play_count", raw.get("ig_play_count", raw.get("view_count")))
        insights: dict[str, int] = {}
        user = item.get("user")
        if isinstance(user, dict) and user.get("account_type") in (2, 3):
            try:
                insights = self._media_insights(pk)
            except ChannelError as problem:
                if problem.error_class is ErrorClass.RATE_LIMITED:
                    raise
                raw["insights_unavailable"] = problem.platform_message or problem.message
            else:
                raw["insights"] = insights
        saves = raw.get("save_count", insights.get("save_count"))
        shares = raw.get("reshare_count", raw.get("share_count", insights.get("share_count")))
        return Metrics(
            reactions=raw.get("like_count"),
            comments=raw.get("comment_count"),
            shares=shares,
            saves=saves,
            views=views,
            reach=insights.get("reach_count"),
            raw=raw,
        )

    def _media_insights(self, pk: str) -> dict[str, int]:
        """A post's insights (reach, impressions, saves, shares): aggregate numbers only.

        The private GraphQL query instagrapi 3.2.2's ``insights_media`` sends (same doc_id).
        That method is not called itself: it turns every error, a logout or a rate limit
        included, into a ``MediaError`` that could not be classified.
        """
        data = {
            "surface": "post",
            "doc_id": 3221905377882880,
            "locale": "en_US",
            "vc_policy": "insights_policy",
            "strip_nulls": False,
            "strip_defaults": False,
        }
        query = {"query_params": {"access_token": "", "id": pk}}

        def ask(client: SessionClient) -> dict[str, Any]:
            answer = client.private_request("ads/graphql/", client.with_query_params(data, query))
            found = (answer.get("data") or {}) if isinstance(answer, dict) else {}
            media = found.get("instagram_post_by_igid") or found.get("media")
            node = media.get("inline_insights_node") if isinstance(media, dict) else None
            metrics = node.get("metrics") if isinstance(node, dict) else None
            if not isinstance(media, dict) or not isinstance(metrics, dict):
                raise ChannelError(
                    ErrorClass.PERMANENT,
                    "Instagram gave no insights for this post.",
                    platform_message="no insights in the answer (not a business account?)",
                )
            return {"media": media, "metrics": metrics}

        answer = self._read(ask)
        media, metrics = answer["media"], answer["metrics"]
        shared = metrics.get("share_count")
        reach = metrics.get("reach")
        counts = {
            "reach_count": metrics.get("reach_count")
            if "reach_count" in metrics
            else (reach.get("value") if isinstance(reach, dict) else None),
            "impression_count": metrics.get("impression_count"),
            "save_count": media.get("save_count"),
            "share_count": shared.get("post", {}).get("value")
            if isinstance(shared, dict) and isinstance(shared.get("post"), dict)
            else shared,
        }
        return {
            key: value
            for key, value in counts.items()
            if isinstance(value, int) and not isinstance(value, bool)
        }

    def check_credentials(self) -> CredentialCheck:
        """Whether the saved session works, with one read of the account."""
        try:
            account = self._read(lambda client: client.account_info())
        except ChannelError as problem:
            return CredentialCheck(ok=False, detail=problem.message)
        if account.username.casefold() != self.settings.username.casefold():
            return CredentialCheck(
                ok=False,
                detail=(
                    f"The saved session is for @{account.username}, but config.toml says "
                    f"@{self.settings.username}: {LOGIN_AGAIN}."
                ),
            )
        return CredentialCheck(ok=True, detail=f"logged in to Instagram as @{account.username}")

    # -- the session ----------------------------------------------------------------------

    def _read(self, call: Callable[[SessionClient], T]) -> T:
        """Run a read; after a logout, log in again once and read again (reads are safe)."""
        with self._lock:
            client = self._session()
            try:
                return call(client)
            except ChannelError:
                raise
            except Exception as exc:
                if not is_login_required(exc):
                    raise classify_instagram_error(exc, wrote=False) from None
            client = self._login_again()
            try:
                return call(client)
            except ChannelError:
                raise
            except Exception as exc:
                raise classify_instagram_error(exc, wrote=False) from None

    def _session(self) -> SessionClient:
        if self._client is None:
            self._client = self._load()
        return self._client

    def _load(self) -> SessionClient:
        try:
            return load_client(self.settings, self.session_file, self.timeout)
        except (OSError, ValueError) as exc:
            raise ChannelError(ErrorClass.AUTH, redact(str(exc)) or LOGIN_AGAIN) from None
        except Exception as exc:  # a session file instagrapi cannot make sense of
            raise ChannelError(
                ErrorClass.AUTH,
                f"The saved Instagram session cannot be used ({type(exc).__name__}): "
                f"{LOGIN_AGAIN}.",
            ) from None

    def _login_again(self) -> SessionClient:
        """Reload the saved session and log in again (password) or check it (no password)."""
        self._client = None
        client = self._load()
        try:
            if self._password:
                client.login(self.settings.username, self._password)
            else:
                client.account_info()
        except Exception as exc:
            problem = classify_instagram_error(exc, wrote=False)
            if is_login_required(exc) and not self._password:
                raise ChannelError(
                    ErrorClass.AUTH,
                    "Instagram has logged the account out, and there is no password to log in "
                    f"again with (set {self.settings.password_env}). Please {LOGIN_AGAIN}.",
                    code=problem.code,
                    subcode=problem.subcode,
                    platform_message=problem.platform_message,
                ) from None
            raise problem from None
        try:
            save_client(client, self.session_file)
        except (OSError, ValueError) as exc:
            log.warning("Logged in to Instagram again, but could not save the session: %s", exc)
        self._client = client
        return client
