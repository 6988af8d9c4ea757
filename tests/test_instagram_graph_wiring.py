"""Instagram's backend in config.toml, the channel built from it, and what status, plan and
the dry run say about it (graph is the default; an older instagrapi config keeps working)."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from rich.console import Console

from campaign.config import Config, ConfigError
from scheduler.channels.base import MediaItem, PublishRequest
from scheduler.channels.factory import build_channels, channel_modes
from scheduler.channels.instagram_graph import InstagramGraphChannel
from scheduler.channels.outbox import POST_FILE, UPLOAD_FILE, OutboxChannel
from scheduler.cli.plan_view import plan_table
from scheduler.cli.status import run_status
from scheduler.media_host.folder import FolderMediaHost
from scheduler.media_host.s3 import S3MediaHost
from scheduler.store.store import Store
from tests.conftest import NOW, Campaign
from tests.fakes.s3_server import ACCESS_KEY_ID, BUCKET, SECRET_ACCESS_KEY

TOKEN = "IGQcanaryTOKENvalue0123456789"
S3_ENV = {
    "CAMPAIGN_S3_ACCESS_KEY_ID": ACCESS_KEY_ID,
    "CAMPAIGN_S3_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
}
S3_HOST = f"""
[media_host]
kind = "s3"
bucket = "{BUCKET}"
endpoint_url = "https://s3.example.se"
url_expires_minutes = 15
"""


def with_outbox(campaign: Campaign, extra: str) -> Config:
    return campaign.config(f'\n[publishing]\noutbox = "{campaign.root / "utkorg"}"\n{extra}')


def config_error(campaign: Campaign, extra: str) -> str:
    with pytest.raises(ConfigError) as caught:
        campaign.config(extra)
    return str(caught.value)


# -- config ---------------------------------------------------------------------------


def test_a_new_config_uses_the_official_api(campaign: Campaign) -> None:
    config = campaign.config()
    assert config.instagram_backend == "graph"
    assert config.channels.instagram.token_env == "CAMPAIGN_INSTAGRAM_TOKEN"
    assert config.media_host.kind == "s3"
    assert config.media_host.remove_after_publish is True


def test_an_older_config_with_instagrapis_keys_stays_instagrapi(campaign: Campaign) -> None:
    config = campaign.config('\n[channels.instagram]\nusername = "sodertalje"\n')
    assert config.instagram_backend == "instagrapi"
    assert config.instagram_backend_note == (
        'from `username`; write backend = "instagrapi" to say so'
    )
    written = campaign.config('\n[channels.instagram]\nbackend = "instagrapi"\nusername = "s"\n')
    assert (written.instagram_backend, written.instagram_backend_note) == ("instagrapi", "")


@pytest.mark.parametrize("key", ['username = "s"', 'session_file = "s.json"', 'password_env = "P"'])
def test_instagrapis_keys_with_the_graph_backend_are_an_error_naming_the_key(
    campaign: Campaign, key: str
) -> None:
    message = config_error(campaign, f'\n[channels.instagram]\nbackend = "graph"\n{key}\n')
    name = key.split(" ")[0]
    assert f"`{name}` in [channels.instagram] is only used by instagrapi" in message
    assert "config.toml:8:" in message  # the key's own line


def test_graph_keys_with_instagrapi_are_an_error_naming_the_key(campaign: Campaign) -> None:
    message = config_error(
        campaign, '\n[channels.instagram]\nbackend = "instagrapi"\nig_user_id = "1784"\n'
    )
    assert "`ig_user_id` in [channels.instagram] is only used by Meta's official API" in message
    both = config_error(campaign, '\n[channels.instagram]\nig_user_id = "1784"\nusername = "s"\n')
    assert "sets both `ig_user_id`" in both and "`username`" in both


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ('[channels.instagram]\nbackend = "private"\n', "must be one of 'graph' or 'instagrapi'"),
        ('[channels.instagram]\nig_user_id = "@sodertalje"\n', "is a number"),
        ('[channels.instagram]\ntoken_env = "IGQVJWZA2ZA5ZA1VNSDFk"\n', "NAME of an environment"),
        ('[channels.instagram]\ngraph_url = "http://graph.example"\n', "must start with https"),
        ('[channels.instagram]\napi_version = "24"\n', '"v24.0"'),
        ('[media_host]\nkind = "ftp"\n', "must be one of 's3' or 'folder'"),
        ('[media_host]\nendpoint_url = "http://minio.example"\n', "Meta fetches the images"),
        ("[media_host]\nurl_expires_minutes = 20000\n", "at most 10,080"),
        ('[media_host]\nurl_expires_minutes = "60"\n', "must be a number"),
        ('[media_host]\nfolder = "/var/www"\n', "`folder` in [media_host] is not used when kind"),
        ('[media_host]\nkind = "folder"\nbucket = "b"\n', "`bucket` in [media_host] is not"),
    ],
)
def test_wrong_instagram_and_media_host_keys_are_explained(
    campaign: Campaign, extra: str, words: str
) -> None:
    message = config_error(campaign, "\n" + extra)
    assert words in message
    assert "Input should" not in message


# -- the channel built ----------------------------------------------------------------


def test_graph_without_its_settings_is_the_outbox_with_the_reason(campaign: Campaign) -> None:
    config = with_outbox(campaign, "")
    setup = build_channels(config, environ={})["instagram"]
    assert isinstance(setup.channel, OutboxChannel)
    assert setup.dry_run_reason == "[channels.instagram] ig_user_id is empty in config.toml"
    assert setup.backend == "Graph API (official)"

    config = with_outbox(campaign, '[channels.instagram]\nig_user_id = "17841400000000000"\n')
    setup = build_channels(config, environ={})["instagram"]
    assert setup.dry_run_reason == (
        "the environment variable CAMPAIGN_INSTAGRAM_TOKEN (the Instagram token) is not set"
    )
    setup = build_channels(config, environ={"CAMPAIGN_INSTAGRAM_TOKEN": TOKEN})["instagram"]
    assert isinstance(setup.channel, OutboxChannel)
    assert setup.dry_run_reason is not None
    assert setup.dry_run_reason.startswith("there is no media host for Meta to fetch the images")
    assert "[media_host] bucket is empty" in setup.dry_run_reason

    config = with_outbox(
        campaign, '[channels.instagram]\nig_user_id = "17841400000000000"\n' + S3_HOST
    )
    setup = build_channels(config, environ={"CAMPAIGN_INSTAGRAM_TOKEN": TOKEN})["instagram"]
    assert setup.dry_run_reason is not None
    assert "CAMPAIGN_S3_ACCESS_KEY_ID and $CAMPAIGN_S3_SECRET_ACCESS_KEY" in setup.dry_run_reason


def test_graph_with_id_token_and_host_is_live(campaign: Campaign) -> None:
    config = with_outbox(
        campaign,
        '[channels.facebook]\ngraph_url = "https://graph.example"\napi_version = "v23.0"\n'
        '[channels.instagram]\nig_user_id = "17841400000000000"\ntoken_env = "IG_TOKEN"\n'
        + S3_HOST,
    )
    setup = build_channels(config, environ={"IG_TOKEN": TOKEN, **S3_ENV})["instagram"]
    channel = setup.channel
    assert isinstance(channel, InstagramGraphChannel)
    assert setup.dry_run_reason is None
    assert channel.kind == "instagram-graph"
    assert channel.ig_user_id == "17841400000000000"
    assert channel.settings.graph_url == "https://graph.example"  # shared with Facebook
    assert channel.settings.api_version == "v23.0"
    assert channel.url_valid_for == timedelta(minutes=15)
    assert channel.remove_after is True
    assert isinstance(channel.host, S3MediaHost)
    assert channel._token_hint == "the environment variable IG_TOKEN"
    assert setup.media_host is not None and BUCKET in setup.media_host
    assert SECRET_ACCESS_KEY not in setup.media_host and TOKEN not in setup.description


def test_graph_with_its_own_address_and_a_folder_host(campaign: Campaign) -> None:
    served = campaign.root / "www"
    served.mkdir()
    config = with_outbox(
        campaign,
        '[channels.instagram]\nig_user_id = "1784"\ngraph_url = "https://ig.example"\n'
        'api_version = "v25.0"\n[media_host]\nkind = "folder"\nfolder = "www"\n'
        'base_url = "https://media.example.se/c"\nremove_after_publish = false\n',
    )
    channel = build_channels(config, environ={"CAMPAIGN_INSTAGRAM_TOKEN": TOKEN})[
        "instagram"
    ].channel
    assert isinstance(channel, InstagramGraphChannel)
    assert (channel.settings.graph_url, channel.settings.api_version) == (
        "https://ig.example",
        "v25.0",
    )
    assert isinstance(channel.host, FolderMediaHost)
    assert channel.host.folder == served.resolve()
    assert channel.remove_after is False


def test_dry_run_flag_and_instagrapi_are_unchanged(campaign: Campaign) -> None:
    config = with_outbox(campaign, '[channels.instagram]\nig_user_id = "1784"\n' + S3_HOST)
    setup = build_channels(
        config, dry_run=True, environ={"CAMPAIGN_INSTAGRAM_TOKEN": TOKEN, **S3_ENV}
    )["instagram"]
    assert isinstance(setup.channel, OutboxChannel)
    assert setup.dry_run_reason == "--dry-run was given"
    old = with_outbox(campaign, '[channels.instagram]\nusername = "sodertalje"\n')
    setup = build_channels(old, environ={})["instagram"]
    assert setup.backend == "instagrapi (private API)" and setup.media_host is None
    assert setup.dry_run_reason is not None and "no saved session" in setup.dry_run_reason


# -- status, plan ---------------------------------------------------------------------


def status_text(config: Config) -> str:
    Store.open(config.database_url).close()
    buffer = io.StringIO()
    console = Console(file=buffer, width=300, color_system=None)
    run_status(config, console, console, clock=lambda: NOW)
    return buffer.getvalue()


def test_status_names_each_backend_and_the_media_host(
    campaign: Campaign, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAMPAIGN_INSTAGRAM_TOKEN", TOKEN)
    for name, value in S3_ENV.items():
        monkeypatch.setenv(name, value)
    config = with_outbox(campaign, '[channels.instagram]\nig_user_id = "1784"\n' + S3_HOST)
    text = status_text(config)
    assert "facebook: dry run to the outbox, because [channels.facebook] page_id" in text
    assert "backend Graph API" in text
    assert "instagram: live (instagram-graph)" in text
    assert 'backend graph (the default; write backend = "graph" to say so)' in text
    assert f"media host: the S3 bucket {BUCKET} at https://s3.example.se" in text
    assert TOKEN not in text and SECRET_ACCESS_KEY not in text

    old = with_outbox(campaign, '[channels.instagram]\nusername = "sodertalje"\n')
    text = status_text(old)
    assert (
        'backend instagrapi (from `username`; write backend = "instagrapi" to say so): '
        "Instagram's private API"
    ) in text
    assert "media host" not in text


def test_plan_says_which_backend_and_why_a_dry_run(campaign: Campaign) -> None:
    config = with_outbox(campaign, '[channels.instagram]\nig_user_id = "1784"\n')
    modes = channel_modes(config, environ={})
    assert modes == {
        "facebook": ("Graph API", "[channels.facebook] page_id is empty in config.toml"),
        "instagram": (
            "Graph API (official)",
            "the environment variable CAMPAIGN_INSTAGRAM_TOKEN (the Instagram token) is not set",
        ),
    }
    buffer = io.StringIO()
    Console(file=buffer, width=250, color_system=None).print(plan_table([], NOW, "Plan", {}, modes))
    assert "instagram: Graph API (official); dry run to the outbox, because the " in (
        buffer.getvalue()
    )
    old = with_outbox(campaign, '[channels.instagram]\nusername = "sodertalje"\n')
    assert channel_modes(old, environ={})["instagram"][0] == "instagrapi (private API)"


# -- the dry run ----------------------------------------------------------------------


def test_the_outbox_says_what_would_be_uploaded_where(campaign: Campaign, tmp_path: Path) -> None:
    config = with_outbox(campaign, '[channels.instagram]\nig_user_id = "1784"\n' + S3_HOST)
    setup = build_channels(config, environ=S3_ENV)["instagram"]  # no token: dry run
    outbox = setup.channel
    assert isinstance(outbox, OutboxChannel)
    image = tmp_path / "bild.jpg"
    image.write_bytes(b"\xff\xd8" + b"x" * 1234 + b"\xff\xd9")
    request = PublishRequest(
        post_id="2030-09-15-bra",
        channel="instagram",
        caption="Hej",
        media=(MediaItem(image, "Tre personer.", "ab" * 32),),
        fingerprint="f",
    )
    outbox.publish(request)
    folder = outbox.post_folder("2030-09-15-bra")
    record = json.loads((folder / POST_FILE).read_text(encoding="utf-8"))
    assert record["would_upload"]["files"] == [{"file": "1.jpg", "bytes": 1238}]
    assert f"the S3 bucket {BUCKET}" in record["would_upload"]["media_host"]
    text = (folder / UPLOAD_FILE).read_text(encoding="utf-8")
    assert "nothing was uploaded" in text and "1.jpg  1,238 bytes" in text
    assert SECRET_ACCESS_KEY not in text

    facebook = build_channels(config, environ=S3_ENV)["facebook"].channel
    assert isinstance(facebook, OutboxChannel)
    facebook.publish(request)
    assert "would_upload" not in json.loads(
        (facebook.post_folder("2030-09-15-bra") / POST_FILE).read_text(encoding="utf-8")
    )
    assert not (facebook.post_folder("2030-09-15-bra") / UPLOAD_FILE).exists()
