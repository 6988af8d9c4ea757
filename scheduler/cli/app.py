"""The `campaign` command: a thin layer over the library, one function per command.

The same mistake has the same exit code in every command
(tests/test_cli_readability.py holds each command to it):

- 0: all good.
- 1: problems found in the user's post files (check, plan, render, preview: a post with
  errors), or something needs a human (status).
- 2: a usage or configuration error: a bad option or option value, a path given that does
  not exist, no config.toml (or the file named by --config or $CAMPAIGN_CONFIG missing),
  an unusable config.toml.
- 130: interrupted (Ctrl-C); 3: a standby scheduler lost its lock (run only).

A user's mistake is always a message, never a traceback. Top-level imports are only typer's
(and campaign.outputs' constants): `campaign --help` and `--version` import nothing of the
library; each command imports what it uses.
"""

# No `from __future__ import annotations` here: typer reads every command's annotations at
# each start, and as strings it would compile and evaluate them all (about 10 ms a command).
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO

import typer

from campaign.outputs import EXPORT_FOLDER, OUTPUT_FOLDER, PREVIEW_FOLDER, STATS_CSV, STATS_HTML
from scheduler.cli.help_format import CampaignGroup

if TYPE_CHECKING:
    from rich.console import Console

    from campaign.config import Config, ConfigError
    from campaign.diagnostics import Diagnostic

app = typer.Typer(
    name="campaign",
    cls=CampaignGroup,
    help="Social media campaigns as files in git: check, plan and publish posts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help: rich's help panels import rich, its markdown and tracebacks (most of what
    # `campaign --help` cost); help text is therefore never read as markup.
    rich_markup_mode=None,
)


class _LazyConsole:
    """A rich Console made on first use: `campaign --help` and `campaign --version` never
    pay for importing rich (nor the library: each command imports what it uses)."""

    __slots__ = ("_console", "_options")

    def __init__(self, **options: Any) -> None:
        object.__setattr__(self, "_options", options)
        object.__setattr__(self, "_console", None)

    def _made(self) -> "Console":
        if self._console is None:
            from rich.console import Console

            object.__setattr__(self, "_console", Console(**self._options))
        return self._console  # type: ignore[no-any-return]

    def plain_stream(self) -> TextIO | None:
        """The stream to write plain text to when it is not a terminal, without making
        the console (scheduler.cli.plain); None when the console must print."""
        from scheduler.cli.plain import would_be_terminal

        if self._console is not None:
            console = self._console
            return None if console.is_terminal or console.record else console.file
        stream = sys.stderr if self._options.get("stderr") else sys.stdout
        return None if would_be_terminal(stream) else stream

    def __getattr__(self, name: str) -> Any:
        return getattr(self._made(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._made(), name, value)

    def __delattr__(self, name: str) -> None:
        delattr(self._made(), name)

    def __enter__(self) -> "Console":  # rich's Live and Progress use a console in `with`
        return self._made().__enter__()

    def __exit__(self, *exc: object) -> None:
        self._made().__exit__(*exc)

    def __repr__(self) -> str:
        return repr(self._made())

    @property
    def __dict__(self) -> dict[str, Any]:  # type: ignore[override]
        return self._made().__dict__


out: "Console" = _LazyConsole(highlight=False, soft_wrap=True)  # type: ignore[assignment]
err: "Console" = _LazyConsole(stderr=True, highlight=False, soft_wrap=True)  # type: ignore[assignment]


class OutputFormat(StrEnum):
    text = "text"
    json = "json"
    github = "github"


PLATFORMS = ("facebook", "instagram")
"""campaign.config.CHANNELS, written out here so that defining the options imports
nothing of the library (tests/test_cli_readability.py keeps the two the same)."""


def _platform_given(value: str | None) -> str | None:
    """A --channel option: facebook or instagram; a near miss is told what was meant."""
    if value is None or value in PLATFORMS:
        return value
    from difflib import get_close_matches

    close = get_close_matches(value.lower(), PLATFORMS, n=1, cutoff=0.6)
    hint = f" Did you mean {close[0]}?" if close else ""
    raise typer.BadParameter(f"{value!r} is not a platform: facebook or instagram.{hint}")


def _platform_option(help_text: str) -> Any:
    """A --channel/-c option: facebook or instagram, a near miss told what was meant."""
    return typer.Option(
        "--channel", "-c", metavar="facebook|instagram", callback=_platform_given, help=help_text
    )


ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        metavar="FILE",
        help="The settings file. Default: ./config.toml, or $CAMPAIGN_CONFIG.",
        dir_okay=False,
    ),
]


