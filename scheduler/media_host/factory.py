"""Build the configured media host, or say in plain words why it cannot be built.

A channel without a media host cannot publish through Instagram's official API; the
caller then runs that channel as the outbox and shows the reason (``campaign status``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from scheduler.media_host.base import MediaHost, MediaHostError
from scheduler.media_host.folder import FolderMediaHost, FolderSettings
from scheduler.media_host.s3 import S3MediaHost, S3Settings, keys_from
from scheduler.redaction import register_secret


class BuiltMediaHost(NamedTuple):
    """The host, or None and why not (``reason`` is "" when there is a host)."""

    host: MediaHost | None
    reason: str


def build_media_host(
    settings: S3Settings | FolderSettings, environ: Mapping[str, str]
) -> BuiltMediaHost:
    """The media host ``settings`` describe, with S3 keys read from ``environ``.

    The secret key is registered for redaction as soon as it is read. Nothing is
    contacted here: a wrong bucket or key shows at the first upload.
    """
    if isinstance(settings, FolderSettings):
        if not str(settings.folder).strip() or str(settings.folder) == ".":
            return BuiltMediaHost(None, _missing("folder", "the folder your web server serves"))
        if not settings.base_url.strip():
            return BuiltMediaHost(None, _missing("base_url", "the folder's public https address"))
        try:
            return BuiltMediaHost(FolderMediaHost(settings), "")
        except MediaHostError as error:
            return BuiltMediaHost(None, error.message)
    if not settings.bucket.strip():
        return BuiltMediaHost(None, _missing("bucket", "the S3 bucket images are uploaded to"))
    keys = keys_from(settings, environ)
    if isinstance(keys, str):
        return BuiltMediaHost(None, keys)
    access_key_id, secret_access_key = keys
    register_secret(secret_access_key)
    try:
        return BuiltMediaHost(S3MediaHost(settings, access_key_id, secret_access_key), "")
    except MediaHostError as error:
        return BuiltMediaHost(None, error.message)


def _missing(key: str, what: str) -> str:
    return f"[media_host] {key} is empty: write {what} there."
