"""Media hosts: where Meta fetches Instagram images from (scheduler/media_host/).

The S3 host runs against moto's S3 server on 127.0.0.1 (tests/fakes/s3_server.py), with
presigned links checked as S3 checks them; the folder host against a real folder served
by http.server on 127.0.0.1. Downloads go over real HTTP with requests.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import subprocess
import sys
import threading
import traceback
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from scheduler.media_host import folder as folder_module
from scheduler.media_host.base import HostedImage, MediaHostError
from scheduler.media_host.factory import build_media_host
from scheduler.media_host.folder import FolderMediaHost, FolderSettings
from scheduler.media_host.s3 import S3MediaHost, S3Settings
from scheduler.redaction import redact
from tests.conftest import write_image
from tests.fakes.s3_server import (
    ACCESS_KEY_ID,
    BUCKET,
    SECRET_ACCESS_KEY,
    FakeS3,
    free_port,
)
from tests.fakes.s3_server import s3_server as s3_server

POST_ID = "2021-09-15-demokratidagen"
HOUR = timedelta(hours=1)
CANARY_SECRET = "canary-SECRET-must-never-show-4f1c"
TOKEN_NAME = re.compile(r"[A-Za-z0-9_-]{32}\.jpg")
HTTP_TIMEOUT = 30


@pytest.fixture
def rendition(tmp_path: Path) -> Path:
    """A real JPEG rendition named like the post it belongs to."""
    return write_image(tmp_path / "build" / f"{POST_ID}-instagram.jpg", (1080, 1350))


def s3_host(fake: FakeS3, **changes: Any) -> S3MediaHost:
    key = changes.pop("key", ACCESS_KEY_ID)
    secret = changes.pop("secret", SECRET_ACCESS_KEY)
    settings = S3Settings(bucket=BUCKET, endpoint_url=fake.endpoint, **changes)
    return S3MediaHost(settings, key, secret)


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def signed_at(url: str) -> datetime:
    return datetime.strptime(query(url)["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def get(url: str) -> requests.Response:
    return requests.get(url, timeout=HTTP_TIMEOUT)


def everything_said(records: list[logging.LogRecord], error: BaseException | None) -> str:
    """Every log line and the whole traceback of ``error`` (with its causes), as text."""
    lines = [f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in records]
    if error is not None:
        lines.extend(traceback.format_exception(error))
        lines.append(repr(error))
    return "\n".join(lines)


# S3: what Meta gets.


def test_s3_put_uploads_a_private_object_and_the_link_downloads_its_exact_bytes(
    s3_server: FakeS3, rendition: Path
) -> None:
    host = s3_host(s3_server)

    image = host.put(rendition, valid_for=HOUR)

    answer = get(image.url)
    assert answer.status_code == 200
    assert answer.content == rendition.read_bytes()
    assert answer.headers["Content-Type"] == "image/jpeg"
    assert image.key.startswith("campaign/")
    assert urlsplit(image.url).path == f"/{BUCKET}/{image.key}"
    stored = s3_server.client().head_object(Bucket=BUCKET, Key=image.key)
    assert stored["ContentType"] == "image/jpeg"
    # No public ACL: without the link's signature the object is refused.
    bare = f"{s3_server.endpoint}/{BUCKET}/{image.key}"
    assert get(bare).status_code == 403
    grants = s3_server.client().get_object_acl(Bucket=BUCKET, Key=image.key)["Grants"]
    assert all("AllUsers" not in str(g["Grantee"]) for g in grants)


def test_s3_link_works_for_valid_for_and_is_refused_after_it(
    s3_server: FakeS3, rendition: Path
) -> None:
    image = s3_host(s3_server).put(rendition, valid_for=timedelta(minutes=10))

    params = query(image.url)
    assert params["X-Amz-Expires"] == "600"
    assert params["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert image.expires_at == signed_at(image.url) + timedelta(seconds=600)

    s3_server.now = image.expires_at - timedelta(seconds=1)
    assert get(image.url).status_code == 200
    s3_server.now = image.expires_at + timedelta(seconds=1)
    late = get(image.url)
    assert late.status_code == 403
    assert "Request has expired" in late.text


def test_s3_link_lifetime_rounds_up_and_stays_within_sigv4_limits(
    s3_server: FakeS3, rendition: Path
) -> None:
    host = s3_host(s3_server)

    image = host.put(rendition, valid_for=timedelta(seconds=90.2))
    assert query(image.url)["X-Amz-Expires"] == "91"

    for wrong in (timedelta(0), timedelta(days=7, seconds=1)):
        with pytest.raises(MediaHostError) as caught:
            host.put(rendition, valid_for=wrong)
        assert caught.value.temporary is False
        assert "url_expires_minutes" in caught.value.message


def test_s3_link_cannot_be_stretched_its_expiry_is_signed(
    s3_server: FakeS3, rendition: Path
) -> None:
    image = s3_host(s3_server).put(rendition, valid_for=timedelta(minutes=10))

    stretched = image.url.replace("X-Amz-Expires=600", "X-Amz-Expires=604800")
    s3_server.now = image.expires_at + timedelta(seconds=1)

    refused = get(stretched)
    assert refused.status_code == 403
    assert "SignatureDoesNotMatch" in refused.text


def test_s3_nothing_is_reachable_before_put(s3_server: FakeS3, rendition: Path) -> None:
    """Before publish time there is no object: a link made for it in advance finds nothing."""
    early_key = "campaign/" + folder_module.new_image_name()
    early = s3_server.client().generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": early_key}, ExpiresIn=3600
    )

    assert get(early).status_code in (403, 404)
    listed = s3_server.client().list_objects_v2(Bucket=BUCKET)
    assert listed["KeyCount"] == 0


def test_s3_keys_are_unguessable_new_every_put_and_name_no_post(
    s3_server: FakeS3, rendition: Path
) -> None:
    host = s3_host(s3_server, prefix="ig/")

    keys = [host.put(rendition, valid_for=HOUR) for _ in range(3)]

    assert len({image.key for image in keys}) == 3
    for image in keys:
        assert image.key.startswith("ig/")
        assert TOKEN_NAME.fullmatch(image.key.removeprefix("ig/"))
        assert POST_ID not in image.url
        assert "demokrati" not in image.key


def test_s3_remove_deletes_the_object_and_is_idempotent(s3_server: FakeS3, rendition: Path) -> None:
    host = s3_host(s3_server)
    kept = host.put(rendition, valid_for=HOUR)
    image = host.put(rendition, valid_for=HOUR)

    host.remove(image)

    assert get(image.url).status_code == 404
    host.remove(image)  # gone already: fine
    assert get(kept.url).status_code == 200


def test_s3_remove_refuses_keys_it_did_not_make(s3_server: FakeS3, rendition: Path) -> None:
    client = s3_server.client()
    client.put_object(Bucket=BUCKET, Key="campaign/logo.jpg", Body=b"logo")
    client.put_object(Bucket=BUCKET, Key="other/" + "A" * 32 + ".jpg", Body=b"other")
    host = s3_host(s3_server)

    for key in ("campaign/logo.jpg", "other/" + "A" * 32 + ".jpg", "campaign/../x.jpg"):
        with pytest.raises(MediaHostError) as caught:
            host.remove(HostedImage(url="https://example.invalid/", key=key, expires_at=None))
        assert caught.value.temporary is False

    assert client.list_objects_v2(Bucket=BUCKET)["KeyCount"] == 2


# S3: what goes wrong, and what is never said.


def test_s3_wrong_secret_is_permanent_names_the_variables_and_never_shows_the_secret(
    s3_server: FakeS3, rendition: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    key_id, _ = s3_server.create_keys("campaign")
    host = s3_host(s3_server, key=key_id, secret=CANARY_SECRET)

    with s3_server.enforce_auth(), pytest.raises(MediaHostError) as caught:
        host.put(rendition, valid_for=HOUR)

    error = caught.value
    assert error.temporary is False
    assert "$CAMPAIGN_S3_SECRET_ACCESS_KEY" in error.message
    assert "$CAMPAIGN_S3_ACCESS_KEY_ID" in error.message
    said = everything_said(caplog.records, error)
    assert CANARY_SECRET not in said
    assert s3_server.client().list_objects_v2(Bucket=BUCKET)["KeyCount"] == 0


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("unknown key id", "$CAMPAIGN_S3_ACCESS_KEY_ID is not known"),
        ("not allowed", "s3:PutObject"),
    ],
)
def test_s3_refused_keys_are_permanent_and_say_what_to_fix(
    s3_server: FakeS3, rendition: Path, case: str, expected: str
) -> None:
    if case == "unknown key id":
        key_id, secret = "AKIANOSUCHKEY0000000", CANARY_SECRET
    else:
        key_id, secret = s3_server.create_keys("reader", allowed=False)
    host = s3_host(s3_server, key=key_id, secret=secret)

    with s3_server.enforce_auth(), pytest.raises(MediaHostError) as caught:
        host.put(rendition, valid_for=HOUR)

    assert caught.value.temporary is False
    assert expected in caught.value.message
    assert secret not in everything_said([], caught.value)


def test_s3_missing_bucket_is_permanent_and_named(s3_server: FakeS3, rendition: Path) -> None:
    host = S3MediaHost(
        S3Settings(bucket="no-such-bucket", endpoint_url=s3_server.endpoint),
        ACCESS_KEY_ID,
        SECRET_ACCESS_KEY,
    )

    with pytest.raises(MediaHostError) as caught:
        host.put(rendition, valid_for=HOUR)

    assert caught.value.temporary is False
    assert "no-such-bucket does not exist" in caught.value.message
    assert "[media_host] bucket" in caught.value.message


def test_s3_unreachable_endpoint_is_temporary(rendition: Path, monkeypatch) -> None:
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    endpoint = f"http://127.0.0.1:{free_port()}"
    host = S3MediaHost(
        S3Settings(bucket=BUCKET, endpoint_url=endpoint, timeout=5), ACCESS_KEY_ID, CANARY_SECRET
    )

    with pytest.raises(MediaHostError) as caught:
        host.put(rendition, valid_for=HOUR)

    assert caught.value.temporary is True
    assert endpoint in caught.value.message
    assert CANARY_SECRET not in everything_said([], caught.value)


@pytest.mark.parametrize(("status", "code"), [(503, "SlowDown"), (500, "InternalError")])
def test_s3_throttling_and_server_errors_are_temporary(
    s3_server: FakeS3, rendition: Path, status: int, code: str
) -> None:
    host = s3_host(s3_server)
    s3_server.fail_next(status, code, times=2)  # boto3 tries twice

    with pytest.raises(MediaHostError) as caught:
        host.put(rendition, valid_for=HOUR)

    assert caught.value.temporary is True
    image = host.put(rendition, valid_for=HOUR)  # the storage is back
    assert get(image.url).status_code == 200


def test_s3_no_secret_and_no_link_signature_in_any_log_line(
    s3_server: FakeS3, rendition: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """At DEBUG, through a put, a remove and a failed try: neither the secret key nor the
    signature of a link handed to Meta appears in a log record or an error."""
    caplog.set_level(logging.DEBUG)
    s3_server.credentials[ACCESS_KEY_ID] = CANARY_SECRET
    built = build_media_host(
        S3Settings(bucket=BUCKET, endpoint_url=s3_server.endpoint),
        {
            "CAMPAIGN_S3_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "CAMPAIGN_S3_SECRET_ACCESS_KEY": CANARY_SECRET,
        },
    )
    assert built.host is not None

    image = built.host.put(rendition, valid_for=HOUR)
    built.host.remove(image)
    s3_server.fail_next(503, "SlowDown", times=2)
    with pytest.raises(MediaHostError) as caught:
        built.host.put(rendition, valid_for=HOUR)

    said = everything_said(caplog.records, caught.value)
    assert CANARY_SECRET not in said
    assert query(image.url)["X-Amz-Signature"] not in said
    assert CANARY_SECRET not in built.host.describe()
    assert ACCESS_KEY_ID not in built.host.describe()
    # Read from the environment means registered: redaction knows it from then on.
    assert CANARY_SECRET not in (redact(f"leaked: {CANARY_SECRET}") or "")


# The factory.


def test_build_media_host_says_why_it_cannot(tmp_path: Path) -> None:
    keys = {"CAMPAIGN_S3_ACCESS_KEY_ID": "AKIAEXAMPLE", "CAMPAIGN_S3_SECRET_ACCESS_KEY": "s3cr3t!"}

    no_bucket = build_media_host(S3Settings(bucket=""), keys)
    assert no_bucket.host is None
    assert "[media_host] bucket is empty" in no_bucket.reason

    no_secret = build_media_host(
        S3Settings(bucket=BUCKET), {"CAMPAIGN_S3_ACCESS_KEY_ID": "AKIAEXAMPLE"}
    )
    assert no_secret.host is None
    assert "$CAMPAIGN_S3_SECRET_ACCESS_KEY is not set" in no_secret.reason

    no_keys = build_media_host(
        S3Settings(bucket=BUCKET, access_key_id_env="MY_ID", secret_access_key_env="MY_KEY"), {}
    )
    assert "$MY_ID and $MY_KEY are not set" in no_keys.reason

    no_url = build_media_host(FolderSettings(folder=tmp_path, base_url=""), {})
    assert no_url.host is None
    assert "[media_host] base_url is empty" in no_url.reason

    plain_http = build_media_host(
        FolderSettings(folder=tmp_path, base_url="http://www.example.se/bilder"), {}
    )
    assert plain_http.host is None
    assert "https://" in plain_http.reason

    plain_endpoint = build_media_host(
        S3Settings(bucket=BUCKET, endpoint_url="http://minio.example:9000"), keys
    )
    assert plain_endpoint.host is None
    assert "[media_host] endpoint_url" in plain_endpoint.reason
    assert "https://" in plain_endpoint.reason

    s3 = build_media_host(S3Settings(bucket=BUCKET, region="eu-north-1"), keys)
    assert isinstance(s3.host, S3MediaHost)
    assert s3.reason == ""
    assert "s3cr3t!" not in s3.host.describe()
    folder = build_media_host(
        FolderSettings(folder=tmp_path, base_url="https://www.example.se/bilder/"), {}
    )
    assert isinstance(folder.host, FolderMediaHost)


# The folder host.


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A real folder served by http.server on 127.0.0.1: (folder, base URL)."""
    folder = tmp_path / "www" / "bilder"
    folder.mkdir(parents=True)

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            """No access log in the test output."""

    handler = functools.partial(Quiet, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield folder, f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=30)


