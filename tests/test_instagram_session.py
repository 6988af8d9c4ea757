"""The Instagram session file, the hardened client, and the interactive login."""

from __future__ import annotations

import builtins
import json
import socket
import stat
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from instagrapi.exceptions import ChallengeRequired

from campaign.config import InstagramSection
from scheduler.channels.instagram_session import (
    PAUSE_SECONDS,
    InstagramLoginProblem,
    SessionClient,
    UnsafeSessionFile,
    enforce_timeout,
    load_client,
    login_interactively,
    new_client,
    save_client,
)
from scheduler.redaction import REDACTED, redact
from tests.fakes.instagram_api import (
    EMAIL_CODE,
    PASSWORD,
    SMS_CODE,
    TOTP_SEED,
    USERNAME,
    FakeInstagram,
)
from tests.fakes.instagram_api import fake_instagram as fake_instagram  # the fixture

TIMEOUT = 4.0


@pytest.fixture(autouse=True)
def no_typing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only ``ask`` may ask anything; input() never."""

    def refuse(*args: object) -> str:
        raise AssertionError("input() was called")

    monkeypatch.setattr(builtins, "input", refuse)


@pytest.fixture
def settings() -> InstagramSection:
    return InstagramSection(username=USERNAME)


class Asker:
    """Stands in for the terminal: records the prompts, gives canned answers."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.prompts: list[str] = []

    def __call__(self, prompt: str) -> str:
        self.prompts.append(prompt)
        if not self.answers:
            raise AssertionError(f"unexpected question: {prompt}")
        return self.answers.pop(0)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -- the session file ---------------------------------------------------------------------------


def test_save_writes_mode_0600_in_private_new_folders(tmp_path: Path) -> None:
    path = tmp_path / "config" / "campaign" / "instagram-session.json"

    save_client(new_client(TIMEOUT), path)

    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700
    assert mode(path.parent.parent) == 0o700
    assert "uuids" in json.loads(path.read_text())
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left


def test_save_replaces_a_readable_file_with_a_private_one(tmp_path: Path) -> None:
    path = tmp_path / "instagram-session.json"
    path.write_text("{}")
    path.chmod(0o644)

    save_client(new_client(TIMEOUT), path)

    assert mode(path) == 0o600


def test_load_refuses_a_session_file_others_can_read(
    settings: InstagramSection, fake_instagram: FakeInstagram, tmp_path: Path
) -> None:
    path = fake_instagram.saved_session(tmp_path)
    path.chmod(0o640)

    with pytest.raises(UnsafeSessionFile) as caught:
        load_client(settings, path, TIMEOUT)

    assert f"chmod 600 {path}" in str(caught.value)


def test_session_files_inside_a_git_work_tree_are_refused(
    settings: InstagramSection, fake_instagram: FakeInstagram, tmp_path: Path
) -> None:
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    path = fake_instagram.saved_session(tmp_path / "repo" / "secrets")

    with pytest.raises(UnsafeSessionFile, match="git work tree"):
        load_client(settings, path, TIMEOUT)
    with pytest.raises(UnsafeSessionFile, match="git work tree"):
        save_client(new_client(TIMEOUT), tmp_path / "repo" / "other.json")
    assert not (tmp_path / "repo" / "other.json").exists()


def test_a_missing_session_file_says_to_log_in(settings: InstagramSection, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="campaign login instagram"):
        load_client(settings, tmp_path / "missing.json", TIMEOUT)


def test_a_loaded_session_keeps_its_device_and_works(
    settings: InstagramSection, fake_instagram: FakeInstagram, tmp_path: Path
) -> None:
    path = fake_instagram.saved_session(tmp_path)
    saved = json.loads(path.read_text())

    client = load_client(settings, path, TIMEOUT)
    account = client.account_info()
    save_client(client, path)

    assert account.username == USERNAME
    again = json.loads(path.read_text())
    assert again["uuids"] == saved["uuids"]
    assert again["device_settings"] == saved["device_settings"]
    assert again["authorization_data"]["sessionid"] == saved["authorization_data"]["sessionid"]


def test_a_loaded_session_registers_its_secrets(
    settings: InstagramSection, fake_instagram: FakeInstagram, tmp_path: Path
) -> None:
    path = fake_instagram.saved_session(tmp_path, token="tokenForRedaction42")

    client = load_client(settings, path, TIMEOUT)

    assert redact(f"cookie {client.sessionid} end") == f"cookie {REDACTED} end"
    assert redact(f"header {client.authorization}") == f"header {REDACTED}"


