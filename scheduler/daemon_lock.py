"""One daemon per database: an exclusive lock held for the daemon's whole life.

SQLite: ``flock`` on a file beside the database, released by the kernel when the last
process with the file open ends. The file is opened close-on-exec and never through a
symbolic link, and the daemon's workers are spawned, not forked, so no other process
shares it. Should one all the same (a process left over from a daemon killed with
SIGKILL), the lock names a dead daemon: it is taken over, never a reason to refuse a
start. PostgreSQL: a session-level advisory lock on a connection kept open for as long
as the daemon runs (``application_name`` campaign-lock), with TCP keepalives on both ends
scaled to ``takeover_seconds``: when the holder's machine or network is gone, the server
ends its session, and so frees the lock, within two thirds of that time.

A standby (``acquire(wait=True)``) tries again every ``poll`` seconds until the lock is
free or it is told to stop.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import stat
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from scheduler.redaction import redact

ADVISORY_KEY = 0x43414D50  # "CAMP"
#: ``application_name`` of the connection that holds the lock, and of a standby's waiting one.
LOCK_APPLICATION = "campaign-lock"
WAITING_APPLICATION = "campaign-standby"
#: How soon a waiting standby sees that it was told to stop.
STOP_CHECK_SECONDS = 0.25
#: Whether this session holds the advisory lock (one bigint key: classid is its high half).
HELD = text(
    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted "
    "AND pid = pg_backend_pid() AND objsubid = 1 "
    "AND ((classid::bigint << 32) | objid::bigint) = :key)"
)
log = logging.getLogger("campaign.daemon")
_T = TypeVar("_T")


class AlreadyRunning(Exception):
    """The lock cannot be taken (another daemon holds it); the message says which and
    what to do."""


class HeldByAnother(AlreadyRunning):
    """Another live scheduler holds the lock: a standby waits on this, never on the rest.
    ``holder``: who, in words, when the lock says (SQLite's lock file)."""

    def __init__(self, message: str, holder: str | None = None) -> None:
        super().__init__(message)
        self.holder = holder


class LockLost(Exception):
    """The lock taken is no longer certainly held; the message says why."""


@dataclass(frozen=True)
class Keepalives:
    """TCP settings of the lock's connection for a takeover within ``takeover`` seconds:
    silence is noticed after ``idle + interval * count`` s, unacknowledged data after
    ``user_timeout_ms``; both within two thirds of ``takeover``."""

    idle: int
    interval: int
    count: int
    user_timeout_ms: int
    statement_timeout_ms: int

    @classmethod
    def for_takeover(cls, takeover: float) -> Keepalives:
        idle = max(1, int(takeover / 3))
        interval = max(1, int(takeover / 9))
        count = max(1, min(3, int((takeover * 2 / 3 - idle) / interval)))
        half = max(1000, int(takeover * 500))
        return cls(idle, interval, count, half, max(1000, int(takeover * 1000 / 3)))

    def client(self) -> dict[str, Any]:
        """libpq's own keepalives (the client notices a dead server)."""
        return {
            "keepalives": 1,
            "keepalives_idle": self.idle,
            "keepalives_interval": self.interval,
            "keepalives_count": self.count,
            "tcp_user_timeout": self.user_timeout_ms,
            "connect_timeout": max(2, self.idle),
        }

    def server(self) -> list[str]:
        """The session's settings on the server (the server notices a dead client and
        ends its session, which frees the lock). Over a Unix socket they do nothing."""
        return [
            f"SET tcp_keepalives_idle = {self.idle}",
            f"SET tcp_keepalives_interval = {self.interval}",
            f"SET tcp_keepalives_count = {self.count}",
            f"SET tcp_user_timeout = {self.user_timeout_ms}",
            f"SET statement_timeout = {self.statement_timeout_ms}",
        ]


class DaemonLock:
    """Held from :meth:`acquire` until :meth:`release` (or the process ends)."""

    def __init__(self, engine: Engine, *, takeover_seconds: float | None = None) -> None:
        self.engine = engine
        self.keepalives = (
            Keepalives.for_takeover(takeover_seconds) if takeover_seconds is not None else None
        )
        self._file: Any = None
        self._path: Path | None = None
        self._connection: Any = None
        self._waiting: Any = None  # a standby's connection between tries (PostgreSQL)

    @classmethod
    def for_url(cls, url: str, *, takeover_seconds: float | None = None) -> DaemonLock:
        """A lock for the database at ``url`` (taken before the database is even opened);
        ``takeover_seconds``: a PostgreSQL lock connection tuned to be noticed gone within
        that time."""
        from scheduler.store.engine import create_store_engine

        engine = create_store_engine(url)
        if takeover_seconds is None or engine.dialect.name == "sqlite":
            return cls(engine, takeover_seconds=takeover_seconds)
        keepalives = Keepalives.for_takeover(takeover_seconds)
        lock_engine = create_engine(
            engine.url,
            poolclass=NullPool,
            hide_parameters=True,
            connect_args=keepalives.client(),
        )
        engine.dispose()
        return cls(lock_engine, takeover_seconds=takeover_seconds)

    @property
    def is_server(self) -> bool:
        return self.engine.dialect.name != "sqlite"

    @property
    def path(self) -> Path:
        """The lock file of an SQLite database."""
        return Path(f"{self.engine.url.database}.lock")

    def acquire(
        self,
        *,
        wait: bool = False,
        stop: Callable[[], bool] = lambda: False,
        poll: float = 1.0,
        refused: Callable[[AlreadyRunning], None] | None = None,
        trouble: Callable[[Exception], None] | None = None,
    ) -> bool:
        """Take the lock (True) or raise :class:`AlreadyRunning`.

        ``wait``: while another scheduler holds it, call ``refused`` and try again every
        ``poll`` seconds; False once ``stop()`` says so. A database that cannot be reached
        after the first try is passed to ``trouble`` and tried again too (a server's
        restart must not end a standby); at the first try it is raised.
        """
        tries = 0
        while True:
            tries += 1
            try:
                if self.is_server:
                    self._acquire_advisory(keep_waiting=wait)
                else:
                    self._acquire_file(self.path)
                return True
            except HeldByAnother as refusal:
                if not wait:
                    raise
                if refused is not None:
                    refused(refusal)
            except DBAPIError as problem:
                if not wait or tries == 1:
                    raise
                self._drop_waiting()
                if trouble is not None:
                    trouble(problem)
            if _sleep_unless(stop, poll):
                self._drop_waiting()
                return False

    def check(self) -> None:
        """Raise :class:`LockLost` unless the lock is still held. PostgreSQL: asked on the
        lock's own connection, so a connection the server has ended is noticed."""
        if self._file is not None:
            if self._path is not None and not _same_file(self._file, self._path):
                raise LockLost(f"the lock file {self._path} was removed or replaced")
            return
        held = self.on_connection(lambda c: c.execute(HELD, {"key": ADVISORY_KEY}).scalar())
        if not held:
            raise LockLost("the database no longer counts it as held")

    def on_connection(self, work: Callable[[Connection], _T]) -> _T:
        """``work`` in one transaction on the connection that holds a PostgreSQL lock;
        :class:`LockLost` if that connection fails."""
        connection = self._connection
        if connection is None:
            raise LockLost("the lock is not held")
        try:
            result = work(connection)
            connection.commit()
        except DBAPIError as problem:
            try:
                connection.rollback()
            except Exception:  # the connection is gone: nothing to roll back
                log.debug("rolling back on the lock connection failed", exc_info=True)
            raise LockLost(
                f"its connection to the database failed ({_first_line(problem)})"
            ) from None
        return result

    @property
    def connection(self) -> Any:
        """The connection that holds a PostgreSQL lock (None for SQLite)."""
        return self._connection

    def abandon(self) -> None:
        """Forget a connection another thread may still be stuck in (never closed from
        here: the process's end closes it)."""
        self._connection = None

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
                        raise HeldByAnother(
                            "another scheduler already runs on this database "
                            f"({_describe(holder)}). Only one may run at a time: stop it "
                            f"first (lock file {path}).",
                            _describe(holder) if _parse(holder) else None,
                        ) from None
                    _take_over(path, holder)
                    continue
                if _same_file(handle, path):
                    handle.seek(0)
                    handle.truncate()
                    handle.write(_holder() + "\n")
                    handle.flush()
                    self._file, self._path = handle, path
                    return
                handle.close()  # replaced meanwhile: lock the file now at the path
        raise HeldByAnother(
            f"the lock file {path} keeps changing: another scheduler is starting on this "
            "database. Only one may run at a time."
        )

    def _acquire_advisory(self, *, keep_waiting: bool = False) -> None:
        connection = self._waiting or self._connect()
        self._waiting = None
        try:
            got = connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY}
            ).scalar()
            connection.commit()
        except BaseException:
            _close_quietly(connection)
            raise
        if not got:
            if keep_waiting:
                self._waiting = connection  # asked again at the next try
            else:
                connection.close()
            raise HeldByAnother(
                "another scheduler already runs on this database (it holds the PostgreSQL "
                "advisory lock). Only one may run at a time: stop it first."
            )
        if self.keepalives is not None:
            try:
                for statement in [
                    f"SET application_name = '{LOCK_APPLICATION}'",
                    *self.keepalives.server(),
                ]:
                    connection.exec_driver_sql(statement)
                connection.commit()
            except BaseException:
                _close_quietly(connection)  # the lock goes with the session
                raise
        self._connection = connection

    def _connect(self) -> Any:
        connection = self.engine.connect()
        if self.keepalives is not None:
            connection.exec_driver_sql(f"SET application_name = '{WAITING_APPLICATION}'")
            connection.commit()
        return connection

    def _drop_waiting(self) -> None:
        if self._waiting is not None:
            _close_quietly(self._waiting)
            self._waiting = None

    def release(self) -> None:
        self._drop_waiting()
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        if self._connection is not None:
            _close_quietly(self._connection)
            self._connection = None
        self.engine.dispose()


def _sleep_unless(stop: Callable[[], bool], seconds: float) -> bool:
    """Sleep ``seconds`` in short steps; True as soon as ``stop()`` holds."""
    end = time.monotonic() + seconds
    while not stop():
        remaining = end - time.monotonic()
        if remaining <= 0:
            return False
        time.sleep(min(remaining, STOP_CHECK_SECONDS))
    return True


def _close_quietly(connection: Any) -> None:
    try:
        connection.close()
    except Exception:  # a broken connection is as good as closed
        log.debug("closing a lock connection failed", exc_info=True)


def _first_line(problem: DBAPIError) -> str:
    return (redact(str(problem.orig)).strip().splitlines() or ["no detail"])[0]


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
