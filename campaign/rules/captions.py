"""Captions per channel: present, within each platform's limits, no dead links on Instagram."""

from __future__ import annotations

from urllib.parse import urlsplit

from campaign.config import ChannelName
from campaign.readability import lix, lix_band
from campaign.rules.context import PostCheck
from campaign.text_patterns import HASHTAG, MENTION, find_urls
from campaign.yaml_source import FieldPath

INSTAGRAM_MAX_CHARACTERS = 2200
INSTAGRAM_MAX_HASHTAGS = 30
INSTAGRAM_MAX_MENTIONS = 20
FACEBOOK_MAX_CHARACTERS = 63206
#: Links in one text warned about one by one; the rest in one warning.
MAX_LINK_WARNINGS = 5
PLACEHOLDERS = ("TODO", "Skriv inläggets text här", "Beskriv vad bilden visar")


def check_captions(check: PostCheck) -> None:
    """Every channel has a caption within its limits; channel blocks match the channels."""
    placeholders_checked: set[FieldPath] = set()
    for channel in check.channels:
        text, where = check.caption_for(channel)
        if text is None or not text.strip():
            _missing_caption(check, channel)
            continue
        if channel == "instagram":
            _check_instagram_text(check, text, where, "caption")
        elif (length := len(text.rstrip())) > FACEBOOK_MAX_CHARACTERS:
            check.sink.error(
                check.at(*where),
                "facebook-caption-length",
                f"the Facebook caption has {length:,} characters; Facebook takes at most "
                f"{FACEBOOK_MAX_CHARACTERS:,}. Shorten it.",
            )
        if where not in placeholders_checked:
            placeholders_checked.add(where)
            check_placeholders(check, text, where)
    _check_channel_blocks(check)


def check_readability(check: PostCheck) -> None:
    """Swedish captions should be plain: warn above the configured LIX."""
    language = check.fields.get("language") or check.config.campaign.language
    if language.split("-")[0] != "sv":
        return
    limit = check.config.check.max_lix
    seen: set[str] = set()
    for channel in check.channels:
        text, where = check.caption_for(channel)
        if not text or text in seen:
            continue
        seen.add(text)
        score = lix(text)
        if score is not None and score > limit:
            check.sink.warning(
                check.at(*where),
                "readability",
                f"the caption is hard to read: LIX {score:.0f} ({lix_band(score)}), above the "
                f"limit of {limit:g}. Write shorter sentences and prefer short, everyday words.",
            )


def _missing_caption(check: PostCheck, channel: ChannelName) -> None:
    where = check.at_key("caption") if check.source.has(("caption",)) else check.at()
    check.sink.error(
        where,
        "caption-missing",
        f"there is no caption for {channel}. Write the text under `caption: |`, "
        f"or give {channel} its own under `{channel}:` → `caption:`.",
    )


def _check_instagram_text(check: PostCheck, text: str, where: FieldPath, what: str) -> None:
    length = len(text.rstrip())  # as sent: the line break that ends a `|` block is dropped
    if length > INSTAGRAM_MAX_CHARACTERS:
        check.sink.error(
            check.source.in_text(where, text, INSTAGRAM_MAX_CHARACTERS),
            "instagram-caption-length",
            f"the Instagram {what} has {length:,} characters; Instagram cuts it off after "
            f"{INSTAGRAM_MAX_CHARACTERS:,}. Shorten it, or give Instagram its own shorter "
            "text under `instagram:` → `caption:`.",
        )
    hashtags = list(HASHTAG.finditer(text))
    if len(hashtags) > INSTAGRAM_MAX_HASHTAGS:
        check.sink.error(
            check.source.in_text(where, text, hashtags[INSTAGRAM_MAX_HASHTAGS].start()),
            "instagram-hashtags",
            f"the Instagram {what} has {len(hashtags)} hashtags; Instagram allows at most "
            f"{INSTAGRAM_MAX_HASHTAGS} and may hide a post with more. Remove "
            f"{len(hashtags) - INSTAGRAM_MAX_HASHTAGS}.",
        )
    mentions = list(MENTION.finditer(text))
    if len(mentions) > INSTAGRAM_MAX_MENTIONS:
        check.sink.error(
            check.source.in_text(where, text, mentions[INSTAGRAM_MAX_MENTIONS].start()),
            "instagram-mentions",
            f"the Instagram {what} mentions {len(mentions)} accounts; Instagram allows at most "
            f"{INSTAGRAM_MAX_MENTIONS}. Remove {len(mentions) - INSTAGRAM_MAX_MENTIONS}.",
        )
    urls = find_urls(text)
    for url in urls[:MAX_LINK_WARNINGS]:
        check.sink.warning(
            check.source.in_text(where, text, url.start()),
            "instagram-link",
            f"`{url.group()[:200]}` in the Instagram {what} will not be clickable there. Write "
            '"link in bio", or give Instagram its own text without the link under '
            "`instagram:` → `caption:`.",
        )
    if len(urls) > MAX_LINK_WARNINGS:
        check.sink.warning(
            check.source.in_text(where, text, urls[MAX_LINK_WARNINGS].start()),
            "instagram-link",
            f"{len(urls) - MAX_LINK_WARNINGS:,} more web addresses in the Instagram {what} "
            "will not be clickable there either.",
        )


def check_placeholders(check: PostCheck, text: str, where: FieldPath) -> None:
    """Text left over from `campaign new`'s template: an error once the post is ready."""
    for placeholder in PLACEHOLDERS:
        offset = text.find(placeholder)
        if offset == -1:
            continue
        message = f'"{placeholder}" is still in the text: replace it with the real text.'
        position = check.source.in_text(where, text, offset)
        if check.is_ready:
            check.sink.error(position, "placeholder", message)
        else:
            check.sink.warning(position, "placeholder", message)


def _check_channel_blocks(check: PostCheck) -> None:
    channels = check.channels
    for channel in ("facebook", "instagram"):
        if check.fields.get(channel) is not None and channel not in channels:
            check.sink.warning(
                check.at_key(channel),
                "unused-channel-block",
                f"the `{channel}:` block is not used: this post does not go to {channel}. "
                f"Add {channel} to `channels`, or remove the block.",
            )
    instagram = check.fields.get("instagram")
    if instagram is not None and instagram.first_comment:
        _check_instagram_text(
            check, instagram.first_comment, ("instagram", "first_comment"), "first comment"
        )
    facebook = check.fields.get("facebook")
    if facebook is not None and facebook.link is not None:
        parts = urlsplit(facebook.link.strip())
        if parts.scheme not in ("http", "https") or "." not in parts.netloc:
            check.sink.error(
                check.at("facebook", "link"),
                "facebook-link",
                f'`link` "{facebook.link}" is not a web address. Write the whole address, '
                "starting with https://, like https://www.sodertalje.se/",
            )
