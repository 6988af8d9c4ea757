"""LIX, the Swedish readability index (Björnsson 1968).

LIX = words per sentence + 100 × share of words longer than six letters.
Below 30 is very easy, 30–40 easy (news for the public), 40–50 medium,
50–60 hard (official prose), above 60 very hard. Hashtags, mentions and
links are left out: they are not prose.
"""

from __future__ import annotations

import re

from campaign.text_patterns import HASHTAG, MENTION, without_urls

_TAGS = re.compile(f"{HASHTAG.pattern}|{MENTION.pattern}")
_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
# A sentence: from a letter up to . ! ? : ; or the end of the line.
_SENTENCE = re.compile(r"[^\W\d_][^.!?:;\n]*")
MIN_WORDS = 15


def lix(text: str) -> float | None:
    """The LIX of ``text``, or None when it has too few words for a fair score."""
    prose = without_urls(_TAGS.sub(" ", text))
    words, long_words = _count_words(prose)
    if words < MIN_WORDS:
        return None
    sentences = len(_SENTENCE.findall(prose))
    return words / sentences + 100 * long_words / words


def _count_words(prose: str) -> tuple[int, int]:
    """How many words :data:`_WORD` finds in ``prose``, and how many of them are long
    (more than six letters; hyphens do not count as letters).

    No word spans white space, so the text is taken a piece between white space at a
    time: a piece of letters only (``str.isalpha``, all of them in ``_WORD``'s letters)
    is one word as it is; only the others are searched.
    """
    words = long_words = 0
    for piece in prose.split():
        if piece.isalpha():
            words += 1
            long_words += len(piece) > 6
            continue
        for word in _WORD.findall(piece):
            words += 1
            long_words += len(word) > 6 and len(word) - word.count("-") > 6
    return words, long_words


def lix_band(score: float) -> str:
    """The usual Swedish words for a LIX score."""
    if score < 30:
        return "very easy"
    if score < 40:
        return "easy"
    if score < 50:
        return "medium"
    if score < 60:
        return "hard"
    return "very hard"