PathsArgument = Annotated[
    list[Path] | None,
    typer.Argument(
        metavar="PATH", help="Post files or folders. Default: the posts folder in config.toml."
    ),
]
JobsOption = Annotated[
    int | None,
    typer.Option("--jobs", "-j", metavar="N", help="Processes to use. Default: all cores."),
]


class State:
    """What the top-level options set, shared by every command."""

    config_path: Path | None = None


def _print_version(asked: bool) -> None:
    if asked:
        from campaign import __version__

        print(f"campaign {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    config: ConfigOption = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print the version of the tool and exit.",
            callback=_print_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    State.config_path = config


def _unusable_config(problem: "ConfigError") -> "list[Diagnostic]":
    """A config error's diagnostics, after a warning when the file names a newer release."""
    from campaign.config import config_path_from
    from campaign.release import unusable_config_version_warning

    note = unusable_config_version_warning(config_path_from(State.config_path)[0])
    return [note, *problem.diagnostics] if note else list(problem.diagnostics)


def _config() -> "Config":
    from campaign.config import ConfigError, ConfigMissing, load_config

    try:
        return load_config(State.config_path)
    except ConfigMissing as problem:
        from scheduler.cli.check_output import literal

        err.print(f"[red]error[/]: {literal(problem.message)}")
        raise typer.Exit(2) from None
    except ConfigError as problem:
        from rich.markup import escape

        for diagnostic in _unusable_config(problem):
            label = "[red]config error[/]" if diagnostic.severity == "error" else "config note"
            err.print(f"{label}: {escape(str(diagnostic))}", markup=True)
        raise typer.Exit(2) from None


def _all_exist(paths: list[Path] | None) -> None:
    """Exit 2 (a usage error, in every command) when a path given does not exist."""
    missing = [p for p in paths or [] if not p.exists()]
    if missing:
        from campaign.text_patterns import visible

        for path in missing:  # a name may come from a pull request: shown, never as markup
            err.print("[red]error[/]: ", end="")
            err.print(f"{visible(str(path))}: no such file or folder.", markup=False)
        raise typer.Exit(2)


@app.command()
def check(
    paths: PathsArgument = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Fail on warnings too, not only on errors.")
    ] = False,
    output: Annotated[
        OutputFormat,
        typer.Option("--format", help="text for people, json for tools, github for pull requests."),
    ] = OutputFormat.text,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose", "-v", help="List every finding, also those repeated in many posts."
        ),
    ] = False,
) -> None:
    """Check post files: every problem at once, with file, line and how to fix it."""
    from campaign.config import ConfigError, ConfigMissing, load_config
    from campaign.post_loader import load_campaign
    from campaign.release import config_version_warning
    from scheduler.cli.check_output import (
        as_github,
        as_json,
        config_summary_line,
        github_error,
        print_text,
        summary_line,
    )

    if output is OutputFormat.github:
        try:  # a pull request's config.toml: its problems are annotations on its lines too
            config = load_config(State.config_path)
        except ConfigMissing as problem:
            print(github_error(problem.message))
            raise typer.Exit(2) from None
        except ConfigError as problem:
            diagnostics = _unusable_config(problem)
            print(as_github(diagnostics))
            print(config_summary_line(diagnostics))
            raise typer.Exit(2) from None
    else:
        config = _config()
    _all_exist(paths)
    result = load_campaign(config, paths or None)
    from campaign.rules.brand_files import check_brand_files

    if version_warning := config_version_warning(config):
        result.diagnostics.insert(0, version_warning)
    result.diagnostics[:0] = check_brand_files(config)
    if output is OutputFormat.json:
        out.print_json(as_json(result.diagnostics, result.files))
    elif output is OutputFormat.github:
        if result.diagnostics:
            print(as_github(result.diagnostics, verbose=verbose))
        print(summary_line(result.diagnostics, result.files, strict))
    else:
        print_text(out, result.diagnostics, result.files, strict, verbose=verbose)
    if result.errors or (strict and result.warnings):
        raise typer.Exit(1)


