"""The dry-run channel: writes what would have been posted into a folder.

One folder per (channel, post): ``post.json`` with the exact caption, link,
first comment and alt texts, and a copy of each rendition. Nothing leaves the
machine. It stands in for any channel whose credentials are absent.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from datetime import datetime
from pathlib import Path

from campaign.config import ChannelName
from scheduler.channels.base import (
    Channel,
    CredentialCheck,
    Metrics,
    PublishRequest,
    PublishResult,
    RemotePost,
    captions_match,
)
from scheduler.channels.errors import ChannelError, ErrorClass
from scheduler.clock import Clock, system_clock

POST_FILE = "post.json"


class OutboxChannel(Channel):
    """Writes posts for ``name`` under ``folder/name/POST_ID/``."""

    kind = "outbox"

    def __init__(self, name: ChannelName, folder: Path, clock: Clock = system_clock) -> None:
        self.name = name
        self.folder = folder
        self.clock = clock

    def post_folder(self, post_id: str) -> Path:
        return self.folder / self.name / post_id

    def publish(self, request: PublishRequest) -> PublishResult:
        """Write ``post.json`` and the renditions, replacing the folder in one rename."""
        target = self.post_folder(request.post_id)
        staging: Path | None = None
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{request.post_id}-", dir=target.parent))
            self._write(request, staging)
            _swap_in(staging, target)
        except OSError as problem:
            if staging is not None:
                shutil.rmtree(staging, ignore_errors=True)
            where = f" ({problem.filename})" if problem.filename else ""
            raise ChannelError(
                ErrorClass.TRANSIENT,
                f"could not write the dry-run post to {self.folder}: "
                f"{problem.strerror or problem}{where}. Check that the folder is writable, "
                "the disk is not full and the branded images exist (campaign render).",
            ) from None
        return PublishResult(remote_id=f"outbox:{self.name}:{request.post_id}", url=target.as_uri())

    def _write(self, request: PublishRequest, folder: Path) -> None:
        media = []
        for number, item in enumerate(request.media, start=1):
            name = f"{number}{item.path.suffix or '.jpg'}"
            shutil.copyfile(item.path, folder / name)
            media.append({"file": name, "alt": item.alt, "sha256": item.sha256})
        record = {
            "channel": self.name,
            "post_id": request.post_id,
            "published_at": self.clock().isoformat(),
            "caption": request.caption,
            "link": request.link,
            "first_comment": request.first_comment,
            "media": media,
            "fingerprint": request.fingerprint,
        }
        (folder / POST_FILE).write_text(
            json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )

    def find_published(self, request: PublishRequest, since: datetime) -> RemotePost | None:
        record_file = self.post_folder(request.post_id) / POST_FILE
        try:
            record = json.loads(record_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        created = datetime.fromisoformat(record["published_at"])
        if created < since or not captions_match(request.caption, record.get("caption", "")):
            return None
        return RemotePost(
            remote_id=f"outbox:{self.name}:{request.post_id}",
            url=record_file.parent.as_uri(),
            created_at=created,
            caption=record["caption"],
        )

    def read_metrics(self, remote_id: str) -> Metrics:
        """A dry run has no audience: every count is unknown."""
        return Metrics(raw={"outbox": True})

    def check_credentials(self) -> CredentialCheck:
        return CredentialCheck(True, f"dry run: posts are written to {self.folder}")


def _swap_in(staging: Path, target: Path) -> None:
    """Put ``staging`` at ``target``; an old ``target`` survives until the new one is in."""
    if not target.exists():
        os.replace(staging, target)
        return
    retired = target.with_name(f".{target.name}.old-{os.getpid()}")
    os.replace(target, retired)
    try:
        os.replace(staging, target)
    except OSError:
        os.replace(retired, target)
        raise
    shutil.rmtree(retired, ignore_errors=True)
