"""How long does each `campaign` command take to start, against a bare Python's start-up?

The script writes an empty campaign into a temporary folder (``config.toml`` with a
``[campaign]`` table, the default brand mark, an empty ``posts/``), and a copy of it with
an empty database (``Store.open`` creates its tables: what `campaign run` leaves before it
has published anything). Each command then runs as a process of its own in one of them,
where it has nothing to do, so its time is its start-up: the interpreter, the imports and
what the command does before it finds there is nothing to do:

====================  ========================================================
``--help``            `campaign --help`
``--version``         `campaign --version`
``check``             `campaign check`: no post files
``plan``              `campaign plan`: no posts
``render``            `campaign render`: nothing to draw
``preview``           `campaign preview`: an empty preview page written
``status``            `campaign status`: no database yet
``stats``             `campaign stats`: an empty database
``export``            `campaign export`: an empty database
``schema``            `campaign schema`: the post files' JSON schema printed
====================  ========================================================

and three floors, also processes: ``python -c pass`` (the interpreter alone),
``python -c "import yaml, PIL.Image"`` (the two libraries every campaign command reads
files with), and ``typer + pydantic``: a typer command line of one command with one
option, run (typer 0.29 coerces every option through a pydantic TypeAdapter, so running
any command imports pydantic: the least any command of this tool can take). The commands
and the floors take turns R times after one untimed round, so that a slow moment of the
machine hits them all alike; the table gives each one's median and best wall time, its
median over the ``yaml + PIL`` floor's and over the ``typer + pydantic`` floor's. A last
column names the heavy libraries each command imported (from one more run with ``python
-X importtime``, not timed): a command that loads one it does not use is slower than it
needs to be.

``--compare PATH`` also runs every command with the library of another checkout (say,
``git worktree add /tmp/before HEAD~5``), in the same turns, as ``before:`` rows; both
sides then run through ``env PYTHONPATH=…``. Compile the other checkout first
(``python -m compileall -q PATH``) if Python may not write its bytecode there.

Usage::

    python bench/startup_bench.py [--repeat R] [--compare PATH]
    PYTHONPATH=/path/to/other/checkout python bench/startup_bench.py   # another release

The exit status is always 0: this is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from bench_common import (
    CAMPAIGN_TABLE,
    ProcessRun,
    best_wall,
    campaign_command,
    median_wall,
    run_in_folder,
    taking_turns,
)

from campaign.config import BrandSection, load_config
from scheduler.store.store import Store

REPOSITORY = Path(__file__).resolve().parent.parent
#: (name, arguments, whether the campaign has a database)
COMMANDS = [
    ("--help", ["--help"], False),
    ("--version", ["--version"], False),
    ("check", ["check"], False),
    ("plan", ["plan"], False),
    ("render", ["render"], False),
    ("preview", ["preview"], False),
    ("status", ["status"], False),
    ("stats", ["stats"], True),
    ("export", ["export"], True),
    ("schema", ["schema"], False),
]
#: A typer command line of one command with one option, run with no arguments.
TYPER_FLOOR_CODE = """
import typer
app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)
@app.command()
def main(config: str = typer.Option("config.toml", "--config")) -> None:
    print(config)
