"""`campaign publish` and `campaign reconcile` through typer's runner, into the outbox."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner, Result

from campaign.config import Config
from campaign.post_loader import load_campaign
from scheduler.channels.base import PublishRequest
from scheduler.channels.outbox import POST_FILE, OutboxChannel
from scheduler.claimant import this_process
from scheduler.cli.app import app
from scheduler.prepare import media_json, prepare_posts
from scheduler.store.models import Mode, State
from scheduler.store.store import Store
from tests.conftest import GOOD_POST, NOW, Campaign

runner = CliRunner()

POST_ID = "2030-09-15-bra"
CAPTION = "Idag är det demokratins dag. Kom och prata med oss.\n#demokrati100"
CANARY = "EAAcanaryTOKEN0123456789abcd"
REASON_FACEBOOK = (
    "facebook: dry run to the outbox, because [channels.facebook] page_id is empty in config.toml"
)
REASON_INSTAGRAM = (
    "instagram: dry run to the outbox, because [channels.instagram] username is empty in "
    "config.toml"
)
FACEBOOK_ONLY = GOOD_POST.replace("[facebook, instagram]", "[facebook]")


def settings(campaign: Campaign, facebook: str = "") -> str:
    return f"""
[brand]
logo = "logo.png"

[render]
width = 320

[database]
url = "sqlite:///{campaign.root / "data" / "kampanj.db"}"

[publishing]
outbox = "{campaign.root / "utkorg"}"

[channels.facebook]
{facebook}

