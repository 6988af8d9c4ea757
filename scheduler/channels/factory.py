"""Build the channels from config.toml and the environment.

A channel runs for real only when its settings and its secret are both there;
otherwise it is the outbox, and the reason is given so the operator can tell a
dry run from a misconfiguration.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from campaign.config import ChannelName, Config
from scheduler.channels.base import Channel
from scheduler.channels.outbox import OutboxChannel
from scheduler.clock import Clock, system_clock


@dataclass(frozen=True)
class ChannelSetup:
    """A channel ready to use, and why it is a dry run (None when it is real)."""

    channel: Channel
    dry_run_reason: str | None

    @property
    def description(self) -> str:
        if self.dry_run_reason is None:
            return f"{self.channel.name}: live ({self.channel.kind})"
        return f"{self.channel.name}: dry run to the outbox, because {self.dry_run_reason}"


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
        reason = "--dry-run was given" if dry_run else _missing(config, name, env)
        if reason is not None:
            outbox = OutboxChannel(name, config.outbox_dir, clock, root=config.base_dir)
            setups[name] = ChannelSetup(outbox, reason)
        else:
            setups[name] = ChannelSetup(_live(config, name, env), None)
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
