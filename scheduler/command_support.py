"""What the runtime commands share: opening the store (and the one-daemon lock) with
errors turned into messages and exit codes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.markup import escape

from scheduler.daemon_lock import AlreadyRunning, DaemonLock
from scheduler.store.engine import StoreError
from scheduler.store.store import Store


class CommandExit(Exception):
    """Stop the command with ``code``; the message has been printed already."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


@contextmanager
def opened_store(url: str, err: Console, *, locked: bool = False) -> Iterator[Store]:
    """The store at ``url``; ``locked``: also hold the one-daemon lock while inside."""
    lock = None
    if locked:
        lock = DaemonLock.for_url(url)
        try:
            lock.acquire()
        except AlreadyRunning as problem:
            err.print(f"[red]error[/]: {escape(str(problem))}")
            raise CommandExit(2) from None
    try:
        try:
            store = Store.open(url)
        except StoreError as problem:
            err.print(f"[red]error[/]: database: {escape(str(problem))}")
            raise CommandExit(2) from None
        try:
            yield store
        finally:
            store.close()
    finally:
        if lock is not None:
            lock.release()
