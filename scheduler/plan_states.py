"""The store's state of each publication, for `campaign plan`: nothing heavy is imported
unless there is a database to read (a plan on a fresh checkout stays quick)."""

from __future__ import annotations

from pathlib import Path

from campaign.config import Config


def database_exists(config: Config) -> bool:
    """False for a SQLite file that was never made (nothing has run here yet)."""
    url = config.database_url
    if url.startswith("sqlite:///"):
        return Path(url.removeprefix("sqlite:///")).is_file()
    return True


def publication_states(config: Config) -> dict[tuple[str, str], str]:
    """(post id, account) → state, for the mode each account runs in now."""
    if not database_exists(config):
        return {}
    from scheduler.channels.factory import build_channels
    from scheduler.publisher import mode_of
    from scheduler.store.engine import StoreError
    from scheduler.store.models import Mode
    from scheduler.store.store import Store

    modes = {name: mode_of(setup.channel) for name, setup in build_channels(config).items()}
    try:
        store = Store.open(config.database_url)
    except StoreError:
        return {}
    try:
        return {
            (row.post_id, row.account): row.state
            for row in store.publications()
            if modes.get(row.account) == Mode(row.mode)
        }
    finally:
        store.close()
