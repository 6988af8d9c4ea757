"""When each publication runs: `decide()` and `TimeMap`, with a clock set by hand.

Nothing here sleeps: the clock is a datetime the test moves. The daylight-saving tests
parse local times the way post files are read (:mod:`campaign.timeparse`) and walk the
clock minute by minute across the night the clocks change.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from campaign.timeparse import TimeProblem, parse_publish_time
from scheduler.store.models import Mode, Publication, State
from scheduler.timing import Decision, TimeMap, decide

ZONE = ZoneInfo("Europe/Stockholm")
GRACE = timedelta(minutes=30)
RECONCILE_AFTER = timedelta(seconds=30)
NOW = datetime(2030, 9, 15, 7, 0, tzinfo=UTC)


def row(
    due: datetime,
    state: State = State.SCHEDULED,
    *,
    attempts: int = 0,
    next_attempt_at: datetime | None = None,
    claimed_at: datetime | None = None,
    post_id: str = "2030-09-15-demokratidagen",
) -> Publication:
    """A publication row as the store holds it (not saved anywhere)."""
    return Publication(
        id=1,
        post_id=post_id,
        channel="facebook",
        mode=Mode.LIVE.value,
        state=state.value,
        due_at=due,
        attempt_count=attempts,
        next_attempt_at=next_attempt_at,
        claimed_at=claimed_at,
    )


def decide_now(publication: Publication, now: datetime = NOW) -> Decision:
    return decide(publication, publication.due_at, now, GRACE, RECONCILE_AFTER)


def local(text: str) -> datetime:
    """A publishing time as a post file writes it, read in the campaign's zone (UTC)."""
    return parse_publish_time(text, ZONE).utc


# -- scheduled, never tried ------------------------------------------------------------------


def test_a_post_due_later_runs_exactly_at_its_time() -> None:
    due = NOW + timedelta(hours=2)
    decision = decide_now(row(due))
    assert decision.action == "publish"
    assert decision.run_at == due
    assert decision.reason == ""


def test_a_post_due_this_very_second_runs_now() -> None:
    decision = decide_now(row(NOW))
    assert (decision.action, decision.run_at) == ("publish", NOW)


@pytest.mark.parametrize(
    "late", [timedelta(seconds=1), timedelta(minutes=10), timedelta(minutes=29, seconds=59)]
)
def test_a_post_late_within_the_grace_is_published_now(late: timedelta) -> None:
    decision = decide_now(row(NOW - late))
    assert decision.action == "publish"
    assert decision.run_at == NOW  # not at its (past) time: now
    assert "within the grace" in decision.reason


def test_a_post_exactly_the_grace_late_still_goes_out() -> None:
    decision = decide_now(row(NOW - GRACE))
    assert (decision.action, decision.run_at) == ("publish", NOW)


@pytest.mark.parametrize(
    ("late", "words"),
    [
        (GRACE + timedelta(seconds=1), "30 minutes late"),
        (timedelta(minutes=90), "90 minutes late"),
        (timedelta(hours=2), "2 hours late"),
        (timedelta(days=3), "3 days late"),
    ],
)
def test_a_post_later_than_the_grace_is_missed_and_says_how_late(
    late: timedelta, words: str
) -> None:
    decision = decide_now(row(NOW - late))
    assert decision.action == "missed"
    assert decision.run_at is None
    assert words in decision.reason
    assert "grace" in decision.reason


def test_a_zero_grace_misses_anything_late() -> None:
    late = row(NOW - timedelta(seconds=1))
    assert decide(late, late.due_at, NOW, timedelta(0), RECONCILE_AFTER).action == "missed"
    on_time = row(NOW)
    assert decide(on_time, on_time.due_at, NOW, timedelta(0), RECONCILE_AFTER).action == "publish"


# -- retries ---------------------------------------------------------------------------------


def test_a_retry_waits_for_its_next_attempt_time() -> None:
    retry_at = NOW + timedelta(minutes=4)
    decision = decide_now(
        row(NOW - timedelta(minutes=1), attempts=1, next_attempt_at=retry_at),
    )
    assert (decision.action, decision.run_at) == ("publish", retry_at)
    assert decision.reason == "try 2"


@pytest.mark.parametrize("late", [timedelta(hours=3), timedelta(days=10)])
def test_a_retry_is_never_missed_however_late_its_post(late: timedelta) -> None:
    retry_at = NOW - timedelta(minutes=5)  # its backoff ended while the daemon was down
    decision = decide_now(row(NOW - late, attempts=2, next_attempt_at=retry_at))
    assert (decision.action, decision.run_at) == ("publish", NOW)
    assert decision.reason == "try 3"


def test_a_retry_without_a_wait_runs_now() -> None:
    """Reconciliation found nothing and cleared the wait: try again at once."""
    decision = decide_now(row(NOW - timedelta(hours=5), attempts=1))
    assert (decision.action, decision.run_at) == ("publish", NOW)


# -- unknown outcomes ------------------------------------------------------------------------


