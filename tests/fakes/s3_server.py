"""A real S3 protocol server on 127.0.0.1: moto's server mode, stricter where moto is lax.

moto (5.x) answers the S3 protocol over real HTTP, keeps objects, refuses an unsigned GET
of a private object, and with :meth:`FakeS3.enforce_auth` checks header-signed requests
like S3 (unknown key id, wrong signature, no permission). It does *not* check presigned
links: a tampered signature or a link long past its expiry still downloads (and with
auth enforced a presigned GET crashes, 500). So this fake puts a small WSGI check in
front of moto that verifies every presigned (query-signed) request as S3 does: the key
id must be known, the SigV4 signature must match, and the request must come between
signing and ``X-Amz-Date`` + ``X-Amz-Expires``. Time on the fake is what the test says:
:attr:`FakeS3.now` (None: the moment the link was signed). Nothing reads the wall clock.

Failures are data: :meth:`FakeS3.fail_next` makes the next SDK (header-signed) requests
answer an S3 error such as 503 SlowDown.
"""

from __future__ import annotations

import hmac
import json
import socket
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests

ACCESS_KEY_ID = "AKIAFAKEFORTESTS0001"
SECRET_ACCESS_KEY = "fake-secret-for-the-loopback-s3-server"
REGION = "us-east-1"
BUCKET = "campaign-media"

#: S3 refuses a request signed more than this far in the future.
_CLOCK_SKEW = timedelta(minutes=15)

StartResponse = Callable[..., Any]


def _error(status: str, code: str, message: str) -> tuple[str, bytes]:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    )
    return status, body.encode()


