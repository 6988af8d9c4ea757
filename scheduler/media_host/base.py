"""Where Meta fetches Instagram images from: the interface every media host implements.

The Instagram Graph API takes no uploads: Meta downloads each image from a public URL at
the time of the call. A media host puts a rendition somewhere Meta can reach, hands back
that URL, and removes it again when asked.

A campaign image must not be reachable before its post is due: nothing is put on a host
ahead of time. The channel calls :meth:`MediaHost.put` at publish time, and
:meth:`MediaHost.remove` once Meta has fetched the image, when config says so.
Implementations: :mod:`.folder` (a served folder), :mod:`.s3` (an S3-compatible bucket);
:func:`.factory.build_media_host` builds the configured one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path


@dataclass(frozen=True)
class HostedImage:
    """One rendition on a media host."""

    #: What Meta fetches: https (http only to loopback in tests).
    url: str
    #: Where it lives on the host (object key / file name), for removal.
    key: str
    #: When the URL stops working (presigned S3), None for a folder.
    expires_at: datetime | None


class MediaHostError(Exception):
    """Uploading or removing failed; ``temporary`` says whether a later try may work; the
    message is in plain words (never a key/secret)."""

    def __init__(self, message: str, *, temporary: bool) -> None:
        super().__init__(message)
        self.message = message
        self.temporary = temporary


class MediaHost(ABC):
    """A place renditions are put for Meta to fetch."""

    #: "s3" | "folder"
    kind: str

    @abstractmethod
    def put(self, path: Path, *, valid_for: timedelta) -> HostedImage:
        """Upload one rendition (JPEG) under an unguessable key now; the URL works at least
        `valid_for` from now and (S3) stops soon after."""

    @abstractmethod
    def remove(self, image: HostedImage) -> None:
        """Delete it (idempotent: a missing object is fine)."""

    @abstractmethod
    def describe(self) -> str:
        """Where images go, for status and the dry run: no secret."""