@pytest.mark.parametrize("state", [State.UNKNOWN, State.PUBLISHING])
def test_an_open_outcome_is_reconciled_after_the_wait_never_published(state: State) -> None:
    claimed = NOW - timedelta(seconds=10)
    decision = decide_now(row(NOW - timedelta(hours=1), state, attempts=1, claimed_at=claimed))
    assert decision.action == "reconcile"
    assert decision.run_at == claimed + RECONCILE_AFTER
    assert decision.reason == "outcome unknown"


@pytest.mark.parametrize("state", [State.UNKNOWN, State.PUBLISHING])
def test_an_old_open_outcome_is_reconciled_now_not_missed(state: State) -> None:
    claimed = NOW - timedelta(days=2)
    decision = decide_now(row(NOW - timedelta(days=2), state, attempts=1, claimed_at=claimed))
    assert (decision.action, decision.run_at) == ("reconcile", NOW)


def test_an_open_outcome_without_a_claim_time_waits_the_full_reconcile_delay() -> None:
    decision = decide_now(row(NOW, State.UNKNOWN, attempts=1))
    assert (decision.action, decision.run_at) == ("reconcile", NOW + RECONCILE_AFTER)


# -- finished --------------------------------------------------------------------------------


@pytest.mark.parametrize("state", [State.PUBLISHED, State.FAILED, State.MISSED])
@pytest.mark.parametrize("due_in", [timedelta(hours=-5), timedelta(0), timedelta(hours=5)])
def test_a_finished_publication_needs_nothing(state: State, due_in: timedelta) -> None:
    decision = decide_now(row(NOW + due_in, state, attempts=1))
    assert decision == Decision("nothing", None, state.value)


# -- daylight saving in Europe/Stockholm -------------------------------------------------------


def fire_times(rows: list[Publication], start: datetime, end: datetime) -> dict[str, datetime]:
    """Move the clock from ``start`` to ``end`` a minute at a time, as the daemon would:
    each row goes out the first time the clock reaches the time ``decide`` gives it."""
    fired: dict[str, datetime] = {}
    now = start
    while now <= end:
        for publication in rows:
            if publication.post_id in fired:
                continue
            decision = decide_now(publication, now)
            assert decision.action == "publish", (publication.post_id, now, decision)
            assert decision.run_at is not None
            if decision.run_at <= now:
                assert "late" not in decision.reason, (publication.post_id, now)
                fired[publication.post_id] = now
        now += timedelta(minutes=1)
    return fired


def test_spring_forward_posts_around_the_missing_hour_go_out_on_time() -> None:
    """2027-03-28: at 02:00 CET the clocks jump to 03:00 CEST; 02:xx does not exist."""
    before = local("2027-03-28 01:30")
    after = local("2027-03-28 03:30")
    assert before == datetime(2027, 3, 28, 0, 30, tzinfo=UTC)  # CET, +01:00
    assert after == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)  # CEST, +02:00
    assert after - before == timedelta(hours=1)  # two hours apart on the wall, one in fact
    with pytest.raises(TimeProblem, match="does not exist"):
        local("2027-03-28 02:30")

    rows = [row(before, post_id="before"), row(after, post_id="after")]
    fired = fire_times(rows, datetime(2027, 3, 27, 23, 0, tzinfo=UTC), after + timedelta(hours=1))

    assert fired == {"before": before, "after": after}
    assert f"{fired['before'].astimezone(ZONE):%H:%M %Z}" == "01:30 CET"
    assert f"{fired['after'].astimezone(ZONE):%H:%M %Z}" == "03:30 CEST"


def test_fall_back_the_twice_happening_half_hour_needs_an_offset_and_each_runs_once() -> None:
    """2027-10-31: at 03:00 CEST the clocks go back to 02:00 CET; 02:30 happens twice."""
    with pytest.raises(TimeProblem, match="happens twice"):
        local("2027-10-31 02:30")
    first = local("2027-10-31T02:30+02:00")
    second = local("2027-10-31T02:30+01:00")
    early = local("2027-10-31 01:30")
    late = local("2027-10-31 03:30")
    assert first == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)
    assert second == datetime(2027, 10, 31, 1, 30, tzinfo=UTC)
    assert early == datetime(2027, 10, 30, 23, 30, tzinfo=UTC)  # CEST
    assert late == datetime(2027, 10, 31, 2, 30, tzinfo=UTC)  # CET
    assert late - early == timedelta(hours=3)  # two hours apart on the wall

    rows = [
        row(early, post_id="early"),
        row(first, post_id="first"),
        row(second, post_id="second"),
        row(late, post_id="late"),
    ]
    fired = fire_times(rows, datetime(2027, 10, 30, 22, 0, tzinfo=UTC), late + timedelta(hours=1))

    assert fired == {"early": early, "first": first, "second": second, "late": late}
    walls = {name: f"{when.astimezone(ZONE):%H:%M %Z}" for name, when in fired.items()}
    assert walls == {
        "early": "01:30 CEST",
        "first": "02:30 CEST",
        "second": "02:30 CET",
        "late": "03:30 CET",
    }


