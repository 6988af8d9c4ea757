"""Accounts of [accounts.NAME] in the commands and messages around publishing.

`campaign login instagram --account NAME` saves that account's own session (the fake of
Instagram's private API answers); a missed post on a named account tells to publish it
with ``--account NAME``; alerts and the JSON webhook name the account; `campaign plan`
lists the account with its display name and its state; the rehearsal's outbox has a
folder per account.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.schedulers.base import STATE_STOPPED, BaseScheduler
from PIL import Image
from typer.testing import CliRunner, Result

from scheduler.channels.factory import build_channels, outbox_setups
from scheduler.channels.instagram import InstagramChannel
from scheduler.cli.app import app
from scheduler.daemon import Daemon
from scheduler.notify import Notifier
from scheduler.store.models import Mode, State
from scheduler.store.store import Store
from tests.conftest import Campaign, HandClock
from tests.fakes.instagram_api import PASSWORD, TOTP_SEED, USERNAME, FakeInstagram
from tests.fakes.instagram_api import fake_instagram as fake_instagram  # the fixture
from tests.test_notify import FakeClock, Receiver, notify_config
from tests.test_notify import no_proxy as no_proxy  # the fixture (autouse)
from tests.test_notify import receiver as receiver  # the fixture

runner = CliRunner()
LIBRARY = "bibliotek-fb"
LIBRARY_IG = "bibliotek-ig"

ACCOUNTS = f"""
[accounts.{LIBRARY}]
platform = "facebook"
display_name = "Södertälje stadsbibliotek"
page_id = ""
token_env = "CAMPAIGN_TOKEN_BIBLIOTEK_FB"
"""

POST = """\
publish_at: 2030-09-15 09:00
accounts: [facebook, bibliotek-fb]
status: ready
caption: |
  Kommunen bjuder in till demokratidagen.
per_account:
  bibliotek-fb:
    caption: |
      Biblioteket bjuder in till demokratidagen.
images:
  - file: bild.jpg
    alt: Tre personer framför en vallokal med skylten Röstning.
"""


def cli(campaign: Campaign, *args: str, env: dict[str, str] | None = None) -> Result:
    result = runner.invoke(
        app, ["--config", str(campaign.config_path), *args], env={"COLUMNS": "200", **(env or {})}
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result


@pytest.fixture
def two(campaign: Campaign, monkeypatch: pytest.MonkeyPatch) -> Campaign:
    """The default accounts (a dry run, no ids) and the library's Page (a dry run too)."""
    for name in list(os.environ):
        if name.startswith("CAMPAIGN_"):
            monkeypatch.delenv(name)
    Image.new("RGBA", (100, 50), (230, 0, 0, 255)).save(campaign.root / "logo.png")
    campaign.config_text += f"""
[brand]
logo = "logo.png"

[render]
width = 320

[database]
url = "sqlite:///{campaign.root / "data" / "campaign.db"}"

[publishing]
outbox = "{campaign.root / "outbox"}"

[scheduler]
misfire_grace_minutes = 30

[channels.instagram]
enabled = false
{ACCOUNTS}"""
    campaign.config()
    campaign.post("2030-09-15-demokratidagen", POST)
    return campaign


# --- a missed post ------------------------------------------------------------------------


@pytest.fixture
def daemon(two: Campaign) -> Iterator[Daemon]:
    config = two.config()
    clock = HandClock(datetime(2030, 9, 15, 6, 0, tzinfo=UTC))  # 08:00 in Stockholm
    store = Store.open(config.database_url)
    made = Daemon(config, store, build_channels(config, environ={}, clock=clock), clock=clock)
    made.rescan(force=True)  # seen on time: then the scheduler is held up
    clock.now = datetime(2030, 9, 15, 8, 0, tzinfo=UTC)  # 10:00 in Stockholm
    try:
        yield made
    finally:
        if made.scheduler.state != STATE_STOPPED:
            BaseScheduler.shutdown(made.scheduler, wait=False)
        store.close()


