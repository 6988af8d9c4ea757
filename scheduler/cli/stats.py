"""`campaign stats`: each live published post's latest engagement and its growth.

The table shows, per post and account, the latest sample's counts with the growth since
the sample before (``120 (+15)``), and ends with one line of totals; an "account" column
only when a post went to an account of [accounts.*] (the default accounts are named like
their platforms, so the "channel" column says it all). ``--csv`` also writes
every row for Excel, ``--html`` a report with charts. Options that make no sense are a
message and exit status 2; a database that does not exist yet is not an error.

``--rehearsal`` shows the last rehearsal's publications instead, with the simulated
audience it ended with (:mod:`scheduler.engagement.simulated`): the table's title and
caption, the CSV's first column and every page of the report say *simulated*. Without it,
a database whose engagement is simulated is refused, whatever config.toml calls it.

People wait for this command, so it starts quickly: a SQLite database is read with the
sqlite3 module alone (:mod:`scheduler.engagement.stats_sqlite`), and only what is shown:
the first rows and the totals (every row only for a CSV file); SQLAlchemy and the store
are imported only when that cannot be done or a report is asked for. The table is plain
aligned text (rich's table, which folds a long name and wraps a cell, only in a terminal
too narrow for it), written without rich when it goes to a pipe or a file
(:mod:`scheduler.cli.plain`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from campaign.outputs import REHEARSAL_FOLDER
from campaign.safe_output import UnsafeOutput, real_folder
from campaign.text_patterns import visible
from scheduler.cli.plain import plain_stream, say
from scheduler.engagement.stats_rows import COUNTS, StatsFilter, StatsRow, Totals, check_sort

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from rich.console import Console
    from rich.table import Table

    from campaign.config import Config
    from scheduler.store.store import Store

#: The terminal shows this many rows at most; --csv and --html always get them all.
TABLE_LIMIT = 200
#: The rehearsal's database, in the rehearsal folder (see scheduler/cli/run.py).
REHEARSAL_DATABASE = "rehearsal.db"
#: The command that makes one, as the messages show it (plain text: no markup in it).
REHEARSE_COMMAND = "campaign run --rehearse 100000"
#: Above and below the table of a simulated audience.
SIMULATED_TITLE = "SIMULATED AUDIENCE: made-up engagement from the last rehearsal, not real numbers"
SIMULATED_CAPTION = "Simulated: nothing here was read from Facebook or Instagram."


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
    rehearsal: bool = False,
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
            rehearsal=rehearsal,
        )
        check_sort(sort)
        _check_account(config, where)
    except ValueError as problem:
        err.print(f"[red]error[/]: {escape(str(problem))}")
        return 2
    if excel_sv and csv_file is None:
        err.print("[red]error[/]: --excel-sv changes the CSV file: give one with --csv FILE.")
        return 2
    if rehearsal:
        database = config.build_dir / REHEARSAL_FOLDER / REHEARSAL_DATABASE
        if not database.is_file():
            say(
                out,
                "No rehearsal yet, so there is no simulated audience to show. Rehearse the "
                f"campaign first ({REHEARSE_COMMAND}: no accounts needed), then run "
                "campaign stats --rehearsal again.",
            )
            return 0
        url = f"sqlite:///{database}"
    else:
        url = config.database_url
        if not _database_exists(url):
            say(
                out,
                "No database yet: nothing has been published here, so there is no engagement "
                "to show. The scheduler (`campaign run`) publishes posts and samples their "
                "counts. To see what the report will look like, rehearse "
                f"({REHEARSE_COMMAND}), then run campaign stats --rehearsal.",
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
    request = _Request(config, where, sort, csv_file, excel_sv, html, out, err)
    try:
        if html is None:
            fast = _without_the_store(url, request)
            if fast is not None:
                return fast
        from scheduler.cli.support import CommandExit, opened_store

        try:
            with opened_store(url, err) as store:
                return _with_store(store, request)
        except CommandExit as stop:
            return stop.code
    except UnsafeOutput as problem:
        err.print(f"[red]error[/]: nothing was written: {escape(str(problem))}")
        return 2


@dataclass(frozen=True)
class _Request:
    """What the command was asked for."""

    config: Config
    where: StatsFilter
    sort: str
    csv_file: Path | None
    excel_sv: bool
    html: Path | None
    out: Console
    err: Console


def _database_exists(url: str) -> bool:
    """False for a SQLite file that was never made (nothing has run here yet)."""
    if url.startswith("sqlite:///"):
        return Path(url.removeprefix("sqlite:///")).is_file()
    return True


def _without_the_store(url: str, request: _Request) -> int | None:
    """The command's exit status, the SQLite file read with sqlite3 alone; None when it
    must be opened through the store (a server, a schema to migrate …)."""
    from scheduler.engagement.audience_mark import AUDIENCE_KEY, is_simulated
    from scheduler.engagement.stats_rows import sqlite_rows
    from scheduler.engagement.stats_sqlite import (
        NeedsTheStore,
        read_raw,
        read_table,
        sqlite_file,
        store_info,
    )

    database = sqlite_file(url)
    if database is None:
        return None
    try:
        simulated = is_simulated(store_info(database, AUDIENCE_KEY))
        refused = _refused(simulated, url, request)
        if refused is not None:
            return refused
        if request.csv_file is None:  # the table: its first rows, no tags nor captions
            rows, totals = read_table(database, request.where, request.sort, limit=TABLE_LIMIT)
        else:
            rows = read_raw(database, request.where, request.sort)
            totals = Totals.of(rows)
    except NeedsTheStore:
        return None
    # Rows are made only of what is shown (the totals add up the raw counts).
    return _show(rows, totals, simulated, request, None, sqlite_rows)


def _with_store(store: Store, request: _Request) -> int:
    from scheduler.engagement.simulated import simulated_note
    from scheduler.engagement.stats_query import latest_rows

    simulated = simulated_note(store) is not None
    refused = _refused(simulated, str(store.engine.url), request)
    if refused is not None:
        return refused
    rows = latest_rows(store, request.where, request.sort)
    return _show(rows, Totals.of(rows), simulated, request, store)


def _refused(simulated: bool, url: str, request: _Request) -> int | None:
    """The exit status when the data is not what was asked for: a rehearsal without its
    simulated audience (it was stopped), or simulated data where real data was asked for."""
    if request.where.rehearsal and not simulated:
        say(
            request.out,
            "The last rehearsal has no simulated audience: it was stopped before its end, "
            "and only a rehearsal that ran to its end simulates one. Rehearse again "
            f"({REHEARSE_COMMAND}), then run campaign stats --rehearsal.",
        )
        return 0
    if not request.where.rehearsal and simulated:
        from scheduler.store.engine import describe_database

        request.err.print(
            f"[red]error[/]: the database {escape(describe_database(url))} holds a rehearsal's "
            "simulated audience, not real engagement, so nothing of it is shown as real. "
            "[database] url in config.toml must name the campaign's own database, not a copy "
            "of a rehearsal's. To see the simulated report: campaign stats --rehearsal"
        )
        return 2
    return None


def _show(
    rows: Sequence[Sequence[Any]],
    totals: Totals,
    simulated: bool,
    request: _Request,
    store: Store | None,
    make: Callable[[Sequence[Sequence[Any]]], list[StatsRow]] = list,
) -> int:
    """Print the table and totals, write the CSV and report asked for; the exit status.
    ``rows`` are in the layout of :class:`StatsRow` (all of them for a CSV file or a
    report, else at least the first :data:`TABLE_LIMIT`), ``totals`` those of all;
    ``make`` makes StatsRows of them."""
    out, err = request.out, request.err
    zone = request.config.zone
    if not totals.publications:
        what = "rehearsal publications" if request.where.rehearsal else "live published posts"
        dry = "" if request.where.rehearsal else " (dry runs are not counted)"
        say(out, f"No {what} match: nothing to show{dry}.")
    else:
        shown = make(rows[:TABLE_LIMIT])
        print_table(out, shown, zone, simulated)
        if totals.publications > len(shown):
            cut = (
                f"The first {number(len(shown))} of {number(totals.publications)} rows: "
                "narrow them down with --since, --tag or --channel; --csv FILE writes them all."
            )
            say(out, cut, f"[dim]{cut}[/]")
        say(out, total_line(totals, simulated))
    if request.csv_file is not None:
        from scheduler.engagement.csv_export import write_csv

        csv_file = request.csv_file
        try:
            write_csv(make(rows), csv_file, request.excel_sv, zone, simulated=simulated)
        except OSError as problem:
            err.print(f"[red]error[/]: cannot write {escape(str(csv_file))}: {problem.strerror}.")
            return 2
        form = "Swedish Excel (;)" if request.excel_sv else "Excel"
        note = ", marked simulated in its first column" if simulated else ""
        say(out, f"CSV for {form}: {visible(str(csv_file))} ({number(len(rows))} rows{note}).")
    if request.html is not None:
        assert store is not None  # a report is made through the store
        if not rows:
            out.print("No HTML report written: there is nothing to report.")
        else:
            from scheduler.engagement.report import build_report

            ids = [row[0] for row in rows]  # the publication ids
            try:
                index = build_report(request.config, store, ids, request.html)
            except OSError as problem:
                reason = escape(str(problem.strerror or problem))
                err.print(
                    f"[red]error[/]: cannot write the report into "
                    f"{escape(str(request.html))}: {reason}."
                )
                return 2
            kind = "HTML report of the simulated audience" if simulated else "HTML report"
            out.print(f"{kind}: {escape(str(index))}")
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


def print_table(out: Console, rows: list[StatsRow], zone: tzinfo, simulated: bool) -> None:
    """The rows as aligned columns (with a title and caption when ``simulated``); rich's
    table, which folds and wraps, when a terminal is too narrow for them."""
    from rich.cells import cell_len

    cells = table_cells(rows, zone)
    widths = [max(cell_len(line[index]) for line in cells) for index in range(len(cells[0]))]
    terminal = plain_stream(out) is None and out.is_terminal
    if terminal and sum(widths) + len(widths) - 1 > out.width:
        out.print(stats_table(rows, zone, simulated))
        return
    left = [name in _LEFT for name in cells[0]]
    lines = [_aligned(cells[0], widths, left, cell_len), " ".join("─" * w for w in widths)]
    lines += [_aligned(line, widths, left, cell_len) for line in cells[1:]]
    if simulated:
        say(out, SIMULATED_TITLE, f"[bold yellow]{SIMULATED_TITLE}[/]")
    say(out, "\n".join(lines))
    if simulated:
        say(out, SIMULATED_CAPTION, f"[yellow]{SIMULATED_CAPTION}[/]")


def table_cells(rows: list[StatsRow], zone: tzinfo) -> list[list[str]]:
    """The header and one line of texts per row; a count no row has (say, saves on
    Facebook only) is left out, and the "account" column when every row is for its
    platform's default account. Names are made visible (no control characters)."""
    names = [name for name in COUNTS if any(getattr(row, name) is not None for row in rows)]
    named = any(row.account_name != row.channel for row in rows)
    header = ["post", "channel", *(("account",) if named else ()), "published", "age", *names]
    lines = [header]
    for row in rows:
        lines.append(
            [
                visible(row.post_id),
                row.channel,
                *((visible(row.account_name),) if named else ()),
                _local(row.published_at, zone),
                age_text(row.age_seconds),
                *(count_text(getattr(row, name), getattr(row, f"{name}_growth")) for name in names),
            ]
        )
    return lines