@app.command()
def init(
    folder: Annotated[
        Path,
        typer.Argument(
            metavar="FOLDER",
            help="The folder to set up as a campaign repository; made if missing.",
        ),
    ] = Path("."),
    name: Annotated[
        str | None,
        typer.Option(
            "--name",
            metavar="NAME",
            help="The campaign's name, shown in plans, previews and reports.",
        ),
    ] = None,
    timezone: Annotated[
        str | None,
        typer.Option(
            "--timezone", metavar="ZONE", help="The campaign's time zone, like Europe/Stockholm."
        ),
    ] = None,
    language: Annotated[
        str | None,
        typer.Option(
            "--language", metavar="CODE", help="The language of most posts: sv, en, fi, ar …"
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite files that already exist.")
    ] = False,
    git: Annotated[
        bool,
        typer.Option("--git/--no-git", help="Make the folder a git repository if it is not."),
    ] = True,
) -> None:
    """Set up a campaign repository of your own, ready to check, preview and push.

    Writes config.toml with every key explained, an example draft post, a placeholder
    brand mark, a .gitignore, a GitHub workflow, a pre-commit hook and a guide for
    communicators. Files that exist are left alone unless --force is given."""
    from scheduler.cli.init import run_init

    raise typer.Exit(
        run_init(
            folder,
            name=name,
            timezone=timezone,
            language=language,
            force=force,
            git=git,
            out=out,
            err=err,
        )
    )


@app.command()
def new(
    slug: Annotated[
        str, typer.Argument(metavar="NAME", help="Short name of the post, like demokratidagen.")
    ],
    at: Annotated[
        str,
        typer.Option(
            "--at",
            metavar="'YYYY-MM-DD HH:MM'",
            help='When it goes out, local time: "2021-09-15 09:00".',
        ),
    ],
) -> None:
    """Create a new draft post file to fill in, with every key explained."""
    from campaign.scaffold import ScaffoldProblem, create_post
    from campaign.timeparse import TimeProblem
    from scheduler.cli.check_output import display_path, literal

    config = _config()
    try:
        path = create_post(config, slug, at)
    except (TimeProblem, ScaffoldProblem) as problem:
        err.print(f"[red]error[/]: {literal(str(problem))}")
        raise typer.Exit(2) from None
    shown = literal(display_path(path))
    out.print(f"Created {shown}")
    out.print(
        f"Next: write the text, save the image {literal(path.stem)}.jpg beside it, "
        f"then run: campaign check {shown}"
    )


@app.command()
def plan(
    include_drafts: Annotated[
        bool, typer.Option("--drafts/--no-drafts", help="Show draft posts too.")
    ] = True,
) -> None:
    """Show what goes out when and where, in local time, with each publication's state."""
    from rich.console import Console

    from campaign.post_loader import load_campaign
    from scheduler.cli.plan_view import plan_table

    config = _config()
    result = load_campaign(config)
    posts = [p for p in result.posts if include_drafts or p.is_ready]
    title = f"{config.campaign.name} — times in {config.campaign.timezone}"
    # Not a terminal (a pipe, a CI log): no width to fit, so don't cut the table short.
    console = out if out.is_terminal else Console(width=160, highlight=False)
    from scheduler.channels.factory import channel_modes
    from scheduler.plan_states import publication_states

    states = publication_states(config)
    modes = channel_modes(config)
    console.print(plan_table(posts, datetime.now(UTC), title, states, modes, config.accounts))
    broken = {d.path for d in result.errors}
    if broken:
        err.print(
            f"[yellow]{len(broken)} post file(s) have errors and are not in the plan.[/] "
            "Run `campaign check` to see them."
        )
        raise typer.Exit(1)


@app.command()
def render(
    paths: PathsArgument = None,
    jobs: JobsOption = None,
) -> None:
    """Make the branded image for each post and channel; unchanged ones are not redone."""
    from scheduler.cli.render import run_render

    config = _config()
    _all_exist(paths)
    raise typer.Exit(run_render(config, paths or None, jobs, out, err))


@app.command()
def preview(
    paths: PathsArgument = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FOLDER",
            help=f"The folder to write. Default: {OUTPUT_FOLDER}/{PREVIEW_FOLDER}/ "
            f"({PREVIEW_FOLDER}/ in the build folder of config.toml).",
            file_okay=False,
        ),
    ] = None,
    jobs: JobsOption = None,
    open_browser: Annotated[
        bool, typer.Option("--open", help="Open the preview in the web browser when it is ready.")
    ] = False,
) -> None:
    """Write an HTML preview: a calendar, and each post as Facebook and Instagram will show it."""
    from scheduler.cli.preview import run_preview

    config = _config()
    _all_exist(paths)
    raise typer.Exit(run_preview(config, paths or None, output, jobs, out, err, open_browser))