def test_a_missed_post_on_a_named_account_says_to_publish_it_with_account(daemon: Daemon) -> None:
    daemon.rescan(force=True)  # an hour after 09:00, beyond the half hour of grace

    missed = {alert.account: alert for alert in daemon.store.alerts() if alert.kind == "missed"}
    assert set(missed) == {"facebook", LIBRARY}
    assert "`campaign publish 2030-09-15-demokratidagen --channel facebook`" in (
        missed["facebook"].message
    )
    library = missed[LIBRARY].message
    assert "`campaign publish 2030-09-15-demokratidagen --account bibliotek-fb`" in library
    assert library.startswith(
        "2030-09-15-demokratidagen was due on bibliotek-fb (Södertälje stadsbibliotek) at "
    )
    assert (missed[LIBRARY].channel, missed["facebook"].channel) == ("facebook", "facebook")
    row = daemon.store.get("2030-09-15-demokratidagen", LIBRARY, Mode.DRY_RUN)
    assert row is not None and (row.state, row.channel) == (State.MISSED, "facebook")


def test_status_tells_to_settle_a_named_account_by_its_name(two: Campaign, daemon: Daemon) -> None:
    daemon.rescan(force=True)  # the dry run's missed rows need no human
    for account in ("facebook", LIBRARY):  # live ones, missed, do
        row = daemon.store.ensure_publication(
            "2030-09-15-demokratidagen",
            account,
            datetime(2030, 9, 15, 7, 0, tzinfo=UTC),
            datetime(2030, 9, 15, 6, 0, tzinfo=UTC),
            Mode.LIVE,
            channel="facebook",
        )
        assert row.id is not None
        daemon.store.set_state(row.id, State.MISSED, daemon.clock(), "missed: 1 hours late")
    output = cli(two, "status").output
    human = output.split("Needs a human")[1]
    settle = "campaign settle 2030-09-15-demokratidagen"
    assert f"2030-09-15-demokratidagen → {LIBRARY} (facebook): missed" in human
    assert f"→ publish it now: `{settle} --account {LIBRARY} --publish-now`" in human
    assert f'`{settle} --account {LIBRARY} --done "REASON"`' in human
    assert f'`{settle} --account facebook --skip "REASON"`' in human


# --- alerts ------------------------------------------------------------------------------


def test_alerts_name_the_account_in_the_headline_and_the_json_webhook(
    two: Campaign, receiver: Receiver
) -> None:
    store = Store.open(two.config().database_url)
    try:
        now = datetime(2030, 9, 15, 7, 0, tzinfo=UTC)
        store.raise_alert(
            f"failed:2030-09-15-a:{LIBRARY}",
            "failed",
            "Biblioteket: nekad.",
            now,
            channel="facebook",
            account=LIBRARY,
            post_id="2030-09-15-a",
        )
        store.raise_alert(
            "failed:2030-09-15-b:facebook",
            "failed",
            "Kommunen: nekad.",
            now + timedelta(1),
            channel="facebook",
            post_id="2030-09-15-b",
        )
        config = notify_config(two, smtp_port=None)
        notifier = Notifier.from_config(config, {"TEST_WEBHOOK": receiver.url()}, clock=FakeClock())
        assert notifier.deliver_pending(store).ok
    finally:
        store.close()
    bodies = [body for _, body in receiver.posts]
    alerts = [alert for body in bodies for alert in body["alerts"]]
    by_post = {alert["post_id"]: alert for alert in alerts}
    assert list(by_post["2030-09-15-a"]) == [
        "kind",
        "channel",
        "account",
        "post_id",
        "message",
        "created_at",
    ]
    assert by_post["2030-09-15-a"]["account"] == LIBRARY
    assert set(by_post["2030-09-15-b"]) == {"kind", "channel", "post_id", "message", "created_at"}


# --- plan and the rehearsal's outbox ---------------------------------------------------------


def test_plan_lists_the_account_with_its_display_name(two: Campaign) -> None:
    output = cli(two, "plan").output
    assert "account" in output
    [library_row] = [line for line in output.splitlines() if LIBRARY in line and "│" in line]
    assert "Biblioteket bjuder in" in library_row
    assert (
        f"{LIBRARY} (Södertälje stadsbibliotek): Graph API; dry run to the outbox, because "
        f"[accounts.{LIBRARY}] page_id is empty in config.toml"
    ) in output


def test_the_rehearsal_outbox_has_a_folder_per_account(two: Campaign, tmp_path: Path) -> None:
    config = two.config()
    setups = outbox_setups(config, tmp_path / "outbox")
    assert list(setups) == ["facebook", LIBRARY]
    assert setups[LIBRARY].dry_run_reason == "this is a rehearsal"
    folder = setups[LIBRARY].channel.post_folder("p")  # type: ignore[attr-defined]
    assert folder == tmp_path / "outbox" / LIBRARY / "p"


