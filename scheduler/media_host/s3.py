"""A media host that is an S3-compatible bucket (``[media_host] kind = "s3"``).

Works with AWS S3 and with S3-compatible stores (MinIO, Ceph, Azure's S3 gateway …)
through ``endpoint_url``. :meth:`S3MediaHost.put` uploads one rendition as a private
object (no public ACL) under ``prefix`` + a name nobody can guess
(``secrets.token_urlsafe(24)`` + ``.jpg``) and hands Meta a presigned GET link (SigV4)
that stops working ``valid_for`` later. Nothing is uploaded before the post is due:
the channel calls ``put`` at publish time, so a campaign image is not in the bucket
(and no link to it exists) before then; ``remove`` deletes the object afterwards when
config says so.

The keys come from environment variables named in config and are given to boto3
explicitly: boto3 never looks for other credentials (profiles, instance metadata). They
are never logged or put in a message, and neither is a presigned link's signature:
botocore's own DEBUG lines print request signatures, so its loggers are kept at WARNING.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from campaign.safe_output import UnsafeOutput, read_regular
from scheduler.media_host.base import HostedImage, MediaHost, MediaHostError
from scheduler.media_host.folder import check_public_url, new_image_name

if TYPE_CHECKING:
    import botocore.exceptions

#: SigV4 presigned links live at most 7 days.
MAX_VALID_FOR = timedelta(days=7)
#: The object keys ``put`` makes after the prefix (see folder.GENERATED_NAME).
_GENERATED = re.compile(r"[A-Za-z0-9_-]{32}\.jpg")

#: Codes S3 (and compatible stores) answer when a later try may work.
_TEMPORARY_CODES = frozenset(
    {
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TooManyRequests",
        "ServiceUnavailable",
        "InternalError",
        "RequestTimeout",
        "OperationAborted",
    }
)


@dataclass(frozen=True)
class S3Settings:
    """``[media_host]`` for ``kind = "s3"`` (secrets only as environment variable names)."""

    bucket: str
    #: "" = AWS itself; an S3-compatible store: ``https://minio.example:9000``.
    endpoint_url: str = ""
    #: "" = us-east-1 (what MinIO and most compatible stores expect).
    region: str = ""
    prefix: str = "campaign/"
    access_key_id_env: str = "CAMPAIGN_S3_ACCESS_KEY_ID"
    secret_access_key_env: str = "CAMPAIGN_S3_SECRET_ACCESS_KEY"
    #: "auto" (path style for a custom endpoint), "path" or "virtual".
    addressing_style: str = "auto"
    #: Seconds to wait for a connection and for an answer.
    timeout: float = 30.0


class S3MediaHost(MediaHost):
    """Private objects in one bucket, shared with Meta through presigned GET links."""

    kind = "s3"

    def __init__(self, settings: S3Settings, access_key_id: str, secret_access_key: str) -> None:
        """A client for ``settings`` with exactly these keys; no network call is made yet.
        A custom endpoint must be https (http only to this computer, for tests): the links
        Meta fetches point at it. Raises :class:`MediaHostError` (never temporary)."""
        if settings.endpoint_url:
            check_public_url(settings.endpoint_url, key="endpoint_url")
        # boto3 is imported only when a bucket is used: a dry run or the folder host never
        # pays its start-up time and memory.
        import boto3.session
        from botocore.config import Config

        self.settings = settings
        self.region = settings.region or "us-east-1"
        _quiet_library_logs()
        session = boto3.session.Session(
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            region_name=self.region,
        )
        config = Config(
            signature_version="s3v4",
            s3={"addressing_style": settings.addressing_style},
            connect_timeout=settings.timeout,
            read_timeout=settings.timeout,
            retries={"mode": "standard", "total_max_attempts": 2},
            # S3-compatible stores do not all know the newer default checksums.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        self._client: Any = session.client(
            "s3", endpoint_url=settings.endpoint_url or None, config=config
        )

    def put(self, path: Path, *, valid_for: timedelta) -> HostedImage:
        """Upload ``path`` as a private JPEG object under a new unguessable key and return a
        presigned GET link that works for ``valid_for`` (whole seconds, rounded up)."""
        seconds = math.ceil(valid_for.total_seconds())
        if not 0 < seconds <= MAX_VALID_FOR.total_seconds():
            raise MediaHostError(
                "An S3 image link must work for between 1 second and 7 days "
                f"(asked for {valid_for}). Correct [media_host] url_expires_minutes.",
                temporary=False,
            )
        try:
            body = read_regular(path)
        except (UnsafeOutput, OSError) as error:
            raise MediaHostError(
                f"campaign could not read the image {path.name} to upload it ({_reason(error)}). "
                "Run campaign render and publish again.",
                temporary=False,
            ) from None
        key = self.settings.prefix + new_image_name()
        self._call(
            "upload the image",
            "put_object",
            Bucket=self.settings.bucket,
            Key=key,
            Body=body,
            ContentType="image/jpeg",
        )
        import botocore.exceptions

        try:
            url = self._client.generate_presigned_url(
                "get_object",
                Params={"Bucket": self.settings.bucket, "Key": key},
                ExpiresIn=seconds,
            )
        except botocore.exceptions.BotoCoreError as error:
            raise MediaHostError(
                f"campaign could not make a link to the uploaded image ({type(error).__name__}).",
                temporary=False,
            ) from None
        return HostedImage(url=url, key=key, expires_at=presigned_expiry(url))

    def remove(self, image: HostedImage) -> None:
        """Delete the object ``put`` made for ``image`` (a missing object is fine: S3
        answers a delete of one with success). Keys ``put`` does not make are refused."""
        prefix = self.settings.prefix
        if not (image.key.startswith(prefix) and _GENERATED.fullmatch(image.key[len(prefix) :])):
            raise MediaHostError(
                f"{image.key!r} is not an image campaign put in the bucket, so it was left alone.",
                temporary=False,
            )
        self._call("delete the image", "delete_object", Bucket=self.settings.bucket, Key=image.key)

    def describe(self) -> str:
        """Where images go: bucket, store and prefix; never a key."""
        where = self.settings.endpoint_url or f"AWS S3 ({self.region})"
        return (
            f"the S3 bucket {self.settings.bucket} at {where}, under {self.settings.prefix!r}, "
            "shared through links that expire"
        )

    def _call(self, doing: str, operation: str, **params: Any) -> Any:
        """One S3 call; every failure becomes a plain-words :class:`MediaHostError`."""
        import botocore.exceptions

        try:
            return getattr(self._client, operation)(**params)
        except botocore.exceptions.ClientError as error:
            raise self._client_error(doing, error) from None
        except (
            botocore.exceptions.ConnectionError,
            botocore.exceptions.HTTPClientError,
        ) as error:
            raise MediaHostError(
                f"campaign could not {doing}: the storage at {self._where()} did not answer "
                f"({type(error).__name__}). It is tried again later.",
                temporary=True,
            ) from None
        except botocore.exceptions.BotoCoreError as error:
            raise MediaHostError(
                f"campaign could not {doing} ({type(error).__name__}).", temporary=False
            ) from None

    def _client_error(self, doing: str, error: botocore.exceptions.ClientError) -> MediaHostError:
        """S3's answer in plain words: what to fix in config or the environment."""
        answer = error.response.get("Error", {})
        code = str(answer.get("Code", ""))
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        s = self.settings
        fixes = {
            "NoSuchBucket": f"the bucket {s.bucket} does not exist at {self._where()}. Create it, "
            "or correct [media_host] bucket (and endpoint_url or region).",
            "AccessDenied": f"the keys in ${s.access_key_id_env} and ${s.secret_access_key_env} "
            f"may not do this in the bucket {s.bucket}. Allow them s3:PutObject, s3:GetObject "
            "and s3:DeleteObject there.",
            "AllAccessDisabled": f"all access to the bucket {s.bucket} is switched off. Use "
            "another bucket in [media_host] bucket.",
            "InvalidAccessKeyId": f"the access key id in ${s.access_key_id_env} is not known at "
            f"{self._where()}. Check that variable (and [media_host] endpoint_url).",
            "SignatureDoesNotMatch": f"the secret access key in ${s.secret_access_key_env} does "
            f"not belong to the access key id in ${s.access_key_id_env}. Check both variables.",
            "InvalidToken": f"the keys in ${s.access_key_id_env} and ${s.secret_access_key_env} "
            "are not accepted. Check both variables.",
            "ExpiredToken": f"the keys in ${s.access_key_id_env} and ${s.secret_access_key_env} "
            "have expired. Make new ones.",
            "AuthorizationHeaderMalformed": f"the bucket {s.bucket} is in another region than "
            f"{self.region}. Correct [media_host] region.",
            "PermanentRedirect": f"the bucket {s.bucket} is in another region than "
            f"{self.region}. Correct [media_host] region (or endpoint_url).",
            "RequestTimeTooSkewed": "this computer's clock is wrong by more than 15 minutes. "
            "Set the time right (switch on time synchronisation).",
        }
        if code in fixes:
            return MediaHostError(f"campaign could not {doing}: {fixes[code]}", temporary=False)
        if code in _TEMPORARY_CODES or status == 429 or status >= 500:
            return MediaHostError(
                f"campaign could not {doing}: the storage at {self._where()} is busy or failing "
                f"({code or status}). It is tried again later.",
                temporary=True,
            )
        return MediaHostError(
            f"campaign could not {doing}: the storage at {self._where()} refused it "
            f"({code or status}). Check the [media_host] settings.",
            temporary=False,
        )

    def _where(self) -> str:
        return self.settings.endpoint_url or f"AWS S3 ({self.region})"