def test_folder_put_copies_under_an_unguessable_name_that_is_served(
    served: tuple[Path, str], rendition: Path
) -> None:
    folder, base_url = served
    host = FolderMediaHost(FolderSettings(folder=folder, base_url=base_url))

    first = host.put(rendition, valid_for=HOUR)
    second = host.put(rendition, valid_for=HOUR)

    assert first.key != second.key
    for image in (first, second):
        assert TOKEN_NAME.fullmatch(image.key)
        assert image.url == base_url.rstrip("/") + "/" + image.key
        assert image.expires_at is None
        assert POST_ID not in image.url
        assert (folder / image.key).read_bytes() == rendition.read_bytes()
        answer = get(image.url)
        assert answer.status_code == 200
        assert answer.content == rendition.read_bytes()
    assert sorted(p.name for p in folder.iterdir()) == sorted([first.key, second.key])


def test_folder_remove_deletes_only_that_file_and_is_idempotent(
    served: tuple[Path, str], rendition: Path
) -> None:
    folder, base_url = served
    (folder / "index.html").write_text("kommunens sida")
    host = FolderMediaHost(FolderSettings(folder=folder, base_url=base_url))
    kept = host.put(rendition, valid_for=HOUR)
    image = host.put(rendition, valid_for=HOUR)

    host.remove(image)
    host.remove(image)

    assert get(image.url).status_code == 404
    assert get(kept.url).status_code == 200
    assert sorted(p.name for p in folder.iterdir()) == sorted(["index.html", kept.key])
    with pytest.raises(MediaHostError) as caught:
        host.remove(HostedImage(url=base_url + "index.html", key="index.html", expires_at=None))
    assert caught.value.temporary is False
    assert (folder / "index.html").exists()


