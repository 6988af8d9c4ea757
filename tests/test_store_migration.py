"""Schema version 2 on SQLite and PostgreSQL: publications keyed by (post, account), pauses
and cool-downs per account, the scheduler's lease, and the migration from version 1."""

# The fixtures imported from tests.database come back as test parameters of the same name.
# ruff: noqa: F811

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from scheduler.store.models import Mode, Publication, State
from scheduler.store.store import Store
from tests.database import database_url, store  # noqa: F401
from tests.test_store import DUE, NOW, claim

LONG_ACCOUNT = "sodertalje-kommun-kultur-och-fritid-bibliotek-ungdom-raddning-x"  # 62 chars


# Schema version 2 -------------------------------------------------------------------


def test_a_publication_is_unique_per_post_and_account(store: Store) -> None:
    default = store.ensure_publication("p", "facebook", DUE, NOW)
    library = store.ensure_publication("p", "bibliotek-fb", DUE, NOW, channel="facebook")
    rehearsal = store.ensure_publication(
        "p", "bibliotek-fb", DUE, NOW, Mode.DRY_RUN, channel="facebook"
    )
    assert len({default.id, library.id, rehearsal.id}) == 3
    assert (default.account, default.channel) == ("facebook", "facebook")
    assert (library.account, library.channel) == ("bibliotek-fb", "facebook")
    again = store.ensure_publication("p", "bibliotek-fb", DUE, NOW, channel="facebook")
    assert again.id == library.id
    assert store.get("p", "bibliotek-fb") == library
    assert store.get("p", "bibliotek-fb", Mode.DRY_RUN) == rehearsal
    assert store.get("p", "bibliotek-ig") is None
    with pytest.raises(IntegrityError), store.writing() as session:
        session.add(
            Publication(post_id="p", channel="facebook", account="bibliotek-fb", due_at=DUE)
        )
        session.flush()
    assert len(store.publications()) == 3


def test_a_row_made_without_an_account_is_for_the_platforms_default_account(
    store: Store,
) -> None:
    with store.writing() as session:
        session.add(Publication(post_id="p", channel="instagram", due_at=DUE))
    (row,) = store.publications()
    assert (row.channel, row.account) == ("instagram", "instagram")
    assert store.get("p", "instagram") == row


def test_a_named_account_needs_its_platform(store: Store) -> None:
    with pytest.raises(ValueError, match=r"bibliotek-ig.*channel="):
        store.ensure_publication("p", "bibliotek-ig", DUE, NOW)
    assert store.publications() == []


def test_forgetting_an_untried_publication_takes_that_account_only(store: Store) -> None:
    store.ensure_publication("p", "instagram", DUE, NOW)
    store.ensure_publication("p", "bibliotek-ig", DUE, NOW, channel="instagram")
    assert store.forget_untried("p", "bibliotek-ig")
    assert [(r.post_id, r.account) for r in store.publications()] == [("p", "instagram")]
    assert not store.forget_untried("p", "bibliotek-ig")


def test_pauses_and_cool_downs_are_per_account(store: Store) -> None:
    store.cool_down(LONG_ACCOUNT, NOW + timedelta(hours=1), "rate limit")
    assert store.pause_channel("bibliotek-ig", "log in again", NOW)
    assert store.channel_state(LONG_ACCOUNT).cooldown_until == NOW + timedelta(hours=1)
    assert store.channel_state("bibliotek-ig").paused_reason == "log in again"
    for default in ("facebook", "instagram"):
        state = store.channel_state(default)
        assert (state.cooldown_until, state.paused_reason) == (None, None)
    store.resume_channel("bibliotek-ig")
    assert store.channel_state("bibliotek-ig").paused_reason is None


def test_an_alert_names_its_account_and_platform(store: Store) -> None:
    assert store.raise_alert("a", "failed", "m", NOW, channel="facebook")
    assert store.raise_alert("b", "paused", "m", NOW, channel="instagram", account="bibliotek-ig")
    assert store.raise_alert("c", "paused", "m", NOW, account="instagram")
    assert store.raise_alert("d", "failed", "m", NOW)
    assert [(a.key, a.channel, a.account) for a in store.alerts()] == [
        ("a", "facebook", "facebook"),
        ("b", "instagram", "bibliotek-ig"),
        ("c", "instagram", "instagram"),
        ("d", None, None),
    ]


# The scheduler's lease ----------------------------------------------------------------


def test_each_acquisition_of_a_lease_is_a_new_epoch_on_the_database_clock(
    store: Store,
) -> None:
    assert store.lease("daemon") is None
    assert store.acquire_lease("daemon", "host-a:1", 4242) == 1
    first = store.lease("daemon")
    assert first is not None
    assert (first.holder, first.epoch, first.backend_pid) == ("host-a:1", 1, 4242)
    assert first.acquired_at == first.renewed_at <= store.database_now()

    assert store.renew_lease("daemon", "host-a:1", 1)
    renewed = store.lease("daemon")
    assert renewed is not None and first.renewed_at <= renewed.renewed_at <= store.database_now()
    assert renewed.acquired_at == first.acquired_at

    assert store.acquire_lease("daemon", "host-b:7") == 2
    assert not store.renew_lease("daemon", "host-a:1", 1)  # taken over: the old one is fenced
    assert store.renew_lease("daemon", "host-b:7", 2)
    taken = store.lease("daemon")
    assert taken is not None and (taken.holder, taken.epoch, taken.backend_pid) == (
        "host-b:7",
        2,
        None,
    )
    assert store.acquire_lease("standby", "host-b:7") == 1  # leases are independent
    assert store.database_now().tzinfo == UTC


def test_a_fenced_claim_is_taken_only_under_the_current_lease(store: Store) -> None:
    publication_id = store.ensure_publication("p", "facebook", DUE, NOW).id
    assert publication_id is not None
    assert claim(store, publication_id, fence=(1, "host-a:1")) is None  # no lease at all
    assert store.acquire_lease("daemon", "host-a:1") == 1
    assert store.acquire_lease("daemon", "host-b:7") == 2
    assert claim(store, publication_id, fence=(1, "host-a:1")) is None  # taken over
    assert claim(store, publication_id, fence=(2, "host-a:1")) is None  # not the holder
    row = store.get_by_id(publication_id)
    assert (row.state, row.attempt_count, store.attempts(publication_id)) == (
        State.SCHEDULED,
        0,
        [],
    )
    taken = claim(store, publication_id, fence=(2, "host-b:7"), claimed_by="host-b:7")
    assert taken is not None and store.get_by_id(publication_id).state == State.PUBLISHING


def test_the_stores_fence_holds_for_the_schedulers_claims_but_not_by_hand(
    store: Store,
) -> None:
    ids = [store.ensure_publication(p, "facebook", DUE, NOW).id for p in ("p", "q", "r")]
    assert None not in ids
    store.fence = (store.acquire_lease("daemon", "host-a:1"), "host-a:1")
    assert claim(store, ids[0]) is not None  # the lease holds
    store.acquire_lease("daemon", "host-b:7")
    assert claim(store, ids[1]) is None  # taken over: the old scheduler claims nothing
    assert store.get_by_id(ids[1]).state == State.SCHEDULED  # type: ignore[arg-type]
    seen = store.get_by_id(ids[1])  # type: ignore[arg-type]
    assert claim(store, ids[1], seen=seen) is not None  # `campaign publish` by hand
    store.fence = None
    assert claim(store, ids[2]) is not None  # no lease asked for (SQLite, or no standby)
