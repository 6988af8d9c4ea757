"""What the preview page shows, as plain data: posts, their mock-ups (one per account) and
problems.

Everything here is text and relative paths; the Jinja2 templates turn it into HTML
(and escape it). Nothing here writes files.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from campaign.accounts import Account
from campaign.branding.templates import RTL_LANGUAGES
from campaign.config import ChannelName, Config
from campaign.diagnostics import Diagnostic, Severity
from campaign.post import Post
from campaign.preview.calendar_view import MONTH_NAMES, WEEKDAY_NAMES
from campaign.text_patterns import HASHTAG, MENTION, URL

CHANNEL_NAMES: dict[str, str] = {"facebook": "Facebook", "instagram": "Instagram"}
CHANNEL_SHORT: dict[str, str] = {"facebook": "FB", "instagram": "IG"}
LANGUAGE_NAMES: dict[str, str] = {
    "ar": "Arabic",
    "bs": "Bosnian",
    "ckb": "Central Kurdish",
    "da": "Danish",
    "de": "German",
    "en": "English",
    "es": "Spanish",
    "fa": "Persian",
    "fi": "Finnish",
    "fr": "French",
    "hr": "Croatian",
    "ku": "Kurdish",
    "no": "Norwegian",
    "pl": "Polish",
    "ru": "Russian",
    "se": "Northern Sami",
    "so": "Somali",
    "sr": "Serbian",
    "sv": "Swedish",
    "ti": "Tigrinya",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "yi": "Yiddish",
}


@dataclass(frozen=True)
class Segment:
    """A piece of a caption line: plain text, a hashtag, a mention or a link."""

    kind: str
    text: str
    href: str | None = None


Line = tuple[Segment, ...]


@dataclass(frozen=True)
class LocalTime:
    """A publishing time as people read it, and as ``<time datetime>`` wants it."""

    iso: str
    long: str
    clock: str
    zone: str
    day_month: str

    @classmethod
    def of(cls, local: datetime) -> LocalTime:
        weekday = WEEKDAY_NAMES[local.weekday()][:3]
        month = MONTH_NAMES[local.month - 1]
        return cls(
            iso=local.isoformat(timespec="minutes"),
            long=f"{weekday} {local.day} {month[:3]} {local.year}, {local:%H:%M}",
            clock=f"{local:%H:%M}",
            zone=local.tzname() or "",
            day_month=f"{local.day} {month} at {local:%H:%M}",
        )


@dataclass(frozen=True)
class ImageView:
    """A rendition as the page links it: a path relative to index.html."""

    src: str
    alt: str
    width: int
    height: int


@dataclass(frozen=True)
class Problem:
    """One diagnostic of `campaign check`, ready to show."""

    severity: str
    line: int
    column: int
    message: str

    @property
    def is_error(self) -> bool:
        return self.severity == Severity.ERROR

    @property
    def parts(self) -> tuple[tuple[str, bool], ...]:
        """The message as (text, is_code) pieces: what `check` marks with backticks is
        shown as code (the template escapes every piece)."""
        return code_marks(self.message)


_CODE_MARK = re.compile(r"`([^`\n]+)`")


def code_marks(text: str) -> tuple[tuple[str, bool], ...]:
    """``"key `x` is wrong"`` → ``(("key ", False), ("x", True), (" is wrong", False))``;
    a lone backtick stays as written."""
    pieces = _CODE_MARK.split(text)  # text, code, text, code, …, text
    return tuple((piece, index % 2 == 1) for index, piece in enumerate(pieces) if piece)


@dataclass(frozen=True)
class ChannelView:
    """How a post will look on one account.

    ``name`` is how the page names the account ("Facebook" for a default one, else
    "Display name (Facebook)"); ``page_name`` is the Page or user shown in the mock-up.
    """

    channel: ChannelName
    account: str
    name: str
    page_name: str
    short: str
    caption: tuple[Line, ...]
    images: tuple[ImageView, ...]
    failed: tuple[str, ...]
    link: str | None
    link_host: str | None
    first_comment: tuple[Line, ...]


@dataclass(frozen=True)
class PostView:
    """One post's section of the page."""

    anchor: str
    id: str
    slug: str
    file: str
    time: LocalTime
    is_ready: bool
    language: str
    language_name: str
    direction: str
    tags: tuple[str, ...]
    channels: tuple[ChannelView, ...]
    problems: tuple[Problem, ...]

    @property
    def status(self) -> str:
        return "ready" if self.is_ready else "draft"

    @property
    def errors(self) -> int:
        return sum(problem.is_error for problem in self.problems)

    @property
    def warnings(self) -> int:
        return len(self.problems) - self.errors