def test_folder_that_is_a_link_is_refused(tmp_path: Path, rendition: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "bilder"
    link.symlink_to(real, target_is_directory=True)

    with pytest.raises(MediaHostError) as caught:
        FolderMediaHost(FolderSettings(folder=link, base_url="https://www.example.se/b"))
    assert caught.value.temporary is False
    assert "symbolic link" in caught.value.message

    # A real folder swapped for a link after start: nothing is written through it.
    served_dir = tmp_path / "served"
    served_dir.mkdir()
    host = FolderMediaHost(FolderSettings(folder=served_dir, base_url="https://example.se/b"))
    served_dir.rmdir()
    served_dir.symlink_to(real, target_is_directory=True)
    with pytest.raises(MediaHostError):
        host.put(rendition, valid_for=HOUR)
    with pytest.raises(MediaHostError):
        host.remove(
            HostedImage(url="https://example.se/b/x", key="A" * 32 + ".jpg", expires_at=None)
        )
    assert list(real.iterdir()) == []


def test_folder_link_at_the_new_name_is_never_written_through_or_deleted(
    tmp_path: Path, rendition: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "bilder"
    folder.mkdir()
    outside = tmp_path / "secret.txt"
    outside.write_text("not for the web")
    name = "B" * 32 + ".jpg"
    (folder / name).symlink_to(outside)
    monkeypatch.setattr(folder_module, "new_image_name", lambda: name)
    host = FolderMediaHost(FolderSettings(folder=folder, base_url="https://www.example.se/b"))

    with pytest.raises(MediaHostError) as caught:
        host.put(rendition, valid_for=HOUR)
    assert caught.value.temporary is False
    with pytest.raises(MediaHostError):
        host.remove(HostedImage(url="https://www.example.se/b/" + name, key=name, expires_at=None))

    assert outside.read_text() == "not for the web"
    assert os.path.islink(folder / name)
    assert [p.name for p in folder.iterdir()] == [name]  # no temporary file left behind


@pytest.mark.parametrize(
    ("base_url", "words"),
    [
        ("http://www.example.se/bilder", "https://"),
        ("ftp://www.example.se/bilder", "https://"),
        ("https://user:pass@www.example.se/bilder", "user name or password"),
        ("https://www.example.se/bilder?x=1", "without ?"),
    ],
)
def test_folder_base_url_must_be_plain_https(tmp_path: Path, base_url: str, words: str) -> None:
    with pytest.raises(MediaHostError) as caught:
        FolderMediaHost(FolderSettings(folder=tmp_path, base_url=base_url))
    assert caught.value.temporary is False
    assert words in caught.value.message
    assert "pass@" not in caught.value.message or "user:pass" in base_url


def test_folder_must_exist_and_be_a_folder(tmp_path: Path) -> None:
    a_file = tmp_path / "fil.txt"
    a_file.write_text("x")
    for folder, words in ((tmp_path / "saknas", "does not exist"), (a_file, "is a file")):
        with pytest.raises(MediaHostError) as caught:
            FolderMediaHost(FolderSettings(folder=folder, base_url="https://example.se/b"))
        assert words in caught.value.message
    local = FolderMediaHost(FolderSettings(folder=tmp_path, base_url="http://localhost:8000/"))
    assert local.describe() == f"the folder {tmp_path}, served at http://localhost:8000/"


REPOSITORY = Path(__file__).resolve().parent.parent


def test_boto3_is_loaded_only_when_a_bucket_is_used(tmp_path: Path) -> None:
    """A dry run or the folder host never pays boto3's start-up time and memory."""
    program = (
        "import sys\n"
        "from scheduler.channels.factory import build_channels\n"
        "from scheduler.media_host import factory, folder, s3\n"
        "from pathlib import Path\n"
        "from campaign.config import load_config\n"
        f"build_channels(load_config(Path({str(REPOSITORY / 'config.toml')!r})), dry_run=True)\n"
        "assert 'boto3' not in sys.modules and 'botocore' not in sys.modules, 'loaded'\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
