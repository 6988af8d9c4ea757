"""`campaign login instagram`: the one interactive step, done by a person at a terminal."""

from __future__ import annotations

import os

import typer
from rich.console import Console
from rich.markup import escape

from campaign.config import Config
from scheduler.channels.factory import session_file


def run_login_instagram(
    config: Config, totp_seed_env: str | None, out: Console, err: Console
) -> int:
    """Log in, asking for what is missing, and save the session; the exit code."""
    from scheduler.channels.instagram_session import InstagramLoginProblem, login_interactively

    settings = config.channels.instagram
    if not settings.username:
        err.print(
            "[red]error[/]: [channels.instagram] username is empty in config.toml: "
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
            session_file(config),
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