# -- the hardened client ------------------------------------------------------------------------


def test_the_loaded_client_never_asks_and_never_retries_by_itself(
    settings: InstagramSection, fake_instagram: FakeInstagram, tmp_path: Path
) -> None:
    client = load_client(settings, fake_instagram.saved_session(tmp_path), TIMEOUT)

    assert client.with_challenge_flow is False
    with pytest.raises(ChallengeRequired, match="campaign login instagram"):
        client.challenge_code_handler(USERNAME, None)
    with pytest.raises(ChallengeRequired, match="campaign login instagram"):
        client.change_password_handler(USERNAME)
    assert client.session_retry_total == 0
    assert client.public_request_retries_count == 1
    assert client.request_timeout == PAUSE_SECONDS  # instagrapi's pause, not a timeout


def test_every_session_of_the_client_gets_the_timeout(
    settings: InstagramSection, fake_instagram: FakeInstagram, tmp_path: Path
) -> None:
    client = load_client(settings, fake_instagram.saved_session(tmp_path), TIMEOUT)

    client.account_info()
    client.password_publickeys()  # instagrapi's public session
    client.usdid_register()  # its GraphQL www endpoint

    assert len(fake_instagram.requests) == 3
    assert {r.timeout for r in fake_instagram.requests} == {TIMEOUT}


def test_an_explicit_timeout_is_kept_and_wrapping_twice_does_not_nest() -> None:
    session = requests.Session()
    seen: list[object] = []
    session.request = lambda method, url, *a, **kw: seen.append(kw.get("timeout"))  # type: ignore[method-assign]

    enforce_timeout(session, 3)
    enforce_timeout(session, 5)
    session.request("GET", "https://example.invalid/")
    session.request("GET", "https://example.invalid/", timeout=30)

    assert seen == [5, 30]


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A loopback TCP server that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    server.close()


