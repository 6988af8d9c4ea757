"""Characters: nothing invisible that changes what is published or how it is shown.

Control characters (a NUL, an escape sequence) garble posts and the apps that show
them: an error. Bidirectional overrides and zero-width characters hide in text that
looks fine in review: a warning. Every text of the file is looked at, keys included.
"""

from __future__ import annotations

import re
import unicodedata

import yaml

from campaign.diagnostics import Position
from campaign.rules.context import PostCheck
from campaign.text_patterns import BIDI_CONTROL, CONTROL, ZERO_WIDTH

# Raw control characters are refused by the YAML parser itself; in a value they come
# from escapes in quotes ("\e", "\x1b", "\0"), so a file with neither a backslash nor
# any of these characters written as they are needs no closer look.
_SUSPECT = re.compile(
    f"{CONTROL.pattern[:-1]}{BIDI_CONTROL.pattern[1:-1]}\u200b-\u200d\u2060\ufeff]"
)


def check_characters(check: PostCheck, text: str) -> None:
    """Report the first unwanted character of each text in the file, with its line."""
    if "\\" not in text and _SUSPECT.search(text) is None:
        return
    for node in check.source.strings():
        value = node.value
        if not isinstance(value, str) or _SUSPECT.search(value) is None:
            continue
        if found := CONTROL.search(value):
            check.sink.error(
                _where(node, found.start()),
                "control-character",
                f"an invisible control character ({_name(found.group())}) is in this text: "
                "it would be published as it is and can garble the post, or what apps and "
                "terminals show. Delete it (in quotes, also escapes such as \\e, \\x1b or \\0).",
            )
        if found := BIDI_CONTROL.search(value):
            check.sink.warning(
                _where(node, found.start()),
                "bidi-control",
                f"a hidden direction mark ({_name(found.group())}) is in this text: it changes "
                "the order in which the text after it is shown, so readers may see something "
                "other than what was reviewed. Remove it unless you put it there on purpose.",
            )
        if found := ZERO_WIDTH.search(value):
            check.sink.warning(
                _where(node, found.start()),
                "zero-width",
                f"an invisible character ({_name(found.group())}) is in this text: it can break "
                "hashtags, links and search, and hide differences in review. Remove it.",
            )


def _where(node: yaml.ScalarNode, offset: int) -> Position:
    """The line of character ``offset`` of a scalar: exact in a ``|`` block."""
    start = Position(node.start_mark.line + 1, node.start_mark.column + 1)
    if node.style != "|":
        return start
    return Position(start.line + 1 + node.value.count("\n", 0, offset), 1)


def _name(character: str) -> str:
    code = ord(character)
    name = unicodedata.name(character, "")
    return f"U+{code:04X} {name}" if name else f"U+{code:04X}"
