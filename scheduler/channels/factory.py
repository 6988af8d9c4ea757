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

from campaign.accounts import Account
from campaign.config import Config
from scheduler.channels.account_channel import AccountChannel
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
            return f"{self.channel.label}: live ({self.channel.kind})"
        return f"{self.channel.label}: dry run to the outbox, because {self.dry_run_reason}"


def account_label(account: Account) -> str:
    """How messages name an account: its name (``facebook``, ``bibliotek-fb``), with its
    display name for an account of [accounts.*] that has one of its own."""
    if account.is_default or account.display_name in ("", account.name):
        return account.name
    return f"{account.name} ({account.display_name})"


def _account_of(config: Config, name: str) -> Account:
    """The account called ``name`` (a default account's name is its platform's)."""
    return config.account(name)


def backend_label(config: Config, name: str) -> str:
    """``Graph API`` (Facebook), ``Graph API (official)`` or ``instagrapi (private API)``:
    how the account ``name`` (a default account: the platform's name) is reached."""
    return BACKEND_LABELS[_account_of(config, name).backend]


def backend_line(config: Config, name: str) -> str:
    """The backend of account ``name`` and, when config.toml does not name it, how it was
    chosen."""
    account = _account_of(config, name)
    if account.platform == "facebook":
        return f"backend {BACKEND_LABELS['facebook']}"
    backend = account.backend
    note = config.instagram_backend_note if account.is_default else ""
    what = "Meta's official API" if backend == "graph" else "Instagram's private API"
    return f"backend {backend}" + (f" ({note})" if note else "") + f": {what}"


def build_channels(
    config: Config,
    *,
    dry_run: bool = False,
    environ: Mapping[str, str] | None = None,
    clock: Clock = system_clock,
) -> dict[str, ChannelSetup]:
    """One setup per switched-on account, keyed by the account's name (the default
    accounts: ``facebook``, ``instagram``); ``dry_run`` forces the outbox for all. An
    account without its ids or secret is a dry run to ``outbox/ACCOUNT/``."""
    env = os.environ if environ is None else environ
    setups: dict[str, ChannelSetup] = {}
    for account in config.enabled_accounts:
        setups[account.name] = _setup(config, account, env, dry_run, clock)
    return setups


def _setup(
    config: Config, account: Account, env: Mapping[str, str], dry_run: bool, clock: Clock
) -> ChannelSetup:
    backend = BACKEND_LABELS[account.backend]
    if account.platform == "instagram" and account.backend == "graph":
        return _graph_setup(config, account, env, dry_run, clock)
    reason = "--dry-run was given" if dry_run else _missing(config, account, env)
    if reason is not None:
        outbox = OutboxChannel(
            account.platform, config.outbox_dir, clock, root=config.base_dir, account=account.name
        )
        return ChannelSetup(_named(outbox, account), reason, backend)
    return ChannelSetup(_named(_live(config, account, env), account), None, backend)


def _named(channel: Channel, account: Account) -> Channel:
    """``channel`` publishing to ``account``, and named by it in every message: a live
    channel of [accounts.NAME] gives advice about that table and its login."""
    if not account.is_default and channel.kind != "outbox":
        channel = AccountChannel(channel, account)
    channel.account = account.name
    channel.label = account_label(account)
    return channel


def outbox_setups(config: Config, folder: Path) -> dict[str, ChannelSetup]:
    """The outbox in ``folder`` for every switched-on account (a rehearsal): each
    account's posts under ``folder/ACCOUNT/``, each showing where Instagram's official
    API would have had its images put."""
    setups: dict[str, ChannelSetup] = {}
    for account in config.enabled_accounts:
        outbox = OutboxChannel(
            account.platform,
            folder,
            root=config.base_dir,
            media_host=outbox_media_host(config, account.name),
            account=account.name,
        )
        setups[account.name] = ChannelSetup(
            _named(outbox, account), "this is a rehearsal", BACKEND_LABELS[account.backend]
        )
    return setups


def _missing(config: Config, account: Account, env: Mapping[str, str]) -> str | None:
    table = account.table
    if account.platform == "facebook":
        facebook = account.facebook
        assert facebook is not None
        if not facebook.page_id.strip():
            return f"[{table}] page_id is empty in config.toml"
        if not env.get(facebook.token_env):
            return f"the environment variable {facebook.token_env} (the Page token) is not set"
        return None
    instagram = account.instagram
    assert instagram is not None
    if not instagram.username:
        return f"[{table}] username is empty in config.toml"
    file = session_file(config, account)
    if not file.is_file():
        login = "campaign login instagram" + (
            "" if account.is_default else f" --account {account.name}"
        )
        return f"there is no saved session at {file}: run `{login}` first"
    return None


