"""What counts as a hashtag, a mention or a link in a caption, as the platforms see it."""

from __future__ import annotations

import re

HASHTAG = re.compile(r"(?<![\w&#])#(\w+)")
MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9_](?:[A-Za-z0-9_.]*[A-Za-z0-9_])?)")

# A link ends before trailing punctuation (the full stop ending a sentence is not part of
# it); a bare domain counts only for common top-level domains, and not after an @ (e-mail).
_LINK_END = r"[^\s<>()\"'.,!?:;]"
_LINK_BODY = r"[^\s<>()\"']"
URL = re.compile(
    rf"(?<![@\w.])(?:https?://|www\.){_LINK_BODY}*{_LINK_END}"
    rf"|(?<![@\w.])[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:se|com|org|net|nu|eu|gov|fi|info)\b"
    rf"(?:/(?:{_LINK_BODY}*{_LINK_END})?)?",
    re.IGNORECASE,
)
# Cheap to search for (it starts with a literal): most captions have no link at all, and
# URL itself is tried at every position of the text.
_LINK_HINT = re.compile(r"\.(?:se|com|org|net|nu|eu|gov|fi|info)\b|https?://|www\.", re.I)


def find_urls(text: str) -> list[re.Match[str]]:
    """Every link in ``text`` (with its position)."""
    return list(URL.finditer(text)) if _LINK_HINT.search(text) else []


def without_urls(text: str, replacement: str = " ") -> str:
    """``text`` with its links replaced."""
    return URL.sub(replacement, text) if _LINK_HINT.search(text) else text