def presigned_expiry(url: str) -> datetime | None:
    """When a SigV4 presigned link stops working: its ``X-Amz-Date`` + ``X-Amz-Expires``."""
    query = parse_qs(urlsplit(url).query)
    try:
        signed = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        return signed + timedelta(seconds=int(query["X-Amz-Expires"][0]))
    except (KeyError, IndexError, ValueError):
        return None


def _quiet_library_logs() -> None:
    """botocore's DEBUG lines hold request and presigned-link signatures: keep them out."""
    for name in ("botocore", "boto3", "s3transfer"):
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.WARNING:
            logger.setLevel(logging.WARNING)


def _reason(error: Exception) -> str:
    return getattr(error, "strerror", None) or str(error) or type(error).__name__


def keys_from(settings: S3Settings, environ: Mapping[str, str]) -> tuple[str, str] | str:
    """The access key id and secret from the environment, or why they are missing."""
    missing = [
        name
        for name in (settings.access_key_id_env, settings.secret_access_key_env)
        if not environ.get(name, "").strip()
    ]
    if missing:
        names = " and ".join(f"${name}" for name in missing)
        return (
            f"{names} {'is' if len(missing) == 1 else 'are'} not set: put the S3 keys for the "
            "bucket in the environment of the campaign service (never in config.toml)."
        )
    return (
        environ[settings.access_key_id_env].strip(),
        environ[settings.secret_access_key_env].strip(),
    )
