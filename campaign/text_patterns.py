"""What counts as a hashtag, a mention or a link in a caption, as the platforms see it,
and which characters are invisible or unsafe to show."""

from __future__ import annotations

import re

# A sign not preceded by a word character (nor by "&" or the sign itself). The sign comes
# first and the look back, over the sign and the character before it, after it: a pattern
# that starts with a literal is searched for that character only, not tried at every position.
HASHTAG = re.compile(r"#(?<![\w&#]#)(\w+)")
MENTION = re.compile(r"@(?<![\w@]@)([A-Za-z0-9_](?:[A-Za-z0-9_.]*[A-Za-z0-9_])?)")

# A link ends before trailing punctuation (the full stop ending a sentence is not part of
# it); a bare domain counts only for common top-level domains, and not after an @ (e-mail).
_LINK_END = r"[^\s<>()\"'.,!?:;]"
_LINK_BODY = r"[^\s<>()\"']"
URL = re.compile(
    rf"(?<![@\w.])(?:https?://|www\.){_LINK_BODY}*{_LINK_END}"
    # A domain starts after a character that cannot be part of it (no "-" either), so
    # that no two tries overlap: the search stays linear in the text's length.
    rf"|(?<![@\w.-])[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:se|com|org|net|nu|eu|gov|fi|info)\b"
    rf"(?:/(?:{_LINK_BODY}*{_LINK_END})?)?",
    re.IGNORECASE,
)
# Cheap to search for (each branch starts with a literal): most captions have no link at
# all, and URL itself is tried at every position of the text. Case is ignored after the
# first character, which is written in both cases: "h" and "w" have no other case
# equivalents, so this finds what the same pattern with re.IGNORECASE finds.
_LINK_HINT = re.compile(
    r"\.(?i:se|com|org|net|nu|eu|gov|fi|info)\b"
    r"|h(?i:ttps?://)|H(?i:ttps?://)|w(?i:ww\.)|W(?i:ww\.)"
)


def find_urls(text: str) -> list[re.Match[str]]:
    """Every link in ``text`` (with its position)."""
    return list(URL.finditer(text)) if _LINK_HINT.search(text) else []


def without_urls(text: str, replacement: str = " ") -> str:
    """``text`` with its links replaced."""
    return URL.sub(replacement, text) if _LINK_HINT.search(text) else text


#: Control characters (C0 other than tab and line feed, DEL, C1): never wanted in a post.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
#: Bidirectional embeddings, overrides and isolates: they reorder how text is shown.
BIDI_CONTROL = re.compile("[\u202a-\u202e\u2066-\u2069]")
#: Zero-width characters that hide in text. The joiners U+200C/U+200D are needed in some
#: scripts and emoji, so they count only next to an ASCII character or at an end.
ZERO_WIDTH = re.compile(
    "[\u200b\u2060\ufeff]|(?<![^\x00-\x7f])[\u200c\u200d]|[\u200c\u200d](?![^\x00-\x7f])"
)
_UNSAFE_TO_SHOW = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def visible(text: str) -> str:
    """``text`` safe to print: control, bidi and zero-width characters (line breaks and tabs
    too) written as ``\\u202e``-style escapes, so no terminal or log reads them."""
    if _UNSAFE_TO_SHOW.search(text) is None:
        return text
    return _UNSAFE_TO_SHOW.sub(_escape_character, text)


def _escape_character(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
