"""`campaign export`: write the archive (archive.json and archive.csv) of what was sent."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scheduler.cli.plain import say
from scheduler.plan_states import database_exists

if TYPE_CHECKING:
    from rich.console import Console

    from campaign.config import Config


def run_export(config: Config, output: Path, out: Console, err: Console) -> int:
    """Write the archive into ``output``; 0 when written (or nothing to export), 2 when the
    database cannot be read or the files cannot be written."""
    if not database_exists(config):
        say(
            out,
            "No database yet: nothing has been published or tried here, so there is nothing "
            "to export. No files were written.",
        )
        return 0
    # The store, SQLAlchemy and rich only with a database to read.
    from rich.markup import escape
    from sqlalchemy.exc import SQLAlchemyError

    from campaign.safe_output import UnsafeOutput, real_folder
    from scheduler.cli.support import CommandExit, opened_store
    from scheduler.engagement.archive import archive_records, write_archive

    try:
        with opened_store(config.database_url, err) as store:
            records = archive_records(store)
    except CommandExit as stop:
        return stop.code
    except SQLAlchemyError as problem:
        err.print(
            f"[red]error[/]: database: {escape(str(getattr(problem, 'orig', None) or problem))}"
        )
        return 2
    try:
        real_folder(output, root=config.base_dir)
        json_path, csv_path = write_archive(records, output, config.zone)
    except UnsafeOutput as problem:
        where = escape(str(output))
        err.print(f"[red]error[/]: cannot write the archive to {where}: {escape(str(problem))}")
        return 2
    except OSError as problem:
        where = escape(str(problem.filename or output))
        err.print(f"[red]error[/]: cannot write the archive to {where}: {problem.strerror}")
        return 2
    noun = "publication" if len(records) == 1 else "publications"
    out.print(f"Archived {len(records)} {noun}{_summary(records)}.")
    out.print(f"  JSON: {escape(str(json_path))}")
    out.print(f"  CSV:  {escape(str(csv_path))}")
    return 0


def _summary(records: list[dict[str, Any]]) -> str:
    """`` (2 published, 1 failed; facebook 2, instagram 1)``, or nothing for no records;
    counted by account (a default account is named like its platform): ``bibliotek-fb 1``."""
    if not records:
        return ""
    states = Counter(str(record["state"]) for record in records)
    accounts = Counter(str(record.get("account") or record["channel"]) for record in records)
    by_state = ", ".join(f"{count} {state}" for state, count in sorted(states.items()))
    by_account = ", ".join(f"{name} {count}" for name, count in sorted(accounts.items()))
    return f" ({by_state}; {by_account})"