@app.command()
def schema(
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", metavar="FILE", help="Write to this file instead of printing."
        ),
    ] = None,
) -> None:
    """Print the JSON Schema of the post format (for editors' autocompletion)."""
    import json

    from campaign.post_format import post_json_schema

    text = json.dumps(post_json_schema(), ensure_ascii=False, indent=2) + "\n"
    if output is None:
        print(text, end="")
    else:
        from campaign.safe_output import UnsafeOutput, real_folder, write_file
        from scheduler.cli.check_output import literal

        try:
            write_file(real_folder(output.parent) / output.name, text)
        except (UnsafeOutput, OSError) as problem:
            err.print(
                f"[red]error[/]: {literal(str(output))} was not written: {literal(str(problem))}"
            )
            raise typer.Exit(2) from None
        out.print(f"Wrote {literal(str(output))}")


@app.command()
def run(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Every channel writes to the outbox folder.")
    ] = False,
    rehearse: Annotated[
        str | None,
        typer.Option(
            "--rehearse",
            metavar="SPEED|DURATION",
            help="Replay the campaign from now into a separate rehearsal database and "
            "outbox, and exit when done: SPEED times faster (100000 plays a month in 26 s) "
            "or fitted into DURATION (60s, 2m, 1h30m). It says first how long it takes.",
        ),
    ] = None,
    rehearse_from: Annotated[
        str | None,
        typer.Option(
            "--from",
            metavar="DATE",
            help="Rehearse only posts due from DATE on (2021-09-15, or 2021-09-15 09:00; "
            "the campaign's time zone).",
        ),
    ] = None,
    rehearse_until: Annotated[
        str | None,
        typer.Option(
            "--until",
            metavar="DATE",
            help="Rehearse only posts due until DATE, that day included.",
        ),
    ] = None,
    log_format: Annotated[
        str,
        typer.Option(
            "--log-format", metavar="text|json", help="text for people, json for log tools."
        ),
    ] = "text",
    standby: Annotated[
        bool,
        typer.Option(
            "--standby",
            help="If another scheduler runs on this database, wait and take over when it "
            "stops or dies (within [scheduler] takeover_seconds), instead of exiting.",
        ),
    ] = False,
) -> None:
    """Run the scheduler: publish every ready post on time, exactly once, until stopped."""
    from scheduler.cli.run import run_daemon

    if log_format not in ("text", "json"):
        err.print("[red]error[/]: --log-format is text or json.")
        raise typer.Exit(2)
    config = _config()
    raise typer.Exit(
        run_daemon(
            config,
            dry_run=dry_run,
            rehearse=rehearse,
            log_format=log_format,  # type: ignore[arg-type]
            out=out,
            err=err,
            standby=standby,
            since=rehearse_from,
            until=rehearse_until,
        )
    )


