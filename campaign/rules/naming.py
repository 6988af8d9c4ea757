"""File names: a post's id is its file name, so it must be safe and say its date."""

from __future__ import annotations

import re

from campaign.rules.context import PostCheck
from campaign.timeparse import PublishTime

SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
#: A post's id is kept with each publication: at most this long.
MAX_ID_LENGTH = 120
DATED_ID = re.compile(r"(\d{4}-\d{2}-\d{2})-[A-Za-z0-9_-]+")


def check_file_name(check: PostCheck, post_id: str, when: PublishTime | None) -> None:
    """The id is plain ASCII, and starts with the date the post goes out."""
    if not SAFE_ID.fullmatch(post_id):
        check.sink.error(
            check.at(),
            "file-name",
            f'the file name "{post_id}.yaml" has characters that cause trouble in links and '
            "on other computers. Use only a–z, 0–9 and '-' (write å, ä, ö as a, a, o), like "
            "2021-09-15-demokratidagen.yaml.",
        )
        return
    if len(post_id) > MAX_ID_LENGTH:
        check.sink.error(
            check.at(),
            "file-name",
            f"the file name is {len(post_id)} characters long; at most {MAX_ID_LENGTH} are "
            "kept with each publication. Use a shorter name, like 2021-09-15-demokratidagen.yaml.",
        )
        return
    dated = DATED_ID.fullmatch(post_id)
    if not dated:
        check.sink.warning(
            check.at(),
            "file-name",
            f"name the file after its date and topic, like 2021-09-15-{post_id}.yaml, so that "
            "posts sort by date in the folder.",
        )
    elif when is not None and dated[1] != when.local.strftime("%Y-%m-%d"):
        check.sink.warning(
            check.at("publish_at"),
            "file-name-date",
            f"the file name says {dated[1]} but `publish_at` is {when}. Rename the file "
            "or correct the time, so that nobody is misled.",
        )


def check_channels_enabled(check: PostCheck) -> None:
    """Each channel named in the post is switched on in config.toml."""
    given = check.fields.get("channels") or []
    enabled = check.config.enabled_channels
    for index, channel in enumerate(given):
        if channel not in enabled:
            check.sink.error(
                check.at("channels", index),
                "channel-disabled",
                f"{channel} is switched off for this campaign ([channels.{channel}] enabled = "
                f"false in config.toml). Remove it from `channels`, or switch it on.",
            )
    if not given and not enabled:
        check.sink.error(
            check.at(),
            "channel-none",
            "no channel is switched on in config.toml, so this post cannot go anywhere.",
        )
