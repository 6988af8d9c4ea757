"""A rehearsal says up front what it replays and how long that takes, replays a window
(``--from``/``--until``) at a speed or fitted into a duration, and, stopped by Ctrl-C or
SIGTERM, says how many publications went out and how many did not."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from campaign.config import load_config
from campaign.post import Post
from scheduler.cli.app import app
from scheduler.cli.rehearsal_text import announcement, outcome_line
from scheduler.rehearsal_plan import (
    EmptyWindow,
    Pace,
    PlanProblem,
    Window,
    parse_pace,
    parse_window,
    plan_rehearsal,
)
from scheduler.store.models import State
from scheduler.store.store import Store
from scheduler.timing import TimeMap
from tests.conftest import GOOD_POST, Campaign
from tests.test_rehearsal import rehearsal as rehearsal  # the fixture: three posts, a draft
from tests.test_rehearsal import rehearsal_folder

ROOT = Path(__file__).resolve().parent.parent
ZONE = ZoneInfo("Europe/Stockholm")
ACCOUNTS = {"facebook", "instagram"}
BOUND = 60  # seconds: a bound on a hang, never a measure of speed
DAYS = ((15, "forsta"), (17, "andra"), (19, "tredje"))


def with_outlier(campaign: Campaign) -> Campaign:
    """One post far beyond the others: December 2035."""
    campaign.post("2035-12-20-jul", GOOD_POST.replace("2030-09-15", "2035-12-20"))
    return campaign


def posts(campaign: Campaign) -> list[Post]:
    loaded, _ = campaign.load()
    return loaded


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZONE).astimezone(UTC)


# -- the pace: a speed or a duration ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "pace"),
    [
        ("100000", Pace(speed=100_000)),
        ("2e5", Pace(speed=200_000)),
        ("0.5", Pace(speed=0.5)),
        ("60s", Pace(target=timedelta(seconds=60))),
        ("2m", Pace(target=timedelta(minutes=2))),
        ("1h30m", Pace(target=timedelta(minutes=90))),
        ("1m30s", Pace(target=timedelta(seconds=90))),
        (" 90S ", Pace(target=timedelta(seconds=90))),
    ],
)
def test_a_pace_is_a_speed_or_a_duration(text: str, pace: Pace) -> None:
    assert parse_pace(text) == pace


@pytest.mark.parametrize("text", ["fast", "", "0", "-5", "inf", "nan", "0s", "2d", "1s2m", "m"])
def test_a_pace_that_is_neither_is_refused_with_how_to_write_it(text: str) -> None:
    with pytest.raises(PlanProblem) as refused:
        parse_pace(text)
    assert "100000" in str(refused.value)
    assert "60s" in str(refused.value) or "above 0" in str(refused.value)


def test_a_duration_fits_the_window_into_it(rehearsal: Campaign) -> None:
    # Four days of campaign in two minutes: 345,600 s / 120 s.
    plan = plan_rehearsal(posts(rehearsal), ACCOUNTS, Window(), parse_pace("2m"))
    assert plan.speed == 2880
    assert plan.wall == timedelta(minutes=2)
    # The same duration for the window of the last two posts: two days in two minutes.
    window = parse_window("2030-09-17", None, ZONE)
    assert plan_rehearsal(posts(rehearsal), ACCOUNTS, window, parse_pace("2m")).speed == 1440


def test_a_duration_fits_a_campaign_of_one_moment_at_once(rehearsal: Campaign) -> None:
    window = parse_window("2030-09-17", "2030-09-17", ZONE)
    plan = plan_rehearsal(posts(rehearsal), ACCOUNTS, window, parse_pace("60s"))
    assert plan.wall == timedelta(0) and plan.publications == 2


# -- the window ------------------------------------------------------------------------------


def ids_in(campaign: Campaign, since: str | None, until: str | None) -> list[str]:
    window = parse_window(since, until, ZONE)
    plan = plan_rehearsal(posts(campaign), ACCOUNTS, window, Pace(speed=100_000))
    return [post.id for post in plan.posts]


def test_a_window_of_dates_holds_whole_days_both_ends_included(rehearsal: Campaign) -> None:
    assert ids_in(rehearsal, "2030-09-17", "2030-09-19") == [
        "2030-09-17-andra",
        "2030-09-19-tredje",
    ]
    assert ids_in(rehearsal, None, "2030-09-15") == ["2030-09-15-forsta"]
    assert ids_in(rehearsal, "2030-09-16", None) == ["2030-09-17-andra", "2030-09-19-tredje"]
    assert ids_in(rehearsal, None, None) == [f"2030-09-{day}-{slug}" for day, slug in DAYS]


def test_a_window_of_date_times_includes_its_exact_ends(rehearsal: Campaign) -> None:
    assert ids_in(rehearsal, "2030-09-17 09:00", "2030-09-17 09:00") == ["2030-09-17-andra"]
    assert ids_in(rehearsal, "2030-09-15 09:01", "2030-09-19 08:59") == ["2030-09-17-andra"]
    # with an offset: 07:00 UTC is 09:00 in Stockholm
    assert ids_in(rehearsal, "2030-09-19T07:00Z", None) == ["2030-09-19-tredje"]


def test_the_window_counts_publications_and_the_whole_campaign(rehearsal: Campaign) -> None:
    window = parse_window("2030-09-17", None, ZONE)
    plan = plan_rehearsal(posts(rehearsal), ACCOUNTS, window, Pace(speed=100_000))
    assert (plan.publications, plan.campaign.count) == (4, 6)
    assert (plan.first, plan.last) == (local("2030-09-17 09:00"), local("2030-09-19 09:00"))
    # a switched-off account's publications are not counted
    assert plan_rehearsal(posts(rehearsal), {"facebook"}, window, Pace(speed=1)).publications == 2


@pytest.mark.parametrize(
    ("since", "until", "says"),
    [
        ("2030-13-01", None, '--from "2030-13-01" is not a real date'),
        ("tomorrow", None, "--from"),
        (None, "2030-09-15 25:00", "--until"),
        ("2030-09-19", "2030-09-15", "--from 2030-09-19 is after --until 2030-09-15"),
        ("2030-03-31 02:30", None, "does not exist in Europe/Stockholm"),
    ],
)
def test_a_bad_window_is_refused(since: str | None, until: str | None, says: str) -> None:
    with pytest.raises(PlanProblem) as refused:
        parse_window(since, until, ZONE)
    assert says in str(refused.value)


def test_an_empty_window_says_which_dates_the_campaign_spans(rehearsal: Campaign) -> None:
    window = parse_window("2030-09-20", "2030-10-01", ZONE)
    with pytest.raises(EmptyWindow) as empty:
        plan_rehearsal(posts(rehearsal), ACCOUNTS, window, Pace(speed=1))
    campaign = empty.value.campaign
    assert (campaign.first, campaign.last, campaign.count) == (
        local("2030-09-15 09:00"),
        local("2030-09-19 09:00"),
        6,
    )


# -- the estimate ----------------------------------------------------------------------------


def test_the_estimate_of_a_campaign_with_a_far_outlier_says_how_to_shorten_it(
    rehearsal: Campaign,
) -> None:
    plan = plan_rehearsal(posts(with_outlier(rehearsal)), ACCOUNTS, Window(), parse_pace("100000"))
    text = announcement(plan, ZONE, "100000", None, None)
    first, *rest = text.splitlines()
    assert first == (
        "Rehearsing 8 publications (4 posts) due Sun 2030-09-15 09:00 to Thu 2035-12-20 09:00 "
        "(Europe/Stockholm): 1,922 days of campaign at speed 100,000, about 27 min once the "
        "images are prepared."
    )
    assert rest[0] == "That is long. To make it shorter:"
    commands = [line.rstrip(")").split("   (") for line in rest[1:]]
    assert [(command.rstrip(), why) for command, why in commands] == [
        ("  campaign run --rehearse 60s", "the same 8 publications in about a minute"),
        (
            "  campaign run --rehearse 100000 --from 2030-09-15 --until 2030-09-19",
            "only the 6 publications due then: about 3 s",
        ),
    ]
    assert len(rest) == 3


def test_the_estimate_of_a_short_rehearsal_is_one_line(rehearsal: Campaign) -> None:
    window = parse_window("2030-09-17", None, ZONE)
    plan = plan_rehearsal(posts(with_outlier(rehearsal)), ACCOUNTS, window, parse_pace("60s"))
    assert announcement(plan, ZONE, "60s", "2030-09-17", None) == (
        "Rehearsing 6 of the campaign's 8 publications (3 posts) due Tue 2030-09-17 09:00 to "
        "Thu 2035-12-20 09:00 (Europe/Stockholm): 1,920 days of campaign at speed 2,764,860 "
        "(to fit 60s), about 60 s once the images are prepared."
    )


def test_the_outcome_says_what_did_not_go_out() -> None:
    assert outcome_line(6, 6, interrupted=False) == "6 of 6 publications went out"
    assert outcome_line(5, 6, interrupted=False).startswith("5 of 6 publications went out; 1 did")
    assert outcome_line(10, 22, interrupted=True) == (
        "Interrupted: 10 of 22 publications went out; 12 did not (rehearsal stopped)"
    )


# -- the time map at huge speeds -------------------------------------------------------------


def test_the_time_map_takes_any_finite_speed_above_zero() -> None:
    origin, start = local("2021-09-01 09:00"), datetime(2026, 12, 7, tzinfo=UTC)
    fast = TimeMap.rehearsal(origin, start, 1e12)
    assert fast.wall(origin + timedelta(days=1936)) - start < timedelta(milliseconds=1)
    slow = TimeMap.rehearsal(origin, start, 1e-9)
    assert slow.wall(origin + timedelta(days=1)) == datetime.max.replace(tzinfo=UTC)
    assert slow.wall(origin - timedelta(days=1)) == datetime.min.replace(tzinfo=UTC)
    for speed in (0.0, -1.0, float("inf"), float("nan")):
        with pytest.raises(ValueError):
            TimeMap.rehearsal(origin, start, speed)


# -- the command line ------------------------------------------------------------------------


def invoke(campaign: Campaign, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["--config", str(campaign.config_path), "run", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--rehearse", "fast"], '--rehearse "fast" is neither a speed nor a duration'),
        (["--rehearse", "1e-300"], "would take more than a year (over 10,000,000 days)"),
        (["--rehearse", "60s", "--from", "2030-02-30"], '--from "2030-02-30" is not a real date'),
        (
            ["--rehearse", "60s", "--from", "2030-09-19", "--until", "2030-09-15"],
            "--from 2030-09-19 is after --until 2030-09-15",
        ),
        (
            ["--rehearse", "60s", "--from", "2031-01-01"],
            "no ready post is due in --from 2031-01-01. The campaign's 6 publications are due "
            "from Sun 2030-09-15 09:00 to Thu 2030-09-19 09:00 (Europe/Stockholm)",
        ),
        (["--from", "2030-09-15"], "--from and --until choose what a rehearsal replays"),
    ],
)
def test_a_bad_rehearsal_is_a_usage_error(rehearsal: Campaign, args: list[str], says: str) -> None:
    code, output = invoke(rehearsal, *args)
    assert code == 2, output
    assert says in " ".join(output.split())
    assert not (load_config(rehearsal.config_path).build_dir / "rehearsal").exists()
    assert not (rehearsal.root / "live.db").exists()


def rehearse(campaign: Campaign, *args: str, **popen: object) -> subprocess.Popen[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(campaign.root), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "scheduler.cli", "--config", str(campaign.config_path), "run",
         "--rehearse", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=campaign.root,
        **popen,  # type: ignore[arg-type]
    )  # fmt: skip


def sent(campaign: Campaign) -> set[tuple[str, str]]:
    """(post, channel) of each publication in the rehearsal outbox."""
    return {
        (record["post_id"], record["channel"])
        for record in (
            json.loads(path.read_text("utf-8"))
            for path in rehearsal_folder(campaign).glob("outbox/*/*/post.json")
        )
    }


def states(campaign: Campaign) -> dict[tuple[str, str], State]:
    store = Store.open(f"sqlite:///{rehearsal_folder(campaign) / 'rehearsal.db'}")
    try:
        return {(row.post_id, row.account): State(row.state) for row in store.publications()}
    finally:
        store.close()


def test_a_window_fitted_into_a_duration_replays_only_its_posts(rehearsal: Campaign) -> None:
    # The outlier is five years away; the window leaves it (and the first post) out.
    with_outlier(rehearsal)
    done = rehearse(rehearsal, "2s", "--from", "2030-09-16", "--until", "2030-09-19 09:00")
    stdout, stderr = done.communicate(timeout=BOUND)
    assert done.returncode == 0, stdout + stderr
    assert "Rehearsing 4 of the campaign's 8 publications (2 posts)" in stdout
    assert "4 of 4 publications went out" in stdout
    expected = {(post, channel) for post in ("2030-09-17-andra", "2030-09-19-tredje")
                for channel in ACCOUNTS}  # fmt: skip
    assert sent(rehearsal) == expected
    assert set(states(rehearsal)) == expected  # nothing outside the window, not even a row
    assert set(states(rehearsal).values()) == {State.PUBLISHED}


def test_years_of_campaign_fitted_into_seconds_go_out_in_order(rehearsal: Campaign) -> None:
    # Five years in two seconds: the two days between posts are under 3 ms of wall time.
    with_outlier(rehearsal)
    done = rehearse(rehearsal, "2s")
    stdout, stderr = done.communicate(timeout=BOUND)
    assert done.returncode == 0, stdout + stderr
    assert "8 of 8 publications went out" in stdout
    assert set(states(rehearsal).values()) == {State.PUBLISHED}
    records = [
        json.loads(path.read_text("utf-8"))
        for path in rehearsal_folder(rehearsal).glob("outbox/facebook/*/post.json")
    ]
    order = [record["post_id"] for record in sorted(records, key=lambda r: r["published_at"])]
    assert order == ["2030-09-15-forsta", "2030-09-17-andra", "2030-09-19-tredje", "2035-12-20-jul"]


def wait_for(condition: object, process: subprocess.Popen[str]) -> None:
    """Until ``condition()`` holds (bounded; fails at once if the process ended)."""
    deadline = time.monotonic() + BOUND
    while not condition():  # type: ignore[operator]
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.02)


@pytest.mark.parametrize(("number", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_stopped_rehearsal_tells_the_truth_and_exits_with_the_signals_code(
    rehearsal: Campaign, number: int, code: int
) -> None:
    # Four days in two minutes: the second post is a minute after the first, so the
    # signal lands while the first post's two publications are the only ones out.
    process = rehearse(rehearsal, "2m", start_new_session=True)
    try:
        first = {("2030-09-15-forsta", channel) for channel in ACCOUNTS}
        wait_for(lambda: sent(rehearsal) == first, process)
        os.kill(process.pid, number)
        stdout, stderr = process.communicate(timeout=BOUND)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
    assert process.returncode == code, stdout + stderr
    flat = " ".join(stdout.split())
    assert "Interrupted: 2 of 6 publications went out; 4 did not (rehearsal stopped)" in flat
    assert "2030-09-15-forsta" in stdout and "2030-09-17-andra" not in stdout  # the table
    assert "went out" not in stderr
    assert sent(rehearsal) == first
    assert sorted(states(rehearsal).values()) == [State.PUBLISHED] * 2 + [State.SCHEDULED] * 4
    assert not (rehearsal.root / "live.db").exists()  # the real database is never touched
