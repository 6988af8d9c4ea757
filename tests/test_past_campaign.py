"""A past campaign is not an emergency (issue 14).

A publication already past (beyond the grace) when the scheduler first saw it is *past*:
one summary line, no error and no alert each; a post missed while the scheduler was down
is still *missed* and alerts. Dry-run rows never need a human; live ones that do are each
told the commands a human can run. Times shown to people are local.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner, Result

from campaign.config import load_config
from scheduler.channels.factory import build_channels
from scheduler.cli.app import app
from scheduler.daemon import Daemon
from scheduler.notify import local_times
from scheduler.store.models import Mode, State
from scheduler.store.store import Store
from tests.conftest import NOW, HandClock
from tests.database import database_url as database_url  # the fixture of `pages`
from tests.test_accounts_runtime import LIBRARY, TwoPages, at, post_text
from tests.test_accounts_runtime import pages as pages  # the fixture (SQLite and PostgreSQL)
from tests.test_daemon import signals_restored as signals_restored  # the fixture

ROOT = Path(__file__).resolve().parents[1]
SUMMARY = "already in the past when first seen"
runner = CliRunner()


def command(config_path: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    result = runner.invoke(
        app, ["--config", str(config_path), *args], env={"COLUMNS": "200", **(env or {})}
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result


# --- a newcomer's dry run of the sample campaign (September 2021) ---------------------------


@pytest.fixture
def newcomer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the repository's sample campaign, as a newcomer has it after cloning."""
    for name in list(os.environ):
        if name.startswith("CAMPAIGN_"):
            monkeypatch.delenv(name)
    shutil.copy(ROOT / "config.toml", tmp_path / "config.toml")
    for folder in ("posts", "assets"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    return tmp_path / "config.toml"


def test_a_dry_run_of_a_past_campaign_is_one_line_not_an_emergency(
    newcomer: Path, caplog: pytest.LogCaptureFixture, signals_restored: None
) -> None:
    config = load_config(newcomer)
    clock = HandClock(NOW)
    store = Store.open(config.database_url)
    try:
        setups = build_channels(config, dry_run=True, environ={}, clock=clock)
        daemon = Daemon(config, store, setups, clock=clock, exit_when_done=True)
        with caplog.at_level(logging.INFO, logger="campaign"):
            assert daemon.run() == 0
        rows = store.publications()
        alerts = store.alerts()
    finally:
        store.close()

    assert rows and {row.state for row in rows} == {State.PAST}
    assert {row.mode for row in rows} == {Mode.DRY_RUN}
    assert alerts == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    [summary] = [r.getMessage() for r in caplog.records if SUMMARY in r.getMessage()]
    assert summary.startswith(f"{len(rows)} publications were {SUMMARY} (2021-09-01 … 2021-09-")
    assert "Europe/Stockholm" in summary and "`campaign settle`" in summary
    assert not [r for r in caplog.records if "missed" in r.getMessage()]
    assert any(
        "nothing left to publish: every ready post is published, past or settled" in r.getMessage()
        for r in caplog.records
    )

    status = command(newcomer, "status")

    assert status.exit_code == 0, status.output
    assert status.output.split("Needs a human\n")[1].startswith("  nothing\n")
    [dry] = [line for line in status.output.splitlines() if line.startswith("Dry run")]
    assert f"{len(rows)} past" in dry and "needs no human" in dry
    assert "2021-09-01-demokratimanaden" in dry and "campaign settle POST" in dry


# --- live accounts on the fake Graph API (SQLite and PostgreSQL) ------------------------------

PAST_POST = "2030-09-14-igar"
DUE_POST = "2030-09-15-idag"


@pytest.fixture
def past(pages: TwoPages) -> Iterator[TwoPages]:
    """A post due yesterday, first seen today by a live scheduler: past on both Pages."""
    pages.post(PAST_POST, post_text("2030-09-14 09:00", "igår"))
    pages.daemon()
    yield pages


def cli(pages: TwoPages, *args: str) -> Result:
    return command(pages.campaign.config_path, *args, env=pages.environ)


def test_a_live_post_past_when_first_seen_is_past_and_status_tells_what_to_do(
    pages: TwoPages, caplog: pytest.LogCaptureFixture
) -> None:
    pages.post(PAST_POST, post_text("2030-09-14 09:00", "igår"))
    with caplog.at_level(logging.INFO, logger="campaign"):
        daemon = pages.daemon()

    store = daemon.store
    for account in ("facebook", LIBRARY):
        row = store.get(PAST_POST, account, Mode.LIVE)
        assert row is not None and row.state == State.PAST
    assert store.alerts() == [] and pages.kommun.posts == [] and pages.bibliotek.posts == []
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    [summary] = [r for r in caplog.records if SUMMARY in r.getMessage()]
    assert summary.levelno == logging.WARNING
    assert summary.getMessage().startswith(f"2 publications were {SUMMARY} (2030-09-14, ")

    status = cli(pages, "status")

    assert status.exit_code == 1, status.output  # live: a human decides
    human = status.output.split("Needs a human")[1].split("Alerts")[0]
    assert f"{PAST_POST} → {LIBRARY} (facebook): past, due 2030-09-14 09:00 CEST" in human
    assert "already past when the scheduler first saw it" in human
    settle = f"campaign settle {PAST_POST} --account {LIBRARY}"
    assert f"→ publish it now: `{settle} --publish-now`" in human
    assert f'`{settle} --done "REASON"`' in human and f'`{settle} --skip "REASON"`' in human


def test_a_post_missed_while_the_scheduler_was_down_still_alerts_in_local_time(
    pages: TwoPages,
) -> None:
    pages.post(DUE_POST, post_text("2030-09-15 09:00", "idag"))
    pages.daemon()  # 07:00: on time
    pages.clock.now = at("2030-09-15 11:00")  # the scheduler was down over 09:00
    daemon = pages.daemon()

    store = daemon.store
    for account in ("facebook", LIBRARY):
        row = store.get(DUE_POST, account, Mode.LIVE)
        assert row is not None and row.state == State.MISSED
    missed = {alert.account: alert.message for alert in store.alerts() if alert.kind == "missed"}
    assert set(missed) == {"facebook", LIBRARY}
    assert "at 2030-09-15 09:00 CEST" in missed[LIBRARY]
    assert "+00:00" not in missed[LIBRARY] and "UTC" not in missed[LIBRARY]
    assert f'campaign settle {DUE_POST} --account {LIBRARY} --skip "REASON"' in missed[LIBRARY]

    status = cli(pages, "status")
    assert status.exit_code == 1
    assert f"{DUE_POST} → facebook: missed, due 2030-09-15 09:00 CEST" in status.output
    assert "the scheduler was not running or was held up" in status.output


def test_settle_done_and_skip_are_final_and_in_the_archive(past: TwoPages) -> None:
    done = cli(past, "settle", PAST_POST, "--account", "facebook", "--done", "postat för hand")
    skipped = cli(past, "settle", PAST_POST, "--account", LIBRARY, "--skip", "för sent")

    assert done.exit_code == 0, done.output
    assert skipped.exit_code == 0, skipped.output
    assert f"done {PAST_POST} → facebook: done: postat för hand (by " in done.output
    store = past.store()
    facebook = store.get(PAST_POST, "facebook", Mode.LIVE)
    library = store.get(PAST_POST, LIBRARY, Mode.LIVE)
    assert facebook is not None and facebook.state == State.DONE
    assert library is not None and library.state == State.SKIPPED
    assert facebook.id is not None
    [attempt] = store.attempts(facebook.id)
    assert (attempt.kind, attempt.outcome, attempt.message) == ("settle", "done", "postat för hand")

    past.clock.advance(timedelta(days=1))
    daemon = past.daemon()  # never taken up again: no job, nothing sent
    assert not [job for job in daemon.scheduler.get_jobs() if job.id.startswith("publish:")]
    published = cli(past, "publish", PAST_POST, "--account", "facebook")
    assert published.exit_code == 1 and "settled as done" in published.output
    assert past.kommun.posts == [] and past.bibliotek.posts == []
    assert cli(past, "status").exit_code == 0

    again = cli(past, "settle", PAST_POST, "--skip", "ändå")
    assert again.exit_code == 1 and "nothing to settle" in again.output

    export = cli(past, "export", "--output", str(past.campaign.root / "arkiv"))
    assert export.exit_code == 0, export.output
    document = json.loads((past.campaign.root / "arkiv" / "archive.json").read_text("utf-8"))
    records = {record["account"]: record for record in document["publications"]}
    assert records["facebook"]["state"] == "done"
    assert records["facebook"]["settled_reason"] == "postat för hand"
    assert records[LIBRARY]["state"] == "skipped"
    assert records[LIBRARY]["settled_reason"] == "för sent"
    assert records[LIBRARY]["settled_by"] and records[LIBRARY]["settled_at_local"]


def test_settle_publish_now_publishes_exactly_once(past: TwoPages) -> None:
    first = cli(past, "settle", PAST_POST, "--publish-now")

    assert first.exit_code == 0, first.output
    assert len(past.kommun.posts) == 1 and len(past.bibliotek.posts) == 1
    assert "Kommunen: igår" in (past.kommun.posts[0].message or "")

    second = cli(past, "settle", PAST_POST, "--publish-now")

    assert second.exit_code == 1, second.output
    assert "nothing to settle" in second.output and "already published" in second.output
    assert len(past.kommun.posts) == 1 and len(past.bibliotek.posts) == 1
    store = past.store()
    row = store.get(PAST_POST, "facebook", Mode.LIVE)
    assert row is not None and (row.state, row.attempt_count) == (State.PUBLISHED, 1)


def test_settle_mistakes_are_clear_messages_with_their_exit_code(past: TwoPages) -> None:
    typo = cli(past, "settle", "2030-09-14-igr", "--skip", "x")
    assert typo.exit_code == 2 and "Did you mean 2030-09-14-igar?" in typo.output

    account = cli(past, "settle", PAST_POST, "--account", "biblioteket-fb", "--skip", "x")
    assert account.exit_code == 2 and f"Did you mean {LIBRARY}?" in account.output

    nothing_said = cli(past, "settle", PAST_POST)
    assert nothing_said.exit_code == 2 and "--publish-now" in nothing_said.output

    two_said = cli(past, "settle", PAST_POST, "--publish-now", "--skip", "x")
    assert two_said.exit_code == 2

    no_reason = cli(past, "settle", PAST_POST, "--done", "  ")
    assert no_reason.exit_code == 2 and "needs a reason" in no_reason.output

    past.post(DUE_POST, post_text("2030-09-15 09:00", "idag"))
    past.daemon()
    scheduled = cli(past, "settle", DUE_POST, "--skip", "x")
    assert scheduled.exit_code == 1, scheduled.output
    assert "nothing to settle" in scheduled.output
    assert "scheduled for 2030-09-15 09:00 CEST" in scheduled.output
    assert "status: draft" in scheduled.output


# --- times shown to people are local --------------------------------------------------------


def test_alert_texts_show_utc_times_in_the_campaigns_zone() -> None:
    zone = ZoneInfo("Europe/Stockholm")
    text = "Next try after 2030-09-15 07:00 UTC. Due 2030-01-15T08:00:00+00:00."
    assert local_times(text, zone) == (
        "Next try after 2030-09-15 09:00 CEST. Due 2030-01-15 09:00 CET."
    )
    assert datetime(2030, 1, 15, 8, tzinfo=UTC).astimezone(zone).hour == 9
