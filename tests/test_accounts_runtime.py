"""Publishing per account: two Facebook Pages, each with its own Graph API, token and text.

The real daemon in this process (its clock set by hand, the job store started paused, as
in tests/test_daemon.py), the real Facebook channel (facebook-sdk) and two fake Graph APIs
on 127.0.0.1, each serving one Page and accepting only its own token. A post for the
default account ``facebook`` and for ``bibliotek-fb`` ([accounts.bibliotek-fb]) goes to
both Pages, each with its own caption, once. A rate limit or a broken token on one
account rests or pauses that account only (reading its engagement too); the other goes on
publishing. `campaign status`, `publish`, `stats`, `export` and the report know the
account. On SQLite and on PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.schedulers.base import STATE_STOPPED, BaseScheduler
from PIL import Image
from typer.testing import CliRunner

from campaign.config import Config
from scheduler import redaction
from scheduler.channels.factory import build_channels
from scheduler.cli.app import app
from scheduler.daemon import Daemon
from scheduler.prepare import content_fingerprint
from scheduler.store.models import Mode, Sample, State
from scheduler.store.store import Store
from tests.conftest import Campaign, HandClock
from tests.database import database_url as database_url
from tests.fakes.graph_api import FakeGraphAPI

BOUND = 30  # seconds: a bound on a hang, never a measure of speed
START = datetime(2030, 9, 15, 5, 0, tzinfo=UTC)  # 07:00 in Stockholm
KOMMUN_TOKEN_ENV = "CAMPAIGN_FACEBOOK_TOKEN"
BIBLIOTEK_TOKEN_ENV = "CAMPAIGN_TOKEN_BIBLIOTEK_FB"
LIBRARY = "bibliotek-fb"
LIBRARY_NAME = "Södertälje stadsbibliotek"

POST = """\
publish_at: {when}
accounts: [facebook, bibliotek-fb]
status: ready
caption: |
  Kommunen: {text}
  #demokrati100
per_account:
  bibliotek-fb:
    caption: |
      Biblioteket: {text}
      #bibliotek
images:
  - file: bild.jpg
    alt: Tre personer framför en vallokal med skylten Röstning.
"""


def post_text(when: str, text: str) -> str:
    return POST.format(when=when, text=text)


def at(text: str) -> datetime:
    """A local time of the campaign (Europe/Stockholm, summer) in UTC."""
    return (datetime.fromisoformat(text) - timedelta(hours=2)).replace(tzinfo=UTC)


class TwoPages:
    """A campaign whose default Facebook Page and the library's Page are live, each on a
    fake Graph API of its own."""

    def __init__(self, campaign: Campaign, url: str, clock: HandClock) -> None:
        self.campaign = campaign
        self.url = url
        self.clock = clock
        self.kommun = FakeGraphAPI(page_id="1111111111", page_name="Södertälje kommun").start()
        self.bibliotek = FakeGraphAPI(page_id="2222222222", page_name=LIBRARY_NAME).start()
        self.stores: list[Store] = []
        self.daemons: list[Daemon] = []
        Image.new("RGBA", (100, 50), (230, 0, 0, 255)).save(campaign.root / "logo.png")
        Image.new("RGB", (400, 500), (27, 54, 93)).save(campaign.posts / "bild.jpg", "JPEG")
        campaign.config_text += f"""
[brand]
logo = "logo.png"

[render]
width = 320

[database]
url = "{url}"

[publishing]
outbox = "{campaign.root / "outbox"}"

[scheduler]
misfire_grace_minutes = 30

[channels.facebook]
page_id = "{self.kommun.page_id}"
graph_url = "{self.kommun.url}"
api_version = "{self.kommun.version}"
token_env = "{KOMMUN_TOKEN_ENV}"

[channels.instagram]
enabled = false

