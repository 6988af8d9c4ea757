"""What counts as a hashtag, a mention or a link in a caption, as the platforms see it."""

from __future__ import annotations

import re

HASHTAG = re.compile(r"(?<![\w&#])#(\w+)")
MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9_](?:[A-Za-z0-9_.]*[A-Za-z0-9_])?)")
URL = re.compile(
    r"\b(?:https?://|www\.)[^\s<>()\"']*[^\s<>()\"'.,!?:;]|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:se|com|org|net|nu|eu|gov)"
    r"(?:/[^\s<>()\"']*)?(?![\w.])",
    re.IGNORECASE,
)
