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

and two floors, also processes: ``python -c pass`` (the interpreter alone) and
``python -c "import yaml, PIL.Image"`` (the two libraries every campaign command reads
files with). The commands and the floors take turns R times after one untimed round, so
that a slow moment of the machine hits them all alike; the table gives each one's median
and best wall time and its median over the ``yaml + PIL`` floor's. A last column names
the heavy libraries each command imported (from one more run with ``python -X
importtime``, not timed): a command that loads one it does not use is slower than it
needs to be.

Usage::

    python bench/startup_bench.py [--repeat R]
    PYTHONPATH=/path/to/other/checkout python bench/startup_bench.py   # another release

The exit status is always 0: this is a measurement, not a test.
"""

from __future__ import annotations

import argparse
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
FLOORS = {"python -c pass": "pass", "python -c 'import yaml, PIL.Image'": "import yaml, PIL.Image"}
FLOOR = "python -c 'import yaml, PIL.Image'"
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


def command_lines(folders: tuple[Path, Path]) -> dict[str, list[str]]:
    """Every command and floor, as the command line that runs it."""
    lines = {name: [sys.executable, "-c", code] for name, code in FLOORS.items()}
    for name, arguments, with_database in COMMANDS:
        config = folders[1 if with_database else 0] / "config.toml"
        lines[name] = [*campaign_command(), "--config", str(config), *arguments]
    return lines


def heavy_imports(command: list[str]) -> list[str]:
    """The heavy libraries ``command`` imports (one run with ``python -X importtime``)."""
    program = shutil.which(command[0]) or command[0]
    if program != sys.executable:
        command = [sys.executable, program, *command[1:]]
    done = subprocess.run(
        [command[0], "-X", "importtime", *command[1:]], capture_output=True, text=True, check=False
    )
    modules = {
        line.rsplit("|", 1)[-1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:")
    }
    return [name for name in HEAVY if name in modules]


def print_table(runs: dict[str, list[ProcessRun]], imported: dict[str, list[str]]) -> None:
    floor = median_wall(runs[FLOOR])
    width = max(len(name) for name in runs)
    print(
        f"  {'command':<{width}}  {'median ms':>9}  {'best ms':>7}  {'× floor':>7}  exit  imports"
    )
    for name, timings in runs.items():
        median = median_wall(timings)
        statuses = ",".join(str(status) for status in sorted({run.status for run in timings}))
        print(
            f"  {name:<{width}}  {median * 1000:>9.0f}  {best_wall(timings) * 1000:>7.0f}  "
            f"{median / floor:>7.2f}  {statuses:>4}  {', '.join(imported.get(name, []))}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="timed runs of each; median shown")
    args = parser.parse_args(argv)

    def run(root: Path) -> None:
        lines = command_lines(write_campaigns(root))
        runs = taking_turns(lines, max(1, args.repeat))
        imported = {name: heavy_imports(line) for name, line in lines.items()}
        print(
            f"{max(1, args.repeat)} runs of each, taking turns (ms; × floor: median over {FLOOR}):"
        )
        print_table(runs, imported)
        for name, timings in runs.items():
            if timings[-1].status not in (0,):
                print(f"note: {name} exited {timings[-1].status}: {timings[-1].last_line}")

    run_in_folder(None, "campaign-startup-bench-", run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
