"""One daemon per database: an exclusive lock held for the daemon's whole life.

SQLite: ``flock`` on a file beside the database (released by the kernel if the
process dies, so a crash never leaves a stale lock). PostgreSQL: a session-level
advisory lock on a connection kept open for as long as the daemon runs.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

ADVISORY_KEY = 0x43414D50  # "CAMP"


class AlreadyRunning(Exception):
    """Another daemon holds the lock; the message says which and what to do."""


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
        handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the process's life
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise AlreadyRunning(
                f"another scheduler already runs on this database ({_describe(holder)}). "
                f"Only one may run at a time: stop it first (lock file {path})."
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(_holder() + "\n")
        handle.flush()
        self._file = handle

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


def _holder() -> str:
    return json.dumps(
        {
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "since": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    )


def _describe(holder: str) -> str:
    try:
        info = json.loads(holder)
        return f"process {info['pid']} on {info['host']}, since {info['since']}"
    except (ValueError, KeyError, TypeError):
        return holder
