"""The dry-run channel: writes what would have been posted into a folder.

One folder per (account, post): ``post.json`` with the exact caption, link,
first comment and alt texts, and a copy of each rendition. For Instagram through
Meta's official API, ``post.json`` and ``upload.txt`` also say which files would
have been put on which media host for Meta to fetch. Nothing leaves the machine.
It stands in for any channel whose credentials are absent. Nothing is written
through a symbolic link (see :mod:`campaign.safe_output`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from datetime import datetime
from pathlib import Path

from campaign.config import ChannelName
from campaign.safe_output import (
    UnsafeOutput,
    copy_file,
    real_folder,
    real_subfolders,
    refuse_link,
    remove_generated,
    remove_if_empty,
    shown,
    write_file,
)
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
#: What would have been put on the media host, for people (Instagram's official API only).
UPLOAD_FILE = "upload.txt"
#: The files a post's folder holds: only these are ever deleted by :func:`clear_outbox`.
_OUTBOX_FILES = re.compile(r"post\.json|upload\.txt|[0-9]+\.(?:jpg|jpeg|png|webp)")


class OutboxChannel(Channel):
    """Writes posts for ``account`` (default: the platform ``name``'s default account,
    named like it) under ``folder/ACCOUNT/POST_ID/``; every folder on the way below
    ``root`` (the repository) must be a real folder, not a symbolic link.

    ``media_host`` describes where the channel it stands in for would have put the images
    for the platform to fetch (Instagram's official API), or why there is no such place;
    None when that channel uploads to the platform itself."""

    kind = "outbox"

    def __init__(
        self,
        name: ChannelName,
        folder: Path,
        clock: Clock = system_clock,
        root: Path | None = None,
        media_host: str | None = None,
        account: str | None = None,
    ) -> None:
        self.name = name
        self.folder = folder
        self.clock = clock
        self.root = root
        self.media_host = media_host
        if account:
            self.account = account

    def post_folder(self, post_id: str) -> Path:
        return self.folder / self.account / post_id

    def publish(self, request: PublishRequest) -> PublishResult:
        """Write ``post.json`` and the renditions, replacing the folder in one rename."""
        target = self.post_folder(request.post_id)
        staging: Path | None = None
        try:
            real_folder(target.parent, root=self.root)
            refuse_link(target)
            staging = Path(tempfile.mkdtemp(prefix=f".{request.post_id}-", dir=target.parent))
            self._write(request, staging)
            _swap_in(staging, target)
        except UnsafeOutput as problem:
            if staging is not None:
                shutil.rmtree(staging, ignore_errors=True)
            raise ChannelError(
                ErrorClass.TRANSIENT, f"the dry-run post was not written: {problem}"
            ) from None
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
        return PublishResult(
            remote_id=f"outbox:{self.account}:{request.post_id}", url=target.as_uri()
        )

    def _write(self, request: PublishRequest, folder: Path) -> None:
        media = []
        for number, item in enumerate(request.media, start=1):
            name = f"{number}{item.path.suffix or '.jpg'}"
            copy_file(item.path, folder / name)
            media.append({"file": name, "alt": item.alt, "sha256": item.sha256})
        record = {
            "channel": self.name,
            "account": self.account,
            "post_id": request.post_id,
            "published_at": self.clock().isoformat(),
            "caption": request.caption,
            "link": request.link,
            "first_comment": request.first_comment,
            "media": media,
            "fingerprint": request.fingerprint,
        }
        if self.media_host is not None:
            files = [
                {"file": entry["file"], "bytes": (folder / entry["file"]).stat().st_size}
                for entry in media
            ]
            record["would_upload"] = {"media_host": self.media_host, "files": files}
            write_file(folder / UPLOAD_FILE, _upload_text(self.media_host, files))
        write_file(folder / POST_FILE, json.dumps(record, ensure_ascii=False, indent=2) + "\n")

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
            remote_id=f"outbox:{self.account}:{request.post_id}",
            url=record_file.parent.as_uri(),
            created_at=created,
            caption=record["caption"],
        )

    def read_metrics(self, remote_id: str) -> Metrics:
        """A dry run has no audience: every count is unknown."""
        return Metrics(raw={"outbox": True})

    def check_credentials(self) -> CredentialCheck:
        return CredentialCheck(True, f"dry run: posts are written to {self.folder}")


def _upload_text(media_host: str, files: list[dict[str, object]]) -> str:
    """The human-readable account of what the official API would have had uploaded."""
    lines = [
        "Dry run: nothing was uploaded.",
        "Publishing for real, each image below would be put on the media host just before",
        "publishing, for Meta to fetch, and Instagram would be given its address.",
        f"Media host: {media_host}",
        "",
    ]
    lines += [f"  {entry['file']}  {entry['bytes']:,} bytes" for entry in files]
    return "\n".join(lines) + "\n"


def clear_outbox(folder: Path) -> int:
    """Empty an outbox of what :class:`OutboxChannel` wrote (a rehearsal starts afresh);
    how many files were deleted. Only regular files with the names it gives, in real
    folders, are deleted; a symbolic link is refused with
    :class:`~campaign.safe_output.UnsafeOutput`, never followed."""
    refuse_link(folder)
    removed = 0
    for account in real_subfolders(folder):
        for post in real_subfolders(account):
            removed += remove_generated(post, _OUTBOX_FILES)
            remove_if_empty(post)
        remove_if_empty(account)
    return removed


def _swap_in(staging: Path, target: Path) -> None:
    """Put ``staging`` at ``target``; an old ``target`` survives until the new one is in.

    The old folder is replaced only if it holds nothing but what this channel writes,
    and only those files are deleted: a file someone else put there is never lost.
    """
    if not target.exists():
        os.replace(staging, target)
        return
    _refuse_foreign_files(target)
    retired = target.with_name(f".{target.name}.old-{os.getpid()}")
    os.replace(target, retired)
    try:
        os.replace(staging, target)
    except OSError:
        os.replace(retired, target)
        raise
    remove_generated(retired, _OUTBOX_FILES)
    remove_if_empty(retired)


def _refuse_foreign_files(folder: Path) -> None:
    """Raise :class:`UnsafeOutput` if ``folder`` holds anything this channel did not write."""
    for entry in os.scandir(folder):
        if not (_OUTBOX_FILES.fullmatch(entry.name) and entry.is_file(follow_symlinks=False)):
            raise UnsafeOutput(
                f"{shown(folder)} holds {entry.name!r}, which campaign did not write there, so "
                "the folder is not replaced. Move it elsewhere and the post is written again."
            )
