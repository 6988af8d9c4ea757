"""A post as the rest of the tool uses it: validated, typed, paths resolved."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from campaign.config import ChannelName
from campaign.post_format import BrandBlock, FacebookBlock, InstagramBlock
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
    """One post file, valid: ready for branding, planning and publishing."""

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

    @property
    def is_ready(self) -> bool:
        return self.status == "ready"

    def caption_for(self, channel: ChannelName) -> str:
        """The text that goes to ``channel``: its own caption, else the common one.

        Trailing white space is dropped (YAML's ``caption: |`` ends with a line break).
        """
        block = self.facebook if channel == "facebook" else self.instagram
        return ((block.caption if block.caption is not None else self.caption) or "").rstrip()
