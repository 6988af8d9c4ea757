"""`campaign stats`: each live published post's latest engagement and its growth.

The table shows, per post and account, the latest sample's counts with the growth since
the sample before (``120 (+15)``), and ends with one line of totals; an "account" column
only when a post went to an account of [accounts.*] (the default accounts are named like
their platforms, so the "channel" column says it all). ``--csv`` also writes
every row for Excel, ``--html`` a report with charts. Options that make no sense are a
message and exit status 2; a database that does not exist yet is not an error.
"""

from __future__ import annotations

import os
from datetime import datetime, tzinfo
from pathlib import Path

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from campaign.config import Config
from campaign.safe_output import UnsafeOutput, real_folder
from scheduler.cli.support import CommandExit, opened_store
from scheduler.engagement.stats_query import COUNTS, StatsFilter, StatsRow, check_sort, latest_rows
from scheduler.plan_states import database_exists
from scheduler.store.store import Store

#: The terminal shows this many rows at most; --csv and --html always get them all.
TABLE_LIMIT = 200


def run_stats(
    config: Config,
    *,
    channel: str | None = None,
    account: str | None = None,
    tag: str | None = None,
    language: str | None = None,
    since: str | None = None,
    until: str | None = None,
    sort: str = "published",
    csv_file: Path | None = None,
    excel_sv: bool = False,
    html: Path | None = None,
    out: Console,
    err: Console,
) -> int:
    """Print the statistics (and write the CSV and HTML asked for); the exit status."""
    try:
        where = StatsFilter.parse(
            channel=channel,
            tag=tag,
            language=language,
            since=since,
            until=until,
            zone=config.zone,
            account=account,
        )
        check_sort(sort)
        _check_account(config, where)
    except ValueError as problem:
        err.print(f"[red]error[/]: {escape(str(problem))}")
        return 2
    if excel_sv and csv_file is None:
        err.print("[red]error[/]: --excel-sv changes the CSV file: give one with --csv FILE.")
        return 2
    if not database_exists(config):
        out.print(
            "No database yet: nothing has been published here, so there is no engagement to "
            "show. The scheduler (`campaign run`) publishes posts and samples their counts."
        )
        return 0
    try:
        if csv_file is not None and os.path.lexists(csv_file.parent):
            real_folder(csv_file.parent, root=config.base_dir)  # a missing one is not made
        if html is not None:
            real_folder(html, root=config.base_dir)
    except UnsafeOutput as problem:
        err.print(f"[red]error[/]: nothing was written: {escape(str(problem))}")
        return 2
    try:
        with opened_store(config.database_url, err) as store:
            return _stats(config, store, where, sort, csv_file, excel_sv, html, out, err)
    except CommandExit as stop:
        return stop.code
    except UnsafeOutput as problem:
        err.print(f"[red]error[/]: nothing was written: {escape(str(problem))}")
        return 2


def _stats(
    config: Config,
    store: Store,
    where: StatsFilter,
    sort: str,
    csv_file: Path | None,
    excel_sv: bool,
    html: Path | None,
    out: Console,
    err: Console,
) -> int:
    rows = latest_rows(store, where, sort)
    zone = config.zone
    if not rows:
        out.print("No live published posts match: nothing to show (dry runs are not counted).")
    else:
        shown = rows[:TABLE_LIMIT]
        out.print(stats_table(shown, zone))
        if len(rows) > len(shown):
            out.print(
                f"[dim]The first {number(len(shown))} of {number(len(rows))} rows: narrow them "
                "down with --since, --tag or --channel; --csv FILE writes them all.[/]"
            )
        out.print(total_line(rows))
    if csv_file is not None:
        from scheduler.engagement.csv_export import write_csv

        try:
            write_csv(rows, csv_file, excel_sv, zone)
        except OSError as problem:
            err.print(f"[red]error[/]: cannot write {escape(str(csv_file))}: {problem.strerror}.")
            return 2
        form = "Swedish Excel (;)" if excel_sv else "Excel"
        out.print(f"CSV for {form}: {escape(str(csv_file))} ({number(len(rows))} rows).")
    if html is not None:
        if not rows:
            out.print("No HTML report written: there is nothing to report.")
        else:
            from scheduler.engagement.report import build_report

            ids = [row.publication_id for row in rows]
            try:
                index = build_report(config, store, ids, html)
            except OSError as problem:
                reason = escape(str(problem.strerror or problem))
                err.print(
                    f"[red]error[/]: cannot write the report into {escape(str(html))}: {reason}."
                )
                return 2
            out.print(f"HTML report: {escape(str(index))}")
    return 0


