"""Captions per account: present, within each platform's limits, no dead links on Instagram."""

from __future__ import annotations

from urllib.parse import urlsplit

from campaign.accounts import PLATFORM_NAMES
from campaign.config import CHANNELS, ChannelName
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
    """Every account has a caption within its platform's limits (each text checked once
    per platform); channel and account blocks match the post's accounts."""
    placeholders_checked: set[FieldPath] = set()
    limits_checked: set[tuple[ChannelName, FieldPath]] = set()
    for account in check.accounts:
        channel = check.account_platform(account)
        text, where = check.caption_for_account(account)
        if text is None or not text.strip():
            _missing_caption(check, account)
            continue
        if (channel, where) not in limits_checked:
            limits_checked.add((channel, where))
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
    _check_account_blocks(check)


def check_readability(check: PostCheck) -> None:
    """Swedish captions should be plain: warn above the configured LIX."""
    language = check.fields.get("language") or check.config.campaign.language
    if language.split("-")[0] != "sv":
        return
    limit = check.config.check.max_lix
    seen: set[str] = set()
    for account in check.accounts:
        text, where = check.caption_for_account(account)
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


def _missing_caption(check: PostCheck, account: str) -> None:
    where = check.at_key("caption") if check.source.has(("caption",)) else check.at()
    own = f"`{account}:`" if account in CHANNELS else f"`per_account:` → `{account}:`"
    check.sink.error(
        where,
        "caption-missing",
        f"there is no caption for {account}. Write the text under `caption: |`, "
        f"or give {account} its own under {own} → `caption:`.",
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
    channels = check.channels  # a block is used when any account of its platform is
    for channel in CHANNELS:
        if check.fields.get(channel) is not None and channel not in channels:
            add = (
                f"Add {'an' if channel == 'instagram' else 'a'} {PLATFORM_NAMES[channel]} "
                "account to `accounts`"
                if check.names_accounts
                else f"Add {channel} to `channels`"
            )
            check.sink.warning(
                check.at_key(channel),
                "unused-channel-block",
                f"the `{channel}:` block is not used: this post does not go to {channel}. "
                f"{add}, or remove the block.",
            )
    instagram = check.fields.get("instagram")
    if instagram is not None and instagram.first_comment:
        _check_instagram_text(
            check, instagram.first_comment, ("instagram", "first_comment"), "first comment"
        )
    facebook = check.fields.get("facebook")
    if facebook is not None and facebook.link is not None:
        _check_link(check, facebook.link, ("facebook", "link"))


def _check_link(check: PostCheck, link: str, where: FieldPath) -> None:
    parts = urlsplit(link.strip())
    if parts.scheme not in ("http", "https") or "." not in parts.netloc:
        check.sink.error(
            check.at(*where),
            "facebook-link",
            f'`link` "{link}" is not a web address. Write the whole address, '
            "starting with https://, like https://www.sodertalje.se/",
        )


def _check_account_blocks(check: PostCheck) -> None:
    """Each `per_account:` block is for one of the post's accounts, and holds only what
    its platform takes: a link on Facebook, a first comment on Instagram."""
    known = check.config.accounts
    for name, block in (check.fields.get("per_account") or {}).items():
        if name not in known:
            continue  # reported with the names (rules.naming)
        if name not in check.accounts:
            check.sink.warning(
                check.at_key("per_account", name),
                "unused-account-block",
                f"the `{name}:` block under `per_account:` is not used: this post does not go "
                f"to {name}. Add {name} to `accounts`, or remove the block.",
            )
            continue
        platform = known[name].platform
        where: FieldPath = ("per_account", name)
        if block.link is not None and platform != "facebook":
            check.sink.error(
                check.at_key(*where, "link"),
                "account-link",
                f"`link` is only for Facebook accounts, and {name} is an Instagram account: "
                'Instagram shows no link with a post. Remove it, and write "link in bio" '
                "in the caption if you need to.",
            )
        elif block.link:
            _check_link(check, block.link, (*where, "link"))
        if block.first_comment is not None and platform != "instagram":
            check.sink.error(
                check.at_key(*where, "first_comment"),
                "account-first-comment",
                f"`first_comment` is only for Instagram accounts, and {name} is a Facebook "
                "account. Remove it, or put the text in the caption.",
            )
        elif block.first_comment:
            _check_instagram_text(
                check, block.first_comment, (*where, "first_comment"), "first comment"
            )