@app.command()
def status() -> None:
    """Show whether the scheduler is alive, what goes out next, and what needs a human."""
    from scheduler.cli.status import run_status

    config = _config()
    raise typer.Exit(run_status(config, out, err))


@app.command()
def stats(
    channel: Annotated[str | None, _platform_option("Only facebook or instagram.")] = None,
    account: Annotated[
        str | None,
        typer.Option(
            "--account",
            metavar="NAME",
            help="Only this account (facebook, instagram or an [accounts.NAME]).",
        ),
    ] = None,
    tag: Annotated[
        str | None, typer.Option("--tag", metavar="TAG", help="Only posts with this tag.")
    ] = None,
    language: Annotated[
        str | None,
        typer.Option("--language", metavar="CODE", help="Only posts in this language (sv, en …)."),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", metavar="DATE", help="Only posts published on or after this date."),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(
            "--until", metavar="DATE", help="Only posts published on or before this date."
        ),
    ] = None,
    sort: Annotated[
        str,
        typer.Option(
            "--sort",
            metavar="COLUMN",
            help="published, reactions, comments, shares, saves, views, reach or clicks.",
        ),
    ] = "published",
    csv_file: Annotated[
        Path | None,
        typer.Option(
            "--csv",
            metavar="FILE",
            help=f"Also write the table as CSV for Excel, like {STATS_CSV}.",
        ),
    ] = None,
    excel_sv: Annotated[
        bool,
        typer.Option("--excel-sv", help="CSV for Swedish Excel: ; between columns, 0,5 decimals."),
    ] = False,
    html: Annotated[
        Path | None,
        typer.Option(
            "--html",
            metavar="FOLDER",
            help=f"Also write an HTML report with charts into this folder, like {STATS_HTML}.",
        ),
    ] = None,
    rehearsal: Annotated[
        bool,
        typer.Option(
            "--rehearsal",
            help="Show the last rehearsal's simulated audience instead: made-up numbers, "
            "to see the report before going live.",
        ),
    ] = False,
) -> None:
    """Show engagement per post and account: the latest counts and their growth."""
    from scheduler.cli.stats import run_stats

    config = _config()
    raise typer.Exit(
        run_stats(
            config,
            channel=channel,
            account=account,
            tag=tag,
            language=language,
            since=since,
            until=until,
            sort=sort,
            csv_file=csv_file,
            excel_sv=excel_sv,
            html=html,
            rehearsal=rehearsal,
            out=out,
            err=err,
        )
    )


@app.command()
def export(
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            metavar="FOLDER",
            help="The folder to write archive.json and archive.csv to.",
        ),
    ] = Path(EXPORT_FOLDER),
) -> None:
    """Export the archive of everything published (for public records): JSON and CSV."""
    from scheduler.cli.export import run_export

    config = _config()
    raise typer.Exit(run_export(config, output, out, err))


ChannelOption = Annotated[
    str | None,
    _platform_option("Only the post's accounts on this platform (facebook or instagram)."),
]
AccountOption = Annotated[
    str | None,
    typer.Option(
        "--account",
        "-a",
        metavar="NAME",
        help="Only this account: facebook, instagram (the default ones) or the NAME of an "
        "[accounts.NAME] in config.toml.",
    ),
]


@app.command()
def publish(
    post: Annotated[
        str,
        typer.Argument(metavar="POST", help="The post: its file name without .yaml, or a path."),
    ],
    channel: ChannelOption = None,
    account: AccountOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Write to the outbox folder instead of posting.")
    ] = False,
) -> None:
    """Publish one post now, exactly once: never twice, even if it was tried before."""
    from scheduler.cli.publish import run_publish

    config = _config()
    with _logging():
        raise typer.Exit(run_publish(config, post, channel, dry_run, out, err, account=account))


@app.command()
def reconcile() -> None:
    """Check posts whose last try had no clear answer: online already, or to be tried again."""
    from scheduler.cli.publish import run_reconcile

    config = _config()
    with _logging():
        raise typer.Exit(run_reconcile(config, out, err))


