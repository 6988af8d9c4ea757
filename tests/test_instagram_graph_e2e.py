"""Instagram through Meta's official API, end to end: config.toml → the factory → the real
daemon (its clock set by hand, as in tests/test_daemon.py) → the real channel → the S3
media host against moto on loopback → the fake Instagram Graph API, which really fetches
each presigned link. Also `campaign publish` as a process, engagement, the rehearsal with
either backend, and no secret anywhere.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from apscheduler.schedulers.base import STATE_STOPPED, BaseScheduler
from PIL import Image
from typer.testing import CliRunner

from campaign.config import Config
from campaign.outputs import OUTPUT_FOLDER, REHEARSAL_FOLDER
from scheduler import redaction
from scheduler.channels.factory import build_channels
from scheduler.channels.instagram_graph import InstagramGraphChannel
from scheduler.cli.app import app
from scheduler.daemon import Daemon
from scheduler.engagement.archive import archive_records, write_archive
from scheduler.store.models import Mode, Publication, State
from scheduler.store.store import Store
from tests.conftest import Campaign, HandClock
from tests.fakes.instagram_graph_api import IG_USER_ID, FakeInstagramGraphAPI
from tests.fakes.instagram_graph_api import fake_ig_graph as fake_ig_graph
from tests.fakes.s3_server import ACCESS_KEY_ID, BUCKET, REGION, SECRET_ACCESS_KEY, FakeS3
from tests.fakes.s3_server import s3_server as s3_server
from tests.test_trust_leaks import everything_stored, leaked

ROOT = Path(__file__).resolve().parent.parent
START = datetime(2030, 9, 15, 5, 0, tzinfo=UTC)  # 07:00 in Stockholm
DUE = datetime(2030, 9, 15, 7, 0, tzinfo=UTC)  # 09:00 in Stockholm
POST_ID = "2030-09-15-demokratidagen"
CAROUSEL_ID = "2030-09-15-tre-steg"
CAPTION = "Idag är det demokratins dag. Kom och prata med oss.\n#demokrati100"
ALT = "Tre personer framför en vallokal med skylten Röstning."
POST = f"""\
publish_at: 2030-09-15 09:00
channels: [instagram]
status: ready
caption: |
  Idag är det demokratins dag. Kom och prata med oss.
  #demokrati100
images:
  - file: bild.jpg
    alt: {ALT}
instagram:
  first_comment: "#val2022"
"""
CAROUSEL_ALTS = [
    "En hand lägger ett kuvert i en valurna.",
    "En röstsedel i ett gult kuvert på ett bord.",
    "Ett valbås med en blå gardin.",
]
CAROUSEL = "".join(
    [
        "publish_at: 2030-09-15 09:00\nchannels: [instagram]\nstatus: ready\n",
        "caption: Så röstar du. Tre steg, tre bilder.\nimages:\n",
        *(f"  - file: steg-{n}.jpg\n    alt: {alt}\n" for n, alt in enumerate(CAROUSEL_ALTS, 1)),
    ]
)
ENGAGEMENT_HOURS = (1, 6)


class Rig:
    """A campaign whose Instagram goes through the official API to the fakes."""

    def __init__(
        self, campaign: Campaign, clock: HandClock, fake: FakeInstagramGraphAPI, s3: FakeS3
    ) -> None:
        self.campaign = campaign
        self.clock = clock
        self.fake = fake
        self.s3 = s3
        self.stores: list[Store] = []
        self.daemons: list[Daemon] = []

    @property
    def environ(self) -> dict[str, str]:
        return {
            "CAMPAIGN_INSTAGRAM_TOKEN": self.fake.token,
            "CAMPAIGN_S3_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "CAMPAIGN_S3_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
        }

    def config(self, extra: str = "", media: str = "", ig_user_id: str = IG_USER_ID) -> Config:
        root = self.campaign.root
        return self.campaign.config(
            f"""
[brand]
logo = "logo.png"

[render]
width = 320

[database]
url = "sqlite:///{root / "data" / "campaign.db"}"

[publishing]
outbox = "{root / "outbox"}"
{extra}

[channels.instagram]
backend = "graph"
ig_user_id = "{ig_user_id}"
graph_url = "{self.fake.url}"

