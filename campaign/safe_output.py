"""Writing and tidying output files without ever following a symbolic link.

Posts come from pull requests, and a pull request can commit a symbolic link where
the tool writes (``build/preview`` → a reviewer's documents, say). Every file the
tool writes goes through here:

- an output folder, and every folder between the repository (``root``) and it, must
  be a real folder: a link is refused with :class:`UnsafeOutput` (commands exit 2);
- a file is written to a temporary file made in the real folder (``O_EXCL``, which
  never follows a link) and renamed over the target, so a link at the target name is
  never written through, and a reader never sees half a file;
- clean-up deletes only regular files whose names the tool makes, in real folders.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from collections.abc import Container, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


#: New files get the usual permissions (temporary files are made 0600).
_FILE_MODE = 0o666 & ~_read_umask()


class UnsafeOutput(Exception):
    """An output path the tool will not write through; the message says how to fix it."""


def lexical(path: Path) -> Path:
    """``path`` made absolute and ``..`` folded, without resolving symbolic links."""
    return Path(os.path.abspath(path))


def shown(path: Path) -> str:
    """``path`` relative to the working folder when it is inside it, else absolute."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _link_refused(path: Path) -> UnsafeOutput:
    try:
        target = f" to {os.readlink(path)}"
    except OSError:
        target = ""
    return UnsafeOutput(
        f"{shown(path)} is a symbolic link{target}. campaign never writes or deletes through "
        "a link (one committed in a pull request could point anywhere on this computer). "
        f"Remove the link (rm {shown(path)}; the folder it points to is left alone) and run "
        "the command again: a real folder is made in its place."
    )


def _make_real_dir(path: Path) -> None:
    with suppress(FileExistsError):
        os.mkdir(path)
    status = os.lstat(path)
    if stat.S_ISLNK(status.st_mode):
        raise _link_refused(path)
    if not stat.S_ISDIR(status.st_mode):
        raise UnsafeOutput(
            f"{shown(path)} is a file, but campaign needs a folder there. Move or rename the "
            "file and run the command again."
        )


def real_folder(folder: Path, root: Path | None = None) -> Path:
    """Make sure ``folder`` is a real folder, made if missing; returns it (absolute).

    Inside ``root`` (the repository) every folder on the way must be real too; outside
    it only ``folder`` itself is checked (the parents are the operator's own choice).
    Raises :class:`UnsafeOutput` for a symbolic link or a file in the way.
    """
    folder = lexical(folder)
    base = lexical(root) if root is not None else None
    if base is not None and folder != base and folder.is_relative_to(base):
        current, parts = base, folder.relative_to(base).parts
        base.mkdir(parents=True, exist_ok=True)
    else:
        current, parts = folder.parent, (folder.name,)
        if not folder.name:  # the file system's root
            return folder
        current.mkdir(parents=True, exist_ok=True)
    for part in parts:
        current = current / part
        _make_real_dir(current)
    return folder


def subfolder(parent: Path, name: str) -> Path:
    """``parent/name`` as a real folder (``parent`` already checked), made if missing."""
    path = parent / name
    _make_real_dir(path)
    return path


def is_regular_file(path: Path) -> bool:
    """Whether ``path`` is a regular file itself (a link to one is not)."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def refuse_link(path: Path) -> None:
    """Raise :class:`UnsafeOutput` if ``path`` is a symbolic link."""
    try:
        if stat.S_ISLNK(os.lstat(path).st_mode):
            raise _link_refused(path)
    except FileNotFoundError:
        pass


@contextmanager
def replacing(
    path: Path, mode: str = "wb", encoding: str | None = None, newline: str | None = None
) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path`` in its (already checked) folder; on success it
    replaces ``path`` in one rename, on an error it is removed and ``path`` left as it was.
    A symbolic link at ``path`` is refused, never written through."""
    refuse_link(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(handle, _FILE_MODE)
        with open(handle, mode, encoding=encoding, newline=newline) as stream:
            yield stream
        refuse_link(path)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_file(path: Path, data: bytes | str) -> Path:
    """Write ``data`` (text as UTF-8) to ``path`` atomically, through no link; returns it."""
    with replacing(path) as stream:
        stream.write(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def copy_file(source: Path, target: Path) -> Path:
    """Copy the regular file ``source`` to ``target`` atomically (links refused both ends)."""
    with replacing(target) as stream:
        stream.write(read_regular(source))
    return target


def read_regular(path: Path) -> bytes:
    """The bytes of ``path``, which must be a regular file itself (not a link to one)."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    with open(descriptor, "rb") as stream:
        if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
            raise UnsafeOutput(f"{shown(path)} is not a regular file.")
        return stream.read()


def create_new(path: Path, text: str) -> Path:
    """Create ``path`` with ``text``; never replaces anything, a dangling link included
    (raises :class:`FileExistsError`)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    descriptor = os.open(path, flags, 0o666)
    with open(descriptor, "w", encoding="utf-8") as stream:
        stream.write(text)
    return path


def remove_generated(folder: Path, generated: re.Pattern[str], keep: Container[str] = ()) -> int:
    """Delete the regular files in ``folder`` whose names ``generated`` matches and that are
    not in ``keep``; how many. Links, folders and other files are left alone, and a missing
    folder (or a link in its place) holds nothing to delete."""
    try:
        if not stat.S_ISDIR(os.lstat(folder).st_mode):
            return 0
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return 0
    removed = 0
    for entry in entries:
        if (
            generated.fullmatch(entry.name)
            and entry.name not in keep
            and entry.is_file(follow_symlinks=False)
        ):
            os.unlink(entry.path)
            removed += 1
    return removed


def real_subfolders(folder: Path) -> list[Path]:
    """The real folders directly in ``folder`` (links to folders are not among them)."""
    try:
        if not stat.S_ISDIR(os.lstat(folder).st_mode):
            return []
        return [Path(e.path) for e in os.scandir(folder) if e.is_dir(follow_symlinks=False)]
    except FileNotFoundError:
        return []


def remove_if_empty(folder: Path) -> bool:
    """Remove ``folder`` if it is a real, empty folder; whether it was removed."""
    try:
        if stat.S_ISDIR(os.lstat(folder).st_mode) and not any(os.scandir(folder)):
            os.rmdir(folder)
            return True
    except OSError:
        pass
    return False
