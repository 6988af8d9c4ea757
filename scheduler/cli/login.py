"""`campaign login instagram`: the one interactive step, done by a person at a terminal."""

from __future__ import annotations

import os

import typer
from rich.console import Console
from rich.markup import escape

from campaign.accounts import Account
from campaign.config import Config
from scheduler.channels.factory import session_file


def run_login_instagram(
    config: Config,
    totp_seed_env: str | None,
    out: Console,
    err: Console,
    account: str | None = None,
) -> int:
    """Log in, asking for what is missing, and save the session; the exit code.

    ``account``: an Instagram account of [accounts.*] that uses instagrapi (its own
    session file); without it, the default Instagram account of [channels.instagram]."""
    from scheduler.channels.instagram_session import InstagramLoginProblem, login_interactively

    chosen = _instagrapi_account(config, account, err)
    if chosen is None:
        return 2
    settings = chosen.instagram
    assert settings is not None
    if not settings.username:
        err.print(
            f"[red]error[/]: {escape(f'[{chosen.table}]')} username is empty in config.toml: "
            "set the account's user name first."
        )
        return 2
    password = os.environ.get(settings.password_env) or typer.prompt(
        f"Password for {settings.username} (or set {settings.password_env})", hide_input=True
    )
    seed = None
    if totp_seed_env:
        seed = os.environ.get(totp_seed_env)
        if not seed:
            err.print(f"[red]error[/]: the environment variable {escape(totp_seed_env)} is empty.")
            return 2
    try:
        message = login_interactively(
            settings,
            session_file(config, chosen),
            password,
            ask=lambda question: typer.prompt(question),
            totp_seed=seed,
            timeout=config.publishing.request_timeout_seconds,
        )
    except InstagramLoginProblem as problem:
        err.print(f"[red]error[/]: {escape(str(problem))}")
        return 1
    out.print(escape(message))
    return 0


def _instagrapi_account(config: Config, name: str | None, err: Console) -> Account | None:
    """The account to log in to; None (said on ``err``) when ``name`` is not an Instagram
    account that logs in with instagrapi. The default account is taken as it is."""
    if name is None or name == "instagram":
        return config.default_account("instagram")
    account = config.accounts.get(name)
    if account is None:
        known = [a.name for a in config.accounts.values() if a.platform == "instagram"]
        err.print(
            f"[red]error[/]: --account {escape(name)}: config.toml has no such account (its "
            f"Instagram accounts: {escape(', '.join(known))})."
        )
        return None
    table = escape(f"[{account.table}]")
    if account.platform != "instagram":
        err.print(
            f"[red]error[/]: --account {escape(name)} is a Facebook Page ({table}): "
            "it is reached with its token, there is nothing to log in to."
        )
        return None
    if account.backend != "instagrapi":
        err.print(
            f"[red]error[/]: --account {escape(name)} uses Meta's official API ({table} "
            "backend graph): it publishes with its token, there is nothing to log in to. "
            'Only an account with backend = "instagrapi" keeps a session.'
        )
        return None
    return account