def session_file(config: Config, account: Account | None = None) -> Path:
    """Where an instagrapi account keeps its session (``~`` expanded, relative to
    config.toml); without ``account``, the default Instagram account's."""
    account = account or config.default_account("instagram")
    assert account.instagram is not None
    return config.path(account.instagram.session_file)


def _live(config: Config, account: Account, env: Mapping[str, str]) -> Channel:
    timeout = config.publishing.request_timeout_seconds
    if account.platform == "facebook":
        from scheduler.channels.facebook import FacebookChannel

        settings = account.facebook
        assert settings is not None
        return FacebookChannel(settings, env[settings.token_env], timeout)
    from scheduler.channels.instagram import InstagramChannel

    settings_ig = account.instagram
    assert settings_ig is not None
    return InstagramChannel(
        settings_ig, session_file(config, account), env.get(settings_ig.password_env), timeout
    )


def channel_modes(
    config: Config, environ: Mapping[str, str] | None = None
) -> dict[str, tuple[str, str | None]]:
    """(backend, why it is a dry run or None) per switched-on account, for `campaign
    plan`: nothing is built, and the media host (boto3) only when it is the last question."""
    env = os.environ if environ is None else environ
    modes: dict[str, tuple[str, str | None]] = {}
    for account in config.enabled_accounts:
        if account.platform == "instagram" and account.backend == "graph":
            from scheduler.media_host.from_config import media_host_from_config

            reason = _graph_missing(account, env, lambda: media_host_from_config(config, env))
        else:
            reason = _missing(config, account, env)
        modes[account.name] = (BACKEND_LABELS[account.backend], reason)
    return modes


def _graph_missing(
    account: Account, env: Mapping[str, str], host: Callable[[], BuiltMediaHost]
) -> str | None:
    """Why an Instagram account cannot run through the official API for real (None: it
    can)."""
    instagram = account.instagram
    assert instagram is not None
    if not instagram.ig_user_id:
        return f"[{account.table}] ig_user_id is empty in config.toml"
    if not env.get(instagram.token_env):
        return f"the environment variable {instagram.token_env} (the Instagram token) is not set"
    built = host()
    if built.host is None:
        return f"there is no media host for Meta to fetch the images from: {built.reason}"
    return None


def outbox_media_host(
    config: Config, name: str, environ: Mapping[str, str] | None = None
) -> str | None:
    """Where the images of account ``name`` would be put for the platform to fetch, for a
    dry run standing in for it (a rehearsal): Instagram through the official API only."""
    account = _account_of(config, name)
    if account.platform != "instagram" or account.backend != "graph":
        return None
    from scheduler.media_host.from_config import media_host_from_config

    return _host_text(media_host_from_config(config, os.environ if environ is None else environ))


def _host_text(built: BuiltMediaHost) -> str:
    if built.host is not None:
        return built.host.describe()
    return f"none yet: {built.reason}"


def _graph_setup(
    config: Config, account: Account, env: Mapping[str, str], dry_run: bool, clock: Clock
) -> ChannelSetup:
    """Instagram through Meta's official API: the account's id, its token and a media host
    make it live; without one of them it is the outbox, which shows where the images
    would have been put."""
    from scheduler.media_host.from_config import media_host_from_config, url_valid_for

    instagram = account.instagram
    assert instagram is not None
    if token := env.get(instagram.token_env):
        register_secret(token)  # kept out of every log line even while a dry run
    built = media_host_from_config(config, env)
    host_text = _host_text(built)
    reason = "--dry-run was given" if dry_run else _graph_missing(account, env, lambda: built)
    label = BACKEND_LABELS["graph"]
    if reason is not None:
        outbox = OutboxChannel(
            "instagram",
            config.outbox_dir,
            clock,
            root=config.base_dir,
            media_host=host_text,
            account=account.name,
        )
        return ChannelSetup(_named(outbox, account), reason, label, host_text)
    from scheduler.channels.instagram_graph import InstagramGraphChannel, InstagramGraphSettings

    settings = InstagramGraphSettings(
        ig_user_id=instagram.ig_user_id,
        graph_url=instagram.graph_url,
        api_version=instagram.api_version,
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
    return ChannelSetup(_named(channel, account), None, label, host_text)