[media_host]
kind = "s3"
endpoint_url = "{self.s3.endpoint}"
region = "{REGION}"
bucket = "{BUCKET}"
prefix = "kampanj/"
url_expires_minutes = 5
{media}
"""
        )

    def daemon(self, config: Config | None = None) -> Daemon:
        config = config or self.config()
        setups = build_channels(config, environ=self.environ, clock=self.clock)
        assert isinstance(setups["instagram"].channel, InstagramGraphChannel)
        store = Store.open(config.database_url)
        self.stores.append(store)
        daemon = Daemon(config, store, setups, clock=self.clock)
        self.daemons.append(daemon)
        daemon.rescan(force=True)
        BaseScheduler.start(daemon.scheduler, paused=True)
        return daemon

    def bucket(self) -> list[str]:
        listed = self.s3.client().list_objects_v2(Bucket=BUCKET)
        return [item["Key"] for item in listed.get("Contents", [])]

    def row(self, daemon: Daemon, post_id: str = POST_ID) -> Publication:
        row = daemon.store.get(post_id, "instagram", Mode.LIVE)
        assert row is not None
        return row

    def close(self) -> None:
        for daemon in self.daemons:
            if daemon.scheduler.state != STATE_STOPPED:
                BaseScheduler.shutdown(daemon.scheduler, wait=False)
        for store in self.stores:
            store.close()


@pytest.fixture
def rig(
    campaign: Campaign,
    fake_ig_graph: FakeInstagramGraphAPI,
    s3_server: FakeS3,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Rig]:
    for name in list(os.environ):
        if name.startswith("CAMPAIGN_"):
            monkeypatch.delenv(name)
    monkeypatch.setattr(redaction, "_secrets", set())
    fake_ig_graph.polls_in_progress = 0  # no real waiting between status reads
    Image.new("RGBA", (100, 50), (230, 0, 0, 255)).save(campaign.root / "logo.png")
    for name, colour in (("bild", (27, 54, 93)), ("steg-1", (200, 30, 30))):
        Image.new("RGB", (400, 500), colour).save(campaign.posts / f"{name}.jpg", "JPEG")
    for n in (2, 3):
        Image.new("RGB", (500, 400), (30, 30 * n, 90)).save(campaign.posts / f"steg-{n}.jpg")
    (campaign.posts / f"{POST_ID}.yaml").write_text(POST, encoding="utf-8")
    state = Rig(campaign, HandClock(START), fake_ig_graph, s3_server)
    try:
        yield state
    finally:
        state.close()


def presigned_date(url: str) -> datetime:
    stamp = parse_qs(urlsplit(url).query)["X-Amz-Date"][0]
    return datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


# -- publishing ------------------------------------------------------------------------


def test_a_ready_post_goes_out_through_the_official_api_once(rig: Rig) -> None:
    daemon = rig.daemon()
    assert rig.bucket() == []  # prepared ahead, but nothing on the host before it is due

    rig.clock.now = DUE
    daemon.publish_job(POST_ID, "instagram")

    row = rig.row(daemon)
    [media] = rig.fake.media
    assert (row.state, row.remote_id, row.url) == (State.PUBLISHED, media.id, media.permalink)
    assert media.caption == CAPTION
    assert media.alt_texts == [ALT]
    assert media.comments == ["#val2022"]
    [container] = rig.fake.containers.values()
    assert container.image_url is not None
    assert container.image_url.startswith(f"{rig.s3.endpoint}/{BUCKET}/kampanj/")
    assert "X-Amz-Signature=" in container.image_url
    assert (200, urlsplit(container.image_url).path) in rig.s3.presigned  # Meta fetched it
    assert rig.bucket() == []  # removed after publishing
    assert requests.get(container.image_url, timeout=10).status_code != 200

    rig.clock.advance(timedelta(minutes=5))
    daemon.publish_job(POST_ID, "instagram")
    daemon.rescan(force=True)
    assert len(rig.fake.media) == 1
    assert len(rig.fake.of_kind("POST media_publish")) == 1


def test_a_carousel_keeps_the_alt_text_of_every_image(rig: Rig) -> None:
    (rig.campaign.posts / f"{POST_ID}.yaml").unlink()
    (rig.campaign.posts / f"{CAROUSEL_ID}.yaml").write_text(CAROUSEL, encoding="utf-8")
    daemon = rig.daemon()

    rig.clock.now = DUE
    daemon.publish_job(CAROUSEL_ID, "instagram")

    assert rig.row(daemon, CAROUSEL_ID).state == State.PUBLISHED
    [media] = rig.fake.media
    assert media.media_type == "CAROUSEL_ALBUM"
    assert media.alt_texts == CAROUSEL_ALTS
    children = [c for c in rig.fake.containers.values() if c.is_carousel_item]
    assert [c.alt_text for c in children] == CAROUSEL_ALTS
    assert all("X-Amz-Signature=" in (c.image_url or "") for c in children)
    assert rig.bucket() == []


def test_kept_images_stay_in_the_bucket_and_their_links_expire(rig: Rig) -> None:
    daemon = rig.daemon(rig.config(media="remove_after_publish = false"))
    rig.clock.now = DUE
    daemon.publish_job(POST_ID, "instagram")

    assert rig.row(daemon).state == State.PUBLISHED
    [key] = rig.bucket()
    assert key.startswith("kampanj/") and key.endswith(".jpg")
    [container] = rig.fake.containers.values()
    url = container.image_url or ""
    assert requests.get(url, timeout=10).status_code == 200
    rig.s3.now = presigned_date(url) + timedelta(minutes=5, seconds=1)
    assert requests.get(url, timeout=10).status_code == 403  # the link has expired
    unsigned = url.split("?")[0]
    rig.s3.now = None
    assert requests.get(unsigned, timeout=10).status_code == 403  # the bucket is private


def test_a_used_up_quota_rests_the_channel_then_the_post_goes_out_not_missed(rig: Rig) -> None:
    rig.fake.use_quota(rig.fake.quota_total)
    daemon = rig.daemon()

    rig.clock.now = DUE
    daemon.publish_job(POST_ID, "instagram")

    row = rig.row(daemon)
    state = daemon.store.channel_state("instagram")
    assert row.state == State.SCHEDULED
    assert state.cooldown_until is not None
    assert state.cooldown_until - DUE > timedelta(minutes=30)  # longer than the grace
    assert rig.fake.containers == {} and rig.bucket() == []  # nothing made, nothing hosted

    rig.fake.quota_uses.clear()  # the window frees
    rig.clock.now = state.cooldown_until + timedelta(seconds=1)
    daemon.publish_job(POST_ID, "instagram")

    row = rig.row(daemon)
    assert row.state == State.PUBLISHED, row.last_error
    assert len(rig.fake.media) == 1
    assert [a.message for a in daemon.store.alerts() if a.kind == "missed"] == []


def test_a_container_in_error_fails_the_post_with_what_to_fix(rig: Rig) -> None:
    rig.fake.fate("error_aspect_ratio")
    daemon = rig.daemon()

    rig.clock.now = DUE
    daemon.publish_job(POST_ID, "instagram")

    row = rig.row(daemon)
    assert row.state == State.FAILED
    assert row.last_error is not None and "4:5" in row.last_error
    assert rig.fake.media == [] and rig.bucket() == []


def test_a_publish_without_an_answer_is_found_online_and_never_sent_twice(rig: Rig) -> None:
    rig.fake.script("POST media_publish", "create_then_hang")
    daemon = rig.daemon(rig.config("request_timeout_seconds = 1"))

    rig.clock.now = DUE
    daemon.publish_job(POST_ID, "instagram")

    assert rig.row(daemon).state == State.UNKNOWN
    [media] = rig.fake.media  # Meta made it all the same
    media.timestamp = DUE  # Meta's clock is the test's

    rig.clock.advance(timedelta(minutes=2))  # past reconcile_after_seconds
    daemon.publish_job(POST_ID, "instagram")

    row = rig.row(daemon)
    assert (row.state, row.remote_id) == (State.PUBLISHED, media.id)
    assert len(rig.fake.media) == 1
    assert len(rig.fake.of_kind("POST media_publish")) == 1


# -- engagement ------------------------------------------------------------------------


def test_engagement_is_sampled_at_its_ages_and_shown_by_stats(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    hours = ", ".join(str(h) for h in ENGAGEMENT_HOURS)
    config = rig.config(f"\n[engagement]\nages_hours = [{hours}]")
    daemon = rig.daemon(config)
    rig.clock.now = DUE
    daemon.publish_job(POST_ID, "instagram")
    row = rig.row(daemon)
    assert row.id is not None and row.published_at is not None

    daemon.sample_engagement()  # too early: nothing due
    assert daemon.store.samples(row.id) == []
    for age in ENGAGEMENT_HOURS:
        rig.clock.now = row.published_at + timedelta(hours=age, minutes=1)
        daemon.sample_engagement()
    samples = daemon.store.samples(row.id)
    assert [s.target_age_seconds for s in samples] == [h * 3600 for h in ENGAGEMENT_HOURS]
    assert {(s.views, s.reach, s.reactions, s.comments, s.shares, s.saves) for s in samples} == {
        (640, 410, 37, 4, 6, 9)
    }

    monkeypatch.setenv("CAMPAIGN_INSTAGRAM_TOKEN", rig.fake.token)
    result = CliRunner().invoke(app, ["--config", str(rig.campaign.config_path), "stats"])
    assert result.exit_code == 0, result.output
    assert "instagram" in result.output
    assert "saves 9, views 640, reach 410" in result.output


# -- secrets ---------------------------------------------------------------------------


def test_no_token_or_s3_secret_in_logs_database_outbox_or_export(
    rig: Rig, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.DEBUG)
    rig.fake.script("POST comments", "error_190_echoing_token")  # Meta quotes the token back
    (rig.campaign.posts / f"{CAROUSEL_ID}.yaml").write_text(
        CAROUSEL.replace("09:00", "10:00"), encoding="utf-8"
    )
    daemon = rig.daemon()
    rig.clock.now = DUE
    daemon.publish_job(POST_ID, "instagram")
    assert rig.row(daemon).state == State.PUBLISHED  # the comment is only a warning
    rig.fake.fate("error_unexplained")
    rig.clock.now = DUE + timedelta(hours=1)
    daemon.publish_job(CAROUSEL_ID, "instagram")
    assert rig.row(daemon, CAROUSEL_ID).state in (State.FAILED, State.SCHEDULED)

    # a dry run with every secret in the environment (only the account's id is missing)
    outbox_config = rig.config(ig_user_id="")
    outbox = build_channels(outbox_config, environ=rig.environ)["instagram"].channel
    assert outbox.kind == "outbox"
    outbox.publish(daemon.prepared[POST_ID].requests["instagram"])

    json_path, csv_path = write_archive(archive_records(daemon.store), tmp_path / "export", UTC)
    places = {
        "log": caplog.text,
        "database": everything_stored(daemon.store),
        "outbox": "\n".join(
            path.read_bytes().decode("utf-8", "replace")
            for path in (rig.campaign.root / "outbox").rglob("*")
            if path.is_file()
        ),
        "export": json_path.read_text("utf-8") + csv_path.read_text("utf-8-sig"),
    }
    assert "first comment could not be added" in places["database"]
    for where, text in places.items():
        for secret in (rig.fake.token, SECRET_ACCESS_KEY):
            assert not leaked(secret, text), (where, secret)
        assert "X-Amz-Signature=" not in text, where


# -- by hand, as a process --------------------------------------------------------------


def test_campaign_publish_sends_one_post_through_the_official_api(rig: Rig) -> None:
    rig.fake.polls_in_progress = 1
    rig.config()
    env = {
        **{k: v for k, v in os.environ.items() if k.startswith(("AWS_", "NO_PROXY", "no_"))},
        "PATH": "/usr/bin:/bin",
        "HOME": str(rig.campaign.root),
        "PYTHONPATH": str(ROOT),
        **rig.environ,
    }
    done = subprocess.run(
        [sys.executable, "-m", "scheduler.cli", "--config", str(rig.campaign.config_path),
         "publish", POST_ID, "--channel", "instagram"],
        capture_output=True, text=True, timeout=180, env=env, cwd=rig.campaign.root,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "instagram: live (instagram-graph)" in output
    assert f"published {POST_ID} → instagram" in output
    [media] = rig.fake.media
    assert media.caption == CAPTION and media.alt_texts == [ALT]
    assert rig.bucket() == []
    assert "Traceback" not in output
    assert not leaked(rig.fake.token, output) and not leaked(SECRET_ACCESS_KEY, output)


# -- rehearsals ------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["graph", "instagrapi"])
def test_a_rehearsal_runs_with_either_backend(campaign: Campaign, backend: str) -> None:
    Image.new("RGBA", (100, 50), (230, 0, 0, 255)).save(campaign.root / "logo.png")
    Image.new("RGB", (400, 500), (27, 54, 93)).save(campaign.posts / "bild.jpg", "JPEG")
    (campaign.posts / f"{POST_ID}.yaml").write_text(
        POST.replace("[instagram]", "[facebook, instagram]"), encoding="utf-8"
    )
    keys = 'ig_user_id = ""' if backend == "graph" else 'username = ""'
    campaign.config(
        f'[brand]\nlogo = "logo.png"\n[render]\nwidth = 320\n'
        f'[channels.instagram]\nbackend = "{backend}"\n{keys}\n'
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": str(campaign.root), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "scheduler.cli", "--config", str(campaign.config_path), "run",
         "--rehearse", "100000"],
        capture_output=True, text=True, timeout=180, env=env, cwd=campaign.root,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 of 2 publications went out" in done.stdout
    rehearsal = campaign.root / OUTPUT_FOLDER / REHEARSAL_FOLDER
    folder = rehearsal / "outbox" / "instagram" / POST_ID
    record = json.loads((folder / "post.json").read_text(encoding="utf-8"))
    assert record["caption"] == CAPTION
    if backend == "graph":
        assert "[media_host] bucket is empty" in record["would_upload"]["media_host"]
        assert (folder / "upload.txt").is_file()
    else:
        assert "would_upload" not in record and not (folder / "upload.txt").exists()
