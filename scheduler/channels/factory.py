"""Build the channels from config.toml and the environment.

A channel runs for real only when its settings and its secret are both there;
otherwise it is the outbox, and the reason is given so the operator can tell a
dry run from a misconfiguration. Instagram goes through Meta's official API
(``backend = "graph"``, which also needs a media host) or instagrapi.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from campaign.config import ChannelName, Config
from scheduler.channels.base import Channel
from scheduler.channels.outbox import OutboxChannel
from scheduler.clock import Clock, system_clock
from scheduler.redaction import register_secret

if TYPE_CHECKING:
    from scheduler.media_host.factory import BuiltMediaHost

#: What each backend is, in the words status and plan use.
BACKEND_LABELS = {
    "facebook": "Graph API",
    "graph": "Graph API (official)",
    "instagrapi": "instagrapi (private API)",
}


@dataclass(frozen=True)
class ChannelSetup:
    """A channel ready to use, and why it is a dry run (None when it is real).

    ``backend`` says how the channel reaches its platform; ``media_host`` where the images
    of Instagram's official API go (its description, or why there is none), None when the
    channel uploads to the platform itself."""

    channel: Channel
    dry_run_reason: str | None
    backend: str = ""
    media_host: str | None = None

    @property
    def description(self) -> str:
        if self.dry_run_reason is None:
            return f"{self.channel.name}: live ({self.channel.kind})"
        return f"{self.channel.name}: dry run to the outbox, because {self.dry_run_reason}"


def backend_label(config: Config, name: ChannelName) -> str:
    """``Graph API`` (Facebook), ``Graph API (official)`` or ``instagrapi (private API)``."""
    return BACKEND_LABELS["facebook" if name == "facebook" else config.instagram_backend]


def backend_line(config: Config, name: ChannelName) -> str:
    """The backend and, when config.toml does not name it, how it was chosen."""
    if name == "facebook":
        return f"backend {BACKEND_LABELS['facebook']}"
    backend = config.instagram_backend
    note = config.instagram_backend_note
    what = "Meta's official API" if backend == "graph" else "Instagram's private API"
    return f"backend {backend}" + (f" ({note})" if note else "") + f": {what}"


def build_channels(
    config: Config,
    *,
    dry_run: bool = False,
    environ: Mapping[str, str] | None = None,
    clock: Clock = system_clock,
) -> dict[ChannelName, ChannelSetup]:
    """One setup per enabled channel; ``dry_run`` forces the outbox for all."""
    env = os.environ if environ is None else environ
    setups: dict[ChannelName, ChannelSetup] = {}
    for name in config.enabled_channels:
        backend = backend_label(config, name)
        if name == "instagram" and config.instagram_backend == "graph":
            setups[name] = _graph_setup(config, env, dry_run, clock)
            continue
        reason = "--dry-run was given" if dry_run else _missing(config, name, env)
        if reason is not None:
            outbox = OutboxChannel(name, config.outbox_dir, clock, root=config.base_dir)
            setups[name] = ChannelSetup(outbox, reason, backend)
        else:
            setups[name] = ChannelSetup(_live(config, name, env), None, backend)
    return setups


def _missing(config: Config, name: ChannelName, env: Mapping[str, str]) -> str | None:
    if name == "facebook":
        facebook = config.channels.facebook
        if not facebook.page_id:
            return "[channels.facebook] page_id is empty in config.toml"
        if not env.get(facebook.token_env):
            return f"the environment variable {facebook.token_env} (the Page token) is not set"
        return None
    instagram = config.channels.instagram
    if not instagram.username:
        return "[channels.instagram] username is empty in config.toml"
    if not session_file(config).is_file():
        return (
            f"there is no saved session at {session_file(config)}: "
            "run `campaign login instagram` first"
        )
    return None


def session_file(config: Config) -> Path:
    """Where the Instagram session is kept (``~`` expanded, relative to config.toml)."""
    return config.path(config.channels.instagram.session_file)


def _live(config: Config, name: ChannelName, env: Mapping[str, str]) -> Channel:
    timeout = config.publishing.request_timeout_seconds
    if name == "facebook":
        from scheduler.channels.facebook import FacebookChannel

        settings = config.channels.facebook
        return FacebookChannel(settings, env[settings.token_env], timeout)
    from scheduler.channels.instagram import InstagramChannel

    settings_ig = config.channels.instagram
    return InstagramChannel(
        settings_ig, session_file(config), env.get(settings_ig.password_env), timeout
    )


def channel_modes(
    config: Config, environ: Mapping[str, str] | None = None
) -> dict[ChannelName, tuple[str, str | None]]:
    """(backend, why it is a dry run or None) per enabled channel, for `campaign plan`:
    nothing is built, and the media host (boto3) only when it is the last question."""
    env = os.environ if environ is None else environ
    modes: dict[ChannelName, tuple[str, str | None]] = {}
    for name in config.enabled_channels:
        if name == "instagram" and config.instagram_backend == "graph":
            from scheduler.media_host.from_config import media_host_from_config

            reason = _graph_missing(config, env, lambda: media_host_from_config(config, env))
        else:
            reason = _missing(config, name, env)
        modes[name] = (backend_label(config, name), reason)
    return modes


def _graph_missing(
    config: Config, env: Mapping[str, str], host: Callable[[], BuiltMediaHost]
) -> str | None:
    """Why Instagram through the official API cannot run for real (None: it can)."""
    instagram = config.channels.instagram
    if not instagram.ig_user_id:
        return "[channels.instagram] ig_user_id is empty in config.toml"
    if not env.get(instagram.token_env):
        return f"the environment variable {instagram.token_env} (the Instagram token) is not set"
    built = host()
    if built.host is None:
        return f"there is no media host for Meta to fetch the images from: {built.reason}"
    return None


def outbox_media_host(
    config: Config, name: ChannelName, environ: Mapping[str, str] | None = None
) -> str | None:
    """Where the images of ``name`` would be put for the platform to fetch, for a dry run
    standing in for it (a rehearsal): Instagram through the official API only."""
    if name != "instagram" or config.instagram_backend != "graph":
        return None
    from scheduler.media_host.from_config import media_host_from_config

    return _host_text(media_host_from_config(config, os.environ if environ is None else environ))


def _host_text(built: BuiltMediaHost) -> str:
    if built.host is not None:
        return built.host.describe()
    return f"none yet: {built.reason}"


def _graph_setup(
    config: Config, env: Mapping[str, str], dry_run: bool, clock: Clock
) -> ChannelSetup:
    """Instagram through Meta's official API: the account's id, its token and a media host
    make it live; without one of them it is the outbox, which shows where the images
    would have been put."""
    from scheduler.media_host.from_config import media_host_from_config, url_valid_for

    instagram = config.channels.instagram
    if token := env.get(instagram.token_env):
        register_secret(token)  # kept out of every log line even while a dry run
    built = media_host_from_config(config, env)
    host_text = _host_text(built)
    reason = "--dry-run was given" if dry_run else _graph_missing(config, env, lambda: built)
    label = BACKEND_LABELS["graph"]
    if reason is not None:
        outbox = OutboxChannel(
            "instagram", config.outbox_dir, clock, root=config.base_dir, media_host=host_text
        )
        return ChannelSetup(outbox, reason, label, host_text)
    from scheduler.channels.instagram_graph import InstagramGraphChannel, InstagramGraphSettings

    facebook = config.channels.facebook
    settings = InstagramGraphSettings(
        ig_user_id=instagram.ig_user_id,
        graph_url=instagram.graph_url or facebook.graph_url,
        api_version=instagram.api_version or facebook.api_version,
    )
    assert built.host is not None
    channel = InstagramGraphChannel(
        settings,
        env[instagram.token_env],
        built.host,
        config.publishing.request_timeout_seconds,
        remove_after=config.media_host.remove_after_publish,
        token_hint=f"the environment variable {instagram.token_env}",
        url_valid_for=url_valid_for(config),
        clock=clock,
    )
    return ChannelSetup(channel, None, label, host_text)
