"""Config that would send a secret somewhere else, or print it (issue 10, items 10 and 12).

The database URL is taken only when well formed, and no command prints its password or
ends in a traceback; every base URL a secret goes to is https (http only to loopback);
``*_env`` keys hold a variable's name, never a secret; every key's type is strict, and
every message names the key and line in plain words.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import requests_mock

from campaign.config import ConfigError, FacebookSection, parse_config
from scheduler import redaction
from scheduler.channels.facebook import _GraphSession
from scheduler.notify import DeliveryError, Notifier, WebhookTarget
from scheduler.store.engine import StoreError, create_store_engine
from tests.conftest import Campaign

INTERNAL_WORDING = ("Input should", "tuple should", "None", "Value error", "after validation")


@pytest.fixture(autouse=True)
def own_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(redaction, "_secrets", set())
    monkeypatch.setattr(redaction, "_url_parts", set(), raising=False)


def canary() -> str:
    return f"Zq{uuid.uuid4().hex[:12]}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def problems(text: str, folder: Path) -> list[str]:
    (folder / "posts").mkdir(exist_ok=True)
    with pytest.raises(ConfigError) as caught:
        parse_config(text, folder / "config.toml")
    messages = [str(d) for d in caught.value.diagnostics]
    for message in messages:
        assert not [w for w in INTERNAL_WORDING if w in message], message
    return messages


# Item 10: the database URL -------------------------------------------------------------


def malformed_urls(secret: str) -> list[str]:
    return [
        f"postgresql+psycopg://campaign:pa/{secret}@db.example/campaign",  # unencoded /
        f"postgresql+psycopg://campaign:{secret}@db.example:fem/campaign",  # port not a number
        f"postgresql+psycopg://campaign:p@{secret}@db.example/campaign",  # unencoded @
        f"postgresql+psycopg://campaign:{secret} x@db.example/campaign",  # a space
        f"notaurl {secret}",
        f"mysql://campaign:{secret}@db.example/campaign",
    ]


def campaign_command(folder: Path, env_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CAMPAIGN_DATABASE_URL": env_url}
    env.pop("CAMPAIGN_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "scheduler.cli", "--config", str(folder / "config.toml"), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_a_malformed_database_url_is_a_message_with_exit_2_and_never_shows_its_password(
    campaign: Campaign,
) -> None:
    campaign.config()
    secret = canary()
    for url in malformed_urls(secret)[:3]:
        for command in (["run"], ["status"], ["export", "-o", str(campaign.root / "x")]):
            done = campaign_command(campaign.root, url, *command)
            output = done.stdout + done.stderr
            assert done.returncode == 2, (url, command, output)
            assert "Traceback" not in output and secret not in output, output
            assert "CAMPAIGN_DATABASE_URL" in output and "config.toml:" in output


def test_an_unreachable_database_with_a_password_is_a_message_without_the_password(
    campaign: Campaign,
) -> None:
    campaign.config()
    secret = canary()
    port = free_port()
    for url in (
        f"postgresql+psycopg://campaign:{secret}@127.0.0.1:{port}/campaign",
        f"postgresql+psycopg://127.0.0.1:{port}/campaign?user=campaign&password={secret}",
        f"postgresql+psycopg://campaign:{secret}%2Fx@127.0.0.1:{port}/campaign",
    ):
        for command in (["run"], ["status"]):
            done = campaign_command(campaign.root, url, *command)
            output = done.stdout + done.stderr
            assert done.returncode == 2, (url, command, output)
            assert "Traceback" not in output and secret not in output, output
            assert f"127.0.0.1:{port}" in output  # where it tried, in words


@pytest.mark.parametrize("index", range(6))
def test_the_engine_refuses_a_malformed_url_without_quoting_it(index: int) -> None:
    secret = canary()
    with pytest.raises(StoreError) as raised:
        create_store_engine(malformed_urls(secret)[index])
    assert secret not in str(raised.value) and "not well formed" in str(raised.value)


def test_the_database_password_is_registered_whole_as_soon_as_the_url_is_used() -> None:
    secret = canary()
    create_store_engine(f"postgresql+psycopg://campaign:{secret}@127.0.0.1:1/campaign").dispose()
    assert redaction.redact(f"psycopg said {secret}") == f"psycopg said {redaction.REDACTED}"
    other = canary()
    create_store_engine(f"postgresql+psycopg://127.0.0.1:1/c?password={other}").dispose()
    assert other not in (redaction.redact(f"x {other} y") or "")


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://campaign:hemligt/lösen@db.example/campaign",
        "postgresql+psycopg://db.example/campaign?password=hemligt9",
        "postgresql+psycopg://db.example:fem/campaign",
    ],
)
def test_config_toml_takes_only_a_well_formed_database_url_without_a_password(
    url: str, tmp_path: Path
) -> None:
    [message] = problems(f'[campaign]\nname = "x"\n[database]\nurl = "{url}"\n', tmp_path)
    assert ":4:1:" in message and "`url` in [database]" in message
    assert "hemligt" not in message


# Item 12: where secrets are sent -------------------------------------------------------


@pytest.mark.parametrize(
    "graph_url",
    [
        "http://graph.facebook.com",
        "http://10.0.0.5:8080",
        "ftp://graph.facebook.com",
        "https://user:Zqpassword@graph.facebook.com",
        "graph.facebook.com",
    ],
)
def test_the_page_token_is_only_sent_over_https(graph_url: str, tmp_path: Path) -> None:
    [message] = problems(f'[channels.facebook]\ngraph_url = "{graph_url}"\n', tmp_path)
    assert ":2:1:" in message and "`graph_url` in [channels.facebook]" in message
    assert ("https://" in message or "user:password@" in message) and "Zqpassword" not in message


@pytest.mark.parametrize(
    "graph_url", ["https://graph.facebook.com", "http://127.0.0.1:8123", "http://localhost:9"]
)
def test_https_or_loopback_graph_urls_are_taken(graph_url: str) -> None:
    assert FacebookSection(graph_url=graph_url).graph_url == graph_url


def test_the_page_token_never_goes_to_another_host() -> None:
    session = _GraphSession("https://graph.facebook.com", "Zq-page-token-123")
    with requests_mock.Mocker() as mock:
        mock.get(requests_mock.ANY, json={})
        session.request("GET", "https://graph.facebook.com/v24.0/me")
        session.request("GET", "https://elsewhere.example/v24.0/me")
    mine, other = mock.request_history
    assert mine.headers["Authorization"] == "Bearer Zq-page-token-123"
    assert "Authorization" not in other.headers


def test_a_webhook_url_must_be_https_except_to_loopback(campaign: Campaign) -> None:
    config = campaign.config()
    secret = canary()
    notifier = Notifier.from_config(
        config, {"CAMPAIGN_ALERT_WEBHOOK": f"http://hooks.example.org/{secret}"}
    )
    [problem] = notifier.problems
    assert "https://" in problem and secret not in problem
    target = WebhookTarget(f"http://hooks.example.org/{secret}", "json", 1, "X")
    with pytest.raises(DeliveryError, match="https://"):
        target.send(None)  # type: ignore[arg-type]
    assert WebhookTarget("http://127.0.0.1:9/hook", "json", 1, "X").problem is None


def test_an_smtp_password_is_never_sent_in_clear_to_another_machine(tmp_path: Path) -> None:
    text = (
        '[notify]\nemail_to = ["a@example.se"]\nsmtp_host = "mail.example.se"\n'
        'smtp_user = "kampanj"\nsmtp_security = "none"\n'
    )
    [message] = problems(text, tmp_path)
    assert ":5:1:" in message and "starttls" in message
    (tmp_path / "posts").mkdir(exist_ok=True)
    local = text.replace("mail.example.se", "127.0.0.1")
    assert parse_config(local, tmp_path / "config.toml").notify.smtp_security == "none"


# Item 12: *_env keys name a variable, never hold the secret ----------------------------


@pytest.mark.parametrize(
    ("table", "key", "value"),
    [
        ("channels.facebook", "token_env", "EAAcanaryNotARealToken2021"),
        ("channels.instagram", "password_env", "hunter2!"),
        ("notify", "smtp_password_env", "Sommar2021"),
        ("notify", "webhook_url_env", "https://hooks.slack.com/services/T0/B0/x"),
        ("database", "url_env", "postgresql://u:p@h/d"),
        ("channels.facebook", "token_env", ""),
    ],
)
def test_env_keys_take_a_variable_name_and_never_echo_a_secret(
    table: str, key: str, value: str, tmp_path: Path
) -> None:
    [message] = problems(f'[{table}]\n{key} = "{value}"\n', tmp_path)
    assert ":2:1:" in message and f"`{key}` in [{table}]" in message
    assert "NAME" in message and "environment" in message
    assert value not in message or not value


@pytest.mark.parametrize("name", ["CAMPAIGN_FACEBOOK_TOKEN", "team_db_url", "_X1"])
def test_ordinary_variable_names_are_taken(name: str, tmp_path: Path) -> None:
    (tmp_path / "posts").mkdir()
    config = parse_config(f'[channels.facebook]\ntoken_env = "{name}"\n', tmp_path / "c.toml")
    assert config.channels.facebook.token_env == name


# Item 12: strict types, plain words ----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[check]\nmax_lix = "45"\n', "`max_lix` in [check] must be a number"),
        ('[channels.facebook]\nenabled = "yes"\n', "must be true or false"),
        ("[channels.instagram]\nenabled = 1\n", "must be true or false"),
        ('[notify]\nsmtp_port = "587"\n', "`smtp_port` in [notify] must be a whole number"),
        ("[render]\nwidth = 1080.5\n", "must be a whole number"),
        ('[engagement]\nages_hours = ["1"]\n', "item 1 of `ages_hours` in [engagement]"),
        ("[engagement]\nages_hours = []\n", "must list at least one value"),
        ('[notify]\nemail_to = "a@example.se"\n', "must be a list in square brackets"),
        ('[brand]\nband_colour = "blue"\n', "#1B365D"),
        ('[channels.facebook]\napi_version = "24"\n', '"v24.0"'),
        ('[render]\nfacebook_ratio = "2:1"\n', "must be one of"),
        ('[campaign]\nhashtags = ["#a", 5]\n', "item 2 of `hashtags` in [campaign]"),
    ],
)
def test_types_are_strict_and_errors_are_in_plain_words(
    text: str, expected: str, tmp_path: Path
) -> None:
    [message] = problems(text, tmp_path)
    assert ":2:1:" in message and expected in message, message


def test_a_secret_key_is_pointed_to_its_own_env_key(tmp_path: Path) -> None:
    [message] = problems('[notify]\nsmtp_password = "Zqhemligt"\n', tmp_path)
    assert "`smtp_password_env`" in message and "token_env" not in message
    assert "Zqhemligt" not in message