@dataclass
class FakeS3:
    """The running server: its endpoint, the keys it knows, its clock and scripted errors."""

    endpoint: str
    #: Access key id → secret, for checking presigned links.
    credentials: dict[str, str] = field(default_factory=dict)
    #: The fake's "now" for presigned links; None: the moment each link was signed.
    now: datetime | None = None
    #: Presigned requests seen: (status, path), in order.
    presigned: list[tuple[int, str]] = field(default_factory=list)
    _failures: deque[tuple[int, str]] = field(default_factory=deque)

    def fail_next(self, status: int, code: str, times: int = 1) -> None:
        """Answer the next ``times`` SDK requests with S3 error ``code`` and ``status``."""
        self._failures.extend([(status, code)] * times)

    def client(self, service: str = "s3", key: str = ACCESS_KEY_ID, secret: str = "") -> Any:
        """A boto3 client to this server (explicit endpoint and keys, nothing looked up)."""
        import boto3

        session = boto3.session.Session(
            aws_access_key_id=key,
            aws_secret_access_key=secret or self.credentials.get(key, SECRET_ACCESS_KEY),
            region_name=REGION,
        )
        return session.client(service, endpoint_url=self.endpoint)

    def create_keys(self, user: str, *, allowed: bool = True) -> tuple[str, str]:
        """An IAM user with an access key (allowed everything on S3, or nothing)."""
        iam = self.client("iam")
        iam.create_user(UserName=user)
        key = iam.create_access_key(UserName=user)["AccessKey"]
        if allowed:
            policy = {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
            }
            iam.put_user_policy(UserName=user, PolicyName="s3", PolicyDocument=json.dumps(policy))
        self.credentials[key["AccessKeyId"]] = key["SecretAccessKey"]
        return key["AccessKeyId"], key["SecretAccessKey"]

    @contextmanager
    def enforce_auth(self) -> Iterator[None]:
        """moto checks header-signed requests (key id known, signature, IAM policy) inside."""
        requests.post(f"{self.endpoint}/moto-api/reset-auth", data=b"0", timeout=30)
        try:
            yield
        finally:
            requests.post(f"{self.endpoint}/moto-api/reset-auth", data=b"inf", timeout=30)

    # The WSGI check in front of moto.

    def wrap(self, app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
        def strict(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
            query = environ.get("QUERY_STRING", "")
            if "X-Amz-Signature=" in query and "HTTP_AUTHORIZATION" not in environ:
                refusal = self._check_presigned(environ, query)
                path = environ.get("PATH_INFO", "")
                if refusal is not None:
                    self.presigned.append((int(refusal[0][:3]), path))
                    return _answer(start_response, *refusal)
                captured: list[int] = []

                def recording(status: str, *args: Any) -> Any:
                    captured.append(int(status[:3]))
                    return start_response(status, *args)

                result = app(environ, recording)
                self.presigned.append((captured[0] if captured else 0, path))
                return result
            if "HTTP_AUTHORIZATION" in environ and self._failures:
                status, code = self._failures.popleft()
                reason = {429: "Too Many Requests", 500: "Internal Server Error"}.get(
                    status, "Service Unavailable"
                )
                return _answer(start_response, *_error(f"{status} {reason}", code, code))
            return app(environ, start_response)

        return strict

    def _check_presigned(self, environ: dict[str, Any], query: str) -> tuple[str, bytes] | None:
        """None if the presigned request is good, else S3's refusal (status, body)."""
        from botocore.auth import S3SigV4QueryAuth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        params = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
        try:
            key_id, day, region, service, _ = params["X-Amz-Credential"].split("/")
            signed_at = datetime.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
            signed_at = signed_at.replace(tzinfo=UTC)
            expires = timedelta(seconds=int(params["X-Amz-Expires"]))
            signature = params["X-Amz-Signature"]
        except (KeyError, ValueError):
            return _error("400 Bad Request", "AuthorizationQueryParametersError", "Bad query.")
        secret = self.credentials.get(key_id)
        if secret is None:
            return _error("403 Forbidden", "InvalidAccessKeyId", "Unknown access key id.")
        host = environ.get("HTTP_HOST", "")
        unsigned = "&".join(p for p in query.split("&") if not p.startswith("X-Amz-Signature="))
        path = environ.get("RAW_URI", "").split("?")[0] or environ.get("PATH_INFO", "")
        request = AWSRequest(
            method=environ["REQUEST_METHOD"],
            url=f"http://{host}{path}?{unsigned}",
            headers={"host": host},
        )
        request.context["timestamp"] = params["X-Amz-Date"]
        signer = S3SigV4QueryAuth(Credentials(key_id, secret), service, region)
        canonical = signer.canonical_request(request)
        expected = signer.signature(signer.string_to_sign(request, canonical), request)
        if day != params["X-Amz-Date"][:8] or not hmac.compare_digest(expected, signature):
            return _error("403 Forbidden", "SignatureDoesNotMatch", "Signature does not match.")
        now = self.now or signed_at
        if now > signed_at + expires:
            return _error("403 Forbidden", "AccessDenied", "Request has expired")
        if now < signed_at - _CLOCK_SKEW:
            return _error("403 Forbidden", "AccessDenied", "Request is not valid yet")
        return None


def _answer(start_response: StartResponse, status: str, body: bytes) -> list[bytes]:
    start_response(
        status, [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))]
    )
    return [body]


def free_port() -> int:
    """A loopback port nothing listens on (bound, then closed again)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def s3_server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeS3]:
    """moto's S3 on 127.0.0.1 (a free port) with the bucket :data:`BUCKET`, stopped after.

    AWS variables are set to dummies and the config files pointed at nothing, so boto3
    never finds a real profile, and the instance metadata service is switched off.
    """
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "dummy-access-key-id")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "dummy-secret-access-key")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, "127.0.0.1,localhost")

    class QuietHandler(MotoRequestHandler):
        def log_request(self, *args: Any, **kwargs: Any) -> None:
            """No access log: it would print presigned links with their signatures."""

    fake = FakeS3(endpoint="", credentials={ACCESS_KEY_ID: SECRET_ACCESS_KEY})
    app = fake.wrap(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.endpoint = f"http://127.0.0.1:{server.server_port}"
    try:
        fake.client().create_bucket(Bucket=BUCKET)
        yield fake
    finally:
        requests.post(f"{fake.endpoint}/moto-api/reset-auth", data=b"inf", timeout=30)
        requests.post(f"{fake.endpoint}/moto-api/reset", timeout=30)
        server.shutdown()
        server.server_close()
        thread.join(timeout=30)


__all__ = ["ACCESS_KEY_ID", "BUCKET", "REGION", "SECRET_ACCESS_KEY", "FakeS3", "free_port"]