def _check_account(config: Config, where: StatsFilter) -> None:
    """ValueError when ``--account`` names no account of config.toml, or one on another
    platform than ``--channel``. An account switched off since is still one."""
    if where.account is None:
        return
    account = config.accounts.get(where.account)
    if account is None:
        raise ValueError(
            f"--account {where.account!r} is not an account of config.toml: use one of "
            f"{', '.join(config.accounts)}."
        )
    if where.channel is not None and account.platform != where.channel:
        raise ValueError(
            f"--account {where.account} is on {account.platform}, not {where.channel}: "
            "give --account alone."
        )


def stats_table(rows: list[StatsRow], zone: tzinfo) -> Table:
    """The rows as a table; a count no row has (say, saves on Facebook only) is left out,
    and the "account" column when every row is for its platform's default account.

    A number is never cut short: in a narrow terminal a count cell wraps between the count
    and its growth, and the post name folds.
    """
    names = [name for name in COUNTS if any(getattr(row, name) is not None for row in rows)]
    cells = [
        [count_text(getattr(row, name), getattr(row, f"{name}_growth")) for name in names]
        for row in rows
    ]
    table = Table(
        box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1), collapse_padding=True
    )
    named = any(row.account_name != row.channel for row in rows)
    table.add_column("post", overflow="fold", min_width=10)
    table.add_column("channel", no_wrap=True, min_width=9)
    if named:
        table.add_column("account", no_wrap=True, min_width=9)
    table.add_column("published", no_wrap=True, min_width=16)
    table.add_column("age", justify="right", no_wrap=True, min_width=6)
    for index, name in enumerate(names):
        longest = max(len(word) for texts in cells for word in texts[index].split())
        table.add_column(name, justify="right", min_width=max(len(name), longest))
    for row, texts in zip(rows, cells, strict=True):
        table.add_row(
            escape(row.post_id),
            row.channel,
            *((escape(row.account_name),) if named else ()),
            _local(row.published_at, zone),
            age_text(row.age_seconds),
            *texts,
        )
    return table


def total_line(rows: list[StatsRow]) -> str:
    """One line: how many publications, and the sum of each count that any row has."""
    parts = []
    for name in COUNTS:
        values = [value for row in rows if (value := getattr(row, name)) is not None]
        if values:
            parts.append(f"{name} {number(sum(values))}")
    noun = "publication" if len(rows) == 1 else "publications"
    return f"Total, {number(len(rows))} {noun}: " + (", ".join(parts) or "no samples yet")


def count_text(count: int | None, growth: int | None) -> str:
    """``120 (+15)``; ``120`` when there is no growth to tell; ``—`` when there is no count."""
    if count is None:
        return "—"
    return f"{count}" if growth is None else f"{count} ({growth:+d})"


def number(value: int) -> str:
    """An integer with a space between thousands, the Swedish way: ``12 345``."""
    return f"{value:,}".replace(",", " ")


def age_text(seconds: int | None) -> str:
    """The age of the latest sample: ``40 min``, ``6 h``, ``3 d``; ``—`` without a sample."""
    if seconds is None:
        return "—"
    if seconds < 3600:
        return f"{max(0, seconds) // 60} min"
    if seconds < 48 * 3600:
        return f"{_trim(seconds / 3600)} h"
    return f"{_trim(seconds / 86400)} d"


def _trim(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def _local(moment: datetime, zone: tzinfo) -> str:
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M}"
