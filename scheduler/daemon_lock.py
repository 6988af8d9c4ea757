"""One daemon per database: an exclusive lock held for the daemon's whole life.

SQLite: ``flock`` on a file beside the database, released by the kernel when the last
process with the file open ends. The file is opened close-on-exec and never through a
symbolic link, and the daemon's workers are spawned, not forked, so no other process
shares it. Should one all the same (a process left over from a daemon killed with
SIGKILL), the lock names a dead daemon: it is taken over, never a reason to refuse a
start. PostgreSQL: a session-level advisory lock on a connection kept open for as long
as the daemon runs.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

ADVISORY_KEY = 0x43414D50  # "CAMP"
log = logging.getLogger("campaign.daemon")


class AlreadyRunning(Exception):
    """The lock cannot be taken (another daemon holds it); the message says which and
    what to do."""


class DaemonLock:
    """Held from :meth:`acquire` until :meth:`release` (or the process ends)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._file: Any = None
        self._connection: Any = None

    @classmethod
    def for_url(cls, url: str) -> DaemonLock:
        """A lock for the database at ``url`` (taken before the database is even opened)."""
        from scheduler.store.engine import create_store_engine

        return cls(create_store_engine(url))

    def acquire(self) -> None:
        """Take the lock or raise :class:`AlreadyRunning`."""
        if self.engine.dialect.name == "sqlite":
            self._acquire_file(Path(f"{self.engine.url.database}.lock"))
        else:
            self._acquire_advisory()

    def _acquire_file(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with _guard(path.parent):  # one starter at a time decides about a stale lock
            for _ in range(3):
                handle = _open_lock_file(path)
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    holder = _read(handle)
                    handle.close()
                    if not _is_dead(holder):
                        raise AlreadyRunning(
                            "another scheduler already runs on this database "
                            f"({_describe(holder)}). Only one may run at a time: stop it "
                            f"first (lock file {path})."
                        ) from None
                    _take_over(path, holder)
                    continue
                if _same_file(handle, path):
                    handle.seek(0)
                    handle.truncate()
                    handle.write(_holder() + "\n")
                    handle.flush()
                    self._file = handle
                    return
                handle.close()  # replaced meanwhile: lock the file now at the path
        raise AlreadyRunning(
            f"the lock file {path} keeps changing: another scheduler is starting on this "
            "database. Only one may run at a time."
        )

    def _acquire_advisory(self) -> None:
        connection = self.engine.connect()
        got = connection.execute(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY}
        ).scalar()
        connection.commit()
        if not got:
            connection.close()
            raise AlreadyRunning(
                "another scheduler already runs on this database (it holds the PostgreSQL "
                "advisory lock). Only one may run at a time: stop it first."
            )
        self._connection = connection

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        self.engine.dispose()


@contextmanager
def _guard(folder: Path) -> Iterator[None]:
    """A short exclusive ``flock`` on the lock file's folder while the lock is taken."""
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def _open_lock_file(path: Path) -> Any:
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        descriptor = os.open(path, flags, 0o644)
    except OSError as problem:
        if os.path.islink(path):
            raise AlreadyRunning(
                f"the lock file {path} is a symbolic link. The scheduler never writes through "
                f"a link: remove it (rm {path}) and start again."
            ) from None
        raise AlreadyRunning(
            f"the lock file {path} cannot be opened: {problem.strerror}. Check that the "
            "database's folder is writable by this user."
        ) from None
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise AlreadyRunning(f"{path} is not a regular file: move it away and start again.")
    return open(descriptor, "r+", encoding="utf-8")  # held for the daemon's life


def _read(handle: Any) -> str:
    handle.seek(0)
    return str(handle.read(4096)).strip()


def _same_file(handle: Any, path: Path) -> bool:
    try:
        on_disk = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return False
    held = os.fstat(handle.fileno())
    return (on_disk.st_dev, on_disk.st_ino) == (held.st_dev, held.st_ino)


def _take_over(path: Path, holder: str) -> None:
    """The daemon named in the lock file is dead, yet the file is locked: processes it
    left behind still have it open. Put a fresh lock file in its place."""
    info = _parse(holder) or {}
    leftovers = _processes_with_open(path)
    fresh = path.with_name(f".{path.name}.{os.getpid()}.new")
    fresh.unlink(missing_ok=True)
    os.close(os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644))
    os.replace(fresh, path)
    log.warning(
        "the scheduler that held the lock (process %s) is gone; %s: the lock is taken over",
        info.get("pid", "?"),
        f"processes {', '.join(map(str, leftovers))} it left behind still have the old lock "
        "file open (stop them when convenient)"
        if leftovers
        else "its lock file was still locked",
    )


def _holder() -> str:
    return json.dumps(
        {
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "started": _start_time(os.getpid()),
            "since": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    )


def _parse(holder: str) -> dict[str, Any] | None:
    try:
        info = json.loads(holder)
    except ValueError:
        return None
    return info if isinstance(info, dict) else None


def _is_dead(holder: str) -> bool:
    """Whether the lock file names a daemon on this host that no longer runs (its process
    is gone, or its number now belongs to a process started at another time)."""
    info = _parse(holder)
    if not info or info.get("host") != socket.gethostname() or not isinstance(info.get("pid"), int):
        return False
    pid = info["pid"]
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass
    started = info.get("started")
    return started is not None and _start_time(pid) not in (None, started)


def _start_time(pid: int) -> int | None:
    """When ``pid`` started, in clock ticks since boot (Linux), to tell a reused number."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[19])
    except (OSError, IndexError, ValueError):
        return None


def _processes_with_open(path: Path) -> list[int]:
    """The processes (Linux, same user) that have ``path`` open."""
    try:
        wanted = os.stat(path)
        entries = os.listdir("/proc")
    except OSError:
        return []
    found = []
    for entry in filter(str.isdigit, entries):
        try:
            for fd in os.scandir(f"/proc/{entry}/fd"):
                held = os.stat(fd.path)
                if (held.st_dev, held.st_ino) == (wanted.st_dev, wanted.st_ino):
                    found.append(int(entry))
                    break
        except OSError:
            continue
    return sorted(found)


def _describe(holder: str) -> str:
    info = _parse(holder)
    try:
        return f"process {info['pid']} on {info['host']}, since {info['since']}"  # type: ignore[index]
    except (KeyError, TypeError):
        return holder or "another process"
