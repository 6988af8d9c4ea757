"""A post as the rest of the tool uses it: validated, typed, paths resolved."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from campaign.config import ChannelName
from campaign.post_format import AccountBlock, BrandBlock, FacebookBlock, InstagramBlock
from campaign.timeparse import PublishTime
from campaign.yaml_source import SourceMap

FOCUS_WORDS: dict[str, tuple[float, float]] = {
    "center": (0.5, 0.5),
    "top": (0.5, 0.0),
    "bottom": (0.5, 1.0),
    "left": (0.0, 0.5),
    "right": (1.0, 0.5),
}


@dataclass(frozen=True)
class PostImage:
    """One image of a post, checked: it exists inside the posts tree and its header reads."""

    path: Path
    file: str
    alt: str
    focus: tuple[float, float]
    width: int
    height: int
    format: str


@dataclass(frozen=True)
class Post:
    """One post file, valid: ready for branding, planning and publishing.

    ``accounts`` are where it is published (default: the default accounts of its
    ``channels``, which are named like the platforms); ``channels`` are their platforms.
    """

    id: str
    path: Path
    publish_at: PublishTime
    status: str
    channels: tuple[ChannelName, ...]
    caption: str | None
    images: tuple[PostImage, ...]
    brand: BrandBlock
    language: str
    tags: tuple[str, ...]
    facebook: FacebookBlock
    instagram: InstagramBlock
    source: SourceMap
    accounts: tuple[str, ...] = ()
    account_platform: Mapping[str, ChannelName] = field(default_factory=dict, hash=False)
    per_account: Mapping[str, AccountBlock] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if not self.accounts:  # made without accounts: the default ones of its channels
            object.__setattr__(self, "accounts", tuple(self.channels))
        if not self.account_platform:
            platforms = {channel: channel for channel in self.channels}
            object.__setattr__(self, "account_platform", platforms)

    @property
    def is_ready(self) -> bool:
        return self.status == "ready"

    def caption_for_account(self, account: str) -> str:
        """The text that goes to ``account``: its own (`per_account:`), else its platform's."""
        block = self.per_account.get(account)
        if block is not None and block.caption is not None:
            return block.caption.rstrip()
        return self.caption_for(self.account_platform[account])

    def link_for(self, account: str) -> str | None:
        """The link shown with the post on a Facebook account (None on Instagram)."""
        if self.account_platform[account] != "facebook":
            return None
        block = self.per_account.get(account)
        return block.link if block is not None and block.link is not None else self.facebook.link

    def first_comment_for(self, account: str) -> str | None:
        """The first comment on an Instagram account (None on Facebook)."""
        if self.account_platform[account] != "instagram":
            return None
        block = self.per_account.get(account)
        if block is not None and block.first_comment is not None:
            return block.first_comment
        return self.instagram.first_comment

    def caption_for(self, channel: ChannelName) -> str:
        """The text that goes to ``channel``: its own caption, else the common one.

        Trailing white space is dropped (YAML's ``caption: |`` ends with a line break).
        """
        block = self.facebook if channel == "facebook" else self.instagram
        return ((block.caption if block.caption is not None else self.caption) or "").rstrip()