@app.command()
def settle(
    post: Annotated[str, typer.Argument(help="The post: its file name without .yaml.")],
    account: AccountOption = None,
    publish_now: Annotated[
        bool, typer.Option("--publish-now", help="Publish it now, exactly once.")
    ] = False,
    done: Annotated[
        str | None,
        typer.Option(
            "--done",
            metavar="REASON",
            help='It went out another way (e.g. "posted by hand"): record that, with why.',
        ),
    ] = None,
    skip: Annotated[
        str | None,
        typer.Option(
            "--skip", metavar="REASON", help="It is not to go out: record that, with why."
        ),
    ] = None,
) -> None:
    """Decide about a post that was not published: publish it now, or mark it done or skipped."""
    from scheduler.cli.settle import run_settle

    chosen = [
        name
        for name, given in (("publish-now", publish_now), ("done", done), ("skip", skip))
        if given not in (None, False)
    ]
    if len(chosen) > 1:
        err.print("[red]error[/]: give one of --publish-now, --done REASON, --skip REASON.")
        raise typer.Exit(2)
    choice = chosen[0] if chosen else None
    config = _config()
    with _logging():
        code = run_settle(config, post, account, choice, done or skip, out, err)  # type: ignore[arg-type]
        raise typer.Exit(code)


login_app = typer.Typer(
    cls=CampaignGroup,
    help="Log in to a platform once, interactively, and save the session for the scheduler.",
    no_args_is_help=True,
)
app.add_typer(login_app, name="login")


@login_app.command("instagram")
def login_instagram(
    totp_seed_env: Annotated[
        str | None,
        typer.Option(
            "--totp-seed-env",
            metavar="VARIABLE",
            help="The environment variable holding the account's two-factor (TOTP) seed, "
            "if it has one; otherwise the code is asked for.",
        ),
    ] = None,
    account: Annotated[
        str | None,
        typer.Option(
            "--account",
            "-a",
            metavar="NAME",
            help="The Instagram account of an [accounts.NAME] (backend instagrapi) to log in "
            "to; without it, the one of [channels.instagram].",
        ),
    ] = None,
) -> None:
    """Log in to Instagram (with the two-factor code) and save the session file."""
    from scheduler.cli.login import run_login_instagram

    config = _config()
    raise typer.Exit(run_login_instagram(config, totp_seed_env, out, err, account=account))


@contextmanager
def _logging() -> Iterator[None]:
    """Log lines to stderr for the runtime commands, with every secret redacted."""
    import logging

    from scheduler.redaction import install_log_redaction

    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)
    install_log_redaction(root)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def main() -> None:
    """Entry point of the `campaign` console script."""
    try:
        app()
    except KeyboardInterrupt:  # Ctrl-C outside a command (typer turns one inside into 130)
        _say_stopped()
        raise SystemExit(130) from None
    except SystemExit as stop:
        if stop.code == 130 and _from_ctrl_c(stop):
            _say_stopped()
        raise
    finally:
        _spare_the_last_collections()


def _from_ctrl_c(stop: BaseException) -> bool:
    """Whether ``stop`` comes of a KeyboardInterrupt (a command that handles Ctrl-C
    itself, like a rehearsal, exits 130 on its own and has said what happened)."""
    seen: BaseException | None = stop
    for _ in range(8):
        seen = seen.__cause__ or seen.__context__ if seen is not None else None
        if seen is None:
            return False
        if isinstance(seen, KeyboardInterrupt):
            return True
    return False


def _say_stopped() -> None:
    import sys

    sys.stderr.write("\nStopped (Ctrl-C). What was finished is kept; run the command again.\n")


def _spare_the_last_collections() -> None:
    """Leave what is still alive at the end to the operating system.

    The interpreter's last garbage collections, as it exits, walk every object typer,
    pydantic and the library made and tear them down one by one: 20–30 ms of a quick
    command such as `campaign stats` (`campaign check` freezes its posts already). Frozen,
    they are skipped; nothing that must be written out depends on them (files are closed
    where they are written, the store is closed by the command, and atexit handlers and
    the flushing of stdout and stderr still run).
    """
    import gc

    gc.freeze()