# --- logging in to a named Instagram account ---------------------------------------------------


@pytest.fixture
def instagrapi_account(campaign: Campaign, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An Instagram account of [accounts.*] that logs in with instagrapi; its session file."""
    for name in list(os.environ):
        if name.startswith("CAMPAIGN_"):
            monkeypatch.delenv(name)
    session = tmp_path / "sessions" / "bibliotek.json"
    campaign.config_text += f"""
[channels.instagram]
backend = "instagrapi"
username = "kommunen"
session_file = "{tmp_path / "sessions" / "kommunen.json"}"

[accounts.{LIBRARY_IG}]
platform = "instagram"
backend = "instagrapi"
username = "{USERNAME}"
password_env = "CAMPAIGN_BIBLIOTEK_IG_PASSWORD"
session_file = "{session}"
"""
    campaign.config()
    return session


def test_login_with_account_saves_that_accounts_session(
    campaign: Campaign, instagrapi_account: Path, fake_instagram: FakeInstagram
) -> None:
    env = {"CAMPAIGN_BIBLIOTEK_IG_PASSWORD": PASSWORD, "TEST_TOTP": TOTP_SEED}
    config = campaign.config()
    before = build_channels(config, environ={})[LIBRARY_IG]
    assert before.dry_run_reason == (
        f"there is no saved session at {instagrapi_account}: run "
        f"`campaign login instagram --account {LIBRARY_IG}` first"
    )

    result = cli(
        campaign,
        "login",
        "instagram",
        "--account",
        LIBRARY_IG,
        "--totp-seed-env",
        "TEST_TOTP",
        env=env,
    )

    assert result.exit_code == 0, result.output
    assert f"logged in as {USERNAME}; session saved to {instagrapi_account}" in result.output
    assert instagrapi_account.is_file()
    assert not (instagrapi_account.parent / "kommunen.json").exists()
    after = build_channels(config, environ={})[LIBRARY_IG]
    assert after.dry_run_reason is None
    assert after.channel.account == LIBRARY_IG
    inner = getattr(after.channel, "inner", None)
    assert isinstance(inner, InstagramChannel) and inner.session_file == instagrapi_account


def test_login_refuses_an_account_with_nothing_to_log_in_to(
    campaign: Campaign, instagrapi_account: Path
) -> None:
    campaign.config_text += f"""
[accounts.{LIBRARY}]
platform = "facebook"
page_id = "2222222222"
token_env = "CAMPAIGN_TOKEN_BIBLIOTEK_FB"
"""
    campaign.config()
    unknown = cli(campaign, "login", "instagram", "--account", "bibliotek")
    assert unknown.exit_code == 2
    assert "--account bibliotek: config.toml has no such account" in unknown.output
    assert f"Instagram accounts: instagram, {LIBRARY_IG}" in unknown.output
    page = cli(campaign, "login", "instagram", "--account", LIBRARY)
    assert page.exit_code == 2
    assert "is a Facebook Page" in page.output and "nothing to log in to" in page.output


def test_messages_and_help_show_the_table_of_an_account_as_written(
    campaign: Campaign, instagrapi_account: Path
) -> None:
    """`[accounts.NAME]` and `[channels.instagram]` are config tables, not Rich markup:
    the commands' errors and --help show them, brackets and all."""
    campaign.config_text += f"""
[accounts.{LIBRARY}]
platform = "facebook"
page_id = "2222222222"
token_env = "CAMPAIGN_TOKEN_BIBLIOTEK_FB"
"""
    campaign.config()
    page = cli(campaign, "login", "instagram", "--account", LIBRARY)
    assert f"is a Facebook Page ([accounts.{LIBRARY}])" in page.output
    unknown = cli(campaign, "publish", "2030-09-15-x", "--account", "x-fb")
    assert unknown.exit_code == 2
    assert "others are the NAME of an [accounts.NAME] table." in unknown.output
    for command in (["publish"], ["stats"], ["login", "instagram"]):
        shown = " ".join(cli(campaign, *command, "--help").output.split())
        assert "[accounts.NAME]" in shown.replace("│ ", "").replace(" │", ""), command
