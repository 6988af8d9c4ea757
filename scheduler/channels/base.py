"""The one interface every channel (Facebook, Instagram, the outbox) implements.

A channel knows how to talk to one platform and nothing about the store: the
publisher claims, calls the channel and records. Channels raise
:class:`~scheduler.channels.errors.ChannelError` for every failure they understand;
any other exception during ``publish`` is treated as an unknown outcome.
"""

from __future__ import annotations

import unicodedata
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from campaign.config import ChannelName


@dataclass(frozen=True)
class MediaItem:
    """One rendition to upload, with the alt text that goes with it."""

    path: Path
    alt: str
    sha256: str


@dataclass(frozen=True)
class PublishRequest:
    """Exactly what is sent for one (post, account) publication.

    ``channel`` is the platform, ``account`` the Page or Instagram account it goes to
    (left out: the platform's default account, named like the platform). ``caption`` is
    the final text as sent (for a Facebook photo post the link is already appended).
    ``fingerprint`` identifies this content for reconciliation.
    """

    post_id: str
    channel: ChannelName
    caption: str
    media: tuple[MediaItem, ...]
    fingerprint: str
    link: str | None = None
    first_comment: str | None = None
    account: str = ""

    def __post_init__(self) -> None:
        if not self.account:
            object.__setattr__(self, "account", self.channel)


@dataclass(frozen=True)
class PublishResult:
    """A post that exists on the platform now."""

    remote_id: str
    url: str | None
    #: Things that went wrong after the post was created (e.g. the first comment).
    warnings: tuple[str, ...] = ()
    #: Seconds the channel should rest: the platform rate-limited a step after the post
    #: was made (e.g. the first comment). None when it did not.
    rest_seconds: float | None = None


@dataclass(frozen=True)
class RemotePost:
    """A post found on the platform while reconciling."""

    remote_id: str
    url: str | None
    created_at: datetime | None
    caption: str


@dataclass(frozen=True)
class Metrics:
    """Aggregate engagement counts of one post; ``None`` where the platform gives none."""

    reactions: int | None = None
    comments: int | None = None
    shares: int | None = None
    saves: int | None = None
    views: int | None = None
    reach: int | None = None
    clicks: int | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CredentialCheck:
    """Whether a channel can publish now, in words for a human."""

    ok: bool
    detail: str


class Channel(ABC):
    """A place posts go to. ``name`` is its platform; ``kind`` says how.

    ``account`` is the account it publishes to (the platform's default account, named
    like the platform, unless set), and ``label`` how messages name it: the account's
    name, with its display name for an account of [accounts.*]."""

    name: ChannelName
    kind: str
    _account: str | None = None
    _label: str | None = None

    @property
    def account(self) -> str:
        return self._account or self.name

    @account.setter
    def account(self, value: str) -> None:
        self._account = value

    @property
    def label(self) -> str:
        return self._label or self.account

    @label.setter
    def label(self, value: str) -> None:
        self._label = value

    @abstractmethod
    def publish(self, request: PublishRequest) -> PublishResult:
        """Create the post. Raises ChannelError; never retries by itself."""

    @abstractmethod
    def find_published(self, request: PublishRequest, since: datetime) -> RemotePost | None:
        """The post made from ``request`` at or after ``since``, if the platform has it."""

    @abstractmethod
    def read_metrics(self, remote_id: str) -> Metrics:
        """The post's engagement counts now."""

    @abstractmethod
    def check_credentials(self) -> CredentialCheck:
        """Whether the token or session works, with one cheap read."""


def normalised_caption(text: str) -> str:
    """A caption as platforms give it back: NFC, white space collapsed, trimmed."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def captions_match(sent: str, found: str) -> bool:
    """Whether a caption read back from a platform is the one we sent."""
    return normalised_caption(sent) == normalised_caption(found)
