"""A media host that is a folder a web server already serves (``[media_host] kind = "folder"``).

:meth:`FolderMediaHost.put` copies one rendition into the folder under a new name nobody
can guess (``secrets.token_urlsafe(24)`` + ``.jpg``: 192 random bits) and hands Meta
``base_url + "/" + name``. Nothing is copied before the post is due: the channel calls
``put`` at publish time, so a campaign image is not on the web server before then, and
``remove`` deletes it again afterwards when config says so. The address has no expiry of
its own: only removal ends it.

The folder is where other people's web pages may live too, so the host is careful:

- the folder must exist and be a real folder (a symbolic link is refused);
- a file is written through :mod:`campaign.safe_output`: a temporary file in the real
  folder renamed over the new name, never through a link, never half written;
- ``remove`` deletes only a regular file with a name ``put`` makes, in that folder.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import stat
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from campaign.safe_output import UnsafeOutput, copy_file, shown
from scheduler.media_host.base import HostedImage, MediaHost, MediaHostError

#: The names ``put`` makes: 24 random bytes in URL-safe base64 (32 characters), ``.jpg``.
GENERATED_NAME = re.compile(r"[A-Za-z0-9_-]{32}\.jpg")
#: Plain http is allowed only to this computer (tests); everything else must be https.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def new_image_name() -> str:
    """A file or object name nobody can guess: 192 random bits, then ``.jpg``."""
    return secrets.token_urlsafe(24) + ".jpg"


def check_public_url(base_url: str, key: str = "base_url") -> str:
    """``base_url`` without a trailing ``/`` if Meta may be sent there, else a plain-words
    :class:`MediaHostError` naming ``key``: https with a host, http only to this computer,
    no user name or password in it, no query or fragment."""
    parts = urlsplit(base_url.strip())
    where = f"[media_host] {key} ({base_url!r})"
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        pass
    elif parts.scheme != "https" or not parts.hostname:
        raise MediaHostError(
            f"{where} must be an https:// address that Meta can fetch images from "
            "(plain http only to this computer, for tests).",
            temporary=False,
        )
    if parts.username or parts.password:
        raise MediaHostError(
            f"{where} must not hold a user name or password: Meta fetches the images without "
            "logging in. Serve the folder publicly and write its address without them.",
            temporary=False,
        )
    if parts.query or parts.fragment:
        raise MediaHostError(
            f"{where} must be a plain folder address, without ?… or #…: campaign adds "
            "/<image name> to it.",
            temporary=False,
        )
    return base_url.strip().rstrip("/")


@dataclass(frozen=True)
class FolderSettings:
    """``[media_host]`` for ``kind = "folder"``."""

    #: A folder a web server serves; it must exist and be a real folder.
    folder: Path
    #: Its public https address (http only to 127.0.0.1/localhost, for tests).
    base_url: str


class FolderMediaHost(MediaHost):
    """Renditions copied into a served folder under unguessable names."""

    kind = "folder"

    def __init__(self, settings: FolderSettings) -> None:
        """Check the settings now (raises :class:`MediaHostError`, never temporary)."""
        self.base_url = check_public_url(settings.base_url)
        self.folder = Path(os.path.abspath(settings.folder))
        self._check_folder()

    def put(self, path: Path, *, valid_for: timedelta) -> HostedImage:
        """Copy ``path`` into the folder under a new unguessable name; the address works
        until :meth:`remove` (``valid_for`` needs nothing more here)."""
        self._check_folder()
        name = new_image_name()
        target = self.folder / name
        if os.path.lexists(target):  # 192 random bits never collide; something is wrong
            raise MediaHostError(
                f"{shown(target)} is already there, and campaign never replaces a file it did "
                "not make. Remove it and publish again.",
                temporary=False,
            )
        try:
            copy_file(path, target)
        except UnsafeOutput as error:
            raise MediaHostError(str(error), temporary=False) from None
        except OSError as error:
            raise _os_error(error, f"copy the image into {shown(self.folder)}") from None
        return HostedImage(url=f"{self.base_url}/{name}", key=name, expires_at=None)

    def remove(self, image: HostedImage) -> None:
        """Delete the file ``put`` made for ``image``; a file already gone is fine. Nothing
        else is ever deleted: not a link, not a folder, not a name ``put`` does not make."""
        if not GENERATED_NAME.fullmatch(image.key):
            raise MediaHostError(
                f"{image.key!r} is not the name of an image campaign put in "
                f"{shown(self.folder)}, so it was left alone.",
                temporary=False,
            )
        self._check_folder()
        target = self.folder / image.key
        try:
            mode = os.lstat(target).st_mode
        except FileNotFoundError:
            return
        except OSError as error:
            raise _os_error(error, f"look at {shown(target)}") from None
        if not stat.S_ISREG(mode):
            raise MediaHostError(
                f"{shown(target)} is not a file campaign made (it is a link or a folder), so it "
                "was left alone. Look at what put it there.",
                temporary=False,
            )
        try:
            os.unlink(target)
        except FileNotFoundError:
            return
        except OSError as error:
            raise _os_error(error, f"delete {shown(target)}") from None

    def describe(self) -> str:
        """Where images go: the folder and its public address."""
        return f"the folder {self.folder}, served at {self.base_url}/"

    def _check_folder(self) -> None:
        """The folder must exist and be a real folder itself (not a link to one)."""
        try:
            mode = os.lstat(self.folder).st_mode
        except FileNotFoundError:
            raise MediaHostError(
                f"The media folder {self.folder} does not exist. Create it (the folder your "
                "web server serves at [media_host] base_url) or correct [media_host] folder.",
                temporary=False,
            ) from None
        except OSError as error:
            raise _os_error(error, f"look at the media folder {self.folder}") from None
        if stat.S_ISLNK(mode):
            raise MediaHostError(
                f"The media folder {self.folder} is a symbolic link. campaign never writes or "
                "deletes through a link: set [media_host] folder to the real folder it points to.",
                temporary=False,
            )
        if not stat.S_ISDIR(mode):
            raise MediaHostError(
                f"The media folder {self.folder} is a file, not a folder. Correct "
                "[media_host] folder.",
                temporary=False,
            )


def _os_error(error: OSError, doing: str) -> MediaHostError:
    """An operating system error in plain words; only a full or busy disk may pass."""
    reason = error.strerror or type(error).__name__
    if isinstance(error, PermissionError):
        return MediaHostError(
            f"campaign may not {doing} ({reason}). Let the user that runs campaign write "
            "to the media folder.",
            temporary=False,
        )
    temporary = error.errno in {errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EAGAIN, errno.EBUSY}
    return MediaHostError(f"campaign could not {doing} ({reason}).", temporary=temporary)
