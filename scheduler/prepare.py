"""Turn a valid post into the exact requests that will be sent, renditions made.

Renditions come from the branding step (cached by content hash, so preparing
ahead of time makes the publish itself cheap). The fingerprint covers everything
that is sent, so a post edited after it went out is noticed and not re-published.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from campaign.branding.cache import FileDigests
from campaign.branding.instagram_limits import rendition_too_large
from campaign.branding.render_all import BrandSetupProblem, plan_renditions, render_campaign
from campaign.config import ChannelName, Config
from campaign.post import Post
from campaign.safe_output import UnsafeOutput
from scheduler.channels.base import MediaItem, PublishRequest


class PrepareProblem(ValueError):
    """A post could not be turned into a request (its images cannot be rendered)."""


@dataclass(frozen=True)
class Prepared:
    """The request for each account of one post (by account name; the default accounts
    are named like their platforms)."""

    post: Post
    requests: dict[str, PublishRequest]


def prepare_posts(
    posts: Iterable[Post], config: Config, workers: int | None = 1, *, isolate: bool = False
) -> tuple[list[Prepared], dict[str, str]]:
    """Render what is missing and build the requests; posts that fail are in the dict
    (post id → what is wrong), the others in the list. ``isolate``: draw only in worker
    processes, never in this one (see :func:`render_campaign`)."""
    posts = list(posts)
    digests = FileDigests(config.build_dir)
    try:
        jobs = plan_renditions(posts, config, digests)
        digests.save()
        report = render_campaign(jobs, workers, isolate=isolate)
    except (BrandSetupProblem, UnsafeOutput) as problem:
        return [], {post.id: str(problem) for post in posts}
    problems: dict[str, str] = {}
    for job, reason in report.failed:
        image = job.post.images[job.index].file
        problems.setdefault(job.post.id, f"image `{image}` for {job.channel}: {reason}")
    for job in jobs:
        if job.post.id not in problems and (
            reason := _too_large(config, job.post, job.channel, job.output)
        ):
            image = job.post.images[job.index].file
            problems[job.post.id] = f"image `{image}` for {job.channel}: {reason}"
    outputs: dict[tuple[str, ChannelName], dict[int, MediaItem]] = {}
    for job in jobs:
        if job.post.id in problems:
            continue
        item = MediaItem(
            path=job.output,
            alt=job.post.images[job.index].alt,
            sha256=_sha256_of(job.output),
        )
        outputs.setdefault((job.post.id, job.channel), {})[job.index] = item
    prepared = []
    for post in posts:
        if post.id in problems:
            continue
        requests = {}
        for account in post.accounts:
            platform = post.account_platform[account]
            media = tuple(outputs.get((post.id, platform), {}).values())
            requests[account] = build_request(post, platform, media, account=account)
        prepared.append(Prepared(post, requests))
    return prepared, problems


def build_request(
    post: Post, channel: ChannelName, media: tuple[MediaItem, ...], *, account: str | None = None
) -> PublishRequest:
    """The request for ``account`` on platform ``channel`` (default: the platform's
    default account): its final caption, link and first comment, media in order, and the
    fingerprint. The fingerprint is fed the account's name, which for a default account
    is the platform's, as it always was: a post published before accounts existed is not
    taken for edited.

    Facebook's photo endpoints take no link, so a photo post's link goes at the end
    of its caption; a text post sends it as a link (with its preview card).
    """
    account = account or channel
    if account in post.account_platform:
        caption = post.caption_for_account(account)
        given_link = post.link_for(account)
        first_comment = post.first_comment_for(account)
    else:  # a platform the post does not name: its per-platform texts
        caption = post.caption_for(channel)
        given_link = post.facebook.link if channel == "facebook" else None
        first_comment = post.instagram.first_comment if channel == "instagram" else None
    link = None
    if channel == "facebook" and given_link:
        if media:
            caption = f"{caption}\n\n{given_link}" if caption else given_link
        else:
            link = given_link
    if channel != "instagram":
        first_comment = None
    fingerprint = content_fingerprint(account, caption, link, first_comment, media)
    return PublishRequest(
        post_id=post.id,
        channel=channel,
        caption=caption,
        media=media,
        fingerprint=fingerprint,
        link=link,
        first_comment=first_comment,
        account=account,
    )


def _too_large(config: Config, post: Post, channel: ChannelName, path: Path) -> str | None:
    """Why a rendition cannot go to the post's accounts on ``channel`` (None: it can):
    only an Instagram account through the official API has a size limit."""
    graph = any(
        config.accounts[account].backend == "graph"
        for account in post.accounts
        if post.account_platform[account] == channel and account in config.accounts
    )
    if not graph:
        return None
    if config.instagram_backend == "graph":
        return rendition_too_large(config, channel, path)
    # The default Instagram account uses instagrapi, another one the official API.
    return rendition_too_large(cast(Config, _GraphBackend()), channel, path)


class _GraphBackend:
    """What :func:`rendition_too_large` reads of a config, for an account of [accounts.*]
    that uses the official API while the default Instagram account does not."""

    instagram_backend = "graph"


def content_fingerprint(
    channel: str,
    caption: str,
    link: str | None,
    first_comment: str | None,
    media: tuple[MediaItem, ...],
) -> str:
    """SHA-256 over everything that is sent for one publication."""
    payload = json.dumps(
        [channel, caption, link, first_comment, [(m.sha256, m.alt) for m in media]],
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def media_json(media: tuple[MediaItem, ...]) -> str:
    """What the store keeps of the media sent: file name, alt text and SHA-256."""
    return json.dumps(
        [{"file": m.path.name, "alt": m.alt, "sha256": m.sha256} for m in media],
        ensure_ascii=False,
    )


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