[accounts.{LIBRARY}]
platform = "facebook"
display_name = "{LIBRARY_NAME}"
page_id = "{self.bibliotek.page_id}"
graph_url = "{self.bibliotek.url}"
token_env = "{BIBLIOTEK_TOKEN_ENV}"
"""
        self.config: Config = campaign.config()

    @property
    def environ(self) -> dict[str, str]:
        return {KOMMUN_TOKEN_ENV: self.kommun.token, BIBLIOTEK_TOKEN_ENV: self.bibliotek.token}

    def store(self) -> Store:
        store = Store.open(self.url)
        self.stores.append(store)
        return store

    def daemon(self) -> Daemon:
        setups = build_channels(self.config, environ=self.environ, clock=self.clock)
        assert {name: setup.dry_run_reason for name, setup in setups.items()} == {
            "facebook": None,
            LIBRARY: None,
        }
        daemon = Daemon(self.config, self.store(), setups, clock=self.clock)
        self.daemons.append(daemon)
        daemon.rescan(force=True)
        BaseScheduler.start(daemon.scheduler, paused=True)  # jobs kept, none run by itself
        return daemon

    def post(self, post_id: str, text: str) -> None:
        (self.campaign.posts / f"{post_id}.yaml").write_text(text, encoding="utf-8")

    def close(self) -> None:
        for daemon in self.daemons:
            daemon.lanes.stop()
            if daemon.scheduler.state != STATE_STOPPED:
                BaseScheduler.shutdown(daemon.scheduler, wait=False)
        for store in self.stores:
            store.close()
        self.kommun.stop()
        self.bibliotek.stop()


@pytest.fixture
def pages(
    campaign: Campaign, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TwoPages]:
    for name in list(os.environ):
        if name.startswith("CAMPAIGN_"):
            monkeypatch.delenv(name)
    monkeypatch.setattr(redaction, "_secrets", set())
    state = TwoPages(campaign, database_url, HandClock(START))
    try:
        yield state
    finally:
        state.close()


def jobs(daemon: Daemon) -> set[str]:
    return {job.id for job in daemon.scheduler.get_jobs()}


def due(daemon: Daemon, post_id: str, *accounts: str) -> None:
    """What the scheduler does when the publish jobs come due; then wait for the lanes."""
    for account in accounts:
        job = daemon.scheduler.get_job(f"publish:{post_id}:{account}")
        assert job is not None, f"no job for {post_id} on {account}"
        job.func(*job.args)
    assert daemon.lanes.wait_idle(BOUND), "the publications never finished"


def bearer(headers: dict[str, str]) -> str:
    value = {name.lower(): value for name, value in headers.items()}["authorization"]
    return value.removeprefix("Bearer ")


def captions(fake: FakeGraphAPI) -> list[str]:
    return [(post.message or "").splitlines()[0] for post in fake.posts]


def test_each_account_gets_its_own_caption_on_its_own_page_once(pages: TwoPages) -> None:
    pages.post("2030-09-15-val", post_text("2030-09-15 09:00", "idag är det val."))
    daemon = pages.daemon()
    assert jobs(daemon) == {"publish:2030-09-15-val:facebook", f"publish:2030-09-15-val:{LIBRARY}"}

    pages.clock.now = at("2030-09-15 09:00")
    due(daemon, "2030-09-15-val", "facebook", LIBRARY)

    assert captions(pages.kommun) == ["Kommunen: idag är det val."]
    assert captions(pages.bibliotek) == ["Biblioteket: idag är det val."]
    # Each Page was called with its own token only.
    assert {bearer(r.headers) for r in pages.kommun.requests} == {pages.kommun.token}
    assert {bearer(r.headers) for r in pages.bibliotek.requests} == {pages.bibliotek.token}
    store = daemon.store
    kommun = store.get("2030-09-15-val", "facebook", Mode.LIVE)
    bibliotek = store.get("2030-09-15-val", LIBRARY, Mode.LIVE)
    assert kommun is not None and bibliotek is not None
    assert (kommun.channel, kommun.account, kommun.state) == ("facebook", "facebook", "published")
    assert (bibliotek.channel, bibliotek.account, bibliotek.state) == (
        "facebook",
        LIBRARY,
        "published",
    )
    assert (kommun.attempt_count, bibliotek.attempt_count) == (1, 1)
    assert kommun.remote_id is not None and kommun.remote_id.startswith("1111111111_")
    assert bibliotek.remote_id is not None and bibliotek.remote_id.startswith("2222222222_")
    # The default account's fingerprint is what it was before accounts existed.
    assert kommun.fingerprint == content_fingerprint(
        "facebook",
        kommun.caption or "",
        None,
        None,
        daemon.prepared["2030-09-15-val"].requests["facebook"].media,
    )
    assert bibliotek.fingerprint != kommun.fingerprint

    # Once: a restart, a rescan and the jobs coming due again send nothing more.
    again = pages.daemon()
    assert jobs(again) == set()
    due(daemon, "2030-09-15-val", "facebook", LIBRARY)  # the old jobs, run once more
    assert (len(pages.kommun.posts), len(pages.bibliotek.posts)) == (1, 1)
    assert store.alerts() == []


@pytest.mark.parametrize("answer", ["error_4", "error_17", "error_32", "error_613"])
def test_a_rate_limit_on_one_account_rests_only_that_account(pages: TwoPages, answer: str) -> None:
    pages.post("2030-09-15-forsta", post_text("2030-09-15 09:00", "första inlägget."))
    pages.post("2030-09-15-andra", post_text("2030-09-15 09:30", "andra inlägget."))
    daemon = pages.daemon()
    pages.bibliotek.script("POST photos", answer)

    pages.clock.now = at("2030-09-15 09:00")
    due(daemon, "2030-09-15-forsta", "facebook", LIBRARY)

    store = daemon.store
    assert captions(pages.kommun) == ["Kommunen: första inlägget."]
    assert pages.bibliotek.posts == []
    resting = store.channel_state(LIBRARY)
    assert resting.cooldown_until is not None and resting.cooldown_until > pages.clock.now
    assert store.channel_state("facebook").cooldown_until is None
    held = store.get("2030-09-15-forsta", LIBRARY, Mode.LIVE)
    assert held is not None and held.state == State.SCHEDULED
    assert held.next_attempt_at == resting.cooldown_until
    assert jobs(daemon) >= {f"publish:2030-09-15-forsta:{LIBRARY}"}

    # While the library rests, the municipality's next post goes out; the library's is
    # held, never sent.
    pages.clock.now = at("2030-09-15 09:30")
    photos_before = len(pages.bibliotek.of_kind("POST photos"))
    due(daemon, "2030-09-15-andra", "facebook", LIBRARY)
    assert captions(pages.kommun) == ["Kommunen: första inlägget.", "Kommunen: andra inlägget."]
    assert len(pages.bibliotek.of_kind("POST photos")) == photos_before == 1
    later = store.get("2030-09-15-andra", LIBRARY, Mode.LIVE)
    assert later is not None and (later.state, later.attempt_count) == (State.SCHEDULED, 0)
    assert later.next_attempt_at is not None and later.next_attempt_at >= resting.cooldown_until

    # After its rest the library publishes both, each once.
    pages.clock.now = resting.cooldown_until + timedelta(seconds=1)
    due(daemon, "2030-09-15-forsta", LIBRARY)
    due(daemon, "2030-09-15-andra", LIBRARY)
    assert sorted(captions(pages.bibliotek)) == [
        "Biblioteket: andra inlägget.",
        "Biblioteket: första inlägget.",
    ]
    assert len(pages.kommun.posts) == 2


def test_a_broken_token_on_one_account_pauses_it_and_the_other_goes_on(pages: TwoPages) -> None:
    pages.post("2030-09-15-forsta", post_text("2030-09-15 09:00", "första inlägget."))
    pages.post("2030-09-15-andra", post_text("2030-09-15 09:30", "andra inlägget."))
    daemon = pages.daemon()
    pages.bibliotek.script("POST photos", "error_190_460")

    pages.clock.now = at("2030-09-15 09:00")
    due(daemon, "2030-09-15-forsta", "facebook", LIBRARY)
    store = daemon.store
    assert store.channel_state(LIBRARY).paused_reason is not None
    assert store.channel_state("facebook").paused_reason is None
    [paused] = [alert for alert in store.alerts() if alert.kind == "paused"]
    assert (paused.channel, paused.account) == ("facebook", LIBRARY)
    assert paused.message.startswith(f"{LIBRARY} ({LIBRARY_NAME}) is paused")
    assert BIBLIOTEK_TOKEN_ENV in paused.message  # the library's own token is to be renewed
    assert KOMMUN_TOKEN_ENV not in paused.message

    # Half an hour later the library's token still does not work (its credentials check
    # fails): the municipality's post goes out, the library's is not sent.
    pages.bibliotek.script("GET page", "error_190_460")
    pages.clock.now = at("2030-09-15 09:30")
    due(daemon, "2030-09-15-andra", "facebook", LIBRARY)
    assert captions(pages.kommun) == ["Kommunen: första inlägget.", "Kommunen: andra inlägget."]
    assert pages.bibliotek.posts == []
    assert len(pages.bibliotek.of_kind("GET page")) == 1
    assert len(pages.bibliotek.of_kind("POST photos")) == 1  # paused: nothing more was sent
    assert pages.kommun.of_kind("GET page") == []  # the municipality was never in doubt
    for post_id in ("2030-09-15-forsta", "2030-09-15-andra"):
        row = store.get(post_id, LIBRARY, Mode.LIVE)
        assert row is not None and row.state == State.SCHEDULED


def test_advice_about_a_named_account_names_its_own_table(pages: TwoPages) -> None:
    pages.post("2030-09-15-val", post_text("2030-09-15 09:00", "idag är det val."))
    daemon = pages.daemon()
    pages.bibliotek.script("POST photos", "html_404")  # something else answers at graph_url

    pages.clock.now = at("2030-09-15 09:00")
    due(daemon, "2030-09-15-val", LIBRARY)

    row = daemon.store.get("2030-09-15-val", LIBRARY, Mode.LIVE)
    assert row is not None and row.state == State.FAILED and row.last_error is not None
    assert f"Check graph_url in [accounts.{LIBRARY}] of config.toml" in row.last_error
    assert "[channels.facebook]" not in row.last_error
    [failed] = [alert for alert in daemon.store.alerts() if alert.kind == "failed"]
    assert failed.message.startswith(
        f"2030-09-15-val was not published on {LIBRARY} ({LIBRARY_NAME}): "
    )


def test_a_rate_limit_while_reading_one_account_rests_only_its_reading(pages: TwoPages) -> None:
    pages.post("2030-09-15-val", post_text("2030-09-15 09:00", "idag är det val."))
    daemon = pages.daemon()
    pages.clock.now = at("2030-09-15 09:00")
    due(daemon, "2030-09-15-val", "facebook", LIBRARY)
    pages.bibliotek.script("GET post", "error_4")

    pages.clock.now = at("2030-09-15 10:01")  # an hour after: the first sample is due
    report = daemon.sampler.sample_due()

    assert (report.taken, report.failed) == (1, 1)
    store = daemon.store
    kommun = store.get("2030-09-15-val", "facebook", Mode.LIVE)
    bibliotek = store.get("2030-09-15-val", LIBRARY, Mode.LIVE)
    assert kommun is not None and kommun.id is not None
    assert bibliotek is not None and bibliotek.id is not None
    assert len(store.samples(kommun.id)) == 1 and store.samples(bibliotek.id) == []
    assert set(daemon.sampler.resting_until) == {LIBRARY}
    assert store.channel_state(LIBRARY).cooldown_until is None  # reading never holds publishing


# --- the commands: status, publish by hand, a dry run ----------------------------------------

runner = CliRunner()


def cli(pages: TwoPages, *args: str) -> str:
    env = {"COLUMNS": "200", **pages.environ}
    result = runner.invoke(app, ["--config", str(pages.campaign.config_path), *args], env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result.output


def test_status_shows_each_account_with_its_rest(pages: TwoPages) -> None:
    store = pages.store()
    store.cool_down(LIBRARY, START + timedelta(days=3650), "(#32) Page request limit")

    status = cli(pages, "status")
    channels = status.split("Channels\n")[1].split("\n\n")[0].splitlines()
    assert channels == [
        "  facebook: live (facebook)",
        "  backend Graph API",
        f"  {LIBRARY} ({LIBRARY_NAME}): live (facebook)",
        "  backend Graph API",
        channels[4],
    ]
    assert channels[4].startswith("  resting until ") and "Page request limit" in channels[4]


def test_publish_by_hand_to_one_account_and_channel_means_every_account_on_it(
    pages: TwoPages,
) -> None:
    pages.post("2030-09-15-val", post_text("2030-09-15 09:00", "idag är det val."))

    one = cli(pages, "publish", "2030-09-15-val", "--account", LIBRARY)
    assert f"2030-09-15-val → {LIBRARY}: published: " in one
    assert "→ facebook" not in one
    assert captions(pages.bibliotek) == ["Biblioteket: idag är det val."]
    assert pages.kommun.posts == []

    both = cli(pages, "publish", "2030-09-15-val", "--channel", "facebook")
    assert f"2030-09-15-val → {LIBRARY}: already published" in both
    assert "2030-09-15-val → facebook: published: " in both
    assert (len(pages.kommun.posts), len(pages.bibliotek.posts)) == (1, 1)

    wrong = runner.invoke(
        app,
        ["--config", str(pages.campaign.config_path), "publish", "2030-09-15-val", "-a", "x-fb"],
    )
    assert wrong.exit_code == 2
    assert "--account x-fb: config.toml has no such account" in wrong.output


def test_a_dry_run_writes_each_account_into_its_own_folder(pages: TwoPages) -> None:
    pages.post("2030-09-15-val", post_text("2030-09-15 09:00", "idag är det val."))
    cli(pages, "publish", "2030-09-15-val", "--dry-run")
    outbox = pages.campaign.root / "outbox"
    records = {
        account: json.loads((outbox / account / "2030-09-15-val" / "post.json").read_text("utf-8"))
        for account in ("facebook", LIBRARY)
    }
    assert records[LIBRARY]["account"] == LIBRARY and records[LIBRARY]["channel"] == "facebook"
    assert records[LIBRARY]["caption"].startswith("Biblioteket:")
    assert records["facebook"]["caption"].startswith("Kommunen:")
    assert pages.kommun.posts == [] and pages.bibliotek.posts == []


def test_a_named_account_without_its_token_is_a_dry_run_saying_so(pages: TwoPages) -> None:
    setups = build_channels(pages.config, environ={KOMMUN_TOKEN_ENV: pages.kommun.token})
    assert setups["facebook"].dry_run_reason is None
    library = setups[LIBRARY]
    assert library.channel.kind == "outbox"
    assert library.description == (
        f"{LIBRARY} ({LIBRARY_NAME}): dry run to the outbox, because the environment "
        f"variable {BIBLIOTEK_TOKEN_ENV} (the Page token) is not set"
    )
    assert library.channel.post_folder("p") == pages.campaign.root / "outbox" / LIBRARY / "p"  # type: ignore[attr-defined]


# --- stats, export and the report show the account -------------------------------------------


def published_both(pages: TwoPages) -> Store:
    pages.post("2030-09-15-val", post_text("2030-09-15 09:00", "idag är det val."))
    daemon = pages.daemon()
    pages.clock.now = at("2030-09-15 09:00")
    due(daemon, "2030-09-15-val", "facebook", LIBRARY)
    store = daemon.store
    for account, reactions in (("facebook", 40), (LIBRARY, 7)):
        row = store.get("2030-09-15-val", account, Mode.LIVE)
        assert row is not None and row.id is not None and row.published_at is not None
        sample = Sample(
            publication_id=row.id,
            taken_at=row.published_at + timedelta(hours=1),
            age_seconds=3600,
            target_age_seconds=3600,
            reactions=reactions,
        )
        assert store.add_sample(sample)
    return store


def test_stats_filter_and_show_the_account(pages: TwoPages, tmp_path: Path) -> None:
    published_both(pages)

    both = cli(pages, "stats", "--csv", str(tmp_path / "stats.csv"))
    [header] = [line for line in both.splitlines() if line.lstrip().startswith("post")]
    assert header.split()[:4] == ["post", "channel", "account", "published"]
    [library_line] = [line for line in both.splitlines() if LIBRARY in line]
    assert " 7 " in f"{library_line} "
    assert "Total, 2 publications: reactions 47" in both
    text = (tmp_path / "stats.csv").read_bytes().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert sorted(row["account"] for row in rows) == [LIBRARY, "facebook"]
    assert {row["channel"] for row in rows} == {"facebook"}

    only = cli(pages, "stats", "--account", LIBRARY)
    assert "Total, 1 publication: reactions 7" in only
    assert "--account" not in only
    unknown = runner.invoke(
        app, ["--config", str(pages.campaign.config_path), "stats", "--account", "biblioteket"]
    )
    assert unknown.exit_code == 2
    assert "'biblioteket' is not an account of config.toml" in unknown.output
    assert LIBRARY in unknown.output


def test_the_report_labels_and_compares_the_accounts(pages: TwoPages, tmp_path: Path) -> None:
    published_both(pages)
    cli(pages, "stats", "--html", str(tmp_path / "rapport"))
    page = (tmp_path / "rapport" / "index.html").read_text("utf-8")
    assert 'data-channel="facebook"' in page
    assert f"{LIBRARY_NAME} (Facebook)" in page  # the library's publication, by its name
    assert 'id="by-account"' in page and "By account" in page


def test_export_shows_the_account(pages: TwoPages, tmp_path: Path) -> None:
    published_both(pages)

    exported = cli(pages, "export", "--output", str(tmp_path / "arkiv"))
    assert "(2 published; bibliotek-fb 1, facebook 1)" in exported
    document = json.loads((tmp_path / "arkiv" / "archive.json").read_text("utf-8"))
    records = {record["account"]: record for record in document["publications"]}
    assert list(records[LIBRARY])[:3] == ["post_id", "channel", "account"]
    assert records[LIBRARY]["caption"].startswith("Biblioteket:")
    assert records["facebook"]["caption"].startswith("Kommunen:")
    text = (tmp_path / "arkiv" / "archive.csv").read_bytes().decode("utf-8-sig")
    header = next(csv.reader(io.StringIO(text, newline="")))
    assert header[:3] == ["post_id", "channel", "account"]
