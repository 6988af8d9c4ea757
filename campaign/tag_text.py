"""Tags as one line of text, for the store: ``,a,b,``, each tag whole.

A tag may contain a comma (``Val, 2022``), so inside a tag ``%`` is written ``%25`` and
``,`` is written ``%2C``: the commas that are left separate tags, and a filter for one
tag is the pattern ``%,tag,%`` with the tag written the same way. Rows written before
tags were encoded have no ``%2C`` or ``%25`` in them and read back unchanged.
"""

from __future__ import annotations

import re

#: The longest stored text (the column's size): a post's tags must fit in it.
MAX_STORED_CHARACTERS = 500
_ESCAPED = re.compile("%(2C|25)", re.IGNORECASE)


def encode_tag(tag: str) -> str:
    """One tag as it is written between the separating commas."""
    return tag.replace("%", "%25").replace(",", "%2C")


def tags_text(tags: tuple[str, ...] | list[str]) -> str | None:
    """The tags as stored: ``",a,b,"`` (None for no tags)."""
    return f",{','.join(encode_tag(tag) for tag in tags)}," if tags else None


def split_tags(stored: str | None) -> tuple[str, ...]:
    """The tags of a stored ``",a,b,"``, each as it was written in the post."""
    if not stored:
        return ()
    return tuple(_decode(tag) for tag in stored.split(",") if tag)


def tag_patterns(tag: str) -> tuple[str, ...]:
    """The LIKE patterns (``\\`` escapes) that find the whole ``tag`` among stored tags.

    A tag with ``%`` but no comma may also be in an old row, written as it is.
    """
    patterns = [f"%,{_like_escape(encode_tag(tag))},%"]
    if "%" in tag and "," not in tag:
        patterns.append(f"%,{_like_escape(tag)},%")
    return tuple(patterns)


def _decode(tag: str) -> str:
    if "%" not in tag:
        return tag
    return _ESCAPED.sub(lambda m: "," if m.group(1).upper() == "2C" else "%", tag)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