#: Columns aligned left in the plain table (the others, age and counts, right).
_LEFT = frozenset({"post", "channel", "account", "published"})


def _aligned(
    cells: list[str], widths: list[int], left: list[bool], cell_len: Callable[[str], int]
) -> str:
    texts = []
    for text, width, to_left in zip(cells, widths, left, strict=True):
        room = " " * (width - cell_len(text))
        texts.append(text + room if to_left else room + text)
    return " ".join(texts).rstrip()


def stats_table(rows: list[StatsRow], zone: tzinfo, simulated: bool = False) -> Table:
    """The rows as a rich table, for a narrow terminal: a number is never cut short (a
    count cell wraps between the count and its growth) and the post name folds."""
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    lines = table_cells(rows, zone)
    header, cells = lines[0], lines[1:]
    table = Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, 1),
        collapse_padding=True,
        title=SIMULATED_TITLE if simulated else None,
        caption=SIMULATED_CAPTION if simulated else None,
    )
    for index, name in enumerate(header):
        if name == "post":
            table.add_column(name, overflow="fold", min_width=10)
        elif name in _LEFT:
            table.add_column(name, no_wrap=True, min_width=16 if name == "published" else 9)
        elif name == "age":
            table.add_column(name, justify="right", no_wrap=True, min_width=6)
        else:
            longest = max(len(word) for texts in cells for word in texts[index].split())
            table.add_column(name, justify="right", min_width=max(len(name), longest))
    for texts in cells:
        table.add_row(*(escape(text) for text in texts))
    return table


def total_line(totals: Totals, simulated: bool = False) -> str:
    """One line: how many publications, and the sum of each count that any row has
    (marked when the counts are a simulated audience's)."""
    parts = [
        f"{name} {number(value)}"
        for name, value in zip(COUNTS, totals.sums, strict=True)
        if value is not None
    ]
    noun = "publication" if totals.publications == 1 else "publications"
    total = "Simulated total" if simulated else "Total"
    return f"{total}, {number(totals.publications)} {noun}: " + (
        ", ".join(parts) or "no samples yet"
    )


def escape(text: str) -> str:
    """rich's markup escape, imported when a message needs it (seldom: an error)."""
    from rich.markup import escape as escaped

    return escaped(text)


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
