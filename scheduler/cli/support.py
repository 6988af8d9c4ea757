"""What the runtime commands share: opening the store (and the one-daemon lock) with
errors turned into messages and exit codes (never a traceback, never a password).

The store, SQLAlchemy and the lock are imported when a store is opened, not with this
module: a command that finds no database to open starts without them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from scheduler.leader import Leadership
    from scheduler.store.store import Store


class CommandExit(Exception):
    """Stop the command with ``code``; the message has been printed already."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


@contextmanager
def opened_store(
    url: str, err: Console, *, locked: bool = False, leader: Leadership | None = None
) -> Iterator[Store]:
    """The store at ``url``; ``locked``: also hold the one-daemon lock while inside.

    ``leader`` (with ``locked``) takes the lock: a standby waits for it, and leaves with
    exit code 0 when stopped while waiting; then the lease, and watches both while inside.
    """
    from rich.markup import escape
    from sqlalchemy.exc import DBAPIError

    from scheduler.daemon_lock import AlreadyRunning, DaemonLock
    from scheduler.redaction import redact
    from scheduler.store.engine import StoreError, describe_database
    from scheduler.store.store import Store

    lock = None
    if locked:
        try:
            if leader is None:
                lock = DaemonLock.for_url(url)
                lock.acquire()
            else:
                lock = leader.lock_for(url)
                if not leader.take(lock):
                    lock.release()
                    raise CommandExit(0)
        except AlreadyRunning as problem:
            err.print(f"[red]error[/]: {escape(str(problem))}")
            raise CommandExit(2) from None
        except StoreError as problem:
            err.print(f"[red]error[/]: database: {escape(str(problem))}")
            raise CommandExit(2) from None
        except DBAPIError as problem:  # the lock of a server database is taken on the server
            err.print(
                f"[red]error[/]: database: cannot reach {escape(describe_database(url))} to "
                f"take the scheduler's lock: {escape(redact(str(problem.orig)) or '')}. Check "
                "\\[database] url (or the variable named by url_env) and that the server runs."
            )
            raise CommandExit(2) from None
    try:
        try:
            store = Store.open(url)
        except StoreError as problem:
            err.print(f"[red]error[/]: database: {escape(str(problem))}")
            raise CommandExit(2) from None
        try:
            if leader is not None and lock is not None and not leader.lead(store):
                raise CommandExit(0)
            yield store
        finally:
            store.close()
    finally:
        if leader is not None:
            leader.stop()
        if lock is not None:
            lock.release()