[channels.instagram]
session_file = "{campaign.root / "hemligt" / "instagram-session.json"}"
"""


@pytest.fixture
def sample(campaign: Campaign, monkeypatch: pytest.MonkeyPatch) -> Campaign:
    """A campaign with one ready post, its own database and outbox, no credentials."""
    monkeypatch.delenv("CAMPAIGN_DATABASE_URL", raising=False)
    monkeypatch.delenv("CAMPAIGN_FACEBOOK_TOKEN", raising=False)
    monkeypatch.delenv("CAMPAIGN_INSTAGRAM_PASSWORD", raising=False)
    Image.new("RGBA", (100, 50), (230, 0, 0, 255)).save(campaign.root / "logo.png")
    (campaign.root / "data").mkdir()
    campaign.config_text += settings(campaign)
    campaign.post(POST_ID, GOOD_POST)
    return campaign


def run(campaign: Campaign, *args: str, env: dict[str, str] | None = None) -> Result:
    campaign.config_path.write_text(campaign.config_text, encoding="utf-8")
    result = runner.invoke(app, ["--config", str(campaign.config_path), *args], env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result


def config_of(campaign: Campaign) -> Config:
    return campaign.config()


def database_url(campaign: Campaign) -> str:
    return f"sqlite:///{campaign.root / 'data' / 'kampanj.db'}"


@contextmanager
def opened(campaign: Campaign) -> Iterator[Store]:
    store = Store.open(database_url(campaign))
    try:
        yield store
    finally:
        store.close()


def outbox(campaign: Campaign, channel: str, post_id: str = POST_ID) -> Path:
    return campaign.root / "utkorg" / channel / post_id


def record(campaign: Campaign, channel: str, post_id: str = POST_ID) -> dict:
    return json.loads((outbox(campaign, channel, post_id) / POST_FILE).read_text("utf-8"))


def prepared_request(campaign: Campaign, channel: str, post_id: str = POST_ID) -> PublishRequest:
    """The request `campaign publish` would send now for ``post_id`` on ``channel``."""
    config = config_of(campaign)
    result = load_campaign(config, [campaign.posts / f"{post_id}.yaml"], now=NOW)
    prepared, problems = prepare_posts(result.posts, config)
    assert not problems
    return prepared[0].requests[channel]  # type: ignore[index]


def test_publish_writes_every_channel_into_the_outbox(sample: Campaign) -> None:
    result = run(sample, "publish", POST_ID)
    assert result.exit_code == 0, result.output
    assert REASON_FACEBOOK in result.stdout and REASON_INSTAGRAM in result.stdout
    for channel in ("facebook", "instagram"):
        folder = outbox(sample, channel)
        assert f"published {POST_ID} → {channel}: published: {folder.as_uri()}" in result.stdout
        written = record(sample, channel)
        assert written["caption"] == CAPTION
        assert written["channel"] == channel
        [image] = written["media"]
        assert image["alt"] == "Tre personer framför en vallokal med skylten Röstning."
        assert (folder / image["file"]).is_file()
    assert (sample.root / "data" / "kampanj.db").is_file()  # at the configured URL
    assert not (sample.root / "campaign.db").exists()
    with opened(sample) as store:
        for channel in ("facebook", "instagram"):
            row = store.get(POST_ID, channel, Mode.DRY_RUN)
            assert row is not None
            assert row.state == State.PUBLISHED
            assert row.remote_id == f"outbox:{channel}:{POST_ID}"
            assert row.caption == CAPTION
            assert row.attempt_count == 1


def test_publish_by_path(sample: Campaign) -> None:
    result = run(sample, "publish", str(sample.posts / f"{POST_ID}.yaml"))
    assert result.exit_code == 0, result.output
    assert record(sample, "facebook")["post_id"] == POST_ID
    assert record(sample, "instagram")["post_id"] == POST_ID


def test_publish_logs_each_call(sample: Campaign) -> None:
    result = run(sample, "publish", POST_ID)
    assert f"publishing {POST_ID} to facebook (outbox), try 1" in result.output
    assert f"published {POST_ID} to instagram" in result.output


def test_a_second_publish_says_already_published_and_writes_nothing(sample: Campaign) -> None:
    assert run(sample, "publish", POST_ID).exit_code == 0
    before = {c: (outbox(sample, c) / POST_FILE).read_bytes() for c in ("facebook", "instagram")}
    again = run(sample, "publish", POST_ID)
    assert again.exit_code == 0, again.output
    for channel in ("facebook", "instagram"):
        assert f"{POST_ID} → {channel}: already published, found in the database: " in again.stdout
        assert (outbox(sample, channel) / POST_FILE).read_bytes() == before[channel]
    assert "NOT published" not in again.stdout
    assert "publishing " not in again.output  # no call was made
    with opened(sample) as store:
        row = store.get(POST_ID, "facebook", Mode.DRY_RUN)
        assert row is not None and row.attempt_count == 1
        assert store.alerts() == []


def test_an_edited_post_is_not_published_again_and_an_alert_is_recorded(
    sample: Campaign,
) -> None:
    assert run(sample, "publish", POST_ID).exit_code == 0
    published_at = record(sample, "facebook")["published_at"]
    sample.post(POST_ID, GOOD_POST.replace("Kom och prata", "Kom och snacka"))
    result = run(sample, "publish", POST_ID)
    assert result.exit_code == 0, result.output
    assert result.stdout.count("already published") == 2
    assert result.stdout.count("the change is NOT published") == 2
    assert record(sample, "facebook")["published_at"] == published_at
    assert record(sample, "facebook")["caption"] == CAPTION
    with opened(sample) as store:
        alerts = store.alerts()
        assert sorted((a.kind, a.post_id, a.channel) for a in alerts) == [
            ("edited", POST_ID, "facebook"),
            ("edited", POST_ID, "instagram"),
        ]
        row = store.get(POST_ID, "facebook", Mode.DRY_RUN)
        assert row is not None and row.caption == CAPTION  # what was really sent
    run(sample, "publish", POST_ID)
    with opened(sample) as store:
        assert len(store.alerts()) == 2  # the same change is reported once


def test_channel_option_publishes_only_that_channel(sample: Campaign) -> None:
    result = run(sample, "publish", POST_ID, "--channel", "instagram")
    assert result.exit_code == 0, result.output
    assert REASON_INSTAGRAM in result.stdout and "facebook" not in result.stdout
    assert record(sample, "instagram")["caption"] == CAPTION
    assert not outbox(sample, "facebook").exists()
    with opened(sample) as store:
        assert store.get(POST_ID, "facebook", Mode.DRY_RUN) is None
    rest = run(sample, "publish", POST_ID)
    assert rest.exit_code == 0
    assert f"{POST_ID} → facebook: published: " in rest.stdout
    assert f"{POST_ID} → instagram: already published" in rest.stdout


def test_channel_the_post_does_not_use_is_a_usage_error(sample: Campaign) -> None:
    sample.post("2030-09-16-fb", FACEBOOK_ONLY)
    result = run(sample, "publish", "2030-09-16-fb", "--channel", "instagram")
    assert result.exit_code == 2
    assert "does not go to instagram" in result.output
    assert "its channels: facebook" in result.output
    assert not (sample.root / "utkorg").exists()


def test_an_unknown_channel_name_is_a_usage_error(sample: Campaign) -> None:
    result = run(sample, "publish", POST_ID, "--channel", "twitter")
    assert result.exit_code == 2
    assert not (sample.root / "utkorg").exists()


def test_a_draft_is_not_published(sample: Campaign) -> None:
    sample.post("2030-09-16-utkast", GOOD_POST.replace("status: ready", "status: draft"))
    result = run(sample, "publish", "2030-09-16-utkast")
    assert result.exit_code == 1
    assert "status: draft" in result.output and "status: ready" in result.output
    assert not (sample.root / "utkorg").exists()


def test_an_unknown_post_is_a_usage_error_with_a_hint(sample: Campaign) -> None:
    result = run(sample, "publish", "2030-09-15-finns-inte")
    assert result.exit_code == 2
    assert "no post '2030-09-15-finns-inte'" in result.output
    assert "without .yaml" in result.output
    assert not (sample.root / "utkorg").exists()


def test_a_missing_relative_path_is_a_usage_error(
    sample: Campaign, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(sample.root)
    result = run(sample, "publish", "posts/finns-inte.yaml")
    assert result.exit_code == 2
    assert "finns-inte" in result.output


def test_a_missing_absolute_path_is_a_usage_error(sample: Campaign) -> None:
    sample.config_path.write_text(sample.config_text, encoding="utf-8")
    missing = str(sample.posts / "finns-inte.yaml")
    result = runner.invoke(app, ["--config", str(sample.config_path), "publish", missing])
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 2
    assert "finns-inte" in result.output


def test_a_post_with_errors_is_not_published(sample: Campaign) -> None:
    sample.post("2030-09-16-fel", GOOD_POST.replace("status: ready", "status: klar"))
    result = run(sample, "publish", "2030-09-16-fel")
    assert result.exit_code == 1
    assert "2030-09-16-fel.yaml:3:9: error:" in result.output
    assert '`status` is "klar"' in result.output
    assert "Nothing was published" in result.output
    assert not (sample.root / "utkorg").exists()


def test_a_post_whose_image_cannot_be_rendered_is_not_published(sample: Campaign) -> None:
    (sample.root / "logo.png").unlink()
    result = run(sample, "publish", POST_ID)
    assert result.exit_code == 1
    assert "logo" in result.output
    assert not (sample.root / "utkorg").exists()


def test_reconcile_with_nothing_unknown(sample: Campaign) -> None:
    result = run(sample, "reconcile")
    assert result.exit_code == 0, result.output
    assert "Nothing to reconcile" in result.stdout
    assert run(sample, "publish", POST_ID).exit_code == 0
    again = run(sample, "reconcile")
    assert again.exit_code == 0 and "Nothing to reconcile" in again.stdout


def unknown_publication(campaign: Campaign, caption: str, post_id: str = "2030-09-16-okand") -> int:
    """A Facebook publication whose last try had no clear answer, as a timeout leaves it."""
    now = datetime.now(UTC)
    with opened(campaign) as store:
        row = store.ensure_publication(
            post_id, "facebook", now - timedelta(minutes=1), now, Mode.DRY_RUN
        )
        assert row.id is not None
        claim = store.claim(
            row.id,
            now=now,
            claimed_by=this_process(),
            fingerprint="a" * 64,
            caption=caption,
            media_json="[]",
            link=None,
            first_comment=None,
        )
        assert claim is not None
        assert store.finish(
            claim,
            row.id,
            now=now,
            state=State.UNKNOWN,
            outcome="unknown",
            error_class="unknown",
            message="the request timed out",
        )
        return row.id


def outbox_post(campaign: Campaign, post_id: str, caption: str) -> dict:
    """Write ``post_id`` into the Facebook outbox, as a try that timed out may have done."""
    channel = OutboxChannel("facebook", campaign.root / "utkorg")
    request = PublishRequest(post_id, "facebook", caption, (), "a" * 64)
    channel.publish(request)
    return record(campaign, "facebook", post_id)


def test_reconcile_finds_an_unknown_publication_in_the_outbox(sample: Campaign) -> None:
    run(sample, "reconcile")  # creates the database
    written = outbox_post(sample, "2030-09-16-okand", "Hej Södertälje!\nVälkommen på torsdag.")
    publication = unknown_publication(sample, written["caption"])
    result = run(sample, "reconcile")
    assert result.exit_code == 0, result.output
    folder = outbox(sample, "facebook", "2030-09-16-okand")
    assert f"published 2030-09-16-okand → facebook: found online: {folder.as_uri()}" in (
        result.stdout
    )
    with opened(sample) as store:
        row = store.get_by_id(publication)
        assert row.state == State.PUBLISHED
        assert row.remote_id == "outbox:facebook:2030-09-16-okand"
        assert [a.kind for a in store.attempts(publication)] == ["publish", "reconcile"]
        assert store.attempts(publication)[-1].outcome == "found"
    assert record(sample, "facebook", "2030-09-16-okand") == written  # not written again
    assert "Nothing to reconcile" in run(sample, "reconcile").stdout


def test_reconcile_schedules_again_what_is_not_in_the_outbox(sample: Campaign) -> None:
    run(sample, "reconcile")
    outbox_post(sample, "2030-09-16-okand", "En helt annan text.")
    publication = unknown_publication(sample, "Hej Södertälje!")
    result = run(sample, "reconcile")
    assert result.exit_code == 0, result.output
    assert "scheduled 2030-09-16-okand → facebook: not found online" in result.stdout
    with opened(sample) as store:
        assert store.get_by_id(publication).state == State.SCHEDULED


def test_publish_after_a_crash_finds_the_post_instead_of_posting_twice(sample: Campaign) -> None:
    """The process died after the outbox had the post and before the store heard of it."""
    run(sample, "reconcile")
    request = prepared_request(sample, "facebook")
    OutboxChannel("facebook", sample.root / "utkorg").publish(request)
    written = record(sample, "facebook")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait(timeout=30)
    now = datetime.now(UTC)
    with opened(sample) as store:
        row = store.ensure_publication(POST_ID, "facebook", now, now, Mode.DRY_RUN)
        assert row.id is not None
        claim = store.claim(
            row.id,
            now=now,
            claimed_by=f"{socket.gethostname()}:{dead.pid}:deadbeef",
            fingerprint=request.fingerprint,
            caption=request.caption,
            media_json=media_json(request.media),
            link=request.link,
            first_comment=request.first_comment,
        )
        assert claim is not None
    result = run(sample, "publish", POST_ID, "--channel", "facebook")
    assert result.exit_code == 0, result.output
    assert f"{POST_ID} → facebook: already published, found online: " in result.stdout
    assert "NOT published" not in result.stdout
    assert record(sample, "facebook") == written  # the outbox was not written a second time
    with opened(sample) as store:
        row = store.get(POST_ID, "facebook", Mode.DRY_RUN)
        assert row is not None and row.state == State.PUBLISHED and row.attempt_count == 1


def test_publish_after_a_crash_before_the_call_publishes_once(sample: Campaign) -> None:
    run(sample, "reconcile")
    request = prepared_request(sample, "facebook")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait(timeout=30)
    now = datetime.now(UTC)
    with opened(sample) as store:
        row = store.ensure_publication(POST_ID, "facebook", now, now, Mode.DRY_RUN)
        assert row.id is not None
        store.claim(
            row.id,
            now=now,
            claimed_by=f"{socket.gethostname()}:{dead.pid}:deadbeef",
            fingerprint=request.fingerprint,
            caption=request.caption,
            media_json=media_json(request.media),
            link=request.link,
            first_comment=request.first_comment,
        )
    result = run(sample, "publish", POST_ID, "--channel", "facebook")
    assert result.exit_code == 0, result.output
    assert f"{POST_ID} → facebook: published: " in result.stdout
    assert record(sample, "facebook")["caption"] == CAPTION
    with opened(sample) as store:
        row = store.get(POST_ID, "facebook", Mode.DRY_RUN)
        assert row is not None and row.state == State.PUBLISHED and row.attempt_count == 2


def test_dry_run_flag_forces_the_outbox(sample: Campaign) -> None:
    sample.config_text = sample.config_text.replace(
        "[channels.facebook]\n", '[channels.facebook]\npage_id = "1234567890"\n'
    )
    result = run(sample, "publish", POST_ID, "--dry-run", env={"CAMPAIGN_FACEBOOK_TOKEN": CANARY})
    assert result.exit_code == 0, result.output
    assert "facebook: dry run to the outbox, because --dry-run was given" in result.stdout
    assert "instagram: dry run to the outbox, because --dry-run was given" in result.stdout
    assert record(sample, "facebook")["caption"] == CAPTION
    assert CANARY not in result.output


def test_dry_run_does_not_use_up_the_real_publication(sample: Campaign) -> None:
    sample.config_text = sample.config_text.replace(
        "[channels.facebook]\n", '[channels.facebook]\npage_id = "1234567890"\n'
    )
    env = {"CAMPAIGN_FACEBOOK_TOKEN": CANARY}
    result = run(sample, "publish", POST_ID, "--channel", "facebook", "--dry-run", env=env)
    assert result.exit_code == 0, result.output
    assert record(sample, "facebook")["caption"] == CAPTION
    with opened(sample) as store:
        row = store.get(POST_ID, "facebook")
        assert row is None or row.state != State.PUBLISHED
        rehearsed = store.get(POST_ID, "facebook", Mode.DRY_RUN)
        assert rehearsed is not None and rehearsed.state == State.PUBLISHED


def test_the_token_never_appears_in_the_output(sample: Campaign) -> None:
    env = {"CAMPAIGN_FACEBOOK_TOKEN": CANARY}
    results = [
        run(sample, "publish", POST_ID, env=env),
        run(sample, "publish", POST_ID, env=env),
        run(sample, "reconcile", env=env),
    ]
    assert results[0].exit_code == 0
    assert REASON_FACEBOOK in results[0].stdout  # page_id is empty: a dry run all the same
    for result in results:
        assert CANARY not in result.output
    for channel in ("facebook", "instagram"):
        assert CANARY not in (outbox(sample, channel) / POST_FILE).read_text("utf-8")
    assert CANARY.encode() not in (sample.root / "data" / "kampanj.db").read_bytes()


def test_a_database_in_a_missing_folder_is_a_message_not_a_traceback(sample: Campaign) -> None:
    sample.config_text = sample.config_text.replace("/data/kampanj.db", "/saknas/kampanj.db")
    sample.config_path.write_text(sample.config_text, encoding="utf-8")
    result = runner.invoke(app, ["--config", str(sample.config_path), "publish", POST_ID])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.exit_code == 0, result.output
    assert (sample.root / "saknas" / "kampanj.db").is_file()  # the folder was made