@pytest.mark.parametrize("transport", ["curl", "requests"])
def test_the_timeout_reaches_both_private_transports(
    silent_server: int, monkeypatch: pytest.MonkeyPatch, transport: str
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    client = new_client(0.5)
    client.set_retry_config(private_transport=transport)
    url = f"http://127.0.0.1:{silent_server}/api/v1/accounts/current_user/"
    errors: list[Exception] = []

    def call() -> None:
        try:
            client.private.get(url)
        except Exception as exc:
            errors.append(exc)

    started = time.monotonic()
    caller = threading.Thread(target=call, daemon=True)
    caller.start()
    caller.join(60)  # a bound for a broken timeout, not a measure of it

    assert not caller.is_alive(), "no timeout: the request is still waiting"
    assert time.monotonic() - started > 0.4
    [error] = errors
    # With retries off, requests reports a read timeout as a ConnectionError; curl as a Timeout.
    assert isinstance(error, requests.exceptions.RequestException)
    said = f"{type(error).__name__} {error}"
    assert "Timeout" in said or "timed out" in said


# -- byte-exact uploads ---------------------------------------------------------------------------


def test_a_feed_ready_jpeg_is_uploaded_byte_for_byte(
    settings: InstagramSection, fake_instagram: FakeInstagram, tmp_path: Path
) -> None:
    from PIL import Image

    path = tmp_path / "r.jpg"
    Image.new("RGB", (1080, 1080), (200, 10, 10)).save(path, "JPEG", quality=95)
    client = load_client(settings, fake_instagram.saved_session(tmp_path), TIMEOUT)

    first, width, height = client.photo_rupload(path, to_album=True)
    second, _, _ = client.photo_rupload(path, to_album=True)

    upload = fake_instagram.uploads[first]
    assert (width, height) == (1080, 1080)
    assert upload.size == path.stat().st_size
    assert upload.is_sidecar
    assert first != second  # two uploads in one millisecond still get their own ids


# -- logging in ----------------------------------------------------------------------------------


def login(
    settings: InstagramSection, path: Path, ask: Callable[[str], str], **kwargs: object
) -> str:
    return login_interactively(settings, path, PASSWORD, ask, timeout=TIMEOUT, **kwargs)


def test_login_saves_a_working_session(
    settings: InstagramSection, fake_instagram: FakeInstagram, tmp_path: Path
) -> None:
    path = tmp_path / "conf" / "instagram-session.json"

    said = login(settings, path, Asker())

    assert said == f"logged in as {USERNAME}; session saved to {path}"
    assert mode(path) == 0o600
    assert fake_instagram.logins == 1
    client = load_client(settings, path, TIMEOUT)
    assert client.sessionid in fake_instagram.sessions
    assert client.account_info().username == USERNAME


def test_login_with_a_totp_seed_asks_nothing(
    settings: InstagramSection, fake_instagram: FakeInstagram, tmp_path: Path
) -> None:
    fake_instagram.two_factor = "totp"
    ask = Asker()

    login(settings, tmp_path / "s.json", ask, totp_seed=TOTP_SEED.lower())

    assert ask.prompts == []
    assert fake_instagram.logins == 1


def test_login_asks_for_the_two_factor_code(
    settings: InstagramSection, fake_instagram: FakeInstagram, tmp_path: Path
) -> None:
    fake_instagram.two_factor = "sms"
    ask = Asker(f" {SMS_CODE} ")

    login(settings, tmp_path / "s.json", ask)

    assert ask.prompts == ["Code from your authenticator app or SMS: "]
    assert fake_instagram.logins == 1
    assert (tmp_path / "s.json").exists()


def test_a_wrong_two_factor_code_is_a_clear_problem(
    settings: InstagramSection, fake_instagram: FakeInstagram, tmp_path: Path
) -> None:
    fake_instagram.two_factor = "sms"

    with pytest.raises(InstagramLoginProblem, match="did not accept the two-factor code"):
        login(settings, tmp_path / "s.json", Asker("000000"))

    assert not (tmp_path / "s.json").exists()


def test_a_wrong_password_is_a_clear_problem_without_the_password(
    settings: InstagramSection, fake_instagram: FakeInstagram, tmp_path: Path
) -> None:
    fake_instagram.password = "the real one"

    with pytest.raises(InstagramLoginProblem) as caught:
        login(settings, tmp_path / "s.json", Asker())

    assert "did not accept the username and password" in str(caught.value)
    assert PASSWORD not in str(caught.value) and PASSWORD not in repr(caught.value)
    assert caught.value.__cause__ is None
    assert not (tmp_path / "s.json").exists()


def test_a_challenge_during_login_asks_for_the_emailed_code(
    settings: InstagramSection, fake_instagram: FakeInstagram, tmp_path: Path
) -> None:
    fake_instagram.challenge_on_login = True
    ask = Asker(EMAIL_CODE)

    login(settings, tmp_path / "s.json", ask)

    [prompt] = ask.prompts
    assert "security code" in prompt and "e-mail" in prompt
    assert fake_instagram.requests_to("/challenge/")
    saved = load_client(settings, tmp_path / "s.json", TIMEOUT)
    assert saved.with_challenge_flow is False  # the daemon never resolves challenges


def test_logging_in_again_keeps_the_device(
    settings: InstagramSection, fake_instagram: FakeInstagram, tmp_path: Path
) -> None:
    path = tmp_path / "s.json"
    login(settings, path, Asker())
    first = json.loads(path.read_text())
    fake_instagram.log_everyone_out()

    login(settings, path, Asker())

    second = json.loads(path.read_text())
    assert fake_instagram.logins == 2
    assert second["uuids"] == first["uuids"]
    assert second["authorization_data"]["sessionid"] != first["authorization_data"]["sessionid"]


def test_login_refuses_a_session_file_in_git(
    settings: InstagramSection, fake_instagram: FakeInstagram, tmp_path: Path
) -> None:
    (tmp_path / ".git").mkdir()

    with pytest.raises(InstagramLoginProblem, match="git work tree"):
        login(settings, tmp_path / "s.json", Asker())

    assert fake_instagram.requests == []


def test_login_refuses_a_session_of_another_account(
    fake_instagram: FakeInstagram, tmp_path: Path
) -> None:
    with pytest.raises(InstagramLoginProblem, match=f"belongs to @{USERNAME}"):
        login(InstagramSection(username="someone.else"), tmp_path / "s.json", Asker())

    assert not (tmp_path / "s.json").exists()


def test_a_new_client_is_a_session_client() -> None:
    assert isinstance(new_client(TIMEOUT), SessionClient)
