"""Tags: each one whole wherever it goes, and all of them within what the store keeps."""

from __future__ import annotations

from campaign.rules.context import PostCheck
from campaign.tag_text import MAX_STORED_CHARACTERS, tags_text


def check_tags(check: PostCheck) -> None:
    """The post's tags, written as the store keeps them, fit its column."""
    tags = check.fields.get("tags") or []
    stored = tags_text(tags) or ""
    if len(stored) > MAX_STORED_CHARACTERS:
        check.sink.error(
            check.at_key("tags"),
            "tags-too-long",
            f"the tags take {len(stored):,} characters together; at most "
            f"{MAX_STORED_CHARACTERS} fit. Use fewer or shorter tags.",
        )
