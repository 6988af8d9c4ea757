"""Two processes resting or pausing a channel for the first time at once never collide.

The channel's row used to be created by a plain INSERT: on PostgreSQL, a process whose
insert waited on another's (not yet committed) row then failed with a unique violation,
and its try was recorded but never rested or retried. The other process's transaction is
held open here at the worst moment; on SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from scheduler.store.models import ChannelState
from scheduler.store.store import Store
from tests.database import database_url as database_url

NOW = datetime(2030, 9, 15, 7, 0, tzinfo=UTC)


def rest(store: Store) -> None:
    store.cool_down("facebook", NOW + timedelta(hours=1), "(#32) Page request limit reached")


def pause(store: Store) -> None:
    store.pause_channel("facebook", "the token no longer works", NOW)


def check(store: Store) -> None:
    store.note_auth_check("facebook", NOW)


@pytest.mark.parametrize("second", [rest, pause, check], ids=["rest", "pause", "auth-check"])
def test_a_channel_row_made_by_two_processes_at_once(
    database_url: str, second: Callable[[Store], None]
) -> None:
    first = Store.open(database_url)
    other = Store.open(database_url)
    problems: list[BaseException] = []

    def run_second() -> None:
        try:
            second(other)
        except BaseException as problem:  # the failure under test, reported below
            problems.append(problem)

    try:
        racer = threading.Thread(target=run_second)
        with first.writing() as session:  # the first process rests the channel, not committed
            session.add(
                ChannelState(
                    channel="facebook",
                    cooldown_until=NOW + timedelta(minutes=30),
                    cooldown_reason="(#4) Application request limit reached",
                )
            )
            session.flush()
            racer.start()
            racer.join(timeout=2)  # it waits on our row (or for the write lock): let it wait
        racer.join(timeout=60)

        assert not racer.is_alive()
        assert problems == []
        state = first.channel_state("facebook")
        if second is rest:
            assert state.cooldown_until == NOW + timedelta(hours=1)  # the longer rest wins
            assert state.cooldown_reason == "(#32) Page request limit reached"
        else:
            assert state.cooldown_until == NOW + timedelta(minutes=30)  # kept
        if second is pause:
            assert state.paused_reason == "the token no longer works"
        if second is check:
            assert state.last_auth_check_at == NOW
    finally:
        first.close()
        other.close()