@dataclass(frozen=True)
class BrokenFile:
    """A post file with errors: shown under "Needs fixing"."""

    file: str
    anchor: str | None
    problems: tuple[Problem, ...]


def caption_lines(text: str, links: bool) -> tuple[Line, ...]:
    """``text`` as lines of segments; ``links``: whether web addresses become links."""
    return tuple(_segments(line, links) for line in text.split("\n"))


def _segments(line: str, links: bool) -> Line:
    marks: list[tuple[int, int, str]] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in (("link", URL), ("hashtag", HASHTAG), ("mention", MENTION)):
        for match in pattern.finditer(line):
            start, end = match.span()
            if any(start < used_end and used_start < end for used_start, used_end in taken):
                continue
            marks.append((start, end, kind))
            taken.append((start, end))
    marks.sort()
    segments: list[Segment] = []
    position = 0
    for start, end, kind in marks:
        if start > position:
            segments.append(Segment("text", line[position:start]))
        text = line[start:end]
        if kind == "link":
            segments.append(Segment("link", text, web_address(text) if links else None))
        else:
            segments.append(Segment(kind, text))
        position = end
    if position < len(line):
        segments.append(Segment("text", line[position:]))
    return tuple(segments)


def web_address(text: str) -> str | None:
    """An http(s) address for a link written in a caption or a post, or None if unsafe."""
    address = text.strip()
    if not re.match(r"^https?://", address, re.IGNORECASE):
        address = "https://" + address
    parts = urlsplit(address)
    try:
        parts.port  # noqa: B018 (raises on a malformed address such as javascript:x)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return address


def host_of(address: str) -> str:
    host = urlsplit(address).hostname or address
    return host.removeprefix("www.")


def language_name(code: str) -> str:
    base = code.split("-")[0].lower()
    return LANGUAGE_NAMES.get(code.lower()) or LANGUAGE_NAMES.get(base) or code


def direction(code: str) -> str:
    """``rtl`` for the languages the renditions lay out right to left, else ``ltr``."""
    return "rtl" if code.split("-")[0].lower() in RTL_LANGUAGES else "ltr"


def problems_of(diagnostics: Iterable[Diagnostic], tidy: PathTidier) -> tuple[Problem, ...]:
    return tuple(
        Problem(str(d.severity), d.position.line, d.position.column, tidy.text(d.message))
        for d in diagnostics
    )


class PathTidier:
    """Shows files relative to the campaign, and keeps absolute paths out of the page.

    A preview is shared (a CI artifact, an e-mail): it names ``posts/…`` files, not
    where they happen to live on the machine that built it.
    """

    def __init__(self, config: Config) -> None:
        self.root = config.posts_dir.parent
        self.prefixes = sorted(
            {str(folder) + end for folder in (self.root, config.base_dir) for end in ("/", os.sep)},
            key=len,
            reverse=True,
        )

    def file(self, path: Path) -> str:
        resolved = path.parent.resolve() / path.name  # a linked file by its own name
        try:
            return resolved.relative_to(self.root).as_posix()
        except ValueError:
            return resolved.name

    def text(self, message: str) -> str:
        for prefix in self.prefixes:
            message = message.replace(prefix, "")
        return message


def slug_of(post_id: str) -> str:
    """The words of a post's name without its date: ``demokratidagen``."""
    match = re.match(r"^\d{4}-\d{2}-\d{2}-(.+)$", post_id)
    return match[1] if match else post_id


def unique_anchors(ids: Sequence[str]) -> list[str]:
    """HTML ids for posts: the post id, made unique if two files share a name."""
    seen: dict[str, int] = {}
    anchors = []
    for post_id in ids:
        count = seen.get(post_id, 0) + 1
        seen[post_id] = count
        anchors.append(post_id if count == 1 else f"{post_id}-{count}")
    return anchors


def channel_view(
    post: Post, account: Account, images: tuple[ImageView, ...], failed: tuple[str, ...]
) -> ChannelView:
    """The mock-up of ``post`` on ``account``: the account's own caption, link and comment."""
    channel = account.platform
    written_link = post.link_for(account.name)
    link = web_address(written_link) if written_link else None
    comment = post.first_comment_for(account.name)
    return ChannelView(
        channel=channel,
        account=account.name,
        name=account.label,
        page_name=account.display_name,
        short=CHANNEL_SHORT[channel],
        # Facebook makes web addresses in a post clickable; Instagram does not.
        caption=caption_lines(post.caption_for_account(account.name), links=channel == "facebook"),
        images=images,
        failed=failed,
        link=link,
        link_host=host_of(link) if link else None,
        first_comment=caption_lines(comment.rstrip(), links=False) if comment else (),
    )
