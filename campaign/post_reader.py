"""The one way post files are read: a regular file, never through a link, size-capped.

Post files come from pull requests, so a file may be a symbolic link (to ``/dev/zero``,
to a secret elsewhere) or far too large. Images are only used when they are regular
files inside the posts folder; post files are held to the same: the name is looked at
without following links, the file is opened without following them either (so it cannot
be swapped for a link in between), and at most the size limit plus one byte is read.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)  # a pipe swapped in never blocks the read
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)
_CHUNK = 64 * 1024
#: The largest settings file read (config.toml is a few kilobytes).
MAX_SETTINGS_BYTES = 1024 * 1024


class PostFileProblem(ValueError):
    """The post file cannot be read; ``code`` names the problem, the message says what to do."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def read_post_file(path: Path, max_bytes: int) -> bytes:
    """The bytes of the post file at ``path``: a regular file of at most ``max_bytes``."""
    try:
        status = os.lstat(path)
    except OSError as exc:
        raise _unreadable(exc) from None
    _check_status(status, max_bytes)
    try:
        descriptor = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        if os.path.islink(path):  # replaced by a link since it was looked at
            raise _link() from None
        raise _unreadable(exc) from None
    try:
        _check_status(os.fstat(descriptor), max_bytes)
        return _read_at_most(descriptor, max_bytes)
    finally:
        os.close(descriptor)


def read_settings_text(path: Path, max_bytes: int = MAX_SETTINGS_BYTES) -> str:
    """The text of a settings file such as config.toml, which a pull request can change
    too: a regular file (it may be reached through a link, which an operator may keep),
    never a device or pipe, at most ``max_bytes``, UTF-8. Raises :class:`PostFileProblem`."""
    try:
        descriptor = os.open(path, _OPEN_FLAGS & ~getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise _unreadable(exc) from None
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise PostFileProblem(
                "settings-not-file",
                "this is not an ordinary file (a folder, device, pipe, or a link to one). "
                "Replace it with the settings file itself.",
            )
        if status.st_size > max_bytes:
            raise _settings_too_big(max_bytes)
        data = _read_at_most(descriptor, max_bytes, _settings_too_big)
    finally:
        os.close(descriptor)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise PostFileProblem(
            "encoding",
            f"line {line} is not UTF-8: save the file again with the encoding UTF-8.",
        ) from None


def _settings_too_big(max_bytes: int) -> PostFileProblem:
    return PostFileProblem(
        "settings-too-big",
        f"the file is larger than {_kilobytes(max_bytes)}; a settings file is a few kilobytes. "
        "Check that nothing was pasted into it by mistake.",
    )


def _check_status(status: os.stat_result, max_bytes: int) -> None:
    if stat.S_ISLNK(status.st_mode):
        raise _link()
    if not stat.S_ISREG(status.st_mode):
        kind = "a folder" if stat.S_ISDIR(status.st_mode) else "a device, pipe or socket"
        raise PostFileProblem(
            "post-not-file",
            f"this is {kind}, not a file. A post must be an ordinary YAML file in the posts "
            "folder; remove this one or rename it so it does not end in .yaml.",
        )
    if status.st_size > max_bytes:
        raise _too_big(status.st_size, max_bytes)


def _read_at_most(
    descriptor: int,
    max_bytes: int,
    too_big: Callable[[int], PostFileProblem] = lambda limit: _too_big(None, limit),
) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size <= max_bytes:
        chunk = os.read(descriptor, min(_CHUNK, max_bytes + 1 - size))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
    raise too_big(max_bytes)  # it grew after it was looked at


def _link() -> PostFileProblem:
    return PostFileProblem(
        "post-link",
        "this post file is a symbolic link, and links are not followed. A post must be a "
        "real file in the posts folder, so that what is reviewed is what is published: "
        "replace the link with the file itself.",
    )


def _too_big(size: int | None, max_bytes: int) -> PostFileProblem:
    how_big = f" is {_kilobytes(size)}" if size is not None else " is too large"
    return PostFileProblem(
        "post-too-big",
        f"the post file{how_big}; the limit is {_kilobytes(max_bytes)} ([check] "
        "max_post_bytes in config.toml). A post is a few kilobytes of text: check that "
        "nothing was pasted into it by mistake, or split it into several posts.",
    )


def _kilobytes(size: int) -> str:
    return f"{size / 1024:,.0f} KiB" if size >= 10 * 1024 else f"{size:,} bytes"


def _unreadable(exc: OSError) -> PostFileProblem:
    return PostFileProblem("file-unreadable", f"the file cannot be read: {exc.strerror}.")