app()
"""
FLOOR = "python -c 'import yaml, PIL.Image'"
TYPER_FLOOR = "typer + pydantic (one option)"
FLOORS = {"python -c pass": "pass", FLOOR: "import yaml, PIL.Image", TYPER_FLOOR: TYPER_FLOOR_CODE}
BEFORE = "before: "
#: Libraries that cost tens of milliseconds to import, and what needs them.
HEAVY = {
    "pydantic": "config and post validation",
    "sqlalchemy": "the store",
    "sqlmodel": "the store",
    "PIL.Image": "images",
    "PIL.ImageFont": "fonts",
    "jinja2": "preview, report",
    "matplotlib": "charts",
    "apscheduler": "daemon",
    "requests": "HTTP",
    "facebook": "Graph API",
    "instagrapi": "Instagram",
    "boto3": "media host",
    "rich.console": "output",
    "rich.markdown": "help",
    "typer": "command line",
}


def write_campaigns(root: Path) -> tuple[Path, Path]:
    """An empty campaign without a database, and one with an empty database."""
    folders = root / "no-database", root / "empty-database"
    logo = BrandSection().logo
    for folder in folders:
        (folder / "posts").mkdir(parents=True)
        (folder / "config.toml").write_text(CAMPAIGN_TABLE, encoding="utf-8")
        (folder / logo).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPOSITORY / logo, folder / logo)
    Store.open(load_config(folders[1] / "config.toml").database_url).close()
    return folders


def command_lines(folders: tuple[Path, Path], compare: Path | None) -> dict[str, list[str]]:
    """Every command and floor, as the command line that runs it; with ``compare``, each
    command also with that checkout's library (``before:`` rows), both through ``env``."""
    lines = {name: [sys.executable, "-c", code] for name, code in FLOORS.items()}
    for name, arguments, with_database in COMMANDS:
        config = folders[1 if with_database else 0] / "config.toml"
        line = [*campaign_command(), "--config", str(config), *arguments]
        if compare is None:
            lines[name] = line
        else:
            lines[BEFORE + name] = ["env", f"PYTHONPATH={compare}", *line]
            lines[name] = ["env", f"PYTHONPATH={REPOSITORY}", *line]
    return lines


def heavy_imports(command: list[str]) -> list[str]:
    """The heavy libraries ``command`` imports (one run with ``python -X importtime``)."""
    environment = None
    if command[0] == "env":  # env PYTHONPATH=… COMMAND…
        variable, value = command[1].split("=", 1)
        environment = {**os.environ, variable: value}
        command = command[2:]
    program = shutil.which(command[0]) or command[0]
    if program != sys.executable:
        command = [sys.executable, program, *command[1:]]
    done = subprocess.run(
        [command[0], "-X", "importtime", *command[1:]],
        capture_output=True,
        text=True,
        check=False,
        env=environment,
    )
    modules = {
        line.rsplit("|", 1)[-1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:")
    }
    return [name for name in HEAVY if name in modules]


def print_table(runs: dict[str, list[ProcessRun]], imported: dict[str, list[str]]) -> None:
    floor = median_wall(runs[FLOOR])
    typer_floor = median_wall(runs[TYPER_FLOOR])
    width = max(len(name) for name in runs)
    print(
        f"  {'command':<{width}}  {'median ms':>9}  {'best ms':>7}  {'× floor':>7}  "
        f"{'× typer':>7}  exit  imports"
    )
    for name, timings in runs.items():
        median = median_wall(timings)
        statuses = ",".join(str(status) for status in sorted({run.status for run in timings}))
        print(
            f"  {name:<{width}}  {median * 1000:>9.0f}  {best_wall(timings) * 1000:>7.0f}  "
            f"{median / floor:>7.2f}  {median / typer_floor:>7.2f}  {statuses:>4}  "
            f"{', '.join(imported.get(name, []))}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="timed runs of each; median shown")
    parser.add_argument(
        "--compare", type=Path, metavar="PATH", help="also run each command with this checkout"
    )
    args = parser.parse_args(argv)
    compare = args.compare.resolve() if args.compare else None

    def run(root: Path) -> None:
        lines = command_lines(write_campaigns(root), compare)
        runs = taking_turns(lines, max(1, args.repeat))
        imported = {name: heavy_imports(line) for name, line in lines.items()}
        print(
            f"{max(1, args.repeat)} runs of each, taking turns (ms; × floor: median over {FLOOR}"
            f"; × typer: over {TYPER_FLOOR}):"
        )
        print_table(runs, imported)
        for name, timings in runs.items():
            if timings[-1].status not in (0,):
                print(f"note: {name} exited {timings[-1].status}: {timings[-1].last_line}")

    run_in_folder(None, "campaign-startup-bench-", run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
