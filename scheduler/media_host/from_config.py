"""[media_host] in config.toml mapped onto the media host settings, and the host built."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

from campaign.config import Config
from scheduler.media_host.factory import BuiltMediaHost, build_media_host
from scheduler.media_host.folder import FolderSettings
from scheduler.media_host.s3 import S3Settings


def media_host_settings(config: Config) -> S3Settings | FolderSettings:
    """The settings of the configured kind (a relative folder is relative to config.toml)."""
    section = config.media_host
    if section.kind == "folder":
        folder = config.path(section.folder) if section.folder.strip() else Path("")
        return FolderSettings(folder=folder, base_url=section.base_url)
    return S3Settings(
        bucket=section.bucket,
        endpoint_url=section.endpoint_url,
        region=section.region,
        prefix=section.prefix,
        access_key_id_env=section.access_key_id_env,
        secret_access_key_env=section.secret_access_key_env,
        addressing_style=section.addressing_style,
        timeout=config.publishing.request_timeout_seconds,
    )


def media_host_from_config(config: Config, environ: Mapping[str, str]) -> BuiltMediaHost:
    """The host, or None and the plain reason it cannot be built (never a secret)."""
    return build_media_host(media_host_settings(config), environ)


def url_valid_for(config: Config) -> timedelta:
    """How long a hosted image's link works: [media_host] url_expires_minutes."""
    return timedelta(minutes=config.media_host.url_expires_minutes)