def test_the_grace_counts_real_time_across_the_spring_change() -> None:
    """01:30 CET is due; at 03:15 CEST only 45 real minutes have passed, not 105."""
    due = local("2027-03-28 01:30")
    at = local("2027-03-28 03:15")
    assert at - due == timedelta(minutes=45)
    assert decide(row(due), due, at, timedelta(minutes=50), RECONCILE_AFTER).action == "publish"
    assert decide(row(due), due, at, timedelta(minutes=40), RECONCILE_AFTER).action == "missed"


def test_the_grace_counts_real_time_across_the_autumn_change() -> None:
    """02:30 CEST is due; at 02:10 CET (the second 02:10) 40 real minutes have passed."""
    due = local("2027-10-31T02:30+02:00")
    at = local("2027-10-31T02:10+01:00")
    assert at - due == timedelta(minutes=40)
    assert decide(row(due), due, at, GRACE, RECONCILE_AFTER).action == "missed"
    assert decide(row(due), due, at, timedelta(minutes=45), RECONCILE_AFTER).action == "publish"


# -- a restart in the middle of a campaign ----------------------------------------------------


def test_a_restart_mid_campaign_decides_each_row_by_its_state_and_lateness() -> None:
    """The daemon was down from 08:00 to 10:00 local time and starts again."""
    restart = local("2030-09-15 10:00")
    rows = {
        "published-before": row(local("2030-09-15 07:00"), State.PUBLISHED, attempts=1),
        "failed-before": row(local("2030-09-15 07:30"), State.FAILED, attempts=5),
        "missed-before": row(local("2030-09-14 12:00"), State.MISSED),
        "due-while-down-long-ago": row(local("2030-09-15 08:30")),
        "due-while-down-recently": row(local("2030-09-15 09:40")),
        "cut-off-by-the-stop": row(
            local("2030-09-15 07:59"),
            State.PUBLISHING,
            attempts=1,
            claimed_at=local("2030-09-15 07:59"),
        ),
        "retry-waiting": row(
            local("2030-09-15 06:00"),
            attempts=2,
            next_attempt_at=local("2030-09-15 10:20"),
        ),
        "later-today": row(local("2030-09-15 15:00")),
    }

    decided = {name: decide_now(publication, restart) for name, publication in rows.items()}

    assert {name: (d.action, d.run_at) for name, d in decided.items()} == {
        "published-before": ("nothing", None),
        "failed-before": ("nothing", None),
        "missed-before": ("nothing", None),
        "due-while-down-long-ago": ("missed", None),
        "due-while-down-recently": ("publish", restart),
        "cut-off-by-the-stop": ("reconcile", restart),
        "retry-waiting": ("publish", local("2030-09-15 10:20")),
        "later-today": ("publish", local("2030-09-15 15:00")),
    }
    assert "90 minutes late" in decided["due-while-down-long-ago"].reason


# -- the time map ---------------------------------------------------------------------------


def test_the_identity_map_leaves_every_time_alone() -> None:
    identity = TimeMap()
    assert identity.is_identity
    for when in (NOW, local("2027-03-28 03:30"), datetime(2021, 9, 1, tzinfo=UTC)):
        assert identity.wall(when) == when


def test_a_rehearsal_starts_with_the_first_post_and_compresses_the_rest() -> None:
    origin = local("2021-09-01 09:00")
    start = NOW
    rehearsal = TimeMap.rehearsal(origin, start, speed=100_000)
    assert not rehearsal.is_identity
    assert rehearsal.wall(origin) == start
    assert rehearsal.wall(origin + timedelta(days=1)) == start + timedelta(seconds=0.864)
    month = origin + timedelta(days=30)
    assert rehearsal.wall(month) == start + timedelta(seconds=25.92)
    # order and spacing are kept, only scaled
    a, b = origin + timedelta(hours=3), origin + timedelta(hours=9)
    assert rehearsal.wall(b) - rehearsal.wall(a) == timedelta(hours=6) / 100_000


def test_a_rehearsal_at_speed_one_is_a_plain_shift() -> None:
    origin = local("2021-09-01 09:00")
    shift = TimeMap.rehearsal(origin, NOW, speed=1)
    assert shift.wall(origin + timedelta(hours=5)) == NOW + timedelta(hours=5)


def test_a_rehearsal_of_an_old_campaign_is_on_time_not_missed() -> None:
    """The sample campaign is from 2021: mapped to now, its posts are due, not years late."""
    origin = local("2021-09-01 09:00")
    rehearsal = TimeMap.rehearsal(origin, NOW, speed=1000)
    second_post = origin + timedelta(days=1)
    wall = rehearsal.wall(second_post)
    decision = decide(row(second_post), wall, NOW, GRACE, RECONCILE_AFTER)
    assert (decision.action, decision.run_at) == ("publish", NOW + timedelta(seconds=86.4))
    # and once the rehearsal clock has passed it by a little, it goes out late, not missed
    decision = decide(row(second_post), wall, wall + timedelta(seconds=5), GRACE, RECONCILE_AFTER)
    assert decision.action == "publish"
